# Hierarchies: groups (.zgroup) and plain directories holding arrays, attributes, consolidated
# metadata, and the operations the CLI and worker call (export / import / inspect / julia_view).

"A Zarr v2 group: where it is, and its attributes."
struct ZGroup
    store::AbstractStore
    path::String
    attrs::Dict{String,Any}
end
attributes(g::ZGroup) = g.attrs
Base.show(io::IO, g::ZGroup) = print(io, "ZGroup(", repr(g.path), ")")

_metabytes(x) = Vector{UInt8}(codeunits(json_string(x)))

"Create a group at `path` (writes `.zgroup`, and `.zattrs` when `attrs` is given)."
function create_group(store::AbstractStore, path::AbstractString=""; attrs=nothing)
    path = String(strip(path, '/'))
    isempty(path) || checkkey(path)
    readkey(store, joinkey(path, ".zarray")) === nothing ||
        throw(StoreError(joinkey(path, ".zarray"), "an array already exists here"))
    writekey!(store, joinkey(path, ".zgroup"), _metabytes(Dict{String,Any}("zarr_format" => 2)))
    at = attrs === nothing ? Dict{String,Any}() : Dict{String,Any}(String(k) => v for (k, v) in attrs)
    writekey!(store, joinkey(path, ".zattrs"), _metabytes(at))
    return ZGroup(store, path, at)
end

function open_group(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    path = String(strip(path, '/'))
    key = joinkey(path, ".zgroup")
    g = consolidated !== nothing && haskey(consolidated, key) ? consolidated[key] : readkey(store, key)
    g === nothing && throw(MetadataError(key, "no group here (missing .zgroup)"))
    parse_zgroup(g; key=key)
    return ZGroup(store, path, read_attributes(store, path; consolidated=consolidated))
end

"The `.zattrs` of the node at `path` (empty if none)."
function read_attributes(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    key = joinkey(path, ".zattrs")
    consolidated !== nothing && haskey(consolidated, key) && return parse_zattrs(consolidated[key]; key=key)
    b = readkey(store, key)
    return b === nothing ? Dict{String,Any}() : parse_zattrs(b; key=key)
end

"Replace the `.zattrs` of the node at `path`."
write_attributes!(store::AbstractStore, path::AbstractString, attrs::AbstractDict) =
    writekey!(store, joinkey(path, ".zattrs"), _metabytes(Dict{String,Any}(String(k) => v for (k, v) in attrs)))

"The consolidated metadata mapping stored at `path/.zmetadata`, or nothing."
function read_consolidated(store::AbstractStore, path::AbstractString="")
    key = joinkey(path, ".zmetadata")
    b = readkey(store, key)
    b === nothing && return nothing
    m = parse_zmetadata(b; key=key)
    # its keys are relative to `path`; make them store keys
    return Dict{String,Any}(joinkey(path, k) => v for (k, v) in m)
end

"""
    list_nodes(store, path=""; consolidated=nothing) -> Vector{Tuple{String,Symbol}}

Every node under `path` as (path relative to `path`, :array | :group), sorted; arrays are found
through groups and through plain directories.
"""
function list_nodes(store::AbstractStore, path::AbstractString=""; consolidated=nothing)
    path = String(strip(path, '/'))
    ks = consolidated !== nothing ? [k for k in keys(consolidated) if k == joinkey(path, basename(k)) || _under(k, path)] :
         listkeys(store, path)
    nodes = Dict{String,Symbol}()
    for k in ks
        b = basename(k)
        (b == ".zarray" || b == ".zgroup") || continue
        d = dirname(k)
        rel = isempty(path) ? d : (d == path ? "" : d[ncodeunits(path) + 2:end])
        if b == ".zarray"
            nodes[rel] = :array
        else
            get(nodes, rel, :group) == :array || (nodes[rel] = :group)
        end
    end
    if !haskey(nodes, "")     # the node at `path` itself (listkeys(store, path) lists below it)
        for n in (".zarray", ".zgroup")
            k = joinkey(path, n)
            if (consolidated !== nothing && haskey(consolidated, k)) || readkey(store, k) !== nothing
                nodes[""] = n == ".zarray" ? :array : :group
                break
            end
        end
    end
    # nothing inside an array is a node
    arrays = [p for (p, k) in nodes if k == :array]
    out = [(p, k) for (p, k) in nodes if !any(a -> a != p && (isempty(a) || startswith(p, a * "/")), arrays)]
    return sort!(out)
end

"""
    consolidate_metadata(store, path="") -> Dict

Gather every `.zarray`/`.zgroup`/`.zattrs` under `path` into `path/.zmetadata` (format 1).
"""
function consolidate_metadata(store::AbstractStore, path::AbstractString="")
    path = String(strip(path, '/'))
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
    if all(x -> x isa AbstractString, data)
        n = max(1, reduce(max, (length(x) for x in data); init=0))
        return map(FixedUTF32String{n}, data), parse_dtype("<U$n")
    elseif all(x -> x isa AbstractVector{UInt8}, data)
        n = max(1, reduce(max, (length(x) for x in data); init=0))
        return map(FixedBytesString{n}, data), parse_dtype("|S$n")
    end
    throw(DtypeError(joinkey(a.path, ".zarray:dtype"), "object array with non-string values cannot be exported to .npy"))
end

function _open_tree(src; endpoint_url=nothing)
    store, root = open_store(src; endpoint_url=endpoint_url)
    cons = read_consolidated(store, root)
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
        nodes = list_nodes(store, root; consolidated=cons)
        for (rel, kind) in nodes
            if kind == :group       # nothing to export, but a broken .zgroup is reported (as the Python side does)
                gkey = joinkey(joinkey(root, rel), ".zgroup")
                try
                    doc = cons !== nothing && haskey(cons, gkey) ? cons[gkey] : parse_json(readkey(store, gkey); key=gkey)
                    doc isa AbstractDict || throw(MetadataError(gkey, "must be a JSON object, got $(_jtype(doc))"))
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

"Create the groups above `path` that do not exist yet (an array in the way is an error)."
function _ensure_parents(store::AbstractStore, path::AbstractString)
    parts = split(path, '/')
    for i in 0:length(parts) - 1
        p = join(parts[1:i], "/")
        readkey(store, joinkey(p, ".zarray")) === nothing ||
            throw(MetadataError(joinkey(p, ".zarray"), "cannot create $(path): $(isempty(p) ? "the root" : p) is an array"))
        readkey(store, joinkey(p, ".zgroup")) === nothing && create_group(store, p)
    end
end

"""
    import_npy(npy, dest; chunks, order="C", compressor=zstd level 0, filters, fill_value,
               dimension_separator=".", object_codec, attrs, convention, overwrite=false,
               endpoint_url, zarr_format=2) -> Dict("path", "shape", "dtype")

Store the `.npy` array at the URL `dest` (missing parent groups are created).  `chunks` are in
Zarr order; `fill_value` is the metadata JSON encoding (`nothing` is a null fill; `:default` the
dtype's zero).
`convention` ("reverse" | "F") writes the file's bytes as the Julia array instead (CONTRACT).
"""
function import_npy(npy::AbstractString, dest::AbstractString; chunks=nothing, order="C",
                    compressor=DEFAULT_COMPRESSOR, filters=nothing, fill_value=:default,
                    dimension_separator=".", object_codec=nothing, attrs=nothing, convention=nothing,
                    overwrite::Bool=false, endpoint_url=nothing, zarr_format=2)
    zarr_format == 2 || throw(MetadataError("zarr_format", "only zarr_format 2 is supported, got $(zarr_format)"))
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
        for (rel, kind) in list_nodes(store, root; consolidated=cons)
            p = joinkey(root, rel)
            key = joinkey(p, kind == :array ? ".zarray" : ".zgroup")
            node = Dict{String,Any}("path" => rel, "kind" => String(kind), "zarr_format" => 2,
                                    "metadata" => Dict{String,Any}(), "attributes" => Dict{String,Any}())
            try
                raw = cons !== nothing && haskey(cons, key) ? cons[key] : parse_json(readkey(store, key); key=key)
                raw isa AbstractDict || throw(MetadataError(key, "must be a JSON object, got $(_jtype(raw))"))
                node["metadata"] = raw
                node["attributes"] = read_attributes(store, p; consolidated=cons)
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

_typename(T) = replace(string(T), string(nameof(@__MODULE__), ".") => "")

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
                             "order" => string(a.meta.order), "strides" => julia_strides(size(a)),
                             "dimnames" => dimnames(a), "chunks" => collect(a.jchunks),
                             "grid" => collect(chunk_grid(a.jsize, a.jchunks)))
        if index !== nothing        # a Julia (1-based) index: which chunk key Julia reads it from
            idx = Tuple(Int(i) for i in index)
            checkbounds(Bool, a, idx...) || throw(ArgumentError("index $(collect(idx)) is outside size $(size(a))"))
            cidx = map((i, c) -> (i - 1) ÷ c + 1, idx, a.jchunks)
            v["index"] = collect(idx)
            v["chunk_index"] = collect(cidx)
            v["chunk_key"] = chunk_key(cidx, a.meta.order, a.meta.dimension_separator)
        end
        return v
    finally
        close(store)
    end
end
