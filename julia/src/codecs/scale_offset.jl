# zarr v3 "scale_offset" (zarr-extensions; zarr-python 3.4): an array→array codec with
# encoded = (x - offset) * scale and decoded = encoded / scale + offset, in the array's own data
# type (the output type is the input type).  Configuration {"offset": 0, "scale": 1} (both
# optional, JSON scalars of the array's data type: numbers, or "NaN"/"Infinity"/hex strings for
# floats); zarr-python writes no configuration when both are the defaults.
#
# As zarr-python 3.4 implements it:
# - integers: exact arithmetic (int64: int64 arithmetic that wraps, as zarr-python computes it); a result
#   outside the data type's range is an error (no silent
#   wrap), decoding requires every value to be an exact multiple of `scale` (else an error);
# - floats: the data type's own arithmetic (float32 stays float32, float16 rounds per
#   operation like numpy), Inf/NaN are ordinary results;
# - scale 0 is invalid; bool, complex and other types are invalid.
#
# Included after codecs.jl (ArrayFilter, _values, values_to_bytes, parse_data_type, decode_fill_value_v3).

"v3 scale_offset over values of `dtype`: (x - offset) * scale."
struct ScaleOffsetFilter <: ArrayFilter
    dtype::ZDtype
    offset::Real                       # of dtype.T
    scale::Real                        # of dtype.T
    config::Dict{String,Any}           # as given (numbers or strings), for to_json
end

"""
    ScaleOffsetFilter(cfg::AbstractDict, data_type; key="")

From a v3 configuration (possibly empty) and the array's v3 data type name (or a ZDtype).
Unknown keys, values not representable in the data type, scale 0, or a non-numeric data type
raise `CodecError` naming `key`.
"""
function ScaleOffsetFilter(cfg::AbstractDict, data_type; key::AbstractString="")
    key = String(key)
    for k in keys(cfg)
        k in ("offset", "scale") || throw(CodecError(key, "scale_offset: unknown configuration key $(repr(k)) " *
            "(offset, scale)"))
    end
    dt = data_type isa ZDtype ? data_type : parse_data_type(data_type; key=key)
    dt_json = data_type isa ZDtype ? dt.typestr : data_type
    (dt.kind in ('i', 'u', 'f') && dt.T <: Union{Integer,AbstractFloat}) ||
        throw(CodecError(key, "scale_offset: only integer and floating-point data types are supported, got " *
            "$(repr(dt_json))"))
    vals = Dict{String,Any}()
    for (name, default) in (("offset", 0), ("scale", 1))
        x = get(cfg, name, default)
        vals[name] = try
            x isa Bool && error("a boolean")
            decode_fill_value_v3(dt_json, dt, x; key=key * "." * name)
        catch e
            (e isa PolyZarrError || e isa ErrorException) || rethrow()
            throw(CodecError(key * "." * name, "scale_offset: $name $(repr(x)) is not representable in $(dt_json)" *
                                                (e isa PolyZarrError ? " ($(e.msg))" : "")))
        end
    end
    iszero(vals["scale"]) && throw(CodecError(key * ".scale", "scale_offset: scale must be non-zero"))
    return ScaleOffsetFilter(dt, vals["offset"], vals["scale"], Dict{String,Any}(cfg))
end

_so_range_error(T, v, key, what) =
    throw(CodecError(key, "scale_offset: $what produced $v, outside the range of $T [$(typemin(T)), $(typemax(T))]"))

function _so_check(::Type{T}, v, key, what) where {T<:Integer}
    typemin(T) <= v <= typemax(T) || _so_range_error(T, v, key, what)
    return v % T
end

scale_offset_encode(f::ScaleOffsetFilter, x::T; key::String="") where {T<:AbstractFloat} =
    (x - T(f.offset)) * T(f.scale)
scale_offset_decode(f::ScaleOffsetFilter, x::T; key::String="") where {T<:AbstractFloat} = x / T(f.scale) + T(f.offset)
scale_offset_encode(f::ScaleOffsetFilter, x::T; key::String="") where {T<:Integer} =
    _so_check(T, (Int128(x) - Int128(f.offset)) * Int128(f.scale), key, "encoding")     # |x|, |offset|, |scale| < 2^64
function scale_offset_decode(f::ScaleOffsetFilter, x::T; key::String="") where {T<:Integer}
    s = Int128(f.scale)
    rem(Int128(x), s) == 0 || throw(CodecError(key, "scale_offset: decoding $x is not an exact multiple of scale " *
        "$(f.scale) (not representable in $T)"))
    return _so_check(T, div(Int128(x), s) + Int128(f.offset), key, "decoding")
end

# zarr-python 3.4 computes int64 in int64 ("widened" to itself): results wrap silently instead of
# raising (a deviation from the spec, where out-of-range is an error).  Do the same, so both read
# and write agree with zarr-python byte for byte.
scale_offset_encode(f::ScaleOffsetFilter, x::Int64; key::String="") = (x - Int64(f.offset)) * Int64(f.scale)
function scale_offset_decode(f::ScaleOffsetFilter, x::Int64; key::String="")
    s = Int64(f.scale)
    rem(x, s) == 0 || throw(CodecError(key, "scale_offset: decoding $x is not an exact multiple of scale $(f.scale) " *
        "(not representable in Int64)"))
    return div(x, s) + Int64(f.offset)
end

# Int128 products of two 64-bit magnitudes fit (< 2^128) except uint64 × uint64 extremes: use BigInt there.
function scale_offset_encode(f::ScaleOffsetFilter, x::UInt64; key::String="")
    v = (BigInt(x) - BigInt(f.offset)) * BigInt(f.scale)
    return _so_check(UInt64, v, key, "encoding")
end

_so_input(f::ScaleOffsetFilter, x, key) = x isa Vector{UInt8} ? _values(f.dtype, x, key) : x

"Encode values (or bytes) of the data type → bytes; an out-of-range integer is a CodecError."
function filter_encode(f::ScaleOffsetFilter, x; key::AbstractString="")
    k = String(key)
    T = f.dtype.T
    return values_to_bytes(f.dtype, T[scale_offset_encode(f, T(v); key=k) for v in _so_input(f, x, k)])
end

"Decode bytes → bytes of the data type; an inexact integer division or out-of-range result is a CodecError naming " *
    "`key`."
function filter_decode(f::ScaleOffsetFilter, b; key::AbstractString="")
    k = String(key)
    T = f.dtype.T
    vals = _values(f.dtype, b isa Vector{UInt8} ? b : Vector{UInt8}(b), k)
    return values_to_bytes(f.dtype, T[scale_offset_decode(f, v; key=k) for v in vals])
end

"The encoded fill value (zarr-python encodes the fill value too)."
scale_offset_fill(f::ScaleOffsetFilter, fill; key::AbstractString="") =
    scale_offset_encode(f, f.dtype.T(fill); key=String(key))

"zarr-python 3.4's JSON: no configuration for the defaults, else only the non-default members."
function v3_codec_json(f::ScaleOffsetFilter)
    cfg = Dict{String,Any}()
    iszero(f.offset) || (cfg["offset"] = get(f.config, "offset", f.offset))
    isone(f.scale) || (cfg["scale"] = get(f.config, "scale", f.scale))
    isempty(cfg) && return Dict{String,Any}("name" => "scale_offset")
    return Dict{String,Any}("name" => "scale_offset", "configuration" => cfg)
end

scale_offset_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = ScaleOffsetFilter(cfg, ctx.dt_json; key=ckey)
encoded_fill(f::ScaleOffsetFilter, dt::ZDtype, fill) = scale_offset_fill(f, fill)
filter_config(f::ScaleOffsetFilter) = v3_codec_json(f)
