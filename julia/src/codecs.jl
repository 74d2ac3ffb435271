# The v2 codec pipeline.  Decoding runs store bytes → compressor (bytes→bytes, compressors.jl) →
# filters in reverse (array→array, or an object codec acting as array→bytes) → values in storage
# order; `layout.jl` then views them as the Julia chunk (that is the `order` step).  Encoding is the
# mirror.  Filters see the chunk flattened in its memory order, exactly as numcodecs does.

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

"""
    Pipeline

A v2 array's codec chain: `dtype` (element type, object dtypes resolved through their object
codec), chunk shape and order, `filters` (applied in order on encode), `compressor` (or nothing).
"""
struct Pipeline
    dtype::ZDtype
    chunks::Vector{Int}
    order::Char
    filters::Vector{ArrayFilter}
    compressor::Any
end

"Item size of what filter `f` encodes to, given its input's (numcodecs' output array types)."
encoded_itemsize(f::ArrayFilter, input::Int) = 1      # bytes: packbits, object codecs, bytes codecs
encoded_itemsize(f::Union{DeltaFilter,FixedScaleOffsetFilter,QuantizeFilter,CategorizeFilter}, input::Int) =
    f.astype.itemsize
encoded_itemsize(f::AsTypeFilter, input::Int) = f.encode_dtype.itemsize

"Build the pipeline for validated metadata; `key` is the `.zarray` key, for error messages."
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
    return Pipeline(dt, m.chunks, m.order, filters, comp)
end

"Number of elements in one (full-size) chunk."
chunk_length(p::Pipeline) = reduce(*, p.chunks; init=1)

"""
    decode_chunk(p, bytes; key) -> Vector

Decode one stored chunk into its values, flat in storage (memory) order.  The decoded size is
checked: ChunkError naming `key` with expected vs got bytes.
"""
function decode_chunk(p::Pipeline, b::Vector{UInt8}; key::AbstractString="")
    x = p.compressor === nothing ? b : decode(p.compressor, b; key=key)
    for f in Iterators.reverse(p.filters)
        x = filter_decode(f, x; key=key)
    end
    n = chunk_length(p)
    if x isa JSON2Values
        vals = x.values
        length(vals) == n || throw(ChunkError(key, "decoded to $(length(vals)) items, expected $n (chunk $(p.chunks))"))
        if p.order == 'F' && length(p.chunks) > 1   # C-ordered list → F memory order
            vals = vec(permutedims(reshape(vals, Tuple(reverse(p.chunks))), length(p.chunks):-1:1))
        end
        return p.dtype.T === Any ? vals : convert(Vector{p.dtype.T}, vals)
    elseif x isa Vector{UInt8} && p.dtype.kind != 'O'
        expected = n * p.dtype.itemsize
        length(x) == expected ||
            throw(ChunkError(key, "decoded to $(length(x)) bytes, expected $expected (chunk $(p.chunks) × $(p.dtype.itemsize) bytes)"))
        return bytes_to_values(p.dtype, x; key=key)
    elseif x isa AbstractVector && p.dtype.kind == 'O'
        length(x) == n || throw(ChunkError(key, "decoded to $(length(x)) items, expected $n (chunk $(p.chunks))"))
        return x
    end
    throw(CodecError(key, "filters produced $(typeof(x)) for dtype $(p.dtype.typestr)"))
end

"Encode one chunk's values (flat, storage order, full chunk length) into stored bytes."
function encode_chunk(p::Pipeline, v::AbstractVector)
    fl = p.filters
    if !isempty(fl) && fl[1] isa JSON2Filter          # needs the chunk shape: handled here
        x, rest = json2_encode(p, v), fl[2:end]
    elseif !isempty(fl) && object_eltype(fl[1]) !== nothing
        x, rest = v, fl                                # an object codec takes the values
    else
        x, rest = values_to_bytes(p.dtype, v), fl
    end
    for f in rest
        x = filter_encode(f, x)
    end
    return p.compressor === nothing ? x : encode(p.compressor, x)
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
