# arrays.jl: reading every zarr-python fixture, regions, writes, conventions, edge cases.
include(joinpath(@__DIR__, "testutils.jl"))

const PZA = PolyZarr
rev(A) = permutedims(A, ndims(A):-1:1)

@testset "arrays" begin
    s = DirectoryStore(FIXTURES)
    man = manifest()
    @testset "every fixture reads as zarr-python wrote it" begin
        for (path, m) in sort(collect(man); by=first)
            a = open_array(s, path)
            exp = expected(m["expected"])                  # numpy C data, Julia size reverse(shape)
            @test zorder(a) == m["order"][1]
            @test isequal(read_numpy_order(a), exp)
            # the Julia layout: C → reverse(shape) with the same memory; F → shape, numpy's indices
            A = read_array(a)
            @test size(A) == (a.meta.order == 'C' ? size(exp) : reverse(size(exp)))
            @test isequal(A, a.meta.order == 'C' ? exp : rev(exp))
        end
    end
    @testset "regions and indexing" begin
        for path in ("le_i4/C_zstd", "le_i4/F_zlib", "be_f8/F_blosc", "shapes/three_d_C", "shapes/three_d_F", "U4_e" |> x -> "le_U4/C_zstd")
            a = open_array(s, path)
            A = read_array(a)
            for rs in (map(n -> 1:n, size(A)), map(n -> 2:n, size(A)), map(n -> 1:1, size(A)), map(n -> n:n, size(A)),
                       map(n -> 1:min(n, 2), size(A)))
                @test isequal(a[rs...], A[rs...])
            end
            @test isequal(a[end], A[end]) && isequal(a[1], A[1])
            if ndims(A) == 2
                @test isequal(a[2, :], A[2, :]) && isequal(a[[1, 3], 1:2:end], A[[1, 3], 1:2:end])
                @test isequal(a[3, 4], A[3, 4]) && isequal(a[:, 2], A[:, 2])
            else
                @test isequal(a[:, 2, 3:4], A[:, 2, 3:4]) && isequal(a[end, end, end], A[end, end, end])
            end
            @test size(a) == size(A) && eltype(a) == eltype(A)
            @test isequal(Array(a), A) && isequal(collect(a), A)
        end
        a = open_array(s, "le_i4/C_zstd")
        @test_throws BoundsError a[0, 1]
        @test_throws BoundsError a[1:5, 1]
        @test zshape(a) == [5, 4] && size(a) == (4, 5)
    end
    @testset "missing chunks read as fill" begin
        a = open_array(s, "fill/f8_m15_C")
        @test readkey(s, "fill/f8_m15_C/2.1") === nothing
        @test a[4, 5] == -1.5
        a = open_array(s, "fill/S5_zz_F")
        @test a[5, 4] == "zz"
        o = open_array(s, "object/vlen_utf8_C")
        @test eltype(o) === String && o[2, 1] == "a"
    end
    @testset "nested keys under an implied separator" begin
        # zarr < 2.8's NestedDirectoryStore: "/" chunk keys, no dimension_separator in .zarray
        m = MemoryStore()
        meta(sep) = string("{\"zarr_format\": 2, \"shape\": [4, 3], \"chunks\": [2, 3], \"dtype\": \"<i2\",",
                           " \"order\": \"C\", \"compressor\": null, \"fill_value\": -1, \"filters\": null",
                           sep === nothing ? "" : ", \"dimension_separator\": \"$sep\"", "}")
        for (name, sep) in (("implied", nothing), ("dot", "."))
            writekey!(m, "$name/.zarray", Vector{UInt8}(meta(sep)))
            # chunk (0, 0) missing; chunk (1, 0) holds rows 2-3 (Julia: columns 3-4 of the 3×4 array)
            writekey!(m, "$name/1/0", collect(reinterpret(UInt8, Int16[10, 11, 12, 13, 14, 15])))
        end
        a = open_array(m, "implied")
        @test read_array(a) == Int16[-1 -1 10 13; -1 -1 11 14; -1 -1 12 15]
        @test all(==(-1), read_array(open_array(m, "dot")))   # a declared "." is trusted
    end
    @testset "attributes and dimension names" begin
        a = open_array(s, "shapes/with_dims")
        @test attributes(a)["units"] == "m"
        @test dimnames(a) == ["x", "y"]             # reversed: the Julia array is (x, y)
        @test dimnames(open_array(s, "le_i4/C_zstd")) === nothing
    end
    @testset "0-d and zero-length" begin
        z = open_array(s, "shapes/zero_d")
        @test size(z) == () && z[] == 7.25 && read_array(z)[] == 7.25
        e = open_array(s, "shapes/empty")
        @test size(e) == (2, 0, 3) && size(read_array(e)) == (2, 0, 3)
        m = MemoryStore()
        z2 = create_array(m, "z"; shape=Int[], chunks=Int[], dtype="<i2", fill_value=3)
        @test z2[] == 3
        z2[] = 9
        @test listkeys(m, "z") == ["z/.zarray", "z/.zattrs", "z/0"] && open_array(m, "z")[] == 9
        e2 = write_array(m, "e", zeros(Float32, 0, 3))
        @test size(read_array(open_array(m, "e"))) == (0, 3) && zshape(e2) == [3, 0]
    end
    @testset "writing: round trip of every fixture" begin
        m = MemoryStore()
        for (path, _) in man
            a = open_array(s, path)
            md = a.meta
            A = read_array(a)
            b = create_array(m, path; shape=md.shape, chunks=md.chunks, dtype=md.dtype, order=string(md.order),
                             compressor=md.compressor, filters=md.filters, fill_value=md.fill_value,
                             dimension_separator=md.dimension_separator, attrs=a.attrs)
            write_array!(b, A)
            @test isequal(read_array(open_array(m, path)), A)
            # lossless pipelines store the same chunk bytes zarr-python stored
            lossless = md.filters === nothing && (md.compressor === nothing || md.compressor["id"] in ("zlib", "zstd"))
            # (padding bytes of structured dtypes are unspecified: numpy leaves whatever was there)
            if lossless && md.dtype.kind != 'O' && !occursin("padding", path)
                for k in listkeys(s, path)
                    startswith(basename(k), ".z") && continue
                    same = readkey(m, k) == readkey(s, k) || (b.pipeline.compressor !== nothing &&
                          PZA.decode(b.pipeline.compressor, readkey(m, k)) == PZA.decode(b.pipeline.compressor, readkey(s, k)))
                    same || @warn "chunk differs" k
                    @test same
                end
            end
        end
    end
    @testset "conventions" begin
        m = MemoryStore()
        A = reshape(Int16.(1:24), 2, 3, 4)
        r = write_array(m, "r", A; convention=:reverse, chunks=(2, 2, 3), attrs=Dict("_ARRAY_DIMENSIONS" => ["t", "y", "x"]))
        @test zshape(r) == [4, 3, 2] && zorder(r) == 'C' && read_array(open_array(m, "r")) == A
        @test dimnames(open_array(m, "r")) == ["x", "y", "t"]
        @test PZA.parse_json(readkey(m, "r/.zarray"))["chunks"] == [3, 2, 2]
        f = write_array(m, "f", A; convention=:F, chunks=(1, 2, 3))
        @test zshape(f) == [2, 3, 4] && zorder(f) == 'F' && read_array(open_array(m, "f")) == A
        @test read_numpy_order(open_array(m, "f")) == rev(A)
        # F chunk bytes are column-major of size chunks: chunk (0,0,0) holds A[1, 1:2, 1:3]
        c = reinterpret(Int16, PZA.decode(PZA.plain_codec(f.pipeline), readkey(m, "f/0.0.0")))
        @test c == vec(A[1:1, 1:2, 1:3])
        @test_throws ArgumentError write_array(m, "bad", A; convention=:C)
    end
    @testset "partial writes, fill, empty chunks" begin
        m = MemoryStore()
        a = create_array(m, "a"; shape=[5, 7], chunks=[2, 3], dtype="<f4", fill_value=NaN, compressor=nothing)
        @test all(isnan, read_array(a))
        a[2:3, 4] = Float32[1, 2]
        B = fill(NaN32, 7, 5)
        B[2:3, 4] = Float32[1, 2]
        @test isequal(read_array(open_array(m, "a")), B)
        a[:, 5] = 7
        B[:, 5] .= 7
        @test isequal(read_array(open_array(m, "a")), B)
        @test length(filter(k -> !startswith(basename(k), ".z"), listkeys(m, "a"))) == 4   # only touched chunks
        # write_empty_chunks=false deletes chunks that become all fill
        e = create_array(m, "e"; shape=[4], chunks=[2], dtype="<i4", fill_value=0, write_empty_chunks=false)
        e[:] = Int32[0, 0, 1, 0]
        @test listkeys(m, "e") == ["e/.zarray", "e/.zattrs", "e/1"]
        e[3:3] = Int32[0]
        @test listkeys(m, "e") == ["e/.zarray", "e/.zattrs"] && read_array(e) == zeros(Int32, 4)
        # overwrite rules
        @test raises(() -> create_array(m, "e"; shape=[1], dtype="<i4"), StoreError, "e/.zarray", "exists")
        e2 = create_array(m, "e"; shape=[3], dtype="<u1", overwrite=true)
        @test listkeys(m, "e") == ["e/.zarray", "e/.zattrs"] && eltype(e2) == UInt8
        # other element types
        st = write_array(m, "st", [(a=Int32(i), b=(1.0i, 2.0i)) for i in 1:5]; chunks=(2,))
        @test read_array(open_array(m, "st"))[5] == (a=Int32(5), b=(5.0, 10.0))
        ss = write_array(m, "ss", ["a", "bé", ""]; chunks=(2,))
        @test PZA.parse_json(readkey(m, "ss/.zarray"))["filters"] == [Dict("id" => "vlen-utf8")]
        @test read_array(open_array(m, "ss")) == ["a", "bé", ""]
        dt = write_array(m, "dt", [Datetime64{:ns,1}(5), Datetime64{:ns,1}(typemin(Int64))])
        @test PZA.parse_json(readkey(m, "dt/.zarray"))["dtype"] == "<M8[ns]"
        @test isequal(read_array(open_array(m, "dt")), [Datetime64{:ns,1}(5), Datetime64{:ns,1}(typemin(Int64))])
        be = create_array(m, "be"; shape=[3], dtype=">i8", compressor=nothing)
        be[:] = [1, -2, 3]
        @test readkey(m, "be/0")[1:8] == UInt8[0, 0, 0, 0, 0, 0, 0, 1] && read_array(be) == [1, -2, 3]
    end
    @testset "no whole-array copies" begin
        m = MemoryStore()
        A = rand(200, 300)
        a = write_array(m, "big", A; chunks=(64, 64), compressor=nothing)
        read_array(a)
        alloc = @allocated read_array(a)
        @test alloc < 3 * sizeof(A)                # the result plus per-chunk buffers (MemoryStore copies on read)
        read_numpy_order(write_array(m, "bigF", A; convention=:F, chunks=(64, 64), compressor=nothing))
        b = open_array(m, "bigF")
        alloc = @allocated read_numpy_order(b)
        @test alloc < 3 * sizeof(A)
    end
end
