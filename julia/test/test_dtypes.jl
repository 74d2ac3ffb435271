# dtypes.jl: the typestring table, element types, structured layouts, byte order.
include(joinpath(@__DIR__, "testutils.jl"))
using Dates

@testset "dtypes" begin
    @testset "table" begin
        for (ts, T) in ("|b1" => Bool, "|i1" => Int8, "|u1" => UInt8, "<i2" => Int16, "<i4" => Int32, "<i8" => Int64,
                        "<u2" => UInt16, "<u4" => UInt32, "<u8" => UInt64, "<f2" => Float16, "<f4" => Float32,
                        "<f8" => Float64, "<c8" => ComplexF32, "<c16" => ComplexF64)
            d = parse_dtype(ts)
            @test d.T === T && julia_type(ts) === T
            @test typestr(T) == ts
            @test itemsize(ts) == sizeof(T) == d.itemsize
            if sizeof(T) > 1
                be = parse_dtype(">" * ts[2:end])
                @test be.T === T && be.byteorder == '>'
            end
        end
        @test parse_dtype("<M8[ns]").T === Datetime64{:ns,1}
        @test parse_dtype("<M8[10s]").T === Datetime64{:s,10}
        @test parse_dtype(">m8[us]").T === Timedelta64{:us,1}
        for u in ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")
            @test parse_dtype("<M8[$u]").T === Datetime64{Symbol(u),1}
            @test parse_dtype("<m8[25$u]").T === Timedelta64{Symbol(u),25}
            @test typestr(Datetime64{Symbol(u),1}) == "<M8[$u]"
        end
        @test typestr(Timedelta64{:s,10}) == "<m8[10s]"
        @test parse_dtype("|S7").T === FixedBytesString{7} && itemsize("|S7") == 7
        @test parse_dtype("<U5").T === FixedUTF32String{5} && itemsize(">U5") == 20
        @test parse_dtype("|V8").T === RawBytes{8}
        @test parse_dtype("|O").kind == 'O'
        @test typestr(FixedBytesString{3}) == "|S3" && typestr(FixedUTF32String{2}) == "<U2" && typestr(RawBytes{4}) == "|V4"
        @test sizeof(FixedUTF32String{3}) == 12 && isbitstype(Datetime64{:ns,1}) && sizeof(Datetime64{:ns,1}) == 8
    end
    @testset "structured" begin
        d = parse_dtype([["a", "<i4"], ["b", ">f8", [2, 3]], ["c", [["x", "|u1"]]]])
        @test d.T === NamedTuple{(:a, :b, :c),Tuple{Int32,NTuple{6,Float64},NamedTuple{(:x,),Tuple{UInt8}}}}
        @test d.itemsize == 4 + 48 + 1
        @test [f.offset for f in d.fields] == [0, 4, 52]
        # padding ("" fields) keeps its bytes but is not a field
        p = parse_dtype([["a", "<i2"], ["", "|V2"], ["b", "<f8"], ["", "|V4"]])
        @test fieldnames(p.T) == (:a, :b) && p.itemsize == 16 && p.fields[2].offset == 4
        # packed bytes, mixed byte order, decoded field by field
        q = parse_dtype([["a", ">i2"], ["b", "<u4"], ["c", "|S2"]])
        bytes = UInt8[0x01, 0x02, 0x10, 0x00, 0x00, 0x00, 0x68, 0x69]
        v = PolyZarr.bytes_to_values(q, bytes)
        @test v[1].a == Int16(0x0102) && v[1].b == 0x10 && v[1].c == "hi"
        @test PolyZarr.values_to_bytes(q, v) == bytes
        @test typestr(NamedTuple{(:a, :b),Tuple{Int32,NTuple{3,Float64}}}) == Any[Any["a", "<i4"], Any["b", "<f8", Any[3]]]
        # layouts that match Julia's memory are reinterpreted, others decoded field by field
        @test PolyZarr.isnative(parse_dtype([["x", "<f8"], ["y", "<f8", [2]], ["t", "<M8[s]"]]))
        @test !PolyZarr.isnative(parse_dtype([["a", "<i4"], ["b", "<f8"]]))      # numpy packs, Julia pads
        @test !PolyZarr.isnative(parse_dtype([["a", "<f8"], ["b", ">f8"]]))      # a swapped field
        al = parse_dtype([["x", "<f8"], ["n", "<i8"]])
        vals = [(x=1.5, n=2), (x=-0.5, n=typemin(Int64))]
        @test PolyZarr.bytes_to_values(al, PolyZarr.values_to_bytes(al, vals)) == vals
        @test PolyZarr.values_to_bytes(al, vals)[9:16] == reinterpret(UInt8, [2])
    end
    @testset "byte order" begin
        for (ts, vals) in ((">i4", Int32[1, -2, typemax(Int32)]), (">f8", [1.5, -Inf, 0.1]), (">c8", ComplexF32[1 + 2im]),
                           (">U2", [FixedUTF32String{2}("é中")]), (">M8[ns]", [Datetime64{:ns,1}(12345)]),
                           (">f2", Float16[1.5, -2]), (">u8", UInt64[typemax(UInt64)]))
            d = parse_dtype(ts)
            b = PolyZarr.values_to_bytes(d, vals)
            eltype(vals) <: Union{Complex,FixedUTF32String} ||
                @test b == reverse(PolyZarr.values_to_bytes(parse_dtype("<" * ts[2:end]), reverse(vals)))
            @test isequal(PolyZarr.bytes_to_values(d, b), vals)
        end
        # compound types swap each component (numpy's bytes)
        @test PolyZarr.values_to_bytes(parse_dtype(">c8"), ComplexF32[1 + 2im]) == UInt8[0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]
        @test PolyZarr.values_to_bytes(parse_dtype(">U2"), [FixedUTF32String{2}("é中")]) == UInt8[0, 0, 0, 0xe9, 0, 0, 0x4e, 0x2d]
    end
    @testset "element types" begin
        s = FixedBytesString{5}("ab")
        @test String(s) == "ab" && s == "ab" && "ab" == s && s.data == (0x61, 0x62, 0, 0, 0)
        @test String(FixedBytesString{3}((0x61, 0x00, 0x62))) == "a\0b"   # only trailing NULs are padding
        u = FixedUTF32String{4}("é😀")
        @test String(u) == "é😀" && u == "é😀" && length(u.data) == 4
        @test zero(FixedBytesString{2}) == ""
        @test RawBytes{2}(UInt8[1, 2]).data == (0x01, 0x02)
        nat = Datetime64{:ns,1}(typemin(Int64))
        @test isnat(nat) && !isnat(Datetime64{:ns,1}(0)) && nat != nat && isequal(nat, nat)
        @test DateTime(Datetime64{:s,1}(86400)) == DateTime(1970, 1, 2)
        @test DateTime(Datetime64{:s,10}(6)) == DateTime(1970, 1, 1, 0, 1)
        @test DateTime(Datetime64{:D,1}(-1)) == DateTime(1969, 12, 31)
        @test DateTime(Datetime64{:ns,1}(1_500_000_000)) == DateTime(1970, 1, 1, 0, 0, 1, 500)
        @test_throws InexactError DateTime(Datetime64{:ns,1}(1))
        @test DateTime(Datetime64{:Y,1}(30)) == DateTime(2000) && DateTime(Datetime64{:M,1}(13)) == DateTime(1971, 2)
        @test Dates.Period(Timedelta64{:ms,1}(1500)) == Millisecond(1500)
        @test Dates.Period(Timedelta64{:h,2}(3)) == Hour(6)
        @test_throws InexactError Dates.Period(Timedelta64{:ps,1}(1))
        @test convert(DateTime, Datetime64{:ms,1}(1)) == DateTime(1970, 1, 1, 0, 0, 0, 1)
    end
end
