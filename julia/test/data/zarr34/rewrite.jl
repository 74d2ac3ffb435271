# Re-write a store with PolyZarr.jl: the same shape, chunk grid, data type, fill value and codecs
# (v3: the codec list as stored; v2: compressor, filters and order), with the values PolyZarr.jl
# reads from it.  Used by test_v3_ecosystem.jl and, through `julia rewrite.jl SRC DST`, by
# python/tests/test_julia_zarr34.py (zarr-python 3.4 reads what PolyZarr.jl writes).

"Write the array at `src` again at `dst` (a new directory) with PolyZarr.jl; returns the new ZArray."
function rewrite_store(src::AbstractString, dst::AbstractString)
    PZ = Main.PolyZarr
    a = PZ.open_array(src)
    m = a.meta
    x = PZ.read_array(a)
    store = PZ.DirectoryStore(dst)
    b = if m isa PZ.ArrayMetadataV3
        # a rectilinear grid goes in as `shards` (the grid; the codecs are used as given)
        PZ.create_array(store, ""; shape=m.shape, chunks=m.chunks, dtype=m.data_type, zarr_format=3,
                        codecs=m.codecs, fill_value=m.fill_value, shards=m.edges)
    else
        PZ.create_array(store, ""; shape=m.shape, chunks=m.chunks, dtype=m.dtype, order=string(m.order),
                        compressor=m.compressor, filters=m.filters, fill_value=m.fill_value)
    end
    PZ.write_array!(b, x)
    return b
end

# `julia rewrite.jl OUTDIR`: every readable case of manifest.json to OUTDIR/<name>.zarr
if abspath(PROGRAM_FILE) == @__FILE__
    pushfirst!(LOAD_PATH, normpath(joinpath(@__DIR__, "..", "..", "..")))
    @eval using PolyZarr
    for c in Main.PolyZarr.parse_json(read(joinpath(@__DIR__, "manifest.json")))["cases"]
        haskey(c, "unsupported") && continue
        rewrite_store(joinpath(@__DIR__, "stores", c["name"] * ".zarr"), joinpath(ARGS[1], c["name"] * ".zarr"))
    end
end
