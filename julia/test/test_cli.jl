# Command line and worker (julia/src/cli.jl, worker.jl, julia/bin/*.jl).  Run alone: julia julia/test/test_cli.jl
# Parsing and the worker loop are tested with stand-in ops, then the real ops in-process, then the
# bin scripts as processes; with ENV["POLYZARR_PYTHON"] set, numpy checks the exported .npy files.
using Test, Logging

if !isdefined(@__MODULE__, :PolyZarr)
    include(joinpath(@__DIR__, "..", "src", "PolyZarr.jl"))
end

# a module of its own, so helper names cannot clash with other test files
module TestCLIFile
using Test, Logging
const PC = parentmodule(@__MODULE__).PolyZarr
const JULIA_EXE = joinpath(Sys.BINDIR, Base.julia_exename())

usage_error(f) = try f(); nothing; catch e; e isa PC.UsageError ? e : rethrow(); end

@testset "cli" begin
    @testset "codec specs" begin
        @test PC.parse_codec_spec("zlib") == Dict("id" => "zlib")
        @test PC.parse_codec_spec("zlib:level=1") == Dict("id" => "zlib", "level" => 1)
        @test PC.parse_codec_spec("blosc:cname=lz4,clevel=5,shuffle=1") ==
              Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1)
        @test PC.parse_codec_spec("delta:dtype=<i8") == Dict("id" => "delta", "dtype" => "<i8")
        @test PC.parse_codec_spec(" zstd : level = 3 , checksum=true ") ==
              Dict("id" => "zstd", "level" => 3, "checksum" => true)
        @test PC.parse_codec_spec("fixedscaleoffset:offset=1.5,scale=[1, 2],astype=<f4,x=\"5\",y=null") ==
              Dict("id" => "fixedscaleoffset", "offset" => 1.5, "scale" => Any[1, 2], "astype" => "<f4",
                   "x" => "5", "y" => nothing)
        @test PC.parse_codec_spec("a:b={\"c\": [1, 2], \"d\": 3}") == Dict("id" => "a", "b" => Dict("c" => Any[1, 2], "d" => 3))
        @test PC.parse_codec_spec("{\"id\": \"zlib\", \"level\": 9}") == Dict("id" => "zlib", "level" => 9)
        @test PC.parse_codec_spec("lz4:acceleration=-1") == Dict("id" => "lz4", "acceleration" => -1)
        @test PC.parse_codec_spec("x:s=a=b") == Dict("id" => "x", "s" => "a=b")
        for bad in ["", "zlib:level", "zlib:=1", "{\"level\": 1}", "{bad json", "a b:c=1", "zlib:level=1,,"]
            @test usage_error(() -> PC.parse_codec_spec(bad)) isa PC.UsageError
        end
        @test PC.parse_compressor_spec("none") === nothing
        @test PC.parse_compressor_spec("None") === nothing
        @test PC.parse_compressor_spec("null") === nothing
        @test PC.parse_filter_specs(["delta:dtype=<i8;fixedscaleoffset:offset=0,scale=2,dtype=<f8", "shuffle"]) ==
              [Dict("id" => "delta", "dtype" => "<i8"),
               Dict("id" => "fixedscaleoffset", "offset" => 0, "scale" => 2, "dtype" => "<f8"),
               Dict("id" => "shuffle")]
        @test PC.parse_filter_specs(["[{\"id\": \"delta\", \"dtype\": \"<i4\"}]", "none"]) == [Dict("id" => "delta", "dtype" => "<i4")]
        @test PC.parse_filter_specs(["none"]) === nothing
        @test PC.parse_cli(["import", "a.npy", "d", "--filters", "none"]).opts["filters"] === nothing
        @test usage_error(() -> PC.parse_filter_specs(["[1]"])) isa PC.UsageError
        @test PC.parse_chunks("3,2,2") == [3, 2, 2]
        @test PC.parse_chunks("[4]") == [4]
        for bad in ["", "3,x", "0,1", "-1", "[1.5]", "[\"a\"]"]
            @test usage_error(() -> PC.parse_chunks(bad)) isa PC.UsageError
        end
        @test PC.split_toplevel("a,[b,c],{\"d\":\"e,f\"},\"g,h\"", ',') == ["a", "[b,c]", "{\"d\":\"e,f\"}", "\"g,h\""]
        @test PC.python_shape([3, 2]) == "(3, 2)"
        @test PC.python_shape(Any[5]) == "(5,)"
        @test PC.python_shape(Int[]) == "()"
    end

    @testset "argv" begin
        c = PC.parse_cli(["export", "in.zarr", "out"])
        @test (c.verb, c.args, c.opts) == ("export", ["in.zarr", "out"], Dict{String,Any}())
        c = PC.parse_cli(["--impl", "julia", "--endpoint-url", "http://h:1", "export", "s3://b/p", "out"])
        @test c.opts == Dict("endpoint_url" => "http://h:1")
        c = PC.parse_cli(["export", "s3://b/p", "out", "--impl=python", "--endpoint-url=http://h:1"])
        @test c.opts == Dict("endpoint_url" => "http://h:1")
        c = PC.parse_cli(["inspect", "x.zarr", "--json"])
        @test c.opts == Dict("json" => true)
        c = PC.parse_cli(["import", "a.npy", "out.zarr/a", "--chunks", "3,2", "--order", "F", "--compressor",
                          "zlib:level=1", "--filters", "delta:dtype=<i8", "--filters=shuffle;bitround:keepbits=3",
                          "--fill-value", "NaN", "--dimension-separator", "/", "--object-codec", "vlen-utf8",
                          "--attrs", "{\"a\": [1]}", "--overwrite", "--zarr-format", "2", "--convention", "reverse"])
        @test c.verb == "import" && c.args == ["a.npy", "out.zarr/a"]
        o = c.opts
        @test o["chunks"] == [3, 2] && o["order"] == "F" && o["compressor"] == Dict("id" => "zlib", "level" => 1)
        @test o["filters"] == [Dict("id" => "delta", "dtype" => "<i8"), Dict("id" => "shuffle"),
                               Dict("id" => "bitround", "keepbits" => 3)]
        @test isnan(o["fill_value"]) && o["dimension_separator"] == "/" && o["object_codec"] == "vlen-utf8"
        @test o["attrs"] == Dict("a" => Any[1]) && o["overwrite"] === true && o["zarr_format"] == 2
        @test o["convention"] == "reverse"
        @test PC.parse_cli(["import", "a.npy", "d", "--compressor", "none"]).opts["compressor"] === nothing
        @test PC.parse_cli(["import", "a.npy", "d", "--fill-value", "\"AAAA\""]).opts["fill_value"] == "AAAA"
        @test PC.parse_cli(["import", "a.npy", "d", "--fill-value", "[1.0, 2.0]"]).opts["fill_value"] == Any[1.0, 2.0]
        @test PC.parse_cli(["import", "a.npy", "d", "--fill-value", "-1"]).opts["fill_value"] == -1
        @test PC.parse_cli(["export", "--", "-odd", "out"]).args == ["-odd", "out"]
        @test PC.parse_cli(["--help"]).verb == "help"
        @test PC.parse_cli(["export", "-h"]).verb == "help"
        @test PC.parse_cli(["--version"]).verb == "version"
        for bad in [String[], ["frobnicate", "x"], ["export", "x"], ["export", "x", "y", "z"], ["inspect"],
                    ["export", "x", "y", "--json"], ["export", "x", "y", "--chunks", "2"], ["import", "a", "b", "--order", "K"],
                    ["import", "a", "b", "--chunks"], ["import", "a", "b", "--bogus"], ["export", "x", "y", "--impl", "rust"],
                    ["import", "a", "b", "--attrs", "[1]"], ["import", "a", "b", "--fill-value", "AAAA"],
                    ["import", "a", "b", "--zarr-format", "4"], ["import", "a", "b", "--dimension-separator", "-"],
                    ["import", "a", "b", "--overwrite=yes"], ["import", "a", "b", "--convention", "C"]]
            @test usage_error(() -> PC.parse_cli(bad)) isa PC.UsageError
        end
    end

    @testset "cli_main exit codes" begin
        out, err = IOBuffer(), IOBuffer()
        @test PC.cli_main(["export", "onlyone"]; out=out, err=err) == 2
        e = String(take!(err))
        @test occursin("usage: polyzarr", e) && occursin("export takes 2 argument(s), got 1", e)
        @test PC.cli_main(["--help"]; out=out, err=err) == 0
        @test occursin("usage: polyzarr", String(take!(out)))
        @test PC.cli_main(["--version"]; out=out, err=err) == 0
        @test String(take!(out)) == "polyzarr 0.1.0 (Julia $VERSION)\n"
        # errors print "Category: key: message"
        io = IOBuffer()
        PC.print_cli_error(io, PC.MetadataError("a/.zarray", "invalid JSON at byte 0: x"), nothing)
        @test String(take!(io)) == "MetadataError: a/.zarray: invalid JSON at byte 0: x\n"
        PC.print_cli_error(io, ArgumentError("boom"), nothing)
        @test String(take!(io)) == "InternalError: ArgumentError: boom\n"
        io = IOBuffer()
        PC.print_inspect(io, Dict("nodes" => [
            Dict("path" => "", "kind" => "group", "zarr_format" => 2, "metadata" => Dict("zarr_format" => 2), "attributes" => Dict()),
            Dict("path" => "a", "kind" => "array", "zarr_format" => 2,
                 "metadata" => Dict("shape" => [3, 2], "chunks" => [3, 2], "dtype" => "<i4", "order" => "C",
                                    "fill_value" => 0, "filters" => nothing, "compressor" => Dict("id" => "zlib", "level" => 1),
                                    "dimension_separator" => "."),
                 "attributes" => Dict("units" => "m"))]))
        @test String(take!(io)) == """
/  group
a  array  shape=(3, 2) chunks=(3, 2) dtype="<i4" order=C fill=0 compressor=zlib(level=1) filters=- sep=.
    attrs: {"units": "m"}
"""
        PC.print_inspect(io, Dict("nodes" => [
            Dict("path" => "s", "kind" => "array", "zarr_format" => 2,
                 "metadata" => Dict("shape" => [5], "chunks" => [2], "dtype" => Any[Any["a", "<i4"], Any["b", ">f8", [2]]],
                                    "order" => "F", "fill_value" => NaN, "dimension_separator" => "/",
                                    "filters" => [Dict("id" => "delta", "dtype" => "<i8"), Dict("id" => "shuffle")],
                                    "compressor" => Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1, "x" => true)),
                 "attributes" => Dict("b" => Any[1, 2.5], "a" => nothing)),
            Dict("path" => "bad", "kind" => "array", "error" => Dict("category" => "MetadataError", "message" => "bad/.zarray: x"))]))
        @test String(take!(io)) == """
s  array  shape=(5,) chunks=(2,) dtype=[["a", "<i4"], ["b", ">f8", [2]]] order=F fill=NaN compressor=blosc(clevel=5,cname=lz4,shuffle=1,x=True) filters=delta(dtype=<i8)+shuffle sep=/
    attrs: {"a": null, "b": [1, 2.5]}
bad  array  ERROR MetadataError: bad/.zarray: x
"""
        @test PC.python_repr(Any["a'b", 1.5, nothing, true, Dict("k" => -Inf)]) == "['a\\'b', 1.5, None, True, {'k': -inf}]"
    end
end

# stand-in ops for the worker loop
const TEST_OPS = Dict{String,Function}(
    "ping" => PC.worker_ping,
    "shutdown" => PC.worker_shutdown,
    "echo" => args -> Dict{String,Any}("args" => args),
    "meta" => args -> throw(PC.MetadataError("a/.zarray", "missing field shape")),
    "nokey" => args -> throw(PC.StoreError("", "read-only store")),
    "crash" => args -> throw(ArgumentError("something broke")),
    "unwritable" => args -> Dict("x" => 1 + 2im),
    "need" => args -> PC.required_arg(args, "src"),
)

function run_worker(input::String; ops=TEST_OPS)
    out = IOBuffer()
    rc = PC.worker_main(IOBuffer(input), out; ops=ops)
    return rc, [PC.parse_json(l) for l in split(String(take!(out)), '\n') if !isempty(l)]
end

@testset "worker" begin
    @testset "requests" begin
        r, stop = PC.handle_request("{\"id\": 1, \"op\": \"ping\", \"args\": {}}", TEST_OPS)
        @test r == Dict("id" => 1, "ok" => true, "result" => Dict("pong" => true, "julia" => string(VERSION), "pid" => getpid(), "threads" => Threads.nthreads())) && !stop
        r, _ = PC.handle_request("{\"id\": \"s\", \"op\": \"echo\", \"args\": {\"a\": [1, 2.5, null]}}", TEST_OPS)
        @test r["id"] == "s" && r["result"] == Dict("args" => Dict("a" => Any[1, 2.5, nothing]))
        r, _ = PC.handle_request("{\"id\": 2, \"op\": \"echo\"}", TEST_OPS)               # args optional
        @test r["ok"] && r["result"] == Dict("args" => Dict())
        r, _ = PC.handle_request("this is not json", TEST_OPS)
        @test r["id"] === nothing && !r["ok"] && r["error"]["category"] == "ProtocolError"
        @test occursin("invalid JSON at byte 0", r["error"]["message"])
        r, _ = PC.handle_request("[1, 2]", TEST_OPS)
        @test r["id"] === nothing && r["error"]["category"] == "ProtocolError"
        r, _ = PC.handle_request("{\"id\": 3}", TEST_OPS)
        @test r["id"] == 3 && r["error"] == Dict("category" => "ProtocolError", "message" => "missing \"op\"")
        r, _ = PC.handle_request("{\"id\": 4, \"op\": \"fly\"}", TEST_OPS)
        @test r["error"] == Dict("category" => "ProtocolError", "message" => "unknown op \"fly\"")
        r, _ = PC.handle_request("{\"id\": 5, \"op\": \"echo\", \"args\": [1]}", TEST_OPS)
        @test r["error"]["category"] == "ProtocolError"
        r, _ = PC.handle_request("{\"id\": {\"x\": 1}, \"op\": \"ping\"}", TEST_OPS)
        @test r["id"] === nothing && r["error"]["category"] == "ProtocolError"
        r, _ = PC.handle_request("{\"id\": 6, \"op\": \"meta\"}", TEST_OPS)
        @test r["id"] == 6 && r["ok"] == false
        @test r["error"]["category"] == "MetadataError" && r["error"]["message"] == "a/.zarray: missing field shape"
        @test r["error"]["key"] == "a/.zarray"
        r, _ = PC.handle_request("{\"id\": 7, \"op\": \"nokey\"}", TEST_OPS)
        @test r["error"]["category"] == "StoreError" && r["error"]["message"] == "read-only store"
        r, _ = with_logger(NullLogger()) do
            PC.handle_request("{\"id\": 8, \"op\": \"crash\"}", TEST_OPS)
        end
        @test r["error"] == Dict("category" => "InternalError", "message" => "ArgumentError: something broke")
        r, _ = with_logger(NullLogger()) do
            PC.handle_request("{\"id\": 9, \"op\": \"unwritable\"}", TEST_OPS)
        end
        @test r["error"]["category"] == "InternalError"
        r, _ = PC.handle_request("{\"id\": 10, \"op\": \"need\", \"args\": {}}", TEST_OPS)
        @test r["error"] == Dict("category" => "ProtocolError", "message" => "missing argument \"src\"")
        r, _ = PC.handle_request("{\"id\": 11, \"op\": \"need\", \"args\": {\"src\": 5}}", TEST_OPS)
        @test r["error"]["category"] == "ProtocolError"
        r, stop = PC.handle_request("{\"id\": 12, \"op\": \"shutdown\", \"args\": {}}", TEST_OPS)
        @test r["result"] == Dict("bye" => true) && stop
        # unknown import arguments are refused before the core is called
        r, _ = PC.handle_request("{\"id\": 13, \"op\": \"import\", \"args\": {\"npy\": \"a\", \"dest\": \"b\", \"chunkz\": [1]}}")
        @test r["error"] == Dict("category" => "ProtocolError", "message" => "import: unknown argument \"chunkz\"")
    end

    @testset "loop" begin
        rc, replies = run_worker("""
{"id": 1, "op": "ping"}

{broken
{"id": 2, "op": "meta"}
{"id": 3, "op": "echo", "args": {"s": "é😀\\n"}}
{"id": 4, "op": "shutdown"}
{"id": 5, "op": "ping"}
""")
        @test rc == 0
        @test replies[1]["ready"] === true && replies[1]["version"] == string(VERSION) && replies[1]["pid"] == getpid()
        @test [r["id"] for r in replies[2:end]] == [1, nothing, 2, 3, 4]        # nothing after shutdown
        @test [r["ok"] for r in replies[2:end]] == [true, false, false, true, true]
        @test replies[5]["result"]["args"]["s"] == "é😀\n"
        rc, replies = run_worker("{\"id\": 1, \"op\": \"ping\"}")                  # EOF without newline or shutdown
        @test rc == 0 && length(replies) == 2 && replies[2]["ok"]
        rc, replies = run_worker("")
        @test rc == 0 && length(replies) == 1
        # every reply is one compact line
        out = IOBuffer()
        PC.worker_main(IOBuffer("{\"id\": 1, \"op\": \"echo\", \"args\": {\"a\": {\"b\": [1, 2]}}}\n"), out; ops=TEST_OPS)
        lines = split(String(take!(out)), '\n')
        @test lines[2] == "{\"id\":1,\"ok\":true,\"result\":{\"args\":{\"a\":{\"b\":[1,2]}}}}" && lines[3] == ""
    end
end

@testset "end to end" begin
    begin
        bin = joinpath(@__DIR__, "..", "bin")
        # the worker process: ready line, answers, protocol errors, clean shutdown
        cmd = `$JULIA_EXE --startup-file=no $(joinpath(bin, "worker.jl"))`
        input = """
{"id": 1, "op": "ping", "args": {}}
not json
{"id": 2, "op": "inspect", "args": {"src": "/nonexistent/nowhere.zarr"}}
{"id": 3, "op": "julia_view", "args": {}}
{"id": 4, "op": "shutdown", "args": {}}
"""
        errbuf = IOBuffer()
        out = read(pipeline(cmd; stdin=IOBuffer(input), stderr=errbuf), String)
        replies = [PC.parse_json(l) for l in split(out, '\n') if !isempty(l)]
        @test length(replies) == 6
        @test replies[1]["ready"] === true
        @test replies[2]["result"]["pong"] === true
        @test replies[3]["id"] === nothing && replies[3]["error"]["category"] == "ProtocolError"
        @test replies[4]["id"] == 2 && replies[4]["ok"] === false
        @test replies[5]["error"]["category"] == "ProtocolError"
        @test replies[6]["result"] == Dict("bye" => true)

        # the real ops in-process, through the worker's request handling (no Python needed)
        mktempdir() do dir
            A = reshape(collect(1.0:12.0), 3, 4)                  # numpy shape (4, 3)
            npy = joinpath(dir, "a.npy")
            PC.write_npy(npy, A, "<f8")
            dest = joinpath(dir, "w.zarr", "x", "y")
            req(op, args) = PC.handle_request(PC.json_string(Dict("id" => 1, "op" => op, "args" => args); indent=nothing))[1]
            r = req("import", Dict("npy" => npy, "dest" => dest, "chunks" => [2, 3], "compressor" => nothing,
                                   "filters" => nothing, "fill_value" => nothing, "attrs" => Dict("u" => "m")))
            @test r["ok"] === true
            r["ok"] === true || println(r)
            @test r["result"]["shape"] == [4, 3] && r["result"]["dtype"] == "<f8"
            r = req("inspect", Dict("src" => joinpath(dir, "w.zarr")))
            @test r["ok"] === true
            if r["ok"] === true
                arr = [n for n in r["result"]["nodes"] if n["kind"] == "array"][1]
                @test arr["path"] == "x/y" && arr["metadata"]["compressor"] === nothing
                @test arr["metadata"]["chunks"] == [2, 3] && arr["attributes"] == Dict("u" => "m")
            end
            r = req("julia_view", Dict("src" => dest))
            @test r["ok"] === true && r["result"]["size"] == [3, 4] && r["result"]["eltype"] == "Float64"
            r = req("export", Dict("src" => joinpath(dir, "w.zarr"), "outdir" => joinpath(dir, "exp")))
            @test r["ok"] === true && length(r["result"]["exported"]) == 1 && isempty(r["result"]["failed"])
            @test PC.read_npy(joinpath(dir, "exp", "x", "y.npy"))[1] == A
            r = req("import", Dict("npy" => npy, "dest" => dest))   # exists, no overwrite
            @test r["ok"] === false && r["error"]["category"] != "InternalError"
            r = req("inspect", Dict("src" => joinpath(dir, "nothing.zarr")))
            @test r["ok"] === false && r["error"]["category"] in ("MetadataError", "StoreError")
            write(joinpath(dir, "w.zarr", "x", "y", ".zarray"), "{broken")
            r = req("export", Dict("src" => joinpath(dir, "w.zarr"), "outdir" => joinpath(dir, "exp2")))
            @test r["ok"] === true ? length(r["result"]["failed"]) == 1 : r["error"]["category"] == "MetadataError"
            o, e = IOBuffer(), IOBuffer()
            @test PC.cli_main(["export", joinpath(dir, "w.zarr"), joinpath(dir, "exp3")]; out=o, err=e) == 1
            msg = String(take!(o)) * String(take!(e))
            @test occursin("MetadataError", msg) && occursin("x/y/.zarray", msg)
        end

        # the CLI: usage errors exit 2
        p = run(pipeline(ignorestatus(`$JULIA_EXE --startup-file=no $(joinpath(bin, "polyzarr.jl")) export onlyone`);
                         stdout=devnull, stderr=devnull))
        @test p.exitcode == 2
        # the CLI round trip: import (order F, filters, attrs), inspect, export; numpy checks the
        # exported file when POLYZARR_PYTHON is set
        mktempdir() do dir
            A = reshape(Int32.(0:23), 6, 4)                       # numpy: arange(24).reshape(4, 6)
            npy = joinpath(dir, "a.npy")
            PC.write_npy(npy, A, "<i4")
            cli(args...) = begin
                o, e = IOBuffer(), IOBuffer()
                rc = PC.cli_main(String[args...]; out=o, err=e)
                (rc, String(take!(o)), String(take!(e)))
            end
            dest = joinpath(dir, "out.zarr", "g", "a")
            rc, o, e = cli("import", npy, dest, "--chunks", "3,4", "--order", "F", "--compressor", "zlib:level=1",
                           "--filters", "delta:dtype=<i4", "--attrs", "{\"units\": \"m\"}", "--impl", "julia")
            @test rc == 0 && o == "imported $npy → $dest (4, 6) <i4\n"
            rc == 0 || println(o, e)
            rc, o, e = cli("import", npy, dest)
            @test rc == 1 && occursin(r"^[A-Za-z]+Error: ", e)          # exists, no --overwrite
            rc, o, e = cli("inspect", joinpath(dir, "out.zarr"), "--json")
            @test rc == 0
            if rc == 0
                d = PC.parse_json(o)
                @test o == PC.json_string(d; indent=2) * "\n"
                arr = [n for n in d["nodes"] if n["kind"] == "array"]
                @test length(arr) == 1 && arr[1]["metadata"]["shape"] == [4, 6] && arr[1]["metadata"]["order"] == "F"
                @test arr[1]["metadata"]["compressor"] == Dict("id" => "zlib", "level" => 1)
                # the full numcodecs configuration is stored (astype defaults to dtype)
                @test arr[1]["metadata"]["filters"] == [Dict("id" => "delta", "dtype" => "<i4", "astype" => "<i4")]
                @test arr[1]["attributes"] == Dict("units" => "m")
            else
                println(o, e)
            end
            rc, o, e = cli("inspect", joinpath(dir, "out.zarr"))
            @test rc == 0 && o == """
/  group
g  group
g/a  array  shape=(4, 6) chunks=(3, 4) dtype="<i4" order=F fill=0 compressor=zlib(level=1) filters=delta(astype=<i4,dtype=<i4) sep=.
    attrs: {"units": "m"}
"""
            rc, o, e = cli("export", joinpath(dir, "out.zarr"), joinpath(dir, "exp"))
            @test rc == 0 && o == "exported g/a (4, 6) <i4\n"
            file = joinpath(dir, "exp", "g", "a.npy")
            @test PC.read_npy(file)[1] == A
            py = get(ENV, "POLYZARR_PYTHON", "")
            if isempty(py)
                println("test_cli: skipping the numpy check of the exported file: POLYZARR_PYTHON is not set")
            else
                @test success(`$py -c "import numpy as np, sys; a = np.load(sys.argv[1]); sys.exit(0 if a.dtype.str == '<i4' and (a == np.arange(24, dtype='<i4').reshape(4, 6)).all() else 1)" $file`)
            end
            rc, o, e = cli("inspect", joinpath(dir, "missing.zarr"))
            @test rc == 1 && occursin(r"^[A-Za-z]+Error: ", e)
        end
    end
end

end # module
