# Data types: numpy typestrings ⇄ Julia element types (the one table), and the byte codecs that
# turn a chunk's raw bytes into Julia values and back (byte order, packed structured layouts).

# ---------------------------------------------------------------------------------------------
# element types that Base lacks

"numpy datetime64 with unit `unit` (:ns, :s, :D, ...) and multiple `count`; NaT = typemin(Int64)."
struct Datetime64{unit,count}
    value::Int64
end

"numpy timedelta64 with unit `unit` and multiple `count`; NaT = typemin(Int64)."
struct Timedelta64{unit,count}
    value::Int64
end

const DateOrDelta = Union{Datetime64,Timedelta64}

"A numpy `|Sn` value: `N` bytes, NUL-padded on the right."
struct FixedBytesString{N}
    data::NTuple{N,UInt8}
end

"A numpy `<Un` value: `N` UTF-32 code points, NUL-padded on the right."
struct FixedUTF32String{N}
    data::NTuple{N,UInt32}
end

"A numpy `|Vn` value: `N` opaque bytes."
struct RawBytes{N}
    data::NTuple{N,UInt8}
end

const NAT = typemin(Int64)

isnat(x::DateOrDelta) = x.value == NAT
Base.:(==)(a::T, b::T) where {T<:DateOrDelta} = a.value == b.value && !isnat(a)
Base.isequal(a::T, b::T) where {T<:DateOrDelta} = a.value == b.value
Base.hash(a::DateOrDelta, h::UInt) = hash(a.value, hash(typeof(a), h))

# Dates period type for each numpy unit that Dates can represent exactly.
const UNIT_PERIODS = Dict{Symbol,Any}(
    :Y => Dates.Year, :M => Dates.Month, :W => Dates.Week, :D => Dates.Day, :h => Dates.Hour,
    :m => Dates.Minute, :s => Dates.Second, :ms => Dates.Millisecond, :us => Dates.Microsecond,
    :ns => Dates.Nanosecond)

function Dates.Period(x::Timedelta64{unit,count}) where {unit,count}
    isnat(x) && throw(ArgumentError("NaT has no Dates.Period"))
    P = get(UNIT_PERIODS, unit, nothing)
    P === nothing && throw(InexactError(:Period, Dates.Period, x))
    return P(x.value * count)
end
Base.convert(::Type{Dates.Period}, x::Timedelta64) = Dates.Period(x)

const UNIX_EPOCH = Dates.DateTime(1970)

function Dates.DateTime(x::Datetime64{unit,count}) where {unit,count}
    isnat(x) && throw(ArgumentError("NaT has no DateTime"))
    v = x.value * count
    unit === :Y && return UNIX_EPOCH + Dates.Year(v)
    unit === :M && return UNIX_EPOCH + Dates.Month(v)
    # DateTime has millisecond resolution: finer units convert only when exact
    if unit === :us || unit === :ns
        f = unit === :us ? 1000 : 1_000_000
        v % f == 0 || throw(InexactError(:DateTime, Dates.DateTime, x))
        return UNIX_EPOCH + Dates.Millisecond(v ÷ f)
    end
    P = get(UNIT_PERIODS, unit, nothing)
    P === nothing && throw(InexactError(:DateTime, Dates.DateTime, x))
    return UNIX_EPOCH + P(v)
end
Base.convert(::Type{Dates.DateTime}, x::Datetime64) = Dates.DateTime(x)

function Base.show(io::IO, x::Datetime64{unit,count}) where {unit,count}
    print(io, "Datetime64{:", unit, ",", count, "}(", isnat(x) ? "NaT" : string(x.value), ")")
end
function Base.show(io::IO, x::Timedelta64{unit,count}) where {unit,count}
    print(io, "Timedelta64{:", unit, ",", count, "}(", isnat(x) ? "NaT" : string(x.value), ")")
end

# fixed-width strings
function FixedBytesString{N}(s::Union{AbstractString,AbstractVector{UInt8}}) where {N}
    b = s isa AbstractString ? codeunits(String(s)) : s
    length(b) <= N || throw(ArgumentError("$(length(b)) bytes do not fit in |S$N"))
    return FixedBytesString{N}(ntuple(i -> i <= length(b) ? UInt8(b[i]) : 0x00, N))
end
function FixedUTF32String{N}(s::AbstractString) where {N}
    cs = collect(s)
    length(cs) <= N || throw(ArgumentError("$(length(cs)) characters do not fit in <U$N"))
    return FixedUTF32String{N}(ntuple(i -> i <= length(cs) ? UInt32(cs[i]) : 0x00000000, N))
end
RawBytes{N}(b::AbstractVector{UInt8}) where {N} =
    (length(b) == N || throw(ArgumentError("need $N bytes")); RawBytes{N}(ntuple(i -> b[i], N)))

_stripped_len(t::Tuple) = (n = length(t); while n > 0 && iszero(t[n]); n -= 1; end; n)
Base.String(x::FixedBytesString) = String(UInt8[x.data[i] for i in 1:_stripped_len(x.data)])
Base.String(x::FixedUTF32String) = String([Char(x.data[i]) for i in 1:_stripped_len(x.data)])
Base.Vector{UInt8}(x::Union{FixedBytesString,RawBytes}) = collect(x.data)
Base.:(==)(x::Union{FixedBytesString,FixedUTF32String}, s::AbstractString) = String(x) == s
Base.:(==)(s::AbstractString, x::Union{FixedBytesString,FixedUTF32String}) = String(x) == s
Base.show(io::IO, x::FixedBytesString{N}) where {N} = print(io, "FixedBytesString{", N, "}(", repr(String(x)), ")")
Base.show(io::IO, x::FixedUTF32String{N}) where {N} = print(io, "FixedUTF32String{", N, "}(", repr(String(x)), ")")
Base.zero(::Type{T}) where {T<:Union{FixedBytesString,FixedUTF32String,RawBytes}} = T(ntuple(i -> zero(fieldtype(T,
    1).parameters[1]), fieldcount(fieldtype(T, 1))))

# ---------------------------------------------------------------------------------------------
# the typestring table

# kind+size (without byte order) → Julia type.  Size-1 kinds take '|' (numpy also accepts '<'/'>').
const NUMERIC_TYPES = Dict{String,DataType}(
    "b1" => Bool, "i1" => Int8, "u1" => UInt8,
    "i2" => Int16, "i4" => Int32, "i8" => Int64,
    "u2" => UInt16, "u4" => UInt32, "u8" => UInt64,
    "f2" => Float16, "f4" => Float32, "f8" => Float64,
    "c8" => ComplexF32, "c16" => ComplexF64)
const NUMERIC_TYPESTRS = Dict{DataType,String}(v => k for (k, v) in NUMERIC_TYPES)

const DATETIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")

"One field of a structured dtype: byte offset within the item, sub-array shape (C order)."
struct ZField
    name::String
    dtype::Any          # ZDtype (Any: the struct is defined below)
    offset::Int
    shape::Vector{Int}
end

"""
    ZDtype

A parsed numpy/Zarr v2 data type: the JSON `typestr` (a String or the structured list form), the
Julia element type `T`, `itemsize` in bytes, `byteorder` ('<', '>' or '|'), numpy `kind` character
('b','i','u','f','c','M','m','S','U','V','O', or 'T' for structured), and `fields` for structured.
"""
struct ZDtype
    typestr::Any
    T::Type
    itemsize::Int
    byteorder::Char
    kind::Char
    fields::Vector{ZField}
end

Base.:(==)(a::ZDtype, b::ZDtype) = a.typestr == b.typestr
Base.show(io::IO, d::ZDtype) = print(io, "ZDtype(", repr(d.typestr), " => ", d.T, ")")

itemsize(d::ZDtype) = d.itemsize
itemsize(x) = itemsize(parse_dtype(x))
julia_type(x) = parse_dtype(x).T
"Are the numpy bytes of `d` exactly the memory of its Julia type (no swap, same layout)?"
isnative(d::ZDtype) = d.kind == 'T' ? _same_layout(d, d.T) :
    d.kind != 'O' && (d.byteorder != '>' || d.itemsize == 1 || (d.kind in ('S', 'V')))

# A structured dtype whose packed numpy layout happens to equal Julia's NamedTuple layout (e.g.
# all-f8 fields) can be reinterpreted; others are decoded field by field.
function _same_layout(d::ZDtype, T::Type)
    (isbitstype(T) && sizeof(T) == d.itemsize) || return false
    d.kind == 'T' || return isnative(d)
    length(d.fields) == fieldcount(T) || return false
    for (i, f) in enumerate(d.fields)
        fieldoffset(T, i) == f.offset || return false
        FT = fieldtype(T, i)
        _same_layout(f.dtype, isempty(f.shape) ? FT : eltype(FT)) || return false
    end
    return true
end

dtype_error(ts, msg) = throw(DtypeError(ts isa AbstractString ? String(ts) : json_string(ts; indent=nothing), msg))

"""
    parse_dtype(typestr; key="") -> ZDtype

Parse a numpy typestring (`"<f8"`, `"|S5"`, `"<M8[10s]"`, `"|O"`) or the list form of a structured
dtype (`[["a","<i4"],["b",">f8",[2,3]]]`).  Malformed input raises `DtypeError(typestr, ...)`.
"""
parse_dtype(d::ZDtype; key::AbstractString="") = d
parse_dtype(T::Type; key::AbstractString="") = parse_dtype(typestr(T); key=key)
function parse_dtype(ts::AbstractVector; key::AbstractString="")
    isempty(ts) && dtype_error(ts, "structured dtype with no fields")
    fields = ZField[]
    off = 0
    names = Symbol[]
    types = Any[]
    for f in ts
        (f isa AbstractVector && length(f) in (2, 3) && f[1] isa AbstractString) ||
            dtype_error(ts, "structured field must be [name, dtype] or [name, dtype, shape], got " *
                "$(json_string(f; indent=nothing))")
        sub = parse_dtype(f[2]; key=key)
        sub.kind == 'O' && dtype_error(ts, "object fields are not supported in structured dtypes")
        shape = Int[]
        if length(f) == 3
            (f[3] isa AbstractVector && all(x -> x isa Integer && x >= 0, f[3])) ||
                dtype_error(ts, "field $(repr(f[1])): shape must be a list of non-negative integers")
            shape = Int.(f[3])
        end
        n, of = _checked_prod(shape)
        (of || n * sub.itemsize > MAX_TUPLE_LENGTH) &&
            dtype_error(ts, "field $(repr(f[1])): a sub-array of $(shape) × $(sub.itemsize) bytes (PolyZarr.jl holds " *
                "at most $MAX_TUPLE_LENGTH bytes per field)")
        name = String(f[1])
        if !isempty(name)   # numpy writes unnamed padding as ["", "|Vn"]: keep its bytes, not a field
            Symbol(name) in names && dtype_error(ts, "duplicate field name $(repr(name))")
            push!(fields, ZField(name, sub, off, shape))
            push!(names, Symbol(name))
            push!(types, isempty(shape) ? sub.T : NTuple{n,sub.T})
        end
        off += n * sub.itemsize
    end
    isempty(fields) && dtype_error(ts, "structured dtype with only padding")
    T = NamedTuple{Tuple(names),Tuple{types...}}
    return ZDtype(_plain_json(ts), T, off, '|', 'T', fields)
end
_plain_json(x::AbstractVector) = Any[_plain_json(y) for y in x]
_plain_json(x::AbstractString) = String(x)
_plain_json(x) = x

# Fixed-size values are Julia tuples: the compiler cannot handle tuples of many thousand elements
# (LLVM crashes at 65536), so longer ones are refused before any type is built.
const MAX_TUPLE_LENGTH = 4096

_check_tuple_length(s, n) = n > MAX_TUPLE_LENGTH &&
    dtype_error(s, "$n elements per item: PolyZarr.jl holds at most $MAX_TUPLE_LENGTH")

function _checked_prod(xs)
    n, of = 1, false
    for x in xs
        n, o = Base.Checked.mul_with_overflow(n, Int(x))
        of |= o
    end
    return n, of
end

function parse_dtype(ts::AbstractString; key::AbstractString="")
    s = String(ts)
    length(s) >= 2 || dtype_error(s, "too short for a typestring")
    bo = s[1]
    bo in ('<', '>', '|') || dtype_error(s, "byte order must be '<', '>' or '|', got $(repr(bo))")
    body = s[2:end]
    kind = body[1]
    if haskey(NUMERIC_TYPES, body)
        T = NUMERIC_TYPES[body]
        if sizeof(T) == 1
            bo = '|'
        else
            bo == '|' && dtype_error(s, "multi-byte type needs byte order '<' or '>'")
        end
        return ZDtype(string(bo, body), T, sizeof(T), bo, kind, ZField[])
    elseif kind in ('M', 'm')
        m = match(r"^[Mm]8\[(\d*)([A-Za-z]+)\]$", body)
        m === nothing && dtype_error(s, "datetime types need a unit, e.g. <M8[ns]")
        unit = m.captures[2]
        unit in DATETIME_UNITS || dtype_error(s, "unknown datetime unit $(repr(unit))")
        count = isempty(m.captures[1]) ? 1 : tryparse(Int, m.captures[1])
        (count === nothing || count < 1) && dtype_error(s, "bad unit multiple")
        bo == '|' && dtype_error(s, "datetime types need byte order '<' or '>'")
        T = (kind == 'M' ? Datetime64 : Timedelta64){Symbol(unit),count}
        return ZDtype(s, T, 8, bo, kind, ZField[])
    elseif kind in ('S', 'U', 'V')
        n = length(body) >= 2 && all(isdigit, body[2:end]) ? tryparse(Int, body[2:end]) : nothing
        n === nothing && dtype_error(s, "$(kind) type needs a size, e.g. $(kind == 'U' ? "<U5" : "|$(kind)5")")
        n >= 1 || dtype_error(s, "zero-size $(kind) type")
        _check_tuple_length(s, n)
        if kind == 'U'
            bo == '|' && dtype_error(s, "U type needs byte order '<' or '>'")
            return ZDtype(s, FixedUTF32String{n}, 4n, bo, 'U', ZField[])
        end
        bo == '|' || dtype_error(s, "$(kind) type takes byte order '|'")
        return ZDtype(s, kind == 'S' ? FixedBytesString{n} : RawBytes{n}, n, '|', kind, ZField[])
    elseif body == "O"
        bo == '|' || dtype_error(s, "object type takes byte order '|'")
        return ZDtype(s, Any, 8, '|', 'O', ZField[])
    end
    dtype_error(s, "unknown or malformed typestring")
end
parse_dtype(x; key::AbstractString="") = dtype_error(json_string(x; indent=nothing), "dtype must be a string or a " *
    "list of fields")

"Object dtype with a known Julia element type (from the object codec)."
object_dtype(T::Type) = ZDtype("|O", T, 8, '|', 'O', ZField[])

"""
    typestr(T) -> String or Vector

The numpy typestring of Julia type `T` in native little-endian order (`Int32` → `"<i4"`).
"""
typestr(d::ZDtype) = d.typestr
function typestr(T::Type)
    haskey(NUMERIC_TYPESTRS, T) && return sizeof(T) == 1 ? "|" * NUMERIC_TYPESTRS[T] : "<" * NUMERIC_TYPESTRS[T]
    T <: Datetime64 && return string("<M8[", _unitstr(T), "]")
    T <: Timedelta64 && return string("<m8[", _unitstr(T), "]")
    T <: FixedBytesString && return string("|S", T.parameters[1])
    T <: FixedUTF32String && return string("<U", T.parameters[1])
    T <: RawBytes && return string("|V", T.parameters[1])
    if T <: NamedTuple && isconcretetype(T)
        out = Any[]
        for (name, FT) in zip(fieldnames(T), fieldtypes(T))
            if FT <: NTuple && !(FT <: Tuple{})
                push!(out, Any[String(name), typestr(eltype(FT)), Any[fieldcount(FT)]])
            else
                push!(out, Any[String(name), typestr(FT)])
            end
        end
        return out
    end
    T <: Union{AbstractString,Vector{UInt8}} && return "|O"
    throw(DtypeError(string(T), "no numpy typestring for Julia type $T"))
end
_unitstr(T) = (c = T.parameters[2]; c == 1 ? string(T.parameters[1]) : string(c, T.parameters[1]))

# ---------------------------------------------------------------------------------------------
# bytes ⇄ values

# byte swap of one value, for '>' types
_bswap(x::Union{Int8,UInt8,Bool}) = x
_bswap(x::Union{Int16,UInt16,Int32,UInt32,Int64,UInt64}) = bswap(x)
_bswap(x::Float16) = reinterpret(Float16, bswap(reinterpret(UInt16, x)))
_bswap(x::Float32) = reinterpret(Float32, bswap(reinterpret(UInt32, x)))
_bswap(x::Float64) = reinterpret(Float64, bswap(reinterpret(UInt64, x)))
_bswap(x::Complex) = complex(_bswap(real(x)), _bswap(imag(x)))
_bswap(x::T) where {T<:DateOrDelta} = T(bswap(x.value))
_bswap(x::FixedUTF32String{N}) where {N} = FixedUTF32String{N}(map(bswap, x.data))
_bswap(x::Union{FixedBytesString,RawBytes}) = x

# Load one value of dtype `d` from `b` at 0-based byte offset `pos` (packed numpy layout).
function _load(d::ZDtype, b::Vector{UInt8}, pos::Int)
    if d.kind == 'T'
        vals = Any[]
        for f in d.fields
            if isempty(f.shape)
                push!(vals, _load(f.dtype, b, pos + f.offset))
            else
                sz = f.dtype.itemsize
                push!(vals, ntuple(i -> _load(f.dtype, b, pos + f.offset + (i - 1) * sz), prod(f.shape)))
            end
        end
        return d.T(Tuple(vals))
    end
    T = d.T
    v = GC.@preserve b unsafe_load(Ptr{T}(pointer(b, pos + 1)))
    return d.byteorder == '>' ? _bswap(v) : v
end

function _store!(d::ZDtype, b::Vector{UInt8}, pos::Int, v)
    if d.kind == 'T'
        for (k, f) in enumerate(d.fields)
            x = v[k]
            if isempty(f.shape)
                _store!(f.dtype, b, pos + f.offset, x)
            else
                sz = f.dtype.itemsize
                for i in 1:prod(f.shape)
                    _store!(f.dtype, b, pos + f.offset + (i - 1) * sz, x[i])
                end
            end
        end
        return
    end
    T = d.T
    x = convert(T, v)
    d.byteorder == '>' && (x = _bswap(x))
    GC.@preserve b unsafe_store!(Ptr{T}(pointer(b, pos + 1)), x)
    return
end

"""
    bytes_to_values(d, bytes; key="") -> Vector{d.T}

Decode packed numpy bytes into Julia values: a no-copy reinterpret for native types, a byte swap
for '>' types, field-by-field loads for structured types.
"""
function bytes_to_values(d::ZDtype, b::Vector{UInt8}; key::AbstractString="")
    d.kind == 'O' && throw(CodecError(key, "object dtype needs an object codec (vlen-utf8, vlen-bytes, json2)"))
    n, r = divrem(length(b), d.itemsize)
    r == 0 || throw(ChunkError(key, "$(length(b)) bytes is not a multiple of the item size $(d.itemsize)"))
    T = d.T
    if isnative(d)
        return T === UInt8 ? b : _reinterpret_vector(T, b)
    elseif d.kind != 'T'
        v = Vector{T}(undef, n)
        GC.@preserve b unsafe_copyto!(Ptr{UInt8}(pointer(v)), pointer(b), length(b))
        @inbounds for i in 1:n
            v[i] = _bswap(v[i])
        end
        return v
    end
    v = Vector{T}(undef, n)
    for i in 1:n
        v[i] = _load(d, b, (i - 1) * d.itemsize)
    end
    return v
end

# A Vector{T} sharing memory with `b` would need unsafe_wrap; a plain copy is one memcpy and keeps
# ownership simple.  (Callers that want zero-copy use reinterpret_chunk in layout.jl.)
function _reinterpret_vector(::Type{T}, b::Vector{UInt8}) where {T}
    v = Vector{T}(undef, length(b) ÷ sizeof(T))
    GC.@preserve v b unsafe_copyto!(Ptr{UInt8}(pointer(v)), pointer(b), length(b))
    return v
end

"""
    values_to_bytes(d, v) -> Vector{UInt8}

Encode Julia values in the packed numpy layout of `d` (the inverse of `bytes_to_values`).
"""
function values_to_bytes(d::ZDtype, v::AbstractArray)
    T = d.T
    n = length(v)
    if isnative(d) && v isa Array && eltype(v) === T
        T === UInt8 && return vec(v)
        b = Vector{UInt8}(undef, n * sizeof(T))
        GC.@preserve v b unsafe_copyto!(pointer(b), Ptr{UInt8}(pointer(v)), length(b))
        return b
    end
    b = zeros(UInt8, n * d.itemsize)
    if d.kind != 'T' && isbitstype(T)
        w = Vector{T}(undef, n)
        i = 0
        swap = d.byteorder == '>'
        for x in v
            i += 1
            y = convert(T, x)
            @inbounds w[i] = swap ? _bswap(y) : y
        end
        GC.@preserve w b unsafe_copyto!(pointer(b), Ptr{UInt8}(pointer(w)), length(b))
        return b
    end
    i = 0
    for x in v
        _store!(d, b, i * d.itemsize, x)
        i += 1
    end
    return b
end

# ---------------------------------------------------------------------------------------------
# Zarr v3 data types (docs/V3.md).  A v3 `data_type` has no byte order: that is the `bytes`
# codec's `endian`.  Both together are one numpy dtype, so a v3 type parses to the same ZDtype a
# v2 typestring does (`int32` + big endian is `>i4`), and everything downstream (byte swaps,
# structured layouts, .npy export) is shared with v2.

const V3_NUMERIC = Dict{String,String}(
    "bool" => "b1", "int8" => "i1", "int16" => "i2", "int32" => "i4", "int64" => "i8",
    "uint8" => "u1", "uint16" => "u2", "uint32" => "u4", "uint64" => "u8",
    "float16" => "f2", "float32" => "f4", "float64" => "f8", "complex64" => "c8", "complex128" => "c16")
const V3_NUMERIC_NAMES = Dict{String,String}(v => k for (k, v) in V3_NUMERIC)

_v3_dtype_error(key, msg) = throw(DtypeError(String(key), msg))
_v3_repr(x) = json_string(x; indent=nothing)

"The bit count of a v3 `r<bits>` raw-bits name, or nothing for any other data type."
function raw_bits(x)
    x isa AbstractString || return nothing
    m = match(r"^r(\d+)$", x)
    m === nothing && return nothing
    bits = tryparse(Int, m.captures[1])
    return bits
end

function _v3_config(x::AbstractDict, key)
    cfg = get(x, "configuration", Dict{String,Any}())
    cfg isa AbstractDict || _v3_dtype_error(key * ".configuration", "must be an object, got $(_v3_repr(cfg))")
    for k in keys(x)
        k in ("name", "configuration") || _v3_dtype_error(key, "unknown key $(repr(k)) in data type $(_v3_repr(x))")
    end
    return cfg
end

function _v3_positive(cfg, name, key; multiple::Int=1, default=nothing)
    v = get(cfg, name, default)
    (v isa Integer && !(v isa Bool) && v > 0 && v % multiple == 0) ||
        _v3_dtype_error(string(key, ".configuration.", name),
                        "must be a positive integer$(multiple > 1 ? " divisible by $multiple" : ""), got " *
                            "$(_v3_repr(v))")
    return Int(v)
end

function _v3_only_keys(cfg, allowed, key)
    for k in keys(cfg)
        k in allowed || _v3_dtype_error(string(key, ".configuration"), "unknown key $(repr(k))")
    end
end

"""
    parse_data_type(x, endian='<'; key="data_type") -> ZDtype

The numpy-equivalent dtype of a v3 `data_type` (a name or `{"name", "configuration"}`) stored
with byte order `endian` ('<' or '>'; ignored by types without one).  `string` and
`variable_length_bytes` (and zarr-python 3.0's `bytes`) are object dtypes with element type
`String` / `Vector{UInt8}`.  Unknown or malformed types raise `DtypeError(key, ...)`.
"""
function parse_data_type(x, endian::Char='<'; key::AbstractString="data_type")
    key = String(key)
    if x isa AbstractString
        s = String(x)
        if haskey(V3_NUMERIC, s)
            code = V3_NUMERIC[s]
            return parse_dtype(string(code in ("b1", "i1", "u1") ? '|' : endian, code); key=key)
        elseif s == "string"
            return object_dtype(String)
        elseif s == "variable_length_bytes" || s == "bytes"
            return object_dtype(Vector{UInt8})
        end
        bits = raw_bits(s)
        if bits !== nothing
            (bits > 0 && bits % 8 == 0) ||
                _v3_dtype_error(key, "raw bits type $(repr(s)): the size must be a positive multiple of 8")
            return parse_dtype("|V$(bits ÷ 8)"; key=key)
        end
        s in ("fixed_length_utf32", "null_terminated_bytes", "raw_bytes", "numpy.datetime64", "numpy.timedelta64",
              "structured", "struct") && _v3_dtype_error(key, "data type $(repr(s)) needs a configuration")
        _v3_dtype_error(key, "unknown data type $(repr(s))")
    end
    x isa AbstractDict || _v3_dtype_error(key, "a data type is a name or an object with a \"name\", got $(_v3_repr(x))")
    name = get(x, "name", nothing)
    name isa AbstractString || _v3_dtype_error(key, "a data type object needs a string \"name\", got $(_v3_repr(x))")
    cfg = _v3_config(x, key)
    if name == "fixed_length_utf32"
        _v3_only_keys(cfg, ("length_bytes",), key)
        n = _v3_positive(cfg, "length_bytes", key; multiple=4)
        return parse_dtype(string(endian, "U", n ÷ 4); key=key)
    elseif name == "null_terminated_bytes" || name == "raw_bytes"
        _v3_only_keys(cfg, ("length_bytes",), key)
        n = _v3_positive(cfg, "length_bytes", key)
        return parse_dtype(string('|', name == "raw_bytes" ? 'V' : 'S', n); key=key)
    elseif name == "numpy.datetime64" || name == "numpy.timedelta64"
        _v3_only_keys(cfg, ("unit", "scale_factor"), key)
        unit = get(cfg, "unit", nothing)
        (unit isa AbstractString && unit in DATETIME_UNITS) ||
            _v3_dtype_error(key * ".configuration.unit", "unknown time unit $(_v3_repr(unit)) (one of " *
                "$(join(DATETIME_UNITS, ", ")))")
        scale = _v3_positive(cfg, "scale_factor", key; default=1)
        code = name == "numpy.datetime64" ? "M8" : "m8"
        return parse_dtype(string(endian, code, "[", scale == 1 ? "" : string(scale), unit, "]"); key=key)
    elseif name == "structured" || name == "struct"
        _v3_only_keys(cfg, ("fields",), key)
        fields = get(cfg, "fields", nothing)
        (fields isa AbstractVector && !isempty(fields)) ||
            _v3_dtype_error(key * ".configuration.fields", "must be a non-empty list of fields, got " *
                "$(_v3_repr(fields))")
        out = Any[]
        seen = Set{String}()
        for (i, f) in enumerate(fields)
            fkey = string(key, ".configuration.fields[", i - 1, "]")
            # zarr-python writes [name, data_type]; the zarr-extensions `struct` form is
            # {"name", "data_type"}; a third list element is a sub-array shape
            fname, ftype, fshape = if f isa AbstractVector && length(f) in (2, 3) && f[1] isa AbstractString
                f[1], f[2], length(f) == 3 ? f[3] : nothing
            elseif f isa AbstractDict && get(f, "name", nothing) isa AbstractString && haskey(f, "data_type")
                f["name"], f["data_type"], get(f, "shape", nothing)
            else
                _v3_dtype_error(fkey, "a field is [name, data_type], got $(_v3_repr(f))")
            end
            isempty(fname) && _v3_dtype_error(fkey, "empty field name")
            fname in seen && _v3_dtype_error(fkey, "duplicate field name $(repr(fname))")
            push!(seen, String(fname))
            sub = parse_data_type(ftype, endian; key=fkey)
            sub.kind == 'O' && _v3_dtype_error(fkey, "variable-length fields are not allowed in a structured type")
            if fshape === nothing
                push!(out, Any[String(fname), sub.typestr])
            else
                (fshape isa AbstractVector && all(s -> s isa Integer && !(s isa Bool) && s >= 0, fshape)) ||
                    _v3_dtype_error(fkey, "a field's shape must be a list of non-negative integers, got " *
                        "$(_v3_repr(fshape))")
                push!(out, Any[String(fname), sub.typestr, Any[Int(s) for s in fshape]])
            end
        end
        return parse_dtype(out; key=key)
    end
    isempty(cfg) && return parse_data_type(String(name), endian; key=key)   # {"name": "int32"}
    _v3_dtype_error(key, "unknown data type $(repr(name))")
end

"""
    data_type_json(d::ZDtype) -> String or Dict

The v3 `data_type` of a numpy-equivalent dtype, spelled as zarr-python 3.1 writes it (the byte
order goes to the bytes codec, see `dtype_endian`).
"""
function data_type_json(d::ZDtype)
    k = d.kind
    if k == 'O'
        d.T === String && return "string"
        d.T === Vector{UInt8} && return "variable_length_bytes"
        throw(DtypeError(string(d.typestr), "Zarr v3 has no data type for object arrays of $(d.T) (only String or " *
            "Vector{UInt8})"))
    elseif k == 'T' && struct_v3_form(d)       # zarr-python 3.4's struct
        return _named("struct", Dict{String,Any}("fields" => Any[Dict{String,Any}("name" => f.name,
            "data_type" => data_type_json(f.dtype)) for f in d.fields]))
    elseif k == 'T'
        fields = Any[]
        for f in d.fields
            push!(fields, isempty(f.shape) ? Any[f.name, data_type_json(f.dtype)] :
                                             Any[f.name, data_type_json(f.dtype), copy(f.shape)])
        end
        return _named("structured", Dict{String,Any}("fields" => fields))
    elseif k == 'U'
        return _named("fixed_length_utf32", Dict{String,Any}("length_bytes" => d.itemsize))
    elseif k == 'S'
        return _named("null_terminated_bytes", Dict{String,Any}("length_bytes" => d.itemsize))
    elseif k == 'V'
        return _named("raw_bytes", Dict{String,Any}("length_bytes" => d.itemsize))
    elseif k in ('M', 'm')
        T = d.T
        return _named(k == 'M' ? "numpy.datetime64" : "numpy.timedelta64",
                      Dict{String,Any}("unit" => String(T.parameters[1]), "scale_factor" => T.parameters[2]))
    end
    code = string(k, d.itemsize)
    haskey(V3_NUMERIC_NAMES, code) || throw(DtypeError(string(d.typestr), "no Zarr v3 data type for this dtype"))
    return V3_NUMERIC_NAMES[code]
end
_named(name, cfg) = Dict{String,Any}("name" => name, "configuration" => cfg)

"""
    dtype_endian(d::ZDtype) -> '<', '>' or nothing

The byte order a `bytes` codec must declare for `d`: nothing for types without one (1-byte,
byte strings, structured types of such fields); for a structured type with mixed orders, its first
multi-byte field's (the whole type is then stored in that one order).
"""
function dtype_endian(d::ZDtype)
    if d.kind == 'T'
        for f in d.fields
            e = dtype_endian(f.dtype)
            e === nothing || return e
        end
        return nothing
    end
    (d.kind in ('S', 'V', 'O', 'b') || d.itemsize == 1) && return nothing
    return d.byteorder
end

"`d` with every multi-byte part in byte order `endian` ('<' or '>'): what a v3 bytes codec stores."
function with_endian(d::ZDtype, endian::Char)
    d.kind == 'O' && return d
    return parse_dtype(_with_endian_json(d.typestr, endian))
end
_with_endian_json(ts::AbstractString, e::Char) = (ts[1] in ('<', '>') ? string(e, ts[2:end]) : String(ts))
_with_endian_json(ts::AbstractVector, e::Char) =
    Any[length(f) == 3 ? Any[f[1], _with_endian_json(f[2], e), f[3]] : Any[f[1], _with_endian_json(f[2],
        e)] for f in ts]

# ---------------------------------------------------------------------------------------------
# Fill values as JSON: the dtype owns them, one function per kind for both formats (`fmt` 2 or 3;
# `raw`: a v3 `r*` raw-bits type; `name`: the data type as messages show it).  metadata.jl and
# metadata_v3.jl only add the null rule of each format.

_fill_error(key, msg) = throw(MetadataError(String(key), msg))
_is_int(x) = x isa Integer && !(x isa Bool)

function _float_fill(::Type{T}, x, key) where {T<:AbstractFloat}
    x isa AbstractString || (x isa Real && !(x isa Bool)) ||
        _fill_error(key, "expected a number or \"NaN\"/\"Infinity\"/\"-Infinity\", got $(_jtype(x))")
    if x isa AbstractString
        x == "NaN" && return T(NaN)
        x == "Infinity" && return T(Inf)
        x == "-Infinity" && return T(-Inf)
        _fill_error(key, "invalid float fill value $(repr(x))")
    end
    return T(x)
end

const _HEXFILL = r"^0x[0-9a-fA-F]+$"

# v3 also takes the bits as hex ("0x7fc00000"), exactly (NaN payloads too)
function _float_fill(::Type{T}, x, key, fmt::Int) where {T<:AbstractFloat}
    if fmt == 3 && x isa AbstractString && occursin(_HEXFILL, x)
        U = T === Float16 ? UInt16 : T === Float32 ? UInt32 : UInt64
        length(x) == 2 + 2 * sizeof(T) ||
            _fill_error(key, "hex fill value $(repr(x)) must have $(2 * sizeof(T)) hex digits for a " *
                "$(8 * sizeof(T))-bit float")
        return reinterpret(T, parse(U, x[3:end]; base=16))
    end
    return _float_fill(T, x, key)
end

# Strict RFC 4648 base64 (Base64.base64decode skips characters it does not know).
const _BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

function _base64_fill(x, n, key; exact::Bool=false)
    x isa AbstractString || _fill_error(key, "expected a base64 string, got $(_jtype(x))")
    occursin(_BASE64, x) || _fill_error(key, "fill value $(repr(x)) is not valid base64")
    b = base64decode(x)
    (exact ? length(b) != n : length(b) > n) &&
        _fill_error(key, "fill value has $(length(b)) bytes, dtype needs $(exact ? "" : "at most ")$n")
    return vcat(b, zeros(UInt8, n - length(b)))
end

_float_json(x::AbstractFloat) = isnan(x) ? "NaN" : isinf(x) ? (x > 0 ? "Infinity" : "-Infinity") : Float64(x)
_canonical_nan(x::T) where {T<:AbstractFloat} = reinterpret(Unsigned, x) == reinterpret(Unsigned, T(NaN))
_hexbits(x::AbstractFloat) = string("0x", string(reinterpret(Unsigned, x); base=16, pad=2 * sizeof(x)))
_float_json(x::AbstractFloat, fmt::Int) = fmt == 3 && isnan(x) && !_canonical_nan(x) ? _hexbits(x) : _float_json(x)

# ---- decoding, per kind

function _bool_from_json(d, x, fmt, key)
    x isa Bool && return x
    fmt == 2 && _is_int(x) && x in (0, 1) && return x == 1
    _fill_error(key, fmt == 2 ? "expected a boolean, got $(_jtype(x))" : "expected true or false, got $(_jtype(x))")
end

function _int_from_json(d, x, fmt, key, name)
    T = d.T
    ok = fmt == 2 ? x isa Real && !(x isa Bool) && isfinite(x) && isinteger(x) : _is_int(x)
    ok || _fill_error(key, "expected an integer, got $(_jtype(x))")
    (typemin(T) <= x <= typemax(T)) || _fill_error(key, "$x is out of range for $name")
    return T(x)
end

function _complex_from_json(d, x, fmt, key)
    (x isa AbstractVector && length(x) == 2) || _fill_error(key, "expected [real, imag], got $(_jtype(x))")
    F = real(d.T)
    return d.T(_float_fill(F, x[1], key, fmt), _float_fill(F, x[2], key, fmt))
end

function _time_from_json(d, x, fmt, key)
    x == "NaT" && return d.T(NAT)
    (_is_int(x) && typemin(Int64) <= x <= typemax(Int64)) ||
        _fill_error(key, fmt == 2 ? "expected an Int64, got $(_jtype(x))" :
                         "expected an Int64 or \"NaT\", got $(_jtype(x))")
    return d.T(Int64(x))
end

function _raw_from_json(d, x, fmt, key, raw)
    n = d.itemsize
    if raw
        (x isa AbstractVector && length(x) == n && all(b -> _is_int(b) && 0 <= b <= 255, x)) ||
            _fill_error(key, "expected a list of $n byte values (0-255), got $(json_string(x; indent=nothing))")
        return d.T(ntuple(i -> UInt8(x[i]), n))
    end
    return d.T(Tuple(_base64_fill(x, n, key; exact=true)))
end

function _unicode_from_json(d, x, key)
    x isa AbstractString || _fill_error(key, "expected a string, got $(_jtype(x))")
    length(x) <= d.itemsize ÷ 4 || _fill_error(key, "$(repr(x)) is longer than $(d.itemsize ÷ 4) characters")
    return d.T(x)
end

function _object_from_json(d, x, fmt, key)
    fmt == 2 && return x
    if d.T === String
        x isa AbstractString || _fill_error(key, "expected a string, got $(_jtype(x))")
        return String(x)
    end
    x isa AbstractString || _fill_error(key, "expected a base64 string, got $(_jtype(x))")
    occursin(_BASE64, x) || _fill_error(key, "fill value $(repr(x)) is not valid base64")
    return base64decode(x)
end

# zarr-python 3.4's struct fill: an object with one member per field, each in its type's own JSON
function _struct_from_json(d, x, fmt, key)
    b = zeros(UInt8, d.itemsize)
    for f in d.fields
        fkey = string(key, ".", f.name)
        haskey(x, f.name) || _fill_error(fkey, "missing: a struct fill value needs every field")
        isempty(f.shape) ||
            _fill_error(fkey, "a sub-array field's fill value as JSON is not supported (use a base64 fill)")
        _store!(f.dtype, b, f.offset, fill_from_json(f.dtype, x[f.name], fmt; key=fkey))
    end
    for k in keys(x)
        any(f -> f.name == k, d.fields) || _fill_error(string(key, ".", k), "not a field of the struct")
    end
    return _load(d, b, 0)
end

"""
    fill_from_json(dtype, json, fmt; key, raw=false, name=dtype.typestr) -> value of dtype.T

A (non-null) fill_value of Zarr format `fmt` (2 or 3) as a value of `dtype`: the one rule per kind.
"""
function fill_from_json(d::ZDtype, x, fmt::Int; key::AbstractString="fill_value", raw::Bool=false,
                        name::AbstractString=string(d.typestr))
    k = d.kind
    k == 'b' && return _bool_from_json(d, x, fmt, key)
    k in ('i', 'u') && return _int_from_json(d, x, fmt, key, name)
    k == 'f' && return _float_fill(d.T, x, key, fmt)
    k == 'c' && return _complex_from_json(d, x, fmt, key)
    k in ('M', 'm') && return _time_from_json(d, x, fmt, key)
    k == 'V' && return _raw_from_json(d, x, fmt, key, raw)
    k == 'S' && return d.T(Tuple(_base64_fill(x, d.itemsize, key)))
    k == 'U' && return _unicode_from_json(d, x, key)
    k == 'T' && x isa AbstractDict && return _struct_from_json(d, x, fmt, key)
    k == 'T' && return _load(d, _base64_fill(x, d.itemsize, key; exact=true), 0)
    k == 'O' && return _object_from_json(d, x, fmt, key)
    _fill_error(key, fmt == 2 ? "unsupported dtype" : "unsupported data type")
end

# ---- encoding, per kind

function _int_to_json(d, v)
    x = convert(d.T, v)
    return x isa UInt64 && x > typemax(Int64) ? x : Int64(x)
end

function _bytes_to_json(d, v)
    x = v isa AbstractString || v isa AbstractVector ? d.T(v) : v
    # numpy's bytes scalar drops trailing NULs, and zarr-python encodes that
    return base64encode(UInt8[x.data[i] for i in 1:_stripped_len(x.data)])
end

function _raw_to_json(d, v, raw)
    x = v isa AbstractVector ? d.T(v) : v
    return raw ? Any[Int(b) for b in x.data] : base64encode(collect(x.data))
end

function _struct_to_json(d, v)
    b = zeros(UInt8, d.itemsize)
    _store!(d, b, 0, v)
    return base64encode(b)
end

# zarr-python 3.4 writes a struct's fill as an object (field name → the field type's fill JSON)
function _struct_to_object(d, v)
    b = zeros(UInt8, d.itemsize)
    _store!(d, b, 0, v)
    x = _load(d, b, 0)
    return Dict{String,Any}(f.name => fill_to_json(f.dtype, x[i], 3) for (i, f) in enumerate(d.fields))
end
"Can `d` be written as zarr-python 3.4's `struct` (no sub-array fields, at any depth)?"
struct_v3_form(d) = d.kind == 'T' && all(f -> isempty(f.shape) && (f.dtype.kind != 'T' || struct_v3_form(f.dtype)),
                                         d.fields)

function _object_to_json(d, v, fmt)
    fmt == 2 && return v
    d.T === String && return String(v)
    return base64encode(v isa AbstractString ? codeunits(v) : v)
end

"""
    fill_to_json(dtype, value, fmt; raw=false) -> JSON value

A Julia fill value as zarr-python writes it in Zarr format `fmt` (the inverse of `fill_from_json`).
"""
function fill_to_json(d::ZDtype, v, fmt::Int; raw::Bool=false)
    v === nothing && return nothing
    k = d.kind
    k == 'b' && return Bool(v)
    k in ('i', 'u') && return _int_to_json(d, v)
    k == 'f' && return _float_json(convert(d.T, v), fmt)
    k == 'c' && return (c = convert(d.T, v); Any[_float_json(real(c), fmt), _float_json(imag(c), fmt)])
    k in ('M', 'm') && return (v isa DateOrDelta ? v.value : Int64(v))
    k == 'U' && return String(convert(d.T, v isa AbstractString ? d.T(v) : v))
    k == 'S' && return _bytes_to_json(d, v)
    k == 'V' && return _raw_to_json(d, v, raw && fmt == 3)
    k == 'T' && return fmt == 3 && struct_v3_form(d) ? _struct_to_object(d, v) : _struct_to_json(d, v)
    k == 'O' && return _object_to_json(d, v, fmt)
    return v
end

"""
    default_fill(dtype, fmt; raw=false) -> JSON value

The fill value of a new array: v2 (CONTRACT) 0 / false / zeros, null for object; v3 (zarr-python 3.1)
the same but NaT for datetimes, "" for byte strings and object types, zero bytes for `r*`.
"""
function default_fill(d::ZDtype, fmt::Int; raw::Bool=false)
    k = d.kind
    if fmt == 3
        k in ('M', 'm') && return NAT
        k == 'S' && return ""
        k == 'V' && raw && return Any[0 for _ in 1:d.itemsize]
        k == 'O' && return ""
    end
    k == 'b' && return false
    k in ('i', 'u') && return 0
    k == 'f' && return 0.0
    k == 'c' && return Any[0.0, 0.0]
    k in ('M', 'm') && return 0
    k == 'U' && return ""
    fmt == 3 && struct_v3_form(d) && return _struct_to_object(d, _load(d, zeros(UInt8, d.itemsize), 0))
    k in ('S', 'V', 'T') && return base64encode(zeros(UInt8, d.itemsize))
    return nothing
end
