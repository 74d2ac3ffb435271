# numcodecs "blosc" (v2 id blosc; v3 blosc), blosc 1.x *_ctx functions.

"""
numcodecs "blosc". `shuffle`: 0 none, 1 byte, 2 bit, -1 auto (bit if `typesize == 1`, else byte).
`blocksize` 0 is automatic. `typesize` is not part of numcodecs' config (numcodecs takes the item
size of the array it is given): set it from the dtype, see `with_typesize`.
"""
struct BloscCodec <: BytesCodec
    cname::String
    clevel::Int
    shuffle::Int
    blocksize::Int
    typesize::Int
end
# ---------------------------------------------------------------------------------------------
# blosc (1.x, thread-safe *_ctx functions only: no global state)

const BLOSC_MAX_OVERHEAD = 16
const BLOSC_MAX_BUFFERSIZE = typemax(Cint) - BLOSC_MAX_OVERHEAD
const BLOSC_CNAMES = ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd")

function _encode!(out::Vector{UInt8}, c::BloscCodec, src::Ptr{UInt8}, n::Int, key::String)
    compcode = libfunc(LIBBLOSC, :blosc_compname_to_compcode, key)
    compress = libfunc(LIBBLOSC, :blosc_compress_ctx, key)
    c.cname in BLOSC_CNAMES || throw(CodecError(key, "blosc: unknown compressor $(repr(c.cname))"))
    ccall(compcode, Cint, (Cstring,), c.cname) < 0 &&
        throw(CodecError(key, "blosc: compressor $(repr(c.cname)) is not available in $(libpath(LIBBLOSC))"))
    n > BLOSC_MAX_BUFFERSIZE && throw(CodecError(key, "blosc: cannot compress $n bytes (limit $BLOSC_MAX_BUFFERSIZE)"))
    typesize = max(c.typesize, 1)
    shuffle = c.shuffle == -1 ? (typesize == 1 ? 2 : 1) : c.shuffle   # numcodecs' AUTOSHUFFLE
    resize!(out, n + BLOSC_MAX_OVERHEAD)
    r = ccall(compress, Cint, (Cint, Cint, Csize_t, Csize_t, Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cstring, Csize_t, Cint),
              c.clevel, shuffle, typesize, n, src, out, length(out), c.cname, c.blocksize, 1)
    r > 0 || throw(CodecError(key, "blosc: compression failed (error $r)"))
    return resize!(out, r)
end

# The decoded size from a blosc header, after checking what blosc itself would trust.
function blosc_decoded_size(data::Vector{UInt8}, key::String)
    validate = libfunc(LIBBLOSC, :blosc_cbuffer_validate, key)
    len = length(data)
    len < BLOSC_MAX_OVERHEAD && throw(CodecError(key, "blosc: $len bytes is too short for a blosc header"))
    # Header: version, versionlz, flags, typesize, then nbytes, blocksize, cbytes (uint32 LE).
    # blosc 1.x decompression trusts cbytes: it must be the input's length.
    nbytes, cbytes = le_uint32(data, 5), le_uint32(data, 13)
    cbytes == len || throw(ChunkError(key, "blosc: header says $cbytes compressed bytes, the chunk has $len"))
    ccall(validate, Cint, (Ptr{UInt8}, Csize_t, Ref{Csize_t}), data, len, Ref{Csize_t}(0)) == 0 ||
        throw(CodecError(key, "blosc: invalid header (decoded size $nbytes)"))
    return check_decoded_size(nbytes, decode_limit(), key, "blosc")
end

function blosc_decompress!(dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    blosc_frames_decode!(dest, n, data, key) && return n   # blosc_frames.jl: the common frames, here
    decompress = libfunc(LIBBLOSC, :blosc_decompress_ctx, key)
    r = ccall(decompress, Cint, (Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cint), data, dest, n, 1)
    r == n || throw(CodecError(key, "blosc: corrupt data (decompression returned $r, expected $n bytes)"))
    return n
end

function _decode(c::BloscCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    n = blosc_decoded_size(data, key)
    out = Vector{UInt8}(undef, n)
    n == 0 || GC.@preserve out blosc_decompress!(pointer(out), n, data, key)
    return out
end

function _decode!(c::BloscCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    m = blosc_decoded_size(data, key)
    m == n && n > 0 && blosc_decompress!(dest, n, data, key)
    return m
end

_encode(c::BloscCodec, data::Vector{UInt8}, key::String) = _encode_via_buffer(c, data, key)

with_typesize(c::BloscCodec, typesize::Integer) =
    BloscCodec(c.cname, c.clevel, c.shuffle, c.blocksize, Int(typesize))

const BLOSC_SHUFFLE_NAMES = Dict("noshuffle" => 0, "shuffle" => 1, "bitshuffle" => 2)

# numcodecs writes the shuffle as an integer, zarr v3 by name.
function blosc_shuffle(cfg::AbstractDict, key::String)
    v = get(cfg, "shuffle", 1)
    v isa AbstractString && haskey(BLOSC_SHUFFLE_NAMES, v) && return BLOSC_SHUFFLE_NAMES[v]
    return config_int(cfg, "blosc", "shuffle", 1, -1:2, key)
end

function blosc_from_v2(cfg::AbstractDict, key::String)
    id = "blosc"
    cname = get(cfg, "cname", "lz4")
    cname in BLOSC_CNAMES || throw(CodecError(key, "codec \"blosc\": unknown \"cname\" $(repr(cname))"))
    return BloscCodec(String(cname),
                      config_int(cfg, id, "clevel", 5, 0:9, key),
                      blosc_shuffle(cfg, key),
                      config_int(cfg, id, "blocksize", 0, 0:BLOSC_MAX_BUFFERSIZE, key),
                      config_int(cfg, id, "typesize", 1, 1:typemax(Int32), key))
end

function blosc_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context)
    c = Dict{String,Any}(cfg)
    c["id"] = "blosc"
    haskey(c, "typesize") || (c["typesize"] = ctx.itemsize)
    # v3 spells the shuffle as a word (numcodecs' integers are v2's); none given: numcodecs'
    # automatic choice, as zarr-python's default (decoding does not depend on it)
    sh = get(c, "shuffle", "shuffle")
    haskey(c, "shuffle") || (c["shuffle"] = -1)
    (sh isa AbstractString && haskey(BLOSC_SHUFFLE_NAMES, sh)) ||
        throw(CodecError(ckey, "blosc: \"shuffle\" must be \"noshuffle\", \"shuffle\" or \"bitshuffle\", " *
                               "got $(json_string(sh; indent=nothing))"))
    return blosc_from_v2(c, ckey)
end

codec_config(c::BloscCodec) = Dict{String,Any}("id" => "blosc", "cname" => c.cname, "clevel" => c.clevel,
                                               "shuffle" => c.shuffle, "blocksize" => c.blocksize)

function v3_codec_json(c::BloscCodec)
    shuffle = c.shuffle == -1 ? (c.typesize == 1 ? 2 : 1) : c.shuffle
    names = Dict(0 => "noshuffle", 1 => "shuffle", 2 => "bitshuffle")
    return _named("blosc", Dict{String,Any}("typesize" => c.typesize, "cname" => c.cname, "clevel" => c.clevel,
                                            "shuffle" => names[shuffle], "blocksize" => c.blocksize))
end
