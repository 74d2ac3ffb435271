# Issue 12's new Julia codecs (julia/src/codecs/*.jl): numcodecs' checksums (crc32, adler32,
# fletcher32, jenkins_lookup3), bitround, zfpy (libzfp), pcodec (unsupported), and zarr-python
# 3.4's cast_value and scale_offset.  Expectations are bytes and values written by numcodecs /
# zarr-python (data/codecs12/make_fixtures.py), never values computed by this code.
#
# Standalone: .cache/julia/bin/julia --project=julia julia/test/test_codecs_issue12.jl
include(joinpath(@__DIR__, "testutils.jl"))

module CodecsIssue12Tests

using Test
import ..PolyZarr
const PZ = PolyZarr
using ..PolyZarr: CodecError, ChunkError, encode, decode

const DIR = joinpath(@__DIR__, "data", "codecs12")
const MANIFEST = PZ.parse_json(read(joinpath(DIR, "manifest.json")))
cases(pred) = [c for c in MANIFEST["cases"] if pred(c)]
casenamed(n) = only(cases(c -> c["name"] == n))

"The data bytes (C order) and header of a fixture .npy."
function npy_bytes(path)
    b = read(path)
    h = PZ.read_npy_header(b)
    n = reduce(*, h.shape; init=1) * h.dtype.itemsize
    return b[h.offset+1:h.offset+n], h
end
input(c) = npy_bytes(joinpath(DIR, c["name"] * ".in.npy"))
output(c) = npy_bytes(joinpath(DIR, c["name"] * ".out.npy"))
encoded(c) = read(joinpath(DIR, c["name"] * ".enc.bin"))
v3cfg(c) = Dict{String,Any}(c["v3"]["configuration"])

"True when `f()` throws a `T` whose key contains `key` and message contains every string in `msgs`."
function raises(f, ::Type{T}, key, msgs...) where {T}
    try
        f()
    catch e
        e isa T && occursin(key, e.key) && all(m -> occursin(m, e.msg), msgs) && return true
        @warn "unexpected exception" T key msgs got = sprint(showerror, e)
        return false
    end
    @warn "no exception" T key msgs
    return false
end

const CHECKSUMS = Dict("crc32" => PZ.CRC32Codec, "adler32" => PZ.Adler32Codec,
                       "fletcher32" => PZ.Fletcher32Codec, "jenkins_lookup3" => PZ.JenkinsLookup3Codec)

@testset "issue 12 codecs" begin
    @testset "checksums: decode numcodecs' bytes, encode byte-identical (v2 and v3 configs)" begin
        cs = cases(c -> c["kind"] == "bytes_bytes")
        @test length(cs) >= 28
        for c in cs
            T = CHECKSUMS[c["v2"]["id"]]
            raw, _ = input(c)
            enc = encoded(c)
            configs = Any[c["v2"]]
            c["v3"] === nothing || push!(configs, v3cfg(c))
            for cfg in configs
                codec = T(cfg; key="k")
                @test decode(codec, enc; key="k") == output(c)[1] == raw
                @test encode(codec, raw; key="k") == enc
            end
            # what Julia writes back as numcodecs config / v3 JSON is what numcodecs / zarr-python wrote
            codec = T(c["v2"])
            @test PZ.codec_config(codec) == c["v2"]
            c["v3"] === nothing || @test PZ.v3_codec_json(codec)["name"] == c["v3"]["name"]
        end
    end

    @testset "checksums: bad input" begin
        for (id, T) in CHECKSUMS
            c = casenamed(id)
            codec = T(c["v2"])
            enc = encoded(c)
            bad = copy(enc)
            bad[end ÷ 2] ⊻= 0x01                                 # a payload byte
            @test raises(() -> decode(codec, bad; key="a/0.0"), ChunkError, "a/0.0", "$id mismatch", "stored 0x", "computed 0x")
            @test raises(() -> decode(codec, enc[1:3]; key="a/0.1"), ChunkError, "a/0.1", "too short")
            @test raises(() -> decode(codec, enc[1:end-1]; key="a/1.0"), ChunkError, "a/1.0", "mismatch")
            @test raises(() -> T(Dict{String,Any}("id" => id, "bogus" => 1); key=".zarray:compressor"),
                         CodecError, ".zarray:compressor", "unknown parameter \"bogus\"")
        end
        for T in (PZ.CRC32Codec, PZ.Adler32Codec)
            @test raises(() -> T(Dict{String,Any}("location" => "middle"); key="zarr.json:codecs[1].configuration"),
                         CodecError, "zarr.json:codecs[1].configuration.location", "\"start\" or \"end\"")
        end
        @test raises(() -> PZ.JenkinsLookup3Codec(Dict{String,Any}("initval" => -1); key="f"), CodecError, "f.initval", "0 to 4294967295")
        @test raises(() -> PZ.JenkinsLookup3Codec(Dict{String,Any}("prefix" => "zarr"); key="f"), CodecError, "f.prefix", "list of byte values")
        # an empty payload: numcodecs' fletcher32 cannot encode it; Julia frames it (HDF5 gives 0)
        f = PZ.Fletcher32Codec()
        @test decode(f, encode(f, UInt8[])) == UInt8[]
    end

    @testset "bitround: encode == numcodecs, decode identity" begin
        cs = cases(c -> startswith(c["name"], "bitround"))
        @test length(cs) >= 11
        for c in cs
            raw, h = input(c)
            dt = PZ.parse_dtype(c["dtype"])
            for cfg in (c["v2"], v3cfg(c))
                f = PZ.BitRoundFilter(cfg, dt; key="k")
                @test PZ.filter_encode(f, raw) == encoded(c)
                @test PZ.filter_decode(f, encoded(c); key="k") == output(c)[1]
            end
            @test PZ.filter_config(PZ.BitRoundFilter(c["v2"], dt)) == c["v2"]
            @test PZ.v3_codec_json(PZ.BitRoundFilter(c["v2"], dt)) == c["v3"]
        end
        f4 = PZ.parse_dtype("<f4")
        @test raises(() -> PZ.BitRoundFilter(Dict{String,Any}("keepbits" => 24), f4; key="zarr.json:codecs[0].configuration"),
                     CodecError, "zarr.json:codecs[0].configuration.keepbits", "too large", "at most 23")
        @test raises(() -> PZ.BitRoundFilter(Dict{String,Any}("keepbits" => -1), f4; key="q"), CodecError, "q.keepbits", "zero or positive")
        @test raises(() -> PZ.BitRoundFilter(Dict{String,Any}(), f4; key="q"), CodecError, "q", "missing \"keepbits\"")
        @test raises(() -> PZ.BitRoundFilter(Dict{String,Any}("keepbits" => 3), PZ.parse_dtype("<i4"); key="q"),
                     CodecError, "q", "only float16, float32 and float64")
    end

    @testset "quantize (codecs.jl's QuantizeFilter) == numcodecs for float16/32/64" begin
        cs = cases(c -> c["kind"] == "quantize")
        @test length(cs) >= 8
        for c in cs
            f = PZ.filter_from_config(c["v2"]; key="k")
            raw, _ = input(c)
            @test PZ.filter_encode(f, raw) == encoded(c)
            @test PZ.filter_decode(f, encoded(c); key="k") == output(c)[1]
        end
    end

    @testset "zfpy: decode numcodecs' streams, encode like numcodecs" begin
        cs = cases(c -> c["kind"] == "zfpy")
        @test length(cs) >= 8
        for c in cs
            enc = encoded(c)
            codec = PZ.ZFPYCodec(c["v2"]; key="k")
            @test decode(codec, enc; key="k") == output(c)[1]            # exactly numcodecs' decoded values
            c["v3"] === nothing || @test decode(PZ.ZFPYCodec(v3cfg(c)), enc) == output(c)[1]
            raw, h = input(c)
            wc = PZ.with_chunk(codec, h.dtype, h.shape)
            mine = encode(wc, raw; key="k")
            @test mine == enc                                            # zfp is deterministic: numcodecs' bytes
            c["v3"] === nothing || @test PZ.v3_codec_json(codec) == c["v3"]
        end
        c = casenamed("zfpy_accuracy_f32")
        codec = PZ.ZFPYCodec(c["v2"])
        enc = encoded(c)
        @test raises(() -> decode(codec, enc[1:end÷2]; key="z/0.0"), CodecError, "z/0.0", "truncated")
        @test raises(() -> decode(codec, UInt8[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]; key="z/0.1"),
                     CodecError, "z/0.1", "not zfp data")
        @test raises(() -> decode(codec, UInt8[]; key="z/0.2"), CodecError, "z/0.2", "not zfp data")
        @test raises(() -> encode(codec, input(c)[1]; key="z/1"), CodecError, "z/1", "dtype and shape")
        @test raises(() -> PZ.ZFPYCodec(Dict{String,Any}("mode" => 1); key=".zarray:compressor"),
                     CodecError, ".zarray:compressor.mode", "fixed rate")
        @test raises(() -> encode(PZ.with_chunk(codec, PZ.parse_dtype("<i2"), [4]), zeros(UInt8, 8); key="z"),
                     CodecError, "z", "not <i2")
        @test PZ.codec_supported("zfpy") && PZ.codec_supported("numcodecs.zfpy")
    end

    @testset "cast_value: zarr-python 3.4's stored chunks and reads, every rounding / out_of_range mode, scalar_map" begin
        cs = cases(c -> c["kind"] == "cast_value")
        @test length(cs) >= 55
        for c in cs
            f = PZ.CastValueFilter(v3cfg(c), c["data_type"]; key="zarr.json:codecs[0].configuration")
            raw, _ = input(c)
            if haskey(c, "error") && c["error"] !== nothing            # zarr-python refused to write
                @test raises(() -> PZ.filter_encode(f, raw; key="a/c/0"), CodecError, "a/c/0", "cast_value: element")
                continue
            end
            enc = encoded(c)
            mine = PZ.filter_encode(f, raw; key="a/c/0")
            @test mine == enc
            mine == enc || @warn "cast_value encode differs" c["name"]
            if c["decode_error"] !== nothing                           # zarr-python failed to read it back
                @test raises(() -> PZ.filter_decode(f, enc; key="a/c/0"), CodecError, "a/c/0", "out of range")
            else
                dec = PZ.filter_decode(f, enc; key="a/c/0")
                @test dec == output(c)[1]
                dec == output(c)[1] || @warn "cast_value decode differs" c["name"]
            end
            @test PZ.v3_codec_json(f) == c["v3"]
        end
        k = "zarr.json:codecs[0].configuration"
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}(), "float64"; key=k), CodecError, k, "missing \"data_type\"")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "float8_e4m3"), "float64"; key=k),
                     CodecError, k * ".data_type", "not supported")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "string"), "float64"; key=k),
                     CodecError, k * ".data_type", "integer or floating-point")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "int8"), "bool"; key=k), CodecError, k, "source")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "int8", "rounding" => "up"), "float64"; key=k),
                     CodecError, k * ".rounding", "nearest-even")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "float32", "out_of_range" => "wrap"), "float64"; key=k),
                     CodecError, k * ".out_of_range", "only valid for integer")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "int8", "extra" => 1), "float64"; key=k),
                     CodecError, k, "unknown configuration key")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "uint8",
                         "scalar_map" => Dict{String,Any}("encode" => Any[Any["NaN", 300]])), "float64"; key=k),
                     CodecError, k * ".scalar_map.encode[0]", "not representable")
        @test raises(() -> PZ.CastValueFilter(Dict{String,Any}("data_type" => "uint8",
                         "scalar_map" => Dict{String,Any}("encode" => Any[Any[1]])), "float64"; key=k),
                     CodecError, k * ".scalar_map.encode[0]", "pair")
    end

    @testset "scale_offset: zarr-python 3.4's stored chunks and reads; range and exactness errors" begin
        cs = cases(c -> c["kind"] == "scale_offset")
        @test length(cs) >= 12
        for c in cs
            cfg = c["v3"] isa AbstractDict && haskey(c["v3"], "configuration") ? v3cfg(c) : Dict{String,Any}()
            f = PZ.ScaleOffsetFilter(cfg, c["data_type"]; key="zarr.json:codecs[0].configuration")
            raw, _ = input(c)
            if haskey(c, "error") && c["error"] !== nothing
                @test raises(() -> PZ.filter_encode(f, raw; key="a/c/0"), CodecError, "a/c/0", "outside the range")
                continue
            end
            enc = encoded(c)
            @test PZ.filter_encode(f, raw; key="a/c/0") == enc
            @test PZ.filter_decode(f, enc; key="a/c/0") == output(c)[1]
            @test PZ.v3_codec_json(f) == c["v3"]
        end
        c = casenamed("so_err_decode_inexact")
        f = PZ.ScaleOffsetFilter(v3cfg(c), c["data_type"])
        @test raises(() -> PZ.filter_decode(f, input(c)[1]; key="a/c/1"), CodecError, "a/c/1", "not an exact multiple")
        k = "zarr.json:codecs[1].configuration"
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}("scale" => 0), "int16"; key=k), CodecError, k * ".scale", "non-zero")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}("scale" => 0.0), "float32"; key=k), CodecError, k * ".scale", "non-zero")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}("offset" => 1.5), "int16"; key=k), CodecError, k * ".offset", "not representable")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}("offset" => 300), "uint8"; key=k), CodecError, k * ".offset", "not representable")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}("factor" => 2), "float64"; key=k), CodecError, k, "unknown configuration key")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}(), "bool"; key=k), CodecError, k, "only integer and floating-point")
        @test raises(() -> PZ.ScaleOffsetFilter(Dict{String,Any}(), "complex64"; key=k), CodecError, k, "only integer and floating-point")
    end

    @testset "pcodec: unsupported, with a clear message" begin
        @test !PZ.codec_supported("pcodec") && !PZ.codec_supported("numcodecs.pcodec")
        @test raises(() -> PZ.PcodecCodec(Dict{String,Any}(); key="zarr.json:codecs[0]"), CodecError,
                     "zarr.json:codecs[0]", "pcodec", "polyzarr (Python)", "pip install pcodec")
        @test occursin("pcodec", PZ.codec_unsupported_reason("pcodec"))
        @test PZ.codec_unsupported_reason("crc32") == ""
    end
end

end # module
