# zarr v3 "cast_value" (zarr-extensions; zarr-python 3.4 through the cast-value-rs package): an
# array→array codec that converts values to `data_type` on encode and back to the array's data
# type on decode, by value (not by bit pattern).
#
# Configuration: {"data_type": "uint8", "rounding": "nearest-even" | "towards-zero" |
# "towards-positive" | "towards-negative" | "nearest-away", "out_of_range": "clamp" | "wrap"
# (absent / null / "error": error), "scalar_map": {"encode": [[src, tgt], …], "decode": [[tgt, src], …]}}.
#
# The semantics are cast-value-rs' as zarr-python 3.4 uses them (measured, see the tests):
# - scalar_map entries are applied first: a value equal to a key (NaN matches NaN) becomes the
#   mapped value; the encode map is used on encode, the decode map on decode.
# - float → int: round with the rounding mode, then range: error, clamp to the type's
#   min/max, or wrap modulo 2^bits.  NaN and ±Inf are an error whatever out_of_range says.
# - int → int: rounding does not apply; range as above.
# - → float (narrowing float, or int): round to the target's precision with the rounding mode
#   (IEEE directed rounding, subnormals included; to nearest float64 → float16 rounds via
#   float32, as cast-value-rs does); a finite value whose rounded magnitude exceeds
#   the target's largest finite value, or that is ≥ 2^(emax+1) whatever the mode, is out of
#   range: an error, or ±Inf with "clamp" ("wrap" is only valid for integer targets).  NaN and
#   ±Inf map to themselves.
# Source and target types: int8–64, uint8–64, float16/32/64 (cast_value's sub-byte and float8
# types are not supported here: a CodecError).
#
# Included after codecs.jl (ArrayFilter, _values, values_to_bytes, parse_data_type, decode_fill_value_v3).

const CAST_VALUE_ROUNDING = Dict("nearest-even" => :nearest_even, "towards-zero" => :towards_zero,
    "towards-positive" => :towards_positive, "towards-negative" => :towards_negative, "nearest-away" => :nearest_away)
const CAST_VALUE_TYPES = Dict("int8" => Int8, "int16" => Int16, "int32" => Int32, "int64" => Int64,
    "uint8" => UInt8, "uint16" => UInt16, "uint32" => UInt32, "uint64" => UInt64,
    "float16" => Float16, "float32" => Float32, "float64" => Float64)
# named by the extension, not available in PolyZarr.jl's data types
const CAST_VALUE_OTHER_TYPES = ("int2", "int4", "uint2", "uint4", "float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn",
    "float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
    "float8_e8m0fnu", "bfloat16")

"v3 cast_value: `source` (the array's data type) ⇄ `target` (`data_type`)."
struct CastValueFilter <: ArrayFilter
    source::ZDtype
    target::ZDtype
    source_json::String
    target_json::String
    rounding::Symbol                   # :nearest_even, :towards_zero, :towards_positive, :towards_negative,
                                       # :nearest_away
    out_of_range::Symbol               # :error, :clamp, :wrap
    encode_map::Vector{Pair{Any,Any}}  # source value => target value
    decode_map::Vector{Pair{Any,Any}}  # target value => source value
    config::Dict{String,Any}           # as given (for to_json)
end

function _cast_value_type(name, key, role)
    name isa AbstractString || throw(CodecError(key, "cast_value: the $role data type must be a name, got " *
        "$(repr(name))"))
    haskey(CAST_VALUE_TYPES, name) && return String(name)
    name in CAST_VALUE_OTHER_TYPES &&
        throw(CodecError(key, "cast_value: the $role data type $(repr(name)) is not supported by PolyZarr.jl " *
            "(int8–64, uint8–64, float16/32/64 are)"))
    throw(CodecError(key, "cast_value: the $role data type must be an integer or floating-point type, got " *
        "$(repr(name))"))
end

function _cast_value_scalar(dt_json, dt::ZDtype, x, key)
    try
        return decode_fill_value_v3(dt_json, dt, x; key=key)
    catch e
        e isa PolyZarrError || rethrow()
        throw(CodecError(key, "cast_value: $(repr(x)) is not representable in $dt_json ($(e.msg))"))
    end
end

"""
    CastValueFilter(cfg::AbstractDict, source_data_type; key="")

From a v3 configuration and the array's v3 data type name (the source). Unknown keys, a
missing or unsupported `data_type`, unknown modes, "wrap" for a float target, or scalar_map
entries not representable in their types raise `CodecError` naming `key` (the configuration's path).
"""
function CastValueFilter(cfg::AbstractDict, source_json; key::AbstractString="")
    key = String(key)
    for k in keys(cfg)
        k in ("data_type", "rounding", "out_of_range", "scalar_map") ||
            throw(CodecError(key, "cast_value: unknown configuration key $(repr(k))"))
    end
    haskey(cfg, "data_type") || throw(CodecError(key, "cast_value: missing \"data_type\""))
    tj = _cast_value_type(cfg["data_type"], key * ".data_type", "target")
    sj = _cast_value_type(source_json, key, "source (array)")
    r = get(cfg, "rounding", "nearest-even")
    haskey(CAST_VALUE_ROUNDING, r) || throw(CodecError(key * ".rounding",
        "cast_value: \"rounding\" must be one of $(join(sort(collect(keys(CAST_VALUE_ROUNDING))), ", ")), got " *
            "$(repr(r))"))
    o = get(cfg, "out_of_range", nothing)
    oor = o === nothing || o == "error" ? :error : o == "clamp" ? :clamp : o == "wrap" ? :wrap :
          throw(CodecError(key * ".out_of_range", "cast_value: \"out_of_range\" must be \"clamp\", \"wrap\" or " *
              "absent (error), got $(repr(o))"))
    T = CAST_VALUE_TYPES[tj]
    (oor == :wrap && !(T <: Integer)) &&
        throw(CodecError(key * ".out_of_range", "cast_value: \"wrap\" is only valid for integer target types, not $tj"))
    src = parse_data_type(sj)
    tgt = parse_data_type(tj)
    maps = Dict{String,Vector{Pair{Any,Any}}}("encode" => Pair{Any,Any}[], "decode" => Pair{Any,Any}[])
    sm = get(cfg, "scalar_map", nothing)
    if sm !== nothing
        sm isa AbstractDict || throw(CodecError(key * ".scalar_map", "cast_value: must be an object with \"encode\" " *
            "/ \"decode\" lists"))
        for (dir, entries) in sm
            dir in ("encode", "decode") || throw(CodecError(key * ".scalar_map", "cast_value: unknown key " *
                "$(repr(dir)) (encode, decode)"))
            entries === nothing && continue
            ekey = string(key, ".scalar_map.", dir)
            (kj, kd, vj, vd) = dir == "encode" ? (sj, src, tj, tgt) : (tj, tgt, sj, src)
            pairs = entries isa AbstractDict ? collect(entries) : entries
            pairs isa AbstractVector || throw(CodecError(ekey, "cast_value: must be a list of [key, value] pairs"))
            for (i, p) in enumerate(pairs)
                pk = string(ekey, "[", i - 1, "]")
                if p isa Pair
                    a, b = p.first, p.second
                elseif p isa AbstractVector && length(p) == 2
                    a, b = p[1], p[2]
                else
                    throw(CodecError(pk, "cast_value: a scalar_map entry must be a [key, value] pair, got $(repr(p))"))
                end
                push!(maps[dir], _cast_value_scalar(kj, kd, a, pk) => _cast_value_scalar(vj, vd, b, pk))
            end
        end
    end
    return CastValueFilter(src, tgt, sj, tj, CAST_VALUE_ROUNDING[r], oor, maps["encode"], maps["decode"],
                           Dict{String,Any}(cfg))
end

_sm_match(k, x) = (k isa AbstractFloat && isnan(k)) ? (x isa AbstractFloat && isnan(x)) : x == k

# ---- one value

struct CastError <: Exception
    msg::String
end

_roundmode(r::Symbol) = r === :nearest_even ? RoundNearest : r === :towards_zero ? RoundToZero :
                        r === :towards_positive ? RoundUp : r === :towards_negative ? RoundDown : RoundNearestTiesAway

# an integral value (float or integer) → integer type T with the out_of_range mode
function _cv_to_int(::Type{T}, v, oor::Symbol) where {T<:Integer}
    typemin(T) <= v <= typemax(T) && return v isa Integer ? v % T : T(v)
    if oor === :clamp
        return v < typemin(T) ? typemin(T) : typemax(T)
    elseif oor === :wrap
        b = v isa Integer ? BigInt(v) : BigInt(v)               # integral floats convert exactly
        return (mod(b, BigInt(2)^(8 * sizeof(T))) % UInt64) % T
    end
    throw(CastError("value $v is out of range [$(typemin(T)), $(typemax(T))] of $(T); set out_of_range to \"clamp\" " *
        "or \"wrap\""))
end

function cast_one(::Type{T}, x::AbstractFloat, r::Symbol, oor::Symbol) where {T<:Integer}
    isfinite(x) || throw(CastError("cannot cast $x to an integer type without a scalar_map entry"))
    return _cv_to_int(T, round(x, _roundmode(r)), oor)
end
cast_one(::Type{T}, x::Integer, r::Symbol, oor::Symbol) where {T<:Integer} = _cv_to_int(T, x, oor)

# |a - b| for a source value and a nearby candidate, exactly: floats are close (Sterbenz), ints in Int128.
_absdiff(x::AbstractFloat, y::AbstractFloat) = abs(Float64(x) - Float64(y))
_absdiff(x::Integer, y::AbstractFloat) = abs(Int128(x) - Int128(y))

_abs(x::Integer) = abs(Int128(x))
_abs(x) = abs(x)

# 2^(emax+1): at or beyond it a finite value is out of range for T whatever the rounding
_cv_limit(::Type{Float16}) = 65536.0
_cv_limit(::Type{Float32}) = 2.0^128
_cv_limit(::Type{Float64}) = Inf

# x rounded to T to nearest, ties to even, as cast-value-rs does it: float64 → float16 goes through
# float32 (rounding twice: 1 + 2^-11 + 2^-40 gives 1.0, 65519.99999999 gives Inf), every other
# conversion rounds once.  Directed modes start from this value and step with exact comparisons,
# which gives the correctly rounded result (cast-value-rs' too).
_nearest_even(::Type{T}, x) where {T<:AbstractFloat} = T(x)
_nearest_even(::Type{Float16}, x::Float64) = Float16(Float32(x))

function cast_one(::Type{T}, x::Real, r::Symbol, oor::Symbol) where {T<:AbstractFloat}
    if x isa AbstractFloat
        isnan(x) && return T(NaN)
        isinf(x) && return x > 0 ? T(Inf) : T(-Inf)
        sizeof(typeof(x)) <= sizeof(T) && return T(x)            # widening is exact
    end
    out = _abs(x) >= _cv_limit(T)
    y = T(0)
    if !out
        y = _nearest_even(T, x)
        if r !== :nearest_even && y != x                         # y == ±Inf compares beyond any finite x
            if r === :towards_zero
                abs(y) > _abs(x) && (y = x > 0 ? prevfloat(y) : nextfloat(y))
            elseif r === :towards_positive
                y < x && (y = nextfloat(y))
            elseif r === :towards_negative
                y > x && (y = prevfloat(y))
            elseif !isinf(y) # nearest-away: a tie went to the even neighbour; go away from zero instead
                other = y < x ? nextfloat(y) : prevfloat(y)
                (abs(other) > abs(y) && !isinf(other) && _absdiff(x, y) == _absdiff(x, other)) && (y = other)
            end
        end
        out = isinf(y)
    end
    if out
        oor === :clamp && return x > 0 ? T(Inf) : T(-Inf)
        throw(CastError("value $x is out of range [$(-floatmax(T)), $(floatmax(T))] of $T; set out_of_range to " *
            "\"clamp\" to map it to ±Inf"))
    end
    return y
end

function cast_values(::Type{T}, vals::AbstractVector, map::Vector{Pair{Any,Any}}, r::Symbol, oor::Symbol,
                     key::String) where {T}
    out = Vector{T}(undef, length(vals))
    for i in eachindex(vals)
        x = vals[i]
        j = findfirst(p -> _sm_match(p.first, x), map)
        try
            out[i] = j === nothing ? cast_one(T, x, r, oor) : T(map[j].second)
        catch e
            e isa CastError || rethrow()
            throw(CodecError(key, "cast_value: element $(i - 1): $(e.msg)"))
        end
    end
    return out
end

_cv_input(dt::ZDtype, x, key) = x isa Vector{UInt8} ? _values(dt, x, key) : x

"Encode: values (or bytes) of the source type → bytes of `data_type`. Out-of-range values raise CodecError(key)."
filter_encode(f::CastValueFilter, x; key::AbstractString="") =
    values_to_bytes(f.target, cast_values(f.target.T, _cv_input(f.source, x, String(key)), f.encode_map, f.rounding,
                                          f.out_of_range, String(key)))

"Decode: bytes of `data_type` → bytes of the array's type (same rounding / out_of_range, the decode map)."
filter_decode(f::CastValueFilter, b; key::AbstractString="") =
    values_to_bytes(f.source, cast_values(f.source.T,
                                          _cv_input(f.target, b isa Vector{UInt8} ? b : Vector{UInt8}(b), String(key)),
                                         f.decode_map, f.rounding, f.out_of_range, String(key)))

"The encoded fill value (zarr-python: the fill value cast with the encode map)."
cast_value_fill(f::CastValueFilter, fill; key::AbstractString="") =
    cast_values(f.target.T, [f.source.T(fill)], f.encode_map, f.rounding, f.out_of_range, String(key))[1]

"zarr-python 3.4's JSON: data_type always; rounding, out_of_range, scalar_map only when not the defaults."
function v3_codec_json(f::CastValueFilter)
    cfg = Dict{String,Any}("data_type" => f.target_json)
    r = [k for (k, v) in CAST_VALUE_ROUNDING if v === f.rounding][1]
    r == "nearest-even" || (cfg["rounding"] = r)
    f.out_of_range === :error || (cfg["out_of_range"] = String(f.out_of_range))
    haskey(f.config, "scalar_map") && f.config["scalar_map"] !== nothing && (cfg["scalar_map"] = f.config["scalar_map"])
    return Dict{String,Any}("name" => "cast_value", "configuration" => cfg)
end

cast_value_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = CastValueFilter(cfg, ctx.dt_json; key=ckey)
encoded_dtype(f::CastValueFilter, dt::ZDtype) = f.target
encoded_fill(f::CastValueFilter, dt::ZDtype, fill) = cast_value_fill(f, fill)
filter_config(f::CastValueFilter) = v3_codec_json(f)
