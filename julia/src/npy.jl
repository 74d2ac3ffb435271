# .npy files (format versions 1, 2, 3): the language-neutral value format.  Exact dtypes including
# '>' byte order and structured descrs.  A C-order .npy of shape S is a Julia array of size
# reverse(S) over the same bytes; a fortran_order one is a Julia array of size S.

const NPY_MAGIC = UInt8[0x93, UInt8('N'), UInt8('U'), UInt8('M'), UInt8('P'), UInt8('Y')]

# --- a small parser for the header's Python literal: dict, str, int, tuple, list, bools ---

mutable struct PyLit
    s::String
    i::Int
    key::String
end

_pyerr(p::PyLit, msg) = throw(MetadataError(p.key, "bad .npy header at character $(p.i): $msg"))
function _pyws!(p::PyLit)
    while p.i <= ncodeunits(p.s) && p.s[p.i] in (' ', '\t', '\n', '\r')
        p.i = nextind(p.s, p.i)
    end
end
_pypeek(p::PyLit) = (_pyws!(p); p.i <= ncodeunits(p.s) ? p.s[p.i] : '\0')
function _pyexpect!(p::PyLit, c::Char)
    _pypeek(p) == c || _pyerr(p, "expected $(repr(c))")
    p.i = nextind(p.s, p.i)
end

function _pyvalue!(p::PyLit)
    c = _pypeek(p)
    if c == '{'
        p.i += 1
        d = Dict{String,Any}()
        while _pypeek(p) != '}'
            k = _pyvalue!(p)
            k isa String || _pyerr(p, "dict keys must be strings")
            _pyexpect!(p, ':')
            d[k] = _pyvalue!(p)
            _pypeek(p) == ',' ? (p.i += 1) : break
        end
        _pyexpect!(p, '}')
        return d
    elseif c == '(' || c == '['
        close = c == '(' ? ')' : ']'
        p.i += 1
        out = Any[]
        while _pypeek(p) != close
            push!(out, _pyvalue!(p))
            _pypeek(p) == ',' ? (p.i += 1) : break
        end
        _pyexpect!(p, close)
        return out
    elseif c == '\'' || c == '"'
        p.i += 1
        io = IOBuffer()
        while true
            p.i <= ncodeunits(p.s) || _pyerr(p, "unterminated string")
            ch = p.s[p.i]
            p.i = nextind(p.s, p.i)
            ch == c && break
            if ch == '\\'
                e = p.s[p.i]
                p.i = nextind(p.s, p.i)
                print(io, e == 'n' ? '\n' : e == 't' ? '\t' : e)
            else
                print(io, ch)
            end
        end
        return String(take!(io))
    elseif isdigit(c) || c == '-'
        j = p.i
        p.i += 1
        while p.i <= ncodeunits(p.s) && (isdigit(p.s[p.i]) || p.s[p.i] == 'L')
            p.i += 1
        end
        v = tryparse(Int, rstrip(p.s[j:p.i - 1], 'L'))
        v === nothing && _pyerr(p, "bad integer")
        return v
    end
    for (word, v) in (("True", true), ("False", false), ("None", nothing))
        if startswith(SubString(p.s, p.i), word)
            p.i += length(word)
            return v
        end
    end
    _pyerr(p, "unexpected $(repr(c))")
end

# descr → the JSON form parse_dtype takes (tuples become lists)
_descr_json(x::AbstractString) = String(x)
_descr_json(x::AbstractVector) = Any[_descr_json(y) for y in x]
_descr_json(x) = x

"""
    NpyHeader

`descr` (typestring or structured list), `dtype::ZDtype`, numpy `shape`, `fortran_order`, and
the byte offset of the data.
"""
struct NpyHeader
    dtype::ZDtype
    shape::Vector{Int}
    fortran_order::Bool
    offset::Int
end

function read_npy_header(b::AbstractVector{UInt8}; key::AbstractString="npy")
    key = String(key)
    (length(b) >= 10 && b[1:6] == NPY_MAGIC) || throw(MetadataError(key, "not a .npy file (bad magic)"))
    major = b[7]
    major in (1, 2, 3) || throw(MetadataError(key, "unsupported .npy version $(major).$(b[8])"))
    if major == 1
        hlen = Int(b[9]) | Int(b[10]) << 8
        start = 11
    else
        length(b) >= 12 || throw(MetadataError(key, "truncated .npy header"))
        hlen = Int(b[9]) | Int(b[10]) << 8 | Int(b[11]) << 16 | Int(b[12]) << 24
        start = 13
    end
    length(b) >= start + hlen - 1 || throw(MetadataError(key, "truncated .npy header"))
    text = major == 3 ? String(b[start:start + hlen - 1]) :
           String(map(c -> c < 0x80 ? c : UInt8('?'), b[start:start + hlen - 1]))   # latin-1 subset
    d = _pyvalue!(PyLit(text, 1, key))
    d isa AbstractDict || throw(MetadataError(key, "the .npy header is not a dict"))
    for f in ("descr", "fortran_order", "shape")
        haskey(d, f) || throw(MetadataError(string(key, ":", f), "missing from the .npy header"))
    end
    dt = parse_dtype(_descr_json(d["descr"]); key=key)
    dt.kind == 'O' && throw(DtypeError(string(key, ":descr"), "object arrays in .npy need pickle; not supported"))
    shape = d["shape"]
    (shape isa AbstractVector && all(x -> x isa Integer && x >= 0, shape)) ||
        throw(MetadataError(string(key, ":shape"), "must be a tuple of non-negative integers"))
    fo = d["fortran_order"]
    fo isa Bool || throw(MetadataError(string(key, ":fortran_order"), "must be True or False"))
    return NpyHeader(dt, Int.(shape), fo, start + hlen - 1)
end

"""
    read_npy(path_or_bytes) -> (A, header)

Read a `.npy` file.  `A` is a Julia array over the file's data: size `reverse(shape)` for C
order (Julia index `(j1..jn)` is numpy `[jn-1, ..., j1-1]`), `shape` for Fortran order.
"""
read_npy(path::AbstractString) = read_npy(read(path); key=basename(path))
function read_npy(b::Vector{UInt8}; key::AbstractString="npy")
    h = read_npy_header(b; key=key)
    n = checked_length(h.shape, key)
    nb = n * h.dtype.itemsize
    length(b) - h.offset >= nb || throw(ChunkError(key, "data has $(length(b) - h.offset) bytes, expected $nb"))
    T = h.dtype.T
    if isnative(h.dtype) && isbitstype(T)          # one copy, straight from the file's bytes
        vals = Vector{T}(undef, n)
        GC.@preserve vals b unsafe_copyto!(Ptr{UInt8}(pointer(vals)), pointer(b, h.offset + 1), nb)
    else
        vals = bytes_to_values(h.dtype, b[h.offset + 1:h.offset + nb]; key=key)
    end
    sz = julia_size(h.shape, npy_order(h.fortran_order))
    return reshape(vals, sz), h
end

_pyrepr_descr(x::AbstractString) = string("'", x, "'")
function _pyrepr_descr(x::AbstractVector)
    parts = String[]
    for f in x
        s = string("('", f[1], "', ", _pyrepr_descr(f[2]))
        if length(f) == 3
            s *= ", " * _pyshape(f[3])
        end
        push!(parts, s * ")")
    end
    return "[" * join(parts, ", ") * "]"
end
_pyshape(s) = length(s) == 1 ? string("(", s[1], ",)") : string("(", join(s, ", "), ")")

"""
    write_npy(path_or_io, A, dtype; shape=reverse(size(A)), fortran_order=false)

Write a `.npy` (version 1, or 2 for huge headers, 3 for non-Latin-1 field names) holding the
values of `A` in the layout `dtype` describes.  With the defaults `A` is taken as C-order data of
numpy shape `reverse(size(A))` (no transposition).
"""
function write_npy(io::IO, A::AbstractArray, dtype; shape=zarr_shape(size(A), 'C'), fortran_order::Bool=false)
    dt = parse_dtype(dtype)
    header = string("{'descr': ", _pyrepr_descr(dt.typestr), ", 'fortran_order': ",
                    fortran_order ? "True" : "False", ", 'shape': ", _pyshape(shape), ", }")
    # numpy leaves room to grow the first (C) / last (F) axis in place: same spaces, same bytes
    if !isempty(shape)
        header *= " "^max(0, 21 - length(string(fortran_order ? shape[end] : shape[1])))
    end
    hb = codeunits(header)
    ver = all(c -> c < 0x80, hb) ? 1 : 3
    hlen = length(hb) + 1
    pad(ver) = 64 - ((8 + (ver == 1 ? 2 : 4) + hlen) % 64)
    (ver == 1 && hlen + pad(1) > 65535) && (ver = 2)
    write(io, NPY_MAGIC, UInt8(ver), 0x00)
    total = hlen + pad(ver)
    ver == 1 ? write(io, htol(UInt16(total))) : write(io, htol(UInt32(total)))
    write(io, hb, fill(UInt8(' '), pad(ver)), UInt8('\n'))
    if isnative(dt) && A isa Array && eltype(A) === dt.T && isbitstype(dt.T)
        write(io, A)                      # the array's memory is the data: no copy
    else
        write(io, values_to_bytes(dt, A))
    end
    return nothing
end
# A temp file in the same directory renamed over `path`: never a torn file, and a link already at
# `path` is replaced, not written through.
function write_npy(path::AbstractString, A::AbstractArray, dtype; kwargs...)
    write_file_atomic(io -> write_npy(io, A, dtype; kwargs...), path)     # stores.jl
    return path
end
