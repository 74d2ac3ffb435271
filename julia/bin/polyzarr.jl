# polyzarr command line, Julia implementation: julia julia/bin/polyzarr.jl VERB ...
include(joinpath(@__DIR__, "load.jl"))

exit(PolyZarr.cli_main(ARGS))
