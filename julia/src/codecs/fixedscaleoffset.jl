# numcodecs "fixedscaleoffset" (v2 filter).

"numcodecs FixedScaleOffset: round((x - offset) * scale) stored as `astype`."
struct FixedScaleOffsetFilter <: ArrayFilter
    offset::Real
    scale::Real
    dtype::ZDtype
    astype::ZDtype
end
_fso_float(::Type{T}) where {T} = T <: AbstractFloat ? T : Float64

function filter_decode(f::FixedScaleOffsetFilter, b; key::AbstractString="")
    enc = _values(f.astype, b, key)
    F = _fso_float(f.astype.T)       # int / python scalar → float64; float32 stays float32 (NEP 50)
    T = f.dtype.T
    sc, off = F(f.scale), F(f.offset)
    dec = T[_cast(T, F(x) / sc + off) for x in enc]
    return values_to_bytes(f.dtype, dec)
end
function filter_encode(f::FixedScaleOffsetFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    T = f.dtype.T
    A = f.astype.T
    F = T <: AbstractFloat ? T : ((f.offset isa Integer && f.scale isa Integer) ? Int64 : Float64)
    off, sc = F(f.offset), F(f.scale)
    enc = A[_cast(A, F <: Integer ? (F(v) - off) * sc : round((F(v) - off) * sc)) for v in arr]
    return values_to_bytes(f.astype, enc)
end

encoded_itemsize(f::FixedScaleOffsetFilter, input::Int) = f.astype.itemsize

function fixedscaleoffset_from_v2(cfg::AbstractDict, key::String)
    dt = _cfg_dtype(cfg, "dtype", key)
    _numeric(dt, key, "fixedscaleoffset")
    _numeric(_cfg_dtype(cfg, "astype", key; default=dt), key, "fixedscaleoffset")
    scale = _cfg_number(cfg, "scale", key)
    # decoding divides by the scale: 0 would read every value as ±Inf
    (isfinite(scale) && scale != 0) ||
        throw(MetadataError(key * ".scale", "fixedscaleoffset: the scale must be a finite non-zero number, got $scale"))
    isfinite(_cfg_number(cfg, "offset", key)) ||
        throw(MetadataError(key * ".offset", "fixedscaleoffset: the offset must be finite"))
    return FixedScaleOffsetFilter(_cfg_number(cfg, "offset", key), scale, dt,
                                  _cfg_dtype(cfg, "astype", key; default=dt))
end

filter_config(f::FixedScaleOffsetFilter) = Dict{String,Any}("id" => "fixedscaleoffset", "offset" => f.offset,
    "scale" => f.scale, "dtype" => f.dtype.typestr, "astype" => f.astype.typestr)

encoded_dtype(f::FixedScaleOffsetFilter, dt::ZDtype) = f.astype
