# numcodecs "delta" (v2 filter).

"numcodecs Delta: element-wise differences (stored as `astype`)."
struct DeltaFilter <: ArrayFilter
    dtype::ZDtype
    astype::ZDtype
end
function filter_decode(f::DeltaFilter, b; key::AbstractString="")
    _numeric(f.dtype, key, "delta")
    enc = _values(f.astype, b, key)
    T = f.dtype.T
    dec = Vector{T}(undef, length(enc))
    acc = zero(T)
    for i in eachindex(enc)
        acc = T <: Integer ? acc + _cast(T, enc[i]) : acc + T(enc[i])   # wraps like numpy
        dec[i] = acc
    end
    return values_to_bytes(f.dtype, dec)
end
function filter_encode(f::DeltaFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    A = f.astype.T
    enc = Vector{A}(undef, length(arr))
    for i in eachindex(arr)
        d = i == 1 ? arr[1] : (T <: Integer ? arr[i] - arr[i - 1] : arr[i] - arr[i - 1])
        enc[i] = _cast(A, d)
    end
    return values_to_bytes(f.astype, enc)
end

encoded_itemsize(f::DeltaFilter, input::Int) = f.astype.itemsize

function delta_from_v2(cfg::AbstractDict, key::String)
    dt = _cfg_dtype(cfg, "dtype", key)
    astype = _cfg_dtype(cfg, "astype", key; default=dt)
    _numeric(dt, key, "delta")
    _numeric(astype, key, "delta")
    return DeltaFilter(dt, astype)
end

filter_config(f::DeltaFilter) =
    Dict{String,Any}("id" => "delta", "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)

encoded_dtype(f::DeltaFilter, dt::ZDtype) = f.astype
elementwise(f::DeltaFilter) = false
