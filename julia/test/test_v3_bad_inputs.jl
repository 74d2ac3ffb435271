# Bad Zarr v3 input: each case must raise the right category of the shared vocabulary, naming the
# key and JSON path (docs/V3.md, docs/CONTRACT.md).  The array is `a` (4×4 float64, 2×2 chunks).
include(joinpath(@__DIR__, "testutils.jl"))

const PZB = PolyZarr

const GOOD3 = Dict{String,Any}(
    "zarr_format" => 3, "node_type" => "array", "shape" => [4, 4], "data_type" => "float64",
    "chunk_grid" => Dict("name" => "regular", "configuration" => Dict("chunk_shape" => [2, 2])),
    "chunk_key_encoding" => Dict("name" => "default", "configuration" => Dict("separator" => "/")),
    "fill_value" => 0.0, "codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "little"))],
    "attributes" => Dict(), "storage_transformers" => Any[])

const LE = Dict("name" => "bytes", "configuration" => Dict("endian" => "little"))
const CHUNK3 = reinterpret(UInt8, [1.0, 2.0, 3.0, 4.0])

const DROP = :drop        # in a patch: remove the field
with3(patch) = merge(copy(GOOD3), Dict{String,Any}(patch))
shard3(cfg) = Dict("name" => "sharding_indexed", "configuration" => merge(Dict{String,Any}(
    "chunk_shape" => [1, 2], "codecs" => Any[LE], "index_codecs" => Any[LE], "index_location" => "end"), cfg))

# (name, category, key, message part, zarr.json (Dict patch or raw bytes), other keys)
const BAD3 = Any[
    ("unknown codec", CodecError, "a/zarr.json:codecs[1]", "unknown codec", Dict("codecs" => Any[LE, Dict("name" => "lz9")])),
    ("unknown codec, must_understand true", CodecError, "a/zarr.json:codecs[1]", "unknown codec",
     Dict("codecs" => Any[LE, Dict("name" => "lz9", "must_understand" => true)])),
    ("bad permutation", CodecError, "a/zarr.json:codecs[0]", "not a permutation",
     Dict("codecs" => Any[Dict("name" => "transpose", "configuration" => Dict("order" => [0, 0])), LE])),
    ("permutation of the wrong rank", CodecError, "a/zarr.json:codecs[0]", "not a permutation",
     Dict("codecs" => Any[Dict("name" => "transpose", "configuration" => Dict("order" => [1, 0, 2])), LE])),
    ("permutation not a list", CodecError, "a/zarr.json:codecs[0]", "must be a list",
     Dict("codecs" => Any[Dict("name" => "transpose", "configuration" => Dict("order" => "X")), LE])),
    ("two array→bytes codecs", MetadataError, "a/zarr.json:codecs[1]", "second array→bytes", Dict("codecs" => Any[LE, LE])),
    ("blosc shuffle as v2's integer", CodecError, "a/zarr.json:codecs[1]", "shuffle",
     Dict("codecs" => Any[LE, Dict("name" => "blosc", "configuration" => Dict("cname" => "lz4", "shuffle" => 1))])),
    ("inner chunk shape of the wrong rank", CodecError, "a/zarr.json:codecs[0].configuration.chunk_shape", "dimensions",
     Dict("codecs" => Any[shard3(Dict("chunk_shape" => [2]))])),
    ("no array→bytes codec", MetadataError, "a/zarr.json:codecs", "exactly one array→bytes",
     Dict("codecs" => Any[Dict("name" => "gzip", "configuration" => Dict("level" => 1))])),
    ("array→array after array→bytes", MetadataError, "a/zarr.json:codecs[1]", "comes after",
     Dict("codecs" => Any[LE, Dict("name" => "transpose", "configuration" => Dict("order" => [1, 0]))])),
    ("bytes→bytes before array→bytes", MetadataError, "a/zarr.json:codecs[0]", "comes before",
     Dict("codecs" => Any[Dict("name" => "crc32c"), LE])),
    ("empty codecs", MetadataError, "a/zarr.json:codecs", "non-empty", Dict("codecs" => Any[])),
    ("codec not an object", MetadataError, "a/zarr.json:codecs[0]", "object", Dict("codecs" => Any[5])),
    ("unknown codec parameter", CodecError, "a/zarr.json:codecs[1]", "unknown configuration key",
     Dict("codecs" => Any[LE, Dict("name" => "gzip", "configuration" => Dict("lvl" => 1))])),
    ("gzip level 42", CodecError, "a/zarr.json:codecs[1]", "level", Dict("codecs" => Any[LE, Dict("name" => "gzip", "configuration" => Dict("level" => 42))])),
    ("blosc shuffle word", CodecError, "a/zarr.json:codecs[1]", "shuffle",
     Dict("codecs" => Any[LE, Dict("name" => "blosc", "configuration" => Dict("cname" => "lz4", "shuffle" => "random"))])),
    ("bytes without endian for float64", CodecError, "a/zarr.json:codecs[0]", "endian", Dict("codecs" => Any["bytes"])),
    ("bytes endian middle", CodecError, "a/zarr.json:codecs[0]", "endian",
     Dict("codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "middle"))])),
    ("vlen-utf8 for float64", CodecError, "a/zarr.json:codecs[0]", "cannot serialize", Dict("codecs" => Any[Dict("name" => "vlen-utf8")])),
    ("bytes for strings", CodecError, "a/zarr.json:codecs[0]", "cannot serialize", Dict("data_type" => "string", "fill_value" => "")),
    ("inner chunks do not divide the shard", CodecError, "a/zarr.json:codecs[0].configuration.chunk_shape", "does not divide",
     Dict("codecs" => Any[shard3(Dict("chunk_shape" => [3, 2]))])),
    ("index codecs with gzip", CodecError, "a/zarr.json:codecs[0].configuration.index_codecs[1]", "index_codecs",
     Dict("codecs" => Any[shard3(Dict("index_codecs" => Any[LE, Dict("name" => "gzip")]))])),
    ("unknown codec inside a shard", CodecError, "a/zarr.json:codecs[0].configuration.codecs[1]", "unknown codec",
     Dict("codecs" => Any[shard3(Dict("codecs" => Any[LE, Dict("name" => "lz9")]))])),
    ("two array→bytes inside a shard", MetadataError, "a/zarr.json:codecs[0].configuration.codecs[1]", "second array→bytes",
     Dict("codecs" => Any[shard3(Dict("codecs" => Any[LE, LE]))])),
    ("index location middle", CodecError, "a/zarr.json:codecs[0].configuration.index_location", "start",
     Dict("codecs" => Any[shard3(Dict("index_location" => "middle"))])),
    ("storage transformers", MetadataError, "a/zarr.json:storage_transformers", "not supported",
     Dict("storage_transformers" => Any[Dict("name" => "offset")])),
    ("unknown data type", DtypeError, "a/zarr.json:data_type", "unknown data type", Dict("data_type" => "int33")),
    ("raw bits not a multiple of 8", DtypeError, "a/zarr.json:data_type", "multiple of 8", Dict("data_type" => "r12", "fill_value" => Any[0])),
    ("utf32 length not divisible by 4", DtypeError, "a/zarr.json:data_type.configuration.length_bytes", "divisible by 4",
     Dict("data_type" => Dict("name" => "fixed_length_utf32", "configuration" => Dict("length_bytes" => 6)), "fill_value" => "")),
    ("datetime unit", DtypeError, "a/zarr.json:data_type.configuration.unit", "unknown time unit",
     Dict("data_type" => Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "fortnight", "scale_factor" => 1)), "fill_value" => 0)),
    ("structured with a string field", DtypeError, "a/zarr.json:data_type.configuration.fields[1]", "variable-length",
     Dict("data_type" => Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int8"], Any["s", "string"]])), "fill_value" => "AA==")),
    ("structured duplicate field", DtypeError, "a/zarr.json:data_type.configuration.fields[1]", "duplicate",
     Dict("data_type" => Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int8"], Any["a", "int8"]])), "fill_value" => "AAA=")),
    ("data type needs configuration", DtypeError, "a/zarr.json:data_type", "needs a configuration", Dict("data_type" => "raw_bytes")),
    ("integer fill as a string", MetadataError, "a/zarr.json:fill_value", "integer", Dict("data_type" => "int32", "fill_value" => "1")),
    ("integer fill out of range", MetadataError, "a/zarr.json:fill_value", "out of range", Dict("data_type" => "uint8", "fill_value" => 256)),
    ("hex fill of the wrong width", MetadataError, "a/zarr.json:fill_value", "hex digits", Dict("data_type" => "float32", "fill_value" => "0x7fc0")),
    ("float fill word", MetadataError, "a/zarr.json:fill_value", "invalid float", Dict("fill_value" => "nan")),
    ("raw bits fill of 3 bytes for r16", MetadataError, "a/zarr.json:fill_value", "byte values", Dict("data_type" => "r16", "fill_value" => Any[1, 2, 3])),
    ("raw bits fill byte 256", MetadataError, "a/zarr.json:fill_value", "byte values", Dict("data_type" => "r8", "fill_value" => Any[256])),
    ("bool fill 1", MetadataError, "a/zarr.json:fill_value", "true or false", Dict("data_type" => "bool", "fill_value" => 1)),
    ("null fill", MetadataError, "a/zarr.json:fill_value", "cannot be null", Dict("fill_value" => nothing)),
    ("complex fill of one part", MetadataError, "a/zarr.json:fill_value", "[real, imag]", Dict("data_type" => "complex64", "fill_value" => Any[1.0])),
    ("structured fill of the wrong size", MetadataError, "a/zarr.json:fill_value", "bytes",
     Dict("data_type" => Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int16"]])), "fill_value" => "AAAA")),
    ("raw_bytes fill not base64", MetadataError, "a/zarr.json:fill_value", "base64",
     Dict("data_type" => Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 2)), "fill_value" => "***")),
    ("datetime fill 1.5", MetadataError, "a/zarr.json:fill_value", "NaT",
     Dict("data_type" => Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 1)), "fill_value" => 1.5)),
    ("chunk key encoding v3", MetadataError, "a/zarr.json:chunk_key_encoding.name", "must be", Dict("chunk_key_encoding" => Dict("name" => "v3"))),
    ("chunk key separator -", MetadataError, "a/zarr.json:chunk_key_encoding.configuration.separator", "must be",
     Dict("chunk_key_encoding" => Dict("name" => "default", "configuration" => Dict("separator" => "-")))),
    ("rectangular chunk grid", MetadataError, "a/zarr.json:chunk_grid.name", "regular",
     Dict("chunk_grid" => Dict("name" => "rectangular", "configuration" => Dict("chunk_shape" => [2, 2])))),
    ("chunk shape of the wrong rank", MetadataError, "a/zarr.json:chunk_grid.configuration.chunk_shape", "dimensions",
     Dict("chunk_grid" => Dict("name" => "regular", "configuration" => Dict("chunk_shape" => [2])))),
    ("zero chunk extent", MetadataError, "a/zarr.json:chunk_grid.configuration.chunk_shape", "zero",
     Dict("chunk_grid" => Dict("name" => "regular", "configuration" => Dict("chunk_shape" => [0, 2])))),
    ("negative shape", MetadataError, "a/zarr.json:shape", "negative", Dict("shape" => [4, -1])),
    ("zarr_format 4", MetadataError, "a/zarr.json:zarr_format", "unsupported", Dict("zarr_format" => 4)),
    ("node_type table", MetadataError, "a/zarr.json:node_type", "must be", Dict("node_type" => "table")),
    ("a group where an array is opened", MetadataError, "a/zarr.json:node_type", "expected an array",
     Vector{UInt8}(codeunits("{\"zarr_format\": 3, \"node_type\": \"group\"}"))),
    ("unknown field", MetadataError, "a/zarr.json:chunk_memory", "unknown field", Dict("chunk_memory" => Dict("x" => 1))),
    ("unknown field with must_understand true", MetadataError, "a/zarr.json:chunk_memory", "unknown field",
     Dict("chunk_memory" => Dict("must_understand" => true))),
    ("missing data_type", MetadataError, "a/zarr.json:data_type", "missing", Dict("data_type" => DROP)),
    ("missing codecs", MetadataError, "a/zarr.json:codecs", "missing", Dict("codecs" => DROP)),
    ("dimension_names of the wrong length", MetadataError, "a/zarr.json:dimension_names", "names for 2", Dict("dimension_names" => ["x"])),
    ("dimension name 5", MetadataError, "a/zarr.json:dimension_names[1]", "string or null", Dict("dimension_names" => Any["x", 5])),
    ("attributes a list", MetadataError, "a/zarr.json:attributes", "object", Dict("attributes" => Any[1])),
    ("broken JSON", MetadataError, "a/zarr.json", "invalid JSON", Vector{UInt8}(codeunits("{\"zarr_format\": 3, \"shape\": [4"))),
    ("zarr.json a list", MetadataError, "a/zarr.json", "JSON object", Vector{UInt8}(codeunits("[3]"))),
]

@testset "v3 bad inputs" begin
    @testset "metadata and codecs: $(case[1])" for case in BAD3
        name, T, key, msg, patch = case
        m = MemoryStore()
        doc = patch isa AbstractVector{UInt8} ? patch :
              PZB.zarr_json_bytes(Dict{String,Any}(k => v for (k, v) in with3(patch) if v !== DROP))
        writekey!(m, "a/zarr.json", doc)
        @test raises(() -> read_array(open_array(m, "a")), T, key, msg)
    end
    @testset "must_understand: false is ignored (field and codec)" begin
        m = MemoryStore()
        writekey!(m, "a/zarr.json", PZB.zarr_json_bytes(with3(Dict("chunk_memory" => Dict("must_understand" => false, "x" => 1),
            "codecs" => Any[LE, Dict("name" => "lz9", "must_understand" => false)]))))
        writekey!(m, "a/c/0/0", CHUNK3)
        @test open_array(m, "a")[1:2, 1:2] == [1.0 3.0; 2.0 4.0]
        # kept when the metadata is written again
        @test haskey(PZB.zarr_json_dict(open_array(m, "a").meta), "chunk_memory")
    end
    @testset "chunks and shards" begin
        # crc32c mismatch, a chunk of the wrong size, corrupt compressed data
        m = MemoryStore()
        writekey!(m, "a/zarr.json", PZB.zarr_json_bytes(with3(Dict("codecs" => Any[LE, Dict("name" => "crc32c")]))))
        bad = vcat(CHUNK3, UInt8[0, 0, 0, 0])
        writekey!(m, "a/c/0/1", bad)
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/1", "crc32c mismatch")
        writekey!(m, "a/zarr.json", PZB.zarr_json_bytes(GOOD3))
        writekey!(m, "a/c/0/1", CHUNK3[1:24])
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/1", "expected 32")
        writekey!(m, "a/zarr.json", PZB.zarr_json_bytes(with3(Dict("codecs" => Any[LE, Dict("name" => "zstd")]))))
        writekey!(m, "a/c/0/1", UInt8.(7:3:250))
        @test raises(() -> read_array(open_array(m, "a")), CodecError, "a/c/0/1", "")
        # shards: index of the wrong size, entries outside the shard, half-empty entries, index checksum
        m = MemoryStore()
        a = create_array(m, "a"; zarr_format=3, shape=[4, 4], dtype="float64", chunks=[2, 2], shards=[2, 4],
                         codecs=Any[shard3(Dict("chunk_shape" => [2, 2]))])
        write_array!(a, reshape(collect(1.0:16.0), 4, 4))
        shard = readkey(m, "a/c/0/0")                               # 2 inner chunks of 32 bytes + 32 bytes of index
        @test length(shard) == 96
        writekey!(m, "a/c/0/0", shard[33:end])                       # shorter than data + index
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/0", "outside")
        # (a partial read fetches the index as a suffix and does not learn the shard's size: it
        # catches entries past the end, as below, not entries that run into the index)
        writekey!(m, "a/c/0/0", shard[1:20])                         # shorter than the index
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/0", "smaller than its index")
        @test raises(() -> open_array(m, "a")[1, 1], ChunkError, "a/c/0/0", "shard index has 20 bytes, expected 32")
        far = copy(shard)
        far[65:72] = reinterpret(UInt8, [htol(UInt64(1000))])        # inner chunk 0 at offset 1000
        writekey!(m, "a/c/0/0", far)
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/0", "outside the shard")
        @test raises(() -> open_array(m, "a")[1, 1], ChunkError, "a/c/0/0", "outside the shard")
        half = copy(shard)
        half[65:72] .= 0xff                                          # offset empty, nbytes not
        writekey!(m, "a/c/0/0", half)
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/0", "half empty")
        wrap = copy(shard)
        wrap[65:72] .= 0xfe                                          # offset + nbytes overflows
        writekey!(m, "a/c/0/0", wrap)
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/0/0", "overflows")
        # an index with a checksum: a flipped bit is a ChunkError too
        c = create_array(m, "c"; zarr_format=3, shape=[4, 4], dtype="float64", chunks=[2, 2], shards=[2, 4])
        write_array!(c, reshape(collect(1.0:16.0), 4, 4))
        s = copy(readkey(m, "c/c/0/0"))
        s[end - 10] ⊻= 0x04
        writekey!(m, "c/c/0/0", s)
        @test raises(() -> open_array(m, "c")[1, 1], ChunkError, "c/c/0/0", "crc32c mismatch")
        @test raises(() -> read_array(open_array(m, "c")), ChunkError, "c/c/0/0", "crc32c mismatch")
    end
    @testset "groups, consolidated metadata, creation" begin
        m = MemoryStore()
        writekey!(m, "zarr.json", PZB.zarr_json_bytes(Dict("zarr_format" => 3, "node_type" => "group", "consolidated_metadata" => Dict(
            "kind" => "inline", "must_understand" => false, "metadata" => Dict("a//b" => Dict("zarr_format" => 3, "node_type" => "group"))))))
        @test raises(() -> PZB.read_consolidated(m, ""), PathError, "a//b", "empty path segment")
        writekey!(m, "zarr.json", PZB.zarr_json_bytes(Dict("zarr_format" => 3, "node_type" => "group",
            "consolidated_metadata" => Dict("kind" => "external", "metadata" => Dict()))))
        @test raises(() -> PZB.read_consolidated(m, ""), MetadataError, "zarr.json:consolidated_metadata.kind", "inline")
        writekey!(m, "g/zarr.json", Vector{UInt8}(codeunits("{\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": 3}")))
        @test raises(() -> open_group(m, "g"), MetadataError, "g/zarr.json:attributes", "object")
        writekey!(m, "h/zarr.json", PZB.zarr_json_bytes(GOOD3))
        @test raises(() -> open_group(m, "h"), MetadataError, "h/zarr.json:node_type", "expected a group")
        @test raises(() -> create_array(m, "x"; zarr_format=3, shape=[2], dtype="int8", filters=[Dict("id" => "delta")]),
                     MetadataError, "x/zarr.json:codecs", "no filters")
        # zfpy is a v3 serializer (numcodecs.zfpy), not a compressor; zlib is numcodecs.zlib (issue 12)
        @test raises(() -> create_array(m, "x"; zarr_format=3, shape=[2], dtype="int8", compressor=Dict("id" => "zfpy")),
                     MetadataError, "x/zarr.json:codecs[1]", "second array→bytes codec")
        @test raises(() -> import_npy("nothing.npy", "memory://x/y"; zarr_format=3, filters=[Dict("id" => "delta")]),
                     MetadataError, "filters", "no filters")
        # export reports a broken v3 array and goes on
        d = tmpdir()
        st = DirectoryStore(joinpath(d, "e.zarr"))
        create_group(st; zarr_format=3)
        write_array(st, "ok", [1, 2]; zarr_format=3)
        writekey!(st, "bad/zarr.json", PZB.zarr_json_bytes(with3(Dict("data_type" => "int33"))))
        r = export_tree(joinpath(d, "e.zarr"), joinpath(d, "out"); log=devnull)
        @test [e["path"] for e in r.exported] == ["ok"] && r.failed[1]["path"] == "bad" && r.failed[1]["category"] == "DtypeError"
        @test occursin("bad/zarr.json:data_type", r.failed[1]["message"])
    end
end
