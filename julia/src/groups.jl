# Hierarchies: groups (.zgroup, or a v3 zarr.json) and plain directories holding arrays,
# attributes, consolidated metadata (v2 .zmetadata, v3 inline).  The verbs built on them
# (export / import / inspect / julia_view) are in verbs.jl.

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
            throw(StoreError(joinkey(path, k), k == ".zarray" ? "an array already exists here" : "a node that is not " *
                "a group exists here"))
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
    # zarr.json first: a node with both documents is the v3 one (as zarr-python reads it)
    j = consolidated !== nothing && haskey(consolidated, jkey) ? consolidated[jkey] : readkey(store, jkey)
    if j !== nothing
        d = parse_group_v3(j; key=jkey)
        return ZGroup(store, path, Dict{String,Any}(get(d, "attributes", Dict{String,Any}())), 3)
    end
    g = consolidated !== nothing && haskey(consolidated, key) ? consolidated[key] : readkey(store, key)
    g === nothing && throw(MetadataError(key, "no group here (missing .zgroup and zarr.json)"))
    parse_zgroup(g; key=key)
    return ZGroup(store, path, read_attributes(store, path; consolidated=consolidated), 2)
end

"The attributes of the node at `path`: its `.zattrs`, or its zarr.json's `attributes` (empty if none)."
function read_attributes(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    key = joinkey(path, ".zattrs")
    jkey = joinkey(path, "zarr.json")
    if consolidated !== nothing
        haskey(consolidated, jkey) && return _v3_attributes(consolidated[jkey], jkey)
        haskey(consolidated, key) && return parse_zattrs(consolidated[key]; key=key)
    end
    j = readkey(store, jkey)
    j === nothing || return _v3_attributes(j, jkey)
    b = readkey(store, key)
    return b === nothing ? Dict{String,Any}() : parse_zattrs(b; key=key)
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
    if j !== nothing
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
    jkey = joinkey(path, "zarr.json")
    j = readkey(store, jkey)
    b = j === nothing ? readkey(store, key) : nothing       # a v3 node: its .zmetadata (if any) is not read
    if b === nothing
        j === nothing && return nothing
        d = try
            parse_json(j; key=jkey)
        catch e
            e isa MetadataError || rethrow()
            return nothing                      # broken: reported when the node itself is opened
        end
        (d isa AbstractDict && get(d, "node_type", nothing) == "group" && get(d, "consolidated_metadata",
            nothing) !== nothing) ||
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
    ks = consolidated !== nothing ? [k for k in keys(consolidated) if k == joinkey(path, basename(k)) || _under(k,
        path)] :
         listkeys(store, path)
    nodes = Dict{String,Tuple{Symbol,Int}}()
    function add!(k, doc)
        b = basename(k)
        d = dirname(k)
        rel = isempty(path) ? d : (d == path ? "" : d[ncodeunits(path) + 2:end])
        # a zarr.json decides the node (as zarr-python reads it), whatever v2 documents sit next to it
        if b == "zarr.json"
            nt = doc isa AbstractDict ? get(doc, "node_type", "") : _v3_node_type(doc)
            nodes[rel] = (nt == "group" ? :group : :array, 3)
        elseif get(nodes, rel, (:group, 2))[2] == 3
            return
        elseif b == ".zarray" || b == INCOMPLETE_MARKER      # a half-written array: opening it says so
            nodes[rel] = (:array, 2)
        else
            get(nodes, rel, (:group, 2))[1] == :array || (nodes[rel] = (:group, 2))
        end
    end
    for k in ks
        (basename(k) in NODE_DOCUMENTS || basename(k) == INCOMPLETE_MARKER) || continue
        (k == joinkey(path, basename(k))) && continue        # the node at `path`: below
        doc = basename(k) == "zarr.json" ? (consolidated !== nothing ? consolidated[k] : readkey(store, k)) : nothing
        add!(k, doc)
    end
    # the node at `path` itself
    for n in (NODE_DOCUMENTS..., INCOMPLETE_MARKER)
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
    j !== nothing && return _consolidate_v3(store, path, j)      # zarr.json first, as on read
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
    root["consolidated_metadata"] = Dict{String,Any}("kind" => "inline", "must_understand" => false,
        "metadata" => entries)
    writekey!(store, jkey, zarr_json_bytes(root))
    return root
end
