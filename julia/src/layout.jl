# The ONE place for axis order.  Zarr shape S with order "C" is a Julia array of size reverse(S)
# (a C-order chunk's bytes are a column-major array of size reverse(chunks)); order "F" is a Julia
# array of size S (an F chunk's bytes are column-major of size chunks).  Chunk keys follow.

"Julia array size for a Zarr `shape` stored in `order` ('C' or 'F')."
julia_size(shape, order::Char) = order == 'C' ? Tuple(reverse(collect(Int, shape))) : Tuple(collect(Int, shape))
julia_size(shape, order::AbstractString) = julia_size(shape, order[1])
"The C-order shape of a v2 chunk's memory (what numcodecs sees): `chunks` for order C, reversed for F."
chunk_memory_shape(chunks, order::Char) = order == 'C' ? collect(Int, chunks) : collect(Int, julia_size(chunks, 'C'))

"Zarr (numpy) shape for a Julia size under `order`: the inverse of `julia_size`."
zarr_shape(sz, order::Char) = order == 'C' ? reverse(collect(Int, sz)) : collect(Int, sz)
zarr_shape(sz, order::AbstractString) = zarr_shape(sz, order[1])

"Column-major size of one decoded chunk's memory (same rule as the array)."
chunk_julia_size(chunks, order) = julia_size(chunks, order)

"Number of chunks along each Julia axis."
chunk_grid(jsize, jchunks) = map((s, c) -> cld(s, c), jsize, jchunks)

"""
    chunk_key(cidx, order, sep) -> String

Store key (relative to the array) of the chunk with 1-based Julia chunk index `cidx`:
`join(reverse(cidx .- 1), sep)` for C, `join(cidx .- 1, sep)` for F; "0" for a 0-d array.
"""
function chunk_key(cidx, order::Char, sep::AbstractString)
    isempty(cidx) && return "0"
    z = order == 'C' ? reverse(collect(cidx)) : collect(cidx)
    return join(z .- 1, sep)
end

"Inverse of `chunk_key`: the 1-based Julia chunk index, or `nothing` if `key` is not a chunk key."
function chunk_index(key::AbstractString, n::Int, order::Char, sep::AbstractString)
    n == 0 && return key == "0" ? () : nothing
    parts = split(key, sep)
    length(parts) == n || return nothing
    z = Int[]
    for p in parts
        v = all(isdigit, p) && !isempty(p) ? tryparse(Int, p) : nothing
        v === nothing && return nothing
        push!(z, v + 1)
    end
    return Tuple(order == 'C' ? reverse(z) : z)
end

"Julia index ranges covered by chunk `cidx` (clipped at the array edge)."
chunk_ranges(cidx, jsize, jchunks) =
    map((c, s, k) -> ((c - 1) * k + 1):min(c * k, s), Tuple(cidx), Tuple(jsize), Tuple(jchunks))

# ---- the rectilinear chunk grid (zarr-extensions `rectilinear`): chunk edge lengths per axis

"""
    RectGrid

A rectilinear chunk grid in Julia axis order (v3 arrays: the reversed Zarr order): `edges[d]` the
chunk edge lengths along Julia axis `d`, `starts[d]` the 1-based index where each chunk starts.
The edges may sum to more than the array's extent (zarr-python keeps them after a shrinking
resize): the last chunk along an axis is then padded like a regular edge chunk.
"""
struct RectGrid
    edges::Vector{Vector{Int}}
    starts::Vector{Vector{Int}}
end

"The grid of Zarr-order edge lengths `zedges` (one vector per Zarr axis) for a v3 array."
function rect_grid(zedges::AbstractVector)
    e = [collect(Int, x) for x in reverse(collect(zedges))]
    return RectGrid(e, [cumsum(vcat(1, x[1:end - 1])) for x in e])
end

"The chunks (1-based Julia chunk indices) of grid `g` that intersect the Julia index ranges `rs`."
grid_chunks_touching(g::RectGrid, rs) =
    CartesianIndices(map((r, st) -> searchsortedlast(st, first(r)):searchsortedlast(st, last(r)), Tuple(rs),
                         Tuple(g.starts)))

"Julia index ranges covered by chunk `cidx` of `g` (clipped at the array edge)."
grid_chunk_ranges(g::RectGrid, cidx, jsize) =
    map((c, st, e, s) -> st[c]:min(st[c] + e[c] - 1, s), Tuple(cidx), Tuple(g.starts), Tuple(g.edges), Tuple(jsize))

"The Julia size of chunk `cidx` of `g` as stored (its full edges)."
grid_chunk_size(g::RectGrid, cidx) = map((c, e) -> e[c], Tuple(cidx), Tuple(g.edges))

"Every distinct stored chunk size of `g` (Julia order)."
grid_chunk_sizes(g::RectGrid) = vec([Tuple(t) for t in Iterators.product((unique(e) for e in g.edges)...)])

"The Zarr-order chunk shape of a Julia chunk size of a v3 array."
grid_zarr_chunk(jc) = zarr_shape(jc, 'C')

"""
    chunk_array(v, chunks, order)

View a chunk's decoded values (a flat vector in storage order) as the column-major Julia chunk:
size `reverse(chunks)` for C, `chunks` for F.  No copy.
"""
chunk_array(v::AbstractVector, chunks, order::Char) = reshape(v, chunk_julia_size(chunks, order))

"Axis names (xarray `_ARRAY_DIMENSIONS`, Zarr order) as seen on the Julia array."
julia_dimnames(names, order::Char) = order == 'C' ? reverse(collect(names)) : collect(names)

"Column-major strides of a Julia array of size `sz` (in elements)."
julia_strides(sz) = (s = 1; [(t = s; s *= n; t) for n in sz])

# ---------------------------------------------------------------------------------------------
# Reversal: the one definition, and the views built on it

"The full axis reversal as a Julia permutation (1-based): `(n, n-1, …, 1)`."
reversal_perm(n::Integer) = ntuple(i -> n + 1 - i, n)

"The full reversal as a 0-based Zarr permutation (v2 order F as a v3 `transpose`): `[n-1, …, 0]`."
zarr_reversal(n::Integer) = collect(n - 1:-1:0)

"A shape or index with its axes reversed (Zarr order ⇄ the reversed Julia layout); a tuple stays a tuple."
reverse_axes(x::Tuple) = reverse(x)
reverse_axes(x) = reverse(collect(x))

"True when `listed` is `shape` with its axes reversed (and not `shape` itself: no square ambiguity)."
is_reversed_shape(listed, shape) = listed != shape && listed == reverse_axes(shape)

"`A` with its axes reversed, lazily (no copy)."
reversed_view(A::AbstractArray) = PermutedDimsArray(A, reversal_perm(ndims(A)))

"""
    relayout(A, from, to)

The Julia array in layout `to` holding the same Zarr values as `A` in layout `from` ('C': reversed axes,
the usual layout; 'F': Zarr's axes, numpy's indices): `A` itself, or a lazy reversal of its axes.
"""
relayout(A::AbstractArray, from::Char, to::Char) = from == to ? A : reversed_view(A)

"The layout of a .npy file's data read as a Julia array: 'F' for a fortran_order file, else 'C'."
npy_order(fortran_order::Bool) = fortran_order ? 'F' : 'C'

"""
    order_transpose(order, n) -> Vector{Int} or nothing

v2's order as a transpose in front of the bytes: `nothing` for 'C', the full reversal (0-based Zarr
permutation) for 'F'.
"""
order_transpose(order::Char, n::Integer) = order == 'F' ? zarr_reversal(n) : nothing
order_transpose(order::AbstractString, n::Integer) = order_transpose(order[1], n)

"""
    c_order_to_memory(vals, chunks, order) -> Vector

Values listed in C order of the Zarr chunk shape `chunks` (numcodecs json2) in the memory order of a
chunk in layout `order` (the same for 'C'; transposed for 'F').
"""
function c_order_to_memory(vals::AbstractVector, chunks, order::Char)
    n = length(chunks)
    (order == 'F' && n > 1) || return vals
    return vec(permutedims(reshape(vals, julia_size(chunks, 'C')), reversal_perm(n)))
end

"The chunk `A` (layout `order`) in the reversed layout, whose column-major order is Zarr's C order."
to_reversed_layout(A::AbstractArray, order::Char) =
    order == 'F' && ndims(A) > 1 ? permutedims(A, reversal_perm(ndims(A))) : A

"The Julia index (reversed layout) of a 1-based Zarr index."
julia_index(zidx::Tuple) = reverse(zidx)

"Convention for writing a Julia array: :reverse declares C with shape reverse(size), :F declares F."
function convention_order(convention::Symbol)
    convention === :reverse && return 'C'
    convention === :F && return 'F'
    throw(ArgumentError("convention must be :reverse or :F, got :$convention"))
end

# ---------------------------------------------------------------------------------------------
# Chunk key encodings (v2 arrays, and v3's "default" and "v2")

"""
    ChunkKeys(prefix, sep, reversed)

How a chunk's grid index becomes its key: `prefix` ("c" for v3's default encoding, else "")
then the Zarr-order grid index joined with `sep`.  `reversed` says the Julia chunk index is in
reversed axis order (every layout but v2's order "F").
"""
struct ChunkKeys
    prefix::String
    sep::String
    reversed::Bool
end

"The chunk keys of a v2 array: order 'C' or 'F', separator `sep`."
ChunkKeys(order::Char, sep::AbstractString) = ChunkKeys("", String(sep), order == 'C')
"The chunk keys of a v3 array: encoding \"default\" (`c/1/0`) or \"v2\" (`1.0`)."
chunk_keys_v3(encoding::AbstractString, sep::AbstractString) = ChunkKeys(encoding == "default" ? "c" : "", String(sep),
    true)

function chunk_key(cidx, k::ChunkKeys)
    if isempty(cidx)
        return isempty(k.prefix) ? "0" : k.prefix      # a 0-d array's only chunk
    end
    z = k.reversed ? reverse(collect(cidx)) : collect(cidx)
    body = join(z .- 1, k.sep)
    return isempty(k.prefix) ? body : string(k.prefix, k.sep, body)
end

"Inverse of `chunk_key`: the 1-based Julia chunk index, or `nothing` if `key` is not a chunk key."
function chunk_index(key::AbstractString, n::Int, k::ChunkKeys)
    if !isempty(k.prefix)
        n == 0 && return key == k.prefix ? () : nothing
        startswith(key, k.prefix * k.sep) || return nothing
        key = key[ncodeunits(k.prefix * k.sep) + 1:end]
    end
    return chunk_index(key, n, k.reversed ? 'C' : 'F', k.sep)
end

# ---------------------------------------------------------------------------------------------
# Transposes (v3's `transpose` codec, and v2's order "F")

"""
    transpose_julia_perm(p) -> Vector{Int}

The Julia permutation of a v3 `transpose` with 0-based Zarr permutation `p` (encoded array
`B = A.transpose(p)`), for arrays held in the reversed layout: `Bj = permutedims(Aj, q)` with
`q[k] = n - p[n-k]` (1-based k, `p[n-k]` p's 0-based element n-k).  Why: Julia axis k of Aj is
Zarr axis n-k; Bj's axis k is B's Zarr axis n-k, which is A's axis p[n-k], which is Aj's axis
n - p[n-k].  (`p .+ 1` is right only for the identity and the full reversal.)
"""
function transpose_julia_perm(p::AbstractVector{<:Integer})
    n = length(p)
    return [n - Int(p[n - k + 1]) for k in 1:n]
end

"Zarr shape of `A.transpose(p)` for an array of Zarr shape `shape` (0-based `p`)."
transposed_shape(shape, p) = [shape[Int(i) + 1] for i in p]

"""
    chunk_encode_perm(order, perms, n) -> Vector{Int} or nothing

The permutation taking a Julia chunk (layout `order`: 'C' reversed, 'F' as v2's order F) to the
array the array→bytes codec serializes (reversed layout of the encoded Zarr shape), after the
transposes `perms` (0-based Zarr permutations, in codec order).  `nothing` when that is the
identity: the chunk's memory is then the serialized array as it is.
"""
function chunk_encode_perm(order::Char, perms, n::Int)
    # the Julia chunk is permutedims(Aj, L) (L the reversal for order 'F'), so Aj is
    # permutedims(chunk, invperm(L)); each transpose then permutes by its q:
    # permutedims(permutedims(X, a), b) == permutedims(X, a[b])
    total = order == 'F' ? collect(n:-1:1) : collect(1:n)
    for p in perms
        total = total[transpose_julia_perm(p)]
    end
    return total == 1:n ? nothing : total
end
