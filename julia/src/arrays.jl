# Zarr arrays (v2 and v3): open/create, read and write any region chunk by chunk.  Julia indices
# follow layout.jl (v2 order C and every v3 array → reversed axes).  No whole-array transposes:
# every copy is per chunk.

const DEFAULT_COMPRESSOR = Dict{String,Any}("id" => "zstd", "level" => 0)

"""
    IndexCache()

The shard indexes a `ZArray` keeps for partial reads.  An index is used only while its local
file's signature (device, inode, size, mtime, ctime), taken from the reader's one `stat`, still
matches: polyzarr's own rewrites rename a new file over the old one, so they always miss.  A
write through the array drops the entry.  Stores whose readers have no signature (memory, zip,
S3, HTTP) cache nothing.  Read and written from several threads, under the lock.
"""
struct IndexCache
    entries::Dict{String,Tuple{Tuple,Vector{UInt64}}}
    lock::ReentrantLock
end
IndexCache() = IndexCache(Dict{String,Tuple{Tuple,Vector{UInt64}}}(), ReentrantLock())

const INDEX_CACHE_ENTRIES = 4096   # each 16 bytes an inner chunk; past this many the cache starts again

function cached_index(c::IndexCache, key::AbstractString, sig)
    sig === nothing && return nothing
    hit = lock(() -> get(c.entries, key, nothing), c.lock)
    return hit !== nothing && hit[1] == sig ? hit[2] : nothing
end

function keep_index!(c::IndexCache, key::AbstractString, sig, idx::Vector{UInt64})
    sig === nothing && return nothing
    lock(c.lock) do
        length(c.entries) >= INDEX_CACHE_ENTRIES && empty!(c.entries)
        c.entries[String(key)] = (sig, idx)
    end
    return nothing
end

forget_index!(c::IndexCache, key::AbstractString) = lock(() -> (delete!(c.entries, key); nothing), c.lock)

"""
    ZArray{T,N} <: AbstractArray{T,N}

A Zarr array (v2 or v3) in `store` at `path`.  `size(a)` is the Julia size (`reverse(shape)`
for v2 order C and for v3; `shape` for v2 order F); `a[...]` reads, `a[...] = x` writes;
`read_array(a)` reads everything.
"""
struct ZArray{T,N} <: AbstractArray{T,N}
    store::AbstractStore
    path::String
    meta::Union{ArrayMetadata,ArrayMetadataV3}
    pipeline::Pipeline
    jsize::NTuple{N,Int}
    jchunks::NTuple{N,Int}
    attrs::Dict{String,Any}
    fillvalue::Any           # what missing chunks read as
    write_empty_chunks::Bool
    chunkkeys::Base.RefValue{ChunkKeys}   # settled by the first chunk found when the separator is implied
    keys_unsure::Base.RefValue{Bool}
    grid::Union{Nothing,RectGrid}         # a rectilinear chunk grid (nothing: regular, `jchunks`)
    pipes::Dict{Any,Pipeline}             # rectilinear: the pipeline of each stored chunk size (Julia order)
    index_cache::IndexCache               # shard indexes of partial reads (local files only)
end

Base.size(a::ZArray) = a.jsize
Base.IndexStyle(::Type{<:ZArray}) = IndexCartesian()
Base.show(io::IO, a::ZArray) = print(io, "ZArray{", eltype(a), "}(", repr(a.path), ", v", zarr_format(a.meta),
                                     ", shape=", a.meta.shape, zarr_format(a.meta) == 2 ? ", " *
                                         "order=$(a.meta.order)" : "",
                                     ", chunks=", a.meta.chunks, ")")
Base.show(io::IO, ::MIME"text/plain", a::ZArray) = show(io, a)
Base.Array(a::ZArray) = read_array(a)
Base.collect(a::ZArray) = read_array(a)

"Zarr (numpy) shape of the array."
zshape(a::ZArray) = copy(a.meta.shape)
"The Julia layout's Zarr order: 'C' (reversed axes: v2 order C, every v3 array) or 'F' (v2 order F)."
zorder(a::ZArray) = meta_order(a.meta)
"2 or 3."
zarr_format(a::ZArray) = zarr_format(a.meta)
attributes(a::ZArray) = a.attrs
"""
    dimnames(a) -> Vector or nothing

The axis names as seen on the Julia array: v3 `dimension_names` (reversed, `nothing` for unnamed
axes), or xarray's `_ARRAY_DIMENSIONS` attribute (reversed for order C), or nothing.
"""
function dimnames(a::ZArray)
    if a.meta isa ArrayMetadataV3 && a.meta.dimension_names !== nothing
        names = a.meta.dimension_names
        all(x -> x isa AbstractString, names) && return julia_dimnames(String.(names), 'C')
        return julia_dimnames(Union{Nothing,String}[x === nothing ? nothing : String(x) for x in names], 'C')
    end
    d = get(a.attrs, "_ARRAY_DIMENSIONS", nothing)
    d isa AbstractVector || return nothing
    return julia_dimnames(String.(d), zorder(a))
end

function ZArray(store::AbstractStore, path::AbstractString, meta::Union{ArrayMetadata,ArrayMetadataV3},
                attrs::Dict{String,Any}; write_empty_chunks::Bool=false)
    p = make_pipeline(meta; key=joinkey(path, metadata_key(meta)))
    T = p.dtype.T
    N = length(meta.shape)
    order = meta_order(meta)
    ck = meta isa ArrayMetadataV3 ? chunk_keys_v3(meta.chunk_key_encoding, meta.separator) :
                                    ChunkKeys(meta.order, meta.dimension_separator)
    grid = meta isa ArrayMetadataV3 && meta.edges !== nothing ? rect_grid(meta.edges) : nothing
    pipes = Dict{Any,Pipeline}()
    if grid !== nothing     # every chunk size's pipeline, built once (chunks are read on several threads)
        mkey = joinkey(path, metadata_key(meta))
        for jc in grid_chunk_sizes(grid)
            pipes[jc] = v3_pipeline(meta.codecs, meta.data_type, grid_zarr_chunk(jc), chunk_fillvalue(meta.dtype,
                meta.fill); key=mkey)
        end
    end
    return ZArray{T,N}(store, String(path), meta, p, julia_size(meta.shape, order), julia_size(meta.chunks, order),
                       attrs, p.fill, write_empty_chunks, Ref(ck), Ref(_keys_unsure(meta)), grid, pipes,
                       IndexCache())
end

"""
    open_array(store, path=""; consolidated=nothing) -> ZArray

Open the array at `path`.  `consolidated` is the `metadata` mapping of a `.zmetadata` (keys
relative to the same store root); when given, metadata comes from it instead of the store.
"""
function open_array(store::AbstractStore, path::AbstractString=""; consolidated=nothing,
                    write_empty_chunks::Bool=false)
    path = String(strip(path, '/'))
    isempty(path) || checkkey(path)
    key = joinkey(path, ".zarray")
    akey = joinkey(path, ".zattrs")
    jkey = joinkey(path, "zarr.json")
    # a node with both a zarr.json and a .zarray is the v3 one (as zarr-python reads it)
    if consolidated !== nothing && haskey(consolidated, jkey)
        meta = parse_array_v3(consolidated[jkey]; key=jkey)
        attrs = meta.attributes
    elseif consolidated !== nothing && haskey(consolidated, key)
        meta = parse_zarray(consolidated[key]; key=key)
        attrs = haskey(consolidated, akey) ? parse_zattrs(consolidated[akey]; key=akey) : Dict{String,Any}()
    else
        check_complete(store, path)
        jb = readkey(store, jkey)
        if jb !== nothing
            meta = parse_array_v3(jb; key=jkey)
            return ZArray(store, path, meta, meta.attributes; write_empty_chunks=write_empty_chunks)
        end
        b = readkey(store, key)
        b === nothing && throw(MetadataError(key, "no array here (missing both .zarray and zarr.json)"))
        meta = parse_zarray(b; key=key)
        ab = readkey(store, akey)
        attrs = ab === nothing ? Dict{String,Any}() : parse_zattrs(ab; key=akey)
    end
    return ZArray(store, path, meta, attrs; write_empty_chunks=write_empty_chunks)
end

"Open the array at a URL (see `open_store`)."
function open_array(url::AbstractString; endpoint_url=nothing)
    store, path = open_store(url; endpoint_url=endpoint_url)
    # a .zmetadata at the store root (if any) answers for the whole tree
    return open_array(store, path; consolidated=read_consolidated(store, ""))
end

# ---------------------------------------------------------------------------------------------
# reading

_check_region_bytes(a::ZArray, n::Integer) = begin
    nb, of = Base.Checked.mul_with_overflow(Int(n), a.pipeline.dtype.itemsize)
    (of || nb > max_bytes()) && throw(MetadataError(joinkey(a.path, metadata_key(a.meta)),
        "reading $(n) elements × $(a.pipeline.dtype.itemsize) bytes exceeds the limit of $(max_bytes()) bytes " *
            "(POLYZARR_MAX_BYTES)"))
end

"The chunks (1-based Julia chunk indices) that intersect the Julia index ranges `rs`."
_chunks_touching(a::ZArray, rs) = a.grid !== nothing ? grid_chunks_touching(a.grid, rs) :
    CartesianIndices(map((r, c) -> ((first(r) - 1) ÷ c + 1):((last(r) - 1) ÷ c + 1), rs, a.jchunks))

"Julia index ranges of chunk `cidx` (clipped at the array edge)."
_chunk_ranges(a::ZArray, cidx) = a.grid !== nothing ? grid_chunk_ranges(a.grid, cidx, a.jsize) :
    chunk_ranges(Tuple(cidx), a.jsize, a.jchunks)

"The stored Julia size of chunk `cidx`, and its pipeline."
_chunk_pipe(a::ZArray, cidx) = a.grid === nothing ? (a.jchunks, a.pipeline) :
    (jc = grid_chunk_size(a.grid, cidx); (jc, a.pipes[jc]))

_chunkkey(a::ZArray, cidx) = joinkey(a.path, chunk_key(Tuple(cidx), a.chunkkeys[]))

# A v2 document without dimension_separator says ".", but zarr < 2.8's NestedDirectoryStore (OME-Zarr
# 0.1/0.2, for one) wrote "/" keys under such documents, and readers that trust "." see only fill.
_keys_unsure(m::ArrayMetadata) = m.separator_implied && m.dimension_separator == "." && length(m.shape) > 1
_keys_unsure(m) = false

# The first chunk found settles it: a "." key that exists, or else the "/" key of a missing one (an
# array holds no other nodes, so a nested key under it can only be a chunk).
# Chunks may be read on several threads: `unsure` is read before the keys (a thread that settles
# stores the keys first), so a reader that missed a "." key while another settled on "/" still
# tries the nested key itself.
function _read_chunk_settling!(dest, didx, a::ZArray, cidx, sidx, bufs)
    unsure = a.keys_unsure[]
    keys = a.chunkkeys[]
    jc, p = _chunk_pipe(a, cidx)
    found = _read_chunk!(dest, didx, a, joinkey(a.path, chunk_key(Tuple(cidx), keys)), sidx, bufs, p, jc)
    unsure || return found
    if !found
        keys.sep == "/" && return false
        nested = ChunkKeys(a.meta.order, "/")
        found = _read_chunk!(dest, didx, a, joinkey(a.path, chunk_key(Tuple(cidx), nested)), sidx, bufs)
        found || return false
        a.chunkkeys[] = nested
    end
    a.keys_unsure[] = false
    return found
end

# Scratch memory one task reuses from chunk to chunk: a fresh 1 MiB buffer per chunk costs page
# faults that are a large share of a fast codec's time.
mutable struct ChunkBuffers
    stored::Vector{UInt8}     # a chunk's (or a whole shard's) bytes as read from the store
    decoded::Vector{UInt8}    # a decoded chunk that cannot go straight to its destination
    encoded::Vector{UInt8}    # a chunk's encoded bytes on their way to the store
    chunk::Any                # a write's chunk-sized Array{T,N} (made on first use)
    inner_tasks::Int          # a shard's inner chunks are decoded on this many tasks (read_region!)
end
ChunkBuffers() = ChunkBuffers(UInt8[], UInt8[], UInt8[], nothing, 1)

# The task's chunk-sized array for writes (contents unspecified).
function _task_chunk!(bufs::ChunkBuffers, ::Type{T}, dims::NTuple{N,Int}) where {T,N}
    c = bufs.chunk
    c isa Array{T,N} && size(c) == dims && return c
    c = Array{T,N}(undef, dims)
    bufs.chunk = c
    return c
end

# A plain chunk's decoded bytes are the Julia chunk's memory (native bits type, no transpose, no
# filters, at most a compressor): it can be decoded straight into, and encoded straight from, an
# array's memory.
_isplain(a::ZArray) = a.pipeline.plain

# The linear index in `A` where block `idx` starts when the block is one contiguous run of
# memory (its axes span all of `A` up to one partial axis, then have length 1), else 0.  A chunk
# of the block's size has the same column-major layout as that run.
function _contiguous_start(A::Array{T,N}, idx::NTuple{N,AbstractUnitRange{Int}}) where {T,N}
    partial = false
    for d in 1:N
        if partial
            length(idx[d]) == 1 || return 0
        elseif length(idx[d]) != size(A, d)
            partial = true
        end
    end
    return LinearIndices(A)[map(first, idx)...]
end

# Decode a plain chunk's stored bytes `b` (pipeline `p`) into the `n` bytes at `ptr`.
function _decode_plain!(ptr::Ptr{UInt8}, n::Int, p::Pipeline, b::Vector{UInt8}, key::AbstractString)
    codec = plain_codec(p)
    if codec === nothing
        got = length(b)
        got == n && GC.@preserve b unsafe_copyto!(ptr, pointer(b), n)
    else
        got = with_decode_bound(() -> decode!(codec, ptr, n, b; key=key), n)
    end
    got == n ||
        throw(ChunkError(key, "decoded to $got bytes, expected $n (chunk $(p.chunks) × $(p.dtype.itemsize) bytes)"))
    return nothing
end

# Copy block `sidx` of `src` into block `didx` of `dest`: column by column with memcpy when both
# are plain arrays of bits types (the first axis is contiguous), else the generic view copy.
function _copy_block!(dest::AbstractArray, didx, src::AbstractArray, sidx)
    copyto!(view(dest, didx...), view(src, sidx...))
    return dest
end
function _copy_block!(dest::Array{T,N}, didx, src::Array{T,N}, sidx) where {T,N}
    (isbitstype(T) && N >= 1) || return copyto!(view(dest, didx...), view(src, sidx...))
    len = length(didx[1])
    len == 0 && return dest
    dl, sl = LinearIndices(dest), LinearIndices(src)
    for I in CartesianIndices(Base.tail(map(length, didx)))
        dpos = dl[first(didx[1]), ntuple(k -> didx[k + 1][I[k]], N - 1)...]
        spos = sl[first(sidx[1]), ntuple(k -> sidx[k + 1][I[k]], N - 1)...]
        unsafe_copyto!(dest, dpos, src, spos, len)
    end
    return dest
end

"""
    _read_chunk!(dest, didx, a, key, sidx, bufs) -> Bool

Copy block `sidx` of the chunk stored at `key` into block `didx` of `dest`; false when the chunk
is missing.  A whole plain chunk whose block is contiguous in `dest` is decoded in place;
otherwise it is decoded into `bufs.decoded` and copied.
"""
function _read_chunk!(dest::AbstractArray, didx, a::ZArray{T}, key::AbstractString, sidx,
                      bufs::ChunkBuffers, p::Pipeline=a.pipeline, jc=a.jchunks) where {T}
    # a shard: only the inner chunks the block needs (the index, then their byte ranges)
    p.serializer isa ShardingCodec && p.perm === nothing &&
        return _read_shard!(dest, didx, a.store, key, p, sidx, bufs, a.index_cache)
    b = readkey!(a.store, key, bufs.stored)
    b === nothing && return false
    if !_isplain(a) || a.grid !== nothing
        v = decode_chunk(p, b; key=key)
        _copy_block!(dest, didx, reshape(v, jc), sidx)
        return true
    end
    _decode_block!(dest, didx, p, a.jchunks, b, sidx, key, bufs, T)
    return true
end

"""
    _decode_block!(dest, didx, p, jc, b, sidx, key, bufs, T)

Decode the plain chunk bytes `b` (pipeline `p`, Julia chunk size `jc`, element type `T`) and put
block `sidx` of the chunk into block `didx` of `dest`: straight into `dest`'s memory when the
whole chunk is one contiguous run there, else through `bufs.decoded` and a copy.
"""
function _decode_block!(dest::AbstractArray, didx, p::Pipeline, jc, b::Vector{UInt8}, sidx, key::AbstractString,
                        bufs::ChunkBuffers, ::Type{T}) where {T}
    n = chunk_length(p) * sizeof(T)
    start = dest isa Array{T} && map(length, sidx) == jc ? _contiguous_start(dest, didx) : 0
    if start > 0
        GC.@preserve dest _decode_plain!(Ptr{UInt8}(pointer(dest, start)), n, p, b, key)
    else
        buf = resize!(bufs.decoded, n)
        GC.@preserve buf begin
            _decode_plain!(pointer(buf), n, p, b, key)
            _copy_block!(dest, didx, unsafe_wrap(Array, Ptr{T}(pointer(buf)), jc), sidx)
        end
    end
    return nothing
end

"""
    _read_shard!(dest, didx, store, key, p, sidx, bufs) -> Bool

Copy block `sidx` of the shard at `key` into block `didx` of `dest`, touching only the inner
chunks the block needs: when it needs all of them, the whole shard in one read (into
`bufs.stored`); otherwise the shard's index (a prefix or suffix byte range) and then the byte
range of each needed non-empty inner chunk (S3 and HTTP: Range requests, up to
`io_concurrency(store)` of them in flight).  Plain inner chunks are decoded
straight into `dest` where their block is contiguous there, else through a reused buffer; with
`bufs.inner_tasks > 1` (a read touching fewer shards than threads) on that many tasks.  False
when the shard is missing.
"""
function _read_shard!(dest::AbstractArray, didx, store::AbstractStore, key::AbstractString, p::Pipeline, sidx,
                      bufs::ChunkBuffers=ChunkBuffers(), cache::Union{Nothing,IndexCache}=nothing)
    s = p.serializer::ShardingCodec
    jin = s.inner.jchunk
    jgrid = julia_size(s.grid, 'C')
    touched = CartesianIndices(map((r, c) -> ((first(r) - 1) ÷ c + 1):((last(r) - 1) ÷ c + 1), Tuple(sidx), jin))
    whole = length(touched) == prod(jgrid)
    reader = whole ? nothing : open_reader(store, key)      # a local file: opened once for all the ranges
    whole || reader !== nothing || return false
    try
        return _read_inner_chunks!(dest, didx, store, reader, key, p, sidx, bufs, cache, touched, whole)
    finally
        reader === nothing || close(reader)
    end
end

function _read_inner_chunks!(dest, didx, store, reader, key, p, sidx, bufs, cache, touched, whole)
    s = p.serializer::ShardingCodec
    jin = s.inner.jchunk
    found, b, idx, datarange = _shard_index(store, reader, key, s, whole, bufs, cache)
    found || return false
    lin = LinearIndices(julia_size(s.grid, 'C'))   # column-major over the reversed grid = C order of the grid
    items = vec(collect(touched))
    par = bufs.inner_tasks > 1 && length(items) > 1
    # a partial shard's byte ranges are read first, from this thread, when its inner chunks are then
    # decoded on several tasks and the store is not a local file (the store sees the calls of a
    # one-task read; a file is read by `pread`, from any task), or when the store overlaps network
    # waits (io_concurrency: S3 and HTTP ranges on tasks of this thread, as whole chunks are read)
    pre = nothing
    nio = io_concurrency(store)
    if b === nothing && length(items) > 1 && ((par && !(reader isa FileReader)) || nio > 1)
        pre = Vector{Union{Nothing,Vector{UInt8}}}(nothing, length(items))
        _foreach_chunk(1:length(items), nio; ntasks=1) do j, _
            pre[j] = _inner_range(reader, key, s, idx, lin[items[j]], datarange)
            return nothing
        end
    end
    function one(j, tb)
        ci = items[j]
        cr = map((c, k) -> ((c - 1) * k + 1):(c * k), Tuple(ci), jin)
        inter = map(intersect, cr, Tuple(sidx))
        dd = map((i, sr, dr) -> (first(i) - first(sr) + first(dr)):(last(i) - first(sr) + first(dr)), inter,
            Tuple(sidx), Tuple(didx))
        src = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        r = shard_entry(s, idx, lin[ci], datarange; key=key)
        if r === nothing
            fill!(view(dest, dd...), p.fill)                 # an empty inner chunk
        elseif b !== nothing                                 # a view of the whole shard's bytes: no copy
            GC.@preserve b _decode_inner!(dest, dd, s.inner, jin, unsafe_wrap(Array, pointer(b, first(r) + 1),
                length(r)), src, key, tb)
        else
            x = pre === nothing ? _inner_range(reader, key, s, idx, lin[ci], datarange) : pre[j]
            _decode_inner!(dest, dd, s.inner, jin, x::Vector{UInt8}, src, key, tb)
        end
        return nothing
    end
    if par
        _foreach_chunk(one, 1:length(items); ntasks=bufs.inner_tasks)  # the tasks' own buffers; `b` is only read
    else
        foreach(j -> one(j, bufs), 1:length(items))
    end
    return true
end

# The stored bytes of inner chunk `l` of a shard read by byte ranges (nothing: an empty one).
function _inner_range(reader, key::AbstractString, s::ShardingCodec, idx, l::Int, datarange)
    r = shard_entry(s, idx, l, datarange; key=key)
    r === nothing && return nothing
    x = readrange(reader, first(r), length(r))
    (x === nothing || length(x) != length(r)) &&
        throw(ChunkError(key, "shard index points at bytes $(first(r))…$(last(r)), outside the shard (got " *
            "$(x === nothing ? 0 : length(x)) of $(length(r)) bytes)"))
    return x
end

# (found, whole shard bytes or nothing, index, data range) of the shard at `key`: with `whole`
# the shard in one read, else only its index (through `reader`; from `cache` while the file is
# the version it was read from).
function _shard_index(store::AbstractStore, reader, key::AbstractString, s::ShardingCodec, whole::Bool,
                      bufs::ChunkBuffers, cache::Union{Nothing,IndexCache})
    if whole
        b = readkey!(store, key, bufs.stored)
        b === nothing && return false, nothing, UInt64[], nothing
        idx, datarange = split_shard(s, b; key=key)
        return true, b, idx, datarange
    end
    isz = shard_index_nbytes(s)
    sig = signature(reader)
    idx = cache === nothing ? nothing : cached_index(cache, key, sig)
    if idx === nothing
        ib = s.index_at_end ? readrange(reader, -isz, isz) : readrange(reader, 0, isz)
        ib === nothing && return false, nothing, UInt64[], nothing
        idx = decode_shard_index(s, ib; key=key)
        cache === nothing || keep_index!(cache, key, sig, idx)
    end
    # with the index at the start the data follows it; at the end, where the data stops is only
    # known from the shard's size, which a byte range does not tell: short reads are caught by
    # the caller
    return true, nothing, idx, s.index_at_end ? nothing : isz:typemax(Int)
end

# One inner chunk's stored bytes `x` → block `src` of it into block `dd` of `dest`.
function _decode_inner!(dest::AbstractArray, dd, q::Pipeline, jin, x::Vector{UInt8}, src, key::AbstractString,
                        bufs::ChunkBuffers)
    if q.plain
        _decode_block!(dest, dd, q, jin, x, src, key, bufs, q.dtype.T)
    else
        v = decode_chunk(q, x; key=key)
        _copy_block!(dest, dd, reshape(v, jin), src)
    end
    return nothing
end

# f(item, bufs) for each item: on this task, or with `julia -t N` on up to `ntasks` (default N)
# tasks, each with its own buffers, taking the next item as they go (a thread slowed by other
# work on the machine takes fewer).  After an error the tasks take no new items; the first error
# is rethrown once all tasks have stopped.
function _foreach_chunk(f, items::AbstractVector, nio::Int=1; ntasks::Int=Threads.nthreads())
    ntasks = min(ntasks, length(items))
    # a remote store (io_concurrency, s3.jl): tasks on this thread overlap the waits for the network
    ntasks <= 1 && nio > 1 && length(items) > 1 && return _foreach_async(f, items, min(nio, length(items)))
    if ntasks <= 1
        bufs = ChunkBuffers()
        foreach(x -> f(x, bufs), items)
        return nothing
    end
    state = _ForeachState()
    tasks = [Threads.@spawn(_foreach_part(f, items, state)) for _ in 1:ntasks]
    foreach(wait, tasks)
    state.error[] === nothing || throw(state.error[])
    return nothing
end

function _foreach_async(f, items::AbstractVector, ntasks::Int)
    state = _ForeachState()
    tasks = [@async(_foreach_part(f, items, state)) for _ in 1:ntasks]
    foreach(wait, tasks)
    state.error[] === nothing || throw(state.error[])
    return nothing
end

struct _ForeachState
    next::Threads.Atomic{Int}      # the next item to take
    failed::Threads.Atomic{Bool}
    lock::ReentrantLock
    error::Base.RefValue{Any}      # the first error
end
_ForeachState() = _ForeachState(Threads.Atomic{Int}(1), Threads.Atomic{Bool}(false), ReentrantLock(), Ref{Any}(nothing))

function _foreach_part(f, items, state::_ForeachState)
    bufs = ChunkBuffers()
    try
        while !state.failed[]
            i = Threads.atomic_add!(state.next, 1)      # the old value
            i > length(items) && break
            f(items[i], bufs)
        end
    catch e
        lock(state.lock) do
            state.error[] === nothing && (state.error[] = e)
        end
        state.failed[] = true
    end
    return nothing
end

# A new array for a read's result.  Faulting in fresh memory 4 KiB at a time costs ~0.1 s per
# 256 MiB here, as much as lz4 takes to decode it; transparent huge pages (Linux, on madvise)
# cut that ~6×.  Only advice: ignored where unsupported.
function _result_array(::Type{T}, dims::Dims, key::AbstractString="") where {T}
    A = try
        Array{T}(undef, dims)
    catch e
        e isa OutOfMemoryError || rethrow()
        throw(MetadataError(key, "cannot allocate $(prod(dims)) elements of $(sizeof(T)) bytes: out of memory"))
    end
    Sys.islinux() && isbitstype(T) && sizeof(A) >= 1 << 23 && _advise_hugepages(A)
    return A
end

const MADV_HUGEPAGE = Cint(14)

function _advise_hugepages(A::Array)
    pagesize = UInt(ccall(:getpagesize, Cint, ()))
    lo = UInt(pointer(A))
    hi = lo + UInt(sizeof(A))
    lo = (lo + pagesize - 1) & ~(pagesize - 1)          # whole pages inside A only
    hi &= ~(pagesize - 1)
    hi > lo && ccall(:madvise, Cint, (Ptr{Cvoid}, Csize_t, Cint), Ptr{Cvoid}(lo), hi - lo, MADV_HUGEPAGE)
    return nothing
end

"""
    read_region!(dest, a, rs)

Read the Julia index ranges `rs` (one UnitRange per axis) of `a` into `dest` (any array of
size `length.(rs)`, e.g. a PermutedDimsArray).  Missing chunks read as the fill value.
"""
function read_region!(dest::AbstractArray, a::ZArray{T,N}, rs::NTuple{N,AbstractUnitRange{Int}}) where {T,N}
    any(isempty, rs) && return dest
    for (d, r) in enumerate(rs)
        (first(r) >= 1 && last(r) <= a.jsize[d]) || throw(BoundsError(a, rs))
    end
    if N == 0
        _read_chunk!(dest, (), a, _chunkkey(a, ()), (), ChunkBuffers()) || (dest[] = a.fillvalue)
        return dest
    end
    items = vec(collect(_chunks_touching(a, rs)))
    # fewer shards than threads: each shard's inner chunks are decoded on all threads instead
    inner = a.pipeline.serializer isa ShardingCodec && length(items) < Threads.nthreads() ? Threads.nthreads() : 1
    function one(cidx, bufs)
        # every name assigned here is this call's own (`local`): `one` runs on several tasks at once, and a
        # name shared with read_region!'s scope would be one variable for all of them
        local cr, inter, didx, sidx, found
        cr = _chunk_ranges(a, cidx)
        inter = map(intersect, cr, rs)
        didx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        sidx = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        bufs.inner_tasks = inner
        found = _read_chunk_settling!(dest, didx, a, cidx, sidx, bufs)
        found || fill!(view(dest, didx...), a.fillvalue)
    end
    # chunks fill disjoint blocks of `dest`: with `julia -t N` they are decoded on N threads
    _foreach_chunk(one, items, io_concurrency(a.store))
    return dest
end

"Read the whole array as a Julia `Array` (size `size(a)`)."
function read_array(a::ZArray{T,N}) where {T,N}
    _check_region_bytes(a, prod(a.jsize))
    dest = _result_array(T, a.jsize, joinkey(a.path, metadata_key(a.meta)))
    return read_region!(dest, a, map(s -> 1:s, a.jsize))
end

"""
    read_numpy_order(a) -> Array

The whole array laid out as numpy's C-order data of shape `zshape(a)`: a Julia array of size
`reverse(shape)`.  For C order that is `read_array`; for F order each chunk is transposed while
it is copied (never the whole array).
"""
function read_numpy_order(a::ZArray{T,N}) where {T,N}
    zorder(a) == 'C' && return read_array(a)
    _check_region_bytes(a, prod(a.jsize))
    dest = _result_array(T, reverse_axes(a.jsize), joinkey(a.path, metadata_key(a.meta)))
    read_region!(relayout(dest, 'C', zorder(a)), a, map(s -> 1:s, a.jsize))
    return dest
end

_as_range(i::Integer) = Int(i):Int(i)
_as_range(r::AbstractUnitRange) = Int(first(r)):Int(last(r))
_as_range(r::AbstractVector) = isempty(r) ? (1:0) : (Int(minimum(r)):Int(maximum(r)))

Base.getindex(a::ZArray{T,N}, i::Integer) where {T,N} =     # linear index (column-major)
    N == 1 ? getindex(a, i:i)[1] : getindex(a, Tuple(CartesianIndices(a.jsize)[i])...)

function Base.getindex(a::ZArray{T,N}, I...) where {T,N}
    idx = to_indices(a, I)
    length(idx) == N || throw(BoundsError(a, I))
    rs = map(_as_range, idx)
    _check_region_bytes(a, prod(map(length, rs)))
    buf = _result_array(T, map(length, rs), joinkey(a.path, metadata_key(a.meta)))
    read_region!(buf, a, rs)
    if all(i -> i isa Integer || i isa AbstractUnitRange, idx)
        all(i -> i isa Integer, idx) && return buf[1]
        all(i -> i isa AbstractUnitRange, idx) && return buf
        return reshape(buf, map(length, filter(i -> !(i isa Integer), idx)))   # drop integer axes
    end
    # vectors / steps: reindex relative to the bounding box that was read
    rel = map((i, r) -> i .- (first(r) - 1), idx, rs)
    return buf[rel...]
end

# ---------------------------------------------------------------------------------------------
# writing

# Bitwise for plain values, as the Python side compares bytes: a chunk of -0.0 is not a chunk of
# the fill 0.0, and only the fill's own NaN bits count as fill.
_isfill(x::T, fv::T) where {T} = isbitstype(T) ? x === fv : isequal(x, fv)
_isfill(x, fv) = isequal(x, fv)

function _write_chunk!(a::ZArray{T}, key::AbstractString, chunk::Array{T}, bufs::ChunkBuffers,
                       p::Pipeline=a.pipeline) where {T}
    forget_index!(a.index_cache, key)
    # A null fill (v2) means "no fill": zarr 2.x reads missing chunks as uninitialised memory, so every
    # chunk is stored, as the Python side does.
    if !a.write_empty_chunks && a.meta.fill !== nothing && all(x -> _isfill(x, a.fillvalue), chunk)
        deletekey!(a.store, key)
        return
    end
    if _isplain(a) && a.grid === nothing
        # encode straight from the chunk's memory into the reused buffer; stores write or copy
        # what they are given and keep no reference to it
        n = length(chunk) * sizeof(T)
        codec = plain_codec(p)
        GC.@preserve chunk begin
            raw = Ptr{UInt8}(pointer(chunk))
            writekey!(a.store, key, codec === nothing ? unsafe_wrap(Array, raw, n) :
                                    encode!(bufs.encoded, codec, raw, n; key=key))
        end
        return
    end
    writekey!(a.store, key, encode_chunk(p, chunk))
end

"""
    write_region!(a, src, rs)

Write `src` (size `length.(rs)`) into the Julia index ranges `rs` of `a`.  Chunks only partly
covered are read, updated and rewritten (under `with_chunk_lock`).  With `julia -t N` and a
local or in-memory store the chunks are encoded and stored on N threads (the bytes are those of
a one-thread write); the first error is rethrown once every task has stopped.
"""
function write_region!(a::ZArray{T,N}, src::AbstractArray, rs::NTuple{N,AbstractUnitRange{Int}}) where {T,N}
    size(src) == map(length, rs) ||
        throw(DimensionMismatch("source of size $(size(src)) for region of size $(map(length, rs))"))
    any(isempty, rs) && return a
    for (d, r) in enumerate(rs)
        (first(r) >= 1 && last(r) <= a.jsize[d]) || throw(BoundsError(a, rs))
    end
    if N == 0
        c0 = Array{T,0}(undef)
        c0[] = src[]
        _write_chunk!(a, _chunkkey(a, ()), c0, ChunkBuffers())
        return a
    end
    whole = map(n -> 1:n, a.jchunks)
    p = a.pipeline
    # encoding reads the chunk and never changes it: a whole chunk that is one run of src's
    # memory is encoded from there (plain chunks, and shards of plain or other inner chunks)
    zerocopy = src isa Array{T} && isbitstype(T) &&
               (_isplain(a) || (p.serializer isa ShardingCodec && p.perm === nothing))
    function one(cidx, bufs)
        # as in read_region!: `one` runs on several tasks at once, so every name it assigns is its own (a
        # rectilinear chunk `c` shared with this function's scope once raced between tasks)
        local cr, inter, sidx, cidx_in, key, jc, q, c, wc, start, chunk, found
        cr = _chunk_ranges(a, cidx)
        inter = map(intersect, cr, rs)
        sidx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        cidx_in = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        key = _chunkkey(a, cidx)
        if a.grid !== nothing                 # rectilinear: chunks of their own sizes
            jc, q = _chunk_pipe(a, cidx)
            c = Array{T,N}(undef, jc)
            wc = map(n -> 1:n, jc)
            if inter == cr
                map(length, inter) == jc || fill!(c, a.fillvalue)
                _copy_block!(c, cidx_in, src, sidx)
                _write_chunk!(a, key, c, bufs, q)
            else
                with_chunk_lock(a) do
                    _read_chunk!(c, wc, a, key, wc, bufs, q, jc) || fill!(c, a.fillvalue)
                    _copy_block!(c, cidx_in, src, sidx)
                    _write_chunk!(a, key, c, bufs, q)
                end
            end
            return nothing
        end
        start = zerocopy && cidx_in == whole ? _contiguous_start(src, sidx) : 0
        if start > 0                          # the chunk is one run of src's memory: no copy
            GC.@preserve src _write_chunk!(a, key, unsafe_wrap(Array, pointer(src, start), a.jchunks), bufs)
            return nothing
        end
        chunk = _task_chunk!(bufs, T, a.jchunks)    # one buffer per task, reused for every chunk
        if inter == cr
            map(length, inter) == a.jchunks || fill!(chunk, a.fillvalue)   # edge chunk: pad with fill
            _copy_block!(chunk, cidx_in, src, sidx)
            _write_chunk!(a, key, chunk, bufs)
        else
            with_chunk_lock(a) do
                found = _read_chunk!(chunk, whole, a, key, whole, bufs)
                found || fill!(chunk, a.fillvalue)
                _copy_block!(chunk, cidx_in, src, sidx)
                _write_chunk!(a, key, chunk, bufs)
            end
        end
        return nothing
    end
    items = vec(collect(_chunks_touching(a, rs)))
    # chunks are independent: encoded and stored on all threads where the store is safe for that
    # (S3 keeps its one-thread writes: its listing cache is not shared between threads)
    _foreach_chunk(one, items; ntasks=_threaded_writes(a.store) ? Threads.nthreads() : 1)
    return a
end

_threaded_writes(s::AbstractStore) = s isa Union{DirectoryStore,MemoryStore}

const LOCK_EX = Cint(2)
const O_RDWR_CREAT = Cint(0o102)          # Linux O_RDWR | O_CREAT

"""
    with_chunk_lock(f, a::ZArray)

Run `f()` (a partial chunk's read-modify-write) holding an exclusive flock on `<array>/.polyzarr-lock`:
two processes updating regions that share a chunk then both land.  Local stores only; other
stores make no locking promise (S3: the last writer of a chunk wins).
"""
function with_chunk_lock(f, a::ZArray)
    # tasks of this process first take a lock of their own: a task blocked in flock(2) would
    # block its thread, and with it a task holding the lock on the same thread
    key = joinkey(a.path, ".polyzarr-lock")
    l = _process_lock(a.store isa DirectoryStore ? joinpath(a.store.root, key) : string(objectid(a.store), ":", key))
    lock(l)
    try
        a.store isa DirectoryStore || return f()
        return _with_flock(f, a, key)
    finally
        unlock(l)
    end
end

const _PROCESS_LOCKS = Dict{String,ReentrantLock}()
const _PROCESS_LOCKS_LOCK = ReentrantLock()
_process_lock(name::String) = lock(() -> get!(ReentrantLock, _PROCESS_LOCKS, name), _PROCESS_LOCKS_LOCK)

function _with_flock(f, a::ZArray, key::String)
    p = _make_dirs(a.store, key)
    fd = ccall(:open, Cint, (Cstring, Cint, Cint), p, O_RDWR_CREAT | Cint(O_NOFOLLOW), Cint(0o644))
    fd < 0 && throw(StoreError(key, "cannot open the lock file $(p): $(Libc.strerror(Libc.errno()))"))
    try
        ccall(:flock, Cint, (Cint, Cint), fd, LOCK_EX) == 0 ||
            throw(StoreError(key, "cannot lock $(p): $(Libc.strerror(Libc.errno()))"))
        return f()
    finally
        ccall(:close, Cint, (Cint,), fd)       # releases the lock
    end
end

function Base.setindex!(a::ZArray{T,N}, v, I...) where {T,N}
    idx = to_indices(a, I)
    length(idx) == N || throw(BoundsError(a, I))
    all(i -> i isa Integer || i isa AbstractUnitRange, idx) ||
        throw(ArgumentError("ZArray writes take integers, ranges or colons"))
    rs = map(_as_range, idx)
    src = v isa AbstractArray ? reshape(v, map(length, rs)) : fill(convert(T, v), map(length, rs))
    write_region!(a, src, rs)
    return v
end

"Write a whole Julia array (size `size(a)`)."
write_array!(a::ZArray{T,N}, A::AbstractArray) where {T,N} = write_region!(a, A, map(s -> 1:s, a.jsize))

# ---------------------------------------------------------------------------------------------
# creating

_fill_json(dt::ZDtype, v) =
    v === :default ? default_fill_json(dt) :
    (v isa Number || v isa DateOrDelta || v isa NamedTuple || v isa Union{FixedBytesString,FixedUTF32String,RawBytes}) ?
    encode_fill_value(dt, v) : v

function _object_filters(filters, object_codec, T)
    fl = filters === nothing ? Any[] : Any[Dict{String,Any}(f) for f in filters]
    has = any(f -> get(f, "id", "") in ("vlen-utf8", "vlen-bytes", "json2", "categorize", "pickle", "msgpack2"), fl)
    if object_codec !== nothing
        oc = object_codec isa AbstractDict ? Dict{String,Any}(object_codec) :
             Dict{String,Any}("id" => String(object_codec))
        has || pushfirst!(fl, oc)
    elseif !has
        pushfirst!(fl, Dict{String,Any}("id" => T === Vector{UInt8} ? "vlen-bytes" : "vlen-utf8"))
    end
    return fl
end

_dtype_of(dtype) = dtype isa ZDtype ? dtype :
    dtype isa Type ? (dtype <: Union{AbstractString,Vector{UInt8}} || dtype === Any ?
                      object_dtype(dtype) : parse_dtype(typestr(dtype))) : parse_dtype(dtype)

"""
    create_array(store, path; shape or juliasize, chunks, dtype, zarr_format=2, fill_value=:default,
                 attrs=nothing, overwrite=false, write_empty_chunks=false, publish=true, <format options>) -> ZArray

Create an array (writes its metadata; with `publish=false` only the incomplete-write marker, and
`publish!` writes the metadata once the chunks are written).  `shape`/`chunks` are in Zarr order, or give `juliasize`
and then `chunks` is in Julia order too.  `dtype` is a typestring, the structured list form, a
Julia type, a ZDtype, or (v3) a v3 `data_type`.  `fill_value` is a Julia value or its JSON
encoding (`:default`: the dtype's default).

v2 (`.zarray` + `.zattrs`): `order="C"`, `compressor` (numcodecs config, default zstd level 0,
`nothing` for none), `filters`, `object_codec`, `dimension_separator="."`.

v3 (`zarr.json`, docs/V3.md): `codecs` (a list of codec objects, used as given) or else built from
`transpose` (a 0-based Zarr permutation), the bytes codec (endian of the dtype: `">f8"` is big;
or `endian="little"|"big"`), `compressor` (a v3 codec object, a numcodecs config of gzip/zstd/
blosc/crc32c, a list of them, or `nothing`; default zstd level 0), and `shards` (the chunk grid
becomes `shards` and `chunks` the inner chunk shape of a `sharding_indexed` codec, index at
`index_location`); `chunk_key_encoding` ("default" or "v2") with `dimension_separator` (default
"/" resp. "."); `dimension_names` (Zarr order); `attrs` are stored inline.
"""
function create_array(store::AbstractStore, path::AbstractString=""; shape=nothing, juliasize=nothing,
                      chunks=nothing, dtype=Float64, order="C", compressor=DEFAULT_COMPRESSOR,
                      filters=nothing, fill_value=:default, dimension_separator=nothing, attrs=nothing,
                      object_codec=nothing, overwrite::Bool=false, write_empty_chunks::Bool=false,
                      zarr_format=2, codecs=nothing, shards=nothing, transpose=nothing, dimension_names=nothing,
                      chunk_key_encoding="default", endian=nothing, index_location="end", publish::Bool=true)
    path = String(strip(path, '/'))
    isempty(path) || checkkey(path)
    zarr_format in (2, 3) || throw(MetadataError("zarr_format", "must be 2 or 3, got $(repr(zarr_format))"))
    if zarr_format == 3
        filters === nothing ||
            throw(MetadataError(joinkey(path, "zarr.json") * ":codecs", "Zarr v3 has no filters: give codecs"))
        string(order) in ("C", "F") ||
            throw(MetadataError(joinkey(path, "zarr.json"), "order must be \"C\" or \"F\", got $(repr(order))"))
        # v3 has no order: "F" is a transpose with the full reversal (the chunks' bytes as v2's order F)
        if transpose === nothing && codecs === nothing
            transpose = order_transpose(string(order), shape !== nothing ? length(shape) : length(juliasize))
        end
        return _create_array_v3(store, path; shape=shape, juliasize=juliasize, chunks=chunks, dtype=dtype,
                                compressor=compressor, fill_value=fill_value, dimension_separator=dimension_separator,
                                attrs=attrs, object_codec=object_codec, overwrite=overwrite,
                                write_empty_chunks=write_empty_chunks, codecs=codecs, shards=shards,
                                transpose=transpose, dimension_names=dimension_names,
                                chunk_key_encoding=chunk_key_encoding, endian=endian, index_location=index_location,
                                publish=publish)
    end
    key = joinkey(path, ".zarray")
    for (name, v) in (("codecs", codecs), ("shards", shards), ("transpose", transpose), ("dimension_names",
        dimension_names))
        v === nothing || throw(MetadataError(key, "$name is a Zarr v3 option (use zarr_format=3)"))
    end
    o = string(order)
    o in ("C", "F") || throw(MetadataError(key * ":order", "must be \"C\" or \"F\", got $(repr(o))"))
    (shape === nothing) == (juliasize === nothing) && throw(ArgumentError("give exactly one of shape, juliasize"))
    zs = shape !== nothing ? collect(Int, shape) : zarr_shape(juliasize, o[1])
    zc = chunks === nothing ? max.(zs, 1) :
         shape !== nothing ? collect(Int, chunks) : zarr_shape(chunks, o[1])
    dt = _dtype_of(dtype)
    fl = filters === nothing ? nothing : Any[Dict{String,Any}(f) for f in filters]
    if dt.kind == 'O'
        fl = _object_filters(fl, object_codec, dt.T)
    end
    # store each codec's full numcodecs configuration (defaults filled in), as zarr-python does
    fl = fl === nothing ? nothing :
         Any[filter_config(filter_from_config(f; key=string(key, ":filters[", i - 1, "]"))) for (i, f) in enumerate(fl)]
    compressor = compressor === nothing ? nothing :
                 codec_config(bytescodec_from_config(Dict{String,Any}(compressor); key=string(key, ":compressor")))
    fv = _fill_json(dt, fill_value)
    d = Dict{String,Any}("zarr_format" => 2, "shape" => zs, "chunks" => zc, "dtype" => dt.typestr,
                         "compressor" => compressor,
                         "filters" => fl, "fill_value" => fv, "order" => o,
                         "dimension_separator" => string(something(dimension_separator, ".")))
    meta = parse_zarray(d; key=key)          # the same validation as on read
    at = attrs === nothing ? Dict{String,Any}() : Dict{String,Any}(String(k) => v for (k, v) in attrs)
    a = ZArray(store, path, meta, at; write_empty_chunks=write_empty_chunks)
    _clear_node!(store, path, key, overwrite)
    _begin_write!(a)
    publish && publish!(a)
    return a
end

"Is there an array or group (v2 or v3) at `path`?"
node_exists(store::AbstractStore, path::AbstractString) =
    any(n -> readkey(store, joinkey(path, n)) !== nothing, (".zarray", ".zgroup", "zarr.json"))

# An existing node at `path` is an error, or with `overwrite` deleted with everything under it.
# The metadata documents go first, so that a reader never takes the half-deleted node for whole.
function _clear_node!(store::AbstractStore, path::AbstractString, key::AbstractString, overwrite::Bool)
    node_exists(store, path) || return nothing
    overwrite || throw(StoreError(key, "an array or group already exists here (use overwrite)"))
    for k in (".zarray", ".zgroup", ".zattrs", "zarr.json")
        deletekey!(store, joinkey(path, k))
    end
    for k in listkeys(store, path)
        deletekey!(store, k)
    end
    return nothing
end

# ---------------------------------------------------------------------------------------------
# the write protocol (docs/CONTRACT.md "Write guarantees"): a marker first, then the chunks, the
# metadata last, then the marker is deleted; a reader that finds the marker refuses the array

const INCOMPLETE_MARKER = ".polyzarr-incomplete"

marker_key(path::AbstractString) = joinkey(path, INCOMPLETE_MARKER)

function _begin_write!(a::ZArray)
    doc = Dict{String,Any}("writer" => "PolyZarr.jl", "pid" => getpid(),
                           "started" => string(Dates.now(Dates.UTC), "Z"))
    writekey!(a.store, marker_key(a.path), Vector{UInt8}(codeunits(json_string(doc))))
    return nothing
end

"""
    publish!(a::ZArray)

Write the array's metadata documents (v2 `.zarray` then `.zattrs`; v3 `zarr.json`) and delete its
incomplete-write marker: the last steps of a write (`create_array(...; publish=false)`).
"""
function publish!(a::ZArray)
    if a.meta isa ArrayMetadataV3
        writekey!(a.store, joinkey(a.path, "zarr.json"), zarr_json_bytes(zarr_json_dict(a.meta)))
    else
        writekey!(a.store, joinkey(a.path, ".zarray"), Vector{UInt8}(codeunits(json_string(zarray_dict(a.meta)))))
        # zarr-python writes .zattrs ({} when empty) next to every .zarray
        writekey!(a.store, joinkey(a.path, ".zattrs"), Vector{UInt8}(codeunits(json_string(a.attrs))))
    end
    deletekey!(a.store, marker_key(a.path))
    return a
end

# A marker left by a write that did not finish: StoreError, whatever else is there.
function check_complete(store::AbstractStore, path::AbstractString)
    b = readkey(store, marker_key(path))
    b === nothing && return nothing
    doc = try
        parse_json(b)
    catch
        nothing
    end
    pid = doc isa AbstractDict ? get(doc, "pid", "?") : "?"
    started = doc isa AbstractDict ? get(doc, "started", "?") : "?"
    throw(StoreError(marker_key(path), "the array is incomplete: a polyzarr write (pid $pid, started $started) did " *
        "not finish; rewrite it or delete the marker"))
end

# Chunks (or shards) given per axis as edge-length lists: a rectilinear chunk grid.
_is_rect(x) = (x isa AbstractVector || x isa Tuple) && any(c -> c isa AbstractVector || c isa Tuple, x)

# Zarr-order edge lengths of each axis (an integer: regular along that axis), checked like a stored grid.
function _rect_edges(r, zs, key)
    length(r) == length(zs) ||
        throw(MetadataError(key * ":chunk_grid", "$(length(r)) axes of chunk edges for $(length(zs)) dimensions"))
    cs = Any[c isa Integer ? c : Any[x for x in c] for c in r]
    return parse_rectilinear(Dict{String,Any}("kind" => "inline", "chunk_shapes" => cs), zs, key)
end

# A v3 data_type (a name, or an object with one) rather than a numpy typestring or a Julia type?
_is_v3_data_type(x) = (x isa AbstractString && !isempty(x) && !(x[1] in ('<', '>', '|'))) || x isa AbstractDict

# A compressor option as v3 bytes→bytes codec objects; blosc's typesize is the item size unless given.
function _v3_compressors(c, key, itemsize)
    c === nothing && return Any[]
    c isa AbstractVector && return Any[y for x in c for y in _v3_compressors(x, key, itemsize)]
    c isa AbstractDict || throw(MetadataError(key, "a compressor must be a codec object, got $(_jtype(c))"))
    haskey(c, "name") && return Any[Dict{String,Any}(c)]
    codec = bytescodec_from_config(Dict{String,Any}(c); key=key)
    haskey(c, "typesize") || (codec = with_typesize(codec, itemsize))
    return Any[v3_codec_json(codec)]
end

function _create_array_v3(store::AbstractStore, path::String; shape, juliasize, chunks, dtype, compressor,
                          fill_value, dimension_separator, attrs, object_codec, overwrite, write_empty_chunks,
                          codecs, shards, transpose, dimension_names, chunk_key_encoding, endian, index_location,
                          publish)
    key = joinkey(path, "zarr.json")
    (shape === nothing) == (juliasize === nothing) && throw(ArgumentError("give exactly one of shape, juliasize"))
    zs = shape !== nothing ? collect(Int, shape) : zarr_shape(juliasize, 'C')
    # a rectilinear grid: per-axis edge lengths for `chunks` (unsharded) or `shards` (regular inner chunks)
    rect = _is_rect(shards) ? shards : shards === nothing && _is_rect(chunks) ? chunks : nothing
    edges = rect === nothing ? nothing : _rect_edges(shape !== nothing ? collect(rect) : reverse_axes(rect), zs, key)
    if edges !== nothing && shards === nothing
        chunks = [maximum(e) for e in edges]
        shape === nothing && (chunks = reverse_axes(chunks))
    end
    zc = chunks === nothing ? max.(zs, 1) : shape !== nothing ? collect(Int, chunks) : zarr_shape(chunks, 'C')
    # the data type, and the byte order its dtype asks for
    if _is_v3_data_type(dtype)
        dt_json = dtype isa AbstractString ? String(dtype) : Dict{String,Any}(dtype)
        dt = parse_data_type(dt_json; key=key * ":data_type")
        e = nothing
    else
        dt = _dtype_of(dtype)
        if dt.kind == 'O' && object_codec !== nothing
            oc = object_codec isa AbstractDict ? get(object_codec, "id", get(object_codec, "name",
                "")) : string(object_codec)
            oc in ("vlen-utf8", "vlen-bytes") ||
                throw(MetadataError(key * ":codecs", "object codec $(repr(oc)) has no Zarr v3 form (vlen-utf8 or " *
                    "vlen-bytes)"))
            dt = object_dtype(oc == "vlen-bytes" ? Vector{UInt8} : String)
        end
        dt_json = data_type_json(dt)
        e = dtype_endian(dt)
    end
    endian === nothing || (e = string(endian) == "big" ? '>' : '<')
    if codecs === nothing
        inner = Any[]
        if transpose !== nothing && collect(Int, transpose) != 0:length(zs) - 1
            push!(inner, _named("transpose", Dict{String,Any}("order" => collect(Int, transpose))))
        end
        if dt.kind == 'O'
            push!(inner, _named(dt.T === String ? "vlen-utf8" : "vlen-bytes", Dict{String,Any}()))
        elseif dtype_endian(dt) === nothing
            push!(inner, Dict{String,Any}("name" => "bytes"))      # no byte order (zarr-python's spelling)
        else
            push!(inner, _named("bytes", Dict{String,Any}("endian" => e == '>' ? "big" : "little")))
        end
        append!(inner, _v3_compressors(compressor, key * ":codecs", dt.kind == 'O' ? 1 : dt.itemsize))
        if shards === nothing
            codecs = inner
        else
            codecs = Any[_named("sharding_indexed", Dict{String,Any}(
                "chunk_shape" => zc, "codecs" => inner,
                "index_codecs" => Any[_named("bytes", Dict{String,Any}("endian" => "little")),
                    Dict{String,Any}("name" => "crc32c")],
                "index_location" => string(index_location)))]
        end
    else
        codecs isa AbstractVector ||
            throw(MetadataError(key * ":codecs", "must be a list of codec objects, got $(_jtype(codecs))"))
        codecs = Any[c for c in codecs]
    end
    grid = edges !== nothing ? nothing : shards === nothing ? zc :
           (shape !== nothing ? collect(Int, shards) : zarr_shape(shards, 'C'))
    enc = chunk_key_encoding isa AbstractDict ? String(get(chunk_key_encoding, "name", "")) : string(chunk_key_encoding)
    sep = chunk_key_encoding isa AbstractDict ? get(get(chunk_key_encoding, "configuration", Dict()), "separator",
        dimension_separator) :
          dimension_separator
    sep = something(sep, enc == "v2" ? "." : "/")
    # the metadata's own byte order: what parse_array_v3 derives from the codecs
    dtb = parse_data_type(dt_json, _v3_serializer_endian(codecs); key=key * ":data_type")
    fv = fill_value === :default ? default_fill_json_v3(dt_json, dtb) :
         (fill_value isa Number || fill_value isa DateOrDelta || fill_value isa NamedTuple ||
          fill_value isa Union{FixedBytesString,FixedUTF32String,RawBytes}) ?
             encode_fill_value_v3(dt_json, dtb, fill_value) :
         fill_value isa AbstractVector{UInt8} ? encode_fill_value_v3(dt_json, dtb, fill_value) : fill_value
    at = attrs === nothing ? Dict{String,Any}() : Dict{String,Any}(String(k) => v for (k, v) in attrs)
    d = Dict{String,Any}("zarr_format" => 3, "node_type" => "array", "shape" => zs, "data_type" => dt_json,
                         "chunk_grid" => edges !== nothing ? rectilinear_json(edges) :
                                         _named("regular", Dict{String,Any}("chunk_shape" => grid)),
                         "chunk_key_encoding" => _named(enc, Dict{String,Any}("separator" => sep)),
                         "fill_value" => fv, "codecs" => codecs, "attributes" => at, "storage_transformers" => Any[])
    dimension_names === nothing ||
        (d["dimension_names"] = Any[x === nothing ? nothing : String(x) for x in dimension_names])
    meta = parse_array_v3(d; key=key)                 # the same validation as on read,
    # the fill in its canonical encoding (as zarr-python and the Python side write it: "NaT" → the
    # integer, 0 → 0.0 for floats), bits kept ("0x7fc00001" stays)
    d["fill_value"] = encode_fill_value_v3(meta.data_type, meta.dtype, meta.fill)
    meta = parse_array_v3(d; key=key)
    a = ZArray(store, path, meta, meta.attributes; write_empty_chunks=write_empty_chunks)  # codecs included
    _clear_node!(store, path, key, overwrite)
    _begin_write!(a)
    publish && publish!(a)
    return a
end

"""
    write_array(store, path, A; convention=:reverse, chunks=size(A), kwargs...) -> ZArray

Create an array holding the Julia array `A` and write it.  `:reverse` declares order "C" with
shape `reverse(size(A))` (Python sees `A` with reversed axes); `:F` declares "F" with shape
`size(A)` (same indices in Python).  `chunks` are in Julia order; other keywords go to
`create_array` (`dtype` defaults to the eltype's typestring).  With `zarr_format=3`, `:F` gives
Zarr shape `size(A)` and a transpose with the full reversal (the chunks' bytes are `A`'s
column-major memory, as v2's order F); the v3 array's Julia view is then `A` with reversed axes.
"""
function write_array(store::AbstractStore, path::AbstractString, A::AbstractArray;
                     convention::Symbol=:reverse, chunks=nothing, dtype=nothing, zarr_format=2, kwargs...)
    o = convention_order(convention)
    T = eltype(A)
    dt = dtype === nothing ? _dtype_of(T) : dtype
    jc = chunks === nothing ? max.(size(A), 1) : chunks
    if zarr_format == 3 && o == 'F'
        a = create_array(store, path; shape=collect(size(A)), chunks=collect(Int, jc), dtype=dt, order="F",
                         zarr_format=3, kwargs...)
        write_array!(a, relayout(A, 'F', zorder(a)))
        return a
    end
    a = create_array(store, path; juliasize=size(A), chunks=jc, dtype=dt, order=string(o), zarr_format=zarr_format,
                     kwargs...)
    write_array!(a, A)
    return a
end
