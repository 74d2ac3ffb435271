# numcodecs "quantize" (v2 filter).

"numcodecs Quantize: keep `digits` decimal digits (lossy; decoding is a cast)."
struct QuantizeFilter <: ArrayFilter
    digits::Int
    dtype::ZDtype
    astype::ZDtype
end
function filter_encode(f::QuantizeFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    # numcodecs' exact steps: precision → decimal exponent → bits → power-of-two scale
    precision = 10.0^-f.digits
    ex = log10(precision)
    ex = ex < 0 ? floor(ex) : ceil(ex)
    bits = ceil(log2(10.0^-ex))
    scale = T(2.0^bits)
    A = f.astype.T
    return values_to_bytes(f.astype, A[_cast(A, round(scale * v) / scale) for v in arr])
end

filter_decode(f::QuantizeFilter, b; key::AbstractString="") = _cast_values(f.astype, f.dtype, b, key)

encoded_itemsize(f::QuantizeFilter, input::Int) = f.astype.itemsize

function quantize_from_v2(cfg::AbstractDict, key::String)
    dt = _cfg_dtype(cfg, "dtype", key)
    dt.kind == 'f' || throw(CodecError(key, "quantize: dtype must be a float type, got $(dt.typestr)"))
    d = _cfg_number(cfg, "digits", key)
    d isa Integer || throw(CodecError(key, "quantize: digits must be an integer"))
    astype = _cfg_dtype(cfg, "astype", key; default=dt)
    _numeric(astype, key, "quantize")
    return QuantizeFilter(d, dt, astype)
end

filter_config(f::QuantizeFilter) = Dict{String,Any}("id" => "quantize", "digits" => f.digits,
    "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)

encoded_dtype(f::QuantizeFilter, dt::ZDtype) = f.astype
