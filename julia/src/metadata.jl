# Zarr v2 metadata: .zarray, .zgroup, .zattrs, .zmetadata (consolidated); fill values encoded
# exactly as zarr-python writes them.  Every error names `key:field`.

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

# ---------------------------------------------------------------------------------------------
# Zarr v3: zarr.json for arrays and groups (docs/V3.md)

"""
    ArrayMetadataV3

A validated v3 array `zarr.json`.  `shape` and `chunks` (the chunk grid's `chunk_shape`) are in
Zarr order; `data_type`, `codecs` and `fill_value` are the JSON as stored; `dtype` is the numpy
equivalent of the data type stored with the bytes codec's byte order, `fill` the decoded fill.
`extra` keeps unknown fields that said `"must_understand": false`.
"""
struct ArrayMetadataV3
    shape::Vector{Int}
    chunks::Vector{Int}
    data_type::Any
    dtype::ZDtype
    codecs::Vector{Any}
    fill_value::Any
    fill::Any
    chunk_key_encoding::String          # "default" or "v2"
    separator::String
    dimension_names::Union{Nothing,Vector{Any}}
    attributes::Dict{String,Any}
    extra::Dict{String,Any}
end

# The Julia layout of every v3 array is the reversed one (v2's order "C"), whatever its codecs.
meta_order(m::ArrayMetadata) = m.order
meta_order(::ArrayMetadataV3) = 'C'
zarr_format(m::ArrayMetadata) = m.zarr_format
zarr_format(::ArrayMetadataV3) = 3
metadata_key(m::ArrayMetadata) = ".zarray"
metadata_key(::ArrayMetadataV3) = "zarr.json"

const V3_ARRAY_FIELDS = ("zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding",
                         "fill_value", "codecs", "attributes", "dimension_names", "storage_transformers")
const V3_GROUP_FIELDS = ("zarr_format", "node_type", "attributes", "consolidated_metadata")

"""
    parse_zarr_json(bytes; key="zarr.json") -> Dict{String,Any}

Parse a `zarr.json` and check what every node has: an object with `zarr_format` 3 and a
`node_type` of "array" or "group".
"""
function parse_zarr_json(b; key::AbstractString="zarr.json")
    key = String(key)
    d = b isa AbstractDict ? b : _parse_meta_json(b, key)
    zf = _require(d, key, "zarr_format")
    (zf isa Integer && !(zf isa Bool) && zf == 3) ||
        _field_error(key, "zarr_format", "unsupported zarr_format $(json_string(zf; indent=nothing)) in zarr.json (expected 3)")
    nt = _require(d, key, "node_type")
    nt in ("array", "group") || _field_error(key, "node_type", "must be \"array\" or \"group\", got $(json_string(nt; indent=nothing))")
    return d
end

# Unknown top-level fields: ignored when they say `"must_understand": false`, an error otherwise.
function _v3_extra_fields(d::AbstractDict, known, key)
    extra = Dict{String,Any}()
    for (k, v) in d
        k in known && continue
        (v isa AbstractDict && get(v, "must_understand", true) === false) ||
            _field_error(key, k, "unknown field $(repr(k)) (only objects with \"must_understand\": false may be ignored)")
        extra[k] = v
    end
    return extra
end

function _named_config(x, key, field)
    x isa AbstractString && return String(x), Dict{String,Any}()
    x isa AbstractDict || _field_error(key, field, "must be an object with a \"name\", got $(_jtype(x))")
    name = get(x, "name", nothing)
    name isa AbstractString || _field_error(key, field, "needs a string \"name\"")
    cfg = get(x, "configuration", Dict{String,Any}())
    cfg isa AbstractDict || _field_error(key, "$field.configuration", "must be an object, got $(_jtype(cfg))")
    for k in keys(x)
        k in ("name", "configuration", "must_understand") || _field_error(key, field, "unknown key $(repr(k))")
    end
    return String(name), cfg
end

"Parse and validate an array `zarr.json` (bytes or an already parsed Dict) read from `key`."
function parse_array_v3(b; key::AbstractString="zarr.json")
    key = String(key)
    d = parse_zarr_json(b; key=key)
    d["node_type"] == "array" || _field_error(key, "node_type", "is \"$(d["node_type"])\", expected an array")
    extra = _v3_extra_fields(d, V3_ARRAY_FIELDS, key)
    shape = _int_list(_require(d, key, "shape"), key, "shape"; allow_zero=true)
    n = checked_length(shape, key)
    # chunk grid: regular only
    gname, gcfg = _named_config(_require(d, key, "chunk_grid"), key, "chunk_grid")
    gname == "regular" || _field_error(key, "chunk_grid.name", "unsupported chunk grid $(repr(gname)) (only \"regular\")")
    for k in keys(gcfg)
        k == "chunk_shape" || _field_error(key, "chunk_grid.configuration", "unknown key $(repr(k))")
    end
    haskey(gcfg, "chunk_shape") || _field_error(key, "chunk_grid.configuration.chunk_shape", "missing required field")
    chunks = _int_list(gcfg["chunk_shape"], key,
                       "chunk_grid.configuration.chunk_shape"; allow_zero=false)
    length(chunks) == length(shape) ||
        _field_error(key, "chunk_grid.configuration.chunk_shape", "has $(length(chunks)) dimensions but shape has $(length(shape))")
    # chunk keys
    ename, ecfg = _named_config(_require(d, key, "chunk_key_encoding"), key, "chunk_key_encoding")
    ename in ("default", "v2") ||
        _field_error(key, "chunk_key_encoding.name", "must be \"default\" or \"v2\", got $(repr(ename))")
    for k in keys(ecfg)
        k == "separator" || _field_error(key, "chunk_key_encoding.configuration", "unknown key $(repr(k))")
    end
    sep = get(ecfg, "separator", ename == "default" ? "/" : ".")
    sep in ("/", ".") ||
        _field_error(key, "chunk_key_encoding.configuration.separator", "must be \"/\" or \".\", got $(json_string(sep; indent=nothing))")
    # codecs (their full validation builds the pipeline, see make_pipeline); the bytes codec's
    # endian is the data's byte order
    codecs = _require(d, key, "codecs")
    (codecs isa AbstractVector && !isempty(codecs)) ||
        _field_error(key, "codecs", "must be a non-empty list of codecs, got $(_jtype(codecs))")
    dt_json = _require(d, key, "data_type")
    dtype = parse_data_type(dt_json, _v3_serializer_endian(codecs); key=string(key, ":data_type"))
    Base.Checked.mul_with_overflow(n, dtype.itemsize)[2] &&
        _field_error(key, "shape", "byte size of $(shape) × $(dtype.itemsize) overflows Int64")
    nc = checked_length(chunks, key * ":chunk_grid")
    nc_bytes, of = Base.Checked.mul_with_overflow(nc, dtype.itemsize)
    (of || nc_bytes > max_bytes()) &&
        _field_error(key, "chunk_grid.configuration.chunk_shape", "chunk of $(chunks) × $(dtype.itemsize) bytes exceeds the limit of $(max_bytes()) bytes (POLYZARR_MAX_BYTES)")
    fv = _require(d, key, "fill_value")
    fill = decode_fill_value_v3(dt_json, dtype, fv; key=string(key, ":fill_value"))
    attrs = get(d, "attributes", Dict{String,Any}())
    attrs isa AbstractDict || _field_error(key, "attributes", "must be an object, got $(_jtype(attrs))")
    dn = get(d, "dimension_names", nothing)
    if dn !== nothing
        dn isa AbstractVector || _field_error(key, "dimension_names", "must be a list, got $(_jtype(dn))")
        length(dn) == length(shape) ||
            _field_error(key, "dimension_names", "has $(length(dn)) names for $(length(shape)) dimensions")
        for (i, x) in enumerate(dn)
            (x === nothing || x isa AbstractString) ||
                _field_error(key, "dimension_names[$(i - 1)]", "must be a string or null, got $(_jtype(x))")
        end
        dn = Any[x for x in dn]
    end
    st = get(d, "storage_transformers", Any[])
    st isa AbstractVector || _field_error(key, "storage_transformers", "must be a list, got $(_jtype(st))")
    isempty(st) || _field_error(key, "storage_transformers", "storage transformers are not supported (the list must be empty)")
    return ArrayMetadataV3(shape, chunks, dt_json, dtype, Any[c for c in codecs], fv, fill, ename, String(sep), dn,
                           Dict{String,Any}(attrs), extra)
end

# The endian of the first array→bytes codec, looking inside sharding; '<' when there is none
# (the pipeline reports a broken chain; here it only decides the byte order of the data type).
function _v3_serializer_endian(codecs)
    for c in codecs
        c isa AbstractDict || continue
        name = get(c, "name", nothing)
        cfg = get(c, "configuration", nothing)
        cfg isa AbstractDict || (cfg = Dict{String,Any}())
        if name == "bytes"
            return get(cfg, "endian", "little") == "big" ? '>' : '<'
        elseif name == "sharding_indexed"
            inner = get(cfg, "codecs", nothing)
            return inner isa AbstractVector ? _v3_serializer_endian(inner) : '<'
        elseif name in ("vlen-utf8", "vlen-bytes")
            return '<'
        end
    end
    return '<'
end

"The zarr.json dict of an array, with the fields zarr-python 3.1 writes (key order: see `zarr_json_bytes`)."
function zarr_json_dict(m::ArrayMetadataV3)
    d = Dict{String,Any}(
        "zarr_format" => 3, "node_type" => "array", "shape" => m.shape, "data_type" => m.data_type,
        "chunk_grid" => _named("regular", Dict{String,Any}("chunk_shape" => m.chunks)),
        "chunk_key_encoding" => _named(m.chunk_key_encoding, Dict{String,Any}("separator" => m.separator)),
        "fill_value" => m.fill_value, "codecs" => m.codecs, "attributes" => m.attributes,
        "storage_transformers" => Any[])
    m.dimension_names === nothing || (d["dimension_names"] = m.dimension_names)
    for (k, v) in m.extra
        d[k] = v
    end
    return d
end

"A group's zarr.json dict (attributes, and inline consolidated metadata when given)."
function zarr_json_group(attrs::AbstractDict; consolidated=nothing)
    d = Dict{String,Any}("zarr_format" => 3, "node_type" => "group", "attributes" => attrs)
    consolidated === nothing ||
        (d["consolidated_metadata"] = Dict{String,Any}("kind" => "inline", "must_understand" => false,
                                                      "metadata" => consolidated))
    return d
end

"Parse and validate a group zarr.json; returns the Dict."
function parse_group_v3(b; key::AbstractString="zarr.json")
    key = String(key)
    d = parse_zarr_json(b; key=key)
    d["node_type"] == "group" || _field_error(key, "node_type", "is \"$(d["node_type"])\", expected a group")
    _v3_extra_fields(d, V3_GROUP_FIELDS, key)
    attrs = get(d, "attributes", Dict{String,Any}())
    attrs isa AbstractDict || _field_error(key, "attributes", "must be an object, got $(_jtype(attrs))")
    return d
end

"""
    parse_consolidated_v3(doc; key) -> Dict{String,Any} or nothing

The inline consolidated metadata of a group zarr.json: node path (relative to the group) → its
zarr.json document.  Nested groups' own consolidated entries are flattened (zarr-python writes
both forms).  Keys are checked like store keys.
"""
function parse_consolidated_v3(d::AbstractDict; key::AbstractString="zarr.json")
    key = String(key)
    c = get(d, "consolidated_metadata", nothing)
    c === nothing && return nothing
    c isa AbstractDict || _field_error(key, "consolidated_metadata", "must be an object or null, got $(_jtype(c))")
    kind = get(c, "kind", nothing)
    kind == "inline" || _field_error(key, "consolidated_metadata.kind", "unsupported kind $(json_string(kind; indent=nothing)) (only \"inline\")")
    haskey(c, "metadata") || _field_error(key, "consolidated_metadata.metadata", "missing required field")
    m = c["metadata"]
    m isa AbstractDict || _field_error(key, "consolidated_metadata.metadata", "must be an object, got $(_jtype(m))")
    out = Dict{String,Any}()
    for (k, v) in m
        checkkey(k)
        v isa AbstractDict || _field_error(key, "consolidated_metadata.metadata/$k", "must be an object, got $(_jtype(v))")
        out[String(k)] = v
        if get(v, "node_type", nothing) == "group"
            sub = parse_consolidated_v3(v; key=string(key, ":consolidated_metadata.metadata/", k))
            sub === nothing || for (sk, sv) in sub
                out[string(k, "/", sk)] = sv
            end
        end
    end
    return out
end

# key order of zarr-python 3.1's documents: arrays, groups, consolidated metadata, codec and data
# type objects (no two of them order the same two keys differently)
const V3_KEY_ORDER = Dict{String,Int}(k => i for (i, k) in enumerate((
    "shape", "data_type", "chunk_grid", "chunk_key_encoding", "chunk_shape", "fill_value", "codecs", "index_codecs",
    "index_location", "attributes", "dimension_names", "zarr_format", "consolidated_metadata", "node_type",
    "storage_transformers", "kind", "must_understand", "metadata", "name", "configuration", "separator", "endian",
    "order", "typesize", "cname", "clevel", "shuffle", "blocksize", "level", "checksum", "unit", "scale_factor",
    "length_bytes", "fields")))

_v3_ordered(x) = x
_v3_ordered(x::AbstractVector) = Any[_v3_ordered(y) for y in x]
function _v3_ordered(d::AbstractDict)
    ks = sort!(collect(String, keys(d)); by=k -> (get(V3_KEY_ORDER, k, typemax(Int)), k))
    items = Pair{String,Any}[]
    for k in ks
        v = d[k]
        if k == "attributes"
            push!(items, k => v)                     # user data: kept as it is (keys sorted)
        elseif k == "metadata" && v isa AbstractDict
            # consolidated entries: node paths, shallow ones first (as zarr-python lists them)
            paths = sort!(collect(String, keys(v)); by=p -> (count(==('/'), p), p))
            push!(items, k => JSONObject(Pair{String,Any}[p => _v3_ordered(v[p]) for p in paths]))
        else
            push!(items, k => _v3_ordered(v))
        end
    end
    return JSONObject(items)
end

"The bytes of a zarr.json document: zarr-python 3.1's key order, `json.dumps(indent=2)`."
zarr_json_bytes(d::AbstractDict) = Vector{UInt8}(codeunits(json_string(_v3_ordered(d); indent=2)))

# ---------------------------------------------------------------------------------------------
# v3 fill values

const _HEXFILL = r"^0x[0-9a-fA-F]+$"

function _float_fill_v3(::Type{T}, x, key) where {T<:AbstractFloat}
    if x isa AbstractString && occursin(_HEXFILL, x)
        U = T === Float16 ? UInt16 : T === Float32 ? UInt32 : UInt64
        length(x) == 2 + 2 * sizeof(T) ||
            _fill_error(key, "hex fill value $(repr(x)) must have $(2 * sizeof(T)) hex digits for a $(8 * sizeof(T))-bit float")
        return reinterpret(T, parse(U, x[3:end]; base=16))      # the bits, exactly (NaN payloads too)
    end
    return _float_fill(T, x, key)
end

_canonical_nan(x::T) where {T<:AbstractFloat} = reinterpret(Unsigned, x) == reinterpret(Unsigned, T(NaN))
_hexbits(x::AbstractFloat) = string("0x", string(reinterpret(Unsigned, x); base=16, pad=2 * sizeof(x)))
_float_json_v3(x::AbstractFloat) = isnan(x) ? (_canonical_nan(x) ? "NaN" : _hexbits(x)) :
                                   isinf(x) ? (x > 0 ? "Infinity" : "-Infinity") : Float64(x)

_is_int(x) = x isa Integer && !(x isa Bool)

"""
    decode_fill_value_v3(data_type, dtype, json; key) -> value of dtype.T

Decode a v3 `fill_value` (docs/V3.md): numbers, "NaN"/"Infinity"/"-Infinity" and hex bit
patterns for floats, `[re, im]` for complex, byte lists for `r*`, base64 for byte strings, raw
bytes and structured types, strings, and "NaT" or an integer for datetimes.
"""
function decode_fill_value_v3(dt_json, d::ZDtype, x; key::AbstractString="fill_value")
    x === nothing && _fill_error(key, "a Zarr v3 fill_value cannot be null")
    T = d.T
    k = d.kind
    if k == 'b'
        x isa Bool && return x
        _fill_error(key, "expected true or false, got $(_jtype(x))")
    elseif k in ('i', 'u')
        _is_int(x) || _fill_error(key, "expected an integer, got $(_jtype(x))")
        (typemin(T) <= x <= typemax(T)) || _fill_error(key, "$x is out of range for $(_v3_repr(dt_json))")
        return T(x)
    elseif k == 'f'
        return _float_fill_v3(T, x, key)
    elseif k == 'c'
        (x isa AbstractVector && length(x) == 2) || _fill_error(key, "expected [real, imag], got $(_jtype(x))")
        F = real(T)
        return T(_float_fill_v3(F, x[1], key), _float_fill_v3(F, x[2], key))
    elseif k in ('M', 'm')
        x == "NaT" && return T(NAT)
        (_is_int(x) && typemin(Int64) <= x <= typemax(Int64)) ||
            _fill_error(key, "expected an Int64 or \"NaT\", got $(_jtype(x))")
        return T(Int64(x))
    elseif k == 'V' && raw_bits(dt_json) !== nothing
        n = d.itemsize
        (x isa AbstractVector && length(x) == n && all(b -> _is_int(b) && 0 <= b <= 255, x)) ||
            _fill_error(key, "expected a list of $n byte values (0-255), got $(json_string(x; indent=nothing))")
        return T(ntuple(i -> UInt8(x[i]), n))
    elseif k == 'V'
        return T(Tuple(_base64_fill(x, d.itemsize, key; exact=true)))
    elseif k == 'S'
        return T(Tuple(_base64_fill(x, d.itemsize, key)))
    elseif k == 'U'
        x isa AbstractString || _fill_error(key, "expected a string, got $(_jtype(x))")
        length(x) <= d.itemsize ÷ 4 || _fill_error(key, "$(repr(x)) is longer than $(d.itemsize ÷ 4) characters")
        return T(x)
    elseif k == 'T'
        return _load(d, _base64_fill(x, d.itemsize, key; exact=true), 0)
    elseif k == 'O'
        if T === String
            x isa AbstractString || _fill_error(key, "expected a string, got $(_jtype(x))")
            return String(x)
        end
        x isa AbstractString || _fill_error(key, "expected a base64 string, got $(_jtype(x))")
        occursin(_BASE64, x) || _fill_error(key, "fill value $(repr(x)) is not valid base64")
        return base64decode(x)
    end
    _fill_error(key, "unsupported data type")
end

"Encode a Julia fill value as a v3 `fill_value` (the inverse of decode_fill_value_v3)."
function encode_fill_value_v3(dt_json, d::ZDtype, v)
    k = d.kind
    if k == 'f'
        return _float_json_v3(convert(d.T, v))
    elseif k == 'c'
        c = convert(d.T, v)
        return Any[_float_json_v3(real(c)), _float_json_v3(imag(c))]
    elseif k == 'V' && raw_bits(dt_json) !== nothing
        x = v isa AbstractVector ? d.T(v) : v
        return Any[Int(b) for b in x.data]
    elseif k == 'O'
        d.T === String && return String(v)
        return base64encode(v isa AbstractString ? codeunits(v) : v)
    end
    return encode_fill_value(d, v)        # the same JSON as v2 for the rest
end

"The fill value of a new v3 array by default: zero, false, \"\", NaT for datetimes (as zarr-python 3.1)."
function default_fill_json_v3(dt_json, d::ZDtype)
    k = d.kind
    k in ('M', 'm') && return NAT
    k == 'S' && return ""
    k == 'V' && raw_bits(dt_json) !== nothing && return Any[0 for _ in 1:d.itemsize]
    k == 'O' && return ""
    return default_fill_json(d)
end
