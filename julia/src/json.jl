# JSON for Zarr metadata and the worker protocol (Julia 1.5's stdlib has none).
#
# parse_json maps JSON to Dict{String,Any} / Vector{Any} / Int64 (Int128 or BigInt when the
# integer does not fit) / Float64 / String / Bool / nothing, and accepts the NaN, Infinity and
# -Infinity tokens that Python's json writes.  write_json / json_string produce exactly the text of
# Python's json.dumps(x, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": ")), or
# with indent=nothing json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=True), so that
# metadata written by either side is byte-identical.

const JSON_MAX_DEPTH = 512

mutable struct JSONParser
    s::Vector{UInt8}
    pos::Int          # 1-based index of the next unread byte
    key::String       # store key or path named in errors
    depth::Int
end

"""
    parse_json(s; key="") -> Dict{String,Any} | Vector{Any} | Int64 | Float64 | String | Bool | Nothing

Parse one JSON document.  Malformed input raises `MetadataError(key, "invalid JSON at byte N: ...")`
with N the 0-based byte offset (as Python reports it).  Duplicate object keys: the last one wins.
"""
function parse_json(s::AbstractVector{UInt8}; key::AbstractString="")
    p = JSONParser(s isa Vector{UInt8} ? s : Vector{UInt8}(s), 1, String(key), 0)
    skip_ws!(p)
    x = parse_value!(p)
    skip_ws!(p)
    p.pos <= length(p.s) && json_error(p, "extra data after the JSON value")
    return x
end
parse_json(s::AbstractString; key::AbstractString="") = parse_json(Vector{UInt8}(codeunits(String(s))); key=key)

json_error(p::JSONParser, what::AbstractString) =
    throw(MetadataError(p.key, string("invalid JSON at byte ", p.pos - 1, ": ", what)))

@inline function skip_ws!(p::JSONParser)
    s = p.s
    @inbounds while p.pos <= length(s)
        b = s[p.pos]
        (b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09) || break
        p.pos += 1
    end
end

function describe_byte(p::JSONParser)
    p.pos > length(p.s) && return "unexpected end of input"
    b = p.s[p.pos]
    return 0x20 <= b < 0x7f ? string("unexpected character '", Char(b), "'") :
                              string("unexpected byte 0x", string(b, base=16, pad=2))
end

function parse_value!(p::JSONParser)
    p.pos > length(p.s) && json_error(p, "expected a value, got end of input")
    b = p.s[p.pos]
    if b == UInt8('{')
        return parse_object!(p)
    elseif b == UInt8('[')
        return parse_array!(p)
    elseif b == UInt8('"')
        return parse_string!(p)
    elseif b == UInt8('-') || UInt8('0') <= b <= UInt8('9')
        return parse_number!(p)
    elseif b == UInt8('t')
        return parse_literal!(p, "true", true)
    elseif b == UInt8('f')
        return parse_literal!(p, "false", false)
    elseif b == UInt8('n')
        return parse_literal!(p, "null", nothing)
    elseif b == UInt8('N')
        return parse_literal!(p, "NaN", NaN)
    elseif b == UInt8('I')
        return parse_literal!(p, "Infinity", Inf)
    end
    json_error(p, string("expected a value, ", describe_byte(p)))
end

function parse_literal!(p::JSONParser, word::String, value)
    w = codeunits(word)
    n = length(w)
    if p.pos + n - 1 <= length(p.s) && view(p.s, p.pos:p.pos+n-1) == w
        p.pos += n
        return value
    end
    json_error(p, string("expected a value, ", describe_byte(p)))
end

function enter!(p::JSONParser)
    p.depth += 1
    p.depth > JSON_MAX_DEPTH && json_error(p, string("nesting deeper than ", JSON_MAX_DEPTH, " levels"))
end

function parse_object!(p::JSONParser)
    enter!(p)
    p.pos += 1                              # '{'
    d = Dict{String,Any}()
    skip_ws!(p)
    if p.pos <= length(p.s) && p.s[p.pos] == UInt8('}')
        p.pos += 1
        p.depth -= 1
        return d
    end
    while true
        skip_ws!(p)
        (p.pos <= length(p.s) && p.s[p.pos] == UInt8('"')) ||
            json_error(p, string("expected a string key, ", describe_byte(p)))
        k = parse_string!(p)
        skip_ws!(p)
        (p.pos <= length(p.s) && p.s[p.pos] == UInt8(':')) ||
            json_error(p, string("expected ':', ", describe_byte(p)))
        p.pos += 1
        skip_ws!(p)
        d[k] = parse_value!(p)
        skip_ws!(p)
        p.pos > length(p.s) && json_error(p, "unterminated object")
        b = p.s[p.pos]
        p.pos += 1
        b == UInt8('}') && break
        if b != UInt8(',')
            p.pos -= 1
            json_error(p, string("expected ',' or '}', ", describe_byte(p)))
        end
    end
    p.depth -= 1
    return d
end

function parse_array!(p::JSONParser)
    enter!(p)
    p.pos += 1                              # '['
    v = Any[]
    skip_ws!(p)
    if p.pos <= length(p.s) && p.s[p.pos] == UInt8(']')
        p.pos += 1
        p.depth -= 1
        return v
    end
    while true
        skip_ws!(p)
        push!(v, parse_value!(p))
        skip_ws!(p)
        p.pos > length(p.s) && json_error(p, "unterminated array")
        b = p.s[p.pos]
        p.pos += 1
        b == UInt8(']') && break
        if b != UInt8(',')
            p.pos -= 1
            json_error(p, string("expected ',' or ']', ", describe_byte(p)))
        end
    end
    p.depth -= 1
    return v
end

function hex4!(p::JSONParser)
    p.pos + 3 <= length(p.s) || json_error(p, "truncated \\u escape")
    u = UInt32(0)
    for i in 0:3
        b = p.s[p.pos+i]
        d = UInt8('0') <= b <= UInt8('9') ? b - UInt8('0') :
            UInt8('a') <= b <= UInt8('f') ? b - UInt8('a') + 10 :
            UInt8('A') <= b <= UInt8('F') ? b - UInt8('A') + 10 :
            json_error(p, "invalid \\u escape")
        u = (u << 4) | d
    end
    p.pos += 4
    return u
end

function parse_string!(p::JSONParser)
    start = p.pos
    p.pos += 1                              # opening quote
    s = p.s
    # fast path: no escapes
    i = p.pos
    @inbounds while i <= length(s)
        b = s[i]
        (b == UInt8('"') || b == UInt8('\\') || b < 0x20) && break
        i += 1
    end
    if i <= length(s) && s[i] == UInt8('"')
        str = String(s[p.pos:i-1])
        p.pos = i + 1
        isvalid(str) || (p.pos = start + 1; json_error(p, "invalid UTF-8 in string"))
        return str
    end
    io = IOBuffer()
    write(io, view(s, p.pos:i-1))
    p.pos = i
    while true
        p.pos > length(s) && (p.pos = start; json_error(p, "unterminated string"))
        b = s[p.pos]
        if b == UInt8('"')
            p.pos += 1
            break
        elseif b < 0x20
            json_error(p, "control character in string")
        elseif b != UInt8('\\')
            write(io, b)
            p.pos += 1
            continue
        end
        p.pos += 1
        p.pos > length(s) && json_error(p, "unterminated string")
        e = s[p.pos]
        p.pos += 1
        if e == UInt8('"') || e == UInt8('\\') || e == UInt8('/')
            write(io, e)
        elseif e == UInt8('b'); write(io, 0x08)
        elseif e == UInt8('f'); write(io, 0x0c)
        elseif e == UInt8('n'); write(io, 0x0a)
        elseif e == UInt8('r'); write(io, 0x0d)
        elseif e == UInt8('t'); write(io, 0x09)
        elseif e == UInt8('u')
            u = hex4!(p)
            # a high surrogate followed by a low one is one code point; a lone surrogate is no
            # character at all (UTF-8 cannot hold it, Python cannot encode it): refused
            if 0xd800 <= u <= 0xdbff && p.pos + 5 <= length(s) &&
                    s[p.pos] == UInt8('\\') && s[p.pos+1] == UInt8('u')
                save = p.pos
                p.pos += 2
                lo = hex4!(p)
                if 0xdc00 <= lo <= 0xdfff
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                else
                    p.pos = save
                end
            end
            0xd800 <= u <= 0xdfff && (p.pos -= 6; json_error(p, "lone surrogate \\u$(string(u; base=16))"))
            print(io, Char(u))
        else
            p.pos -= 2
            json_error(p, "invalid escape")
        end
    end
    str = String(take!(io))
    # only lone surrogates (from \u escapes) may be invalid; raw invalid UTF-8 is an error
    if !isvalid(str)
        for c in str
            if Base.ismalformed(c) || Base.isoverlong(c)
                p.pos = start + 1
                json_error(p, "invalid UTF-8 in string")
            end
        end
    end
    return str
end

function parse_number!(p::JSONParser)
    s = p.s
    start = p.pos
    i = p.pos
    neg = s[i] == UInt8('-')
    neg && (i += 1)
    if neg && i <= length(s) && s[i] == UInt8('I')
        p.pos = i
        parse_literal!(p, "Infinity", Inf)
        return -Inf
    end
    isdig(k) = k <= length(s) && UInt8('0') <= s[k] <= UInt8('9')
    isdig(i) || (p.pos = i; json_error(p, "expected a digit"))
    if s[i] == UInt8('0')
        i += 1
    else
        while isdig(i); i += 1; end
    end
    isfloat = false
    if i <= length(s) && s[i] == UInt8('.')
        isfloat = true
        i += 1
        isdig(i) || (p.pos = i; json_error(p, "expected a digit after '.'"))
        while isdig(i); i += 1; end
    end
    if i <= length(s) && (s[i] == UInt8('e') || s[i] == UInt8('E'))
        isfloat = true
        i += 1
        i <= length(s) && (s[i] == UInt8('+') || s[i] == UInt8('-')) && (i += 1)
        isdig(i) || (p.pos = i; json_error(p, "expected a digit in the exponent"))
        while isdig(i); i += 1; end
    end
    p.pos = i
    txt = String(s[start:i-1])
    if isfloat
        x = tryparse(Float64, txt)
        # Julia 1.5's parser refuses out-of-range values; Python gives inf or 0.0
        x === nothing && (x = Float64(parse(BigFloat, txt)))
        return x
    end
    x = tryparse(Int64, txt)
    x !== nothing && return x
    # Python refuses to convert more digits than this (CPython's int_max_str_digits)
    ndigits = i - start - neg
    ndigits > 4300 && (p.pos = start; json_error(p, "integer with $ndigits digits (more than 4300)"))
    y = tryparse(Int128, txt)
    y !== nothing && return y
    return parse(BigInt, txt)
end

# ---------------------------------------------------------------------------------------------
# writing

"""
    write_json(io, x; indent=4, separators=nothing)

Write `x` as Python's `json.dumps(x, indent=4, sort_keys=True, ensure_ascii=True,
separators=(",", ": "))` would; `indent=nothing` gives the compact form with `(",", ":")`.
`separators=(item, key)` overrides them, e.g. `(", ", ": ")` for json.dumps' defaults without indent.
Dicts (any key type, keys converted with `string`), NamedTuples, vectors, tuples, strings, symbols,
integers, floats, Bool and nothing/missing are supported.
"""
function write_json(io::IO, x; indent::Union{Nothing,Integer}=4, separators=nothing)
    itemsep, keysep = separators === nothing ? (indent === nothing ? (",", ":") : (",", ": ")) : separators
    write_value(io, x, JSONStyle(indent, String(itemsep), String(keysep)), 0)
    return nothing
end

"""
    json_string(x; indent=4, separators=nothing) -> String

`write_json` into a string.
"""
function json_string(x; indent::Union{Nothing,Integer}=4, separators=nothing)
    io = IOBuffer()
    write_json(io, x; indent=indent, separators=separators)
    return String(take!(io))
end

"""
    JSONObject(items)

A JSON object written with its keys in the order given (every other object is written with sorted
keys, as Python's `sort_keys=True`): zarr.json documents keep zarr-python's key order.
"""
struct JSONObject
    items::Vector{Pair{String,Any}}
end

struct JSONStyle
    indent::Union{Nothing,Int}
    itemsep::String
    keysep::String
end

write_value(io::IO, ::Nothing, st, level) = print(io, "null")
write_value(io::IO, ::Missing, st, level) = print(io, "null")
write_value(io::IO, x::Bool, st, level) = print(io, x ? "true" : "false")
write_value(io::IO, x::Integer, st, level) = print(io, string(x))
write_value(io::IO, x::AbstractFloat, st, level) = print(io, python_float_repr(Float64(x)))
write_value(io::IO, x::AbstractString, st, level) = write_json_string(io, x)
write_value(io::IO, x::Symbol, st, level) = write_json_string(io, String(x))
write_value(io::IO, x::AbstractChar, st, level) = write_json_string(io, string(x))
write_value(io::IO, x::Union{AbstractVector,Tuple}, st, level) = write_list(io, x, st, level)
write_value(io::IO, x::AbstractDict, st, level) =
    write_object(io, [(string(k), v) for (k, v) in x], st, level)
write_value(io::IO, x::NamedTuple, st, level) =
    write_object(io, [(string(k), v) for (k, v) in pairs(x)], st, level)
write_value(io::IO, x::JSONObject, st, level) = write_object(io, x.items, st, level; sorted=false)
write_value(io::IO, x, st, level) =
    throw(ArgumentError(string("cannot write a value of type ", typeof(x), " as JSON")))

function newline_indent(io::IO, st::JSONStyle, level)
    st.indent === nothing && return
    write(io, '\n')
    for _ in 1:st.indent*level
        write(io, ' ')
    end
end

function write_list(io::IO, x, st::JSONStyle, level)
    if isempty(x)
        print(io, "[]")
        return
    end
    write(io, '[')
    first = true
    for v in x
        first || write(io, st.itemsep)
        first = false
        newline_indent(io, st, level + 1)
        write_value(io, v, st, level + 1)
    end
    newline_indent(io, st, level)
    write(io, ']')
end

function write_object(io::IO, items::Vector, st::JSONStyle, level; sorted::Bool=true)
    if isempty(items)
        print(io, "{}")
        return
    end
    # byte order of UTF-8 is code point order, which is how Python sorts str keys
    sorted && sort!(items, by=first)
    write(io, '{')
    firstitem = true
    for (k, v) in items
        firstitem || write(io, st.itemsep)
        firstitem = false
        newline_indent(io, st, level + 1)
        write_json_string(io, k)
        write(io, st.keysep)
        write_value(io, v, st, level + 1)
    end
    newline_indent(io, st, level)
    write(io, '}')
end

const HEXDIGITS = b"0123456789abcdef"

function write_u_escape(io::IO, u::UInt32)
    write(io, '\\', 'u')
    for sh in (12, 8, 4, 0)
        write(io, HEXDIGITS[((u >> sh) & 0xf) + 1])
    end
end

# ensure_ascii: everything outside ' '..'~' is escaped, non-BMP as a surrogate pair
function write_json_string(io::IO, s::AbstractString)
    write(io, '"')
    for c in s
        if Base.ismalformed(c)
            throw(ArgumentError(string("cannot write invalid UTF-8 as JSON: ", repr(s))))
        end
        u = UInt32(codepoint(c))
        if c == '"'
            write(io, "\\\"")
        elseif c == '\\'
            write(io, "\\\\")
        elseif 0x20 <= u <= 0x7e
            write(io, UInt8(u))
        elseif c == '\n'
            write(io, "\\n")
        elseif c == '\r'
            write(io, "\\r")
        elseif c == '\t'
            write(io, "\\t")
        elseif c == '\b'
            write(io, "\\b")
        elseif c == '\f'
            write(io, "\\f")
        elseif u >= 0x10000
            v = u - 0x10000
            write_u_escape(io, 0xd800 | (v >> 10))
            write_u_escape(io, 0xdc00 | (v & 0x3ff))
        else
            write_u_escape(io, u)
        end
    end
    write(io, '"')
end

"""
    python_float_repr(x::Float64) -> String

The text of Python's `repr(float)`: shortest round-trip digits, scientific notation when the
decimal exponent is < -4 or >= 16 (`1e-05`, `1.5e+16`), else positional with at least one
fractional digit (`0.0001`, `100.0`); `NaN`, `Infinity`, `-Infinity` as json.dumps writes them.
"""
function python_float_repr(x::Float64)
    isnan(x) && return "NaN"
    isinf(x) && return x > 0 ? "Infinity" : "-Infinity"
    digits, pointpos = shortest_digits(x)
    sign = signbit(x) ? "-" : ""
    isempty(digits) && return sign * "0.0"
    n = length(digits)
    e = pointpos - 1            # exponent in d.ddd × 10^e
    if -4 <= e < 16
        if pointpos <= 0
            return string(sign, "0.", "0"^(-pointpos), digits)
        elseif pointpos >= n
            return string(sign, digits, "0"^(pointpos - n), ".0")
        else
            return string(sign, digits[1:pointpos], ".", digits[pointpos+1:end])
        end
    end
    mant = n == 1 ? digits : string(digits[1], ".", digits[2:end])
    return string(sign, mant, "e", e < 0 ? "-" : "+", lpad(string(abs(e)), 2, '0'))
end

# Julia prints the shortest round-trip digits too (Grisu/Ryu); take them from `string` and
# return (digits without leading/trailing zeros, position of the decimal point).
function shortest_digits(x::Float64)
    s = string(abs(x))
    epos = findfirst(isequal('e'), s)
    mant, ex = epos === nothing ? (s, 0) : (s[1:epos-1], parse(Int, s[epos+1:end]))
    dot = findfirst(isequal('.'), mant)
    intpart, frac = dot === nothing ? (mant, "") : (mant[1:dot-1], mant[dot+1:end])
    digits = intpart * frac
    pointpos = length(intpart) + ex
    k = 1
    while k <= length(digits) && digits[k] == '0'
        k += 1
    end
    digits = digits[k:end]
    pointpos -= k - 1
    digits = rstrip(digits, '0')
    return String(digits), pointpos
end
