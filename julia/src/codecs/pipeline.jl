# The codec pipeline (docs/V3.md): array→array codecs (transposes), one array→bytes codec,
# bytes→bytes codecs.  v2 arrays use the same pipeline: order "F" is a transpose with the full
# reversal, an object codec is the array→bytes step, the numcodecs filters and the compressor are
# bytes→bytes steps (filters see the chunk flattened in its memory order, exactly as numcodecs does).

"A bytes→bytes codec used as a filter (shuffle, or a compressor listed in `filters`)."
struct BytesFilter <: ArrayFilter
    codec::Any
end
filter_decode(f::BytesFilter, b; key::AbstractString="") =
    decode(f.codec, b isa Vector{UInt8} ? b : Vector{UInt8}(b); key=key)
filter_encode(f::BytesFilter, x) = encode(f.codec, x)

# ---------------------------------------------------------------------------------------------
# The pipeline: array→array codecs (transposes), one array→bytes codec, bytes→bytes codecs.
# v2 maps into it: order "F" is a transpose with the full reversal; an object codec in front of
# the filters is the array→bytes codec, otherwise the dtype's bytes are; the other filters
# (numcodecs filters work on the chunk's bytes in memory order) and the compressor are bytes→bytes.
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
                    julia_size(chunks, order), julia_size(enc, 'C'), perm, plain)
end

"Number of elements in one (full-size) chunk."
chunk_length(p::Pipeline) = reduce(*, p.chunks; init=1)

"The one bytes codec of a plain pipeline (or nothing)."
plain_codec(p::Pipeline) = isempty(p.bytes_codecs) ? nothing : p.bytes_codecs[1]

# ---- v2 codec configs → codec objects (through the registry)

"""
    filter_from_config(cfg; key) -> ArrayFilter

Build a v2 filter from its numcodecs config: the registry's array→array and array→bytes codecs by their
constructor; bytes→bytes codecs (shuffle, crc32c, compressors listed in `filters`) go to
`bytescodec_from_config`, which raises CodecError for unknown ids.
"""
function filter_from_config(cfg::AbstractDict; key::AbstractString="")
    id = get(cfg, "id", nothing)
    id isa AbstractString || throw(CodecError(key, "codec config needs a string \"id\""))
    spec = codec_spec_v2(id)
    if spec !== nothing && spec.kind != :bytes_bytes && spec.from_v2 !== nothing
        return spec.from_v2(Dict{String,Any}(cfg), String(key))
    end
    return BytesFilter(bytescodec_from_config(Dict{String,Any}(cfg); key=key))
end

"""
    bytescodec_from_config(cfg; key="") -> BytesCodec

The codec for a numcodecs JSON config (`cfg["id"]` a bytes→bytes codec of the registry: zlib, gzip, blosc,
zstd, lz4, bz2, lzma, shuffle, crc32c, …). Missing parameters take numcodecs' defaults. An unknown id, an
unknown parameter or a bad value raises `CodecError(key, …)`.
"""
function bytescodec_from_config(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    id = get(cfg, "id", nothing)
    id isa AbstractString || throw(CodecError(key, id === nothing ? "codec config has no \"id\"" :
                                                   "codec id must be a string, got $(repr(id))"))
    id = String(id)
    spec = codec_spec_v2(id)
    (spec === nothing || spec.kind != :bytes_bytes) && throw(CodecError(key, "unknown codec id $(repr(id))"))
    allowed = something(spec.v2_parameters, ())
    for k in keys(cfg)
        k == "id" || k in allowed || throw(CodecError(key, "codec \"$id\": unknown parameter $(repr(k))"))
    end
    return spec.from_v2(cfg, key)
end

filter_config(f::BytesFilter) = codec_config(f.codec)

# ---- building: v2

"Build the pipeline of validated metadata; `key` is its document's key, for error messages."
function make_pipeline(m::ArrayMetadata; key::AbstractString=".zarray")
    # numcodecs' blosc takes its typesize from the item size of the buffer it is given: the
    # dtype's, or what the filter before it produced (unless the config sets "typesize").
    itemsize = m.dtype.kind == 'O' ? 1 : m.dtype.itemsize
    # filters that need the dtype (bitround) or the chunk's dtype and memory shape (zfpy) get them
    cur = m.dtype.kind == 'O' ? nothing : m.dtype
    mshape = chunk_memory_shape(m.chunks, m.order)
    filters = ArrayFilter[]
    for (i, cfg) in enumerate(something(m.filters, Any[]))
        f = filter_from_config(cfg; key=string(key, ":filters[", i - 1, "]"))
        if f isa BytesFilter && !haskey(cfg, "typesize")
            f = BytesFilter(with_typesize(f.codec, itemsize))
        end
        f isa BytesFilter && cur !== nothing && (f = BytesFilter(with_chunk(f.codec, cur, mshape)))
        if !(f isa BytesFilter) && cur !== nothing
            f = with_dtype(f, cur)
            cur = encoded_dtype(f, cur)
            mshape = encoded_shape(f, mshape)
        end
        push!(filters, f)
        itemsize = encoded_itemsize(f, itemsize)
    end
    comp = m.compressor === nothing ? nothing :
           bytescodec_from_config(m.compressor; key=string(key, ":compressor"))
    if comp !== nothing && !haskey(m.compressor, "typesize")
        comp = with_typesize(comp, itemsize)
    end
    comp === nothing || cur === nothing || (comp = with_chunk(comp, cur, mshape))
    dt = m.dtype
    # an object codec reads items, not the dtype's bytes: under a numeric dtype it cannot be right
    iobj = dt.kind == 'O' ? nothing : findfirst(f -> object_eltype(f) !== nothing, filters)
    iobj === nothing || throw(MetadataError(string(key, ":filters[", iobj - 1, "]"),
        "$(something(get(m.filters[iobj], "id", nothing), "?")) is an object codec, but the dtype is $(dt.typestr)"))
    if dt.kind == 'O'
        objs = [object_eltype(f) for f in filters if object_eltype(f) !== nothing]
        isempty(objs) &&
            throw(MetadataError(string(key, ":filters"), "object dtype |O needs an object codec " *
                "($(join(v2_ids_of_kind(:array_bytes), ", "))) in filters"))
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
    tp = n > 1 ? order_transpose(m.order, n) : nothing
    transposes = tp === nothing ? TransposeCodec[] : [TransposeCodec(tp)]
    return Pipeline(dt, m.chunks, m.order, transposes, serializer, bytes_codecs, chunk_fillvalue(dt, m.fill))
end

# ---- building: v3 (codec JSON objects, docs/V3.md)

make_pipeline(m::ArrayMetadataV3; key::AbstractString="zarr.json") =
    v3_pipeline(m.codecs, m.data_type, m.chunks, chunk_fillvalue(m.dtype, m.fill); key=key)
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
        k in ("name", "configuration", "must_understand") ||
            throw(MetadataError(ckey, "unknown key $(repr(k)) in a codec"))
    end
    return String(name), cfg, must
end

function _check_params(name, cfg, ckey)
    spec = codec_spec_v3(name)
    allowed = _numcodecs_generic(spec, name) ? spec.v2_parameters : spec.v3_parameters
    allowed === nothing && return nothing                  # the constructor checks them
    for k in keys(cfg)
        k in allowed || throw(CodecError(ckey, "codec \"$name\": unknown configuration key $(repr(k))"))
    end
end

# A `numcodecs.<id>` name built from its numcodecs config (registry.jl: numcodecs_from_v3)?
_numcodecs_generic(spec::CodecSpec, name::AbstractString) =
    startswith(name, "numcodecs.") && spec.v2_id !== nothing && (spec.from_v3 === nothing || name != spec.v3_names[1])

function _v3_codec(name, cfg, ckey, ctx::V3Context)
    spec = codec_spec_v3(name)
    _numcodecs_generic(spec, name) && return numcodecs_from_v3(spec, String(name), cfg, ckey, ctx)
    return spec.from_v3(cfg, ckey, ctx)
end

"""
    FilteredSerializer

The v3 array→array codecs other than transpose (`filters`, encode order) and the array→bytes codec
after them (`inner`, a Pipeline for the encoded dtype, shape and fill, with no bytes codecs).  The
filters work on the (transposed) chunk's bytes in C order, little-endian, as numcodecs filters do on
a chunk's memory: encoding is values (of `dtype`) → bytes → each filter → values of the encoded type
→ the inner serializer; decoding the reverse.
"""
struct FilteredSerializer <: ArrayToBytesCodec
    filters::Vector{Any}
    dtype::ZDtype                      # the array's dtype, little-endian (the first filter's input)
    enc_dtype::ZDtype                  # the last filter's output, little-endian
    inner::Pipeline
end

function serializer_encode(s::FilteredSerializer, p::Pipeline, A::AbstractArray)
    x = values_to_bytes(s.dtype, A)
    for f in s.filters
        x = filter_encode(f, x)
    end
    q = s.inner
    q.serializer isa BytesSerializer && q.dtype.typestr == s.enc_dtype.typestr && return x
    v = reshape(bytes_to_values(s.enc_dtype, x), q.jchunk)
    return serializer_encode(q.serializer, q, v)
end

function serializer_decode(s::FilteredSerializer, p::Pipeline, x; key::AbstractString="")
    q = s.inner
    if q.serializer isa BytesSerializer && q.dtype.typestr == s.enc_dtype.typestr      # the bytes as stored
        x isa Vector{UInt8} || throw(CodecError(key, "filters produced $(typeof(x))"))
        want = chunk_length(q) * q.dtype.itemsize
        length(x) == want || throw(ChunkError(key, "decoded to $(length(x)) bytes, expected $want"))
        b = x
    else
        b = values_to_bytes(s.enc_dtype, serializer_decode(q.serializer, q, x; key=key))
    end
    for i in length(s.filters):-1:1
        b = filter_decode(s.filters[i], b; key=key)
    end
    b isa Vector{UInt8} || (b = Vector{UInt8}(b))
    n = chunk_length(p) * s.dtype.itemsize
    length(b) == n || throw(ChunkError(key, "the array→array codecs decoded to $(length(b)) bytes, expected $n"))
    return bytes_to_values(s.dtype, b; key=key)
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
        spec = codec_spec_v3(name)
        if spec === nothing
            must || continue                       # "must_understand": false: skipped
            throw(CodecError(ckey, "unknown codec $(repr(name))"))
        end
        _check_params(name, cfg, ckey)
        push!(parsed, (spec.kind, name, cfg, ckey))
    end
    # the chain: array→array*, one array→bytes, bytes→bytes*; an error names the codec out of place
    kinds = [p[1] for p in parsed]
    iab = findfirst(==(:array_bytes), kinds)
    iab === nothing &&
        throw(MetadataError(lkey, "needs exactly one array→bytes codec " *
            "($(join(v3_names_of_kind(:array_bytes), ", "))), found none"))
    for (i, (kind, name, _, ckey)) in enumerate(parsed)
        if i < iab && kind == :bytes_bytes
            throw(MetadataError(ckey, "the bytes→bytes codec $name comes before the array→bytes codec " *
                "$(parsed[iab][2])"))
        elseif i > iab && kind == :array_bytes
            throw(MetadataError(ckey, "a second array→bytes codec ($name after $(parsed[iab][2])): a chain has " *
                "exactly one"))
        elseif i > iab && kind == :array_array
            throw(MetadataError(ckey, "the array→array codec $name comes after the array→bytes codec " *
                "$(parsed[iab][2])"))
        end
    end
    key = String(key)
    # array→array: transposes permute the chunk, the other codecs filter its values (FilteredSerializer)
    src = parse_data_type(dt_json, '<'; key=key * ":data_type")
    src = src.kind == 'O' ? src : with_endian(src, '<')
    cur_json, cur_dt, cur_fill, enc = dt_json, src, fill, collect(Int, chunks)
    transposes, filters = TransposeCodec[], Any[]
    for (_, name, cfg, ckey) in parsed[1:iab - 1]
        ctx = V3Context(cur_json, enc, cur_fill, key, String(path), cur_dt.kind == 'O' ? 1 : cur_dt.itemsize, cur_dt)
        c = _v3_codec(name, cfg, ckey, ctx)
        if c isa TransposeCodec
            any(f -> !elementwise(f), filters) &&
                throw(CodecError(ckey, "transpose after $(join([n for (_, n, _, _) in parsed[1:iab - 1]], ", ")): " *
                    "a transpose after an order-dependent codec (delta, packbits) is not supported"))
            push!(transposes, c)
            enc = transposed_shape(enc, c.order)
            continue
        end
        cur_dt.kind == 'O' && throw(CodecError(ckey, "$name cannot filter data type $(_v3_repr(dt_json))"))
        push!(filters, c)
        cur_fill = encoded_fill(c, cur_dt, cur_fill)
        new_dt = encoded_dtype(c, cur_dt)
        enc = encoded_shape(c, enc)
        new_dt === cur_dt || (cur_json = data_type_json(new_dt); cur_dt = with_endian(new_dt, '<'))
    end
    _, sname, scfg, skey = parsed[iab]
    subpath = string(path, "[", iab - 1, "].configuration")
    sctx = V3Context(cur_json, enc, cur_fill, key, subpath, 0, cur_dt)
    dtype, serializer = _v3_codec(sname, scfg, skey, sctx)
    bctx = V3Context(cur_json, enc, cur_fill, key, String(path), dtype.kind == 'O' ? 1 : dtype.itemsize, dtype)
    bytes_codecs = Any[_v3_codec(name, cfg, ckey, bctx) for (_, name, cfg, ckey) in parsed[iab + 1:end]]
    isempty(filters) && return Pipeline(dtype, chunks, 'C', transposes, serializer, bytes_codecs, fill)
    inner = Pipeline(dtype, enc, 'C', TransposeCodec[], serializer, Any[], cur_fill)
    return Pipeline(src, chunks, 'C', transposes, FilteredSerializer(filters, src, cur_dt, inner), bytes_codecs, fill)
end
bytes_decode(c::BytesCodec, x, key, sizehint) = decode(c, x; key=key, sizehint=sizehint)
bytes_decode(f::ArrayFilter, x, key, sizehint) = filter_decode(f, x; key=key)
bytes_encode(c::BytesCodec, x) = encode(c, x)
bytes_encode(f::ArrayFilter, x) = filter_encode(f, x)
# The decoded size of what the array→bytes codec reads, when known (saves reallocations).
serialized_sizehint(p::Pipeline) = p.serializer isa BytesSerializer ? chunk_length(p) * p.dtype.itemsize :
    p.serializer isa FilteredSerializer ? serialized_sizehint(p.serializer.inner) : 0

# A bytes stage before others: filters change the size by at most 8× (astype i1 → f8, packbits).
inner_stage_bound(want::Int) = want > 0 ? 8 * want + 4096 : 0

const OBJECT_ITEM_BOUND = 1 << 20
object_chunk_bound(p::Pipeline) = p.dtype.kind == 'O' ? chunk_length(p) * OBJECT_ITEM_BOUND + 4096 : 0

"""
    decode_chunk(p, bytes; key) -> Vector

Decode one stored chunk into its values: the Julia chunk (size `p.jchunk`) flattened in column-major
order, which for v2 is the chunk's memory order.  The decoded size is checked: ChunkError naming
`key` with expected vs got.
"""
function decode_chunk(p::Pipeline, b::AbstractVector{UInt8}; key::AbstractString="")
    x = b isa Vector{UInt8} ? b : Vector{UInt8}(b)
    want = serialized_sizehint(p)
    for i in length(p.bytes_codecs):-1:1
        # the last stage must give exactly `want`; earlier ones (before filters such as astype or
        # packbits, which change the size) at most a small multiple of it; object chunks (vlen, json2)
        # have no exact size: at most OBJECT_ITEM_BOUND bytes an element, as in Python
        bound = want == 0 ? object_chunk_bound(p) : i == 1 ? want : inner_stage_bound(want)
        x = with_decode_bound(() -> bytes_decode(p.bytes_codecs[i], x, key, i == 1 ? want : 0), bound,
                              want == 0 ? bound : want)
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
