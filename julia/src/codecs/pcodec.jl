# numcodecs "pcodec" (v3: "numcodecs.pcodec"): not available in Julia.  pcodec has no C library
# on Debian (its implementation is Rust, shipped to Python as the `pcodec` wheel), so PolyZarr.jl
# can neither decode nor encode it; the constructor raises a CodecError that says what to use
# instead, and `codec_supported("pcodec")` is false so the interop matrix marks the cell
# "unsupported" rather than failed.

const PCODEC_UNSUPPORTED = "pcodec has no C library on this system (it is a Rust library; Debian " *
    "packages none), so PolyZarr.jl cannot read or write it; read this array with polyzarr (Python), " *
    "which uses the PyPI package \"pcodec\" through numcodecs (pip install pcodec), or re-encode it " *
    "there with a codec PolyZarr.jl supports (e.g. zstd)"

"Stands for a numcodecs PCodec configuration; it cannot encode or decode (see `PCODEC_UNSUPPORTED`)."
struct PcodecCodec <: BytesCodec
    config::Dict{String,Any}
end

"""
    PcodecCodec(cfg::AbstractDict; key="")

Always raises `CodecError(key, …)`: pcodec is not supported by PolyZarr.jl (message: what to use instead).
"""
PcodecCodec(cfg::AbstractDict; key::AbstractString="") =
    throw(CodecError(String(key), "codec \"pcodec\": " * PCODEC_UNSUPPORTED))

_encode(c::PcodecCodec, data::Vector{UInt8}, key::String) = throw(CodecError(key, "codec \"pcodec\": " *
    "" * PCODEC_UNSUPPORTED))
_decode(c::PcodecCodec, data::Vector{UInt8}, key::String, sizehint::Int) =
    throw(CodecError(key, "codec \"pcodec\": " * PCODEC_UNSUPPORTED))

# Codecs (v2 ids and v3 names) that PolyZarr.jl knows of but cannot run on this system.
const UNSUPPORTED_CODECS = Dict("pcodec" => PCODEC_UNSUPPORTED, "numcodecs.pcodec" => PCODEC_UNSUPPORTED)

"""
    codec_supported(name) -> Bool

False for a codec PolyZarr.jl knows but cannot run here (pcodec; zfpy when libzfp cannot be
loaded), so callers (the interop matrix) can report "unsupported" instead of a failure.  True
otherwise: whether the name is known at all is for the registry to say.
"""
function codec_supported(name::AbstractString)
    haskey(UNSUPPORTED_CODECS, name) && return false
    if name in ("zfpy", "numcodecs.zfpy")
        try
            libfunc(LIBZFP, :zfp_decompress, "")
        catch e
            e isa CodecError || rethrow()
            return false
        end
    end
    return true
end

"Why `name` is unsupported here (empty when it is supported)."
function codec_unsupported_reason(name::AbstractString)
    haskey(UNSUPPORTED_CODECS, name) && return UNSUPPORTED_CODECS[name]
    codec_supported(name) && return ""
    return "zfpy needs libzfp (Debian: apt-get install libzfp1, or set $(LIBZFP.envvar) to libzfp.so)"
end

# numcodecs PCodec's parameters (accepted, so that the error says "unsupported", not "unknown parameter")
const PCODEC_PARAMETERS = ("level", "mode_spec", "delta_spec", "paging_spec", "delta_encoding_order",
                           "equal_pages_up_to")
pcodec_from_v2(cfg::AbstractDict, key::String) = PcodecCodec(cfg; key=key)
pcodec_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) =
    throw(CodecError(ckey, "codec \"numcodecs.pcodec\": " * PCODEC_UNSUPPORTED))
