# Zarr v3 codecs (docs/V3.md): transpose (every permutation of rank 2 and 3, some of rank 4,
# against a brute-force numpy transpose), bytes, gzip / zstd / blosc / crc32c, unknown codecs with
# must_understand false, and v2 order "F" as the same transpose codec.
include(joinpath(@__DIR__, "testutils.jl"))

const PZT = PolyZarr

all_perms(n) = n == 0 ? [Int[]] : [vcat(p[1:i - 1], n - 1, p[i:end]) for p in all_perms(n - 1) for i in 1:n]

# numpy's B = A.transpose(p), with A and B held in the reversed Julia layout (size reverse(shape)):
# B[i_0..i_{n-1}] = A[j] with j[p[k]] = i_k; Julia index J of Aj is numpy index reverse(J) .- 1.
function numpy_transpose(Aj::AbstractArray, p)
    n = ndims(Aj)
    S = reverse(collect(size(Aj)))                 # A's Zarr shape
    BS = [S[p[k] + 1] for k in 1:n]
    Bj = similar(Aj, Tuple(reverse(BS)))
    for J in CartesianIndices(Bj)
        i = reverse(collect(Tuple(J))) .- 1        # B's numpy index
        j = zeros(Int, n)
        for k in 1:n
            j[p[k] + 1] = i[k]
        end
        Bj[J] = Aj[reverse(j .+ 1)...]
    end
    return Bj
end

@testset "v3 codecs" begin
    @testset "transpose: q[k] = n - p[n-k] (layout.jl)" begin
        @test PZT.transpose_julia_perm([0, 1, 2]) == [1, 2, 3]
        @test PZT.transpose_julia_perm([2, 1, 0]) == [3, 2, 1]
        @test PZT.transpose_julia_perm([1, 2, 0]) == [3, 1, 2]    # not p .+ 1 == [2, 3, 1]
        @test PZT.transpose_julia_perm([2, 0, 1]) == [2, 3, 1]
        for n in 1:4, p in all_perms(n)
            A = reshape(collect(1:prod(2:n + 1)), Tuple(2:n + 1))
            @test permutedims(A, PZT.transpose_julia_perm(p)) == numpy_transpose(A, p)
        end
        @test PZT.chunk_encode_perm('C', [], 3) === nothing
        @test PZT.chunk_encode_perm('F', [[2, 1, 0]], 3) === nothing      # v2 order F: bytes are the Julia chunk
        @test PZT.chunk_encode_perm('C', [[1, 2, 0], [2, 0, 1]], 3) === nothing   # inverse pair
        @test PZT.chunk_encode_perm('C', [[1, 2, 0]], 3) == [3, 1, 2]
        @test PZT.transposed_shape([2, 3, 4], [1, 2, 0]) == [3, 4, 2]
    end
    @testset "transpose: every permutation of rank 2 and 3, some of rank 4" begin
        perms = vcat(all_perms(2), all_perms(3), [[3, 1, 0, 2], [1, 2, 3, 0], [3, 2, 1, 0], [0, 3, 2, 1], [2, 0, 3, 1]])
        for p in perms
            n = length(p)
            S = [5, 4, 3, 2][1:n]
            C = [2, 3, 2, 2][1:n]
            m = MemoryStore()
            a = create_array(m, "t"; zarr_format=3, shape=S, chunks=C, dtype=">i4", transpose=p, compressor=nothing)
            A = reshape(Int32.(1:prod(S)), Tuple(reverse(S)))
            write_array!(a, A)
            b = open_array(m, "t")
            @test read_array(b) == A
            @test b[1:2, ntuple(_ -> 2:3, n - 1)...] == A[1:2, ntuple(_ -> 2:3, n - 1)...]
            # chunk c/0/…/0 is the first (full) chunk transposed, big-endian, in C order
            first_chunk = A[map(c -> 1:c, Tuple(reverse(C)))...]
            expect = PZT.values_to_bytes(PZT.parse_dtype(">i4"), vec(numpy_transpose(first_chunk, p)))
            @test readkey(m, "t/c/" * join(zeros(Int, n), "/")) == expect
            # a transpose inside a pipeline costs one permutedims per chunk; identity costs none
            @test (b.pipeline.perm === nothing) == (p == 0:n - 1)
        end
        # legacy spellings: "C" is the identity, "F" the reversal
        m = MemoryStore()
        for (o, want) in (("C", [0, 1, 2]), ("F", [2, 1, 0]))
            a = create_array(m, o; zarr_format=3, shape=[3, 4, 5], chunks=[2, 2, 2], dtype="uint16",
                             codecs=Any[Dict("name" => "transpose", "configuration" => Dict("order" => o)),
                                        Dict("name" => "bytes", "configuration" => Dict("endian" => "little"))])
            @test a.pipeline.transposes[1].order == want
            A = reshape(UInt16.(1:60), 5, 4, 3)
            write_array!(a, A)
            @test read_array(open_array(m, o)) == A
        end
    end
    @testset "v2 order F is the same codec: same chunk bytes" begin
        A = reshape(collect(1.0:24.0), 4, 3, 2)
        m = MemoryStore()
        f2 = write_array(m, "f2", A; convention=:F, chunks=(2, 2, 2), compressor=nothing)
        f3 = write_array(m, "f3", A; convention=:F, chunks=(2, 2, 2), compressor=nothing, zarr_format=3)
        @test f2.pipeline.transposes[1].order == [2, 1, 0] && f2.pipeline.perm === nothing
        @test f3.pipeline.transposes[1].order == [2, 1, 0]
        @test readkey(m, "f2/1.0.1") == readkey(m, "f3/c/1/0/1")
        @test read_numpy_order(open_array(m, "f2")) == read_numpy_order(open_array(m, "f3"))
        @test size(open_array(m, "f3")) == (2, 3, 4) && open_array(m, "f3")[2, 3, 4] == A[4, 3, 2]
    end
    @testset "gzip, zstd, blosc, crc32c" begin
        A = reshape(Float32.(1:600) ./ 7, 20, 30)
        for comp in (Dict("name" => "gzip", "configuration" => Dict("level" => 5)),
                     Dict("name" => "zstd", "configuration" => Dict("level" => 3, "checksum" => true)),
                     Dict("name" => "zstd", "configuration" => Dict("level" => 0, "checksum" => false)),
                     Dict("name" => "blosc", "configuration" => Dict("cname" => "lz4", "clevel" => 5, "shuffle" => "shuffle", "typesize" => 4, "blocksize" => 0)),
                     Dict("name" => "blosc", "configuration" => Dict("cname" => "zstd", "clevel" => 3, "shuffle" => "bitshuffle", "typesize" => 4, "blocksize" => 0)),
                     Dict("name" => "blosc", "configuration" => Dict("cname" => "blosclz", "clevel" => 9, "shuffle" => "noshuffle")),
                     Dict("name" => "crc32c"),
                     [Dict("name" => "crc32c"), Dict("name" => "gzip", "configuration" => Dict("level" => 1))])
            m = MemoryStore()
            a = create_array(m, "c"; zarr_format=3, shape=[30, 20], chunks=[7, 8], dtype="float32", compressor=comp)
            write_array!(a, A)
            b = open_array(m, "c")
            @test read_array(b) == A
            # each chunk decodes with the codec alone (bytes in C order, little-endian)
            raw = readkey(m, "c/c/0/0")
            for c in reverse(b.pipeline.bytes_codecs)
                raw = PZT.decode(c, raw)
            end
            @test raw == PZT.values_to_bytes(PZT.parse_dtype("<f4"), vec(A[1:8, 1:7]))
        end
        # zarr-python's spelling of each codec (every parameter), e.g. blosc's typesize from the dtype
        m = MemoryStore()
        create_array(m, "b"; zarr_format=3, shape=[4], dtype="int64", compressor=Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => -1))
        @test PZT.parse_json(readkey(m, "b/zarr.json"))["codecs"][2] == Dict("name" => "blosc", "configuration" =>
            Dict("typesize" => 8, "cname" => "lz4", "clevel" => 5, "shuffle" => "shuffle", "blocksize" => 0))
        create_array(m, "z"; zarr_format=3, shape=[4], dtype="int64")
        @test PZT.parse_json(readkey(m, "z/zarr.json"))["codecs"][2] == Dict("name" => "zstd", "configuration" => Dict("level" => 0, "checksum" => false))
        create_array(m, "k"; zarr_format=3, shape=[4], dtype="int64", compressor=Dict("id" => "crc32c"))
        @test PZT.parse_json(readkey(m, "k/zarr.json"))["codecs"][2] == Dict("name" => "crc32c")
        # blosc without typesize in the metadata takes the item size
        a = create_array(m, "t"; zarr_format=3, shape=[4], dtype="int16", compressor=Dict("name" => "blosc", "configuration" => Dict("cname" => "lz4")))
        @test a.pipeline.bytes_codecs[1].typesize == 2
        # a numcodecs compressor without a v3 name of its own is numcodecs.<id> (zarr-python 3.4)
        create_array(m, "zl"; zarr_format=3, shape=[4], dtype="int64", compressor=Dict("id" => "zlib"))
        @test PZT.parse_json(readkey(m, "zl/zarr.json"))["codecs"][2] == Dict("name" => "numcodecs.zlib",
                                                                             "configuration" => Dict("level" => 1))
    end
    @testset "crc32c: verified on read" begin
        m = MemoryStore()
        a = create_array(m, "a"; zarr_format=3, shape=[6, 4], chunks=[3, 4], dtype="int32", compressor=Dict("id" => "crc32c"))
        write_array!(a, reshape(Int32.(1:24), 4, 6))
        b = copy(readkey(m, "a/c/1/0"))
        b[5] ⊻= 0x01                                 # one flipped bit in the data
        writekey!(m, "a/c/1/0", b)
        @test raises(() -> read_array(open_array(m, "a")), ChunkError, "a/c/1/0", "crc32c mismatch")
        @test open_array(m, "a")[:, 1:3] == reshape(Int32.(1:12), 4, 3)     # the other chunk is fine
        b = copy(readkey(m, "a/c/0/0"))
        b[end] ⊻= 0x80                               # a flipped bit in the checksum itself
        writekey!(m, "a/c/0/0", b)
        @test raises(() -> open_array(m, "a")[1, 1], ChunkError, "a/c/0/0", "crc32c")
        writekey!(m, "a/c/0/0", UInt8[1, 2])
        @test raises(() -> open_array(m, "a")[1, 1], ChunkError, "a/c/0/0", "too short")
    end
    @testset "unknown codecs with must_understand: false are skipped" begin
        m = MemoryStore()
        codecs = Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "little")),
                     Dict("name" => "x-note", "configuration" => Dict("any" => 1), "must_understand" => false)]
        a = create_array(m, "a"; zarr_format=3, shape=[3], dtype="int16", codecs=codecs)
        @test isempty(a.pipeline.bytes_codecs)
        write_array!(a, Int16[1, 2, 3])
        @test readkey(m, "a/c/0") == UInt8[1, 0, 2, 0, 3, 0]
        @test PZT.parse_json(readkey(m, "a/zarr.json"))["codecs"][2]["name"] == "x-note"    # kept as given
        # a bare string names a codec without configuration
        b = create_array(m, "b"; zarr_format=3, shape=[3], dtype="uint8", codecs=Any["bytes", "crc32c"])
        write_array!(b, UInt8[1, 2, 3])
        @test read_array(open_array(m, "b")) == UInt8[1, 2, 3]
    end
end
