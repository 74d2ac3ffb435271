# codecs/pipeline.jl + the filter files: the v2 pipeline and numcodecs filters (decode checked against zarr-python's reads in
# test_arrays.jl; here: encode matches numcodecs byte for byte, and the formats directly).
include(joinpath(@__DIR__, "testutils.jl"))

const PZC = PolyZarr

@testset "codecs" begin
    s = DirectoryStore(FIXTURES)
    @testset "filter encode == numcodecs encode (fixture chunk 0.0)" begin
        for k in filter(k -> startswith(k, "filters/") && endswith(k, "/.zarray"), listkeys(s, "filters"))
            p = dirname(k)
            a = open_array(s, p)
            buf = Array{eltype(a)}(undef, a.jchunks)
            PZC.read_region!(buf, a, map(c -> 1:c, a.jchunks))
            x = PZC.values_to_bytes(a.pipeline.dtype, vec(buf))
            for f in a.pipeline.bytes_codecs[1:end - 1]      # the filters, then the compressor
                x = PZC.filter_encode(f, x)
            end
            ref = PZC.decode(a.pipeline.bytes_codecs[end], readkey(s, p * "/0.0"))
            @test x == ref
        end
    end
    @testset "filters directly" begin
        d(ts) = parse_dtype(ts)
        # delta with astype, wrapping like numpy
        f = PZC.DeltaFilter(d("<i4"), d("<i2"))
        enc = PZC.filter_encode(f, PZC.values_to_bytes(d("<i4"), Int32[10, 13, 9, 9]))
        @test reinterpret(Int16, enc) == Int16[10, 3, -4, 0]
        @test reinterpret(Int32, PZC.filter_decode(f, enc)) == Int32[10, 13, 9, 9]
        # fixedscaleoffset rounds half to even like numpy.around
        g = PZC.FixedScaleOffsetFilter(0, 2, d("<f8"), d("|u1"))
        @test PZC.filter_encode(g, PZC.values_to_bytes(d("<f8"), [0.25, 0.75, 1.25])) == UInt8[0, 2, 2]
        @test reinterpret(Float64, PZC.filter_decode(g, UInt8[0, 2, 3])) == [0.0, 1.0, 1.5]
        # quantize: numcodecs' power-of-two scale
        q = PZC.QuantizeFilter(1, d("<f8"), d("<f8"))
        @test reinterpret(Float64, PZC.filter_encode(q, PZC.values_to_bytes(d("<f8"), [0.123456, 10.0]))) == [0.125, 10.0]
        # packbits: first byte is the padding
        pb = PZC.PackBitsFilter()
        @test PZC.filter_encode(pb, [true, false, true]) == UInt8[5, 0xa0]
        @test PZC.filter_decode(pb, UInt8[5, 0xa0]) == UInt8[1, 0, 1]
        @test PZC.filter_encode(pb, fill(true, 8)) == UInt8[0, 0xff]
        # categorize
        cz = PZC.CategorizeFilter(["a", "bb"], d("<U2"), d("|u1"))
        vals = [FixedUTF32String{2}(x) for x in ("bb", "zz", "a")]
        @test PZC.filter_encode(cz, vals) == UInt8[2, 0, 1]
        @test PZC.bytes_to_values(d("<U2"), PZC.filter_decode(cz, UInt8[2, 0, 1])) == ["bb", "", "a"]
        # astype
        at = PZC.AsTypeFilter(d("<f4"), d("<f8"))
        @test reinterpret(Float32, PZC.filter_encode(at, PZC.values_to_bytes(d("<f8"), [1.5, 2.0]))) == Float32[1.5, 2.0]
        # vlen formats
        vu = PZC.VLenFilter(true)
        b = PZC.filter_encode(vu, ["", "é", "ab"])
        @test b == UInt8[3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9, 2, 0, 0, 0, 0x61, 0x62]
        @test PZC.filter_decode(vu, b) == ["", "é", "ab"]
        vb = PZC.VLenFilter(false)
        @test PZC.filter_decode(vb, PZC.filter_encode(vb, [UInt8[0, 1], UInt8[]])) == [UInt8[0, 1], UInt8[]]
        # json2 (numcodecs JSON): C-ordered nested lists + dtype + shape
        j = PZC.JSON2Filter(Dict{String,Any}("id" => "json2"))
        r = PZC.filter_decode(j, Vector{UInt8}(codeunits("[[1,\"a\"],[null,2.5],\"|O\",[2,2]]")))
        @test isequal(r.values, Any[1, "a", nothing, 2.5]) && r.shape == [2, 2]
    end
    @testset "pipeline" begin
        m = parse_zarray(Dict{String,Any}("zarr_format" => 2, "shape" => [4], "chunks" => [4], "dtype" => "<i8",
            "compressor" => Dict{String,Any}("id" => "zlib", "level" => 1), "order" => "C", "fill_value" => 0,
            "filters" => Any[Dict{String,Any}("id" => "delta", "dtype" => "<i8"),
                             Dict{String,Any}("id" => "shuffle", "elementsize" => 8)]))
        p = PZC.make_pipeline(m)
        v = Int64[5, 6, 8, 100]
        @test PZC.decode_chunk(p, PZC.encode_chunk(p, v)) == v
        # object arrays take their element type from the object codec
        mo = parse_zarray(Dict{String,Any}("zarr_format" => 2, "shape" => [2], "chunks" => [2], "dtype" => "|O",
            "compressor" => nothing, "order" => "C", "fill_value" => nothing,
            "filters" => Any[Dict{String,Any}("id" => "vlen-bytes")]))
        po = PZC.make_pipeline(mo)
        @test po.dtype.T === Vector{UInt8}
        @test PZC.decode_chunk(po, PZC.encode_chunk(po, [UInt8[1], UInt8[2, 3]])) == [UInt8[1], UInt8[2, 3]]
        # json2 round trip, F order reorders the C-ordered list into memory order
        mj = parse_zarray(Dict{String,Any}("zarr_format" => 2, "shape" => [2, 3], "chunks" => [2, 3], "dtype" => "|O",
            "compressor" => nothing, "order" => "F", "fill_value" => nothing,
            "filters" => Any[Dict{String,Any}("id" => "json2")]))
        pj = PZC.make_pipeline(mj)
        mem = Any[1, 4, 2, 5, 3, 6]                  # F memory of numpy [[1 2 3]; [4 5 6]]
        enc = PZC.encode_chunk(pj, mem)
        @test String(copy(enc)) == "[[1,2,3],[4,5,6],\"|O\",[2,3]]"
        @test PZC.decode_chunk(pj, enc) == mem
    end
end
