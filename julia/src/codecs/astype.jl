# numcodecs "astype" (v2 filter), and numpy's astype casts shared by the numeric filters.

"numcodecs AsType: store as `encode_dtype`, decode to `decode_dtype`."
struct AsTypeFilter <: ArrayFilter
    encode_dtype::ZDtype
    decode_dtype::ZDtype
end
# numpy astype between numeric types: float→int truncates toward zero, int→int wraps.
_cast(::Type{T}, x::T) where {T} = x
_cast(::Type{Bool}, x::Number) = !iszero(x)
_cast(::Type{T}, x::Integer) where {T<:Integer} = x % T
_cast(::Type{T}, x::Bool) where {T<:Integer} = T(x)
_cast(::Type{T}, x::AbstractFloat) where {T<:Integer} =
    isfinite(x) ? (abs(x) < 9.2e18 ? unsafe_trunc(Int64, x) % T : unsafe_trunc(Int128, x) % T) : zero(T)
_cast(::Type{T}, x::Real) where {T<:AbstractFloat} = T(x)
_cast(::Type{T}, x::Number) where {T<:Complex} = T(x)
function filter_encode(f::AsTypeFilter, x)
    arr = _values(f.decode_dtype, _encode_input(f.decode_dtype, x), "")
    A = f.encode_dtype.T
    return values_to_bytes(f.encode_dtype, A[_cast(A, v) for v in arr])
end

# Decoding casts the stored values (`src`) to the decoded type (`dst`); quantize decodes the same way.
function _cast_values(src::ZDtype, dst::ZDtype, b, key)
    enc = _values(src, b, key)
    T = dst.T
    return values_to_bytes(dst, T[_cast(T, x) for x in enc])
end

filter_decode(f::AsTypeFilter, b; key::AbstractString="") = _cast_values(f.encode_dtype, f.decode_dtype, b, key)

encoded_itemsize(f::AsTypeFilter, input::Int) = f.encode_dtype.itemsize

function astype_from_v2(cfg::AbstractDict, key::String)
    enc, dec = _cfg_dtype(cfg, "encode_dtype", key), _cfg_dtype(cfg, "decode_dtype", key)
    _numeric(enc, key, "astype")
    _numeric(dec, key, "astype")
    return AsTypeFilter(enc, dec)
end

filter_config(f::AsTypeFilter) = Dict{String,Any}("id" => "astype", "encode_dtype" => f.encode_dtype.typestr,
    "decode_dtype" => f.decode_dtype.typestr)

encoded_dtype(f::AsTypeFilter, dt::ZDtype) = f.encode_dtype
