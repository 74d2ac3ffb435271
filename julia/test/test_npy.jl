# npy.jl: .npy read/write, exact dtypes, byte-identical to numpy's own files.
include(joinpath(@__DIR__, "testutils.jl"))

const PZN = PolyZarr

@testset "npy" begin
    files = filter(f -> endswith(f, ".npy"), readdir(joinpath(DATA, "expected")))
    @test length(files) > 50
    @testset "numpy-written files: read, and write back byte for byte" begin
        d = tmpdir()
        for f in files
            src = joinpath(DATA, "expected", f)
            A, h = read_npy(src)
            @test size(A) == (h.fortran_order ? Tuple(h.shape) : Tuple(reverse(h.shape)))
            out = joinpath(d, f)
            write_npy(out, A, h.dtype.typestr; shape=h.shape, fortran_order=h.fortran_order)
            if f == "struct_padding.npy"     # padding bytes are unspecified; the values must agree
                @test isequal(read_npy(out)[1], A)
            else
                @test read(out) == read(src)
            end
        end
    end
    @testset "header forms" begin
        A, h = read_npy(joinpath(DATA, "expected", "be_i4.npy"))
        @test h.dtype.typestr == ">i4" && h.shape == [5, 4] && eltype(A) == Int32
        # version 2 and 3 headers, fortran_order, structured descr with sub-array shapes
        io = IOBuffer()
        hdr = "{'descr': [('a', '<i2'), ('b', '>f8', (2,))], 'fortran_order': True, 'shape': (2, 1), }"
        hdr *= " "^(64 - (12 + length(hdr) + 1) % 64) * "\n"
        write(io, PZN.NPY_MAGIC, UInt8(2), UInt8(0), htol(UInt32(length(hdr))), hdr)
        write(io, Int16(1), bswap(1.5), bswap(2.5), Int16(-1), bswap(3.5), bswap(4.5))
        B, hb = read_npy(take!(io))
        @test hb.fortran_order && size(B) == (2, 1)
        @test B[1] == (a=Int16(1), b=(1.5, 2.5)) && B[2] == (a=Int16(-1), b=(3.5, 4.5))
        # non-ASCII field names need version 3
        io = IOBuffer()
        write_npy(io, [(é=Int8(1),)], [["é", "|i1"]]; shape=[1])
        b = take!(io)
        @test b[7] == 3 && read_npy(b)[1][1] == (é=Int8(1),)
        # 0-d
        io = IOBuffer()
        write_npy(io, fill(2.5), "<f8"; shape=Int[])
        z, hz = read_npy(take!(io))
        @test hz.shape == Int[] && z[] == 2.5
    end
    if !isempty(python())
        @testset "numpy reads what we write" begin
            d = tmpdir()
            write_npy(joinpath(d, "a.npy"), reshape(collect(1.0:6.0), 3, 2), ">f8")
            write_npy(joinpath(d, "s.npy"), [(a=Int32(1), b=(1.0, 2.0)), (a=Int32(2), b=(3.0, 4.0))],
                      [["a", "<i4"], ["b", ">f8", [2]]])
            out = runpy("""
import numpy as np
a = np.load('$d/a.npy'); s = np.load('$d/s.npy')
print(a.dtype.str, a.shape, a[1].tolist(), s.dtype.descr, s['b'][1].tolist())""")
            @test strip(out) == ">f8 (2, 3) [4.0, 5.0, 6.0] [('a', '<i4'), ('b', '>f8', (2,))] [3.0, 4.0]"
        end
    end
end
