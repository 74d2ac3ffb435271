# JSON reader/writer (julia/src/json.jl).  Run alone: julia julia/test/test_json.jl
# With ENV["POLYZARR_PYTHON"] set, random documents are also compared with Python's json module.
using Test

if !isdefined(@__MODULE__, :PolyZarr)
    include(joinpath(@__DIR__, "..", "src", "PolyZarr.jl"))
end

# a module of its own, so helper names cannot clash with other test files
module TestJSONFile
using Test
const PJ = parentmodule(@__MODULE__).PolyZarr

@testset "json" begin
    @testset "parse values" begin
        @test PJ.parse_json("1") === Int64(1)
        @test PJ.parse_json("-0") === Int64(0)
        @test PJ.parse_json("1.5") === 1.5
        @test PJ.parse_json("-2.5e-3") === -0.0025
        @test PJ.parse_json("1E2") === 100.0
        @test PJ.parse_json("9223372036854775807") === typemax(Int64)
        @test PJ.parse_json("-9223372036854775808") === typemin(Int64)
        @test PJ.parse_json("9223372036854775808") === Int128(2)^63
        @test PJ.parse_json("18446744073709551615") === Int128(typemax(UInt64))
        @test PJ.parse_json("1" * "0"^40) == big(10)^40
        @test PJ.parse_json("1e400") === Inf
        @test PJ.parse_json("-1e400") === -Inf
        @test PJ.parse_json("1e-400") === 0.0
        @test PJ.parse_json("NaN") === NaN
        @test PJ.parse_json("Infinity") === Inf
        @test PJ.parse_json("-Infinity") === -Inf
        @test PJ.parse_json("true") === true
        @test PJ.parse_json("false") === false
        @test PJ.parse_json("null") === nothing
        @test PJ.parse_json(" \t\r\n\"x\" \n") == "x"
        @test PJ.parse_json(Vector{UInt8}("[1, 2]")) == Any[1, 2]
        @test PJ.parse_json(b"{\"a\": 1}") == Dict("a" => 1)
    end

    @testset "strings" begin
        @test PJ.parse_json("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"") == "a\"b\\c/d\b\f\n\r\t"
        @test PJ.parse_json("\"\\u00e9\\u20AC\"") == "é€"
        @test PJ.parse_json("\"\\ud83d\\ude00\"") == "😀"
        @test PJ.parse_json("\"é😀\"") == "é😀"
        # a lone surrogate is no character (issue 15: MetadataError, as on the Python side)
        for (doc, msg) in (("\"\\ud800x\"", "lone surrogate"), ("\"\\udc00\\ud800\"", "lone surrogate"),
                           ("[" * "9"^4301 * "]", "4301 digits"))
            e = try PJ.parse_json(doc; key="k"); nothing catch err; err end
            @test e isa PJ.MetadataError && e.key == "k" && occursin(msg, e.msg)
        end
        @test PJ.parse_json("9"^4300) == parse(BigInt, "9"^4300)
    end

    @testset "containers" begin
        d = PJ.parse_json("""{"zarr_format": 2, "shape": [10, 20], "dtype": "<f8", "fill_value": NaN,
                              "compressor": {"id": "zstd", "level": 0}, "filters": null, "a": {}, "b": []}""")
        @test d isa Dict{String,Any}
        @test d["shape"] == Any[10, 20] && d["shape"] isa Vector{Any}
        @test isnan(d["fill_value"])
        @test d["compressor"] == Dict("id" => "zstd", "level" => 0)
        @test d["filters"] === nothing
        @test d["a"] == Dict{String,Any}() && d["b"] == Any[]
        @test PJ.parse_json("{\"a\": 1, \"a\": 2}") == Dict("a" => 2)       # last one wins
        deep = "[" ^ 500 * "]" ^ 500
        @test PJ.parse_json(deep) isa Vector{Any}
    end

    @testset "errors" begin
        bad = ["", " ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "{'a':1}", "01", "1.",
               ".5", "+1", "1e", "-", "tru", "nul", "nan", "inf", "[1] x", "{} {}", "\"abc", "\"\\x\"",
               "\"\\u12\"", "\"a\nb\"", "\"\t\"", "[" ^ 600 * "]" ^ 600, "{\"a\":" ^ 600,
               "\xff", "\"\xff\"", "\"\xc0\xaf\""]
        for s in bad
            err = try
                PJ.parse_json(s; key="g/.zarray")
                nothing
            catch e
                e
            end
            @test err isa PJ.MetadataError
            err isa PJ.MetadataError || println("no error for ", repr(s))
            err isa PJ.MetadataError && @test err.key == "g/.zarray" && startswith(err.msg, "invalid JSON at byte ")
        end
        e = try PJ.parse_json("[1, 2,, 3]"; key="k"); catch e; e; end
        @test e.msg == "invalid JSON at byte 6: expected a value, unexpected character ','"
        @test sprint(showerror, e) == "MetadataError: k: invalid JSON at byte 6: expected a value, unexpected character ','"
    end

    @testset "float repr like Python" begin
        table = [1e-5 => "1e-05", 1.5 => "1.5", 1e16 => "1e+16", 0.1 => "0.1", -0.0 => "-0.0", 0.0 => "0.0",
                 1e15 => "1000000000000000.0", 123456789012345.6 => "123456789012345.6",
                 9007199254740993.0 => "9007199254740992.0", 1e22 => "1e+22", 1.5e300 => "1.5e+300",
                 5e-324 => "5e-324", 1.7976931348623157e308 => "1.7976931348623157e+308", 0.0001 => "0.0001",
                 0.00012345 => "0.00012345", 1.2345e-5 => "1.2345e-05", 100.0 => "100.0", -2.5 => "-2.5",
                 1/3 => "0.3333333333333333", 2/3 => "0.6666666666666666", 1e100 => "1e+100",
                 123e-20 => "1.23e-18", NaN => "NaN", Inf => "Infinity", -Inf => "-Infinity"]
        for (x, s) in table
            @test PJ.python_float_repr(x) == s
        end
        @test PJ.json_string(Float32(0.1)) == "0.10000000149011612"     # as numpy float32 → float
        @test PJ.json_string(Float16(1.5)) == "1.5"
    end

    @testset "write like json.dumps(indent=4, sort_keys=True)" begin
        @test PJ.json_string(Dict{String,Any}()) == "{}"
        @test PJ.json_string(Any[]) == "[]"
        @test PJ.json_string(nothing) == "null"
        @test PJ.json_string(true) == "true"
        @test PJ.json_string(Int8(-3)) == "-3"
        @test PJ.json_string(Int128(2)^100) == "1267650600228229401496703205376"
        @test PJ.json_string(big(10)^30) == "1" * "0"^30
        @test PJ.json_string("é😀\u7f\x01\"\\/\n") == "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\\"\\\\/\\n\""
        @test PJ.json_string(:sym) == "\"sym\""
        @test PJ.json_string((1, 2)) == "[\n    1,\n    2\n]"
        d = Dict("zarr_format" => 2, "shape" => [10, 20], "chunks" => (5, 5), "dtype" => "<f8",
                 "fill_value" => NaN, "order" => "C", "filters" => nothing,
                 "compressor" => Dict("id" => "zstd", "level" => 0), "dimension_separator" => ".",
                 "e" => Dict(), "l" => Any[], "n" => (a = 1, b = [Dict()]))
        @test PJ.json_string(d) == """
{
    "chunks": [
        5,
        5
    ],
    "compressor": {
        "id": "zstd",
        "level": 0
    },
    "dimension_separator": ".",
    "dtype": "<f8",
    "e": {},
    "fill_value": NaN,
    "filters": null,
    "l": [],
    "n": {
        "a": 1,
        "b": [
            {}
        ]
    },
    "order": "C",
    "shape": [
        10,
        20
    ],
    "zarr_format": 2
}"""
        @test PJ.json_string(d; indent=nothing) ==
              "{\"chunks\":[5,5],\"compressor\":{\"id\":\"zstd\",\"level\":0},\"dimension_separator\":\".\"," *
              "\"dtype\":\"<f8\",\"e\":{},\"fill_value\":NaN,\"filters\":null,\"l\":[],\"n\":{\"a\":1,\"b\":[{}]}," *
              "\"order\":\"C\",\"shape\":[10,20],\"zarr_format\":2}"
        # keys sorted by code point, as Python does (uppercase before lowercase, ASCII before é before 😀)
        @test PJ.json_string(Dict("b" => 1, "a" => 2, "B" => 3, "é" => 4, "😀" => 5, "z" => 6); indent=nothing) ==
              "{\"B\":3,\"a\":2,\"b\":1,\"z\":6,\"\\u00e9\":4,\"\\ud83d\\ude00\":5}"
        io = IOBuffer()
        PJ.write_json(io, [1, "x"]; indent=2)
        @test String(take!(io)) == "[\n  1,\n  \"x\"\n]"
        @test PJ.json_string(Dict("a" => [1, 2], "b" => Dict()); indent=nothing, separators=(", ", ": ")) ==
              "{\"a\": [1, 2], \"b\": {}}"
        @test_throws ArgumentError PJ.json_string(1 + 2im)
        # round trip
        for s in ["{\"a\":[1,2.5,\"x\",null,true,{\"b\":{}}]}", "[NaN,-Infinity,1e-07]"]
            @test PJ.json_string(PJ.parse_json(s); indent=nothing) == s
        end
    end

    @testset "against Python's json module" begin
        py = get(ENV, "POLYZARR_PYTHON", "")
        if isempty(py)
            println("test_json: skipping the comparison with Python: POLYZARR_PYTHON is not set")
        else
            # Python makes random documents and writes each as compact JSON (the input) plus both
            # forms json.dumps gives; Julia must parse the input and write the same two texts.
            script = raw"""
import json, random, struct, sys
random.seed(int(sys.argv[1]))
def rfloat():
    k = random.random()
    if k < 0.3:
        return struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0]
    if k < 0.6:
        return random.uniform(-1, 1) * 10.0 ** random.randint(-30, 30)
    if k < 0.8:
        return float(random.randint(-10**6, 10**6)) / random.choice([1, 2, 4, 8, 10, 100, 3])
    return random.choice([0.0, -0.0, 0.1, 1e-05, 1e16, 1e15, 5e-324, float("inf"), float("-inf"), 1.7976931348623157e308])
def rstr():
    pool = "abcXYZ09 _-./\\\"'\n\t\x00\x1f\x7f\u00e9\u20ac\u4e2d\U0001f600\U00010000"
    return "".join(random.choice(pool) for _ in range(random.randint(0, 8)))
def rint():
    return random.choice([random.randint(-100, 100), random.randint(-2**63, 2**63 - 1), random.randint(-2**100, 2**100)])
def rvalue(depth):
    k = random.random()
    if depth > 4 or k < 0.5:
        return random.choice([rfloat, rstr, rint, lambda: None, lambda: True, lambda: False])()
    if k < 0.75:
        return [rvalue(depth + 1) for _ in range(random.randint(0, 5))]
    return {rstr(): rvalue(depth + 1) for _ in range(random.randint(0, 5))}
for _ in range(int(sys.argv[2])):
    v = json.loads(json.dumps(rvalue(0)))
    print(json.dumps(v))
    print(json.dumps(json.dumps(v, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": "))))
    print(json.dumps(json.dumps(v, sort_keys=True, ensure_ascii=True, separators=(",", ":"))))
    print(json.dumps(json.dumps(v, sort_keys=True)))
    print(json.dumps(json.dumps(v, indent=2, sort_keys=True)))
"""
            n = 2000
            lines = readlines(`$py -c $script 1234 $n`)
            @test length(lines) == 5n
            bad = 0
            for i in 1:n
                v = PJ.parse_json(lines[5i-4])
                pretty, compact, default, indent2 = [PJ.parse_json(lines[5i-k]) for k in 3:-1:0]
                ok = PJ.json_string(v) == pretty && PJ.json_string(v; indent=nothing) == compact &&
                     PJ.json_string(v; indent=nothing, separators=(", ", ": ")) == default &&
                     PJ.json_string(v; indent=2) == indent2
                ok || (bad += 1; bad <= 3 && println("mismatch for ", lines[5i-4]))
            end
            @test bad == 0
            # and the other way: what Julia writes, Python reads back to the same text
            vals = Any[Dict("f" => [rand() * 10.0^rand(-20:20) for _ in 1:50], "i" => rand(Int64, 20),
                            "s" => [String(rand(['a', 'é', '😀', '\n', '"'], 5)) for _ in 1:10])]
            txt = PJ.json_string(vals[1])
            back = read(pipeline(`$py -c "import json,sys; v=json.load(sys.stdin); sys.stdout.write(json.dumps(v, indent=4, sort_keys=True, ensure_ascii=True, separators=(',', ': ')))"`; stdin=IOBuffer(txt)), String)
            @test back == txt
        end
    end

    @testset "speed" begin
        big = Dict("a" => [Dict("x" => rand(), "y" => rand(Int), "s" => "abc\u00e9") for _ in 1:20000])
        txt = PJ.json_string(big)
        PJ.parse_json(txt)
        t = minimum(@elapsed(PJ.parse_json(txt)) for _ in 1:3)
        tw = minimum(@elapsed(PJ.json_string(big)) for _ in 1:3)
        mb = sizeof(txt) / 2^20
        println("test_json: parse ", round(mb / t, digits=1), " MiB/s, write ", round(mb / tw, digits=1),
                " MiB/s (", round(mb, digits=2), " MiB document)")
        @test t < 10
    end
end

end # module
