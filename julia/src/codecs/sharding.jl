# v3 "sharding_indexed": an array→bytes codec holding an inner pipeline per inner chunk.

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
        throw(CodecError(cskey, "sharding_indexed: must be a list of positive integers, got " *
            "$(json_string(cs; indent=nothing))"))
    cs = Int[Int(x) for x in cs]
    length(cs) == length(shard) ||
        throw(CodecError(cskey, "sharding_indexed: the inner chunk shape $(cs) has $(length(cs)) dimensions, the " *
            "shard $(shard) has $(length(shard))"))
    all(i -> shard[i] % cs[i] == 0, 1:length(cs)) ||
        throw(CodecError(cskey, "sharding_indexed: the inner chunk shape $(cs) does not divide the shard shape " *
            "$(shard)"))
    haskey(cfg, "codecs") ||
        throw(CodecError(string(key, ":", subpath, ".codecs"), "sharding_indexed: missing \"codecs\""))
    inner = v3_pipeline(cfg["codecs"], dt_json, cs, fill; key=key, path=subpath * ".codecs")
    loc = get(cfg, "index_location", "end")
    loc in ("start", "end") || throw(CodecError(string(key, ":", subpath, ".index_location"),
                                                "sharding_indexed: must be \"start\" or \"end\", got " *
                                                    "$(json_string(loc; indent=nothing))"))
    ic = get(cfg, "index_codecs", Any[_named("bytes", Dict{String,Any}("endian" => "little")),
        Dict{String,Any}("name" => "crc32c")])
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
        throw(ChunkError(key, "shard index has $(length(b)) bytes, expected $want ($(reduce(*, s.grid; init=1)) " *
            "inner chunks)"))
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
    (of || hi > typemax(Int)) &&
        throw(ChunkError(key, "shard index entry $(l - 1): offset $off + nbytes $nb overflows"))
    r = Int(off):(Int(hi) - 1)
    (datarange === nothing || isempty(r) || (first(r) >= first(datarange) && last(r) <= last(datarange))) ||
        throw(ChunkError(key, "shard index entry $(l - 1): bytes $(first(r))…$(last(r)) are outside the shard's data " *
            "($(first(datarange))…$(last(datarange)))"))
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
    for (l, ci) in enumerate(CartesianIndices(julia_size(s.grid, 'C')))   # column-major = C order of the grid
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
    q = s.inner
    jin = q.jchunk
    ngrid = reduce(*, s.grid; init=1)
    idx = fill(SHARD_EMPTY, 2 * ngrid)
    isz = shard_index_nbytes(s)
    # the shard is built in one vector: the index's place first (index at the start), then each
    # inner chunk encoded straight after the last
    out = Vector{UInt8}(undef, s.index_at_end ? 0 : isz)
    pos = length(out)
    plain = q.plain && A isa Array{T} && isbitstype(T)
    codec = plain ? plain_codec(q) : nothing
    enc = UInt8[]
    buf = Array{T}(undef, jin)
    n = plain ? prod(jin) * sizeof(T) : 0
    for (l, ci) in enumerate(CartesianIndices(julia_size(s.grid, 'C')))   # inner chunks in C order of the grid
        rng = map((c, k) -> ((c - 1) * k + 1):(c * k), Tuple(ci), jin)
        # an inner chunk that is one run of A's memory is read there; others are copied out first
        start = plain ? _contiguous_start(A, rng) : 0
        if start > 0
            GC.@preserve A begin
                v = unsafe_wrap(Array, pointer(A, start), jin)
                all(x -> _isfill(x, p.fill), v) && continue           # all-fill inner chunks are not stored
                e = codec === nothing ? v : encode!(enc, codec, Ptr{UInt8}(pointer(v)), n)
                m = length(e) * sizeof(eltype(e))
                resize!(out, pos + m)
                GC.@preserve e out unsafe_copyto!(pointer(out, pos + 1), Ptr{UInt8}(pointer(e)), m)
            end
        else
            _copy_block!(buf, map(k -> 1:k, jin), A, rng)
            all(x -> _isfill(x, p.fill), buf) && continue
            e = encode_chunk(q, buf)
            m = length(e)
            append!(out, e)
        end
        idx[2l - 1], idx[2l] = UInt64(pos), UInt64(m)
        pos += m
    end
    index = encode_shard_index(s, idx)
    s.index_at_end ? append!(out, index) : copyto!(out, 1, index, 1, isz)
    return out
end

function sharding_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context)
    s = _v3_sharding(cfg, ckey, ctx.dt_json, ctx.chunks, ctx.fill, ctx.key, ctx.subpath)
    return s.inner.dtype, s
end
