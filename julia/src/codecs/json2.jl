# numcodecs "json2" (v2 object codec): values as JSON text.

"numcodecs JSON (`json2`): `[values..., dtype, shape]` as JSON text."
struct JSON2Filter <: ArrayFilter
    config::Dict{String,Any}
end
object_eltype(::JSON2Filter) = Any
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

"numcodecs json2 (v2 only): lists the chunk in C order of its Zarr shape, whatever its memory order."
struct JSON2Serializer <: ArrayToBytesCodec
    filter::JSON2Filter
end
function serializer_decode(s::JSON2Serializer, p::Pipeline, b; key::AbstractString="")
    x = filter_decode(s.filter, b; key=key)
    n = chunk_length(p)
    vals = x.values
    length(vals) == n || throw(ChunkError(key, "decoded to $(length(vals)) items, expected $n (chunk $(p.chunks))"))
    # zarr 2.x lists an F chunk in its logical (Zarr) shape, C order: reorder into F memory order.  A
    # list in the reversed shape is already in memory order (as zarr 2.x's own reader takes every list).
    zshape = collect(Int, p.chunks)
    in_memory_order = is_reversed_shape(x.shape, zshape)
    in_memory_order || (vals = c_order_to_memory(vals, p.chunks, p.order))
    return p.dtype.T === Any ? vals : convert(Vector{p.dtype.T}, vals)
end
serializer_encode(s::JSON2Serializer, p::Pipeline, A::AbstractArray) = json2_encode(p, vec(A))
# numcodecs JSON: the chunk as nested lists in C order, then dtype "|O" and the shape.
function json2_encode(p::Pipeline, v::AbstractVector)
    shape = p.chunks
    C = to_reversed_layout(chunk_array(collect(Any, v), shape, p.order), p.order)
    items = isempty(shape) ? Any[v[1]] : _nest(C, shape)
    push!(items, "|O")
    push!(items, shape)
    return Vector{UInt8}(codeunits(json_string(items; indent=nothing)))
end
function _nest(C, shape, prefix=())
    d = length(prefix) + 1
    if d == length(shape)
        return Any[C[julia_index((prefix..., i))...] for i in 1:shape[d]]
    end
    return Any[_nest(C, shape, (prefix..., i)) for i in 1:shape[d]]
end

json2_from_v2(cfg::AbstractDict, key::String) = JSON2Filter(Dict{String,Any}(cfg))
filter_config(f::JSON2Filter) = f.config
