# vlen-utf8 / vlen-bytes (v2 object codecs, v3 array→bytes codecs) and the object serializer.

"numcodecs VLenUTF8 / VLenBytes: uint32 LE count, then per item uint32 LE length + bytes."
struct VLenFilter <: ArrayFilter
    utf8::Bool
end
object_eltype(f::VLenFilter) = f.utf8 ? String : Vector{UInt8}
_u32le(b, pos) = UInt32(b[pos]) | UInt32(b[pos + 1]) << 8 | UInt32(b[pos + 2]) << 16 | UInt32(b[pos + 3]) << 24

# `count`: the items the chunk must hold (-1: unknown).  The count and every length are checked
# against it and the bytes present before anything is allocated.
function filter_decode(f::VLenFilter, b; key::AbstractString="", count::Int=-1)
    what = f.utf8 ? "vlen-utf8" : "vlen-bytes"
    length(b) >= 4 || throw(CodecError(key, "$what: corrupt data: $(length(b)) bytes, need a 4-byte header"))
    n = Int(_u32le(b, 1))
    count >= 0 && n != count && throw(ChunkError(key, "$what: the chunk says $n items, expected $count"))
    n > (length(b) - 4) ÷ 4 &&
        throw(ChunkError(key, "$what: the chunk says $n items, its $(length(b)) bytes hold at most " *
            "$((length(b) - 4) ÷ 4)"))
    out = f.utf8 ? Vector{String}(undef, n) : Vector{Vector{UInt8}}(undef, n)
    pos = 5
    for i in 1:n
        pos + 3 <= length(b) || throw(CodecError(key, "$what: corrupt data: truncated at item $(i - 1) of $n"))
        len = Int(_u32le(b, pos))
        pos += 4
        pos + len - 1 <= length(b) ||
            throw(CodecError(key, "$what: corrupt data: item $(i - 1) length $len runs past the end"))
        item = b[pos:pos + len - 1]
        if f.utf8
            s = String(item)
            isvalid(s) || throw(CodecError(key, "$what: item $(i - 1) is not valid UTF-8"))
            out[i] = s
        else
            out[i] = item
        end
        pos += len
    end
    return out
end
function filter_encode(f::VLenFilter, x)
    io = IOBuffer()
    write(io, htol(UInt32(length(x))))
    for v in x
        b = v === nothing ? UInt8[] : v isa AbstractString ? codeunits(String(v)) : v
        write(io, htol(UInt32(length(b))))
        write(io, b)
    end
    return take!(io)
end
"An object codec (v2 vlen-utf8 / vlen-bytes / categorize of `|O`, v3 vlen-utf8 / vlen-bytes)."
struct ObjectSerializer <: ArrayToBytesCodec
    filter::ArrayFilter
end
function serializer_decode(s::ObjectSerializer, p::Pipeline, b; key::AbstractString="")
    n = chunk_length(p)
    x = s.filter isa VLenFilter ? filter_decode(s.filter, b; key=key, count=n) : filter_decode(s.filter, b; key=key)
    if x isa AbstractVector && !(x isa Vector{UInt8}) && p.dtype.kind == 'O'
        length(x) == n || throw(ChunkError(key, "decoded to $(length(x)) items, expected $n (chunk $(p.chunks))"))
        return x
    elseif x isa Vector{UInt8} && p.dtype.kind != 'O'
        return serializer_decode(BytesSerializer(), p, x; key=key)
    end
    throw(CodecError(key, "filters produced $(typeof(x)) for dtype $(p.dtype.typestr)"))
end
serializer_encode(s::ObjectSerializer, p::Pipeline, A::AbstractArray) = filter_encode(s.filter, vec(A))

vlen_from_v2(cfg::AbstractDict, key::String) = VLenFilter(cfg["id"] == "vlen-utf8")

vlen_utf8_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = _vlen_from_v3(true, ckey, ctx)
vlen_bytes_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = _vlen_from_v3(false, ckey, ctx)

function _vlen_from_v3(utf8::Bool, ckey::String, ctx::V3Context)
    name = utf8 ? "vlen-utf8" : "vlen-bytes"
    dtype = parse_data_type(ctx.dt_json; key=string(ctx.key, ":data_type"))
    want = utf8 ? String : Vector{UInt8}
    (dtype.kind == 'O' && dtype.T === want) ||
        throw(CodecError(ckey, "$name cannot serialize data type $(_v3_repr(ctx.dt_json))"))
    return dtype, ObjectSerializer(VLenFilter(utf8))
end

filter_config(f::VLenFilter) = Dict{String,Any}("id" => f.utf8 ? "vlen-utf8" : "vlen-bytes")
