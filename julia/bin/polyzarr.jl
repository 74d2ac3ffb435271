# polyzarr command line, Julia implementation: julia julia/bin/polyzarr.jl VERB ...
# Loads the module from the source tree, so no registry or package install is needed.
include(joinpath(@__DIR__, "..", "src", "PolyZarr.jl"))
using .PolyZarr

exit(PolyZarr.cli_main(ARGS))
