# Hierarchies: groups (.zgroup, or a v3 zarr.json) and plain directories holding arrays,
# attributes, consolidated metadata (v2 .zmetadata, v3 inline), and the operations the CLI and
# worker call (export / import / inspect / julia_view).

"A Zarr group (v2 or v3): where it is, its attributes, its format."
struct ZGroup
    store::AbstractStore
    path::String
    attrs::Dict{String,Any}
    zarr_format::Int
end
ZGroup(store::AbstractStore, path::AbstractString, attrs::Dict{String,Any}) = ZGroup(store, String(path), attrs, 2)
attributes(g::ZGroup) = g.attrs
zarr_format(g::ZGroup) = g.zarr_format
Base.show(io::IO, g::ZGroup) = print(io, "ZGroup(", repr(g.path), ", v", g.zarr_format, ")")

_metabytes(x) = Vector{UInt8}(codeunits(json_string(x)))
_attrdict(attrs) = attrs === nothing ? Dict{String,Any}() : Dict{String,Any}(String(k) => v for (k, v) in attrs)

"Create a group at `path`: v2 writes `.zgroup` and `.zattrs`; v3 (`zarr_format=3`) a zarr.json."
function create_group(store::AbstractStore, path::AbstractString=""; attrs=nothing, zarr_format=2)
    path = String(strip(path, '/'))
    isempty(path) || checkkey(path)
    for k in (".zarray", "zarr.json")
        b = readkey(store, joinkey(path, k))
        b === nothing && continue
        (k == "zarr.json" && _v3_node_type(b) == "group") ||
            throw(StoreError(joinkey(path, k), k == ".zarray" ? "an array already exists here" : "a node that is not a group exists here"))
    end
    at = _attrdict(attrs)
    if zarr_format == 3
        writekey!(store, joinkey(path, "zarr.json"), zarr_json_bytes(zarr_json_group(at)))
        return ZGroup(store, path, at, 3)
    end
    writekey!(store, joinkey(path, ".zgroup"), _metabytes(Dict{String,Any}("zarr_format" => 2)))
    writekey!(store, joinkey(path, ".zattrs"), _metabytes(at))
    return ZGroup(store, path, at, 2)
end

# node_type of a zarr.json's bytes ("" when it does not parse: open_array/open_group report why)
function _v3_node_type(b)
    d = try
        parse_json(b)
    catch e
        e isa MetadataError || rethrow()
        return ""
    end
    nt = d isa AbstractDict ? get(d, "node_type", "") : ""
    return nt isa AbstractString ? String(nt) : ""
end

function open_group(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    path = String(strip(path, '/'))
    key = joinkey(path, ".zgroup")
    jkey = joinkey(path, "zarr.json")
    g = consolidated !== nothing && haskey(consolidated, key) ? consolidated[key] : readkey(store, key)
    if g === nothing
        j = consolidated !== nothing && haskey(consolidated, jkey) ? consolidated[jkey] : readkey(store, jkey)
        j === nothing && throw(MetadataError(key, "no group here (missing .zgroup and zarr.json)"))
        d = parse_group_v3(j; key=jkey)
        return ZGroup(store, path, Dict{String,Any}(get(d, "attributes", Dict{String,Any}())), 3)
    end
    parse_zgroup(g; key=key)
    return ZGroup(store, path, read_attributes(store, path; consolidated=consolidated), 2)
end

"The attributes of the node at `path`: its `.zattrs`, or its zarr.json's `attributes` (empty if none)."
function read_attributes(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    key = joinkey(path, ".zattrs")
    jkey = joinkey(path, "zarr.json")
    if consolidated !== nothing
        haskey(consolidated, key) && return parse_zattrs(consolidated[key]; key=key)
        haskey(consolidated, jkey) && return _v3_attributes(consolidated[jkey], jkey)
    end
    b = readkey(store, key)
    b === nothing || return parse_zattrs(b; key=key)
    j = readkey(store, jkey)
    return j === nothing ? Dict{String,Any}() : _v3_attributes(j, jkey)
end

function _v3_attributes(j, key)
    d = parse_zarr_json(j; key=key)
    a = get(d, "attributes", Dict{String,Any}())
    a isa AbstractDict || _field_error(key, "attributes", "must be an object, got $(_jtype(a))")
    return Dict{String,Any}(a)
end

"Replace the attributes of the node at `path` (its `.zattrs`, or the `attributes` in its zarr.json)."
function write_attributes!(store::AbstractStore, path::AbstractString, attrs::AbstractDict)
    jkey = joinkey(path, "zarr.json")
    j = readkey(store, jkey)
    if j !== nothing && readkey(store, joinkey(path, ".zattrs")) === nothing
        d = parse_zarr_json(j; key=jkey)
        d["attributes"] = _attrdict(attrs)
        return writekey!(store, jkey, zarr_json_bytes(d))
    end
    return writekey!(store, joinkey(path, ".zattrs"), _metabytes(_attrdict(attrs)))
end

"""
    read_consolidated(store, path="") -> Dict or nothing

The consolidated metadata of the tree at `path`, keyed by store key: a v2 `.zmetadata`'s entries
(`"a/.zarray"` → document), or a v3 group's inline `consolidated_metadata` (`"a/zarr.json"` →
document); nothing when there is none.
"""
function read_consolidated(store::AbstractStore, path::AbstractString="")
    key = joinkey(path, ".zmetadata")
    b = readkey(store, key)
    if b === nothing
        jkey = joinkey(path, "zarr.json")
        j = readkey(store, jkey)
        j === nothing && return nothing
        d = try
            parse_json(j; key=jkey)
        catch e
            e isa MetadataError || rethrow()
            return nothing                      # broken: reported when the node itself is opened
        end
        (d isa AbstractDict && get(d, "node_type", nothing) == "group" && get(d, "consolidated_metadata", nothing) !== nothing) ||
            return nothing
        m = parse_consolidated_v3(d; key=jkey)
        return Dict{String,Any}(joinkey(path, k, "zarr.json") => v for (k, v) in m)
    end
    m = parse_zmetadata(b; key=key)
    # its keys are relative to `path`; make them store keys
    return Dict{String,Any}(joinkey(path, k) => v for (k, v) in m)
end

const NODE_DOCUMENTS = (".zarray", ".zgroup", "zarr.json")

"""
    list_nodes(store, path=""; consolidated=nothing) -> Vector{Tuple{String,Symbol}}

Every node under `path` as (path relative to `path`, :array | :group), sorted; arrays are found
through groups (v2 and v3) and through plain directories.
"""
list_nodes(store::AbstractStore, path::AbstractString=""; consolidated=nothing) =
    [(p, k) for (p, k, _) in _list_nodes(store, path; consolidated=consolidated)]

# (relative path, kind, zarr_format) of every node; a zarr.json is read for its node_type (one that
# does not parse counts as an array, whose opening then reports the problem)
function _list_nodes(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    path = String(strip(path, '/'))
    ks = consolidated !== nothing ? [k for k in keys(consolidated) if k == joinkey(path, basename(k)) || _under(k, path)] :
         listkeys(store, path)
    nodes = Dict{String,Tuple{Symbol,Int}}()
    function add!(k, doc)
        b = basename(k)
        d = dirname(k)
        rel = isempty(path) ? d : (d == path ? "" : d[ncodeunits(path) + 2:end])
        if b == "zarr.json"
            nt = doc isa AbstractDict ? get(doc, "node_type", "") : _v3_node_type(doc)
            kind = nt == "group" ? :group : :array
            get(nodes, rel, (:group, 2))[1] == :array || (nodes[rel] = (kind, 3))
        elseif b == ".zarray"
            nodes[rel] = (:array, 2)
        else
            get(nodes, rel, (:group, 2))[1] == :array || (nodes[rel] = (:group, 2))
        end
    end
    for k in ks
        basename(k) in NODE_DOCUMENTS || continue
        (k == joinkey(path, basename(k))) && continue        # the node at `path`: below
        doc = basename(k) == "zarr.json" ? (consolidated !== nothing ? consolidated[k] : readkey(store, k)) : nothing
        add!(k, doc)
    end
    # the node at `path` itself
    for n in NODE_DOCUMENTS
        k = joinkey(path, n)
        doc = consolidated !== nothing && haskey(consolidated, k) ? consolidated[k] : readkey(store, k)
        doc === nothing || add!(k, doc)
    end
    # nothing inside an array is a node
    arrays = [p for (p, (k, _)) in nodes if k == :array]
    out = [(p, k, f) for (p, (k, f)) in nodes if !any(a -> a != p && (isempty(a) || startswith(p, a * "/")), arrays)]
    return sort!(out)
end

"""
    consolidate_metadata(store, path="") -> Dict

v2: gather every `.zarray`/`.zgroup`/`.zattrs` under `path` into `path/.zmetadata` (format 1).
v3 (a zarr.json group at `path`): every zarr.json under it goes into the group's inline
`consolidated_metadata` (keyed by path relative to the group, as zarr-python 3.1 writes it).
Returns the document written.
"""
function consolidate_metadata(store::AbstractStore, path::AbstractString="")
    path = String(strip(path, '/'))
    jkey = joinkey(path, "zarr.json")
    j = readkey(store, jkey)
    j !== nothing && readkey(store, joinkey(path, ".zgroup")) === nothing && return _consolidate_v3(store, path, j)
    entries = Dict{String,Any}()
    for k in listkeys(store, path)
        basename(k) in (".zarray", ".zgroup", ".zattrs") || continue
        rel = isempty(path) ? k : k[ncodeunits(path) + 2:end]
        entries[rel] = parse_json(readkey(store, k); key=k)
    end
    for n in (".zarray", ".zgroup", ".zattrs")    # the node at `path` itself
        b = readkey(store, joinkey(path, n))
        b === nothing || (entries[n] = parse_json(b; key=joinkey(path, n)))
    end
    d = zmetadata_dict(entries)
    writekey!(store, joinkey(path, ".zmetadata"), _metabytes(d))
    return d
end

function _consolidate_v3(store::AbstractStore, path::String, j)
    jkey = joinkey(path, "zarr.json")
    root = parse_group_v3(j; key=jkey)
    entries = Dict{String,Any}()
    for k in listkeys(store, path)
        (basename(k) == "zarr.json" && k != jkey) || continue
        doc = parse_zarr_json(readkey(store, k); key=k)
        rel = dirname(isempty(path) ? k : k[ncodeunits(path) + 2:end])
        if doc["node_type"] == "group"     # zarr-python gives each group an empty one of its own
            doc["consolidated_metadata"] = Dict{String,Any}("kind" => "inline", "must_understand" => false,
                                                            "metadata" => Dict{String,Any}())
        end
        entries[rel] = doc
    end
    root["consolidated_metadata"] = Dict{String,Any}("kind" => "inline", "must_understand" => false, "metadata" => entries)
    writekey!(store, jkey, zarr_json_bytes(root))
    return root
end

# ---------------------------------------------------------------------------------------------
# CLI / worker operations

_errmsg(e::PolyZarrError) = isempty(e.key) ? e.msg : string(e.key, ": ", e.msg)
_errcat(e) = e isa PolyZarrError ? errorcategory(e) : "InternalError"
_errtext(e) = e isa PolyZarrError ? _errmsg(e) : sprint(showerror, e)

# The name of an exported root array: the URL's last segment without .zarr/.zip (as the Python side).
function _lastseg(url)
    s = String(split(rstrip(String(url), '/'), '/')[end])
    for suffix in (".zarr", ".zip")
        endswith(s, suffix) && length(s) > length(suffix) && (s = s[1:end - length(suffix)])
    end
    return (isempty(s) || occursin(":", s)) ? "array" : s
end

"Values of an object array as a fixed-width numpy type (vlen str → <U longest, bytes → |S longest)."
function _export_values(a::ZArray, data)
    dt = a.pipeline.dtype
    dt.kind == 'O' || return data, dt
    # the vlen codec's element type decides for an empty array (no element to tell)
    if dt.T !== Vector{UInt8} && all(x -> x isa AbstractString, data)
        n = max(1, reduce(max, (length(x) for x in data); init=0))
        return map(FixedUTF32String{n}, data), parse_dtype("<U$n")
    elseif all(x -> x isa AbstractVector{UInt8}, data)
        n = max(1, reduce(max, (length(x) for x in data); init=0))
        return map(FixedBytesString{n}, data), parse_dtype("|S$n")
    end
    throw(DtypeError(joinkey(a.path, metadata_key(a.meta)) * (zarr_format(a) == 3 ? ":data_type" : ":dtype"),
                     "object array with non-string values cannot be exported to .npy"))
end

function _open_tree(src; endpoint_url=nothing)
    store, root = open_store(src; endpoint_url=endpoint_url)
    cons = read_consolidated(store, root)
    if cons === nothing && !isempty(root)
        # a v3 root group's inline consolidated metadata describes every node below it
        c = read_consolidated(store, "")
        c !== nothing && any(k -> basename(k) == "zarr.json", keys(c)) && (cons = c)
    end
    return store, root, cons
end

"""
    export_tree(src, outdir; endpoint_url=nothing, log=stdout) -> (exported=..., failed=...)

Write every array under `src` to `outdir/<relative path>.npy` (numpy C order, exact dtype and
byte order).  Failures are recorded (and logged) and the rest still exported.
"""
function export_tree(src::AbstractString, outdir::AbstractString; endpoint_url=nothing, log::IO=stdout)
    exported = Dict{String,Any}[]
    failed = Dict{String,Any}[]
    store, root, cons = _open_tree(src; endpoint_url=endpoint_url)
    try
        nodes = _list_nodes(store, root; consolidated=cons)
        for (rel, kind, fmt) in nodes
            if kind == :group       # nothing to export, but a broken .zgroup is reported (as the Python side does)
                gkey = joinkey(joinkey(root, rel), fmt == 3 ? "zarr.json" : ".zgroup")
                try
                    doc = cons !== nothing && haskey(cons, gkey) ? cons[gkey] : parse_json(readkey(store, gkey); key=gkey)
                    doc isa AbstractDict || throw(MetadataError(gkey, "must be a JSON object, got $(_jtype(doc))"))
                    fmt == 3 && parse_group_v3(doc; key=gkey)
                catch e
                    e isa PolyZarrError || rethrow()
                    push!(failed, Dict{String,Any}("path" => rel, "category" => _errcat(e), "message" => _errtext(e)))
                    println(log, "FAILED ", isempty(rel) ? "/" : rel, ": ", _errcat(e), ": ", _errtext(e))
                end
                continue
            end
            name = isempty(rel) ? _lastseg(src) : rel
            file = joinpath(outdir, split(name, '/')...) * ".npy"
            try
                a = open_array(store, joinkey(root, rel); consolidated=cons)
                data, dt = _export_values(a, read_numpy_order(a))
                mkpath(dirname(file))
                write_npy(file, data, dt.typestr; shape=a.meta.shape)
                push!(exported, Dict{String,Any}("path" => name, "shape" => a.meta.shape,
                                                 "dtype" => dt.typestr isa String ? dt.typestr : json_string(dt.typestr; indent=nothing),
                                                 "file" => file))
                println(log, "exported ", name, " ", _pyshape(a.meta.shape), " ", exported[end]["dtype"])
            catch e
                (e isa InterruptException || e isa OutOfMemoryError) && rethrow()
                push!(failed, Dict{String,Any}("path" => name, "category" => _errcat(e), "message" => _errtext(e)))
                println(log, "FAILED ", name, ": ", _errcat(e), ": ", _errtext(e))
            end
        end
    finally
        close(store)
    end
    return (exported=exported, failed=failed)
end

_to_object(T, x) = T === String ? String(x) : T === Vector{UInt8} ?
    (x isa AbstractString ? Vector{UInt8}(codeunits(x)) : Vector{UInt8}(x isa FixedBytesString ? codeunits(String(x)) : x)) :
    (x isa Union{FixedBytesString,FixedUTF32String} ? String(x) : x)

"Create the groups above `path` that do not exist yet, in `zarr_format` (an array in the way is an error)."
function _ensure_parents(store::AbstractStore, path::AbstractString; zarr_format=2)
    parts = split(path, '/')
    for i in 0:length(parts) - 1
        p = join(parts[1:i], "/")
        readkey(store, joinkey(p, ".zarray")) === nothing ||
            throw(MetadataError(joinkey(p, ".zarray"), "cannot create $(path): $(isempty(p) ? "the root" : p) is an array"))
        j = readkey(store, joinkey(p, "zarr.json"))
        (j === nothing || _v3_node_type(j) == "group") ||
            throw(MetadataError(joinkey(p, "zarr.json"), "cannot create $(path): $(isempty(p) ? "the root" : p) is not a group"))
        (j === nothing && readkey(store, joinkey(p, ".zgroup")) === nothing) && create_group(store, p; zarr_format=zarr_format)
    end
end

"""
    import_npy(npy, dest; chunks, order="C", compressor=zstd level 0, filters, fill_value,
               dimension_separator, object_codec, attrs, convention, overwrite=false,
               endpoint_url, zarr_format=2, codecs, shards, transpose, dimension_names,
               chunk_key_encoding="default") -> Dict("path", "shape", "dtype")

Store the `.npy` array at the URL `dest` (missing parent groups are created, in the same
format).  `chunks` are in Zarr order; `fill_value` is the metadata JSON encoding (`nothing` is a
null fill in v2; `:default` the dtype's default).
`convention` ("reverse" | "F") writes the file's bytes as the Julia array instead (CONTRACT).

`zarr_format=3` (docs/V3.md): `codecs` (a list of codec objects, used exactly: its bytes codec's
endian is the stored byte order, values are converted when the file's differs), or else
`transpose` (a permutation in Zarr order), the bytes codec (little endian, big for a `>` dtype)
and `compressor` (default zstd level 0 checksum false); `shards` (shard shape in Zarr order;
`chunks` is then the inner chunk shape); `dimension_names`; `chunk_key_encoding` "default" (keys
`c/0/1`) or "v2", with `dimension_separator`; `order="F"` is a transpose with the full reversal;
`data_type` a v3 data type for the file's values (e.g. `"r16"` for a `|V2` file).
"""
function import_npy(npy::AbstractString, dest::AbstractString; chunks=nothing, order="C",
                    compressor=DEFAULT_COMPRESSOR, filters=nothing, fill_value=:default,
                    dimension_separator=nothing, object_codec=nothing, attrs=nothing, convention=nothing,
                    overwrite::Bool=false, endpoint_url=nothing, zarr_format=2, codecs=nothing, shards=nothing,
                    transpose=nothing, dimension_names=nothing, chunk_key_encoding="default", data_type=nothing)
    zarr_format in (2, 3) || throw(MetadataError("zarr_format", "must be 2 or 3, got $(repr(zarr_format))"))
    zarr_format == 3 && return _import_npy_v3(npy, dest; chunks=chunks, order=order, compressor=compressor,
        filters=filters, fill_value=fill_value, dimension_separator=dimension_separator, object_codec=object_codec,
        attrs=attrs, convention=convention, overwrite=overwrite, endpoint_url=endpoint_url, codecs=codecs,
        shards=shards, transpose=transpose, dimension_names=dimension_names, chunk_key_encoding=chunk_key_encoding,
        data_type=data_type)
    for (name, v) in (("codecs", codecs), ("shards", shards), ("transpose", transpose), ("dimension_names", dimension_names),
                      ("data_type", data_type))
        v === nothing || throw(MetadataError(name, "is a Zarr v3 option (use zarr_format 3)"))
    end
    A, h = read_npy(npy)
    S = h.shape
    N = length(S)
    rev = ntuple(i -> N + 1 - i, N)
    if convention !== nothing
        c = string(convention)
        c in ("reverse", "F") || throw(ArgumentError("convention must be \"reverse\" or \"F\", got $(repr(c))"))
        o = c == "reverse" ? "C" : "F"
        J = A                                       # the file's bytes as the Julia array
    else
        o = string(order)
        o in ("C", "F") || throw(MetadataError("order", "must be \"C\" or \"F\", got $(repr(o))"))
        # C: Julia size reverse(S); F: Julia size S with numpy's indices
        J = (o == "C") == !h.fortran_order ? A : PermutedDimsArray(A, rev)
    end
    zs = zarr_shape(size(J), o[1])
    zc = chunks === nothing ? max.(zs, 1) : collect(Int, chunks)
    length(zc) == length(zs) || throw(MetadataError("chunks", "has $(length(zc)) dimensions, the array has $(length(zs))"))
    dt = h.dtype
    if object_codec !== nothing
        oc = object_codec isa AbstractDict ? Dict{String,Any}(object_codec) : Dict{String,Any}("id" => string(object_codec))
        T = oc["id"] == "vlen-bytes" ? Vector{UInt8} : oc["id"] == "vlen-utf8" ? String : Any
        J = map(x -> _to_object(T, x), J)
        dt = object_dtype(T)
        object_codec = oc
    end
    store, path = open_store(dest; endpoint_url=endpoint_url)
    try
        isempty(path) || _ensure_parents(store, path)
        a = create_array(store, path; shape=zs, chunks=zc, dtype=dt, order=o, compressor=compressor,
                         filters=filters, fill_value=fill_value,
                         dimension_separator=dimension_separator, attrs=attrs, object_codec=object_codec,
                         overwrite=overwrite)
        write_array!(a, J)
    finally
        close(store)
    end
    return Dict{String,Any}("path" => dest, "shape" => zs, "dtype" => dt.typestr)
end

_v3_list(x, what) = x === nothing ? nothing : x isa AbstractString ? Any[strip(y) for y in split(x, ',')] :
                    x isa AbstractVector ? x : throw(MetadataError(what, "must be a list, got $(_jtype(x))"))

function _import_npy_v3(npy, dest; chunks, order, compressor, filters, fill_value, dimension_separator, object_codec,
                        attrs, convention, overwrite, endpoint_url, codecs, shards, transpose, dimension_names,
                        chunk_key_encoding, data_type)
    filters === nothing || throw(MetadataError("filters", "Zarr v3 has no filters: give codecs"))
    A, h = read_npy(npy)
    N = length(h.shape)
    rev = ntuple(i -> N + 1 - i, N)
    # J: the array to store, as the v3 array's Julia view (size reverse(zarr shape))
    if convention !== nothing
        c = string(convention)
        c in ("reverse", "F") || throw(ArgumentError("convention must be \"reverse\" or \"F\", got $(repr(c))"))
        o = c == "reverse" ? "C" : "F"
        J = c == "reverse" ? A : PermutedDimsArray(A, rev)   # the file's bytes as the Julia array A
        zs = c == "reverse" ? reverse(collect(size(A))) : collect(size(A))
    else
        o = string(order)
        o in ("C", "F") || throw(MetadataError("order", "must be \"C\" or \"F\", got $(repr(o))"))
        J = h.fortran_order ? PermutedDimsArray(A, rev) : A
        zs = collect(Int, h.shape)
    end
    zc = chunks === nothing ? max.(zs, 1) : collect(Int, chunks)
    length(zc) == N || throw(MetadataError("chunks", "has $(length(zc)) dimensions, the array has $N"))
    sh = shards === nothing ? nothing : collect(Int, _v3_list(shards, "shards"))
    (sh === nothing || length(sh) == N) || throw(MetadataError("shards", "has $(length(sh)) dimensions, the array has $N"))
    tr = transpose === nothing ? nothing : Int[Int(x isa AbstractString ? parse(Int, x) : x) for x in _v3_list(transpose, "transpose")]
    dn = dimension_names === nothing ? nothing : Any[x === nothing ? nothing : String(x) for x in _v3_list(dimension_names, "dimension_names")]
    dt = h.dtype
    if object_codec !== nothing
        oc = object_codec isa AbstractDict ? string(get(object_codec, "id", get(object_codec, "name", ""))) : string(object_codec)
        oc in ("vlen-utf8", "vlen-bytes") || throw(MetadataError("object_codec", "Zarr v3 object arrays take vlen-utf8 or vlen-bytes, got $(repr(oc))"))
        T = oc == "vlen-bytes" ? Vector{UInt8} : String
        J = map(x -> _to_object(T, x), J)
        dt = object_dtype(T)
    end
    if data_type !== nothing            # a v3 data type for the values (e.g. "r16" for a |V2 file)
        dt = parse_data_type(data_type; key="data_type")
        dt.kind == 'O' && throw(MetadataError("data_type", "give object_codec for string and bytes arrays"))
        (dt.kind == h.dtype.kind || dt.itemsize == h.dtype.itemsize) ||
            throw(MetadataError("data_type", "$(json_string(data_type; indent=nothing)) does not hold the file's $(json_string(h.dtype.typestr; indent=nothing)) values"))
        dt = data_type
    end
    cd = codecs
    if codecs isa AbstractString        # the command line's forms (a JSON list, or short specs)
        cd = try
            parse_v3_codec_specs(codecs)
        catch e
            e isa UsageError || rethrow()
            throw(MetadataError("codecs", e.msg))
        end
    end
    fv = fill_value === nothing ? throw(MetadataError("fill_value", "a Zarr v3 fill_value cannot be null")) : fill_value
    store, path = open_store(dest; endpoint_url=endpoint_url)
    local a
    try
        isempty(path) || _ensure_parents(store, path; zarr_format=3)
        a = create_array(store, path; zarr_format=3, shape=zs, chunks=zc, dtype=dt, order=o,
                         compressor=compressor, fill_value=fv, dimension_separator=dimension_separator,
                         attrs=attrs, overwrite=overwrite, codecs=cd, shards=sh, transpose=tr, dimension_names=dn,
                         chunk_key_encoding=chunk_key_encoding)
        write_array!(a, J)
    finally
        close(store)
    end
    return Dict{String,Any}("path" => dest, "shape" => zs, "dtype" => a.pipeline.dtype.typestr)
end

"""
    inspect_tree(src; endpoint_url=nothing) -> Dict("nodes" => [...])

Each node: path (relative to src, "" for src itself), kind, zarr_format, metadata (the JSON
document as stored), attributes.  A node whose documents are broken is listed with
`"error" => {"category", "message"}` (and empty metadata), like the Python side.
"""
function inspect_tree(src::AbstractString; endpoint_url=nothing)
    store, root, cons = _open_tree(src; endpoint_url=endpoint_url)
    nodes = Any[]
    try
        for (rel, kind, fmt) in _list_nodes(store, root; consolidated=cons)
            p = joinkey(root, rel)
            key = joinkey(p, fmt == 3 ? "zarr.json" : kind == :array ? ".zarray" : ".zgroup")
            node = Dict{String,Any}("path" => rel, "kind" => String(kind), "zarr_format" => fmt,
                                    "metadata" => Dict{String,Any}(), "attributes" => Dict{String,Any}())
            try
                raw = cons !== nothing && haskey(cons, key) ? cons[key] : parse_json(readkey(store, key); key=key)
                raw isa AbstractDict || throw(MetadataError(key, "must be a JSON object, got $(_jtype(raw))"))
                if fmt == 3       # as for v2: the document as stored, not validated here
                    at = get(raw, "attributes", Dict{String,Any}())
                    at isa AbstractDict || _field_error(key, "attributes", "must be an object, got $(_jtype(at))")
                    node["attributes"] = Dict{String,Any}(at)
                else
                    node["attributes"] = read_attributes(store, p; consolidated=cons)
                end
                node["metadata"] = raw
            catch e
                e isa PolyZarrError || rethrow()
                node["metadata"] = Dict{String,Any}()
                node["error"] = Dict{String,Any}("category" => errorcategory(e), "message" => _errmsg(e))
            end
            push!(nodes, node)
        end
        # (the Python side answers {"nodes": []} here; the CLI contract tests expect an error)
        isempty(nodes) && throw(MetadataError(joinkey(root, ".zgroup"), "no Zarr array or group at $(src)"))
    finally
        close(store)
    end
    return Dict{String,Any}("nodes" => nodes)
end

# Type names as the contract spells them (current Julia prints ComplexF32, 1.5 prints Complex{Float32})
function _typename(T)
    s = replace(string(T), string(nameof(@__MODULE__), ".") => "")
    for b in ("16", "32", "64")
        s = replace(s, string("Complex{Float", b, "}") => string("ComplexF", b))
    end
    return s
end

"""
    julia_view(src; endpoint_url=nothing, index=nothing) -> Dict

How the Julia side sees the array at `src`: its Julia size, element type, Zarr order,
column-major strides (in elements), `_ARRAY_DIMENSIONS` in Julia's axis order (or nothing), chunk
size and grid in Julia's axis order; with a Julia `index`, the chunk index and key it lives in.
"""
function julia_view(src::AbstractString; endpoint_url=nothing, index=nothing)
    store, root, cons = _open_tree(src; endpoint_url=endpoint_url)
    try
        a = open_array(store, root; consolidated=cons)
        v = Dict{String,Any}("size" => collect(size(a)), "eltype" => _typename(eltype(a)),
                             "order" => string(zorder(a)), "zarr_format" => zarr_format(a), "strides" => julia_strides(size(a)),
                             "dimnames" => dimnames(a), "chunks" => collect(a.jchunks),
                             "grid" => collect(chunk_grid(a.jsize, a.jchunks)))
        if index !== nothing        # a Julia (1-based) index: which chunk key Julia reads it from
            idx = Tuple(Int(i) for i in index)
            checkbounds(Bool, a, idx...) || throw(ArgumentError("index $(collect(idx)) is outside size $(size(a))"))
            cidx = map((i, c) -> (i - 1) ÷ c + 1, idx, a.jchunks)
            v["index"] = collect(idx)
            v["chunk_index"] = collect(cidx)
            v["chunk_key"] = chunk_key(cidx, a.chunkkeys[])
        end
        return v
    finally
        close(store)
    end
end
