# layout.jl: the one place for axis order.
include(joinpath(@__DIR__, "testutils.jl"))

const PZL = PolyZarr

@testset "layout" begin
    @test julia_size([2, 3, 4], 'C') == (4, 3, 2) && julia_size([2, 3, 4], 'F') == (2, 3, 4)
    @test julia_size(Int[], 'C') == () && julia_size([7], "F") == (7,)
    @test zarr_shape((4, 3, 2), 'C') == [2, 3, 4] && zarr_shape((4, 3, 2), 'F') == [4, 3, 2]
    @test chunk_key((1, 2, 3), 'C', ".") == "2.1.0" && chunk_key((1, 2, 3), 'F', ".") == "0.1.2"
    @test chunk_key((1, 2, 3), 'C', "/") == "2/1/0" && chunk_key((), 'C', ".") == "0"
    @test PZL.chunk_index("2.1.0", 3, 'C', ".") == (1, 2, 3) && PZL.chunk_index("0/1/2", 3, 'F', "/") == (1, 2, 3)
    @test PZL.chunk_index(".zarray", 1, 'C', ".") === nothing && PZL.chunk_index("0", 0, 'C', ".") == ()
    @test PZL.chunk_ranges((2, 1), (5, 4), (2, 3)) == (3:4, 1:3)
    @test PZL.chunk_ranges((3, 2), (5, 4), (2, 3)) == (5:5, 4:4)
    @test PZL.chunk_grid((5, 4), (2, 3)) == (3, 2) && PZL.chunk_grid((0, 4), (2, 3)) == (0, 2)
    # a C chunk's bytes are a column-major array of size reverse(chunks): numpy [i, j] = julia [j+1, i+1]
    v = collect(1:6)                               # numpy C chunk (2, 3) = [[1 2 3]; [4 5 6]]
    c = PZL.chunk_array(v, [2, 3], 'C')
    @test size(c) == (3, 2) && c[3, 1] == 3 && c[1, 2] == 4
    f = PZL.chunk_array(v, [2, 3], 'F')            # numpy F chunk (2, 3): memory 1 4 2 5 3 6 → [[1 3 5]; [2 4 6]]
    @test size(f) == (2, 3) && f[1, 2] == 3 && f[2, 1] == 2
    @test pointer(c) == pointer(v)                 # a view, no copy
    @test PZL.julia_dimnames(["t", "y", "x"], 'C') == ["x", "y", "t"] && PZL.julia_dimnames(["a", "b"], 'F') == ["a", "b"]
    @test PZL.julia_strides((4, 3, 2)) == [1, 4, 12]
    @test PZL.convention_order(:reverse) == 'C' && PZL.convention_order(:F) == 'F'
    @test_throws ArgumentError PZL.convention_order(:C)
end
