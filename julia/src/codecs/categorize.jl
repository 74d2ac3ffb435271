# numcodecs "categorize" (v2 filter; an object codec when its dtype is |O).

"numcodecs Categorize: strings → 1-based label index (0 = not a label)."
struct CategorizeFilter <: ArrayFilter
    labels::Vector{String}
    dtype::ZDtype
    astype::ZDtype
end
object_eltype(f::CategorizeFilter) = f.dtype.kind == 'O' ? String : nothing
function filter_decode(f::CategorizeFilter, b; key::AbstractString="")
    enc = _values(f.astype, b, key)
    strs = String[(1 <= e <= length(f.labels)) ? f.labels[Int(e)] : "" for e in enc]
    f.dtype.kind == 'O' && return strs
    T = f.dtype.T
    return values_to_bytes(f.dtype, [T(s) for s in strs])
end
function filter_encode(f::CategorizeFilter, x)
    vals = x isa Vector{UInt8} ? _values(f.dtype, x, "") : x
    A = f.astype.T
    enc = A[_cast(A, something(findfirst(==(String(v)), f.labels), 0)) for v in vals]
    return values_to_bytes(f.astype, enc)
end

encoded_itemsize(f::CategorizeFilter, input::Int) = f.astype.itemsize

function categorize_from_v2(cfg::AbstractDict, key::String)
    labels = get(cfg, "labels", nothing)
    (labels isa AbstractVector && all(x -> x isa AbstractString, labels)) ||
        throw(CodecError(key, "categorize: labels must be a list of strings"))
    dt = _cfg_dtype(cfg, "dtype", key)
    dt.kind in ('U', 'O') || throw(CodecError(key, "categorize: dtype must be <U or |O, got $(dt.typestr)"))
    return CategorizeFilter(String.(labels), dt, _cfg_dtype(cfg, "astype", key; default=parse_dtype("|u1")))
end

filter_config(f::CategorizeFilter) = Dict{String,Any}("id" => "categorize", "labels" => f.labels,
    "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)
