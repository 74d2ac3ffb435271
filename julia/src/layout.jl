# The ONE place for axis order.  Zarr shape S with order "C" is a Julia array of size reverse(S)
# (a C-order chunk's bytes are a column-major array of size reverse(chunks)); order "F" is a Julia
# array of size S (an F chunk's bytes are column-major of size chunks).  Chunk keys follow.

"Julia array size for a Zarr `shape` stored in `order` ('C' or 'F')."
julia_size(shape, order::Char) = order == 'C' ? Tuple(reverse(collect(Int, shape))) : Tuple(collect(Int, shape))
julia_size(shape, order::AbstractString) = julia_size(shape, order[1])

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

"Convention for writing a Julia array: :reverse declares C with shape reverse(size), :F declares F."
function convention_order(convention::Symbol)
    convention === :reverse && return 'C'
    convention === :F && return 'F'
    throw(ArgumentError("convention must be :reverse or :F, got :$convention"))
end
