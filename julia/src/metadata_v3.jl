# Zarr v3 metadata: zarr.json for arrays and groups (docs/V3.md), inline consolidated metadata,
# zarr-python 3.1's key order, v3 fill values.  Every error names `key:field`.  Shared helpers
# (_require, _jtype, _int_list, …) are in metadata.jl.

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
    edges::Union{Nothing,Vector{Vector{Int}}}    # a rectilinear grid: chunk edge lengths per Zarr axis
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
        _field_error(key, "zarr_format", "unsupported zarr_format $(json_string(zf; indent=nothing)) in zarr.json " *
            "(expected 3)")
    nt = _require(d, key, "node_type")
    nt in ("array", "group") ||
        _field_error(key, "node_type", "must be \"array\" or \"group\", got $(json_string(nt; indent=nothing))")
    return d
end

# Unknown top-level fields: ignored when they say `"must_understand": false`, an error otherwise.
function _v3_extra_fields(d::AbstractDict, known, key)
    extra = Dict{String,Any}()
    for (k, v) in d
        k in known && continue
        (v isa AbstractDict && get(v, "must_understand", true) === false) ||
            _field_error(key, k, "unknown field $(repr(k)) (only objects with \"must_understand\": false may be " *
                "ignored)")
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
    gname in ("regular", "rectilinear") ||
        _field_error(key, "chunk_grid.name", "unsupported chunk grid $(repr(gname)) (\"regular\" or \"rectilinear\")")
    edges = nothing
    if gname == "rectilinear"
        edges = parse_rectilinear(gcfg, shape, key)
        chunks = [isempty(e) ? 1 : maximum(e) for e in edges]       # the largest chunk, for the size limits
    else
        for k in keys(gcfg)
            k == "chunk_shape" || _field_error(key, "chunk_grid.configuration", "unknown key $(repr(k))")
        end
        haskey(gcfg, "chunk_shape") ||
            _field_error(key, "chunk_grid.configuration.chunk_shape", "missing required field")
        chunks = _int_list(gcfg["chunk_shape"], key,
                           "chunk_grid.configuration.chunk_shape"; allow_zero=false)
        length(chunks) == length(shape) ||
            _field_error(key, "chunk_grid.configuration.chunk_shape", "has $(length(chunks)) dimensions but shape " *
                "has " *
                "$(length(shape))")
    end
    # chunk keys
    ename, ecfg = _named_config(_require(d, key, "chunk_key_encoding"), key, "chunk_key_encoding")
    ename in ("default", "v2") ||
        _field_error(key, "chunk_key_encoding.name", "must be \"default\" or \"v2\", got $(repr(ename))")
    for k in keys(ecfg)
        k == "separator" || _field_error(key, "chunk_key_encoding.configuration", "unknown key $(repr(k))")
    end
    sep = get(ecfg, "separator", ename == "default" ? "/" : ".")
    sep in ("/", ".") ||
        _field_error(key, "chunk_key_encoding.configuration.separator", "must be \"/\" or \".\", got " *
            "$(json_string(sep; indent=nothing))")
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
        _field_error(key, "chunk_grid.configuration.chunk_shape", "chunk of $(chunks) × $(dtype.itemsize) bytes " *
            "exceeds the limit of $(max_bytes()) bytes (POLYZARR_MAX_BYTES)")
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
    isempty(st) ||
        _field_error(key, "storage_transformers", "storage transformers are not supported (the list must be empty)")
    return ArrayMetadataV3(shape, chunks, dt_json, dtype, Any[c for c in codecs], fv, fill, ename, String(sep), dn,
                           Dict{String,Any}(attrs), extra, edges)
end

"""
    parse_rectilinear(configuration, shape, key) -> Vector{Vector{Int}}

The chunk edge lengths per Zarr axis of a `rectilinear` chunk grid (zarr-extensions): `kind`
"inline", `chunk_shapes` one entry per axis, each a positive integer (regular along that axis) or
a list of edge lengths and `[length, count]` runs.  The edges must cover the extent (their sum may
exceed it, as zarr-python allows).  Errors are MetadataErrors naming the JSON path.
"""
function parse_rectilinear(gcfg::AbstractDict, shape::Vector{Int}, key::String)
    base = "chunk_grid.configuration"
    for k in keys(gcfg)
        k in ("kind", "chunk_shapes") || _field_error(key, base, "unknown key $(repr(k))")
    end
    kind = get(gcfg, "kind", nothing)
    kind == "inline" || _field_error(key, base * ".kind", "unsupported rectilinear kind " *
        "$(json_string(kind; indent=nothing)) (only \"inline\")")
    cs = get(gcfg, "chunk_shapes", nothing)
    cs isa AbstractVector || _field_error(key, base * ".chunk_shapes", "must be a list (one entry per axis), got " *
        "$(_jtype(cs))")
    length(cs) == length(shape) ||
        _field_error(key, base * ".chunk_shapes", "has $(length(cs)) axes but shape has $(length(shape))")
    pos(x) = x isa Integer && !(x isa Bool) && x > 0
    out = Vector{Int}[]
    for (i, x) in enumerate(cs)
        path = string(base, ".chunk_shapes[", i - 1, "]")
        if pos(x)
            push!(out, fill(Int(x), max(1, cld(shape[i], x))))
            continue
        end
        (x isa AbstractVector && !isempty(x)) ||
            _field_error(key, path, "must be a positive integer or a non-empty list of edge lengths, got " *
                "$(json_string(x; indent=nothing))")
        e = Int[]
        for (j, y) in enumerate(x)
            if pos(y)
                push!(e, y)
            elseif y isa AbstractVector && length(y) == 2 && pos(y[1]) && y[2] isa Integer && !(y[2] isa Bool) &&
                   y[2] >= 0
                append!(e, fill(Int(y[1]), Int(y[2])))
            else
                _field_error(key, string(path, "[", j - 1, "]"), "must be an edge length (a positive integer) or a " *
                    "run [length, count], got $(json_string(y; indent=nothing))")
            end
        end
        isempty(e) && _field_error(key, path, "has no chunks")
        sum(e) >= shape[i] || _field_error(key, path, "the edge lengths sum to $(sum(e)), less than the array's " *
            "extent $(shape[i]) along axis $(i - 1)")
        push!(out, e)
    end
    return out
end

"A rectilinear chunk grid as zarr-python 3.4 writes it: runs of equal edges as [length, count]."
function rectilinear_json(edges)
    axes = Any[]
    for e in edges
        ax = Any[]
        i = 1
        while i <= length(e)
            j = i
            while j < length(e) && e[j + 1] == e[i]
                j += 1
            end
            push!(ax, j > i ? Any[e[i], j - i + 1] : e[i])
            i = j + 1
        end
        push!(axes, ax)
    end
    return _named("rectilinear", Dict{String,Any}("kind" => "inline", "chunk_shapes" => axes))
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
        "chunk_grid" => m.edges === nothing ? _named("regular", Dict{String,Any}("chunk_shape" => m.chunks)) :
                        rectilinear_json(m.edges),
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
    kind == "inline" ||
        _field_error(key, "consolidated_metadata.kind", "unsupported kind $(json_string(kind; indent=nothing)) (only " *
            "\"inline\")")
    haskey(c, "metadata") || _field_error(key, "consolidated_metadata.metadata", "missing required field")
    m = c["metadata"]
    m isa AbstractDict || _field_error(key, "consolidated_metadata.metadata", "must be an object, got $(_jtype(m))")
    out = Dict{String,Any}()
    for (k, v) in m
        checkkey(k)
        v isa AbstractDict ||
            _field_error(key, "consolidated_metadata.metadata/$k", "must be an object, got $(_jtype(v))")
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
# v3 fill values (the rules per data type kind are in dtypes.jl)

"""
    decode_fill_value_v3(data_type, dtype, json; key) -> value of dtype.T

Decode a v3 `fill_value` (docs/V3.md): numbers, "NaN"/"Infinity"/"-Infinity" and hex bit
patterns for floats, `[re, im]` for complex, byte lists for `r*`, base64 for byte strings, raw
bytes and structured types, strings, and "NaT" or an integer for datetimes (the dtype's rule:
`fill_from_json` in dtypes.jl).
"""
function decode_fill_value_v3(dt_json, d::ZDtype, x; key::AbstractString="fill_value")
    x === nothing && _fill_error(key, "a Zarr v3 fill_value cannot be null")
    return fill_from_json(d, x, 3; key=key, raw=raw_bits(dt_json) !== nothing, name=_v3_repr(dt_json))
end

"Encode a Julia fill value as a v3 `fill_value` (the inverse of decode_fill_value_v3)."
encode_fill_value_v3(dt_json, d::ZDtype, v) = fill_to_json(d, v, 3; raw=raw_bits(dt_json) !== nothing)

"The fill value of a new v3 array by default: zero, false, \"\", NaT for datetimes (as zarr-python 3.1)."
default_fill_json_v3(dt_json, d::ZDtype) = default_fill(d, 3; raw=raw_bits(dt_json) !== nothing)
