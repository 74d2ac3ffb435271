# Zarr v3 arrays and hierarchies (docs/V3.md): zarr.json documents as zarr-python 3.1 writes them,
# chunk key encodings, dimension names, groups and inline consolidated metadata, node discovery
# (list_nodes / export / inspect / julia_view), import_npy, the CLI's v3 options and the worker.
include(joinpath(@__DIR__, "testutils.jl"))

const PZ3 = PolyZarr

jdoc(store, key) = PZ3.parse_json(readkey(store, key))

@testset "v3 arrays" begin
    @testset "zarr.json: zarr-python 3.1's keys, order and indent" begin
        m = MemoryStore()
        create_array(m, "a"; zarr_format=3, shape=[5, 4], chunks=[2, 3], dtype="float64", dimension_names=["y", "x"],
                     attrs=Dict("units" => "m"))
        text = String(readkey(m, "a/zarr.json"))
        keys_in_order = [m.captures[1] for m in eachmatch(r"\n  \"([a-z_]+)\":", text)]
        @test keys_in_order == ["shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs",
                                "attributes", "dimension_names", "zarr_format", "node_type", "storage_transformers"]
        @test startswith(text, "{\n  \"shape\": [\n    5,\n    4\n  ],\n  \"data_type\": \"float64\",")
        @test occursin("\"codecs\": [\n    {\n      \"name\": \"bytes\",\n      \"configuration\": {\n        \"endian\": \"little\"\n      }\n    },\n    {\n      \"name\": \"zstd\",\n      \"configuration\": {\n        \"level\": 0,\n        \"checksum\": false\n      }\n    }\n  ],", text)
        g = create_group(m, "g"; zarr_format=3, attrs=Dict("é" => 1))
        @test String(readkey(m, "g/zarr.json")) == "{\n  \"attributes\": {\n    \"\\u00e9\": 1\n  },\n  \"zarr_format\": 3,\n  \"node_type\": \"group\"\n}"
        # a sharded array: zarr-python's order inside the codec too
        create_array(m, "s"; zarr_format=3, shape=[8], chunks=[2], shards=[4], dtype="int8")
        s = String(readkey(m, "s/zarr.json"))
        @test occursin(r"\"chunk_shape\": \[\n\s+2\n\s+\],\n\s+\"codecs\": \[.*\"index_codecs\": \[.*\"index_location\": \"end\""s, s)
        # a missing attributes field, and reading what we wrote is stable
        d = jdoc(m, "a/zarr.json")
        delete!(d, "attributes")
        writekey!(m, "a/zarr.json", PZ3.zarr_json_bytes(d))
        @test attributes(open_array(m, "a")) == Dict()
    end
    @testset "chunk key encodings" begin
        for (enc, sep, key, key0) in (("default", nothing, "c/1/0", "c"), ("default", ".", "c.1.0", "c"),
                                      ("v2", nothing, "1.0", "0"), ("v2", "/", "1/0", "0"))
            m = MemoryStore()
            a = create_array(m, "a"; zarr_format=3, shape=[4, 3], chunks=[2, 3], dtype="int16",
                             chunk_key_encoding=enc, dimension_separator=sep)
            a[:, :] = reshape(Int16.(1:12), 3, 4)
            @test readkey(m, "a/" * key) !== nothing
            @test read_array(open_array(m, "a")) == reshape(Int16.(1:12), 3, 4)
            d = jdoc(m, "a/zarr.json")["chunk_key_encoding"]
            @test d == Dict("name" => enc, "configuration" => Dict("separator" => something(sep, enc == "v2" ? "." : "/")))
            z = create_array(m, "z"; zarr_format=3, shape=Int[], dtype="int16", chunk_key_encoding=enc, dimension_separator=sep)
            z[] = Int16(3)
            @test readkey(m, "z/" * key0) !== nothing && open_array(m, "z")[] == 3
            @test PZ3.chunk_index(key, 2, a.chunkkeys[]) == (1, 2)
        end
        @test PZ3.chunk_key((3, 1, 2), PZ3.chunk_keys_v3("default", "/")) == "c/1/0/2"
        @test PZ3.chunk_key((), PZ3.chunk_keys_v3("default", ".")) == "c"
        @test PZ3.chunk_index("c/x", 1, PZ3.chunk_keys_v3("default", "/")) === nothing
    end
    @testset "dimension names, attributes, missing chunks, Julia layout" begin
        m = MemoryStore()
        a = create_array(m, "a"; zarr_format=3, shape=[2, 3, 4], chunks=[1, 2, 3], dtype="uint8", fill_value=9,
                         dimension_names=["t", nothing, "x"], attrs=Dict("a" => [1, 2]))
        b = open_array(m, "a")
        @test size(b) == (4, 3, 2) && zshape(b) == [2, 3, 4] && zorder(b) == 'C' && zarr_format(b) == 3
        @test isequal(dimnames(b), ["x", nothing, "t"]) && attributes(b) == Dict("a" => [1, 2])
        @test all(==(9), read_array(b))                          # no chunks: the fill value
        b[2, 1:2, 2] = UInt8[5, 6]
        @test b[2, 1, 2] == 5 && b[1, 1, 2] == 9
        c = create_array(m, "c"; zarr_format=3, shape=[2], dtype="int8", dimension_names=["only"])
        @test dimnames(open_array(m, "c")) == ["only"]
        write_attributes!(m, "c", Dict("k" => "v"))
        @test read_attributes(m, "c") == Dict("k" => "v") && attributes(open_array(m, "c")) == Dict("k" => "v")
        @test jdoc(m, "c/zarr.json")["dimension_names"] == ["only"]
        # writing all-fill chunks deletes them; write_empty_chunks keeps them
        a[:, :, :] = fill(UInt8(9), 4, 3, 2)
        @test isempty(filter(k -> occursin("/c/", k), listkeys(m, "a")))
        e = open_array(m, "a"; write_empty_chunks=true)
        e[:, :, :] = fill(UInt8(9), 4, 3, 2)
        @test length(filter(k -> occursin("/c/", k), listkeys(m, "a"))) == 2 * 2 * 2
        # overwrite
        @test raises(() -> create_array(m, "a"; zarr_format=3, shape=[1], dtype="int8"), StoreError, "a/zarr.json", "exists")
        create_array(m, "a"; zarr_format=3, shape=[1], dtype="int8", overwrite=true)
        @test isempty(filter(k -> occursin("/c/", k), listkeys(m, "a"))) && zshape(open_array(m, "a")) == [1]
    end
    @testset "groups, consolidated metadata, node discovery" begin
        d = tmpdir()
        root = joinpath(d, "t.zarr")
        st = DirectoryStore(root)
        create_group(st; zarr_format=3, attrs=Dict("title" => "t"))
        create_group(st, "g"; zarr_format=3)
        write_array(st, "g/x", reshape(collect(1:6), 3, 2); zarr_format=3, dimension_names=["b", "a"])
        write_array(st, "plain/dir/y", Float32[1, 2]; zarr_format=3)          # under a plain directory
        write_array(st, "v2arr", Int8[1, 2, 3])                              # a v2 array in the same tree
        nodes = list_nodes(st)
        @test nodes == [("", :group), ("g", :group), ("g/x", :array), ("plain/dir/y", :array), ("v2arr", :array)]
        @test zarr_format(open_group(st, "g")) == 3 && attributes(open_group(st)) == Dict("title" => "t")
        # consolidate: the root zarr.json carries every node, keyed by path (shallow first)
        doc = consolidate_metadata(st)
        @test sort(collect(keys(doc["consolidated_metadata"]["metadata"]))) == ["g", "g/x", "plain/dir/y"]
        text = String(readkey(st, "zarr.json"))
        @test findfirst("\"g\": {", text).start < findfirst("\"g/x\": {", text).start < findfirst("\"plain/dir/y\": {", text).start
        @test doc["consolidated_metadata"]["metadata"]["g"]["consolidated_metadata"]["metadata"] == Dict()
        cons = PZ3.read_consolidated(st, "")
        @test haskey(cons, "g/x/zarr.json")
        # readers use it instead of each zarr.json: remove one, it still opens
        rm(joinpath(root, "g", "x", "zarr.json"))
        @test read_array(open_array(joinpath(root, "g", "x"))) == reshape(collect(1:6), 3, 2)
        @test list_nodes(st; consolidated=cons)[1:3] == [("", :group), ("g", :group), ("g/x", :array)]
        # export finds all of them (v3 via consolidated metadata, v2 by listing)
        out = joinpath(d, "out")
        r = export_tree(root, out; log=devnull)
        @test isempty(r.failed) && sort([e["path"] for e in r.exported]) == ["g/x", "plain/dir/y"]
        @test read_npy(joinpath(out, "g", "x.npy"))[1] == reshape(collect(1:6), 3, 2)
        # inspect: v3 nodes carry their zarr.json
        ins = inspect_tree(root)["nodes"]
        gx = ins[findfirst(n -> n["path"] == "g/x", ins)]
        @test gx["zarr_format"] == 3 && gx["kind"] == "array" && gx["metadata"]["dimension_names"] == ["b", "a"]
        # julia_view
        v = julia_view(joinpath(root, "g", "x"); index=[3, 2])
        @test v["size"] == [3, 2] && v["dimnames"] == ["a", "b"] && v["order"] == "C" && v["zarr_format"] == 3
        @test v["chunk_key"] == "c/0/0"
        # bad keys in consolidated metadata are PathErrors
        bad = jdoc(st, "zarr.json")
        bad["consolidated_metadata"]["metadata"]["../evil"] = Dict("zarr_format" => 3, "node_type" => "group")
        writekey!(st, "zarr.json", PZ3.zarr_json_bytes(bad))
        @test raises(() -> PZ3.read_consolidated(st, ""), PathError, "../evil", "")
        # zarr-python's nested form of consolidated metadata is flattened
        nested = Dict("zarr_format" => 3, "node_type" => "group", "attributes" => Dict(), "consolidated_metadata" => Dict(
            "kind" => "inline", "must_understand" => false, "metadata" => Dict(
                "g" => Dict("zarr_format" => 3, "node_type" => "group", "attributes" => Dict(), "consolidated_metadata" => Dict(
                    "kind" => "inline", "must_understand" => false, "metadata" => Dict("h" => Dict("zarr_format" => 3, "node_type" => "group")))))))
        @test sort(collect(keys(PZ3.parse_consolidated_v3(nested)))) == ["g", "g/h"]
    end
    @testset "import_npy, the CLI and the worker" begin
        d = tmpdir()
        A = reshape(collect(Int32, 1:60), 5, 4, 3)           # numpy shape (3, 4, 5), C order
        npy = joinpath(d, "a.npy")
        write_npy(npy, A, "<i4")
        # defaults: bytes little + zstd, keys c/…
        r = import_npy(npy, joinpath(d, "o.zarr", "g", "a"); zarr_format=3, chunks=[2, 2, 2], dimension_names=["z", "y", "x"])
        @test r["shape"] == [3, 4, 5] && r["dtype"] == "<i4"
        a = open_array(joinpath(d, "o.zarr", "g", "a"))
        @test read_numpy_order(a) == A && dimnames(a) == ["x", "y", "z"] && readkey(a.store, "g/a/c/1/1/2") !== nothing
        @test jdoc(a.store, "g/zarr.json")["node_type"] == "group" && jdoc(a.store, "zarr.json")["zarr_format"] == 3
        # codecs given exactly: big endian stored although the file is little-endian
        import_npy(npy, "memory://v3imp/b"; zarr_format=3, codecs=Any[
            Dict("name" => "transpose", "configuration" => Dict("order" => [2, 0, 1])),
            Dict("name" => "bytes", "configuration" => Dict("endian" => "big")), Dict("name" => "crc32c")])
        b = open_array("memory://v3imp/b")
        @test read_numpy_order(b) == A && b.pipeline.dtype.typestr == ">i4"
        # the short spec on the command line, shards, transpose, v2 keys, fill value, attrs
        @test PZ3.parse_v3_codec_specs("transpose:order=1,2,0;bytes:endian=big;gzip:level=5") == Any[
            Dict("name" => "transpose", "configuration" => Dict("order" => [1, 2, 0])),
            Dict("name" => "bytes", "configuration" => Dict("endian" => "big")),
            Dict("name" => "gzip", "configuration" => Dict("level" => 5))]
        @test PZ3.parse_v3_codec_specs("bytes;crc32c") == Any[Dict("name" => "bytes"), Dict("name" => "crc32c")]
        @test PZ3.parse_v3_codec_specs("[{\"name\": \"bytes\"}]") == Any[Dict("name" => "bytes")]
        dest = joinpath(d, "cli.zarr", "c")
        out = IOBuffer()
        rc = PZ3.cli_main(["import", npy, dest, "--zarr-format", "3", "--chunks", "1,2,5", "--shards", "2,4,5",
                           "--transpose", "1,2,0", "--chunk-key-encoding", "v2", "--dimension-separator", "/",
                           "--fill-value", "7", "--attrs", "{\"a\": 1}", "--dimension-names", "t,y,x"]; out=out, err=out)
        @test rc == 0
        c = open_array(dest)
        @test read_numpy_order(c) == A && attributes(c) == Dict("a" => 1) && c.meta.fill_value == 7
        @test readkey(c.store, "c/1/0/0") !== nothing                          # v2 keys with "/"
        sh = c.pipeline.serializer
        @test sh isa PZ3.ShardingCodec && sh.chunk_shape == [1, 2, 5] && sh.inner.transposes[1].order == [1, 2, 0]
        rc = PZ3.cli_main(["import", npy, joinpath(d, "cli.zarr", "d"), "--zarr-format", "3",
                           "--codecs", "transpose:order=2,1,0;bytes:endian=big;blosc:cname=lz4,clevel=5,shuffle=shuffle"]; out=out, err=out)
        @test rc == 0 && read_numpy_order(open_array(joinpath(d, "cli.zarr", "d"))) == A
        # inspect prints v3 arrays
        io = IOBuffer()
        @test PZ3.cli_main(["inspect", joinpath(d, "cli.zarr")]; out=io, err=io) == 0
        txt = String(take!(io))
        @test occursin("c  array (v3)  shape=(3, 4, 5) chunks=(2, 4, 5) data_type=\"int32\" fill=7", txt)
        @test occursin("codecs=sharding_indexed(chunk_shape=[1, 2, 5],index=end,codecs=transpose(order=[1, 2, 0])+bytes(endian=little)+zstd(checksum=False,level=0)) keys=v2/ dims=[\"t\", \"y\", \"x\"]", txt)
        # a usage error for a bad option value
        @test PZ3.cli_main(["import", npy, dest, "--chunk-key-encoding", "x"]; out=io, err=io) == 2
        # big-endian .npy: endian big by default; order F is a transpose with the full reversal
        npyb = joinpath(d, "b.npy")
        write_npy(npyb, A, ">i4")
        import_npy(npyb, "memory://v3imp/be"; zarr_format=3, order="F")
        be = open_array("memory://v3imp/be")
        @test read_numpy_order(be) == A && be.pipeline.dtype.typestr == ">i4" && be.pipeline.transposes[1].order == [2, 1, 0]
        # the worker: the same arguments as JSON
        req = PZ3.json_string(Dict("id" => 1, "op" => "import", "args" => Dict("npy" => npy, "dest" => joinpath(d, "w.zarr", "a"),
            "zarr_format" => 3, "chunks" => [3, 2, 5], "shards" => [3, 4, 5], "transpose" => [0, 2, 1],
            "dimension_names" => ["a", "b", "c"], "chunk_key_encoding" => "default",
            "codecs" => nothing, "fill_value" => -1, "attrs" => Dict("w" => true))); indent=nothing)
        reply, _ = PZ3.handle_request(req)
        @test reply["ok"] == true && reply["result"]["shape"] == [3, 4, 5]
        w = open_array(joinpath(d, "w.zarr", "a"))
        @test read_numpy_order(w) == A && dimnames(w) == ["c", "b", "a"] && w.meta.fill_value == -1
        req = PZ3.json_string(Dict("id" => 2, "op" => "import", "args" => Dict("npy" => npy, "dest" => joinpath(d, "w.zarr", "b"),
            "zarr_format" => 3, "codecs" => "bytes:endian=big;crc32c")); indent=nothing)
        reply, _ = PZ3.handle_request(req)
        @test reply["ok"] == true && read_numpy_order(open_array(joinpath(d, "w.zarr", "b"))) == A
        # a bad codec through the worker: the error category and key
        req = PZ3.json_string(Dict("id" => 3, "op" => "import", "args" => Dict("npy" => npy, "dest" => "memory://v3imp/bad",
            "zarr_format" => 3, "codecs" => [Dict("name" => "nope")])); indent=nothing)
        reply, _ = PZ3.handle_request(req)
        @test reply["ok"] == false && reply["error"]["category"] == "CodecError" && occursin("bad/zarr.json:codecs[0]", reply["error"]["message"])
        # julia_view and export through the worker ops
        v, _ = PZ3.handle_request(PZ3.json_string(Dict("id" => 4, "op" => "julia_view", "args" => Dict("src" => joinpath(d, "w.zarr", "a"))); indent=nothing))
        @test v["result"]["size"] == [5, 4, 3] && v["result"]["dimnames"] == ["c", "b", "a"]
        e, _ = PZ3.handle_request(PZ3.json_string(Dict("id" => 5, "op" => "export", "args" => Dict("src" => joinpath(d, "w.zarr"), "outdir" => joinpath(d, "wout"))); indent=nothing))
        @test e["ok"] && length(e["result"]["exported"]) == 2 && isempty(e["result"]["failed"])
        @test read_npy(joinpath(d, "wout", "a.npy"))[1] == A
        # the Julia conventions
        m = MemoryStore()
        f = write_array(m, "f", A; convention=:F, zarr_format=3, chunks=(2, 2, 2))
        @test zshape(f) == [5, 4, 3] && read_numpy_order(open_array(m, "f")) == permutedims(A, (3, 2, 1))
    end
end
