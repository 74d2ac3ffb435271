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
                write_empty_chunks::Bool=true)
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
                    write_empty_chunks::Bool=true)
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

# Give a large temporary buffer back now rather than at the next GC: keeps the peak memory of a
# full read near the size of the result.
_release!(x::Vector{UInt8}) = (length(x) >= 1 << 16 && (empty!(x); sizehint!(x, 0)); nothing)

# Read chunk `key` and hand its Julia-shaped array to `f`, or return false when missing.  Native
# dtypes are viewed in place (unsafe_wrap under GC.@preserve): no copy of the decoded bytes.
function _with_chunk(f, a::ZArray{T}, key::AbstractString) where {T}
    b = readkey(a.store, key)
    b === nothing && return false
    p = a.pipeline
    x = p.compressor === nothing ? b :
        decode(p.compressor, b; key=key, sizehint=chunk_length(p) * p.dtype.itemsize)
    if isempty(p.filters) && isnative(p.dtype) && isbitstype(T)
        expected = chunk_length(p) * sizeof(T)
        length(x) == expected ||
            throw(ChunkError(key, "decoded to $(length(x)) bytes, expected $expected (chunk $(p.chunks) × $(sizeof(T)) bytes)"))
        GC.@preserve x begin
            chunk = unsafe_wrap(Array, Ptr{T}(pointer(x)), a.jchunks)
            f(chunk)
        end
        _release!(x)
        x === b || _release!(b)
        return true
    end
    v = decode_chunk(Pipeline(p.dtype, p.chunks, p.order, p.filters, nothing), x; key=key)
    f(reshape(v, a.jchunks))
    return true
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
    read_region!(dest, a, rs)

Read the Julia index ranges `rs` (one UnitRange per axis) of `a` into `dest` (any array of
size `length.(rs)`, e.g. a PermutedDimsArray).  Missing chunks read as the fill value.
"""
function read_region!(dest::AbstractArray, a::ZArray{T,N}, rs::NTuple{N,AbstractUnitRange{Int}}) where {T,N}
    any(isempty, rs) && return dest
    for (d, r) in enumerate(rs)
        (first(r) >= 1 && last(r) <= a.jsize[d]) || throw(BoundsError(a, rs))
    end
    N == 0 && (_with_chunk(c -> (dest[] = c[]), a, _chunkkey(a, ())) || (dest[] = a.fillvalue); return dest)
    cidxs = vec(collect(_chunks_touching(a, rs)))
    function one(cidx)
        cr = chunk_ranges(Tuple(cidx), a.jsize, a.jchunks)
        inter = map(intersect, cr, rs)
        didx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        sidx = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        found = _with_chunk(chunk -> _copy_block!(dest, didx, chunk, sidx), a, _chunkkey(a, cidx))
        found || fill!(view(dest, didx...), a.fillvalue)
    end
    if Threads.nthreads() > 1 && length(cidxs) > 1
        # chunks fill disjoint blocks of `dest`: decode them on all threads (julia -t N)
        errs = Vector{Any}(nothing, length(cidxs))
        Threads.@threads for i in 1:length(cidxs)
            try
                one(cidxs[i])
            catch e
                errs[i] = e
            end
        end
        for e in errs
            e === nothing || throw(e)
        end
    else
        foreach(one, cidxs)
    end
    return dest
end

"Read the whole array as a Julia `Array` (size `size(a)`)."
function read_array(a::ZArray{T,N}) where {T,N}
    _check_region_bytes(a, prod(a.jsize))
    dest = Array{T,N}(undef, a.jsize)
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
    dest = Array{T,N}(undef, reverse(a.jsize))
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
    buf = Array{T,N}(undef, map(length, rs))
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

_isfill(x, fv) = isequal(x, fv) || (x isa AbstractFloat && fv isa AbstractFloat && x == fv) ||
                 (x isa Complex && fv isa Complex && x == fv)

function _write_chunk!(a::ZArray{T}, key::AbstractString, chunk::Array{T}) where {T}
    if !a.write_empty_chunks && all(x -> _isfill(x, a.fillvalue), chunk)
        deletekey!(a.store, key)
        return
    end
    p = a.pipeline
    if isempty(p.filters) && p.compressor !== nothing && isnative(p.dtype) && isbitstype(T)
        # compress straight from the chunk's memory (the compressor copies into its output)
        GC.@preserve chunk begin
            raw = unsafe_wrap(Array, Ptr{UInt8}(pointer(chunk)), length(chunk) * sizeof(T))
            writekey!(a.store, key, encode(p.compressor, raw; key=key))
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
    if N == 0
        c = Array{T,0}(undef)
        c[] = src[]
        _write_chunk!(a, _chunkkey(a, ()), c)
        return a
    end
    chunk = Array{T,N}(undef, a.jchunks)      # one buffer, reused for every chunk
    for cidx in _chunks_touching(a, rs)
        cr = chunk_ranges(Tuple(cidx), a.jsize, a.jchunks)
        inter = map(intersect, cr, rs)
        sidx = map((i, r) -> (first(i) - first(r) + 1):(last(i) - first(r) + 1), inter, rs)
        cidx_in = map((i, c) -> (first(i) - first(c) + 1):(last(i) - first(c) + 1), inter, cr)
        key = _chunkkey(a, cidx)
        if inter == cr
            map(length, inter) == a.jchunks || fill!(chunk, a.fillvalue)   # edge chunk: pad with fill
        else
            found = _with_chunk(c -> copyto!(chunk, c), a, key)
            found || fill!(chunk, a.fillvalue)
        end
        _copy_block!(chunk, cidx_in, src, sidx)
        _write_chunk!(a, key, chunk)
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
                 object_codec=nothing, overwrite=false, write_empty_chunks=true) -> ZArray

Write `.zarray` (and `.zattrs` when `attrs` is given).  `shape`/`chunks` are in Zarr order, or
give `juliasize` and then `chunks` is in Julia order too.  `dtype` is a typestring, the structured
list form, a Julia type or a ZDtype.  `fill_value` is a Julia value or its JSON encoding.
"""
function create_array(store::AbstractStore, path::AbstractString=""; shape=nothing, juliasize=nothing,
                      chunks=nothing, dtype=Float64, order="C", compressor=DEFAULT_COMPRESSOR,
                      filters=nothing, fill_value=:default, dimension_separator=".", attrs=nothing,
                      object_codec=nothing, overwrite::Bool=false, write_empty_chunks::Bool=true)
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
    fv = _fill_json(dt, fill_value)
    d = Dict{String,Any}("zarr_format" => 2, "shape" => zs, "chunks" => zc, "dtype" => dt.typestr,
                         "compressor" => compressor === nothing ? nothing : Dict{String,Any}(compressor),
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
