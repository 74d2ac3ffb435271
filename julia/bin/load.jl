# Shared by the scripts in julia/bin: load the PolyZarr package from this checkout (no registry,
# no install). Julia caches its compiled form in the depot (~/.julia/compiled) and recompiles it
# when a source file changes. Where the depot cannot be written there is no cache: load the
# sources directly instead (works the same, starts a few seconds slower).
pushfirst!(LOAD_PATH, normpath(joinpath(@__DIR__, "..")))
try
    using PolyZarr
catch err
    err isa Union{Base.IOError,SystemError} || rethrow()
    @debug "PolyZarr: no precompile cache ($(sprint(showerror, err))); loading the sources"
    include(joinpath(@__DIR__, "..", "src", "PolyZarr.jl"))
    using .PolyZarr
end
