# The codec registry: every codec polyzarr knows, by canonical name, with its kind (the v3 spec's three:
# :array_array, :array_bytes, :bytes_bytes), its v2 (numcodecs) id, its v3 names, the configuration keys it
# accepts, and its constructors from v2 config / v3 configuration.  Pipeline construction (pipeline.jl:
# make_pipeline, v3_pipeline) and metadata validation (known names, chain order, configuration keys) ask
# the registry; no other file lists codec names.  Also here: the three abstract codec types and the
# interface every codec implements, and small helpers for reading configurations.
#
# ADDING A CODEC (mirror: python/polyzarr/codecs/<name>.py + its registry line):
#   1. A new file julia/src/codecs/<name>.jl, included in PolyZarr.jl after clibs.jl/pipeline.jl with the
#      other codec files (any order among them), defining:
#      - a struct, subtype of one of the three kinds:
#          ArrayFilter        a v2 numcodecs filter working on a chunk's values (delta, quantize, bitround…):
#                             filter_decode(f, b; key::AbstractString="") -> bytes (or object values)
#                             filter_encode(f, x) -> bytes   (x: bytes or values in storage order)
#                             encoded_itemsize(f, input::Int) -> Int   (only when ≠ 1: item size it encodes to)
#                             filter_config(f) -> Dict   (numcodecs get_config(), "id" first key written)
#          BytesCodec         bytes→bytes (compressors, checksums):
#                             _encode(c, data::Vector{UInt8}, key::String) -> Vector{UInt8}
#                             _decode(c, data::Vector{UInt8}, key::String, sizehint::Int) -> Vector{UInt8}
#                             optional in-place forms: _encode!(out, c, src::Ptr{UInt8}, n::Int, key::String),
#                             _decode!(c, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
#                             codec_config(c) -> Dict   (v2 JSON); v3_codec_json(c) -> Dict (v3 JSON, if v3)
#                             with_typesize(c, typesize) only if it needs the item size (blosc)
#          ArrayToBytesCodec  serializers (bytes, vlen, sharding): serializer_decode(s, p::Pipeline, x; key),
#                             serializer_encode(s, p::Pipeline, A)
#      - constructors: <name>_from_v2(cfg::AbstractDict, key::String) (numcodecs config, "id" included) and/or
#        <name>_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) (the v3 "configuration" object; an
#        array→bytes constructor returns (dtype, serializer)).  Validate every setting; a bad one is
#        CodecError(key, "<name>: …") naming the JSON path `key`.  Helpers below: config_int, config_bool,
#        _cfg_dtype, _cfg_number.  Unknown keys are refused before the constructor runs for v3 (the v3 keys
#        tuple) and for v2 bytes→bytes codecs (the v2 keys tuple); a v2 filter with `nothing` checks its own.
#        A bytes→bytes v3 constructor gets the item size of its input in `ctx.itemsize`.
#      - use C libraries through clibs.jl (CLibrary, libfunc, grow!, check_decoded_size, max_chunk_bytes).
#   2. Its `include("codecs/<name>.jl")` in PolyZarr.jl, and ONE line in `codec_table()` below:
#        CodecSpec(name, kind, v2_id or nothing, (v3 names…), (v2 config keys…) or nothing (the constructor
#                  checks them), (v3 configuration keys…), <name>_from_v2 or nothing, <name>_from_v3 or nothing),
#   3. Golden cases in julia/test (and python/tests) for the new codec.
# Where the pipeline puts each kind: v2 filters (any kind) run in `filters` order on the chunk's bytes, an
# object codec first being the array→bytes step; a v2 compressor must be :bytes_bytes.  In v3 the chain is
# array→array*, one array→bytes, bytes→bytes*.  `transpose` codecs become the Pipeline's permutation; the
# other v3 array→array codecs (ArrayFilters: numcodecs.delta…, cast_value, scale_offset) run, in order, on
# the transposed chunk's bytes inside a FilteredSerializer (pipeline.jl) wrapped around the array→bytes
# codec, which is built for the encoded data type (`encoded_dtype`), shape (`encoded_shape`) and fill
# (`encoded_fill`).  An ArrayFilter that needs the array's dtype gets it from `with_dtype` (bitround);
# a bytes codec that needs the chunk's dtype and shape from `with_chunk` (zfpy as a v2 compressor).

abstract type ArrayFilter end

"An array→bytes codec: it turns the (transposed) chunk into bytes and back."
abstract type ArrayToBytesCodec end

"A bytes→bytes codec (compressors, checksums, byte shuffle)."
abstract type BytesCodec end

"""
    CodecSpec

One registry entry: `name` (canonical), `kind` (`:array_array`, `:array_bytes`, `:bytes_bytes`), `v2_id`
(numcodecs id or `nothing`), `v3_names`, the configuration keys accepted (`v2_parameters`: `nothing` when
the constructor checks them; `v3_parameters`), and the constructors `from_v2(cfg, key)` and
`from_v3(cfg, ckey, ctx::V3Context)` (`nothing`: not available in that format).
"""
struct CodecSpec
    name::String
    kind::Symbol
    v2_id::Union{Nothing,String}
    v3_names::Tuple{Vararg{String}}
    v2_parameters::Union{Nothing,Tuple{Vararg{String}}}
    v3_parameters::Tuple{Vararg{String}}
    from_v2::Any
    from_v3::Any
end

"""
    V3Context

What a v3 constructor may need besides its configuration: the array's `data_type` JSON, the Zarr shape
of the array the codec sees (`chunks`: after the array→array codecs), the fill value, the document key
and the JSON path of the codec's configuration (`subpath`, for nested pipelines), the item size of
the bytes a bytes→bytes codec receives, and the dtype of the values it sees (after the array→array
codecs before it; little-endian).
"""
struct V3Context
    dt_json::Any
    chunks::Vector{Int}
    fill::Any
    key::String
    subpath::String
    itemsize::Int
    dtype::Any                         # the ZDtype of the values the codec sees (nothing: not known)
end
V3Context(dt_json, chunks, fill, key, subpath, itemsize) = V3Context(dt_json, chunks, fill, key, subpath, itemsize,
                                                                     nothing)

# The table. Constructors are looked up when the table is first built (after every codec file is loaded).
codec_table() = CodecSpec[
    # CodecSpec(name, kind, v2 id, v3 names, v2 config keys, v3 configuration keys, from_v2, from_v3)
    # A `numcodecs.<id>` v3 name is the numcodecs codec itself (zarr-python: its configuration is the
    # numcodecs config without "id"): v3_pipeline builds it with from_v2, checks the v2 keys, and passes
    # the context (dtype, item size, chunk shape) through with_dtype / with_typesize / with_chunk.
    CodecSpec("transpose", :array_array, nothing, ("transpose",), nothing, ("order",), nothing, transpose_from_v3),
    CodecSpec("delta", :array_array, "delta", ("numcodecs.delta",), nothing, (), delta_from_v2, nothing),
    CodecSpec("fixedscaleoffset", :array_array, "fixedscaleoffset", ("numcodecs.fixedscaleoffset",), nothing, (),
              fixedscaleoffset_from_v2, nothing),
    CodecSpec("quantize", :array_array, "quantize", ("numcodecs.quantize",), nothing, (), quantize_from_v2, nothing),
    CodecSpec("astype", :array_array, "astype", ("numcodecs.astype",), nothing, (), astype_from_v2, nothing),
    CodecSpec("packbits", :array_array, "packbits", ("numcodecs.packbits",), nothing, (), packbits_from_v2, nothing),
    CodecSpec("bitround", :array_array, "bitround", ("numcodecs.bitround",), nothing, (), bitround_from_v2, nothing),
    CodecSpec("categorize", :array_array, "categorize", (), nothing, (), categorize_from_v2, nothing),
    CodecSpec("cast_value", :array_array, nothing, ("cast_value",), nothing,
              ("data_type", "rounding", "out_of_range", "scalar_map"), nothing, cast_value_from_v3),
    CodecSpec("scale_offset", :array_array, nothing, ("scale_offset",), nothing, ("offset", "scale"), nothing,
              scale_offset_from_v3),
    CodecSpec("bytes", :array_bytes, nothing, ("bytes",), nothing, ("endian",), nothing, bytes_from_v3),
    CodecSpec("vlen-utf8", :array_bytes, "vlen-utf8", ("vlen-utf8",), nothing, (), vlen_from_v2, vlen_utf8_from_v3),
    CodecSpec("vlen-bytes", :array_bytes, "vlen-bytes", ("vlen-bytes",), nothing, (), vlen_from_v2, vlen_bytes_from_v3),
    CodecSpec("json2", :array_bytes, "json2", (), nothing, (), json2_from_v2, nothing),
    CodecSpec("sharding_indexed", :array_bytes, nothing, ("sharding_indexed",), nothing,
              ("chunk_shape", "codecs", "index_codecs", "index_location"), nothing, sharding_from_v3),
    # zfpy and pcodec are v2 compressors (bytes→bytes) but v3 serializers (array→bytes): two entries each
    CodecSpec("numcodecs.zfpy", :array_bytes, nothing, ("numcodecs.zfpy",), nothing,
              ZFPY_PARAMETERS, nothing, zfpy_from_v3),
    CodecSpec("numcodecs.pcodec", :array_bytes, nothing, ("numcodecs.pcodec",), nothing, PCODEC_PARAMETERS, nothing,
              pcodec_from_v3),
    CodecSpec("zlib", :bytes_bytes, "zlib", ("numcodecs.zlib",), ("level",), (), zlib_from_v2, nothing),
    CodecSpec("gzip", :bytes_bytes, "gzip", ("gzip", "numcodecs.gzip"), ("level",), ("level",), gzip_from_v2,
              gzip_from_v3),
    CodecSpec("bz2", :bytes_bytes, "bz2", ("numcodecs.bz2",), ("level",), (), bz2_from_v2, nothing),
    CodecSpec("zstd", :bytes_bytes, "zstd", ("zstd", "numcodecs.zstd"), ("level", "checksum"), ("level", "checksum"),
              zstd_from_v2, zstd_from_v3),
    CodecSpec("blosc", :bytes_bytes, "blosc", ("blosc", "numcodecs.blosc"),
              ("cname", "clevel", "shuffle", "blocksize", "typesize"),
              ("typesize", "cname", "clevel", "shuffle", "blocksize"), blosc_from_v2, blosc_from_v3),
    CodecSpec("lz4", :bytes_bytes, "lz4", ("numcodecs.lz4",), ("acceleration",), (), lz4_from_v2, nothing),
    CodecSpec("lzma", :bytes_bytes, "lzma", ("numcodecs.lzma",), ("format", "check", "preset", "filters"), (),
              lzma_from_v2, nothing),
    CodecSpec("shuffle", :bytes_bytes, "shuffle", ("numcodecs.shuffle",), ("elementsize",), (), shuffle_from_v2,
              nothing),
    CodecSpec("crc32c", :bytes_bytes, "crc32c", ("crc32c", "numcodecs.crc32c"), ("location",), (), crc32c_from_v2,
              crc32c_from_v3),
    CodecSpec("crc32", :bytes_bytes, "crc32", ("numcodecs.crc32",), ("location",), (), crc32_from_v2, nothing),
    CodecSpec("adler32", :bytes_bytes, "adler32", ("numcodecs.adler32",), ("location",), (), adler32_from_v2,
              nothing),
    CodecSpec("fletcher32", :bytes_bytes, "fletcher32", ("numcodecs.fletcher32",), (), (), fletcher32_from_v2,
              nothing),
    CodecSpec("jenkins_lookup3", :bytes_bytes, "jenkins_lookup3", ("numcodecs.jenkins_lookup3",),
              ("initval", "prefix"), (), jenkins_lookup3_from_v2, nothing),
    CodecSpec("zfpy", :bytes_bytes, "zfpy", (), ZFPY_PARAMETERS, (), zfpy_from_v2, nothing),
    CodecSpec("pcodec", :bytes_bytes, "pcodec", (), PCODEC_PARAMETERS, (), pcodec_from_v2, nothing),
]

"The registry, indexed: every entry, by v2 id and by v3 name (built once, on first use)."
struct CodecRegistry
    entries::Vector{CodecSpec}
    by_v2::Dict{String,CodecSpec}
    by_v3::Dict{String,CodecSpec}
end

const CODEC_REGISTRY = Ref{Union{Nothing,CodecRegistry}}(nothing)

function codec_registry()
    r = CODEC_REGISTRY[]
    r === nothing || return r
    entries = codec_table()
    by_v2, by_v3 = Dict{String,CodecSpec}(), Dict{String,CodecSpec}()
    for s in entries
        s.kind in (:array_array, :array_bytes, :bytes_bytes) || error("codec $(s.name): bad kind $(s.kind)")
        if s.v2_id !== nothing
            haskey(by_v2, s.v2_id) && error("codec v2 id $(s.v2_id) registered twice")
            by_v2[s.v2_id] = s
        end
        for n in s.v3_names
            haskey(by_v3, n) && error("codec v3 name $n registered twice")
            by_v3[n] = s
        end
    end
    r = CodecRegistry(entries, by_v2, by_v3)
    CODEC_REGISTRY[] = r
    return r
end

"The registry entry of numcodecs id `id` (nothing: unknown)."
codec_spec_v2(id::AbstractString) = get(codec_registry().by_v2, String(id), nothing)
"The registry entry of v3 codec name `name` (nothing: unknown)."
codec_spec_v3(name::AbstractString) = get(codec_registry().by_v3, String(name), nothing)
"The v2 ids of kind `kind`, in registry order (for messages)."
v2_ids_of_kind(kind::Symbol) = [s.v2_id for s in codec_registry().entries if s.kind == kind && s.v2_id !== nothing]
"The v3 codec names of kind `kind`, in registry order (for messages)."
v3_names_of_kind(kind::Symbol) = [n for s in codec_registry().entries if s.kind == kind for n in s.v3_names]

# ---------------------------------------------------------------------------------------------
# The interface of bytes→bytes codecs (public entry points; codecs define _encode/_decode[!])

"""
    encode(c::BytesCodec, data::Vector{UInt8}; key="") -> Vector{UInt8}

Encode `data` (not modified). Failures raise `CodecError(key, …)`.
"""
encode(c::BytesCodec, data::Vector{UInt8}; key::AbstractString="") = _encode(c, data, String(key))
encode(c::BytesCodec, data::AbstractVector{UInt8}; key::AbstractString="") =
    encode(c, convert(Vector{UInt8}, data); key=key)

"""
    decode(c::BytesCodec, data::Vector{UInt8}; key="", sizehint=0) -> Vector{UInt8}

Decode `data` (not modified). Corrupt or truncated data raises `CodecError(key, …)`; a crc32c
mismatch raises `ChunkError`. `sizehint`, the expected decoded size if known, only saves
reallocations for formats that do not record their decoded size (zlib, bz2, lzma).
"""
decode(c::BytesCodec, data::Vector{UInt8}; key::AbstractString="", sizehint::Integer=0) =
    _decode(c, data, String(key), Int(sizehint))
decode(c::BytesCodec, data::AbstractVector{UInt8}; key::AbstractString="", sizehint::Integer=0) =
    decode(c, convert(Vector{UInt8}, data); key=key, sizehint=sizehint)

# The in-place variants below let arrays.jl decode a chunk straight into the destination array
# and encode into one reused buffer: a fresh 1 MiB buffer per chunk costs page faults that are a
# large share of a fast codec's time.

"""
    decode!(c::BytesCodec, dest::Ptr{UInt8}, n, data::Vector{UInt8}; key="") -> Int

Decode `data` into the `n` bytes at `dest` (the caller keeps that memory alive) and return the
decoded size; when it is not `n`, what `dest` holds is unspecified and the caller reports the
mismatch. Corrupt data raises like `decode`. zstd, blosc and lz4 decode in place, other codecs
into a temporary that is copied.
"""
decode!(c::BytesCodec, dest::Ptr{UInt8}, n::Integer, data::Vector{UInt8}; key::AbstractString="") =
    _decode!(c, dest, Int(n), data, String(key))

_decode!(c::BytesCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String) =
    decode_and_copy!(c, dest, n, data, key)

function decode_and_copy!(c::BytesCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    x = _decode(c, data, key, n)
    length(x) == n && GC.@preserve x unsafe_copyto!(dest, pointer(x), n)
    return length(x)
end

"""
    encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n; key="") -> Vector{UInt8}

Encode the `n` bytes at `src`. zstd, blosc and lz4 write into `out`, resized to the encoded
length (its memory is reused from call to call), and return it; other codecs return a new vector.
"""
encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n::Integer; key::AbstractString="") =
    _encode!(out, c, src, Int(n), String(key))

_encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n::Int, key::String) =
    _encode(c, unsafe_wrap(Array, src, n), key)

# The vector-in, vector-out form of a codec that only defines the in-place `_encode!`.
_encode_via_buffer(c::BytesCodec, data::Vector{UInt8}, key::String) =
    GC.@preserve data _encode!(UInt8[], c, pointer(data), length(data), key)

"`c` for chunks of `dtype` and Zarr (C-order memory) shape `shape`: zfpy needs them to encode."
with_chunk(c::BytesCodec, dtype::ZDtype, shape::AbstractVector{<:Integer}) = c

"""
    with_typesize(c::BytesCodec, typesize) -> BytesCodec

`c` with the blosc type size set (numcodecs uses the array's item size); other codecs unchanged.
"""
with_typesize(c::BytesCodec, typesize::Integer) = c

"""
    v3_codec_json(codec) -> Dict

A bytes→bytes codec as a v3 codec object, with every parameter (zarr-python 3.1's spelling); a
numcodecs codec without a v3 name of its own is `numcodecs.<id>` with its numcodecs config (what
zarr-python 3.4 writes for it).
"""
function v3_codec_json(c::BytesCodec)
    cfg = codec_config(c)
    id = cfg["id"]
    spec = codec_spec_v3("numcodecs." * id)
    spec === nothing && throw(CodecError("codecs", "$id is not a Zarr v3 codec " *
                                                   "($(join(v3_names_of_kind(:bytes_bytes), ", ")) are)"))
    return Dict{String,Any}("name" => "numcodecs." * id,
                            "configuration" => Dict{String,Any}(k => v for (k, v) in cfg if k != "id"))
end

"""
    numcodecs_from_v3(spec, name, cfg, ckey, ctx) -> codec

A `numcodecs.<id>` v3 codec: its configuration is the numcodecs config without "id" (zarr-python 3.4
hands it to numcodecs as is); missing settings numcodecs would take from the array (the dtype of
fixedscaleoffset / quantize / astype, shuffle's element size, blosc's type size) come from `ctx`.
"""
function numcodecs_from_v3(spec::CodecSpec, name::String, cfg::AbstractDict, ckey::String, ctx::V3Context)
    id = String(spec.v2_id)
    c = Dict{String,Any}("id" => id)
    for (k, v) in cfg
        k == "id" && v != id && throw(CodecError(ckey, "codec \"$name\": \"id\" $(repr(v)) does not match the name"))
        c[String(k)] = v
    end
    if spec.kind == :bytes_bytes
        id == "shuffle" && get(c, "elementsize", nothing) === nothing && (c["elementsize"] = max(ctx.itemsize, 1))
        codec = bytescodec_from_config(c; key=ckey)
        haskey(c, "typesize") || (codec = with_typesize(codec, ctx.itemsize))
        return codec
    end
    dt = ctx.dtype
    if dt !== nothing && dt.kind != 'O'
        names = id == "astype" ? ("decode_dtype",) : id in ("fixedscaleoffset", "quantize", "delta") ? ("dtype",) : ()
        for k in names
            get(c, k, nothing) === nothing && (c[k] = with_endian(dt, '<').typestr)
        end
    end
    f = spec.from_v2(c, ckey)
    return dt === nothing ? f : with_dtype(f, with_endian(dt, '<'))
end

# ---------------------------------------------------------------------------------------------
# The interface of array→array filters (v2)

"`f` for input values of dtype `dt` (bitround needs it; other filters take theirs from the config)."
with_dtype(f::ArrayFilter, dt::ZDtype) = f

"The dtype a filter's output has, given its input's (the v3 data type downstream of it)."
encoded_dtype(f::ArrayFilter, dt::ZDtype) = dt

"The Zarr shape of a filter's output array, given its input's (numcodecs keeps it, packbits is 1-d)."
encoded_shape(f::ArrayFilter, shape::Vector{Int}) = shape

"""
The fill value downstream of `f` (zarr-python casts it to the encoded type; cast_value and
scale_offset encode it).
"""
function encoded_fill(f::ArrayFilter, dt::ZDtype, fill)
    T = encoded_dtype(f, dt).T
    fill isa Number && T <: Number || return fill
    try
        return _cast(T, fill)
    catch
        return zero(T)
    end
end

"False for filters whose result depends on the element order (delta, packbits): they cannot move across a transpose."
elementwise(f::ArrayFilter) = true

# Which Julia element type an object codec produces (nothing: not an object codec).
object_eltype(::ArrayFilter) = nothing

"Item size of what filter `f` encodes to, given its input's (numcodecs' output array types)."
encoded_itemsize(f::ArrayFilter, input::Int) = 1      # bytes: packbits, object codecs, bytes codecs

# ---------------------------------------------------------------------------------------------
# Helpers for constructors and filters

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
    (x isa Real && !(x isa Bool)) ||
        throw(CodecError(key, "$(cfg["id"]): \"$name\" must be a number, got $(_jtype(x))"))
    return x
end


_values(dt::ZDtype, b, key) = bytes_to_values(dt, b isa Vector{UInt8} ? b : Vector{UInt8}(b); key=key)
_numeric(dt::ZDtype, key, what) = dt.kind in ('b', 'i', 'u', 'f', 'c') ||
    throw(CodecError(key, "$what: dtype $(dt.typestr) is not numeric"))
_encode_input(dt::ZDtype, x) = x isa Vector{UInt8} ? x : values_to_bytes(dt, x)

const INT32_RANGE = Int(typemin(Int32)):Int(typemax(Int32))

function config_int(cfg::AbstractDict, id::String, name::String, default, range, key::String)
    v = get(cfg, name, default)
    ok = v isa Integer && !(v isa Bool) || v isa AbstractFloat && isfinite(v) && isinteger(v)
    ok || throw(CodecError(key, "codec \"$id\": \"$name\" must be an integer, got $(repr(v))"))
    v in range || throw(CodecError(key, "codec \"$id\": \"$name\" is $v, expected $(first(range)) to $(last(range))"))
    return Int(v)
end

function config_bool(cfg::AbstractDict, id::String, name::String, default::Bool, key::String)
    v = get(cfg, name, default)
    v isa Bool && return v
    v isa Integer && v in (0, 1) && return v == 1
    throw(CodecError(key, "codec \"$id\": \"$name\" must be true or false, got $(repr(v))"))
end
