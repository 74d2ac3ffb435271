# The Julia test suite: every julia/test/test_*.jl (each also runs alone).
#   /work/main/.cache/julia/bin/julia --startup-file=no julia/test/runtests.jl
# With ENV["POLYZARR_PYTHON"] set (a Python with numpy, numcodecs, zarr 3), Julia-written stores are
# also read back by zarr-python.
using Test

# The package from this checkout, as julia/bin/*.jl load it (precompiled into the depot).
pushfirst!(LOAD_PATH, normpath(joinpath(@__DIR__, "..")))
using PolyZarr

const TEST_FILES = sort(filter(f -> startswith(f, "test_") && endswith(f, ".jl"), readdir(@__DIR__)))

@testset "PolyZarr" begin
    for f in TEST_FILES
        @info "running $f"
        include(joinpath(@__DIR__, f))
    end
end
