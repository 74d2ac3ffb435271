# The codec pipeline (docs/V3.md): array→array codecs (transposes), one array→bytes codec,
# bytes→bytes codecs.  v2 arrays use the same pipeline: order "F" is a transpose with the full
# reversal, an object codec is the array→bytes step, the numcodecs filters and the compressor are
# bytes→bytes steps (filters see the chunk flattened in its memory order, exactly as numcodecs does).

abstract type ArrayFilter end

"numcodecs Delta: element-wise differences (stored as `astype`)."
struct DeltaFilter <: ArrayFilter
    dtype::ZDtype
    astype::ZDtype
end
"numcodecs FixedScaleOffset: round((x - offset) * scale) stored as `astype`."
struct FixedScaleOffsetFilter <: ArrayFilter
    offset::Real
    scale::Real
    dtype::ZDtype
    astype::ZDtype
end
"numcodecs Quantize: keep `digits` decimal digits (lossy; decoding is a cast)."
struct QuantizeFilter <: ArrayFilter
    digits::Int
    dtype::ZDtype
    astype::ZDtype
end
"numcodecs AsType: store as `encode_dtype`, decode to `decode_dtype`."
struct AsTypeFilter <: ArrayFilter
    encode_dtype::ZDtype
    decode_dtype::ZDtype
end
"numcodecs PackBits: booleans as bits, first byte = number of padding bits."
struct PackBitsFilter <: ArrayFilter end
"numcodecs Categorize: strings → 1-based label index (0 = not a label)."
struct CategorizeFilter <: ArrayFilter
    labels::Vector{String}
    dtype::ZDtype
    astype::ZDtype
end
"numcodecs VLenUTF8 / VLenBytes: uint32 LE count, then per item uint32 LE length + bytes."
struct VLenFilter <: ArrayFilter
    utf8::Bool
end
"numcodecs JSON (`json2`): `[values..., dtype, shape]` as JSON text."
struct JSON2Filter <: ArrayFilter
    config::Dict{String,Any}
end
"A bytes→bytes codec used as a filter (shuffle, or a compressor listed in `filters`)."
struct BytesFilter <: ArrayFilter
    codec::Any
end

# Which Julia element type an object codec produces (nothing: not an object codec).
object_eltype(::ArrayFilter) = nothing
object_eltype(f::VLenFilter) = f.utf8 ? String : Vector{UInt8}
object_eltype(::JSON2Filter) = Any
object_eltype(f::CategorizeFilter) = f.dtype.kind == 'O' ? String : nothing

function _cfg_dtype(cfg, name, key; default=nothing)
    x = get(cfg, name, nothing)
    if x === nothing
        default === nothing && throw(CodecError(key, "$(cfg["id"]): missing \"$name\""))
        return default
    end
    try
        return parse_dtype(x)
    catch e
        e isa DtypeError || rethrow()
        throw(CodecError(key, "$(cfg["id"]): bad $name: $(e.key): $(e.msg)"))
    end
end
function _cfg_number(cfg, name, key; default=nothing)
    x = get(cfg, name, default)
    (x isa Real && !(x isa Bool)) || throw(CodecError(key, "$(cfg["id"]): \"$name\" must be a number, got $(_jtype(x))"))
    return x
end

"""
    filter_from_config(cfg; key) -> ArrayFilter

Build a v2 filter from its numcodecs config; ids not handled here go to `bytescodec_from_config`
(compressors.jl: shuffle, crc32c, compressors), which raises CodecError for unknown ids.
"""
function filter_from_config(cfg::AbstractDict; key::AbstractString="")
    id = get(cfg, "id", nothing)
    id isa AbstractString || throw(CodecError(key, "codec config needs a string \"id\""))
    if id == "delta"
        dt = _cfg_dtype(cfg, "dtype", key)
        return DeltaFilter(dt, _cfg_dtype(cfg, "astype", key; default=dt))
    elseif id == "fixedscaleoffset"
        dt = _cfg_dtype(cfg, "dtype", key)
        return FixedScaleOffsetFilter(_cfg_number(cfg, "offset", key), _cfg_number(cfg, "scale", key), dt,
                                      _cfg_dtype(cfg, "astype", key; default=dt))
    elseif id == "quantize"
        dt = _cfg_dtype(cfg, "dtype", key)
        dt.kind == 'f' || throw(CodecError(key, "quantize: dtype must be a float type, got $(dt.typestr)"))
        d = _cfg_number(cfg, "digits", key)
        d isa Integer || throw(CodecError(key, "quantize: digits must be an integer"))
        return QuantizeFilter(d, dt, _cfg_dtype(cfg, "astype", key; default=dt))
    elseif id == "astype"
        return AsTypeFilter(_cfg_dtype(cfg, "encode_dtype", key), _cfg_dtype(cfg, "decode_dtype", key))
    elseif id == "packbits"
        return PackBitsFilter()
    elseif id == "categorize"
        labels = get(cfg, "labels", nothing)
        (labels isa AbstractVector && all(x -> x isa AbstractString, labels)) ||
            throw(CodecError(key, "categorize: labels must be a list of strings"))
        dt = _cfg_dtype(cfg, "dtype", key)
        dt.kind in ('U', 'O') || throw(CodecError(key, "categorize: dtype must be <U or |O, got $(dt.typestr)"))
        return CategorizeFilter(String.(labels), dt, _cfg_dtype(cfg, "astype", key; default=parse_dtype("|u1")))
    elseif id == "vlen-utf8" || id == "vlen-bytes"
        return VLenFilter(id == "vlen-utf8")
    elseif id == "json2"
        return JSON2Filter(Dict{String,Any}(cfg))
    end
    return BytesFilter(bytescodec_from_config(Dict{String,Any}(cfg); key=key))
end

filter_config(f::DeltaFilter) = Dict{String,Any}("id" => "delta", "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)
filter_config(f::FixedScaleOffsetFilter) = Dict{String,Any}("id" => "fixedscaleoffset", "offset" => f.offset,
    "scale" => f.scale, "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)
filter_config(f::QuantizeFilter) = Dict{String,Any}("id" => "quantize", "digits" => f.digits,
    "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)
filter_config(f::AsTypeFilter) = Dict{String,Any}("id" => "astype", "encode_dtype" => f.encode_dtype.typestr,
    "decode_dtype" => f.decode_dtype.typestr)
filter_config(::PackBitsFilter) = Dict{String,Any}("id" => "packbits")
filter_config(f::CategorizeFilter) = Dict{String,Any}("id" => "categorize", "labels" => f.labels,
    "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)
filter_config(f::VLenFilter) = Dict{String,Any}("id" => f.utf8 ? "vlen-utf8" : "vlen-bytes")
filter_config(f::JSON2Filter) = f.config
filter_config(f::BytesFilter) = codec_config(f.codec)

# numpy astype between numeric types: float→int truncates toward zero, int→int wraps.
_cast(::Type{T}, x::T) where {T} = x
_cast(::Type{Bool}, x::Number) = !iszero(x)
_cast(::Type{T}, x::Integer) where {T<:Integer} = x % T
_cast(::Type{T}, x::Bool) where {T<:Integer} = T(x)
_cast(::Type{T}, x::AbstractFloat) where {T<:Integer} =
    isfinite(x) ? (abs(x) < 9.2e18 ? unsafe_trunc(Int64, x) % T : unsafe_trunc(Int128, x) % T) : zero(T)
_cast(::Type{T}, x::Real) where {T<:AbstractFloat} = T(x)
_cast(::Type{T}, x::Number) where {T<:Complex} = T(x)

_values(dt::ZDtype, b, key) = bytes_to_values(dt, b isa Vector{UInt8} ? b : Vector{UInt8}(b); key=key)
_numeric(dt::ZDtype, key, what) = dt.kind in ('b', 'i', 'u', 'f', 'c') ||
    throw(CodecError(key, "$what: dtype $(dt.typestr) is not numeric"))

# ---- decode: input is bytes (or values from an inner filter); output bytes or object values ----

function filter_decode(f::DeltaFilter, b; key::AbstractString="")
    _numeric(f.dtype, key, "delta")
    enc = _values(f.astype, b, key)
    T = f.dtype.T
    dec = Vector{T}(undef, length(enc))
    acc = zero(T)
    for i in eachindex(enc)
        acc = T <: Integer ? acc + _cast(T, enc[i]) : acc + T(enc[i])   # wraps like numpy
        dec[i] = acc
    end
    return values_to_bytes(f.dtype, dec)
end

_fso_float(::Type{T}) where {T} = T <: AbstractFloat ? T : Float64

function filter_decode(f::FixedScaleOffsetFilter, b; key::AbstractString="")
    enc = _values(f.astype, b, key)
    F = _fso_float(f.astype.T)       # int / python scalar → float64; float32 stays float32 (NEP 50)
    T = f.dtype.T
    sc, off = F(f.scale), F(f.offset)
    dec = T[_cast(T, F(x) / sc + off) for x in enc]
    return values_to_bytes(f.dtype, dec)
end

function filter_decode(f::Union{QuantizeFilter,AsTypeFilter}, b; key::AbstractString="")
    src, dst = f isa QuantizeFilter ? (f.astype, f.dtype) : (f.encode_dtype, f.decode_dtype)
    enc = _values(src, b, key)
    T = dst.T
    return values_to_bytes(dst, T[_cast(T, x) for x in enc])
end

function filter_decode(f::PackBitsFilter, b; key::AbstractString="")
    isempty(b) && throw(CodecError(key, "packbits: empty input"))
    pad = Int(b[1])
    pad <= 7 || throw(CodecError(key, "packbits: padding $(pad) > 7"))
    n = 8 * (length(b) - 1) - pad
    n >= 0 || throw(CodecError(key, "packbits: padding exceeds data"))
    out = Vector{UInt8}(undef, n)
    for i in 1:n
        byte = b[2 + (i - 1) >> 3]
        out[i] = (byte >> (7 - (i - 1) & 7)) & 0x01    # MSB first, like np.unpackbits
    end
    return out
end

function filter_decode(f::CategorizeFilter, b; key::AbstractString="")
    enc = _values(f.astype, b, key)
    strs = String[(1 <= e <= length(f.labels)) ? f.labels[Int(e)] : "" for e in enc]
    f.dtype.kind == 'O' && return strs
    T = f.dtype.T
    return values_to_bytes(f.dtype, [T(s) for s in strs])
end

_u32le(b, pos) = UInt32(b[pos]) | UInt32(b[pos + 1]) << 8 | UInt32(b[pos + 2]) << 16 | UInt32(b[pos + 3]) << 24

function filter_decode(f::VLenFilter, b; key::AbstractString="")
    what = f.utf8 ? "vlen-utf8" : "vlen-bytes"
    length(b) >= 4 || throw(CodecError(key, "$what: corrupt data: $(length(b)) bytes, need a 4-byte header"))
    n = Int(_u32le(b, 1))
    out = f.utf8 ? Vector{String}(undef, n) : Vector{Vector{UInt8}}(undef, n)
    pos = 5
    for i in 1:n
        pos + 3 <= length(b) || throw(CodecError(key, "$what: corrupt data: truncated at item $(i - 1) of $n"))
        len = Int(_u32le(b, pos))
        pos += 4
        pos + len - 1 <= length(b) || throw(CodecError(key, "$what: corrupt data: item $(i - 1) length $len runs past the end"))
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

function _flatten_c!(out, x)
    if x isa AbstractVector
        for y in x
            _flatten_c!(out, y)
        end
    else
        push!(out, x)
    end
    return out
end

function filter_decode(f::JSON2Filter, b; key::AbstractString="")
    items = parse_json(b isa Vector{UInt8} ? b : Vector{UInt8}(b); key=key)
    (items isa AbstractVector && length(items) >= 2 && items[end] isa AbstractVector) ||
        throw(CodecError(key, "json2: expected [values..., dtype, shape]"))
    shape = Int.(items[end])
    # numcodecs lists the chunk in C (logical) order; the caller reorders for F
    vals = isempty(shape) ? Any[items[1]] : _flatten_c!(Any[], items[1:end-2])
    length(vals) == reduce(*, shape; init=1) ||
        throw(CodecError(key, "json2: $(length(vals)) values for shape $(shape)"))
    return JSON2Values(vals, shape)
end

"Values from json2 in C order of `shape` (reordered to storage order by the pipeline)."
struct JSON2Values
    values::Vector{Any}
    shape::Vector{Int}
end

filter_decode(f::BytesFilter, b; key::AbstractString="") =
    decode(f.codec, b isa Vector{UInt8} ? b : Vector{UInt8}(b); key=key)

# ---- encode: input is values (Vector in storage order) or bytes; output bytes ----

_encode_input(dt::ZDtype, x) = x isa Vector{UInt8} ? x : values_to_bytes(dt, x)

function filter_encode(f::DeltaFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    A = f.astype.T
    enc = Vector{A}(undef, length(arr))
    for i in eachindex(arr)
        d = i == 1 ? arr[1] : (T <: Integer ? arr[i] - arr[i - 1] : arr[i] - arr[i - 1])
        enc[i] = _cast(A, d)
    end
    return values_to_bytes(f.astype, enc)
end

function filter_encode(f::FixedScaleOffsetFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    A = f.astype.T
    F = T <: AbstractFloat ? T : ((f.offset isa Integer && f.scale isa Integer) ? Int64 : Float64)
    off, sc = F(f.offset), F(f.scale)
    enc = A[_cast(A, F <: Integer ? (F(v) - off) * sc : round((F(v) - off) * sc)) for v in arr]
    return values_to_bytes(f.astype, enc)
end

function filter_encode(f::QuantizeFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    # numcodecs' exact steps: precision → decimal exponent → bits → power-of-two scale
    precision = 10.0^-f.digits
    ex = log10(precision)
    ex = ex < 0 ? floor(ex) : ceil(ex)
    bits = ceil(log2(10.0^-ex))
    scale = T(2.0^bits)
    A = f.astype.T
    return values_to_bytes(f.astype, A[_cast(A, round(scale * v) / scale) for v in arr])
end

function filter_encode(f::AsTypeFilter, x)
    arr = _values(f.decode_dtype, _encode_input(f.decode_dtype, x), "")
    A = f.encode_dtype.T
    return values_to_bytes(f.encode_dtype, A[_cast(A, v) for v in arr])
end

function filter_encode(f::PackBitsFilter, x)
    bits = x isa Vector{UInt8} ? x : UInt8[v ? 0x01 : 0x00 for v in x]
    n = length(bits)
    nb, left = divrem(n, 8)
    left > 0 && (nb += 1)
    out = zeros(UInt8, nb + 1)
    out[1] = left > 0 ? 8 - left : 0
    for i in 1:n
        bits[i] != 0 && (out[2 + (i - 1) >> 3] |= 0x80 >> ((i - 1) & 7))
    end
    return out
end

function filter_encode(f::CategorizeFilter, x)
    vals = x isa Vector{UInt8} ? _values(f.dtype, x, "") : x
    A = f.astype.T
    enc = A[_cast(A, something(findfirst(==(String(v)), f.labels), 0)) for v in vals]
    return values_to_bytes(f.astype, enc)
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

filter_encode(f::BytesFilter, x) = encode(f.codec, x)

# ---------------------------------------------------------------------------------------------
# The pipeline: array→array codecs (transposes), one array→bytes codec, bytes→bytes codecs.
# v2 maps into it: order "F" is a transpose with the full reversal; an object codec in front of
# the filters is the array→bytes codec, otherwise the dtype's bytes are; the other filters
# (numcodecs filters work on the chunk's bytes in memory order) and the compressor are bytes→bytes.

"A v3 `transpose`: `order` is the 0-based Zarr permutation p (the encoded array is `A.transpose(p)`)."
struct TransposeCodec
    order::Vector{Int}
end

"An array→bytes codec: it turns the (transposed) chunk into bytes and back."
abstract type ArrayToBytesCodec end

"""
v3 `bytes` (and v2's plain chunks): the elements in C order of the encoded array, each in the
pipeline dtype's byte order (big-endian values are swapped to native Julia values and back).
"""
struct BytesSerializer <: ArrayToBytesCodec end

"An object codec (v2 vlen-utf8 / vlen-bytes / categorize of `|O`, v3 vlen-utf8 / vlen-bytes)."
struct ObjectSerializer <: ArrayToBytesCodec
    filter::ArrayFilter
end

"numcodecs json2 (v2 only): lists the chunk in C order of its Zarr shape, whatever its memory order."
struct JSON2Serializer <: ArrayToBytesCodec
    filter::JSON2Filter
end

"""
    Pipeline

One chunk's codec chain.  `dtype` is the element type as stored (byte order included; object
dtypes resolved to `String`, `Vector{UInt8}` or `Any`), `chunks` the chunk's Zarr shape, `order`
the Julia layout of a decoded chunk ('C': size `reverse(chunks)`, every v3 array; 'F': v2 order
F, size `chunks`), then the codecs in encode order, and `fill` (what missing chunks hold).
Derived: `jchunk` (Julia chunk size), `encsize` (Julia size of the array the array→bytes codec
serializes: the reversed layout of the transposed Zarr shape), `perm` (Julia chunk → that array;
`nothing` for the identity: no copy), `plain` (decoded bytes are the chunk's memory, one
optional bytes codec: decoded in place by arrays.jl).
"""
struct Pipeline
    dtype::ZDtype
    chunks::Vector{Int}
    order::Char
    transposes::Vector{TransposeCodec}
    serializer::ArrayToBytesCodec
    bytes_codecs::Vector{Any}          # BytesCodec, or a v2 ArrayFilter working on bytes
    fill::Any
    jchunk::Dims
    encsize::Dims
    perm::Union{Nothing,Vector{Int}}
    plain::Bool
end

function Pipeline(dtype::ZDtype, chunks::AbstractVector{Int}, order::Char, transposes::Vector{TransposeCodec},
                  serializer::ArrayToBytesCodec, bytes_codecs::Vector{Any}, fill)
    n = length(chunks)
    enc = collect(Int, chunks)
    for t in transposes
        enc = transposed_shape(enc, t.order)
    end
    perm = chunk_encode_perm(order, [t.order for t in transposes], n)
    plain = perm === nothing && serializer isa BytesSerializer && isnative(dtype) && isbitstype(dtype.T) &&
            (isempty(bytes_codecs) || (length(bytes_codecs) == 1 && bytes_codecs[1] isa BytesCodec))
    return Pipeline(dtype, collect(Int, chunks), order, transposes, serializer, bytes_codecs, fill,
                    julia_size(chunks, order), Tuple(reverse(enc)), perm, plain)
end

"Number of elements in one (full-size) chunk."
chunk_length(p::Pipeline) = reduce(*, p.chunks; init=1)

"The one bytes codec of a plain pipeline (or nothing)."
plain_codec(p::Pipeline) = isempty(p.bytes_codecs) ? nothing : p.bytes_codecs[1]

# ---- building: v2

"Item size of what filter `f` encodes to, given its input's (numcodecs' output array types)."
encoded_itemsize(f::ArrayFilter, input::Int) = 1      # bytes: packbits, object codecs, bytes codecs
encoded_itemsize(f::Union{DeltaFilter,FixedScaleOffsetFilter,QuantizeFilter,CategorizeFilter}, input::Int) =
    f.astype.itemsize
encoded_itemsize(f::AsTypeFilter, input::Int) = f.encode_dtype.itemsize

"Build the pipeline of validated metadata; `key` is its document's key, for error messages."
function make_pipeline(m::ArrayMetadata; key::AbstractString=".zarray")
    # numcodecs' blosc takes its typesize from the item size of the buffer it is given: the
    # dtype's, or what the filter before it produced (unless the config sets "typesize").
    itemsize = m.dtype.kind == 'O' ? 1 : m.dtype.itemsize
    filters = ArrayFilter[]
    for (i, cfg) in enumerate(something(m.filters, Any[]))
        f = filter_from_config(cfg; key=string(key, ":filters[", i - 1, "]"))
        if f isa BytesFilter && !haskey(cfg, "typesize")
            f = BytesFilter(with_typesize(f.codec, itemsize))
        end
        push!(filters, f)
        itemsize = encoded_itemsize(f, itemsize)
    end
    comp = m.compressor === nothing ? nothing :
           bytescodec_from_config(m.compressor; key=string(key, ":compressor"))
    if comp !== nothing && !haskey(m.compressor, "typesize")
        comp = with_typesize(comp, itemsize)
    end
    dt = m.dtype
    if dt.kind == 'O'
        objs = [object_eltype(f) for f in filters if object_eltype(f) !== nothing]
        isempty(objs) && throw(MetadataError(string(key, ":filters"), "object dtype |O needs an object codec (vlen-utf8, vlen-bytes, json2) in filters"))
        dt = object_dtype(objs[1])
    end
    # an object codec in front serializes the values; the other filters work on bytes
    serializer, rest = BytesSerializer(), filters
    if !isempty(filters) && filters[1] isa JSON2Filter
        serializer, rest = JSON2Serializer(filters[1]), filters[2:end]
    elseif !isempty(filters) && object_eltype(filters[1]) !== nothing
        serializer, rest = ObjectSerializer(filters[1]), filters[2:end]
    elseif dt.kind == 'O'
        throw(MetadataError(string(key, ":filters"), "the object codec must be the first filter"))
    end
    bytes_codecs = Any[rest...]
    comp === nothing || push!(bytes_codecs, comp)
    n = length(m.shape)
    transposes = m.order == 'F' && n > 1 ? [TransposeCodec(collect(n - 1:-1:0))] : TransposeCodec[]
    return Pipeline(dt, m.chunks, m.order, transposes, serializer, bytes_codecs, chunk_fillvalue(dt, m.fill))
end

# ---- building: v3 (codec JSON objects, docs/V3.md)

make_pipeline(m::ArrayMetadataV3; key::AbstractString="zarr.json") =
    v3_pipeline(m.codecs, m.data_type, m.chunks, chunk_fillvalue(m.dtype, m.fill); key=key)

const V3_CODEC_KINDS = Dict{String,Symbol}(
    "transpose" => :array_array, "bytes" => :array_bytes, "vlen-utf8" => :array_bytes, "vlen-bytes" => :array_bytes,
    "sharding_indexed" => :array_bytes, "gzip" => :bytes_bytes, "zstd" => :bytes_bytes, "blosc" => :bytes_bytes,
    "crc32c" => :bytes_bytes)

const V3_CODEC_PARAMETERS = Dict{String,Tuple}(
    "transpose" => ("order",), "bytes" => ("endian",), "vlen-utf8" => (), "vlen-bytes" => (),
    "sharding_indexed" => ("chunk_shape", "codecs", "index_codecs", "index_location"),
    "gzip" => ("level",), "zstd" => ("level", "checksum"),
    "blosc" => ("typesize", "cname", "clevel", "shuffle", "blocksize"), "crc32c" => ())

# One codec object: (name, configuration, must_understand).  A bare string is a codec without
# configuration.  A malformed object is a MetadataError; a bad configuration a CodecError.
function _codec_object(c, ckey)
    c isa AbstractString && return String(c), Dict{String,Any}(), true
    c isa AbstractDict || throw(MetadataError(ckey, "a codec must be an object with a \"name\", got $(_jtype(c))"))
    name = get(c, "name", nothing)
    name isa AbstractString || throw(MetadataError(ckey, "a codec needs a string \"name\""))
    cfg = get(c, "configuration", Dict{String,Any}())
    cfg isa AbstractDict || throw(MetadataError(ckey * ".configuration", "must be an object, got $(_jtype(cfg))"))
    must = get(c, "must_understand", true)
    must isa Bool || throw(MetadataError(ckey * ".must_understand", "must be true or false"))
    for k in keys(c)
        k in ("name", "configuration", "must_understand") || throw(MetadataError(ckey, "unknown key $(repr(k)) in a codec"))
    end
    return String(name), cfg, must
end

function _check_params(name, cfg, ckey)
    allowed = V3_CODEC_PARAMETERS[name]
    for k in keys(cfg)
        k in allowed || throw(CodecError(ckey, "codec \"$name\": unknown configuration key $(repr(k))"))
    end
end

"""
    v3_pipeline(codecs, data_type, chunks, fill; key, path="codecs") -> Pipeline

Build and validate a v3 codec list for chunks of Zarr shape `chunks`: zero or more array→array
codecs, exactly one array→bytes codec, zero or more bytes→bytes codecs (else MetadataError at
`key:path`); unknown codecs are CodecErrors unless they say `"must_understand": false` (then
skipped).  `path` names the list in error messages (`codecs`, `codecs[0].configuration.codecs`).
"""
function v3_pipeline(codecs, dt_json, chunks::AbstractVector{Int}, fill; key::AbstractString="zarr.json",
                     path::AbstractString="codecs")
    lkey = string(key, ":", path)
    (codecs isa AbstractVector && !isempty(codecs)) ||
        throw(MetadataError(lkey, "must be a non-empty list of codecs, got $(_jtype(codecs))"))
    parsed = Tuple{Symbol,String,Any,String}[]
    for (i, c) in enumerate(codecs)
        ckey = string(key, ":", path, "[", i - 1, "]")
        name, cfg, must = _codec_object(c, ckey)
        kind = get(V3_CODEC_KINDS, name, nothing)
        if kind === nothing
            must || continue                       # "must_understand": false: skipped
            throw(CodecError(ckey, "unknown codec $(repr(name))"))
        end
        _check_params(name, cfg, ckey)
        push!(parsed, (kind, name, cfg, ckey))
    end
    # the chain: array→array*, one array→bytes, bytes→bytes*; an error names the codec out of place
    kinds = [p[1] for p in parsed]
    iab = findfirst(==(:array_bytes), kinds)
    iab === nothing && throw(MetadataError(lkey, "needs exactly one array→bytes codec (bytes, vlen-utf8, vlen-bytes, sharding_indexed), found none"))
    for (i, (kind, name, _, ckey)) in enumerate(parsed)
        if i < iab && kind == :bytes_bytes
            throw(MetadataError(ckey, "the bytes→bytes codec $name comes before the array→bytes codec $(parsed[iab][2])"))
        elseif i > iab && kind == :array_bytes
            throw(MetadataError(ckey, "a second array→bytes codec ($name after $(parsed[iab][2])): a chain has exactly one"))
        elseif i > iab && kind == :array_array
            throw(MetadataError(ckey, "the array→array codec $name comes after the array→bytes codec $(parsed[iab][2])"))
        end
    end
    n = length(chunks)
    transposes = TransposeCodec[_v3_transpose(cfg, n, ckey) for (_, _, cfg, ckey) in parsed[1:iab - 1]]
    enc = collect(Int, chunks)
    for t in transposes
        enc = transposed_shape(enc, t.order)
    end
    _, sname, scfg, skey = parsed[iab]
    subpath = string(path, "[", iab - 1, "].configuration")
    dtype, serializer = _v3_serializer(sname, scfg, skey, dt_json, enc, fill, key, subpath)
    itemsize = dtype.kind == 'O' ? 1 : dtype.itemsize
    bytes_codecs = Any[_v3_bytes_codec(name, cfg, ckey, itemsize) for (_, name, cfg, ckey) in parsed[iab + 1:end]]
    return Pipeline(dtype, chunks, 'C', transposes, serializer, bytes_codecs, fill)
end

function _v3_transpose(cfg, n, ckey)
    o = get(cfg, "order", nothing)
    o == "C" && return TransposeCodec(collect(0:n - 1))          # legacy spellings
    o == "F" && return TransposeCodec(collect(n - 1:-1:0))
    (o isa AbstractVector && all(_is_int, o)) ||
        throw(CodecError(ckey, "transpose: \"order\" must be a list of integers, got $(json_string(o; indent=nothing))"))
    p = Int[Int(x) for x in o]
    (length(p) == n && sort(p) == 0:n - 1) ||
        throw(CodecError(ckey, "transpose: \"order\" $(json_string(o; indent=nothing)) is not a permutation of 0…$(n - 1)"))
    return TransposeCodec(p)
end

function _v3_endian(cfg, ckey, name)
    e = get(cfg, "endian", nothing)
    e === nothing && return nothing
    e in ("little", "big") || throw(CodecError(ckey, "$name: \"endian\" must be \"little\" or \"big\", got $(json_string(e; indent=nothing))"))
    return e == "big" ? '>' : '<'
end

function _v3_serializer(name, cfg, ckey, dt_json, enc, fill, key, subpath)
    dkey = string(key, ":data_type")
    if name == "bytes"
        e = _v3_endian(cfg, ckey, name)
        dtype = parse_data_type(dt_json, something(e, '<'); key=dkey)
        dtype.kind == 'O' && throw(CodecError(ckey, "bytes cannot serialize data type $(_v3_repr(dt_json)) (use vlen-utf8 or vlen-bytes)"))
        # zarr-python writes structured types without an endian (and reads them little-endian)
        (e === nothing && dtype.kind != 'T' && dtype_endian(dtype) !== nothing) &&
            throw(CodecError(ckey, "bytes: \"endian\" is required for data type $(_v3_repr(dt_json))"))
        return dtype, BytesSerializer()
    elseif name == "vlen-utf8" || name == "vlen-bytes"
        dtype = parse_data_type(dt_json; key=dkey)
        want = name == "vlen-utf8" ? String : Vector{UInt8}
        (dtype.kind == 'O' && dtype.T === want) ||
            throw(CodecError(ckey, "$name cannot serialize data type $(_v3_repr(dt_json))"))
        return dtype, ObjectSerializer(VLenFilter(name == "vlen-utf8"))
    end
    s = _v3_sharding(cfg, ckey, dt_json, enc, fill, key, subpath)
    return s.inner.dtype, s
end

function _v3_bytes_codec(name, cfg, ckey, itemsize)
    c = Dict{String,Any}(cfg)
    c["id"] = name
    if name == "blosc"
        haskey(c, "typesize") || (c["typesize"] = itemsize)
        # v3 spells the shuffle as a word (numcodecs' integers are v2's); none given: numcodecs'
        # automatic choice, as zarr-python's default (decoding does not depend on it)
        sh = get(c, "shuffle", "shuffle")
        haskey(c, "shuffle") || (c["shuffle"] = -1)
        (sh isa AbstractString && haskey(BLOSC_SHUFFLE_NAMES, sh)) ||
            throw(CodecError(ckey, "blosc: \"shuffle\" must be \"noshuffle\", \"shuffle\" or \"bitshuffle\", got $(json_string(sh; indent=nothing))"))
    elseif name == "gzip"
        haskey(c, "level") || (c["level"] = 5)
    end
    return bytescodec_from_config(c; key=ckey)
end

"""
    v3_codec_json(codec) -> Dict

A bytes→bytes codec as a v3 codec object, with every parameter (zarr-python 3.1's spelling).
"""
function v3_codec_json(c::BloscCodec)
    shuffle = c.shuffle == -1 ? (c.typesize == 1 ? 2 : 1) : c.shuffle
    names = Dict(0 => "noshuffle", 1 => "shuffle", 2 => "bitshuffle")
    return _named("blosc", Dict{String,Any}("typesize" => c.typesize, "cname" => c.cname, "clevel" => c.clevel,
                                            "shuffle" => names[shuffle], "blocksize" => c.blocksize))
end
v3_codec_json(c::ZstdCodec) = _named("zstd", Dict{String,Any}("level" => c.level, "checksum" => c.checksum))
v3_codec_json(c::GZipCodec) = _named("gzip", Dict{String,Any}("level" => c.level))
v3_codec_json(::CRC32CCodec) = Dict{String,Any}("name" => "crc32c")       # zarr-python writes no configuration
v3_codec_json(c::BytesCodec) =
    throw(CodecError("codecs", "$(codec_config(c)["id"]) is not a Zarr v3 codec (gzip, zstd, blosc, crc32c are)"))

# ---- sharding_indexed

"The sentinel of an empty inner chunk in a shard index (offset and nbytes)."
const SHARD_EMPTY = typemax(UInt64)

"""
v3 `sharding_indexed`: the (transposed) chunk is a shard of inner chunks of `chunk_shape` (Zarr
order), each encoded with `inner`, followed (or preceded) by an index of (offset, nbytes) uint64
pairs in C order of the inner grid, in `index_endian` order, with a crc32c when `index_crc`.
"""
struct ShardingCodec <: ArrayToBytesCodec
    chunk_shape::Vector{Int}
    grid::Vector{Int}                  # inner chunks per axis (Zarr order)
    inner::Pipeline
    index_endian::Char
    index_crc::Bool
    index_at_end::Bool
    config::Dict{String,Any}
end

function _v3_sharding(cfg, ckey, dt_json, shard, fill, key, subpath)
    cskey = string(key, ":", subpath, ".chunk_shape")
    cs = get(cfg, "chunk_shape", nothing)
    (cs isa AbstractVector && all(x -> _is_int(x) && x > 0, cs)) ||
        throw(CodecError(cskey, "sharding_indexed: must be a list of positive integers, got $(json_string(cs; indent=nothing))"))
    cs = Int[Int(x) for x in cs]
    length(cs) == length(shard) ||
        throw(CodecError(cskey, "sharding_indexed: the inner chunk shape $(cs) has $(length(cs)) dimensions, the shard $(shard) has $(length(shard))"))
    all(i -> shard[i] % cs[i] == 0, 1:length(cs)) ||
        throw(CodecError(cskey, "sharding_indexed: the inner chunk shape $(cs) does not divide the shard shape $(shard)"))
    haskey(cfg, "codecs") || throw(CodecError(string(key, ":", subpath, ".codecs"), "sharding_indexed: missing \"codecs\""))
    inner = v3_pipeline(cfg["codecs"], dt_json, cs, fill; key=key, path=subpath * ".codecs")
    loc = get(cfg, "index_location", "end")
    loc in ("start", "end") || throw(CodecError(string(key, ":", subpath, ".index_location"),
                                                "sharding_indexed: must be \"start\" or \"end\", got $(json_string(loc; indent=nothing))"))
    ic = get(cfg, "index_codecs", Any[_named("bytes", Dict{String,Any}("endian" => "little")), Dict{String,Any}("name" => "crc32c")])
    ikey = string(key, ":", subpath, ".index_codecs")
    (ic isa AbstractVector && !isempty(ic)) || throw(CodecError(ikey, "must be a non-empty list of codecs"))
    endian, crc = '<', false
    for (i, c) in enumerate(ic)
        k = string(ikey, "[", i - 1, "]")
        name, icfg, _ = _codec_object(c, k)
        if i == 1 && name == "bytes"
            _check_params(name, icfg, k)
            endian = something(_v3_endian(icfg, k, name), '<')
        elseif i == 2 && name == "crc32c"
            _check_params(name, icfg, k)
            crc = true
        else
            throw(CodecError(k, "index_codecs may only be bytes, optionally followed by crc32c (got $(repr(name)))"))
        end
    end
    grid = [shard[i] ÷ cs[i] for i in 1:length(cs)]
    return ShardingCodec(cs, grid, inner, endian, crc, loc == "end", Dict{String,Any}(cfg))
end

"Number of bytes of a shard's index."
shard_index_nbytes(s::ShardingCodec) = 16 * reduce(*, s.grid; init=1) + (s.index_crc ? 4 : 0)

"""
    decode_shard_index(s, bytes; key) -> Vector{UInt64}

The (offset, nbytes) pairs of every inner chunk, C order of the inner grid.  An index of the
wrong size or with a bad checksum is a ChunkError naming the shard's key.
"""
function decode_shard_index(s::ShardingCodec, b::AbstractVector{UInt8}; key::AbstractString="")
    want = shard_index_nbytes(s)
    length(b) == want ||
        throw(ChunkError(key, "shard index has $(length(b)) bytes, expected $want ($(reduce(*, s.grid; init=1)) inner chunks)"))
    b = s.index_crc ? decode(CRC32CCodec(), Vector{UInt8}(b); key=key) : b
    n = length(b) ÷ 8
    out = Vector{UInt64}(undef, n)
    GC.@preserve out copyto!(unsafe_wrap(Array, Ptr{UInt8}(pointer(out)), 8n), 1, b, 1, 8n)
    s.index_endian == '>' ? map!(ntoh, out, out) : map!(ltoh, out, out)
    return out
end

function encode_shard_index(s::ShardingCodec, idx::Vector{UInt64})
    v = s.index_endian == '>' ? map(hton, idx) : map(htol, idx)
    b = Vector{UInt8}(undef, 8 * length(v))
    GC.@preserve v copyto!(b, unsafe_wrap(Array, Ptr{UInt8}(pointer(v)), length(b)))
    return s.index_crc ? encode(CRC32CCodec(), b) : b
end

"""
    shard_entry(s, idx, l, datarange; key) -> UnitRange or nothing

The 0-based byte range of inner chunk `l` (C order of the inner grid) within the shard, nothing
if it is empty.  `datarange` is where inner chunks may be (the shard without its index, when its
length is known): an entry outside it is a ChunkError naming the shard key.
"""
function shard_entry(s::ShardingCodec, idx::Vector{UInt64}, l::Int, datarange; key::AbstractString="")
    off, nb = idx[2l - 1], idx[2l]
    (off == SHARD_EMPTY && nb == SHARD_EMPTY) && return nothing
    (off == SHARD_EMPTY || nb == SHARD_EMPTY) &&
        throw(ChunkError(key, "shard index entry $(l - 1) is half empty (offset $off, nbytes $nb)"))
    hi, of = Base.Checked.add_with_overflow(off, nb)
    (of || hi > typemax(Int)) && throw(ChunkError(key, "shard index entry $(l - 1): offset $off + nbytes $nb overflows"))
    r = Int(off):(Int(hi) - 1)
    (datarange === nothing || isempty(r) || (first(r) >= first(datarange) && last(r) <= last(datarange))) ||
        throw(ChunkError(key, "shard index entry $(l - 1): bytes $(first(r))…$(last(r)) are outside the shard's data ($(first(datarange))…$(last(datarange)))"))
    return r
end

"The shard's data bytes and its index, from the whole shard `b`."
function split_shard(s::ShardingCodec, b::AbstractVector{UInt8}; key::AbstractString="")
    isz = shard_index_nbytes(s)
    length(b) >= isz || throw(ChunkError(key, "shard of $(length(b)) bytes is smaller than its index ($isz bytes)"))
    if s.index_at_end
        return decode_shard_index(s, view(b, length(b) - isz + 1:length(b)); key=key), 0:(length(b) - isz - 1)
    end
    return decode_shard_index(s, view(b, 1:isz); key=key), isz:(length(b) - 1)
end

function serializer_decode(s::ShardingCodec, p::Pipeline, b::Vector{UInt8}; key::AbstractString="")
    idx, datarange = split_shard(s, b; key=key)
    T = p.dtype.T
    out = Array{T}(undef, p.encsize)
    jin = s.inner.jchunk
    for (l, ci) in enumerate(CartesianIndices(Tuple(reverse(s.grid))))   # column-major = C order of the grid
        rng = map((c, k) -> ((c - 1) * k + 1):(c * k), Tuple(ci), jin)
        r = shard_entry(s, idx, l, datarange; key=key)
        if r === nothing
            fill!(view(out, rng...), p.fill)
        else
            v = decode_chunk(s.inner, b[first(r) + 1:last(r) + 1]; key=key)
            copyto!(view(out, rng...), reshape(v, jin))
        end
    end
    return vec(out)
end

function serializer_encode(s::ShardingCodec, p::Pipeline, A::AbstractArray)
    T = p.dtype.T
    jin = s.inner.jchunk
    buf = Array{T}(undef, jin)
    ngrid = reduce(*, s.grid; init=1)
    idx = fill(SHARD_EMPTY, 2 * ngrid)
    parts = Vector{UInt8}[]
    pos = s.index_at_end ? 0 : shard_index_nbytes(s)
    for (l, ci) in enumerate(CartesianIndices(Tuple(reverse(s.grid))))   # inner chunks in C order of the grid
        rng = map((c, k) -> ((c - 1) * k + 1):(c * k), Tuple(ci), jin)
        copyto!(buf, view(A, rng...))
        all(x -> _isfill(x, p.fill), buf) && continue        # all-fill inner chunks are not stored
        enc = encode_chunk(s.inner, buf)
        idx[2l - 1], idx[2l] = UInt64(pos), UInt64(length(enc))
        push!(parts, enc)
        pos += length(enc)
    end
    index = encode_shard_index(s, idx)
    out = UInt8[]
    sizehint!(out, pos + (s.index_at_end ? length(index) : 0))
    s.index_at_end || append!(out, index)
    foreach(x -> append!(out, x), parts)
    s.index_at_end && append!(out, index)
    return out
end

# ---- decoding and encoding one chunk

bytes_decode(c::BytesCodec, x, key, sizehint) = decode(c, x; key=key, sizehint=sizehint)
bytes_decode(f::ArrayFilter, x, key, sizehint) = filter_decode(f, x; key=key)
bytes_encode(c::BytesCodec, x) = encode(c, x)
bytes_encode(f::ArrayFilter, x) = filter_encode(f, x)

function serializer_decode(::BytesSerializer, p::Pipeline, x; key::AbstractString="")
    x isa Vector{UInt8} || throw(CodecError(key, "filters produced $(typeof(x)) for dtype $(p.dtype.typestr)"))
    expected = chunk_length(p) * p.dtype.itemsize
    length(x) == expected ||
        throw(ChunkError(key, "decoded to $(length(x)) bytes, expected $expected (chunk $(p.chunks) × $(p.dtype.itemsize) bytes)"))
    return bytes_to_values(p.dtype, x; key=key)
end

function serializer_decode(s::ObjectSerializer, p::Pipeline, b; key::AbstractString="")
    x = filter_decode(s.filter, b; key=key)
    n = chunk_length(p)
    if x isa AbstractVector && !(x isa Vector{UInt8}) && p.dtype.kind == 'O'
        length(x) == n || throw(ChunkError(key, "decoded to $(length(x)) items, expected $n (chunk $(p.chunks))"))
        return x
    elseif x isa Vector{UInt8} && p.dtype.kind != 'O'
        return serializer_decode(BytesSerializer(), p, x; key=key)
    end
    throw(CodecError(key, "filters produced $(typeof(x)) for dtype $(p.dtype.typestr)"))
end

function serializer_decode(s::JSON2Serializer, p::Pipeline, b; key::AbstractString="")
    x = filter_decode(s.filter, b; key=key)
    n = chunk_length(p)
    vals = x.values
    length(vals) == n || throw(ChunkError(key, "decoded to $(length(vals)) items, expected $n (chunk $(p.chunks))"))
    # zarr 2.x lists an F chunk in its logical (Zarr) shape, C order: reorder into F memory order.  A
    # list in the reversed shape is already in memory order (as zarr 2.x's own reader takes every list).
    zshape = collect(Int, p.chunks)
    in_memory_order = x.shape != zshape && x.shape == reverse(zshape)
    if p.order == 'F' && length(p.chunks) > 1 && !in_memory_order
        vals = vec(permutedims(reshape(vals, Tuple(reverse(p.chunks))), length(p.chunks):-1:1))
    end
    return p.dtype.T === Any ? vals : convert(Vector{p.dtype.T}, vals)
end

serializer_encode(::BytesSerializer, p::Pipeline, A::AbstractArray) = values_to_bytes(p.dtype, A)
serializer_encode(s::ObjectSerializer, p::Pipeline, A::AbstractArray) = filter_encode(s.filter, vec(A))
serializer_encode(s::JSON2Serializer, p::Pipeline, A::AbstractArray) = json2_encode(p, vec(A))

# The decoded size of what the array→bytes codec reads, when known (saves reallocations).
serialized_sizehint(p::Pipeline) = p.serializer isa BytesSerializer ? chunk_length(p) * p.dtype.itemsize : 0

"""
    decode_chunk(p, bytes; key) -> Vector

Decode one stored chunk into its values: the Julia chunk (size `p.jchunk`) flattened in column-major
order, which for v2 is the chunk's memory order.  The decoded size is checked: ChunkError naming
`key` with expected vs got.
"""
function decode_chunk(p::Pipeline, b::AbstractVector{UInt8}; key::AbstractString="")
    x = b isa Vector{UInt8} ? b : Vector{UInt8}(b)
    for i in length(p.bytes_codecs):-1:1
        x = bytes_decode(p.bytes_codecs[i], x, key, i == 1 ? serialized_sizehint(p) : 0)
    end
    v = serializer_decode(p.serializer, p, x; key=key)
    p.perm === nothing && return v
    return vec(permutedims(reshape(v, p.encsize), invperm(p.perm)))     # one transpose per chunk
end

"Encode one chunk (the Julia chunk, or its values flat in column-major order) into stored bytes."
function encode_chunk(p::Pipeline, v::AbstractArray)
    A = size(v) == p.jchunk ? v : reshape(v, p.jchunk)
    p.perm === nothing || (A = permutedims(A, p.perm))
    x = serializer_encode(p.serializer, p, A)
    for c in p.bytes_codecs
        x = bytes_encode(c, x)
    end
    return x
end

# numcodecs JSON: the chunk as nested lists in C order, then dtype "|O" and the shape.
function json2_encode(p::Pipeline, v::AbstractVector)
    shape = p.chunks
    A = reshape(collect(Any, v), chunk_julia_size(shape, p.order))
    C = p.order == 'F' && length(shape) > 1 ? permutedims(A, length(shape):-1:1) : A   # → reversed layout
    items = isempty(shape) ? Any[v[1]] : _nest(C, shape)
    push!(items, "|O")
    push!(items, shape)
    return Vector{UInt8}(codeunits(json_string(items; indent=nothing)))
end
function _nest(C, shape, prefix=())
    d = length(prefix) + 1
    if d == length(shape)
        return Any[C[reverse((prefix..., i))...] for i in 1:shape[d]]
    end
    return Any[_nest(C, shape, (prefix..., i)) for i in 1:shape[d]]
end
