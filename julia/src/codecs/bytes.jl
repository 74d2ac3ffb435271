# v3 "bytes" (and v2's plain chunks): the array→bytes serializer with the dtype's endianness.

"""
v3 `bytes` (and v2's plain chunks): the elements in C order of the encoded array, each in the
pipeline dtype's byte order (big-endian values are swapped to native Julia values and back).
"""
struct BytesSerializer <: ArrayToBytesCodec end
function _v3_endian(cfg, ckey, name)
    e = get(cfg, "endian", nothing)
    e === nothing && return nothing
    e in ("little", "big") ||
        throw(CodecError(ckey, "$name: \"endian\" must be \"little\" or \"big\", got " *
            "$(json_string(e; indent=nothing))"))
    return e == "big" ? '>' : '<'
end
function serializer_decode(::BytesSerializer, p::Pipeline, x; key::AbstractString="")
    x isa Vector{UInt8} || throw(CodecError(key, "filters produced $(typeof(x)) for dtype $(p.dtype.typestr)"))
    expected = chunk_length(p) * p.dtype.itemsize
    length(x) == expected ||
        throw(ChunkError(key, "decoded to $(length(x)) bytes, expected $expected (chunk $(p.chunks) × " *
            "$(p.dtype.itemsize) bytes)"))
    return bytes_to_values(p.dtype, x; key=key)
end
serializer_encode(::BytesSerializer, p::Pipeline, A::AbstractArray) = values_to_bytes(p.dtype, A)

function bytes_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context)
    dt_json, name = ctx.dt_json, "bytes"
    e = _v3_endian(cfg, ckey, name)
    dtype = parse_data_type(dt_json, something(e, '<'); key=string(ctx.key, ":data_type"))
    dtype.kind == 'O' && throw(CodecError(ckey, "bytes cannot serialize data type $(_v3_repr(dt_json)) " *
                                                "(use vlen-utf8 or vlen-bytes)"))
    # zarr-python writes structured types without an endian (and reads them little-endian)
    (e === nothing && dtype.kind != 'T' && dtype_endian(dtype) !== nothing) &&
        throw(CodecError(ckey, "bytes: \"endian\" is required for data type $(_v3_repr(dt_json))"))
    return dtype, BytesSerializer()
end
