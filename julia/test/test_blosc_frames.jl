# blosc 1.x frames decoded by PolyZarr.jl itself (julia/src/codecs/blosc_frames.jl) against libblosc's own
# decode of the same frames, written by libblosc in every compressor, shuffle, type size and block size; frames
# it must leave to libblosc; damaged frames (never a different answer from libblosc's); the unshuffle kernel
# against the definition.
using Test, Random
using PolyZarr
const BF = PolyZarr

# `data` (a blosc frame decoding to n bytes) through the Julia frame decoder: the bytes, or nothing if declined.
function frames_here(data::Vector{UInt8})
    n = BF.blosc_decoded_size(data, "k")
    out = fill(0xa5, n)
    ok = GC.@preserve out BF.blosc_frames_decode!(pointer(out), n, data, "k")
    return ok ? out : nothing
end

# The same frame through libblosc alone (the reference): the bytes, or the error.
function libblosc_decode(data::Vector{UInt8})
    old = BF.BLOSC_FRAMES_HERE[]
    BF.BLOSC_FRAMES_HERE[] = false
    try
        return BF.decode(BF.BloscCodec("lz4", 5, 1, 0, 1), data; key="k")
    catch e
        return e
    finally
        BF.BLOSC_FRAMES_HERE[] = old
    end
end

function blosc_inputs(rng, typesize)
    return [
        "floats" => Vector{UInt8}(reinterpret(UInt8, round.(sin.((1:40_000) ./ 300) .* 1000)))[1:end - 5],
        "ramp" => UInt8[(i ÷ typesize) % 251 for i in 0:99_999],
        "random" => rand(rng, UInt8, 30_011),
        "tiny" => UInt8[1, 2, 3, 4, 5, 6, 7],
    ]
end

@testset "blosc frames decoded in Julia" begin
    rng = MersenneTwister(7)
    @testset "equal to libblosc for every frame libblosc writes" begin
        here = Dict{String,Int}()
        for cname in ("lz4", "lz4hc", "zstd", "zlib", "blosclz"), shuffle in (0, 1, 2),
            typesize in (1, 2, 3, 4, 8, 12, 16, 24), blocksize in (0, 256, 4096, 65536)
            for (name, x) in blosc_inputs(rng, typesize)
                frame = BF.encode(BF.BloscCodec(cname, 5, shuffle, blocksize, typesize), x)
                got = frames_here(frame)
                ref = libblosc_decode(frame)
                @test ref == x
                got === nothing && continue
                here[cname] = get(here, cname, 0) + 1
                @test got == x || (cname, shuffle, typesize, blocksize, name)
                flags = frame[3]
                @test flags & (BF.BLOSC_MEMCPYED | BF.BLOSC_DOBITSHUFFLE) == 0 && (flags >> 5) in (1, 3, 4)
            end
        end
        # every compressor with a library of its own is decoded here (blosclz is libblosc's own)
        @test all(c -> get(here, c, 0) > 100, ("lz4", "lz4hc", "zstd", "zlib"))
        @test !haskey(here, "blosclz")
    end

    @testset "bit-shuffled, blosclz and memcpyed frames are left to libblosc" begin
        x = Vector{UInt8}(reinterpret(UInt8, collect(1.0:5000.0)))
        for c in (BF.BloscCodec("lz4", 5, 2, 0, 8), BF.BloscCodec("blosclz", 5, 1, 0, 8),
                  BF.BloscCodec("lz4", 0, 1, 0, 8))          # clevel 0: stored as it is (memcpyed)
            frame = BF.encode(c, x)
            @test frames_here(frame) === nothing
            @test BF.decode(c, frame; key="k") == x            # through blosc_decompress!, which hands over
        end
    end

    @testset "a damaged frame: declined or the same bytes as libblosc, never an exception" begin
        x = Vector{UInt8}(reinterpret(UInt8, round.(sin.((1:20_000) ./ 30) .* 100)))
        for c in (BF.BloscCodec("lz4", 5, 1, 4096, 8), BF.BloscCodec("zstd", 3, 1, 0, 4),
                  BF.BloscCodec("zlib", 5, 0, 2048, 2))
            frame = BF.encode(c, x)
            for trial in 1:150
                bad = copy(frame)
                i = rand(rng, 17:length(bad))                  # past the header blosc_decoded_size checks
                bad[i] ⊻= rand(rng, 0x01:0xff)
                got = frames_here(bad)                         # must not throw
                got === nothing && continue
                ref = libblosc_decode(bad)
                @test ref == got || (c.cname, i)
            end
        end
        # declined frames still end in libblosc's CodecError naming the key
        frame = BF.encode(BF.BloscCodec("lz4", 5, 1, 0, 8), x)
        bad = copy(frame)
        bad[BF.BLOSC_MAX_OVERHEAD + 1:BF.BLOSC_MAX_OVERHEAD + 4] .= 0xff   # the first block starts nowhere
        @test frames_here(bad) === nothing
        err = try
            BF.decode(BF.BloscCodec("lz4", 5, 1, 0, 8), bad; key="0.0")
            nothing
        catch e
            e
        end
        @test err isa BF.CodecError && err.key == "0.0"
    end

    @testset "the unshuffle kernel is the definition" begin
        for typesize in 1:20, nbytes in (0, 1, typesize, 7 * typesize + 3, 1000, 4099)
            src = rand(rng, UInt8, nbytes)
            dest = zeros(UInt8, nbytes)
            GC.@preserve src dest BF._unshuffle!(pointer(dest), pointer(src), nbytes, typesize)
            n = nbytes ÷ typesize
            want = copy(src)                                   # the trailing nbytes % typesize stay as they are
            for i in 0:n-1, j in 0:typesize-1
                want[typesize * i + j + 1] = src[j * n + i + 1]
            end
            @test dest == want
        end
    end
end
