# Zarr v2 metadata: .zarray, .zgroup, .zattrs, .zmetadata (consolidated); fill values encoded
# exactly as zarr-python writes them; helpers shared with metadata_v3.jl.  Every error names `key:field`.

"Bytes an array (or region) may take in memory; env `POLYZARR_MAX_BYTES`, default 16 GiB."
function max_bytes()
    s = get(ENV, "POLYZARR_MAX_BYTES", "")
    isempty(s) && return 16 * 2^30
    v = tryparse(Int, s)
    (v === nothing || v <= 0) &&
        throw(MetadataError("POLYZARR_MAX_BYTES", "must be a positive integer, got $(repr(s))"))
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
        (v isa Integer && !(v isa Bool)) ||
            _field_error(key, field, "element $(i - 1) must be an integer, got $(_jtype(v))")
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
        _field_error(key, "chunks", "chunk of $(chunks) × $(dtype.itemsize) bytes exceeds the limit of " *
            "$(max_bytes()) bytes (POLYZARR_MAX_BYTES)")
    order = _require(d, key, "order")
    order in ("C", "F") ||
        _field_error(key, "order", "must be \"C\" or \"F\", got $(json_string(order; indent=nothing))")
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
    sep in (".", "/") ||
        _field_error(key, "dimension_separator", "must be \".\" or \"/\", got $(json_string(sep; indent=nothing))")
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

"""
    decode_fill_value(dtype, json; key) -> value of dtype.T, or `nothing` for null

Decode a `.zarray` fill_value as zarr-python 2/3 encode it (the dtype's rule: `fill_from_json` in dtypes.jl).
"""
decode_fill_value(d::ZDtype, x; key::AbstractString="fill_value") =
    x === nothing ? nothing : fill_from_json(d, x, 2; key=key)

"Encode a Julia fill value as zarr-python writes it in `.zarray` (the inverse of decode_fill_value)."
encode_fill_value(d::ZDtype, v) = v === nothing ? nothing : fill_to_json(d, v, 2)

"The fill value a new array gets by default (CONTRACT: 0 / false / zeros, null for object)."
default_fill_json(d::ZDtype) = default_fill(d, 2)

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
    zf == 2 ||
        _field_error(key, "zarr_format", "unsupported zarr_format $(json_string(zf; indent=nothing)) (expected 2)")
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
