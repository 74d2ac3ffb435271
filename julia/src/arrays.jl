# Zarr v2 arrays: open/create, read and write any region chunk by chunk.  Julia indices follow
# layout.jl (C order → reversed axes).  No whole-array transposes: every copy is per chunk.

const DEFAULT_COMPRESSOR = Dict{String,Any}("id" => "zstd", "level" => 0)

"""
    ZArray{T,N} <: AbstractArray{T,N}

A Zarr v2 array in `store` at `path`.  `size(a)` is the Julia size (`reverse(shape)` for C
order); `a[...]` reads, `a[...] = x` writes; `read_array(a)` reads everything.
"""
struct ZArray{T,N} <: AbstractArray{T,N}
    store::AbstractStore
    path::String
    meta::ArrayMetadata
    pipeline::Pipeline
    jsize::NTuple{N,Int}
    jchunks::NTuple{N,Int}
    attrs::Dict{String,Any}
    fillvalue::Any           # what missing chunks read as
    write_empty_chunks::Bool
end

Base.size(a::ZArray) = a.jsize
Base.IndexStyle(::Type{<:ZArray}) = IndexCartesian()
Base.show(io::IO, a::ZArray) = print(io, "ZArray{", eltype(a), "}(", repr(a.path), ", shape=", a.meta.shape,
                                     ", order=", a.meta.order, ", chunks=", a.meta.chunks, ")")
Base.show(io::IO, ::MIME"text/plain", a::ZArray) = show(io, a)
Base.Array(a::ZArray) = read_array(a)
Base.collect(a::ZArray) = read_array(a)

"Zarr (numpy) shape of the array."
zshape(a::ZArray) = copy(a.meta.shape)
"Zarr order, 'C' or 'F'."
zorder(a::ZArray) = a.meta.order
attributes(a::ZArray) = a.attrs
"`_ARRAY_DIMENSIONS` as seen on the Julia array (reversed for C order), or nothing."
function dimnames(a::ZArray)
    d = get(a.attrs, "_ARRAY_DIMENSIONS", nothing)
    d isa AbstractVector || return nothing
    return julia_dimnames(String.(d), a.meta.order)
end

_missing_object(T) = T === String ? "" : T === Vector{UInt8} ? UInt8[] : nothing

function ZArray(store::AbstractStore, path::AbstractString, meta::ArrayMetadata, attrs::Dict{String,Any};
                write_empty_chunks::Bool=false)
    key = joinkey(path, ".zarray")
    p = make_pipeline(meta; key=key)
    T = p.dtype.T
    N = length(meta.shape)
    fv = p.dtype.kind == 'O' ? (meta.fill === nothing ? _missing_object(T) : meta.fill) :
         fill_or_zero(p.dtype, meta.fill)
    if p.dtype.kind == 'O' && T !== Any && !(fv isa T)
        fv = T === String && fv isa AbstractString ? String(fv) : _missing_object(T)
    end
    return ZArray{T,N}(store, String(path), meta, p, julia_size(meta.shape, meta.order),
                       julia_size(meta.chunks, meta.order), attrs, fv, write_empty_chunks)
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
    if consolidated !== nothing && haskey(consolidated, key)
        meta = parse_zarray(consolidated[key]; key=key)
        attrs = haskey(consolidated, akey) ? parse_zattrs(consolidated[akey]; key=akey) : Dict{String,Any}()
    else
        b = readkey(store, key)
        b === nothing && throw(MetadataError(key, "no array here (missing .zarray)"))
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
    (of || nb > max_bytes()) && throw(MetadataError(joinkey(a.path, ".zarray"),
        "reading $(n) elements × $(a.pipeline.dtype.itemsize) bytes exceeds the limit of $(max_bytes()) bytes (POLYZARR_MAX_BYTES)"))
end

"The chunks (1-based Julia chunk indices) that intersect the Julia index ranges `rs`."
_chunks_touching(a::ZArray, rs) =
    CartesianIndices(map((r, c) -> ((first(r) - 1) ÷ c + 1):((last(r) - 1) ÷ c + 1), rs, a.jchunks))

_chunkkey(a::ZArray, cidx) = joinkey(a.path, chunk_key(Tuple(cidx), a.meta.order, a.meta.dimension_separator))

# Scratch memory one task reuses from chunk to chunk: a fresh 1 MiB buffer per chunk costs page
# faults that are a large share of a fast codec's time.
struct ChunkBuffers
    stored::Vector{UInt8}     # a chunk's bytes as read from the store
    decoded::Vector{UInt8}    # a decoded chunk that cannot go straight to its destination
    encoded::Vector{UInt8}    # a chunk's encoded bytes on their way to the store
end
ChunkBuffers() = ChunkBuffers(UInt8[], UInt8[], UInt8[])

# A plain chunk's decoded bytes are the Julia chunk's memory (native bits type, no filters): it
# can be decoded straight into, and encoded straight from, an array's memory.
_isplain(a::ZArray{T}) where {T} =
    isempty(a.pipeline.filters) && isnative(a.pipeline.dtype) && isbitstype(T)

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

# Decode a plain chunk's stored bytes `b` into the `n` bytes at `ptr`.
function _decode_plain!(ptr::Ptr{UInt8}, n::Int, a::ZArray, b::Vector{UInt8}, key::AbstractString)
    p = a.pipeline
    if p.compressor === nothing
        got = length(b)
        got == n && GC.@preserve b unsafe_copyto!(ptr, pointer(b), n)
    else
        got = decode!(p.compressor, ptr, n, b; key=key)
    end
    got == n || throw(ChunkError(key, "decoded to $got bytes, expected $n (chunk $(p.chunks) × $(p.dtype.itemsize) bytes)"))
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
                      bufs::ChunkBuffers) where {T}
    b = readkey!(a.store, key, bufs.stored)
    b === nothing && return false
    p = a.pipeline
    if !_isplain(a)
        x = p.compressor === nothing ? b :
            decode(p.compressor, b; key=key, sizehint=chunk_length(p) * p.dtype.itemsize)
        v = decode_chunk(Pipeline(p.dtype, p.chunks, p.order, p.filters, nothing), x; key=key)
        _copy_block!(dest, didx, reshape(v, a.jchunks), sidx)
        return true
    end
    n = chunk_length(p) * sizeof(T)
    start = dest isa Array{T} && map(length, sidx) == a.jchunks ? _contiguous_start(dest, didx) : 0
    if start > 0
        GC.@preserve dest _decode_plain!(Ptr{UInt8}(pointer(dest, start)), n, a, b, key)
    else
        buf = resize!(bufs.decoded, n)
        GC.@preserve buf begin
            _decode_plain!(pointer(buf), n, a, b, key)
            _copy_block!(dest, didx, unsafe_wrap(Array, Ptr{T}(pointer(buf)), a.jchunks), sidx)
        end
    end
    return true
end

# f(item, bufs) for each item: on this task, or with `julia -t N` on up to N tasks, each with its
# own buffers.  The first error is rethrown once all tasks have stopped.
function _foreach_chunk(f, items::AbstractVector)
    ntasks = min(Threads.nthreads(), length(items))
    if ntasks <= 1
        bufs = ChunkBuffers()
        foreach(x -> f(x, bufs), items)
        return nothing
    end
    tasks = [Threads.@spawn(_foreach_part(f, items, k, ntasks)) for k in 1:ntasks]
    for err in map(fetch, tasks)
        err === nothing || throw(err)
    end
    return nothing
end

function _foreach_part(f, items, start::Int, step::Int)
    bufs = ChunkBuffers()
    try
        for i in start:step:length(items)
            f(items[i], bufs)
        end
    catch e
        return e
    end
    return nothing
end

# A new array for a read's result.  Faulting in fresh memory 4 KiB at a time costs ~0.1 s per
# 256 MiB here, as much as lz4 takes to decode it; transparent huge pages (Linux, on madvise)
# cut that ~6×.  Only advice: ignored where unsupported.
function _result_array(::Type{T}, dims::Dims) where {T}
    A = Array{T}(undef, dims)
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
    function one(cidx, bufs)
        cr = chunk_ranges(Tuple(cidx), a.jsize, a.jchunks)
        inter = map(intersect, cr, rs)
        didx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        sidx = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        found = _read_chunk!(dest, didx, a, _chunkkey(a, cidx), sidx, bufs)
        found || fill!(view(dest, didx...), a.fillvalue)
    end
    # chunks fill disjoint blocks of `dest`: with `julia -t N` they are decoded on N threads
    _foreach_chunk(one, vec(collect(_chunks_touching(a, rs))))
    return dest
end

"Read the whole array as a Julia `Array` (size `size(a)`)."
function read_array(a::ZArray{T,N}) where {T,N}
    _check_region_bytes(a, prod(a.jsize))
    dest = _result_array(T, a.jsize)
    return read_region!(dest, a, map(s -> 1:s, a.jsize))
end

"""
    read_numpy_order(a) -> Array

The whole array laid out as numpy's C-order data of shape `zshape(a)`: a Julia array of size
`reverse(shape)`.  For C order that is `read_array`; for F order each chunk is transposed while
it is copied (never the whole array).
"""
function read_numpy_order(a::ZArray{T,N}) where {T,N}
    a.meta.order == 'C' && return read_array(a)
    _check_region_bytes(a, prod(a.jsize))
    dest = _result_array(T, reverse(a.jsize))
    read_region!(PermutedDimsArray(dest, ntuple(i -> N + 1 - i, N)), a, map(s -> 1:s, a.jsize))
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
    buf = _result_array(T, map(length, rs))
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

function _write_chunk!(a::ZArray{T}, key::AbstractString, chunk::Array{T}, bufs::ChunkBuffers) where {T}
    if !a.write_empty_chunks && all(x -> _isfill(x, a.fillvalue), chunk)
        deletekey!(a.store, key)
        return
    end
    p = a.pipeline
    if _isplain(a)
        # encode straight from the chunk's memory into the reused buffer; stores write or copy
        # what they are given and keep no reference to it
        n = length(chunk) * sizeof(T)
        GC.@preserve chunk begin
            raw = Ptr{UInt8}(pointer(chunk))
            writekey!(a.store, key, p.compressor === nothing ? unsafe_wrap(Array, raw, n) :
                                    encode!(bufs.encoded, p.compressor, raw, n; key=key))
        end
        return
    end
    writekey!(a.store, key, encode_chunk(p, vec(chunk)))
end

"""
    write_region!(a, src, rs)

Write `src` (size `length.(rs)`) into the Julia index ranges `rs` of `a`.  Chunks only partly
covered are read, updated and rewritten.
"""
function write_region!(a::ZArray{T,N}, src::AbstractArray, rs::NTuple{N,AbstractUnitRange{Int}}) where {T,N}
    size(src) == map(length, rs) || throw(DimensionMismatch("source of size $(size(src)) for region of size $(map(length, rs))"))
    any(isempty, rs) && return a
    for (d, r) in enumerate(rs)
        (first(r) >= 1 && last(r) <= a.jsize[d]) || throw(BoundsError(a, rs))
    end
    bufs = ChunkBuffers()
    if N == 0
        c = Array{T,0}(undef)
        c[] = src[]
        _write_chunk!(a, _chunkkey(a, ()), c, bufs)
        return a
    end
    whole = map(n -> 1:n, a.jchunks)
    chunk = Array{T,N}(undef, a.jchunks)      # one buffer, reused for every chunk
    for cidx in _chunks_touching(a, rs)
        cr = chunk_ranges(Tuple(cidx), a.jsize, a.jchunks)
        inter = map(intersect, cr, rs)
        sidx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        cidx_in = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        key = _chunkkey(a, cidx)
        start = src isa Array{T} && _isplain(a) && cidx_in == whole ? _contiguous_start(src, sidx) : 0
        if start > 0                          # the chunk is one run of src's memory: no copy
            GC.@preserve src _write_chunk!(a, key, unsafe_wrap(Array, pointer(src, start), a.jchunks), bufs)
            continue
        end
        if inter == cr
            map(length, inter) == a.jchunks || fill!(chunk, a.fillvalue)   # edge chunk: pad with fill
        else
            found = _read_chunk!(chunk, whole, a, key, whole, bufs)
            found || fill!(chunk, a.fillvalue)
        end
        _copy_block!(chunk, cidx_in, src, sidx)
        _write_chunk!(a, key, chunk, bufs)
    end
    return a
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
        oc = object_codec isa AbstractDict ? Dict{String,Any}(object_codec) : Dict{String,Any}("id" => String(object_codec))
        has || pushfirst!(fl, oc)
    elseif !has
        pushfirst!(fl, Dict{String,Any}("id" => T === Vector{UInt8} ? "vlen-bytes" : "vlen-utf8"))
    end
    return fl
end

_dtype_of(dtype) = dtype isa ZDtype ? dtype : dtype isa Type ? (dtype <: Union{AbstractString,Vector{UInt8}} || dtype === Any ?
    object_dtype(dtype) : parse_dtype(typestr(dtype))) : parse_dtype(dtype)

"""
    create_array(store, path; shape or juliasize, chunks, dtype, order="C", compressor=zstd level 0,
                 filters=nothing, fill_value=:default, dimension_separator=".", attrs=nothing,
                 object_codec=nothing, overwrite=false, write_empty_chunks=false) -> ZArray

Write `.zarray` (and `.zattrs` when `attrs` is given).  `shape`/`chunks` are in Zarr order, or
give `juliasize` and then `chunks` is in Julia order too.  `dtype` is a typestring, the structured
list form, a Julia type or a ZDtype.  `fill_value` is a Julia value or its JSON encoding.
"""
function create_array(store::AbstractStore, path::AbstractString=""; shape=nothing, juliasize=nothing,
                      chunks=nothing, dtype=Float64, order="C", compressor=DEFAULT_COMPRESSOR,
                      filters=nothing, fill_value=:default, dimension_separator=".", attrs=nothing,
                      object_codec=nothing, overwrite::Bool=false, write_empty_chunks::Bool=false)
    path = String(strip(path, '/'))
    isempty(path) || checkkey(path)
    key = joinkey(path, ".zarray")
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
                         "dimension_separator" => string(dimension_separator))
    meta = parse_zarray(d; key=key)          # the same validation as on read
    existing = readkey(store, key) !== nothing || readkey(store, joinkey(path, ".zgroup")) !== nothing
    if existing
        overwrite || throw(StoreError(key, "an array or group already exists here (use overwrite)"))
        for k in listkeys(store, path)
            deletekey!(store, k)
        end
        isempty(path) || for k in (".zarray", ".zgroup", ".zattrs")
            deletekey!(store, joinkey(path, k))
        end
    end
    writekey!(store, key, Vector{UInt8}(codeunits(json_string(zarray_dict(meta)))))
    at = attrs === nothing ? Dict{String,Any}() : Dict{String,Any}(String(k) => v for (k, v) in attrs)
    # zarr-python writes .zattrs ({} when empty) next to every .zarray
    writekey!(store, joinkey(path, ".zattrs"), Vector{UInt8}(codeunits(json_string(at))))
    return ZArray(store, path, meta, at; write_empty_chunks=write_empty_chunks)
end

"""
    write_array(store, path, A; convention=:reverse, chunks=size(A), kwargs...) -> ZArray

Create an array holding the Julia array `A` and write it.  `:reverse` declares order "C" with
shape `reverse(size(A))` (Python sees `A` with reversed axes); `:F` declares "F" with shape
`size(A)` (same indices in Python).  `chunks` are in Julia order; other keywords go to
`create_array` (`dtype` defaults to the eltype's typestring).
"""
function write_array(store::AbstractStore, path::AbstractString, A::AbstractArray;
                     convention::Symbol=:reverse, chunks=nothing, dtype=nothing, kwargs...)
    o = convention_order(convention)
    T = eltype(A)
    dt = dtype === nothing ? _dtype_of(T) : dtype
    a = create_array(store, path; juliasize=size(A), chunks=chunks === nothing ? max.(size(A), 1) : chunks,
                     dtype=dt, order=string(o), kwargs...)
    write_array!(a, A)
    return a
end
