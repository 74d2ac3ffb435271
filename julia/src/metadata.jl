# Zarr v2 metadata: .zarray, .zgroup, .zattrs, .zmetadata (consolidated); fill values encoded
# exactly as zarr-python writes them; helpers shared with metadata_v3.jl.  Every error names `key:field`.

"Bytes an array (or region) may take in memory; env `POLYZARR_MAX_BYTES`, default 16 GiB."
function max_bytes()
    s = get(ENV, "POLYZARR_MAX_BYTES", "")
    isempty(s) && return 16 * 2^30
    v = tryparse(Int, s)
    (v === nothing || v <= 0) && throw(MetadataError("POLYZARR_MAX_BYTES", "must be a positive integer, got $(repr(s))"))
    return v
end

"""
    ArrayMetadata

A validated `.zarray`.  `shape` and `chunks` are in Zarr (numpy) order; `fill_value` is the JSON
value as stored, `fill` the decoded Julia value (`nothing` for null); `order` is 'C' or 'F'.
"""
struct ArrayMetadata
    shape::Vector{Int}
    chunks::Vector{Int}
    dtype::ZDtype
    compressor::Union{Nothing,Dict{String,Any}}
    filters::Union{Nothing,Vector{Any}}
    fill_value::Any
    fill::Any
    order::Char
    dimension_separator::String
    zarr_format::Int
    # no dimension_separator in the document (zarr < 2.8, and zarr 2.x for "."): keys may still be nested
    separator_implied::Bool
end

_field_error(key, field, msg) = throw(MetadataError(string(key, ":", field), msg))
_jtype(x) = x === nothing ? "null" : x isa AbstractString ? "a string" : x isa Bool ? "a boolean" :
            x isa Integer ? "an integer" : x isa Real ? "a number" : x isa AbstractVector ? "a list" :
            x isa AbstractDict ? "an object" : string(typeof(x))

function _require(d::AbstractDict, key, field)
    haskey(d, field) || _field_error(key, field, "missing required field")
    return d[field]
end

function _int_list(x, key, field; allow_zero::Bool)
    x isa AbstractVector || _field_error(key, field, "must be a list of integers, got $(_jtype(x))")
    out = Int[]
    for (i, v) in enumerate(x)
        (v isa Integer && !(v isa Bool)) || _field_error(key, field, "element $(i - 1) must be an integer, got $(_jtype(v))")
        (typemin(Int) <= v <= typemax(Int)) || _field_error(key, field, "element $(i - 1) = $v does not fit in Int64")
        v < 0 && _field_error(key, field, "element $(i - 1) = $v is negative")
        (v == 0 && !allow_zero) && _field_error(key, field, "element $(i - 1) is zero")
        push!(out, Int(v))
    end
    return out
end

"Element count of `shape`, or a MetadataError if it overflows Int64."
function checked_length(shape, key)
    n = 1
    for s in shape
        n, of = Base.Checked.mul_with_overflow(n, Int(s))
        of && _field_error(key, "shape", "element count of $(collect(shape)) overflows Int64")
    end
    return n
end

function _codec_config(x, key, field)
    x === nothing && return nothing
    x isa AbstractDict || _field_error(key, field, "must be an object or null, got $(_jtype(x))")
    id = get(x, "id", nothing)
    id isa AbstractString || _field_error(key, field, "codec config needs a string \"id\"")
    return Dict{String,Any}(String(k) => v for (k, v) in x)
end

"Parse and validate `.zarray` bytes (or an already parsed Dict) read from `key`."
parse_zarray(b::Union{AbstractString,AbstractVector{UInt8}}; key::AbstractString=".zarray") =
    parse_zarray(_parse_meta_json(b, key); key=key)
function _parse_meta_json(b, key)
    d = parse_json(b; key=key)
    d isa AbstractDict || throw(MetadataError(String(key), "must be a JSON object, got $(_jtype(d))"))
    return d
end
function parse_zarray(d::AbstractDict; key::AbstractString=".zarray")
    key = String(key)
    zf = _require(d, key, "zarr_format")
    (zf isa Integer && !(zf isa Bool)) || _field_error(key, "zarr_format", "must be an integer, got $(_jtype(zf))")
    zf == 2 || _field_error(key, "zarr_format", "unsupported zarr_format $zf (expected 2)")
    shape = _int_list(_require(d, key, "shape"), key, "shape"; allow_zero=true)
    chunks = _int_list(_require(d, key, "chunks"), key, "chunks"; allow_zero=false)
    length(chunks) == length(shape) ||
        _field_error(key, "chunks", "has $(length(chunks)) dimensions but shape has $(length(shape))")
    dtype = try
        parse_dtype(_require(d, key, "dtype"); key=key)
    catch e
        e isa DtypeError || rethrow()
        throw(DtypeError(string(key, ":dtype"), string(e.key, ": ", e.msg)))
    end
    n = checked_length(shape, key)
    Base.Checked.mul_with_overflow(n, dtype.itemsize)[2] &&
        _field_error(key, "shape", "byte size of $(shape) × $(dtype.itemsize) overflows Int64")
    nc = checked_length(chunks, key * ":chunks")
    nc_bytes, of = Base.Checked.mul_with_overflow(nc, dtype.itemsize)
    (of || nc_bytes > max_bytes()) &&
        _field_error(key, "chunks", "chunk of $(chunks) × $(dtype.itemsize) bytes exceeds the limit of $(max_bytes()) bytes (POLYZARR_MAX_BYTES)")
    order = _require(d, key, "order")
    order in ("C", "F") || _field_error(key, "order", "must be \"C\" or \"F\", got $(json_string(order; indent=nothing))")
    compressor = _codec_config(_require(d, key, "compressor"), key, "compressor")
    fl = _require(d, key, "filters")
    filters = nothing
    if fl !== nothing
        fl isa AbstractVector || _field_error(key, "filters", "must be a list or null, got $(_jtype(fl))")
        filters = Any[_codec_config(f, key, "filters[$(i - 1)]") for (i, f) in enumerate(fl)]
        any(x -> x === nothing, filters) && _field_error(key, "filters", "null entry")
    end
    sep = get(d, "dimension_separator", nothing)
    implied = sep === nothing
    implied && (sep = ".")
    sep in (".", "/") || _field_error(key, "dimension_separator", "must be \".\" or \"/\", got $(json_string(sep; indent=nothing))")
    fv = _require(d, key, "fill_value")
    fill = decode_fill_value(dtype, fv; key=string(key, ":fill_value"))
    return ArrayMetadata(shape, chunks, dtype, compressor, filters, fv, fill, order[1], String(sep), 2, implied)
end

"The `.zarray` dict with exactly the fields zarr-python 3 writes for v2."
function zarray_dict(m::ArrayMetadata)
    return Dict{String,Any}(
        "zarr_format" => 2, "shape" => m.shape, "chunks" => m.chunks, "dtype" => m.dtype.typestr,
        "compressor" => m.compressor, "filters" => m.filters, "fill_value" => m.fill_value,
        "order" => string(m.order), "dimension_separator" => m.dimension_separator)
end

# ---------------------------------------------------------------------------------------------
# fill values

_fill_error(key, msg) = throw(MetadataError(String(key), msg))

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

"""
    decode_fill_value(dtype, json; key) -> value of dtype.T, or `nothing` for null

Decode a `.zarray` fill_value as zarr-python 2/3 encode it.
"""
function decode_fill_value(d::ZDtype, x; key::AbstractString="fill_value")
    x === nothing && return nothing
    T = d.T
    k = d.kind
    if k == 'b'
        x isa Bool && return x
        (x isa Integer && x in (0, 1)) && return x == 1
        _fill_error(key, "expected a boolean, got $(_jtype(x))")
    elseif k in ('i', 'u')
        if x isa Real && !(x isa Bool) && isfinite(x) && isinteger(x)
            (typemin(T) <= x <= typemax(T)) || _fill_error(key, "$x is out of range for $(d.typestr)")
            return T(x)
        end
        _fill_error(key, "expected an integer, got $(_jtype(x))")
    elseif k == 'f'
        return _float_fill(T, x, key)
    elseif k == 'c'
        (x isa AbstractVector && length(x) == 2) || _fill_error(key, "expected [real, imag], got $(_jtype(x))")
        F = real(T)
        return T(_float_fill(F, x[1], key), _float_fill(F, x[2], key))
    elseif k in ('M', 'm')
        x == "NaT" && return T(NAT)
        (x isa Integer && !(x isa Bool) && typemin(Int64) <= x <= typemax(Int64)) ||
            _fill_error(key, "expected an Int64, got $(_jtype(x))")
        return T(Int64(x))
    elseif k == 'S'
        return T(Tuple(_base64_fill(x, d.itemsize, key)))
    elseif k == 'V'
        return T(Tuple(_base64_fill(x, d.itemsize, key; exact=true)))
    elseif k == 'U'
        x isa AbstractString || _fill_error(key, "expected a string, got $(_jtype(x))")
        length(x) <= d.itemsize ÷ 4 || _fill_error(key, "$(repr(x)) is longer than $(d.itemsize ÷ 4) characters")
        return T(x)
    elseif k == 'T'
        b = _base64_fill(x, d.itemsize, key; exact=true)
        return _load(d, b, 0)
    elseif k == 'O'
        return x
    end
    _fill_error(key, "unsupported dtype")
end

_float_json(x::AbstractFloat) = isnan(x) ? "NaN" : isinf(x) ? (x > 0 ? "Infinity" : "-Infinity") : Float64(x)

"Encode a Julia fill value as zarr-python writes it in `.zarray` (the inverse of decode_fill_value)."
function encode_fill_value(d::ZDtype, v)
    v === nothing && return nothing
    k = d.kind
    k == 'b' && return Bool(v)
    if k in ('i', 'u')
        x = convert(d.T, v)
        return x isa UInt64 && x > typemax(Int64) ? x : Int64(x)
    end
    k == 'f' && return _float_json(convert(d.T, v))
    if k == 'c'
        c = convert(d.T, v)
        return Any[_float_json(real(c)), _float_json(imag(c))]
    end
    k in ('M', 'm') && return (v isa DateOrDelta ? v.value : Int64(v))
    k == 'U' && return String(convert(d.T, v isa AbstractString ? d.T(v) : v))
    if k == 'S'
        x = v isa AbstractString || v isa AbstractVector ? d.T(v) : v
        # numpy's bytes scalar drops trailing NULs, and zarr-python encodes that
        return base64encode(UInt8[x.data[i] for i in 1:_stripped_len(x.data)])
    end
    k == 'V' && return base64encode(collect((v isa AbstractVector ? d.T(v) : v).data))
    if k == 'T'
        b = zeros(UInt8, d.itemsize)
        _store!(d, b, 0, v)
        return base64encode(b)
    end
    return v
end

"The fill value a new array gets by default (CONTRACT: 0 / false / zeros, null for object)."
function default_fill_json(d::ZDtype)
    k = d.kind
    k == 'b' && return false
    k in ('i', 'u') && return 0
    k == 'f' && return 0.0
    k == 'c' && return Any[0.0, 0.0]
    k in ('M', 'm') && return 0
    k == 'U' && return ""
    k in ('S', 'V', 'T') && return base64encode(zeros(UInt8, d.itemsize))
    return nothing
end

"Value used for missing chunks: the fill; for a null fill zero bits, or NaT for datetimes (as zarr-python 3)."
function fill_or_zero(d::ZDtype, fill)
    fill !== nothing && return d.kind == 'O' ? fill : convert(d.T, fill)
    d.kind == 'O' && return nothing
    (d.kind == 'M' || d.kind == 'm') && return d.T(NAT)
    return _load(d, zeros(UInt8, d.itemsize), 0)
end

_missing_object(T) = T === String ? "" : T === Vector{UInt8} ? UInt8[] : nothing

# Python's str() of a JSON number or Bool, as zarr-python 3 turns a vlen-utf8 array's number fill into text
_fill_text(x::Bool) = x ? "True" : "False"
_fill_text(x::Integer) = string(x)
_fill_text(x::AbstractFloat) = isfinite(x) ? repr(Float64(x)) : isnan(x) ? "nan" : x > 0 ? "inf" : "-inf"
_fill_text(x) = nothing

function _bytes_fill(s::AbstractString)
    try
        return base64decode(s)
    catch
        return Vector{UInt8}(codeunits(s))
    end
end

"""
What missing chunks read as: the fill, zero bits (or NaT) for a null fill.  Object arrays follow
zarr-python 3's rules for v2 fills: a vlen-utf8 array's number fill reads as its text (zarr 2.x's
default fill 0 reads "0"), a vlen-bytes array's string fill as base64; null, or a number for bytes,
reads as "" / empty bytes.
"""
function chunk_fillvalue(dt::ZDtype, fill)
    dt.kind == 'O' || return fill_or_zero(dt, fill)
    T = dt.T
    fv = fill === nothing ? _missing_object(T) : fill
    if T !== Any && !(fv isa T)
        if T === String
            fv = fv isa AbstractString ? String(fv) : something(_fill_text(fv), "")
        elseif T === Vector{UInt8}
            fv = fv isa AbstractString ? _bytes_fill(fv) : UInt8[]
        else
            fv = _missing_object(T)
        end
    end
    return fv
end

# ---------------------------------------------------------------------------------------------
# groups, attributes, consolidated metadata

function parse_zgroup(b; key::AbstractString=".zgroup")
    d = b isa AbstractDict ? b : _parse_meta_json(b, key)
    zf = _require(d, key, "zarr_format")
    zf == 2 || _field_error(key, "zarr_format", "unsupported zarr_format $(json_string(zf; indent=nothing)) (expected 2)")
    return d
end

function parse_zattrs(b; key::AbstractString=".zattrs")
    d = b isa AbstractDict ? b : _parse_meta_json(b, key)
    return Dict{String,Any}(d)
end

"""
    parse_zmetadata(bytes; key) -> Dict{String,Any}

The `metadata` mapping of a consolidated `.zmetadata` (keys like `"a/.zarray"` → parsed JSON).
"""
function parse_zmetadata(b; key::AbstractString=".zmetadata")
    d = b isa AbstractDict ? b : _parse_meta_json(b, key)
    fmt = _require(d, key, "zarr_consolidated_format")
    fmt == 1 || _field_error(key, "zarr_consolidated_format", "unsupported version $(json_string(fmt; indent=nothing))")
    m = _require(d, key, "metadata")
    m isa AbstractDict || _field_error(key, "metadata", "must be an object, got $(_jtype(m))")
    for (k, v) in m
        checkkey(k)     # keys become store keys: one that leaves the store poisons the whole document
        v isa AbstractDict || _field_error(key, "metadata/$k", "must be an object, got $(_jtype(v))")
    end
    return Dict{String,Any}(m)
end

zmetadata_dict(entries::AbstractDict) =
    Dict{String,Any}("zarr_consolidated_format" => 1, "metadata" => entries)
