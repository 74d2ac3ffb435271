# Shared by the core test files: load PolyZarr once (standalone or inside runtests.jl) and a few
# helpers.  Each test_*.jl starts with `include("testutils.jl")`; the guard makes it idempotent.
using Test

if !isdefined(Main, :PolyZarr)
    include(joinpath(@__DIR__, "..", "src", "PolyZarr.jl"))
end

if !isdefined(Main, :PZTestUtils)
    @eval Main module PZTestUtils
        using Test
        using ..PolyZarr
        const DATA = joinpath(@__DIR__, "data")
        const FIXTURES = joinpath(DATA, "fixtures.zarr")

        "Run `f`; true when it throws a `T` whose key contains `key` and message contains `msg`."
        function raises(f, ::Type{T}, key::AbstractString, msg::AbstractString="") where {T}
            try
                f()
            catch e
                if e isa T && occursin(key, e.key) && occursin(msg, e.msg)
                    return true
                end
                @warn "unexpected exception" expected = T key msg got = sprint(showerror, e)
                return false
            end
            @warn "no exception" expected = T key msg
            return false
        end

        "Expected values of a fixture (numpy C-order data as a Julia array of size reverse(shape))."
        function expected(name)
            A, h = read_npy(joinpath(DATA, "expected", name * ".npy"))
            h.fortran_order && (A = permutedims(A, ndims(A):-1:1))
            return A
        end

        manifest() = PolyZarr.parse_json(read(joinpath(DATA, "manifest.json")))

        "A fresh temporary directory, removed at exit."
        tmpdir() = mktempdir()

        python() = get(ENV, "POLYZARR_PYTHON", "")

        "Run a Python snippet with POLYZARR_PYTHON; returns stdout (errors fail the test)."
        function runpy(code::AbstractString)
            out = read(`$(python()) -c $code`, String)
            return out
        end

        export raises, expected, manifest, tmpdir, python, runpy, DATA, FIXTURES
    end
end
using Main.PZTestUtils
using Main.PolyZarr
