# Julia writes, zarr-python reads (only with ENV["POLYZARR_PYTHON"], a Python with zarr 3 + numpy).
include(joinpath(@__DIR__, "testutils.jl"))

const PZI = PolyZarr

# zarr-python 3.1 cannot open v2 structured dtypes with sub-arrays or nesting (DESIGN.md), nor json2
# object arrays
const PY_CANNOT = ("zarr2/struct_subarray_C", "zarr2/struct_subarray_F", "zarr2/struct_nested_C", "zarr2/struct_nested_F",
                   "zarr2/json2_C", "zarr2/json2_F")

const CHECK_PY = raw"""
import json, sys, warnings
import numpy as np, zarr
warnings.filterwarnings("ignore")
root, data = sys.argv[1], sys.argv[2]
man = json.load(open(data + "/manifest.json"))
skip = set(sys.argv[3].split(","))
bad = []
for path, m in sorted(man.items()):
    if path in skip:
        continue
    try:
        got = zarr.open_array(root + "/" + path, mode="r")[...]
        exp = np.load(data + "/expected/" + m["expected"] + ".npy")
        if got.dtype.kind in "OT":
            got = got.astype(exp.dtype)
        if exp.dtype.names:           # compare the packed bytes of the real fields
            ok = got.shape == exp.shape and all(np.array_equal(got[n], exp[n], equal_nan=exp[n].dtype.kind in "fc")
                                                 for n in exp.dtype.names)
        elif exp.dtype.kind in "fc":
            ok = got.dtype == exp.dtype and np.array_equal(got, exp, equal_nan=True)
        else:
            ok = got.dtype == exp.dtype and got.shape == exp.shape and got.tobytes() == exp.tobytes()
        if not ok:
            bad.append(path)
    except Exception as e:
        bad.append(path + " " + repr(e)[:200])
print(json.dumps(bad))
"""

if isempty(python())
    @info "POLYZARR_PYTHON not set: skipping Julia-writes / zarr-python-reads round trips"
else
    @testset "interop: Julia writes, zarr-python reads" begin
        src = DirectoryStore(FIXTURES)
        root = joinpath(tmpdir(), "julia_written.zarr")
        dst = DirectoryStore(root)
        create_group(dst)
        for (path, _) in manifest()
            a = open_array(src, path)
            md = a.meta
            parts = split(path, '/')
            for i in 1:length(parts) - 1    # groups above, as zarr-python expects them
                p = join(parts[1:i], "/")
                readkey(dst, p * "/.zgroup") === nothing && create_group(dst, p)
            end
            b = create_array(dst, path; shape=md.shape, chunks=md.chunks, dtype=md.dtype, order=string(md.order),
                             compressor=md.compressor, filters=md.filters, fill_value=md.fill_value,
                             dimension_separator=md.dimension_separator, attrs=a.attrs)
            write_array!(b, read_array(a))
        end
        out = read(`$(python()) -c $CHECK_PY $root $DATA $(join(PY_CANNOT, ","))`, String)
        bad = PZI.parse_json(out)
        @test bad == Any[]
        isempty(bad) || @warn "zarr-python could not read these Julia-written arrays" bad

        # both Julia conventions, as Python sees them
        A = reshape(Int32.(1:24), 2, 3, 4)
        write_array(dst, "conv/rev", A; convention=:reverse, chunks=(2, 2, 3))
        write_array(dst, "conv/f", A; convention=:F, chunks=(1, 2, 3), compressor=Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1, "blocksize" => 0))
        out = runpy("""
import zarr, numpy as np
r = zarr.open_array('$root/conv/rev', mode='r')[...]
f = zarr.open_array('$root/conv/f', mode='r')[...]
A = np.arange(1, 25, dtype='<i4').reshape(4, 3, 2)      # numpy view of the Julia array's memory
print(r.shape, f.shape, np.array_equal(r, A), np.array_equal(f, A.T))""")
        @test strip(out) == "(4, 3, 2) (2, 3, 4) True True"

        # import_npy → zarr-python, every order and a few codecs
        d = tmpdir()
        for (name, order, comp, filt) in (("be_f8", "F", Dict("id" => "zstd", "level" => 1), nothing),
                                          ("le_i4", "C", Dict("id" => "blosc", "cname" => "zstd", "clevel" => 3, "shuffle" => 2, "blocksize" => 0), [Dict("id" => "delta", "dtype" => "<i4")]),
                                          ("le_U4", "F", nothing, nothing), ("struct_mixed", "C", Dict("id" => "gzip", "level" => 5), nothing))
            npy = joinpath(DATA, "expected", name * ".npy")
            import_npy(npy, joinpath(d, "i.zarr", name); order=order, compressor=comp, filters=filt, chunks=[2, 3])
            out = runpy("""
import zarr, numpy as np
a = zarr.open_array('$(joinpath(d, "i.zarr", name))', mode='r')
e = np.load('$npy')
g = a[...]
print(a.metadata.order, g.dtype == e.dtype, g.tobytes() == e.tobytes())""")
            @test strip(out) == "$order True True"
        end
        # vlen strings written by Julia
        import_npy(joinpath(DATA, "expected", "vlen_utf8.npy"), joinpath(d, "i.zarr", "s"); object_codec="vlen-utf8")
        out = runpy("import zarr; print(zarr.open_array('$(joinpath(d, "i.zarr", "s"))', mode='r')[...].ravel().tolist()[:4])")
        @test strip(out) == "['', 'a', 'héllo', '😀x']"
        # a zip written by Julia
        zp = joinpath(d, "j.zip")
        import_npy(joinpath(DATA, "expected", "le_i4.npy"), zp * "/g/arr"; chunks=[2, 2])
        out = runpy("""
import zarr, numpy as np
s = zarr.storage.ZipStore('$zp', mode='r')
print(np.array_equal(zarr.open_array(s, path='g/arr', mode='r')[...], np.load('$(joinpath(DATA, "expected", "le_i4.npy"))')))""")
        @test strip(out) == "True"
    end
end
