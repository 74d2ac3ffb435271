# Bad inputs: each must raise the right PolyZarr error, naming the key (or JSON path) and the problem.
include(joinpath(@__DIR__, "testutils.jl"))

function zarray_with(; kw...)
    d = Dict{String,Any}("zarr_format" => 2, "shape" => [4, 6], "chunks" => [2, 3], "dtype" => "<i4",
                         "compressor" => nothing, "filters" => nothing, "fill_value" => 0, "order" => "C",
                         "dimension_separator" => ".")
    for (k, v) in kw
        v === :delete ? delete!(d, String(k)) : (d[String(k)] = v)
    end
    return Vector{UInt8}(codeunits(PolyZarr.json_string(d)))
end

"A memory store holding one array `a` with the given .zarray bytes."
function store_with(zarray::Vector{UInt8}; chunks=Dict{String,Vector{UInt8}}())
    s = MemoryStore()
    writekey!(s, "a/.zarray", zarray)
    for (k, v) in chunks
        writekey!(s, "a/" * k, v)
    end
    return s
end
open_a(z; kw...) = open_array(store_with(z; kw...), "a")

@testset "bad inputs" begin
    @testset "metadata" begin
        @test raises(MetadataError, "a/.zarray", "invalid JSON") do
            open_a(Vector{UInt8}(codeunits("{\"zarr_format\": 2, \"shape\": [4,")))
        end
        @test raises(MetadataError, "a/.zarray", "JSON object") do
            open_a(Vector{UInt8}(codeunits("[1, 2]")))
        end
        @test raises(() -> open_a(zarray_with(shape=:delete)), MetadataError, "a/.zarray:shape", "missing")
        @test raises(() -> open_a(zarray_with(shape="4,6")), MetadataError, "a/.zarray:shape", "list")
        @test raises(() -> open_a(zarray_with(shape=[4, -6])), MetadataError, "a/.zarray:shape", "negative")
        @test raises(() -> open_a(zarray_with(shape=[4.5, 6])), MetadataError, "a/.zarray:shape", "integer")
        @test raises(() -> open_a(zarray_with(chunks=[2, 0])), MetadataError, "a/.zarray:chunks", "zero")
        @test raises(() -> open_a(zarray_with(chunks=[2])), MetadataError, "a/.zarray:chunks", "dimensions")
        @test raises(() -> open_a(zarray_with(order="X")), MetadataError, "a/.zarray:order", "\"C\" or \"F\"")
        @test raises(() -> open_a(zarray_with(dimension_separator="-")), MetadataError,
                     "a/.zarray:dimension_separator", "")
        @test raises(() -> open_a(zarray_with(zarr_format=3)), MetadataError, "a/.zarray:zarr_format", "unsupported")
        @test raises(() -> open_a(zarray_with(zarr_format=:delete)), MetadataError, "a/.zarray:zarr_format", "missing")
        @test raises(() -> open_a(zarray_with(fill_value=:delete)), MetadataError, "a/.zarray:fill_value", "missing")
        @test raises(() -> open_a(zarray_with(compressor="zlib")), MetadataError, "a/.zarray:compressor", "object")
        @test raises(() -> open_a(zarray_with(compressor=Dict("level" => 1))), MetadataError, "a/.zarray:compressor", "id")
        @test raises(() -> open_a(zarray_with(filters=Dict("id" => "delta"))), MetadataError, "a/.zarray:filters", "list")
    end
    @testset "absurd shapes, checked before allocating" begin
        @test raises(() -> open_a(zarray_with(shape=[2^40, 2^40], chunks=[1, 1])), MetadataError,
                     "a/.zarray:shape", "overflows")
        @test raises(() -> open_a(zarray_with(shape=[2^31, 2^31], chunks=[1, 1], dtype="<f8")), MetadataError,
                     "a/.zarray:shape", "overflows")
        @test raises(() -> open_a(zarray_with(shape=[2^20, 2^20], chunks=[2^20, 2^20], dtype="<f8")), MetadataError,
                     "a/.zarray:chunks", "exceeds the limit")
        big = open_a(zarray_with(shape=[10^6, 10^6], chunks=[1000, 1000], dtype="<f8"))
        @test raises(() -> read_array(big), MetadataError, "a/.zarray", "exceeds the limit")
        @test raises(() -> big[:, 1:10^5], MetadataError, "a/.zarray", "exceeds the limit")
        @test big[1:2, 1:2] == zeros(2, 2)          # small regions of a huge array are fine
        withenv("POLYZARR_MAX_BYTES" => "1000") do
            small = open_a(zarray_with(shape=[100, 100], chunks=[10, 10], dtype="<f8"))
            @test raises(() -> read_array(small), MetadataError, "a/.zarray", "POLYZARR_MAX_BYTES")
        end
    end
    @testset "dtypes" begin
        for bad in ("<x4", "|f4", "<i9", "<M8", "<S", "|U5", "=i4", "|S0", "S0", "<M8[xx]", "<m8[0s]", "i4", "<", "|O8",
                    "<U0", "|Vx", ">b2")
            @test raises(() -> open_a(zarray_with(dtype=bad)), DtypeError, "a/.zarray:dtype", bad)
            @test raises(() -> parse_dtype(bad), DtypeError, bad)
        end
        @test raises(() -> open_a(zarray_with(dtype=[["a"]])), DtypeError, "a/.zarray:dtype", "field")
        @test raises(() -> open_a(zarray_with(dtype=[["a", "<i4"], ["a", "<f8"]])), DtypeError, "a/.zarray:dtype", "duplicate")
        @test raises(() -> open_a(zarray_with(dtype=[["a", "<i4", [-1]]])), DtypeError, "a/.zarray:dtype", "shape")
        @test raises(() -> open_a(zarray_with(dtype=42)), DtypeError, "a/.zarray:dtype", "")
    end
    @testset "fill values" begin
        @test raises(() -> open_a(zarray_with(fill_value="abc")), MetadataError, "a/.zarray:fill_value", "integer")
        @test raises(() -> open_a(zarray_with(dtype="<f8", fill_value="nan")), MetadataError, "a/.zarray:fill_value", "nan")
        @test raises(() -> open_a(zarray_with(dtype="|u1", fill_value=300)), MetadataError, "a/.zarray:fill_value", "out of range")
        @test raises(() -> open_a(zarray_with(dtype="|S3", fill_value="!!notbase64")), MetadataError, "a/.zarray:fill_value", "base64")
        @test raises(() -> open_a(zarray_with(dtype="|S2", fill_value="AAAAAA==")), MetadataError, "a/.zarray:fill_value", "bytes")
        @test raises(() -> open_a(zarray_with(dtype="<c8", fill_value=[1.0])), MetadataError, "a/.zarray:fill_value", "[real, imag]")
        @test raises(() -> open_a(zarray_with(dtype="|b1", fill_value="yes")), MetadataError, "a/.zarray:fill_value", "boolean")
        @test raises(() -> open_a(zarray_with(dtype="<U2", fill_value="abc")), MetadataError, "a/.zarray:fill_value", "longer")
        @test raises(() -> open_a(zarray_with(dtype="<M8[ns]", fill_value=1.5)), MetadataError, "a/.zarray:fill_value", "Int64")
    end
    @testset "codecs" begin
        @test raises(() -> open_a(zarray_with(compressor=Dict("id" => "nope"))), CodecError, "a/.zarray:compressor", "nope")
        @test raises(() -> open_a(zarray_with(filters=[Dict("id" => "frobnicate")])), CodecError, "a/.zarray:filters[0]", "frobnicate")
        @test raises(() -> open_a(zarray_with(filters=[Dict("id" => "delta", "dtype" => "<q8")])), CodecError,
                     "a/.zarray:filters[0]", "delta")
        @test raises(() -> open_a(zarray_with(filters=[Dict("id" => "delta")])), CodecError, "a/.zarray:filters[0]", "dtype")
        @test raises(() -> open_a(zarray_with(dtype="|O")), MetadataError, "a/.zarray:filters", "object codec")
        @test raises(() -> open_a(zarray_with(filters=[Dict("id" => "quantize", "digits" => 2, "dtype" => "<i4")])),
                     CodecError, "a/.zarray:filters[0]", "float")
    end
    @testset "chunks" begin
        # raw chunk of the wrong size
        a = open_a(zarray_with(); chunks=Dict("0.0" => zeros(UInt8, 10)))
        @test raises(() -> read_array(a), ChunkError, "a/0.0", "expected 24")
        # compressed chunk cut short
        s = MemoryStore()
        z = create_array(s, "a"; shape=[4, 6], chunks=[2, 3], dtype="<i4", compressor=Dict("id" => "zlib", "level" => 1))
        z[:, :] = reshape(Int32.(1:24), 6, 4)
        b = readkey(s, "a/0.0")
        writekey!(s, "a/0.0", b[1:end-4])
        @test raises(() -> read_array(open_array(s, "a")), CodecError, "a/0.0", "")
        writekey!(s, "a/0.0", UInt8[1, 2, 3])
        @test raises(() -> read_array(open_array(s, "a")), CodecError, "a/0.0", "")
        # compressed chunk that decodes to the wrong size
        writekey!(s, "a/0.0", b)
        comp = PolyZarr.bytescodec_from_config(Dict{String,Any}("id" => "zlib", "level" => 1))
        writekey!(s, "a/1.1", PolyZarr.encode(comp, zeros(UInt8, 25)))
        @test raises(() -> read_array(open_array(s, "a")), ChunkError, "a/1.1", "expected 24")
        # corrupt vlen-utf8
        s2 = MemoryStore()
        o = create_array(s2, "o"; shape=[2], chunks=[2], dtype="|O", compressor=nothing, object_codec="vlen-utf8")
        writekey!(s2, "o/0", UInt8[2, 0, 0, 0, 5, 0, 0, 0, 0x61, 0, 0, 0])
        @test raises(() -> read_array(open_array(s2, "o")), CodecError, "o/0", "vlen-utf8")
        writekey!(s2, "o/0", UInt8[2, 0, 0, 0, 5, 0, 0, 0, 0x61])    # more items than its bytes can hold
        @test raises(() -> read_array(open_array(s2, "o")), ChunkError, "o/0", "hold at most")
        writekey!(s2, "o/0", UInt8[2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0, 0])
        @test raises(() -> read_array(open_array(s2, "o")), CodecError, "o/0", "UTF-8")
        # packbits with bad padding
        s3 = MemoryStore()
        p = create_array(s3, "p"; shape=[3], chunks=[3], dtype="|b1", compressor=nothing, filters=[Dict("id" => "packbits")])
        writekey!(s3, "p/0", UInt8[9, 0xff])
        @test raises(() -> read_array(open_array(s3, "p")), CodecError, "p/0", "padding")
    end
    @testset "keys and paths" begin
        s = MemoryStore()
        for (k, msg) in (("a/../b", ".."), ("/etc/passwd", "absolute"), ("a\\b", "backslash"), ("a//b", "empty"),
                         ("a/b\0c", "NUL"), ("", "empty"), ("./a", "'.'"), ("C:/x", "absolute"))
            @test raises(() -> readkey(s, k), PathError, "", msg)
            @test raises(() -> writekey!(s, k, UInt8[]), PathError, "", msg)
        end
        d = DirectoryStore(tmpdir())
        @test raises(() -> writekey!(d, "../escape", UInt8[1]), PathError, "../escape", "..")
        @test raises(() -> readkey(d, "x/../../etc/passwd"), PathError, "x/../../etc/passwd", "..")
        @test raises(() -> listkeys(d, "a/../.."), PathError, "a/../..", "..")
        @test raises(() -> open_array(s, "a/../b"), PathError, "a/../b", "..")
        @test raises(() -> open_store("memory://"), PathError, "memory://", "name")
        @test raises(() -> open_store("ftp://host/x"), StoreError, "ftp://host/x", "scheme")
    end
    @testset "missing and broken nodes" begin
        s = MemoryStore()
        @test raises(() -> open_array(s, "nothing/here"), MetadataError, "nothing/here/.zarray", "missing")
        @test raises(() -> open_group(s, "g"), MetadataError, "g/.zgroup", "missing")
        writekey!(s, "g/.zgroup", Vector{UInt8}(codeunits("{\"zarr_format\": 3}")))
        @test raises(() -> open_group(s, "g"), MetadataError, "g/.zgroup:zarr_format", "unsupported")
        writekey!(s, "a/.zarray", zarray_with())
        writekey!(s, "a/.zattrs", Vector{UInt8}(codeunits("{\"x\": ")))
        @test raises(() -> open_array(s, "a"), MetadataError, "a/.zattrs", "invalid JSON")
        writekey!(s, ".zmetadata", Vector{UInt8}(codeunits("{\"metadata\": {}}")))
        @test raises(() -> PolyZarr.read_consolidated(s, ""), MetadataError, ".zmetadata:zarr_consolidated_format", "missing")
        writekey!(s, ".zmetadata", Vector{UInt8}(codeunits("{\"metadata\": [], \"zarr_consolidated_format\": 1}")))
        @test raises(() -> PolyZarr.read_consolidated(s, ""), MetadataError, ".zmetadata:metadata", "object")
    end
    @testset "npy" begin
        d = tmpdir()
        f = joinpath(d, "bad.npy")
        write(f, UInt8[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        @test raises(() -> read_npy(f), MetadataError, "bad.npy", "magic")
        write(f, vcat(PolyZarr.NPY_MAGIC, UInt8[1, 0, 20, 0], Vector{UInt8}(codeunits("{'descr': '<f8', }   \n"))))
        @test raises(() -> read_npy(f), MetadataError, "bad.npy:fortran_order", "missing")
        hdr = "{'descr': '<q9', 'fortran_order': False, 'shape': (2,), }"
        write(f, vcat(PolyZarr.NPY_MAGIC, UInt8[1, 0, length(hdr), 0], Vector{UInt8}(codeunits(hdr))))
        @test raises(() -> read_npy(f), DtypeError, "<q9", "")
        hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        write(f, vcat(PolyZarr.NPY_MAGIC, UInt8[1, 0, length(hdr), 0], Vector{UInt8}(codeunits(hdr)), zeros(UInt8, 9)))
        @test raises(() -> read_npy(f), ChunkError, "bad.npy", "expected 16")
    end
    @testset "errors print as Category: key: problem" begin
        e = MetadataError("a/.zarray:fill_value", "bad")
        @test sprint(showerror, e) == "MetadataError: a/.zarray:fill_value: bad"
        @test errorcategory(DtypeError("x", "y")) == "DtypeError"
    end
end
