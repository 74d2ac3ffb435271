# xarray datasets: a Zarr group of arrays with dimension names, read lazily with CF decoding as
# xarray does it by default (xarray/conventions.py decode_cf_variable and the coders in
# xarray/coding/{variables,times,strings}.py, with the zarr backend's fill-value rules), and
# written so that `xarray.open_zarr` decodes them to the values Julia wrote.
#
# Only the public API of the package is used: open_store, open_array, list_nodes, read_attributes,
# read_consolidated, dimnames, zorder, write_array, create_group, write_attributes!,
# consolidate_metadata (plus the fill of a v2 array, `a.meta.fill_value` / `a.meta.fill`, which
# xarray's zarr backend uses as `_FillValue`).
#
# Where Julia differs from numpy on purpose: masked values are `missing` (not NaN/NaT), and a masked
# integer variable without scale/offset stays an integer (`Union{Missing,Int16}`: xarray promotes it
# to float only because numpy has no missing); standard-calendar times read as `DateTime` when their
# encoding is millisecond-exact (integers, a unit of ms or coarser, no packing), else as the
# nanosecond-precise `CFDateTime{:proleptic_gregorian}` (xarray's datetime64[ns]).

# ---------------------------------------------------------------------------------------------
# calendar dates

"""
    CFDateTime{C}

A date and time in the CF calendar `C`: `:noleap` (365_day), `:all_leap` (366_day), `:360_day`,
`:julian`, `:standard` (Julian before 1582-10-15, Gregorian after, as cftime counts it) or
`:proleptic_gregorian` (the nanosecond-precise form of standard times that `DateTime`'s
milliseconds cannot hold).  Fields `year, month, day, hour, minute, second, nanosecond`.
`DateTime(x)` converts dates that exist in the Gregorian calendar (sub-millisecond parts are
floored); `string(x)` is ISO 8601 (`2000-02-30T12:00:00`).
"""
struct CFDateTime{C}
    year::Int
    month::Int
    day::Int
    hour::Int
    minute::Int
    second::Int
    nanosecond::Int
end

const CF_CALENDARS = Dict{String,Symbol}(
    "standard" => :standard, "gregorian" => :standard, "proleptic_gregorian" => :proleptic_gregorian,
    "noleap" => :noleap, "365_day" => :noleap, "all_leap" => :all_leap, "366_day" => :all_leap,
    "360_day" => Symbol("360_day"), "julian" => :julian)

CFDateTime{C}(y::Integer, m::Integer=1, d::Integer=1, H::Integer=0, M::Integer=0, S::Integer=0) where {C} =
    (_check_cfdate(C, y, m, d); CFDateTime{C}(Int(y), Int(m), Int(d), Int(H), Int(M), Int(S), 0))
CFDateTime{C}(x::Dates.DateTime) where {C} =
    CFDateTime{C}(Dates.year(x), Dates.month(x), Dates.day(x), Dates.hour(x), Dates.minute(x), Dates.second(x),
                  Dates.millisecond(x) * 1_000_000)

calendar(::CFDateTime{C}) where {C} = C
Dates.year(x::CFDateTime) = x.year
Dates.month(x::CFDateTime) = x.month
Dates.day(x::CFDateTime) = x.day
Dates.hour(x::CFDateTime) = x.hour
Dates.minute(x::CFDateTime) = x.minute
Dates.second(x::CFDateTime) = x.second
_fields(x::CFDateTime) = (x.year, x.month, x.day, x.hour, x.minute, x.second, x.nanosecond)
Base.isless(a::CFDateTime{C}, b::CFDateTime{C}) where {C} = isless(_fields(a), _fields(b))
Base.:(==)(a::CFDateTime{C}, b::CFDateTime{C}) where {C} = _fields(a) == _fields(b)
Base.hash(x::CFDateTime{C}, h::UInt) where {C} = hash(_fields(x), hash(C, h))

function Base.string(x::CFDateTime)
    s = string(x.year < 0 ? "-" : "", lpad(abs(x.year), 4, '0'), "-", lpad(x.month, 2, '0'), "-", lpad(x.day, 2, '0'),
               "T",
               lpad(x.hour, 2, '0'), ":", lpad(x.minute, 2, '0'), ":", lpad(x.second, 2, '0'))
    if x.nanosecond != 0
        f = lpad(x.nanosecond, 9, '0')
        s *= "." * (x.nanosecond % 1000 == 0 ? f[1:6] : f)
    end
    return s
end
Base.print(io::IO, x::CFDateTime) = print(io, string(x))
Base.show(io::IO, x::CFDateTime{C}) where {C} = print(io, "CFDateTime{", repr(C), "}(\"", string(x), "\")")

function Dates.DateTime(x::CFDateTime{C}) where {C}
    if C === :julian || C === :standard        # the same instant, counted in the Gregorian calendar
        d = Dates.Date(Dates.rata2datetime(_days(C, x.year, x.month, x.day)))
        return Dates.DateTime(d) + Dates.Hour(x.hour) + Dates.Minute(x.minute) + Dates.Second(x.second) +
               Dates.Millisecond(fld(x.nanosecond, 1_000_000))
    end
    return Dates.DateTime(x.year, x.month, x.day, x.hour, x.minute, x.second, fld(x.nanosecond, 1_000_000))
end
Base.convert(::Type{Dates.DateTime}, x::CFDateTime) = Dates.DateTime(x)

const _CUM_NOLEAP = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
const _CUM_LEAP = (0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335)
const _MLEN_NOLEAP = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
const _MLEN_LEAP = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
const _JDN_RATA = 1721425        # Julian day number of Rata Die day 0 (0000-12-31 proleptic Gregorian)
const _REFORM_JDN = 2299161      # 1582-10-15 (Gregorian) = the day after 1582-10-04 (Julian)

_julian_leap(y) = mod(y, 4) == 0
_greg_leap(y) = Dates.isleapyear(y)

function _check_cfdate(C, y, m, d)
    1 <= m <= 12 || throw(ArgumentError("month $m out of range"))
    n = C === Symbol("360_day") ? 30 : C === :noleap ? _MLEN_NOLEAP[m] : C === :all_leap ? _MLEN_LEAP[m] :
        C === :julian ? (_julian_leap(y) ? _MLEN_LEAP[m] : _MLEN_NOLEAP[m]) :
        C === :standard && (y, m, d) < (1582, 10, 15) ? (_julian_leap(y) ? _MLEN_LEAP[m] : _MLEN_NOLEAP[m]) :
        (_greg_leap(y) ? _MLEN_LEAP[m] : _MLEN_NOLEAP[m])
    1 <= d <= n || throw(ArgumentError("day $d out of range for $y-$m in the $C calendar"))
    C === :standard && (y, m, d) > (1582, 10, 4) && (y, m, d) < (1582, 10, 15) &&
        throw(ArgumentError("$y-$m-$d does not exist in the standard calendar"))
    return nothing
end

function _julian_jdn(y, m, d)
    a = fld(14 - m, 12)
    yy = y + 4800 - a
    mm = m + 12a - 3
    return d + fld(153mm + 2, 5) + 365yy + fld(yy, 4) - 32083
end

# a day count of (y, m, d) in calendar C (any fixed epoch per calendar; Rata Die for the real ones)
function _days(C::Symbol, y::Int, m::Int, d::Int)
    C === :noleap && return (y - 1) * 365 + _CUM_NOLEAP[m] + d - 1
    C === :all_leap && return (y - 1) * 366 + _CUM_LEAP[m] + d - 1
    C === Symbol("360_day") && return (y - 1) * 360 + (m - 1) * 30 + d - 1
    C === :julian && return _julian_jdn(y, m, d) - _JDN_RATA
    C === :standard && (y, m, d) < (1582, 10, 15) && return _julian_jdn(y, m, d) - _JDN_RATA
    return Dates.value(Dates.Date(y, m, d))
end

function _from_days(C::Symbol, n::Int)
    if C === :noleap || C === :all_leap || C === Symbol("360_day")
        len = C === :noleap ? 365 : C === :all_leap ? 366 : 360
        y, r = fldmod(n, len)
        if C === Symbol("360_day")
            return (y + 1, r ÷ 30 + 1, r % 30 + 1)
        end
        cum = C === :noleap ? _CUM_NOLEAP : _CUM_LEAP
        m = 12
        while cum[m] > r
            m -= 1
        end
        return (y + 1, m, r - cum[m] + 1)
    end
    if C === :julian || (C === :standard && n + _JDN_RATA < _REFORM_JDN)
        c = n + _JDN_RATA + 32082
        dd = fld(4c + 3, 1461)
        e = c - fld(1461dd, 4)
        mm = fld(5e + 2, 153)
        return (dd - 4800 + fld(mm, 10), mm + 3 - 12 * fld(mm, 10), e - fld(153mm + 2, 5) + 1)
    end
    dt = Dates.Date(Dates.rata2datetime(n))
    return (Dates.year(dt), Dates.month(dt), Dates.day(dt))
end

const _NS_PER_DAY = 86_400_000_000_000

"CFDateTime of calendar C at `ns` nanoseconds after the start of day-count 0 of the calendar."
function _cfdate_from_ns(::Val{C}, ns::Integer) where {C}
    n, r = fldmod(Int128(ns), _NS_PER_DAY)
    y, m, d = _from_days(C, Int(n))
    r = Int(r)
    H, r = divrem(r, 3_600_000_000_000)
    M, r = divrem(r, 60_000_000_000)
    S, r = divrem(r, 1_000_000_000)
    return CFDateTime{C}(y, m, d, H, M, S, r)
end
_cfdate_ns(x::CFDateTime{C}) where {C} =
    Int128(_days(C, x.year, x.month, x.day)) * _NS_PER_DAY + x.hour * 3_600_000_000_000 + x.minute * 60_000_000_000 +
    x.second * 1_000_000_000 + x.nanosecond

# ---------------------------------------------------------------------------------------------
# CF time units

# nanoseconds per unit (xarray's _netcdf_to_numpy_timeunit: lower case, a trailing "s" added)
const _TIME_UNIT_NS = Dict{String,Int64}(
    "nanoseconds" => 1, "microseconds" => 1_000, "milliseconds" => 1_000_000, "seconds" => 1_000_000_000,
    "minutes" => 60_000_000_000, "hours" => 3_600_000_000_000, "days" => _NS_PER_DAY)
# cftime's spellings (UNIT_CONVERSION_FACTORS), in microseconds
const _CFTIME_UNIT_US = Dict{String,Int64}(
    "microseconds" => 1, "microsecond" => 1, "microsec" => 1, "microsecs" => 1,
    "milliseconds" => 1000, "millisecond" => 1000, "millisec" => 1000, "millisecs" => 1000, "msec" => 1000,
    "msecs" => 1000, "ms" => 1000,
    "seconds" => 1_000_000, "second" => 1_000_000, "sec" => 1_000_000, "secs" => 1_000_000, "s" => 1_000_000,
    "minutes" => 60_000_000, "minute" => 60_000_000, "min" => 60_000_000, "mins" => 60_000_000,
    "hours" => 3_600_000_000, "hour" => 3_600_000_000, "hr" => 3_600_000_000, "hrs" => 3_600_000_000,
    "h" => 3_600_000_000,
    "days" => 86_400_000_000, "day" => 86_400_000_000, "d" => 86_400_000_000)
const TIME_UNITS = ("days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds")

"(unit, reference date string) of `\"<unit> since <date>\"`, or nothing (xarray's _unpack_netcdf_time_units)."
function _split_time_units(units::AbstractString)
    m = match(r"^(.+) since (.+)$"s, units)
    m === nothing && return nothing
    u, ref = strip(m.captures[1]), strip(m.captures[2])
    # _ensure_padded_year: without a 4-digit run, the leading digits are the year
    if !occursin(r"\d{4}", ref)
        mm = match(r"^(\d+)(.*)$"s, ref)
        mm === nothing && return nothing
        ref = lpad(parse(Int, mm.captures[1]), 4, '0') * mm.captures[2]
    end
    return (String(u), String(ref))
end

"Parse a reference date as pandas / cftime do: (y, m, d, H, M, S, ns, utc offset in minutes)."
function _parse_refdate(s::AbstractString)
    re = Regex(string(raw"^([+-]?\d+)-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?",
                      raw"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"), "i")
    m = match(re, strip(s))
    if m === nothing
        # a date alone, or a date with only an hour ("2000-01-01 0")
        m2 = match(r"^([+-]?\d+)-(\d{1,2})-(\d{1,2})[T ](\d{1,2})$", strip(s))
        m2 === nothing && return nothing
        return (parse(Int, m2.captures[1]), parse(Int, m2.captures[2]), parse(Int, m2.captures[3]),
                parse(Int, m2.captures[4]), 0, 0, 0, 0)
    end
    c = m.captures
    g(i) = c[i] === nothing ? 0 : parse(Int, c[i])
    frac = c[7] === nothing ? 0 : parse(Int, rpad(c[7][1:min(end, 9)], 9, '0'))
    tz = 0
    if c[8] !== nothing && !(uppercase(c[8]) in ("Z", "UTC", "GMT"))
        t = replace(c[8], ":" => "")
        sgn = t[1] == '-' ? -1 : 1
        tz = sgn * (parse(Int, t[2:3]) * 60 + (length(t) >= 5 ? parse(Int, t[4:5]) : 0))
    end
    return (parse(Int, c[1]), parse(Int, c[2]), parse(Int, c[3]), g(4), g(5), g(6), frac, tz)
end

"How a variable's numbers become times (xarray's CFDatetimeCoder)."
struct TimeDecoding
    calendar::Symbol
    pandas::Bool          # the pandas path: nanoseconds, truncation; else cftime's: microseconds, rint
    unit_ns::Int64        # pandas path: ns per unit
    unit_us::Int64        # cftime path: µs per unit
    subms_units::Bool     # cftime's rint adjustment does not apply to µs / ms units
    ref::Int128           # the reference date, ns since day 0 of the calendar (UTC)
    as_datetime::Bool     # results are Dates.DateTime (ms-exact)
end

function _time_decoding(units::AbstractString, cal, rawT, packed::Bool, key)
    sp = _split_time_units(units)
    sp === nothing && throw(MetadataError(key, "cannot decode time units $(repr(units))"))
    u, refs = sp
    calname = cal === nothing ? "standard" : lowercase(string(cal))
    C = get(CF_CALENDARS, calname, nothing)
    C === nothing && throw(MetadataError(key, "unsupported calendar $(repr(cal))"))
    r = _parse_refdate(refs)
    r === nothing && throw(MetadataError(key, "cannot parse the reference date of $(repr(units))"))
    y, mo, d, H, M, S, frac, tz = r
    lu = lowercase(u)
    nu = endswith(lu, "s") ? lu : lu * "s"
    standard = C === :standard || C === :proleptic_gregorian
    # pandas decodes standard calendars when the unit is a numpy unit and the reference date is after
    # the reform (or the calendar is proleptic); otherwise cftime does
    pandas = standard && haskey(_TIME_UNIT_NS, nu) && (C === :proleptic_gregorian || (y, mo, d) >= (1582, 10, 15))
    if pandas
        refns = Int128(Dates.value(Dates.Date(y, mo, d))) * _NS_PER_DAY + H * 3_600_000_000_000 + M * 60_000_000_000 +
                S * 1_000_000_000 + frac - Int128(tz) * 60_000_000_000
        unit_ns = _TIME_UNIT_NS[nu]
        asdt = rawT <: Integer && !packed && unit_ns >= 1_000_000 && mod(refns, 1_000_000) == 0
        return TimeDecoding(:proleptic_gregorian, true, unit_ns, 0, false, refns, asdt)
    end
    uus = get(_CFTIME_UNIT_US, lu, nothing)
    if uus === nothing
        if lu in ("months", "month") && C === Symbol("360_day")
            uus = 30 * 86_400_000_000
        elseif lu in ("common_years", "common_year") && C === :noleap
            uus = 365 * 86_400_000_000
        else
            throw(MetadataError(key, "unsupported time unit $(repr(u)) for calendar $(repr(calname))"))
        end
    end
    try
        _check_cfdate(C, y, mo, d)
    catch e
        throw(MetadataError(key, "reference date $(repr(refs)): $(e.msg)"))
    end
    # cftime: the reference in whole microseconds, minus the UTC offset
    refns = Int128(_days(C, y, mo, d)) * _NS_PER_DAY + H * 3_600_000_000_000 + M * 60_000_000_000 +
            S * 1_000_000_000 + (frac ÷ 1000) * 1000 - Int128(tz) * 60_000_000_000
    return TimeDecoding(C, false, 0, uus, uus <= 1000, refns, false)
end

# one number → a time (nothing for NaT)
function _decode_time(t::TimeDecoding, v)
    if t.pandas
        if v isa Integer
            v == typemin(Int64) && return nothing
            ns = t.ref + Int128(v) * t.unit_ns
        else
            f = Float64(v)
            isnan(f) && return nothing
            x = f * Float64(t.unit_ns)
            abs(x) < 9.3e18 || throw(OverflowError("time value $f out of range"))
            ns = t.ref + Int128(unsafe_trunc(Int64, x))
        end
        if t.as_datetime
            return Dates.DateTime(Dates.rata2datetime(0)) + Dates.Millisecond(Int64(fld(ns, 1_000_000)))
        end
        return _cfdate_from_ns(Val(:proleptic_gregorian), ns)
    end
    # cftime: float microseconds, rint, the ±1 µs correction for coarse units
    v isa Integer && v == typemin(Int64) && return nothing
    f = Float64(v)
    isnan(f) && return nothing
    x = f * Float64(t.unit_us)
    abs(x) < 9.2e18 || throw(OverflowError("time value $f out of range"))
    n = unsafe_trunc(Int64, round(x))
    if !t.subms_units
        mod(n, 1_000_000) == 1 && (n = unsafe_trunc(Int64, floor(x)))
        mod(n, 1_000_000) == 999_999 && (n = unsafe_trunc(Int64, ceil(x)))
    end
    return _cfdate_from_ns(Val(t.calendar), t.ref + Int128(n) * 1000)
end

_time_type(t::TimeDecoding) = t.as_datetime ? Dates.DateTime : CFDateTime{t.calendar}

"How a variable's numbers become durations (xarray's CFTimedeltaCoder with its defaults)."
struct DeltaDecoding
    unit_ns::Int64
    out_ns::Int64          # ns of the result period
end
const _PERIOD_OF_NS = Dict{Int64,Any}(1 => Dates.Nanosecond, 1_000 => Dates.Microsecond, 1_000_000 => Dates.Millisecond,
                                      1_000_000_000 => Dates.Second)
function _decode_delta(d::DeltaDecoding, v)
    if v isa Integer
        v == typemin(Int64) && return nothing
        ns = Int128(v) * d.unit_ns
    else
        f = Float64(v)
        isnan(f) && return nothing
        ns = Int128(unsafe_trunc(Int64, f * Float64(d.unit_ns)))
    end
    return _PERIOD_OF_NS[d.out_ns](Int64(fld(ns, d.out_ns)))
end

# ---------------------------------------------------------------------------------------------
# the decoding of one variable

"""
    CFDecoding

What CF decoding does to one variable, worked out from its attributes once: character stacking,
`_Encoding`, `_Unsigned`, the encoded fill values, scale/offset, times, durations, bool.
"""
struct CFDecoding
    chars::Int                     # 0, or the Julia axis of S1 characters stacked into strings
    strenc::Bool                   # _Encoding: bytes → String
    unsigned::Any                  # nothing, or the integer type values are reinterpreted as
    fills::Vector{Any}             # encoded fill values (xarray's set): those elements are missing
    scale::Any
    offset::Any
    floatT::Any                    # the type scale/offset compute in, or nothing
    time::Union{Nothing,TimeDecoding}
    delta::Union{Nothing,DeltaDecoding}
    native::Bool                   # datetime64 / timedelta64 stored natively
    tobool::Bool
    outT::Type                     # element type of the result
end

const _DECODING_ATTRS = ("_FillValue", "missing_value", "_Unsigned", "scale_factor", "add_offset", "_Encoding")

_isnull(x) = x === nothing || (x isa AbstractFloat && isnan(x))
_attrscalar(x) = x isa AbstractVector && length(x) == 1 ? x[1] : x
_fill_values(v) = v isa AbstractVector ? Any[x for x in v] : Any[v]

# xarray's _choose_float_dtype with JSON attribute values (a JSON number with a fraction is a Python float)
function _choose_float(rawT, scale, offset)
    if scale !== nothing || offset !== nothing
        st = scale === nothing ? nothing : (scale isa AbstractFloat ? Float64 : scale isa Integer ? Int64 : Float64)
        ot = offset === nothing ? nothing : (offset isa AbstractFloat ? Float64 : offset isa Integer ? Int64 : Float64)
        if st !== nothing && ot !== nothing && st === ot && st <: AbstractFloat
            return st
        end
        offset !== nothing && return Float64
        return st
    end
    rawT <: AbstractFloat && sizeof(rawT) <= 4 && return Float32
    rawT <: Integer && sizeof(rawT) <= 2 && return Float32
    return Float64
end

# The decoded fill of a Zarr v3 `_FillValue` attribute (xarray's FillValueCoder.decode)
function _v3_fill_attr(v, rawT)
    if rawT <: AbstractFloat && v isa AbstractString
        b = try
            base64decode(v)
        catch
            return v
        end
        length(b) == 8 && return reinterpret(Float64, b)[1]
        return v
    end
    rawT === Bool && return v isa Bool ? v : v
    rawT <: Integer && v isa Real && return Int(v)
    return v
end

# value equality as numpy compares an array element with the fill values (numpy scalars from
# np.ravel: a float64 fill is compared with float32 data in float64, exactly)
_fill_match(x, f) = false
_fill_match(x::Real, f::Real) = x == f
_fill_match(x::AbstractString, f::AbstractString) = x == f
_fill_match(x::Vector{UInt8}, f::AbstractString) = x == Vector{UInt8}(codeunits(f))
_fill_match(x::Vector{UInt8}, f::AbstractVector{UInt8}) = x == f
_fill_match(x::Bool, f::Bool) = x == f
_fill_match(x::Bool, f::Real) = Int(x) == f

# stored element → the value xarray's string coders see
_strval(x::FixedBytesString) = Vector{UInt8}(codeunits(String(x)))     # numpy bytes_: trailing NULs dropped
_strval(x::FixedUTF32String) = String(x)
_strval(x) = x

function _decoded_rawtype(T)
    T <: FixedBytesString && return Vector{UInt8}
    T <: FixedUTF32String && return String
    return T
end

function CFDecoding(@nospecialize(a::ZArray), attrs::Dict{String,Any}, enc::Dict{String,Any}, chars::Int, fmt::Int, key)
    T = eltype(a)
    # datetime64 / timedelta64 stored natively: xarray passes them through
    if T <: Datetime64 || T <: Timedelta64
        unit = T.parameters[1]
        outT = T <: Datetime64 ?
            (unit in (:us, :ns, :ps, :fs, :as) ? CFDateTime{:proleptic_gregorian} : Dates.DateTime) :
               get(UNIT_PERIODS, unit, Dates.Nanosecond)
        return CFDecoding(0, false, nothing, Any[], nothing, nothing, nothing, nothing, nothing, true, false,
                          Union{Missing,outT})
    end
    for k in _DECODING_ATTRS
        haskey(attrs, k) && (enc[k] = pop!(attrs, k))
    end
    # strings: stacked S1 characters, then _Encoding
    baseT = chars > 0 ? Vector{UInt8} : _decoded_rawtype(T)
    strenc = false
    if haskey(enc, "_Encoding") && baseT === Vector{UInt8}
        strenc = true
        baseT = String
    end
    # _FillValue: v2 uses the array's fill_value; v3 the attribute (decoded per dtype)
    rawfill = Dict{String,Any}()
    if haskey(enc, "missing_value")
        rawfill["missing_value"] = enc["missing_value"]
    end
    if fmt == 2
        if a.meta.fill_value !== nothing
            rawfill["_FillValue"] = a.meta.fill
            enc["_FillValue"] = a.meta.fill
        elseif haskey(enc, "_FillValue")
            rawfill["_FillValue"] = enc["_FillValue"]
        end
    elseif haskey(enc, "_FillValue")
        rawfill["_FillValue"] = _v3_fill_attr(enc["_FillValue"], T)
    end
    fills = Any[]
    for k in ("missing_value", "_FillValue")
        haskey(rawfill, k) || continue
        v = rawfill[k]
        vals = [_strval(x) for x in _fill_values(v) if !_isnull(x) && !(x isa DateOrDelta && isnat(x))]
        if isempty(vals) && baseT <: Integer
            continue                                   # xarray drops it (a warning)
        end
        append!(fills, vals)
    end
    unique!(fills)
    # _Unsigned
    unsigned = nothing
    if haskey(enc, "_Unsigned")
        u = string(enc["_Unsigned"])
        if baseT <: Signed && u == "true"
            unsigned = unsigned_type(baseT)
        elseif baseT <: Unsigned && u == "false"
            unsigned = signed(baseT)
        end
        if unsigned !== nothing && haskey(rawfill, "_FillValue")
            f = rawfill["_FillValue"]
            if f isa Real && !_isnull(f)
                filter!(x -> !(x isa Real && x == f), fills)
                push!(fills, reinterpret(unsigned, convert(baseT, f)))
            end
        end
        unsigned === nothing || (baseT = unsigned)
    end
    # scale / offset
    scale = haskey(enc, "scale_factor") ? _attrscalar(enc["scale_factor"]) : nothing
    offset = haskey(enc, "add_offset") ? _attrscalar(enc["add_offset"]) : nothing
    packed = scale !== nothing || offset !== nothing
    floatT = packed ? _choose_float(baseT, scale, offset) : nothing
    valT = packed ? floatT : baseT
    # times (units "... since ...") and durations (units a time unit and a timedelta64 dtype attribute)
    time = nothing
    delta = nothing
    units = get(attrs, "units", nothing)
    if units isa AbstractString && units in TIME_UNITS && get(attrs, "dtype", nothing) isa AbstractString &&
       startswith(attrs["dtype"], "timedelta64")
        enc["units"] = pop!(attrs, "units")
        dt = pop!(attrs, "dtype")
        enc["dtype"] = dt
        m = match(r"\[(\w+)\]", dt)
        res = m === nothing ? "ns" : m.captures[1]
        res_ns = res == "ns" ? 1 : res == "us" ? 1_000 : res == "ms" ? 1_000_000 :
            res in ("ps", "fs", "as") ? 1 : 1_000_000_000
        uns = _TIME_UNIT_NS[units]
        out = min(res_ns, uns)
        delta = DeltaDecoding(uns, out)
        valT = Union{Missing,_PERIOD_OF_NS[out]}
    elseif units isa AbstractString && occursin("since", units) && _split_time_units(units) !== nothing
        enc["units"] = pop!(attrs, "units")
        cal = haskey(attrs, "calendar") ? (enc["calendar"] = pop!(attrs, "calendar")) : nothing
        time = _time_decoding(units, cal, baseT, packed, key)
        valT = Union{Missing,_time_type(time)}
    end
    tobool = false
    if get(attrs, "dtype", nothing) == "bool"
        enc["dtype"] = pop!(attrs, "dtype")
        tobool = true
        valT = Bool
    end
    outT = isempty(fills) || valT isa Union ? valT : Union{Missing,valT}
    return CFDecoding(chars, strenc, unsigned, fills, scale, offset, floatT, time, delta, false, tobool, outT)
end

unsigned_type(::Type{Int8}) = UInt8
unsigned_type(::Type{Int16}) = UInt16
unsigned_type(::Type{Int32}) = UInt32
unsigned_type(::Type{Int64}) = UInt64

"Decode one stored element (after character stacking) the way xarray's coders do, in their order."
function _decode1(d::CFDecoding, x)
    if d.native
        x isa DateOrDelta && isnat(x) && return missing
        if x isa Datetime64
            T = Base.nonmissingtype(d.outT)
            T === Dates.DateTime && return Dates.DateTime(x)
            unit = typeof(x).parameters[1]
            cnt = typeof(x).parameters[2]
            f = unit === :us ? 1_000 : unit === :ns ? 1 : 1
            return _cfdate_from_ns(Val(:proleptic_gregorian),
                                   Int128(x.value) * cnt * f + Int128(Dates.value(Dates.Date(1970))) * _NS_PER_DAY)
        end
        return Dates.Period(x)
    end
    x = _strval(x)
    d.strenc && (x = String(copy(x)))
    if d.unsigned !== nothing
        x = reinterpret(d.unsigned, x)
    end
    for f in d.fills
        _fill_match(x, f) && return missing
    end
    if d.floatT !== nothing
        F = d.floatT
        y = convert(F, x)
        d.scale === nothing || (y = y * convert(F, d.scale))
        d.offset === nothing || (y = y + convert(F, d.offset))
        x = y
    end
    if d.delta !== nothing
        r = _decode_delta(d.delta, x)
        return r === nothing ? missing : r
    end
    if d.time !== nothing
        r = _decode_time(d.time, x)
        return r === nothing ? missing : r
    end
    d.tobool && return !iszero(x)
    return x
end

# ---------------------------------------------------------------------------------------------
# variables

"""
    CFVariable{T,N} <: AbstractArray{T,N}

A dataset variable: lazily read and CF-decoded.  `v[i, j]`, `v[:, 1:3]`, `read(v)`, `collect(v)`
read and decode only the region asked for; `v.raw` (or `raw(v)`) is the stored array (a
`ZArray`), `dimnames(v)` the dimension names in Julia's axis order, `attributes(v)` the attributes
left after decoding (as xarray's `.attrs`), `encoding(v)` the ones decoding consumed.
"""
struct CFVariable{T,N} <: AbstractArray{T,N}
    name::String
    raw::ZArray
    dims::Vector{String}
    attrs::Dict{String,Any}
    encoding::Dict{String,Any}
    decoding::CFDecoding
    jsize::NTuple{N,Int}
end

Base.size(v::CFVariable) = v.jsize
Base.IndexStyle(::Type{<:CFVariable}) = IndexCartesian()
raw(v::CFVariable) = v.raw
attributes(v::CFVariable) = v.attrs
encoding(v::CFVariable) = v.encoding
dimnames(v::CFVariable) = copy(v.dims)
name(v::CFVariable) = v.name

_idx_range(i::Integer) = Int(i):Int(i)
_idx_range(r::AbstractUnitRange) = Int(first(r)):Int(last(r))
_idx_range(r::AbstractVector) = isempty(r) ? (1:0) : (Int(minimum(r)):Int(maximum(r)))

# compiled once for every element type (@nospecialize): a dataset has many
Base.getindex(v::CFVariable, I...) = _cf_getindex(v, I)
function _cf_getindex(@nospecialize(v::CFVariable), @nospecialize(I::Tuple))
    T = eltype(v)
    N = ndims(v)
    if length(I) == 1 && N != 1 && I[1] isa Integer
        return getindex(v, Tuple(CartesianIndices(v.jsize)[I[1]])...)
    end
    idx = to_indices(v, I)
    length(idx) == N || throw(BoundsError(v, I))
    checkbounds(v, idx...)
    rs = map(_idx_range, idx)
    d = v.decoding
    rawrs = d.chars == 0 ? rs : (d.chars == 1 ? (1:size(v.raw, 1), rs...) : (rs..., 1:size(v.raw, ndims(v.raw))))
    src = isempty(rawrs) ? v.raw[] : v.raw[rawrs...]
    src isa AbstractArray || (src = fill(src))
    out = Array{T}(undef, map(length, rs))
    _decode_region!(out, src, d)
    if all(i -> i isa Integer, idx)
        return out[1]
    end
    rel = map((i, r) -> i isa Integer ? 1 : i .- (first(r) - 1), idx, rs)
    res = out[rel...]
    return res
end

# numbers (the big arrays): one compiled loop per combination of types, through a function barrier
@inline function _num1(x, ::Type{F}, scale, offset, fills::Tuple, time, delta, tobool::Bool) where {F}
    for f in fills
        _fill_match(x, f) && return missing
    end
    y = F === Nothing ? x : _scaled(F, x, scale, offset)
    if delta !== nothing
        r = _decode_delta(delta, y)
        return r === nothing ? missing : r
    end
    if time !== nothing
        r = _decode_time(time, y)
        return r === nothing ? missing : r
    end
    tobool && return !iszero(y)
    return y
end
@inline function _scaled(::Type{F}, x, scale, offset) where {F}
    y = convert(F, x)
    scale === nothing || (y = y * scale)
    offset === nothing || (y = y + offset)
    return y
end

function _numeric_kernel!(out::Array{T}, src::Array{S}, ::Type{U}, ::Type{F}, scale, offset, fills::Tuple, time, delta,
                          tobool::Bool) where {T,S,U,F}
    @inbounds for i in 1:length(out)
        x = src[i]
        u = U === S ? x : reinterpret(U, x)
        out[i] = _num1(u, F, scale, offset, fills, time, delta, tobool)
    end
    return out
end

function _decode_region!(@nospecialize(out::Array), @nospecialize(src::AbstractArray), d::CFDecoding)
    if d.chars == 0 && !d.native && !d.strenc && src isa Array && eltype(src) <: Real
        S = eltype(src)
        U = d.unsigned === nothing ? S : d.unsigned
        F = d.floatT === nothing ? Nothing : d.floatT
        sc = d.scale === nothing || F === Nothing ? nothing : convert(F, d.scale)
        of = d.offset === nothing || F === Nothing ? nothing : convert(F, d.offset)
        return _numeric_kernel!(out, src, U, F, sc, of, Tuple(d.fills), d.time, d.delta, d.tobool)
    end
    if d.chars == 0
        for i in 1:length(out)
            @inbounds out[i] = _decode1(d, src[i])
        end
    else
        n = d.chars == 1 ? size(src, 1) : size(src, ndims(src))
        for (k, I) in enumerate(CartesianIndices(out))
            b = UInt8[d.chars == 1 ? src[c, Tuple(I)...].data[1] : src[Tuple(I)..., c].data[1] for c in 1:n]
            while !isempty(b) && b[end] == 0x00
                pop!(b)
            end
            out[k] = _decode1(d, b)
        end
    end
    return out
end

Base.read(v::CFVariable) = v[ntuple(_ -> Colon(), ndims(v))...]
Base.collect(v::CFVariable) = read(v)
Base.Array(v::CFVariable) = read(v)

_typestr(T) = T isa Union && Missing <: T ? string("Union{Missing, ", Base.nonmissingtype(T), "}") : string(T)
_dimstr(v::CFVariable) = "(" * join(["$n: $s" for (n, s) in zip(v.dims, v.jsize)], ", ") * ")"

Base.show(io::IO, v::CFVariable{T}) where {T} = print(io, "CFVariable{", _typestr(T), "}(", repr(v.name), ", ",
                                                      _dimstr(v), ")")
function Base.show(io::IO, ::MIME"text/plain", v::CFVariable{T}) where {T}
    println(io, "CFVariable ", repr(v.name), " ", _dimstr(v), " ", _typestr(T))
    print(io, "  stored: ", v.raw)
    _show_attrs(io, "Attributes", v.attrs, "  ")
    _show_attrs(io, "Encoding", v.encoding, "  ")
end

function _show_attrs(io, title, attrs, indent)
    isempty(attrs) && return
    print(io, "\n", indent, title, ":")
    w = maximum(length, keys(attrs))
    for k in sort!(collect(keys(attrs)))
        s = attrs[k] isa AbstractString ? attrs[k] : repr(attrs[k])
        length(s) > 60 && (s = s[1:prevind(s, 58)] * "...")
        print(io, "\n", indent, "    ", rpad(k * ":", w + 2), s)
    end
end

# ---------------------------------------------------------------------------------------------
# datasets

"""
    ZDataset

An xarray dataset in a Zarr group (v2 or v3): `keys(ds)` (every variable name, coordinates
included), `ds["temp"]` (a `CFVariable`), `dims(ds)` (name → length), `coords(ds)` /
`data_vars(ds)` (names), `attributes(ds)` (group attributes).
"""
struct ZDataset
    store::AbstractStore
    path::String
    variables::Dict{String,CFVariable}
    names::Vector{String}
    dimorder::Vector{String}
    dimlen::Dict{String,Int}
    coordnames::Vector{String}
    attrs::Dict{String,Any}
    zarr_format::Int
    consolidated::Bool
end

Base.keys(ds::ZDataset) = copy(ds.names)
Base.haskey(ds::ZDataset, k::AbstractString) = haskey(ds.variables, String(k))
Base.getindex(ds::ZDataset, k::AbstractString) =
    haskey(ds.variables, String(k)) ? ds.variables[String(k)] : throw(KeyError(k))
Base.length(ds::ZDataset) = length(ds.names)
Base.iterate(ds::ZDataset, i=1) = i > length(ds.names) ? nothing : (ds.names[i] => ds.variables[ds.names[i]], i + 1)
"Dimension name → length."
dims(ds::ZDataset) = copy(ds.dimlen)
dims(v::CFVariable) = Tuple(v.dims)
"Coordinate variable names: dimension variables and those named by `coordinates` attributes."
coords(ds::ZDataset) = copy(ds.coordnames)
"Data variable names (every variable that is not a coordinate)."
data_vars(ds::ZDataset) = [n for n in ds.names if !(n in ds.coordnames)]
attributes(ds::ZDataset) = ds.attrs
zarr_format(ds::ZDataset) = ds.zarr_format

"""
    open_dataset(url; endpoint_url=nothing, consolidated=nothing, decode=true) -> ZDataset

Open the xarray dataset in the group at `url` (a local path, `file.zip[/inner]`, `s3://…`,
`memory://…`; see `open_store`), v2 or v3, with consolidated metadata when the store has it
(`consolidated=false` ignores it).  Each array in the group is a variable; its dimensions come
from `_ARRAY_DIMENSIONS` (v2) or `dimension_names` (v3), in Julia's axis order.  With
`decode=false` the variables read the stored values (no CF decoding).
"""
function open_dataset(url::AbstractString; endpoint_url=nothing, consolidated=nothing, decode::Bool=true)
    store, path = open_store(url; endpoint_url=endpoint_url)
    return open_dataset(store, path; consolidated=consolidated, decode=decode)
end

function open_dataset(store::AbstractStore, path::AbstractString=""; consolidated=nothing, decode::Bool=true)
    path = String(strip(path, '/'))
    cons = consolidated === false ? nothing : read_consolidated(store, path)
    if cons === nothing && consolidated !== false && !isempty(path)
        # a group inside a store consolidated at its root (xarray's to_zarr(group=...)): those entries
        # are store keys too; use them when they describe this group
        root = read_consolidated(store, "")
        root !== nothing && any(k -> k in (joinkey(path, ".zgroup"), joinkey(path, "zarr.json")), keys(root)) &&
            (cons = root)
    end
    consolidated === true && cons === nothing &&
        throw(MetadataError(joinkey(path, ".zmetadata"), "no consolidated metadata"))
    g = open_group(store, path; consolidated=cons)
    fmt = zarr_format(g)
    gattrs = Dict{String,Any}(k => v for (k, v) in attributes(g) if !startswith(lowercase(k), "_nc"))
    arrays = Dict{String,ZArray}()
    for (rel, kind) in list_nodes(store, path; consolidated=cons)
        (kind == :array && !isempty(rel) && !occursin('/', rel)) || continue
        arrays[rel] = open_array(store, joinkey(path, rel); consolidated=cons)
    end
    rawdims = Dict{String,Vector{String}}()
    for (n, a) in arrays
        dn = dimnames(a)
        key = joinkey(path, n, fmt == 2 ? ".zattrs" : "zarr.json")
        if dn === nothing
            ndims(a) == 0 || throw(MetadataError(key,
                                                 fmt == 2 ? "missing the _ARRAY_DIMENSIONS attribute xarray needs" :
                                                                 "missing the dimension_names xarray needs"))
            dn = String[]
        end
        any(x -> x === nothing, dn) && throw(MetadataError(key, "an unnamed dimension"))
        length(dn) == ndims(a) || throw(MetadataError(key, "$(length(dn)) dimension names for $(ndims(a)) dimensions"))
        rawdims[n] = String.(dn)
    end
    # S1 character arrays whose last (numpy) dimension is only ever a character dimension are stacked
    function _char_axis(a)
        return zorder(a) == 'C' ? 1 : ndims(a)
    end
    users = Dict{String,Vector{String}}()
    for (n, dn) in rawdims, d in dn
        push!(get!(users, d, String[]), n)
    end
    function stackable(d)
        haskey(arrays, d) && return false
        for u in users[d]
            a = arrays[u]
            (eltype(a) <: FixedBytesString) || return false
            rawdims[u][_char_axis(a)] == d || return false
        end
        return true
    end
    vars = Dict{String,CFVariable}()
    coordset = Set{String}()
    for n in sort!(collect(keys(arrays)))
        a = arrays[n]
        dn = copy(rawdims[n])
        attrs = Dict{String,Any}(k => v for (k, v) in attributes(a) if k != "_ARRAY_DIMENSIONS")
        enc = Dict{String,Any}()
        chars = 0
        if decode && eltype(a) === FixedBytesString{1} && ndims(a) > 0 && stackable(dn[_char_axis(a)])
            chars = _char_axis(a)
            enc["char_dim_name"] = dn[chars]
            deleteat!(dn, chars)
        end
        key = joinkey(path, n)
        dec = decode ? CFDecoding(a, attrs, enc, chars, fmt, key) :
              CFDecoding(0, false, nothing, Any[], nothing, nothing, nothing, nothing, nothing, false, false, eltype(a))
        if decode && haskey(attrs, "coordinates")
            c = attrs["coordinates"]
            enc["coordinates"] = pop!(attrs, "coordinates")
            c isa AbstractString && for x in split(c)
                haskey(arrays, x) && push!(coordset, String(x))
            end
        end
        js = chars == 0 ? size(a) : Tuple(s for (i, s) in enumerate(size(a)) if i != chars)
        vars[n] = CFVariable{dec.outT,length(js)}(n, a, dn, attrs, enc, dec, js)
    end
    if decode && get(gattrs, "coordinates", nothing) isa AbstractString
        for x in split(pop!(gattrs, "coordinates"))
            haskey(vars, x) && push!(coordset, String(x))
        end
    end
    dimorder = String[]
    dimlen = Dict{String,Int}()
    for n in sort!(collect(keys(vars)))
        v = vars[n]
        for (d, s) in zip(v.dims, v.jsize)
            if haskey(dimlen, d)
                dimlen[d] == s || throw(MetadataError(joinkey(path, n),
                    "dimension $(repr(d)) has length $s here and $(dimlen[d]) elsewhere"))
            else
                dimlen[d] = s
                push!(dimorder, d)
            end
        end
    end
    for n in keys(vars)
        haskey(dimlen, n) && push!(coordset, n)
    end
    # coordinates first (dimension coordinates, then the others), then data variables, each sorted
    cn = sort!([n for n in coordset]; by=n -> (!haskey(dimlen, n), n))
    names = vcat(cn, sort!([n for n in keys(vars) if !(n in coordset)]))
    return ZDataset(store, path, vars, names, dimorder, dimlen, cn, gattrs, fmt, cons !== nothing)
end

Base.show(io::IO, ds::ZDataset) =
    print(io, "ZDataset(", repr(ds.path), ", v", ds.zarr_format, ", ", length(ds.names), " variables)")
function Base.show(io::IO, ::MIME"text/plain", ds::ZDataset)
    println(io, "ZDataset ", repr(ds.path), " (Zarr v", ds.zarr_format, ds.consolidated ? ", consolidated" : "", ")")
    print(io, "Dimensions:  (", join(["$d: $(ds.dimlen[d])" for d in ds.dimorder], ", "), ")")
    w = isempty(ds.names) ? 4 : max(4, maximum(length, ds.names))
    line(n, mark) = begin
        v = ds.variables[n]
        T = eltype(v)
        print(io, "\n  ", mark, " ", rpad(n, w), "  (", join(v.dims, ", "), ") ", _typestr(T))
    end
    cs = ds.coordnames
    if !isempty(cs)
        print(io, "\nCoordinates:")
        for n in cs
            line(n, haskey(ds.dimlen, n) && ds.variables[n].dims == [n] ? "*" : " ")
        end
    end
    dv = data_vars(ds)
    if !isempty(dv)
        print(io, "\nData variables:")
        for n in dv
            line(n, " ")
        end
    end
    _show_attrs(io, "Attributes", ds.attrs, "")
end

# ---------------------------------------------------------------------------------------------
# writing

"""
    write_dataset(url, vars; attrs=Dict(), coords=String[], zarr_format=2, consolidated=true,
                  overwrite=true, endpoint_url=nothing) -> ZDataset

Write a dataset that `xarray.open_zarr` opens: `vars` is a collection of
`name => (dims, data)`, `name => (dims, data, attrs)` or `name => (dims, data, attrs, encoding)`
with `dims` the dimension names of `data`'s axes in Julia's order (xarray sees them reversed, as
`write_array` stores order "C").  `coords` names the variables that are coordinates but not
dimension variables (listed in the `coordinates` attribute of the variables they fit).

Element types: numbers, `Bool`, `String`, `Dates.DateTime`/`Date` and `CFDateTime{C}` (times,
written as integer counts with `units` and `calendar`), `Dates` periods (durations), each possibly
`Union{Missing,…}`.  `encoding` (a Dict) takes xarray's keys: `"dtype"` (the stored type, e.g.
`Int16`, for packing), `"scale_factor"`, `"add_offset"`, `"_FillValue"` (what `missing`
becomes; default NaN for floats, `typemin` for packed integers), `"units"` and `"calendar"`
(times: e.g. `"hours since 2000-01-01"`, default inferred as xarray does), `"chunks"` (Julia
order), `"compressor"`.  Missing times are NaT, as xarray writes them.
"""
function write_dataset(url::AbstractString, vars; endpoint_url=nothing, kwargs...)
    store, path = open_store(url; endpoint_url=endpoint_url)
    ds = write_dataset(store, path, vars; kwargs...)
    store isa ZipStore && close(store)
    return ds
end

function write_dataset(store::AbstractStore, path::AbstractString, vars; attrs=Dict{String,Any}(), coords=String[],
                       zarr_format::Integer=2, consolidated::Bool=true, overwrite::Bool=true)
    path = String(strip(path, '/'))
    zarr_format in (2, 3) || throw(ArgumentError("zarr_format must be 2 or 3"))
    specs = Pair{String,Any}[String(first(p)) => last(p) for p in vars]
    if overwrite
        for k in listkeys(store, path)
            deletekey!(store, k)
        end
        for n in (".zgroup", ".zattrs", ".zmetadata", "zarr.json")
            deletekey!(store, joinkey(path, n))
        end
    end
    dimsof = Dict{String,Vector{String}}()
    for (n, s) in specs
        (s isa Tuple && 2 <= length(s) <= 4) ||
            throw(ArgumentError("variable $(repr(n)): give (dims, data[, attrs[, encoding]])"))
        d = s[1] isa AbstractString || s[1] isa Symbol ? [String(s[1])] : String[String(x) for x in s[1]]
        length(d) == ndims(s[2]) ||
            throw(ArgumentError("variable $(repr(n)): $(length(d)) dimension names for $(ndims(s[2])) axes"))
        dimsof[n] = d
    end
    dimlen = Dict{String,Int}()
    for (n, s) in specs, (d, l) in zip(dimsof[n], size(s[2]))
        get!(dimlen, d, l) == l ||
            throw(ArgumentError(string("variable $(repr(n)): dimension $(repr(d)) has length $l here and ",
                                       "$(dimlen[d]) elsewhere")))
    end
    coordnames = Set(String.(coords))
    for c in coordnames
        haskey(dimsof, c) || throw(ArgumentError("coordinate $(repr(c)) is not a variable"))
    end
    dimset = Set(d for ds in values(dimsof) for d in ds)
    # xarray's encode_dataset_coordinates: a non-dimension coordinate goes in the `coordinates` of
    # every variable whose dimensions include its own; the rest go in the group's
    nondim = sort!([c for c in coordnames if !(c in dimset)])
    attached = Set{String}()
    varcoords = Dict{String,Vector{String}}()
    for (n, _) in specs
        (n in coordnames || n in dimset) && continue
        cs = [c for c in nondim if issubset(dimsof[c], dimsof[n])]
        isempty(cs) || (varcoords[n] = cs; union!(attached, cs))
    end
    gattrs = Dict{String,Any}(String(k) => v for (k, v) in attrs)
    rest = [c for c in nondim if !(c in attached)]
    isempty(rest) || (gattrs["coordinates"] = join(rest, " "))
    create_group(store, path; attrs=gattrs, zarr_format=zarr_format)
    for (n, s) in specs
        data = s[2]
        vattrs = length(s) >= 3 && s[3] !== nothing ? Dict{String,Any}(String(k) => v for (k, v) in s[3]) :
            Dict{String,Any}()
        venc = length(s) >= 4 && s[4] !== nothing ? Dict{String,Any}(String(k) => v for (k, v) in s[4]) :
            Dict{String,Any}()
        haskey(varcoords, n) && (vattrs["coordinates"] = join(varcoords[n], " "))
        _write_variable(store, joinkey(path, n), dimsof[n], data, vattrs, venc, zarr_format)
    end
    consolidated && consolidate_metadata(store, path)
    return open_dataset(store, path)
end

_nm(T) = Base.nonmissingtype(T)

_INFER_UNITS = (("days", _NS_PER_DAY), ("hours", 3_600_000_000_000), ("minutes", 60_000_000_000),
                ("seconds", 1_000_000_000), ("milliseconds", 1_000_000), ("microseconds", 1_000), ("nanoseconds", 1))

function _refstring(x)
    s = string(x)           # 2000-01-01T00:00:00[.fff]
    s = replace(s, "T" => " "; count=1)
    occursin(' ', s) || (s *= " 00:00:00")
    return s
end

function _encode_times(data, venc, vattrs)
    T = _nm(eltype(data))
    cal = T <: CFDateTime ? T.parameters[1] : :proleptic_gregorian
    C = T <: CFDateTime ? cal : :proleptic_gregorian
    # DateTime → ns on the Rata Die day count (as the proleptic Gregorian _days)
    dtns(x) = x isa CFDateTime ? _cfdate_ns(x) :
              Int128(Dates.value(Dates.Date(Dates.DateTime(x)))) * _NS_PER_DAY +
              Int128(Dates.value(Dates.DateTime(x) - Dates.DateTime(Dates.Date(Dates.DateTime(x))))) * 1_000_000
    vals = [x for x in data if x !== missing]
    if haskey(venc, "units")
        units = String(venc["units"])
        sp = _split_time_units(units)
        sp === nothing && throw(ArgumentError("time units must read \"<unit> since <date>\", got $(repr(units))"))
        u, refs = sp
        r = _parse_refdate(refs)
        y, mo, d, H, M, S, frac, tz = r
        refns = Int128(_days(C, y, mo, d)) * _NS_PER_DAY + H * 3_600_000_000_000 + M * 60_000_000_000 +
                S * 1_000_000_000 + frac - Int128(tz) * 60_000_000_000
        lu = lowercase(u)
        unit_ns = _TIME_UNIT_NS[endswith(lu, "s") ? lu : lu * "s"]
    else
        ref = isempty(vals) ? (T <: CFDateTime ? T(1970) : Dates.DateTime(1970)) : first(vals)
        refns = dtns(ref)
        diffs = [dtns(x) - refns for x in vals]
        unit_ns = 1
        u = "nanoseconds"
        for (name, ns) in _INFER_UNITS
            if all(dd -> mod(dd, ns) == 0, diffs)
                u, unit_ns = name, ns
                break
            end
        end
        units = string(u, " since ", _refstring(ref))
    end
    out = Array{Int64}(undef, size(data))
    for i in eachindex(data)
        x = data[i]
        if x === missing
            out[i] = typemin(Int64)
        else
            q, r = fldmod(dtns(x) - refns, unit_ns)
            r == 0 ||
                throw(ArgumentError(string("time $(x) is not a whole number of $(u) since the reference date; ",
                                           "give encoding \"units\"")))
            out[i] = Int64(q)
        end
    end
    vattrs["units"] = units
    defcal = T <: CFDateTime ? (cal === :standard ? "standard" : string(cal)) : "proleptic_gregorian"
    vattrs["calendar"] = string(get(venc, "calendar", defcal))
    return out
end

const _RES_OF_PERIOD = Dict{Any,Tuple{String,Int64}}(Dates.Nanosecond => ("ns", 1), Dates.Microsecond => ("us", 1_000),
                                                     Dates.Millisecond => ("ms", 1_000_000))

function _encode_deltas(data, venc, vattrs)
    P = _nm(eltype(data))
    res, res_ns = get(_RES_OF_PERIOD, P, ("s", 1_000_000_000))
    tons(x) = Int128(Dates.value(Dates.Nanosecond(x)))
    vals = [tons(x) for x in data if x !== missing]
    unit, unit_ns = "nanoseconds", Int64(1)
    if haskey(venc, "units")
        unit = String(venc["units"]); unit_ns = _TIME_UNIT_NS[unit]
    else
        for (name, ns) in _INFER_UNITS
            if all(v -> mod(v, ns) == 0, vals)
                unit, unit_ns = name, ns
                break
            end
        end
    end
    out = Int64[x === missing ? typemin(Int64) : Int64(fld(tons(x), unit_ns)) for x in data]
    vattrs["units"] = unit
    vattrs["dtype"] = "timedelta64[$res]"
    return reshape(out, size(data))
end

function _write_variable(store, path, dims, data::AbstractArray, vattrs, venc, fmt)
    T = eltype(data)
    S = _nm(T)
    hasmissing = Missing <: T && any(ismissing, data)
    kw = Dict{Symbol,Any}()
    haskey(venc, "chunks") && (kw[:chunks] = Tuple(venc["chunks"]))
    haskey(venc, "compressor") && (kw[:compressor] = venc["compressor"])
    zfill = nothing            # the Zarr fill_value (v2: xarray's mask)
    afill = nothing            # v3: the _FillValue attribute
    if S <: Union{Dates.DateTime,Dates.Date,CFDateTime}
        stored = _encode_times(data, venc, vattrs)
    elseif S <: Dates.Period
        stored = _encode_deltas(data, venc, vattrs)
    elseif S === Bool
        hasmissing && throw(ArgumentError("$(path): missing values in a Bool variable"))
        stored = convert(Array{Bool}, data)
        zfill = fmt == 2 ? nothing : false
    elseif S <: AbstractString
        hasmissing && throw(ArgumentError("$(path): missing values in a String variable"))
        stored = convert(Array{String}, map(String, data))
        zfill = fmt == 2 ? nothing : ""
    elseif S <: Real
        PT = get(venc, "dtype", nothing)
        PT isa AbstractString && (PT = julia_type(PT))
        scale = get(venc, "scale_factor", nothing)
        offset = get(venc, "add_offset", nothing)
        if PT !== nothing && PT <: Integer
            fv = get(venc, "_FillValue", hasmissing || S <: AbstractFloat ? typemin(PT) : nothing)
            stored = Array{PT}(undef, size(data))
            for i in eachindex(data)
                x = data[i]
                if x === missing || (x isa AbstractFloat && isnan(x))
                    fv === nothing && throw(ArgumentError("$(path): missing values need a _FillValue"))
                    stored[i] = PT(fv)
                else
                    y = Float64(x)
                    offset === nothing || (y -= offset)
                    scale === nothing || (y /= scale)
                    stored[i] = PT(round(y))
                end
            end
            scale === nothing || (vattrs["scale_factor"] = Float64(scale))
            offset === nothing || (vattrs["add_offset"] = Float64(offset))
            if fv !== nothing
                fmt == 2 ? (zfill = PT(fv)) : (afill = PT(fv); zfill = zero(PT))
            end
        elseif S <: AbstractFloat || (hasmissing && !(S <: Integer))
            F = PT === nothing ? S : PT
            fv = get(venc, "_FillValue", F(NaN))
            stored = F[x === missing ? F(fv) : F(x) for x in data]
            stored = reshape(stored, size(data))
            zfill = F(fv)
            fmt == 3 && (afill = Float64(fv))
        else  # integers
            F = PT === nothing ? S : PT
            if hasmissing || haskey(venc, "_FillValue")
                fv = F(get(venc, "_FillValue", typemin(F)))
                stored = reshape(F[x === missing ? fv : F(x) for x in data], size(data))
                fmt == 2 ? (zfill = fv) : (afill = fv; zfill = zero(F))
            else
                stored = convert(Array{F}, data)
                zfill = fmt == 2 ? nothing : zero(F)
            end
        end
    else
        throw(ArgumentError("$(path): cannot write elements of type $(T)"))
    end
    if afill !== nothing
        vattrs["_FillValue"] = afill isa AbstractFloat ?
            base64encode(reinterpret(UInt8, [htol(Float64(afill))])) : afill
    end
    if fmt == 2
        vattrs["_ARRAY_DIMENSIONS"] = julia_dimnames(dims, 'C')   # Zarr order (layout.jl)
        write_array(store, path, stored; attrs=vattrs, fill_value=zfill === nothing ? nothing : zfill, kw...)
    else
        write_array(store, path, stored; zarr_format=3, attrs=vattrs, dimension_names=julia_dimnames(dims, 'C'),
                    fill_value=zfill === nothing ? :default : zfill, kw...)
    end
    return nothing
end
