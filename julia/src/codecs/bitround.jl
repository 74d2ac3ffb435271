# numcodecs "bitround" (v3: "numcodecs.bitround", configuration {"keepbits": k}): round the
# mantissa of float16/32/64 values to `keepbits` bits, round-half-to-even on the bit pattern
# (numcodecs' exact integer steps); decoding is the identity.  The filter needs the dtype it is
# given (numcodecs takes it from the array): from the v2 .zarray dtype / v3 data type.
#
# Included after codecs.jl (ArrayFilter, ZDtype, _values, values_to_bytes, _encode_input).

"numcodecs BitRound: keep `keepbits` mantissa bits of floats of `dtype` (lossy encode; decode is identity)."
struct BitRoundFilter <: ArrayFilter
    keepbits::Int
    dtype::ZDtype
end

const BITROUND_MANTISSA_BITS = Dict(Float16 => 10, Float32 => 23, Float64 => 52)

"""
    BitRoundFilter(cfg::AbstractDict, dtype::ZDtype; key="")

From a numcodecs config `{"id": "bitround", "keepbits": k}` (v3 configuration: no id) and the
array's dtype (a float type). `keepbits` above the type's mantissa bits (10, 23, 52) or negative,
or a non-float dtype, raises `CodecError(key, …)`.
"""
function BitRoundFilter(cfg::AbstractDict, dtype::ZDtype; key::AbstractString="")
    key = String(key)
    for k in keys(cfg)
        k in ("id", "keepbits") || throw(CodecError(key, "codec \"bitround\": unknown parameter $(repr(k)) " *
            "(expected keepbits)"))
    end
    kb = get(cfg, "keepbits", nothing)
    kb === nothing && throw(CodecError(key, "codec \"bitround\": missing \"keepbits\""))
    (kb isa Integer && !(kb isa Bool)) ||
        throw(CodecError(key * ".keepbits", "codec \"bitround\": \"keepbits\" must be an integer, got $(repr(kb))"))
    kb >= 0 || throw(CodecError(key * ".keepbits", "codec \"bitround\": \"keepbits\" must be zero or positive, got " *
        "$kb"))
    haskey(BITROUND_MANTISSA_BITS, dtype.T) ||
        throw(CodecError(key, "codec \"bitround\": only float16, float32 and float64 can be bit-rounded, not " *
            "$(dtype.typestr)"))
    maxbits = BITROUND_MANTISSA_BITS[dtype.T]
    kb <= maxbits || throw(CodecError(key * ".keepbits", "codec \"bitround\": \"keepbits\" $kb is too large for " *
        "$(dtype.typestr) (at most $maxbits)"))
    return BitRoundFilter(Int(kb), dtype)
end

_bitround_uint(::Type{Float16}) = UInt16
_bitround_uint(::Type{Float32}) = UInt32
_bitround_uint(::Type{Float64}) = UInt64

"`x` with its mantissa rounded to `keepbits` bits (numcodecs' integer arithmetic, wrapping)."
function bitround(x::T, keepbits::Int) where {T<:Union{Float16,Float32,Float64}}
    maxbits = BITROUND_MANTISSA_BITS[T]
    keepbits == maxbits && return x
    U = _bitround_uint(T)
    m = maxbits - keepbits
    b = reinterpret(U, x)
    mask = ~zero(U) << m
    half = (one(U) << (m - 1)) - one(U)
    b += ((b >> m) & one(U)) + half             # the arithmetic shift of numpy's signed view has the same bit m
    return reinterpret(T, b & mask)
end

function filter_encode(f::BitRoundFilter, x)
    arr = _values(f.dtype, _encode_input(f.dtype, x), "")
    kb = f.keepbits
    return values_to_bytes(f.dtype, [bitround(v, kb) for v in arr])
end

# Decoding is the identity (numcodecs views the integers as floats again).
filter_decode(f::BitRoundFilter, b; key::AbstractString="") = b isa Vector{UInt8} ? copy(b) : Vector{UInt8}(b)

filter_config(f::BitRoundFilter) = Dict{String,Any}("id" => "bitround", "keepbits" => f.keepbits)
v3_codec_json(f::BitRoundFilter) = Dict{String,Any}("name" => "numcodecs.bitround",
                                                    "configuration" => Dict{String,Any}("keepbits" => f.keepbits))

"A bitround config waiting for the dtype of the values it will see (`with_dtype`)."
struct BitRoundPending <: ArrayFilter
    cfg::Dict{String,Any}
    key::String
end
function bitround_from_v2(cfg::AbstractDict, key::String)
    kb = get(cfg, "keepbits", nothing)
    (kb isa Integer && !(kb isa Bool)) ||
        throw(CodecError(key, "codec \"bitround\": \"keepbits\" must be an integer, got $(repr(kb))"))
    return BitRoundPending(Dict{String,Any}(cfg), key)
end
with_dtype(f::BitRoundPending, dt::ZDtype) = BitRoundFilter(f.cfg, dt; key=f.key)
with_dtype(f::BitRoundFilter, dt::ZDtype) = f
filter_config(f::BitRoundPending) = Dict{String,Any}("id" => "bitround", "keepbits" => f.cfg["keepbits"])
filter_encode(f::BitRoundPending, x) = throw(CodecError(f.key, "bitround: the dtype is not known"))
filter_decode(f::BitRoundPending, b; key::AbstractString="") = b isa Vector{UInt8} ? copy(b) : Vector{UInt8}(b)
encoded_itemsize(f::BitRoundFilter, input::Int) = input
encoded_itemsize(f::BitRoundPending, input::Int) = input
