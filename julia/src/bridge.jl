# What the Python bridge (python/polyzarr/julia/) asks of Julia beyond the CLI verbs: the in-memory
# handoff.  A numpy array handed to Julia keeps its indices (size == numpy shape, A[i+1, j+1] is
# x[i, j]), as PythonCall presents it; that differs from the on-disk view of a C-order array
# (reversed size), and writing it with :reverse or :F gives Python x.T or x respectively.

"A value as JSON can carry it (numbers, Bool, strings; anything else as its string form)."
_probe_json(x::Union{Bool,Integer}) = x
_probe_json(x::AbstractFloat) = isfinite(x) ? Float64(x) : string(x)
_probe_json(x::Union{AbstractString,FixedBytesString,FixedUTF32String}) = String(x)
_probe_json(x) = string(x)

"""
    handoff_info(A, probes) -> Dict("size", "eltype", "probes")

What Julia sees of a handed-off array: its size, element type, and `A[p...]` for each 1-based
Julia index `p` in `probes`.
"""
function handoff_info(A::AbstractArray, probes)
    vals = Any[]
    for p in probes
        idx = Tuple(Int(i) for i in p)
        push!(vals, checkbounds(Bool, A, idx...) ? _probe_json(A[idx...]) :
                    throw(ArgumentError("probe $(collect(idx)) is outside an array of size $(size(A))")))
    end
    return Dict{String,Any}("size" => collect(size(A)), "eltype" => _typename(eltype(A)), "probes" => vals)
end

"""
    handoff_write(A, dest; convention="reverse", endpoint_url=nothing, kwargs...)

Write a handed-off Julia array `A` to the URL `dest` with a Julia convention: `reverse` declares
order "C" with shape reverse(size(A)); `F` declares "F" with shape size(A).  Other keywords
(chunks in Julia order, compressor, fill_value, ...) go to `create_array`.
"""
function handoff_write(A::AbstractArray, dest::AbstractString; convention="reverse", endpoint_url=nothing,
                       chunks=nothing, kwargs...)
    conv = Symbol(convention)
    store, path = open_store(dest; endpoint_url=endpoint_url)
    try
        isempty(path) || _ensure_parents(store, path)
        c = chunks === nothing ? nothing : Tuple(Int(x) for x in chunks)
        kw = Dict{Symbol,Any}(Symbol(k) => v for (k, v) in kwargs)
        write_array(store, path, A; convention=conv, chunks=c, kw...)
    finally
        close(store)
    end
    return Dict{String,Any}("path" => dest, "convention" => string(conv))
end

"`handoff_write` with its keywords as a JSON object (how juliacall passes them: no Python objects cross)."
handoff_write(A::AbstractArray, dest::AbstractString, options_json::AbstractString) =
    handoff_write(A, dest; (Symbol(k) => v for (k, v) in parse_json(options_json; key="options"))...)

"Does `a`'s element type cross to numpy as plain memory (numbers, Bool)?"
isbits_eltype(a::AbstractArray) = eltype(a) <: Union{Bool,Number} && isbitstype(eltype(a))

"""
    handoff_npy(npy, out; probes=[], write=nothing) -> Dict

The worker's handoff: the .npy array becomes `A` with numpy's indices (no copy for a Fortran-order
file, a lazy axis permutation of the file's bytes otherwise), `handoff_info` is answered, `A` is
written if asked, and handed back to Python as `out` (a Fortran-order .npy of shape size(A)).
"""
function handoff_npy(npy::AbstractString, out::AbstractString; probes=Any[], write=nothing)
    A0, h = read_npy(npy)
    A = relayout(A0, npy_order(h.fortran_order), 'F')       # numpy's indices
    info = handoff_info(A, probes)
    if write !== nothing
        w = Dict{Symbol,Any}(Symbol(k) => v for (k, v) in write if k != "dest")
        info["written"] = handoff_write(A, String(write["dest"]); w...)
    end
    write_npy(out, A, h.dtype.typestr; shape=collect(size(A)), fortran_order=true)
    return info
end
