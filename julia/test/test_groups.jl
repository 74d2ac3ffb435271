# groups.jl: hierarchy walk, attributes, consolidated metadata, export / import / inspect / julia_view.
include(joinpath(@__DIR__, "testutils.jl"))

const PZG = PolyZarr

@testset "groups" begin
    s = DirectoryStore(FIXTURES)
    read_npy_header_typestr(f) = read_npy(f)[2].dtype.typestr
    @testset "hierarchy" begin
        nodes = list_nodes(s)
        @test ("", :group) in nodes && ("le_i4/C_zstd", :array) in nodes && ("zarr2", :group) in nodes
        @test count(n -> n[2] == :array, nodes) == length(manifest())
        @test !any(n -> startswith(n[1], "le_i4/C_zstd/"), nodes)
        # a plain directory (no .zgroup) holding arrays is walked too
        @test readkey(s, "le_i4/.zgroup") !== nothing || ("le_i4/C_zstd", :array) in nodes
        sub = list_nodes(s, "shapes")
        @test ("zero_d", :array) in sub && all(n -> !startswith(n[1], "shapes/"), sub)
        m = MemoryStore()
        writekey!(m, "plain/dir/arr/.zarray", readkey(s, "le_i4/C_zstd/.zarray"))
        @test list_nodes(m) == [("plain/dir/arr", :array)]
        g = create_group(m, "g/h"; attrs=Dict("a" => 1))
        @test attributes(open_group(m, "g/h"))["a"] == 1 && read_attributes(m, "g/h") == Dict("a" => 1)
        write_attributes!(m, "g/h", Dict("b" => [1, 2]))
        @test read_attributes(m, "g/h") == Dict("b" => [1, 2])
        @test raises(() -> create_group(m, "plain/dir/arr"), StoreError, "plain/dir/arr/.zarray", "array")
    end
    @testset "consolidated" begin
        c = DirectoryStore(joinpath(DATA, "consolidated.zarr"))
        cons = PZG.read_consolidated(c)
        @test cons !== nothing
        a = open_array(c, "sub/arr"; consolidated=cons)
        @test attributes(a)["from"] == "zmetadata"               # only .zmetadata says this
        @test attributes(open_array(c, "sub/arr")) != attributes(a)
        @test read_numpy_order(a) == expected("cons_sub_arr")
        @test list_nodes(c; consolidated=cons) == [("", :group), ("sub", :group), ("sub/arr", :array), ("top", :array)]
        # writing .zmetadata ourselves
        m = MemoryStore()
        create_group(m; attrs=Dict("x" => 1))
        write_array(m, "g/a", [1, 2, 3])
        create_group(m, "g")
        d = consolidate_metadata(m)
        md = PZG.parse_zmetadata(readkey(m, ".zmetadata"))
        @test Set(keys(md)) == Set([".zgroup", ".zattrs", "g/.zgroup", "g/.zattrs", "g/a/.zarray", "g/a/.zattrs"])
        @test md["g/a/.zarray"]["shape"] == [3]
        @test raises(() -> inspect_tree("memory://empty-store-for-test"), MetadataError, ".zgroup", "no Zarr")
    end
    @testset "export_tree" begin
        out = tmpdir()
        log = IOBuffer()
        res = export_tree(FIXTURES, out; log=log)
        man = manifest()
        @test isempty(res.failed)
        @test length(res.exported) == length(man)
        for e in res.exported
            m = man[e["path"]]
            A, h = read_npy(e["file"])
            @test !h.fortran_order && h.shape == e["shape"]
            exp = expected(m["expected"])
            if eltype(exp) <: FixedUTF32String && eltype(A) <: FixedUTF32String   # vlen str → <U longest
                @test String.(A) == String.(exp)
            elseif eltype(exp) <: FixedBytesString && eltype(A) <: FixedBytesString
                @test String.(A) == String.(exp)
            else
                @test isequal(A, exp)
                @test h.dtype.typestr == read_npy_header_typestr(joinpath(DATA, "expected", m["expected"] * ".npy"))
            end
        end
        lines = split(String(take!(log)), "\n"; keepempty=false)
        @test "exported le_i4/C_zstd (5, 4) <i4" in lines && "exported shapes/zero_d () <f8" in lines
        @test "exported shapes/one_d (17,) <i2" in lines
        @test isfile(joinpath(out, "be_f8", "F_blosc.npy"))
        # one array, and failures do not stop the rest
        m = MemoryStore()
        PZG.MEMORY_STORES["export-test"] = m
        write_array(m, "good", Int32[1, 2, 3])
        write_array(m, "bad", Int32[1, 2, 3]; chunks=(2,))
        writekey!(m, "bad/0", UInt8[1, 2, 3])
        writekey!(m, "worse/.zarray", Vector{UInt8}(codeunits("{not json")))
        out2 = tmpdir()
        r = export_tree("memory://export-test", out2; log=devnull)
        @test [e["path"] for e in r.exported] == ["good"]
        @test Set(f["path"] for f in r.failed) == Set(["bad", "worse"])
        f = r.failed[findfirst(f -> f["path"] == "bad", r.failed)]
        @test f["category"] == "CodecError" || f["category"] == "ChunkError"
        @test occursin("bad/0", f["message"])
        @test r.failed[findfirst(f -> f["path"] == "worse", r.failed)]["category"] == "MetadataError"
        r1 = export_tree("memory://export-test/good", out2; log=devnull)
        @test r1.exported[1]["file"] == joinpath(out2, "good.npy") && read_npy(r1.exported[1]["file"])[1] == Int32[1, 2, 3]
        # a root array is named after the URL's last segment, without .zarr / .zip
        r2 = export_tree(joinpath(FIXTURES, "shapes", "one_d"), out2; log=devnull)
        @test r2.exported[1]["path"] == "one_d" && isfile(joinpath(out2, "one_d.npy"))
        r3 = export_tree(joinpath(DATA, "fixtures.zip", "inner", "arr"), out2; log=devnull)
        @test r3.exported[1]["path"] == "arr"
        @test PZG._lastseg("x/arr.zarr/") == "arr" && PZG._lastseg("memory://") == "array"
    end
    @testset "import_npy" begin
        d = tmpdir()
        for name in ("le_i4", "be_f8", "le_U4", "S5", "struct_subarray", "shape_3d", "le_M8_ns", "le_c16")
            npy = joinpath(DATA, "expected", name * ".npy")
            exp = expected(name)
            for order in ("C", "F")
                dest = joinpath(d, "imp.zarr", "grp", name * order)
                r = import_npy(npy, dest; order=order, chunks=fill(2, ndims(exp)),
                               compressor=Dict("id" => "zlib", "level" => 1))
                @test r["shape"] == collect(reverse(size(exp)))
                a = open_array(dest)
                @test zorder(a) == order[1] && isequal(read_numpy_order(a), exp)
            end
        end
        @test readkey(DirectoryStore(joinpath(d, "imp.zarr")), "grp/.zgroup") !== nothing   # parents created
        @test readkey(DirectoryStore(joinpath(d, "imp.zarr")), ".zgroup") !== nothing
        npy = joinpath(DATA, "expected", "shape_3d.npy")
        exp = expected("shape_3d")                     # Julia size reverse(S) = (6, 5, 4)
        # conventions: the file's bytes as the Julia array
        import_npy(npy, "memory://imp/rev"; convention="reverse")
        a = open_array("memory://imp/rev")
        @test zorder(a) == 'C' && zshape(a) == [4, 5, 6] && read_array(a) == exp
        import_npy(npy, "memory://imp/f"; convention="F")
        a = open_array("memory://imp/f")
        @test zorder(a) == 'F' && zshape(a) == [6, 5, 4] && read_array(a) == exp
        # defaults, overwrite, fill, attrs, separator, filters
        r = import_npy(npy, "memory://imp/def")
        z = PZG.parse_json(readkey(PZG.memory_store("imp"), "def/.zarray"))
        @test z["compressor"] == Dict("id" => "zstd", "level" => 0, "checksum" => false) && z["chunks"] == [4, 5, 6] && z["fill_value"] == 0
        @test raises(() -> import_npy(npy, "memory://imp/def"), StoreError, "def/.zarray", "exists")
        import_npy(npy, "memory://imp/def"; overwrite=true, dimension_separator="/", chunks=[2, 2, 2],
                   fill_value=7, attrs=Dict("k" => "v"), filters=[Dict("id" => "delta", "dtype" => ">u4")])
        a = open_array("memory://imp/def")
        @test read_numpy_order(a) == exp && a.meta.fill == 7 && attributes(a)["k"] == "v"
        @test "def/1/2/2" in listkeys(PZG.memory_store("imp"), "def")
        # object codecs: <U → vlen-utf8
        import_npy(joinpath(DATA, "expected", "vlen_utf8.npy"), "memory://imp/str"; object_codec="vlen-utf8")
        o = open_array("memory://imp/str")
        @test eltype(o) == String && read_numpy_order(o) == String.(expected("vlen_utf8"))
        # into a zip
        zp = joinpath(d, "out.zip")
        import_npy(npy, zp * "/inner/arr"; compressor=nothing)
        @test read_numpy_order(open_array(zp * "/inner/arr")) == exp
        @test raises(() -> import_npy(npy, "memory://imp/x"; zarr_format=4), MetadataError, "zarr_format", "")
        @test raises(() -> import_npy(npy, "memory://imp/rev/inside"), MetadataError, "rev/.zarray", "is an array")
    end
    @testset "inspect_tree and julia_view" begin
        info = inspect_tree(joinpath(DATA, "consolidated.zarr"))
        paths = [n["path"] for n in info["nodes"]]
        @test paths == ["", "sub", "sub/arr", "top"]
        arr = info["nodes"][3]
        @test arr["kind"] == "array" && arr["zarr_format"] == 2 && arr["metadata"]["dtype"] == "<i8"
        @test arr["attributes"]["from"] == "zmetadata" && info["nodes"][2]["attributes"]["level"] == 1
        @test info["nodes"][1]["kind"] == "group"
        PZG.json_string(info)                        # all JSON-serialisable
        # broken documents are reported per node, the rest still listed
        bad = inspect_tree("memory://export-test")
        byp = Dict(n["path"] => n for n in bad["nodes"])
        @test byp["worse"]["error"]["category"] == "MetadataError" && occursin("worse/.zarray", byp["worse"]["error"]["message"])
        @test !haskey(byp["good"], "error") && byp["good"]["metadata"]["shape"] == [3]
        v = julia_view(joinpath(FIXTURES, "shapes", "three_d_C"))
        @test (v["size"], v["eltype"], v["order"], v["strides"], v["dimnames"]) == ([6, 5, 4], "UInt32", "C", [1, 6, 30], nothing)
        @test v["grid"] == cld.(v["size"], v["chunks"])
        # the last element (Julia index = size) lives in the last chunk; its key lists the grid index in Zarr order
        w = julia_view(joinpath(FIXTURES, "shapes", "three_d_C"); index=v["size"])
        @test w["chunk_index"] == v["grid"] && w["chunk_key"] == join(reverse(v["grid"] .- 1), "/")   # separator "/"
        @test_throws ArgumentError julia_view(joinpath(FIXTURES, "shapes", "three_d_C"); index=v["size"] .+ 1)
        v = julia_view(joinpath(FIXTURES, "shapes", "three_d_F"))
        @test v["size"] == [4, 5, 6] && v["order"] == "F"
        @test julia_view(joinpath(FIXTURES, "le_M8_10s", "C_zstd"))["eltype"] == "Datetime64{:s,10}"
    end
end
