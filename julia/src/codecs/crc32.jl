# numcodecs "crc32" (v3: "numcodecs.crc32"): the data with its CRC-32 (zlib's, IEEE 802.3) as
# 4 bytes little-endian, at the start (numcodecs' default for this id) or at the end
# (`"location": "end"`).  Shared by adler32.jl: the location option and the 4-byte framing.
#
# Included after compressors.jl (BytesCodec, LIBZ, libfunc, STREAM_STEP, CodecError, ChunkError).

"numcodecs CRC32: CRC-32 of the data, 4 bytes little-endian, at the start (default) or end."
struct CRC32Codec <: BytesCodec
    at_start::Bool
end
CRC32Codec() = CRC32Codec(true)

# The parameters each checksum codec id accepts (numcodecs' constructor arguments).
const CHECKSUM32_PARAMETERS = Dict("crc32" => ("location",), "adler32" => ("location",),
                                   "fletcher32" => (), "jenkins_lookup3" => ("initval", "prefix"))

function checksum_check_params(cfg::AbstractDict, id::String, key::String)
    allowed = CHECKSUM32_PARAMETERS[id]
    for k in keys(cfg)
        (k == "id" || k in allowed) ||
            throw(CodecError(key, "codec \"$id\": unknown parameter $(repr(k))" *
                                  (isempty(allowed) ? " (it takes none)" : " (expected $(join(allowed, ", ")))")))
    end
end

# numcodecs' Checksum32 "location": "start" or "end"; missing or null is the codec's default.
function checksum_location(cfg::AbstractDict, id::String, default_start::Bool, key::String)
    v = get(cfg, "location", nothing)
    v === nothing && return default_start
    v == "start" && return true
    v == "end" && return false
    throw(CodecError(key * ".location", "codec \"$id\": \"location\" must be \"start\" or \"end\", got $(repr(v))"))
end

"""
    CRC32Codec(cfg::AbstractDict; key="")

From a numcodecs config (`{"id": "crc32", "location": "start"|"end"}`, id optional: a v3
configuration has none). A bad value raises `CodecError(key, …)`.
"""
function CRC32Codec(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    checksum_check_params(cfg, "crc32", key)
    return CRC32Codec(checksum_location(cfg, "crc32", true, key))
end

hex32(x::UInt32) = "0x" * string(x, base=16, pad=8)

"The zlib running checksum `fn` (:crc32 or :adler32) of `data`, starting from `init`."
function zlib_checksum(fn::Symbol, data::AbstractVector{UInt8}, init::UInt32, key::String)
    f = libfunc(LIBZ, fn, key)
    v = Culong(init)
    n = length(data)
    pos = 0
    GC.@preserve data begin
        p = pointer(data)
        while pos < n || (n == 0 && pos == 0)
            step = min(n - pos, STREAM_STEP)
            v = ccall(f, Culong, (Culong, Ptr{UInt8}, Cuint), v, p + pos, step)
            pos += step
            n == 0 && break
        end
    end
    return UInt32(v & 0xffffffff)
end

crc32_value(data::AbstractVector{UInt8}, key::String="") = zlib_checksum(:crc32, data, 0x00000000, key)

"Data framed with a 4-byte little-endian checksum at the start or the end."
function checksum_frame(data::Vector{UInt8}, sum::UInt32, at_start::Bool)
    n = length(data)
    out = Vector{UInt8}(undef, n + 4)
    off = at_start ? 0 : n
    for i in 0:3
        out[off+i+1] = (sum >> (8i)) % UInt8
    end
    copyto!(out, at_start ? 5 : 1, data, 1, n)
    return out
end

"(stored checksum, payload view) of a framed buffer; too short is a ChunkError."
function checksum_unframe(data::Vector{UInt8}, at_start::Bool, what::String, key::String)
    n = length(data) - 4
    n < 0 && throw(ChunkError(key, "$what: $(n + 4) bytes is too short to hold a 4-byte checksum"))
    o = at_start ? 0 : n
    stored = UInt32(data[o+1]) | UInt32(data[o+2]) << 8 | UInt32(data[o+3]) << 16 | UInt32(data[o+4]) << 24
    return stored, (at_start ? view(data, 5:n+4) : view(data, 1:n))
end

function checksum_mismatch(what::String, stored::UInt32, computed::UInt32, key::String)
    throw(ChunkError(key, "$what mismatch: stored $(hex32(stored)), computed $(hex32(computed)) (corrupt data?)"))
end

_encode(c::CRC32Codec, data::Vector{UInt8}, key::String) = checksum_frame(data, crc32_value(data, key), c.at_start)

function _decode(c::CRC32Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    stored, payload = checksum_unframe(data, c.at_start, "crc32", key)
    computed = crc32_value(payload, key)
    stored == computed || checksum_mismatch("crc32", stored, computed, key)
    return Vector{UInt8}(payload)
end

# The numcodecs config as numcodecs' get_config() writes it (location only when not the default).
codec_config(c::CRC32Codec) = c.at_start ? Dict{String,Any}("id" => "crc32") :
                                           Dict{String,Any}("id" => "crc32", "location" => "end")
v3_codec_json(c::CRC32Codec) = Dict{String,Any}("name" => "numcodecs.crc32",
    "configuration" => Dict{String,Any}(k => v for (k, v) in codec_config(c) if k != "id"))

# registry constructors (v2 config with "id"; the numcodecs.crc32 v3 form goes through the same one)
crc32_from_v2(cfg::AbstractDict, key::String) = CRC32Codec(cfg; key=key)
