# Zarr v3 data types (docs/V3.md): every data_type × little/big endian written and read back,
# the stored bytes in the bytes codec's order, data_type JSON both ways, every fill encoding.
include(joinpath(@__DIR__, "testutils.jl"))

const PZD = PolyZarr

# Values of each kind: edge cases first (extremes, NaN, -0.0, NaT, unicode, empty strings).
v3_samples(::Type{Bool}, n) = [isodd(i) for i in 1:n]
v3_samples(::Type{T}, n) where {T<:Integer} = T[i == 1 ? typemin(T) : i == 2 ? typemax(T) : T(i % 100) for i in 1:n]
v3_samples(::Type{T}, n) where {T<:AbstractFloat} =
    T[i == 1 ? T(NaN) : i == 2 ? T(-0.0) : i == 3 ? T(Inf) : T(i) / T(3) for i in 1:n]
v3_samples(::Type{Complex{T}}, n) where {T} = [Complex{T}(x, -x) for x in v3_samples(T, n)]
v3_samples(::Type{RawBytes{N}}, n) where {N} = [RawBytes{N}(ntuple(j -> UInt8((7i + j) % 256), N)) for i in 1:n]
v3_samples(::Type{FixedBytesString{N}}, n) where {N} = [FixedBytesString{N}(i == 1 ? "" : string(i)[1:min(end, N)]) for i in 1:n]
v3_samples(::Type{FixedUTF32String{N}}, n) where {N} = [FixedUTF32String{N}(("", "é", "日本", "ab")[i % 4 + 1]) for i in 1:n]
v3_samples(::Type{T}, n) where {T<:Union{Datetime64,Timedelta64}} = [T(i == 1 ? PZD.NAT : 1000i - 5) for i in 1:n]
v3_samples(::Type{String}, n) = [("", "a", "ünïcode", "日本語", "x"^20)[i % 5 + 1] for i in 1:n]
v3_samples(::Type{Vector{UInt8}}, n) = [UInt8[j % 256 for j in 1:(i % 4)] for i in 1:n]
function v3_samples(::Type{T}, n) where {T<:NamedTuple}
    cols = [v3_samples(fieldtype(T, k), n) for k in 1:fieldcount(T)]
    return [T(Tuple(c[i] for c in cols)) for i in 1:n]
end
v3_samples(::Type{NTuple{M,E}}, n) where {M,E} = [ntuple(j -> v3_samples(E, n + M)[i + j - 1], M) for i in 1:n]

# data_type JSON → (has a byte order?)
const V3_TYPES = Any[
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128", "r8", "r16", "r24", "r64",
    Dict("name" => "fixed_length_utf32", "configuration" => Dict("length_bytes" => 12)),
    Dict("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 5)),
    Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 3)),
    Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 10)),
    Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "ns", "scale_factor" => 1)),
    Dict("name" => "numpy.timedelta64", "configuration" => Dict("unit" => "ms", "scale_factor" => 1)),
    Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int32"], Any["b", "float64"], Any["c", "r16"]])),
    Dict("name" => "structured", "configuration" => Dict("fields" => Any[
        Any["x", "uint8"], Any["s", Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["p", "int16"], Any["q", "float32"]]))],
        Any["v", "float32", Any[2, 2]]])),
    Dict("name" => "struct", "configuration" => Dict("fields" => Any[
        Dict("name" => "t", "data_type" => "int64"), Dict("name" => "u", "data_type" => "complex64")])),
]
const V3_VLEN_TYPES = Any[("string", "vlen-utf8", String), ("variable_length_bytes", "vlen-bytes", Vector{UInt8}),
                          ("bytes", "vlen-bytes", Vector{UInt8})]

bytes_codec(e) = e === nothing ? Dict("name" => "bytes") : Dict("name" => "bytes", "configuration" => Dict("endian" => e))

@testset "v3 data types" begin
    @testset "every data type × endian: values, stored byte order" begin
        for dtj in V3_TYPES, e in ("little", "big")
            m = MemoryStore()
            a = create_array(m, "a"; zarr_format=3, shape=[3, 5], chunks=[2, 3], dtype=dtj,
                             codecs=Any[bytes_codec(e)])
            T = eltype(a)
            A = reshape(v3_samples(T, 15), 5, 3)
            write_array!(a, A)
            b = open_array(m, "a")
            @test eltype(b) === T && size(b) == (5, 3)
            @test isequal(read_array(b), A)
            @test isequal(b[2:3, 2], A[2:3, 2])
            # chunk c/0/0 (Zarr [0:2, 0:3]) holds the values in C order, each in the codec's byte order
            dt = PZD.with_endian(PZD.parse_data_type(dtj), e == "big" ? '>' : '<')
            @test readkey(m, "a/c/0/0") == PZD.values_to_bytes(dt, vec(A[1:3, 1:2]))
            @test b.pipeline.dtype == dt             # and export's numpy dtype
            @test PZD.parse_data_type(PZD.data_type_json(dt), e == "big" ? '>' : '<') == dt
        end
        # 1-byte and byte-string types take a bytes codec without configuration
        for dtj in ("bool", "int8", "uint8", "r8", "r32",
                    Dict("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 4)),
                    Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 4)))
            m = MemoryStore()
            a = create_array(m, "a"; zarr_format=3, shape=[4], chunks=[3], dtype=dtj)
            @test PZD.parse_json(readkey(m, "a/zarr.json"))["codecs"][1] == Dict("name" => "bytes")
            A = v3_samples(eltype(a), 4)
            write_array!(a, A)
            @test isequal(read_array(open_array(m, "a")), A)
        end
    end
    @testset "variable-length types" begin
        for (dtj, codec, T) in V3_VLEN_TYPES
            m = MemoryStore()
            a = create_array(m, "a"; zarr_format=3, shape=[7], chunks=[3], dtype=dtj,
                             codecs=Any[Dict("name" => codec, "configuration" => Dict()), Dict("name" => "zstd")])
            @test eltype(a) === T
            A = v3_samples(T, 7)
            write_array!(a, A)
            @test read_array(open_array(m, "a")) == A
            # numcodecs' VLen layout: u32 count (the edge chunk is padded to 3), then u32 length + bytes per item
            b = readkey(m, "a/c/2")
            raw = PZD.decode(PZD.ZstdCodec(0, false), b)
            @test raw[1:4] == UInt8[3, 0, 0, 0] && raw[5:8] == reinterpret(UInt8, [htol(UInt32(sizeof(A[7])))])
        end
        # a Julia String array defaults to string + vlen-utf8
        m = MemoryStore()
        a = create_array(m, "s"; zarr_format=3, shape=[2], dtype=String)
        d = PZD.parse_json(readkey(m, "s/zarr.json"))
        @test d["data_type"] == "string" && d["codecs"][1] == Dict("name" => "vlen-utf8", "configuration" => Dict())
        @test d["fill_value"] == ""
    end
    @testset "data_type JSON ⇄ numpy dtype" begin
        @test PZD.parse_data_type("int32").typestr == "<i4" && PZD.parse_data_type("int32", '>').typestr == ">i4"
        @test PZD.parse_data_type("uint8", '>').typestr == "|u1" && PZD.parse_data_type("bool").typestr == "|b1"
        @test PZD.parse_data_type("r16").typestr == "|V2" && PZD.parse_data_type("r8").T === RawBytes{1}
        @test PZD.parse_data_type(Dict("name" => "fixed_length_utf32", "configuration" => Dict("length_bytes" => 20)), '>').typestr == ">U5"
        @test PZD.parse_data_type(Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 10))).typestr == "<M8[10s]"
        @test PZD.parse_data_type(Dict("name" => "numpy.timedelta64", "configuration" => Dict("unit" => "D"))).typestr == "<m8[D]"
        @test PZD.parse_data_type(Dict("name" => "int64")).typestr == "<i8"
        @test PZD.parse_data_type("string").T === String && PZD.parse_data_type("bytes").T === Vector{UInt8}
        st = PZD.parse_data_type(V3_TYPES[end - 2], '>')
        @test st.typestr == Any[Any["a", ">i4"], Any["b", ">f8"], Any["c", "|V2"]]
        @test PZD.data_type_json(PZD.parse_dtype("<M8[10s]")) ==
              Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 10))
        @test PZD.data_type_json(PZD.parse_dtype(">c16")) == "complex128"
        @test PZD.data_type_json(PZD.parse_dtype("|V3")) == Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 3))
        @test PZD.data_type_json(PZD.parse_dtype("|S3")) == Dict("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 3))
        @test PZD.data_type_json(PZD.parse_dtype(Any[Any["a", "<i4"], Any["b", ">f8", Any[2]]])) ==
              Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int32"], Any["b", "float64", [2]]]))
        @test PZD.dtype_endian(PZD.parse_dtype(">i4")) == '>' && PZD.dtype_endian(PZD.parse_dtype("|S4")) === nothing
        @test PZD.dtype_endian(PZD.parse_dtype(Any[Any["a", "|u1"], Any["b", ">f8"]])) == '>'
        # mixed byte orders are stored in one (the first multi-byte field's): values survive
        mixed = PZD.parse_dtype(Any[Any["a", "<i4"], Any["b", ">f8"]])
        m = MemoryStore()
        a = create_array(m, "m"; zarr_format=3, shape=[3], dtype=mixed)
        vals = [(a = Int32(i), b = i / 7) for i in 1:3]
        write_array!(a, vals)
        @test read_array(open_array(m, "m")) == vals
        @test open_array(m, "m").pipeline.dtype.typestr == Any[Any["a", "<i4"], Any["b", "<f8"]]
        # a big-endian numpy dtype writes endian "big"
        b = create_array(m, "b"; zarr_format=3, shape=[2], dtype=">u4")
        @test PZD.parse_json(readkey(m, "b/zarr.json"))["codecs"][1]["configuration"]["endian"] == "big"
        b[:] = UInt32[1, 0x01020304]
        @test readkey(m, "b/c/0")[5:8] == UInt8[1, 2, 3, 4] || PZD.decode(PZD.ZstdCodec(0, false), readkey(m, "b/c/0"))[5:8] == UInt8[1, 2, 3, 4]
    end
    @testset "fill values: every encoding" begin
        # (data_type, fill JSON, expected Julia value or predicate, JSON written back)
        cases = Any[
            ("bool", true, true, true), ("int8", -128, Int8(-128), -128), ("uint64", 18446744073709551615, typemax(UInt64), 18446744073709551615),
            ("float64", 1.5, 1.5, 1.5), ("float32", "NaN", x -> isnan(x), "NaN"),
            ("float64", "Infinity", Inf, "Infinity"), ("float16", "-Infinity", Float16(-Inf), "-Infinity"),
            ("float32", "0x7fc00001", x -> reinterpret(UInt32, x) == 0x7fc00001, "0x7fc00001"),
            ("float64", "0x7ff8000000000001", x -> reinterpret(UInt64, x) == 0x7ff8000000000001, "0x7ff8000000000001"),
            ("float16", "0x7e01", x -> reinterpret(UInt16, x) == 0x7e01, "0x7e01"),
            ("float64", "0x3ff0000000000000", 1.0, 1.0), ("float64", -0.0, x -> x === -0.0, -0.0),
            ("complex64", Any[1.0, "NaN"], x -> real(x) == 1 && isnan(imag(x)), Any[1.0, "NaN"]),
            ("complex128", Any["0x3ff0000000000000", -2], ComplexF64(1, -2), Any[1.0, -2.0]),
            ("r16", Any[1, 255], RawBytes{2}((0x01, 0xff)), Any[1, 255]),
            ("string", "hé", "hé", "hé"), ("variable_length_bytes", "YWI=", UInt8[0x61, 0x62], "YWI="),
            (Dict("name" => "fixed_length_utf32", "configuration" => Dict("length_bytes" => 8)), "é", FixedUTF32String{2}("é"), "é"),
            (Dict("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 4)), "YWI=", FixedBytesString{4}("ab"), "YWI="),
            (Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 2)), "AQI=", RawBytes{2}((1, 2)), "AQI="),
            (Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 1)), "NaT", x -> isnat(x), typemin(Int64)),
            (Dict("name" => "numpy.timedelta64", "configuration" => Dict("unit" => "s", "scale_factor" => 1)), 42, Timedelta64{:s,1}(42), 42),
            (Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "ns", "scale_factor" => 1)), -9223372036854775808, x -> isnat(x), typemin(Int64)),
            (Dict("name" => "structured", "configuration" => Dict("fields" => Any[Any["a", "int16"], Any["b", "uint8"]])),
             "AQAC", (a = Int16(1), b = UInt8(2)), "AQAC"),
        ]
        for (dtj, fv, want, back) in cases
            m = MemoryStore()
            a = create_array(m, "a"; zarr_format=3, shape=[2], chunks=[1], dtype=dtj, fill_value=fv)
            x = read_array(open_array(m, "a"))          # no chunks: both read as the fill
            @test want isa Function ? all(want, x) : all(isequal(want), x)
            meta = open_array(m, "a").meta
            @test PZD.encode_fill_value_v3(meta.data_type, meta.dtype, meta.fill) == back
            # the fill given as a Julia value is written in the same encoding
            if !(want isa Function)
                create_array(m, "b"; zarr_format=3, shape=[2], dtype=dtj, fill_value=want)
                @test PZD.parse_json(readkey(m, "b/zarr.json"))["fill_value"] == back
            end
        end
        # the fill's exact bits: a NaN payload chunk is all-fill (not stored), canonical NaN is not
        m = MemoryStore()
        a = create_array(m, "a"; zarr_format=3, shape=[4], chunks=[2], dtype="float32", fill_value="0x7fc00001")
        write_array!(a, [reinterpret(Float32, 0x7fc00001), reinterpret(Float32, 0x7fc00001), NaN32, NaN32])
        @test readkey(m, "a/c/0") === nothing && readkey(m, "a/c/1") !== nothing
        @test PZD.parse_json(readkey(m, "a/zarr.json"))["fill_value"] == "0x7fc00001"
        b = create_array(m, "b"; zarr_format=3, shape=[1], dtype="float64", fill_value=reinterpret(Float64, 0xfff8000000000000))
        @test PZD.parse_json(readkey(m, "b/zarr.json"))["fill_value"] == "0xfff8000000000000"   # -NaN: not "NaN"
        # defaults (as zarr-python 3.1): zero, false, "", NaT
        for (dtj, want) in (("int16", 0), ("bool", false), ("float32", 0.0), ("complex64", Any[0.0, 0.0]), ("string", ""),
                            ("variable_length_bytes", ""), ("r16", Any[0, 0]),
                            (Dict("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 3)), ""),
                            (Dict("name" => "raw_bytes", "configuration" => Dict("length_bytes" => 3)), "AAAA"),
                            (Dict("name" => "numpy.datetime64", "configuration" => Dict("unit" => "s", "scale_factor" => 1)), typemin(Int64)))
            create_array(m, "d"; zarr_format=3, shape=[1], dtype=dtj, overwrite=true)
            @test PZD.parse_json(readkey(m, "d/zarr.json"))["fill_value"] == want
        end
    end
end
