# The verbs the CLI and the worker call: export / import / inspect / julia_view (python/polyzarr/verbs.py),
# and inspect's shared text format (docs/CONTRACT.md).  Built on arrays.jl, groups.jl and npy.jl; never
# calls cli.jl, worker.jl or bridge.jl.


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
        source_exists(store, root) || throw(StoreError(String(src), "no such file or directory"))
        outstore = nothing
        nodes = _list_nodes(store, root; consolidated=cons)
        for (rel, kind, fmt) in nodes
            if kind == :group       # nothing to export, but a broken .zgroup is reported (as the Python side does)
                gkey = joinkey(joinkey(root, rel), fmt == 3 ? "zarr.json" : ".zgroup")
                try
                    doc = cons !== nothing && haskey(cons, gkey) ? cons[gkey] : parse_json(readkey(store,
                        gkey); key=gkey)
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
                # OUTDIR is a store root: no link below it is followed
                outstore === nothing && (mkpath(outdir); outstore = DirectoryStore(outdir))
                file = _make_dirs(outstore, name * ".npy")
                isdir(lstat(file)) && throw(PathError(name * ".npy", "is a directory in $(outdir)"))
                write_npy(file, data, dt.typestr; shape=a.meta.shape)
                push!(exported, Dict{String,Any}("path" => name, "shape" => a.meta.shape,
                                                 "dtype" => dt.typestr isa String ? dt.typestr :
                                                            json_string(dt.typestr; indent=nothing),
                                                 "file" => file))
                println(log, "exported ", name, " ", _pyshape(a.meta.shape), " ", exported[end]["dtype"])
            catch e
                e isa InterruptException && rethrow()     # one array's failure never stops the export
                push!(failed, Dict{String,Any}("path" => name, "category" => _errcat(e), "message" => _errtext(e)))
                println(log, "FAILED ", name, ": ", _errcat(e), ": ", _errtext(e))
            end
        end
    finally
        close(store)
    end
    return (exported=exported, failed=failed)
end

"Does the source of an export exist? (a missing local path or zip is an error, not an empty tree)"
source_exists(s::DirectoryStore, root::AbstractString) = ispath(isempty(root) ? s.root :
                                                                joinpath(s.root, split(root, '/')...))
source_exists(z::ZipStore, root::AbstractString) = isfile(z.path)
source_exists(::AbstractStore, root::AbstractString) = true

_to_object(T, x) = T === String ? String(x) : T === Vector{UInt8} ?
    (x isa AbstractString ? Vector{UInt8}(codeunits(x)) :
                            Vector{UInt8}(x isa FixedBytesString ? codeunits(String(x)) : x)) :
    (x isa Union{FixedBytesString,FixedUTF32String} ? String(x) : x)

"Create the groups above `path` that do not exist yet, in `zarr_format` (an array in the way is an error)."
function _ensure_parents(store::AbstractStore, path::AbstractString; zarr_format=2)
    parts = split(path, '/')
    for i in 0:length(parts) - 1
        p = join(parts[1:i], "/")
        readkey(store, joinkey(p, ".zarray")) === nothing ||
            throw(MetadataError(joinkey(p, ".zarray"), "cannot create $(path): $(isempty(p) ? "the root" : p) is an " *
                "array"))
        j = readkey(store, joinkey(p, "zarr.json"))
        (j === nothing || _v3_node_type(j) == "group") ||
            throw(MetadataError(joinkey(p, "zarr.json"), "cannot create $(path): $(isempty(p) ? "the root" : p) is " *
                "not a group"))
        (j === nothing && readkey(store, joinkey(p, ".zgroup")) === nothing) && create_group(store,
            p; zarr_format=zarr_format)
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
    for (name, v) in (("codecs", codecs), ("shards", shards), ("transpose", transpose), ("dimension_names",
        dimension_names),
                      ("data_type", data_type))
        v === nothing || throw(MetadataError(name, "is a Zarr v3 option (use zarr_format 3)"))
    end
    A, h = read_npy(npy)
    if convention !== nothing
        c = string(convention)
        c in ("reverse", "F") || throw(ArgumentError("convention must be \"reverse\" or \"F\", got $(repr(c))"))
        o = string(convention_order(Symbol(c)))
        J = A                                       # the file's bytes as the Julia array
    else
        o = string(order)
        o in ("C", "F") || throw(MetadataError("order", "must be \"C\" or \"F\", got $(repr(o))"))
        # C: Julia size reverse(S); F: Julia size S with numpy's indices
        J = relayout(A, npy_order(h.fortran_order), o[1])
    end
    zs = zarr_shape(size(J), o[1])
    _is_rect(chunks) &&
        throw(MetadataError("chunks", "per-axis chunk edges (a rectilinear grid) need zarr_format 3"))
    zc = chunks === nothing ? max.(zs, 1) : collect(Int, chunks)
    length(zc) == length(zs) ||
        throw(MetadataError("chunks", "has $(length(zc)) dimensions, the array has $(length(zs))"))
    dt = h.dtype
    if object_codec !== nothing
        oc = object_codec isa AbstractDict ? Dict{String,Any}(object_codec) :
             Dict{String,Any}("id" => string(object_codec))
        T = oc["id"] == "vlen-bytes" ? Vector{UInt8} : oc["id"] == "vlen-utf8" ? String : Any
        J = map(x -> _to_object(T, x), J)
        dt = object_dtype(T)
        object_codec = oc
    end
    store, path = open_store(dest; endpoint_url=endpoint_url)
    try
        isempty(path) || _ensure_parents(store, path)
        write_new_array(store, path, J; overwrite=overwrite, shape=zs, chunks=zc, dtype=dt, order=o,
                        compressor=compressor, filters=filters, fill_value=fill_value,
                        dimension_separator=dimension_separator, attrs=attrs, object_codec=object_codec)
    finally
        close(store)
    end
    return Dict{String,Any}("path" => dest, "shape" => zs, "dtype" => dt.typestr)
end

"""
    write_new_array(store, path, J; overwrite=false, create_array keywords...) -> ZArray

Create the array at `path` and write `J` by the write protocol: marker, chunks, metadata, marker
deleted.  Overwriting an array of a local store builds the new one in a sibling directory
`.<name>.polyzarr-tmp-<random>` and swaps it in by rename, so a kill leaves the old or the new
array whole.  A failure removes what this write created (best effort) and rethrows.
"""
function write_new_array(store::AbstractStore, path::AbstractString, J::AbstractArray; overwrite::Bool=false, kw...)
    if overwrite && store isa DirectoryStore && !isempty(path) && node_exists(store, path)
        return _write_swapped(store, path, J; kw...)
    end
    before = node_exists(store, path) ? Set{String}() : Set{String}(listkeys(store, path))
    a = create_array(store, path; overwrite=overwrite, publish=false, kw...)
    try
        write_array!(a, J)
        publish!(a)
    catch
        _remove_new_keys!(store, path, before)
        rethrow()
    end
    return a
end

function _remove_new_keys!(store::AbstractStore, path::AbstractString, before)
    for k in (joinkey(path, ".zarray"), joinkey(path, "zarr.json"), joinkey(path, ".zattrs"), listkeys(store, path)...)
        k in before && continue
        try
            deletekey!(store, k)
        catch e
            e isa PolyZarrError || rethrow()
        end
    end
end

function _write_swapped(store::DirectoryStore, path::AbstractString, J::AbstractArray; kw...)
    parent, name = dirname(path), basename(path)
    tag = string(rand(UInt32); base=16)
    tmp = joinkey(parent, ".$(name).polyzarr-tmp-$(tag)")
    old = joinkey(parent, ".$(name).polyzarr-old-$(tag)")
    local_path(k) = joinpath(store.root, split(k, '/')...)
    local a
    try
        a = create_array(store, tmp; publish=false, kw...)
        write_array!(a, J)
        publish!(a)
    catch
        rm(local_path(tmp); recursive=true, force=true)
        rethrow()
    end
    confined_path(store, joinkey(path, ".zarray"))      # a link on the way is a PathError
    islink(lstat(local_path(path))) && throw(PathError(path, "is a symbolic link"))
    Base.Filesystem.rename(local_path(path), local_path(old))
    Base.Filesystem.rename(local_path(tmp), local_path(path))
    rm(local_path(old); recursive=true, force=true)
    return a
end

_v3_list(x, what) = x === nothing ? nothing : x isa AbstractString ? Any[strip(y) for y in split(x, ',')] :
                    x isa AbstractVector ? x : throw(MetadataError(what, "must be a list, got $(_jtype(x))"))

function _import_npy_v3(npy, dest; chunks, order, compressor, filters, fill_value, dimension_separator, object_codec,
                        attrs, convention, overwrite, endpoint_url, codecs, shards, transpose, dimension_names,
                        chunk_key_encoding, data_type)
    filters === nothing || throw(MetadataError("filters", "Zarr v3 has no filters: give codecs"))
    A, h = read_npy(npy)
    N = length(h.shape)
    # J: the array to store, as the v3 array's Julia view (size reverse(zarr shape))
    if convention !== nothing
        c = string(convention)
        c in ("reverse", "F") || throw(ArgumentError("convention must be \"reverse\" or \"F\", got $(repr(c))"))
        co = convention_order(Symbol(c))
        o = string(co)
        J = relayout(A, co, 'C')                    # the file's bytes as the Julia array A
        zs = zarr_shape(size(A), co)
    else
        o = string(order)
        o in ("C", "F") || throw(MetadataError("order", "must be \"C\" or \"F\", got $(repr(o))"))
        J = relayout(A, npy_order(h.fortran_order), 'C')
        zs = collect(Int, h.shape)
    end
    # per-axis edge lists (chunks, or shards with regular chunks): a rectilinear grid
    zc = chunks === nothing ? max.(zs, 1) : _is_rect(chunks) ? Any[c for c in chunks] : collect(Int, chunks)
    length(zc) == N || throw(MetadataError("chunks", "has $(length(zc)) dimensions, the array has $N"))
    sh = shards === nothing ? nothing : _is_rect(shards) ? Any[c for c in shards] :
         collect(Int, _v3_list(shards, "shards"))
    (sh === nothing || length(sh) == N) ||
        throw(MetadataError("shards", "has $(length(sh)) dimensions, the array has $N"))
    tr = transpose === nothing ? nothing : Int[Int(x isa AbstractString ? parse(Int,
        x) : x) for x in _v3_list(transpose, "transpose")]
    dn = dimension_names === nothing ? nothing :
         Any[x === nothing ? nothing : String(x) for x in _v3_list(dimension_names, "dimension_names")]
    dt = h.dtype
    if object_codec !== nothing
        oc = object_codec isa AbstractDict ? string(get(object_codec, "id", get(object_codec, "name",
            ""))) : string(object_codec)
        oc in ("vlen-utf8", "vlen-bytes") ||
            throw(MetadataError("object_codec", "Zarr v3 object arrays take vlen-utf8 or vlen-bytes, got $(repr(oc))"))
        T = oc == "vlen-bytes" ? Vector{UInt8} : String
        J = map(x -> _to_object(T, x), J)
        dt = object_dtype(T)
    end
    if data_type !== nothing            # a v3 data type for the values (e.g. "r16" for a |V2 file)
        dt = parse_data_type(data_type; key="data_type")
        dt.kind == 'O' && throw(MetadataError("data_type", "give object_codec for string and bytes arrays"))
        (dt.kind == h.dtype.kind || dt.itemsize == h.dtype.itemsize) ||
            throw(MetadataError("data_type", "$(json_string(data_type; indent=nothing)) does not hold the file's " *
                "$(json_string(h.dtype.typestr; indent=nothing)) values"))
        dt = data_type
    end
    cd = codecs
    if codecs isa AbstractString        # the command line's forms (a JSON list, or short specs)
        cd = v3_codec_specs(codecs)
    end
    fv = fill_value === nothing ? throw(MetadataError("fill_value", "a Zarr v3 fill_value cannot be null")) : fill_value
    store, path = open_store(dest; endpoint_url=endpoint_url)
    local a
    try
        isempty(path) || _ensure_parents(store, path; zarr_format=3)
        a = write_new_array(store, path, J; overwrite=overwrite, zarr_format=3, shape=zs, chunks=zc, dtype=dt,
                            order=o, compressor=compressor, fill_value=fv, dimension_separator=dimension_separator,
                            attrs=attrs, codecs=cd, shards=sh, transpose=tr, dimension_names=dn,
                            chunk_key_encoding=chunk_key_encoding)
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
                kind == :array && cons === nothing && check_complete(store, p)     # a half-written array
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
                             "order" => string(zorder(a)), "zarr_format" => zarr_format(a),
                             "strides" => julia_strides(size(a)),
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

"The line the CLI prints after an import (the Python CLI's, word for word)."
import_summary(npy, dest, res) = string("imported ", npy, " → ", get(res, "path", dest), " ",
                                        python_shape(get(res, "shape", Int[])), " ", python_str(get(res, "dtype", "")))

# a codec config as `id(key=value,...)`, "-" for none (keys sorted, as zarr writes them)
function codec_text(c)
    c === nothing && return "-"
    c isa AbstractDict || return python_str(c)
    params = join([string(k, "=", python_str(v)) for (k, v) in sort!(collect(c), by=first) if k != "id"], ",")
    id = python_str(get(c, "id", "?"))
    return isempty(params) ? id : string(id, "(", params, ")")
end

pyjson(x) = json_string(x; indent=nothing, separators=(", ", ": "))   # json.dumps(x) for scalars and lists

# v3 codecs as `name(key=value,...)` joined by `+`; sharding shows its inner codecs in brackets
function v3_codecs_text(cs)
    cs isa AbstractVector || return python_str(cs)
    parts = String[]
    for c in cs
        c isa AbstractDict || (push!(parts, python_str(c)); continue)
        name = python_str(get(c, "name", "?"))
        cfg = get(c, "configuration", Dict{String,Any}())
        cfg isa AbstractDict || (cfg = Dict{String,Any}())
        if name == "sharding_indexed"
            push!(parts, string(name, "(chunk_shape=", python_str(get(cfg, "chunk_shape", Any[])), ",index=",
                                python_str(get(cfg, "index_location", "end")), ",codecs=",
                                v3_codecs_text(get(cfg, "codecs", Any[])), ")"))
            continue
        end
        params = join([string(k, "=", python_str(v)) for (k, v) in sort!(collect(cfg), by=first)], ",")
        push!(parts, isempty(params) ? name : string(name, "(", params, ")"))
    end
    return join(parts, "+")
end

"""
    print_inspect(io, d)

The human-readable form of `inspect_tree`'s result, line for line as the Python CLI prints it.
"""
function print_inspect(io::IO, d::AbstractDict)
    nodes = get(d, "nodes", Any[])
    isempty(nodes) && println(io)
    for n in nodes
        path = get(n, "path", "")
        name = isempty(path) ? "/" : path
        kind = get(n, "kind", "?")
        if haskey(n, "error")
            e = n["error"]
            println(io, name, "  ", kind, "  ERROR ", get(e, "category", "?"), ": ", get(e, "message", ""))
            continue
        end
        if kind == "group"
            println(io, name, "  group", get(n, "zarr_format", 2) == 3 ? "  (v3)" : "")
        elseif get(n, "zarr_format", 2) == 3
            m = get(n, "metadata", Dict{String,Any}())
            gcfg = get(get(m, "chunk_grid", Dict()), "configuration", Dict())
            grid = get(gcfg, "chunk_shape", nothing)
            enc = get(m, "chunk_key_encoding", Dict())
            sep = get(get(enc, "configuration", Dict()), "separator", get(enc, "name", "") == "v2" ? "." : "/")
            dn = get(m, "dimension_names", nothing)
            println(io, name, "  array (v3)  shape=", python_shape(get(m, "shape", Any[])),
                    " chunks=", grid === nothing ? pyjson(get(gcfg, "chunk_shapes", nothing)) : python_shape(grid),
                    " data_type=", pyjson(get(m, "data_type", nothing)),
                    " fill=", pyjson(get(m, "fill_value", nothing)), " " *
                        "codecs=", v3_codecs_text(get(m, "codecs", Any[])),
                    " keys=", python_str(get(enc, "name", "default")), python_str(sep),
                    dn === nothing ? "" : string(" dims=", pyjson(dn)))
        else
            m = get(n, "metadata", Dict{String,Any}())
            fl = get(m, "filters", nothing)
            filters = fl === nothing || isempty(fl) ? "-" : join(map(codec_text, fl), "+")
            println(io, name, "  array  shape=", python_shape(get(m, "shape", Any[])),
                    " chunks=", python_shape(get(m, "chunks", Any[])), " dtype=", pyjson(get(m, "dtype", nothing)),
                    " order=", python_str(get(m, "order", "C")), " fill=", pyjson(get(m, "fill_value", nothing)),
                    " compressor=", codec_text(get(m, "compressor", nothing)), " filters=", filters,
                    " sep=", python_str(get(m, "dimension_separator", ".")))
        end
        attrs = get(n, "attributes", nothing)
        if attrs isa AbstractDict && !isempty(attrs)
            println(io, "    attrs: ", pyjson(attrs))
        end
    end
end

# ---------------------------------------------------------------------------------------------
# Codec specs as text: the command line's short forms, also accepted by import_npy (the worker).

# split at `sep` outside brackets and quotes, so `fixedscaleoffset:astype=<f4,scale=[1,2]` works
function split_toplevel(s::AbstractString, sep::Char)
    parts = String[]
    depth = 0
    inquote = false
    start = 1
    i = firstindex(s)
    while i <= ncodeunits(s)
        c = s[i]
        if inquote
            c == '\\' ? (i = nextind(s, i)) : c == '"' && (inquote = false)
        elseif c == '"'
            inquote = true
        elseif c == '[' || c == '{'
            depth += 1
        elseif c == ']' || c == '}'
            depth -= 1
        elseif c == sep && depth == 0
            push!(parts, s[start:prevind(s, i)])
            start = nextind(s, i)
        end
        i = nextind(s, i)
    end
    push!(parts, s[start:end])
    return parts
end

function spec_value(v::AbstractString)
    try
        return parse_json(v)
    catch e
        e isa MetadataError || rethrow()
        return String(v)
    end
end

"""
    v3_codec_specs(s) -> Vector{Any}

`--codecs`: a JSON list of v3 codec objects (or one object), or `name[:key=value,...]` specs
separated by `;`.  A value runs to the next `key=` (so `order=1,2,0` is one value) and a value
with commas is a list; values are parsed as JSON when they parse.  A bad spec is a
MetadataError at "codecs" (the CLI reports it as a usage error).
"""
function v3_codec_specs(s::AbstractString)
    t = strip(s)
    if startswith(t, "[") || startswith(t, "{")
        x = try
            parse_json(t; key="--codecs")
        catch e
            e isa MetadataError || rethrow()
            throw(MetadataError("codecs", string("--codecs is not valid JSON: ", e.msg)))
        end
        list = x isa AbstractVector ? x : Any[x]
        all(c -> c isa AbstractDict && haskey(c, "name"), list) ||
            throw(MetadataError("codecs", "--codecs: every codec must be an object with a \"name\""))
        return Any[c for c in list]
    end
    codecs = Any[]
    for part in split_toplevel(t, ';')
        part = strip(part)
        isempty(part) && continue
        name, rest = occursin(':', part) ? split(part, ':'; limit=2) : (part, "")
        name = strip(name)
        (isempty(name) || occursin(r"[\s=,]", name)) &&
            throw(MetadataError("codecs", string("bad codec spec ", repr(part))))
        cfg = Dict{String,Any}()
        last = ""
        raw = Dict{String,String}()
        order = String[]
        for kv in split_toplevel(rest, ',')
            if occursin('=', kv)
                k, v = split(kv, '='; limit=2)
                k = String(strip(k))
                isempty(k) && throw(MetadataError("codecs", string("bad codec spec ", repr(part), ": empty key")))
                raw[k] = String(strip(v))
                push!(order, k)
                last = k
            elseif !isempty(strip(kv))
                isempty(last) &&
                    throw(MetadataError("codecs", string("bad codec spec ", repr(part), ": expected key=value, got " *
                        "", repr(kv))))
                raw[last] *= "," * strip(kv)
            end
        end
        for k in order
            v = raw[k]
            cfg[k] = occursin(',', v) && !startswith(v, "[") ? Any[spec_value(strip(x)) for x in split(v,
                ',')] : spec_value(v)
        end
        push!(codecs, isempty(cfg) ? Dict{String,Any}("name" => String(name)) :
                                     Dict{String,Any}("name" => String(name), "configuration" => cfg))
    end
    isempty(codecs) && throw(MetadataError("codecs", "--codecs is empty"))
    return codecs
end
