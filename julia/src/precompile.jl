# Precompile directives for the CLI and worker paths, run while the package cache is generated
# (the first `using PolyZarr` after a source change), never on a plain load.
#
# Why statements and not a workload that runs the code: on Julia 1.5 the cache keeps inferred
# code, not native code, and code that has been *run* during precompilation loses its inferred
# form once it is compiled to native code. `precompile` only infers, so the inference of
# everything reachable from these signatures is kept (measured on 1.5: type inference in the CLI's
# first export drops from ~2.5 s to ~0.15 s; what is left is native code generation). Julia ≥ 1.9
# caches native code for them too.
#
# The signatures are the dynamic-dispatch points: where the element type, the dimension count or
# the concrete IO type are only known at run time. The value types are those the test suite and
# benchmarks use most; others compile on first use, as before.

const _PRECOMPILE_ELTYPES = (Float64, Float32, Int64, Int32, Int16, UInt8, Bool)
const _PRECOMPILE_IOTYPES = (IOStream, Base.PipeEndpoint, Base.TTY)

# `f(args...; kw...)` with keyword names and types `kwtypes` (a NamedTuple type); keyword calls
# go through `Core.kwcall` from Julia 1.9 on, through a per-function sorter before.
_precompile_kw(f, kwtypes, argtypes) =
    precompile(isdefined(Core, :kwcall) ? Core.kwcall : Core.kwfunc(f), (kwtypes, typeof(f), argtypes...))

function _precompile_arrays(::Type{T}, N::Int) where {T}
    A = Array{T,N}
    Z = ZArray{T,N}
    rev = reversal_perm(N)
    precompile(read_array, (Z,))
    precompile(read_numpy_order, (Z,))
    precompile(read_region!, (A, Z, NTuple{N,UnitRange{Int}}))
    precompile(write_array!, (Z, A))
    precompile(write_array!, (Z, PermutedDimsArray{T,N,rev,rev,A}))
    precompile(_export_values, (Z, A))
    _precompile_kw(write_npy, NamedTuple{(:shape,),Tuple{Vector{Int}}}, (String, A, String))
    precompile(getindex, (Z, Vararg{UnitRange{Int},N}))
    precompile(setindex!, (Z, A, Vararg{UnitRange{Int},N}))
    return nothing
end

function _precompile_entry_points()
    for T in _PRECOMPILE_ELTYPES, N in 1:3
        _precompile_arrays(T, N)
    end
    # the CLI (julia/bin/polyzarr.jl) writes to stdout/stderr, whose type depends on where they go
    precompile(cli_main, (Vector{String},))
    for IOT in _PRECOMPILE_IOTYPES
        _precompile_kw(cli_main, NamedTuple{(:out, :err),Tuple{IOT,IOT}}, (Vector{String},))
        precompile(run_cli, (CLICommand, IOT, IOT))
        _precompile_kw(export_tree, NamedTuple{(:endpoint_url, :log),Tuple{Nothing,IOT}}, (String, String))
        precompile(worker_main, (IOT, IOStream))        # worker.jl: stdin, and a dup of fd 1
    end
    # the worker's ops, called through a Dict of functions
    precompile(handle_request, (String, Dict{String,Function}))
    for op in values(worker_ops())
        precompile(op, (Dict{String,Any},))
    end
    precompile(import_npy, (String, String))
    precompile(open_array, (String,))
    for K in (Dict{String,Any}, Nothing)            # with and without consolidated metadata
        _precompile_kw(open_array, NamedTuple{(:consolidated,),Tuple{K}}, (DirectoryStore, String))
        _precompile_kw(list_nodes, NamedTuple{(:consolidated,),Tuple{K}}, (DirectoryStore, String))
    end
    precompile(inspect_tree, (String,))
    precompile(consolidate_metadata, (DirectoryStore, String))
    # Zarr v3: zarr.json, the codec chain, shards (read through the store type known at run time)
    _precompile_kw(parse_array_v3, NamedTuple{(:key,),Tuple{String}}, (Vector{UInt8},))
    _precompile_kw(make_pipeline, NamedTuple{(:key,),Tuple{String}}, (ArrayMetadataV3,))
    precompile(zarr_json_bytes, (Dict{String,Any},))
    for T in (Float64, Int32), N in 1:3
        R = NTuple{N,UnitRange{Int}}
        precompile(_read_shard!, (Array{T,N}, R, DirectoryStore, String, Pipeline, R, ChunkBuffers, IndexCache))
    end
    return nothing
end

ccall(:jl_generating_output, Cint, ()) == 1 && _precompile_entry_points()
