# metadata.jl: .zarray/.zgroup/.zattrs/.zmetadata, fill values as zarr-python encodes them.
include(joinpath(@__DIR__, "testutils.jl"))

const PZ = PolyZarr
canon(x) = PZ.json_string(x)          # JSON-value equality, key order and int/float kept

@testset "metadata" begin
    s = DirectoryStore(FIXTURES)
    zkeys = filter(k -> endswith(k, "/.zarray"), listkeys(s))
    @test length(zkeys) > 200
    @testset "every fixture .zarray: parse, re-encode equal as JSON values" begin
        for k in zkeys
            raw = PZ.parse_json(readkey(s, k))
            m = parse_zarray(readkey(s, k); key=k)
            # fill value survives decode → encode exactly as zarr-python wrote it
            @test canon(encode_fill_value(m.dtype, m.fill)) == canon(raw["fill_value"]) ||
                  (m.dtype.kind in ('S', 'V') && m.fill == decode_fill_value(m.dtype, encode_fill_value(m.dtype, m.fill)))
            if haskey(raw, "dimension_separator")       # zarr-python 3 wrote it: same fields, same values
                @test canon(zarray_dict(m)) == canon(raw)
            else                                         # zarr 2.x: separator defaults to "."
                @test m.dimension_separator == "."
            end
        end
    end
    full_codec_configs(raw) = begin
        r = copy(raw)
        r["compressor"] === nothing || (r["compressor"] = PZ.codec_config(PZ.bytescodec_from_config(r["compressor"])))
        r["filters"] === nothing || (r["filters"] = Any[PZ.filter_config(PZ.filter_from_config(f)) for f in r["filters"]])
        r
    end
    @testset "Julia-written .zarray equals zarr-python's" begin
        d = MemoryStore()
        for k in zkeys
            startswith(k, "zarr2/") && continue
            raw = PZ.parse_json(readkey(s, k))
            m = parse_zarray(raw; key=k)
            p = dirname(k)
            create_array(d, p; shape=m.shape, chunks=m.chunks, dtype=m.dtype.typestr, order=string(m.order),
                         compressor=m.compressor, filters=m.filters, fill_value=m.fill,
                         dimension_separator=m.dimension_separator)
            ours = PZ.parse_json(readkey(d, k))
            # codec configurations compare with their defaults filled in: zarr-python 3.1 leaves out zstd's
            # checksum=false, numcodecs' get_config() (zarr 2.x, polyzarr) writes it
            @test canon(ours) == canon(full_codec_configs(raw))
        end
        # the text itself is Python's json.dumps(indent=4, sort_keys=True)
        txt = String(readkey(d, "shapes/one_d/.zarray"))
        @test startswith(txt, "{\n    \"chunks\": [\n        5\n    ],\n    \"compressor\": {\n        \"id\": \"zlib\",")
    end
    @testset "fill values" begin
        F(ts, x) = decode_fill_value(parse_dtype(ts), x)
        @test isnan(F("<f8", "NaN")) && F("<f4", "Infinity") == Inf32 && F("<f8", "-Infinity") == -Inf
        @test F("<f8", 0) === 0.0 && F("<f2", 1.5) === Float16(1.5)
        @test F("<c16", [1.0, "NaN"]) isa ComplexF64 && isnan(imag(F("<c16", [1.0, "NaN"])))
        @test F("|b1", true) === true && F("<i8", -5) === Int64(-5) && F("<u8", 18446744073709551615) === typemax(UInt64)
        @test isequal(F("<M8[ns]", -9223372036854775808), Datetime64{:ns,1}(typemin(Int64)))
        @test F("|S3", "YWI=") == "ab" && F("|S3", "") == ""
        @test F("<U3", "é") == "é"
        @test F("|V2", "AQI=").data == (0x01, 0x02)
        st = parse_dtype([["a", "<i2"], ["b", ">f4"]])
        v = decode_fill_value(st, "AQAAAAAA")
        @test v == (a=Int16(1), b=0.0f0)
        @test encode_fill_value(st, (a=Int16(1), b=0.0f0)) == "AQAAAAAA"
        @test F("<i4", nothing) === nothing && F("|O", nothing) === nothing
        # what a null fill reads as (zarr-python 3): NaT for datetimes in either byte order, else zero bits
        Z(ts) = PZ.fill_or_zero(parse_dtype(ts), nothing)
        @test PZ.isnat(Z("<M8[ns]")) && PZ.isnat(Z(">m8[s]")) && Z(">i4") === Int32(0) && Z("<f8") === 0.0
        E(ts, v) = encode_fill_value(parse_dtype(ts), v)
        @test E("<f8", NaN) == "NaN" && E("<f4", -Inf32) == "-Infinity" && E("<f8", 2) === 2.0
        @test E("<c8", 1 + 2im) == Any[1.0, 2.0] && E("<c16", complex(NaN, Inf)) == Any["NaN", "Infinity"]
        @test E("|S4", FixedBytesString{4}("ab")) == "YWI=" && E("<U2", "xy") == "xy"
        @test E("<M8[s]", Datetime64{:s,1}(typemin(Int64))) == -9223372036854775808
        @test E("|b1", false) === false && E("<u2", 7) === 7
        @test PZ.default_fill_json(parse_dtype("|S3")) == "AAAA" && PZ.default_fill_json(parse_dtype("|O")) === nothing
    end
    @testset "groups, attributes, consolidated" begin
        @test PZ.parse_zgroup(readkey(s, ".zgroup"))["zarr_format"] == 2
        @test PZ.parse_zattrs(readkey(s, ".zattrs"))["title"] == "polyzarr fixtures"
        c = DirectoryStore(joinpath(DATA, "consolidated.zarr"))
        m = PZ.parse_zmetadata(readkey(c, ".zmetadata"))
        @test haskey(m, "sub/arr/.zarray") && m["sub/.zattrs"]["level"] == 1
        @test parse_zarray(m["sub/arr/.zarray"]; key="sub/arr/.zarray").shape == [2, 3]
        @test PZ.zmetadata_dict(Dict{String,Any}())["zarr_consolidated_format"] == 1
    end
    @testset "limits" begin
        @test PZ.max_bytes() == 16 * 2^30 || haskey(ENV, "POLYZARR_MAX_BYTES")
        withenv("POLYZARR_MAX_BYTES" => "12345") do
            @test PZ.max_bytes() == 12345
        end
        withenv("POLYZARR_MAX_BYTES" => "lots") do
            @test raises(PZ.max_bytes, MetadataError, "POLYZARR_MAX_BYTES", "positive")
        end
        @test PZ.checked_length([3, 4, 5], "k") == 60 && PZ.checked_length(Int[], "k") == 1
    end
end
