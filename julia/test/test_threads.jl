# Threads (issue 16): writes encode and store chunks on all threads, byte for byte what one task
# writes; sharded reads decode inner chunks on all threads (whole and partial shards, missing inner
# chunks and shards); an error in one task surfaces as the error a one-thread run raises, naming
# the key.  Under one thread this file runs itself again in a `julia -t 2` child.
include(joinpath(@__DIR__, "testutils.jl"))

if Threads.nthreads() < 2
    @testset "threads (in a julia -t 2 child)" begin
        pkg = normpath(joinpath(@__DIR__, ".."))
        code = "pushfirst!(LOAD_PATH, $(repr(pkg))); using PolyZarr, Test; " *
               "@testset \"threads\" begin include($(repr(joinpath(@__DIR__, "test_threads.jl")))) end"
        cmd = `$(Base.julia_cmd()) --startup-file=no --history-file=no -t 2 -e $code`
        @test success(pipeline(cmd; stdout=stdout, stderr=stderr))
    end
else

"A wrapper that PolyZarr does not know to be thread-safe: writes through it run on one task."
struct OneTaskStore <: PolyZarr.AbstractStore
    inner::PolyZarr.AbstractStore
end
PolyZarr.readkey(s::OneTaskStore, k::AbstractString) = PolyZarr.readkey(s.inner, k)
PolyZarr.readrange(s::OneTaskStore, k::AbstractString, off::Integer, n::Integer) =
    PolyZarr.readrange(s.inner, k, off, n)
PolyZarr.writekey!(s::OneTaskStore, k::AbstractString, d::AbstractVector{UInt8}) = PolyZarr.writekey!(s.inner, k, d)
PolyZarr.deletekey!(s::OneTaskStore, k::AbstractString) = PolyZarr.deletekey!(s.inner, k)
PolyZarr.listkeys(s::OneTaskStore, p::AbstractString="") = PolyZarr.listkeys(s.inner, p)

"Every key and its bytes (the lock file of partial writes left out)."
snapshot(st) = Dict(k => readkey(st, k) for k in listkeys(st) if !endswith(k, ".polyzarr-lock"))

"Write with `f(store)` on all threads and on one task; both stores must hold the same bytes."
function same_bytes(f; memory=false)
    if memory
        m1, m2 = MemoryStore(), MemoryStore()
        f(m1)
        f(OneTaskStore(m2))
        return snapshot(m1) == snapshot(m2) && length(listkeys(m1)) > 2
    end
    d = tmpdir()
    s1, s2 = DirectoryStore(joinpath(d, "threads")), DirectoryStore(joinpath(d, "one"))
    f(s1)
    f(OneTaskStore(s2))
    return snapshot(s1) == snapshot(s2) && length(listkeys(s1)) > 2
end

# values with all-fill chunks (deleted, not stored) among the others
function testdata(::Type{T}, dims...) where {T}
    A = T <: AbstractFloat ? T.(round.(sin.(1:prod(dims)) .* 100; digits=2)) : T.(mod.(1:prod(dims), 97))
    A = reshape(A, dims...)
    A[1:min(end, 8), :] .= zero(T)
    return A
end

@testset "threads ($(Threads.nthreads()))" begin
    @testset "threaded writes: the bytes of a one-task write" begin
        A = testdata(Float64, 30, 37)
        zstd = Dict("id" => "zstd", "level" => 1)
        blosc = Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1)
        for (conv, comp) in ((:reverse, zstd), (:F, blosc), (:reverse, nothing))
            @test same_bytes(st -> write_array(st, "a", A; convention=conv, chunks=(4, 5), compressor=comp))
        end
        @test same_bytes(st -> write_array(st, "a", A; chunks=(4, 5)); memory=true)
        @test same_bytes(st -> write_array(st, "a", A; chunks=(4, 5), dimension_separator="/"))   # nested dirs
        # v3: regular chunks; shards with edge shards, empty inner chunks and an all-fill shard
        @test same_bytes(st -> write_array(st, "v", A; zarr_format=3, chunks=(3, 4)))
        for loc in ("end", "start")
            @test same_bytes(st -> write_array(st, "s", A; zarr_format=3, chunks=(2, 3), shards=(8, 9),
                                               index_location=loc))
        end
        # rectilinear grids: chunks of several sizes written at once (each task its own chunk array)
        @test same_bytes(st -> write_array(st, "g", A; zarr_format=3, chunks=([2, 3, 5, 7, 13], [1, 4, 6, 9, 10, 7])))
        @test same_bytes(st -> write_array(st, "gs", A; zarr_format=3, chunks=(2, 1), shards=([4, 6, 20], [6, 12, 19])))
        # other element types: strings (object chunks), Int16 big-endian, 3-d
        S = reshape(["s$(i % 7)" for i in 1:120], 10, 12)
        @test same_bytes(st -> write_array(st, "t", S; chunks=(3, 5)))
        @test same_bytes(st -> write_array(st, "b", testdata(Int16, 9, 11); chunks=(2, 3), dtype=">i2"))
        @test same_bytes(st -> write_array(st, "c", reshape(Float32.(1:240) ./ 7, 6, 8, 5); chunks=(4, 3, 2)))
        # regions: partial chunks are read, updated and rewritten (under the chunk lock)
        function regions(st)
            a = create_array(st, "r"; juliasize=(30, 37), chunks=(4, 5), dtype=Float64)
            a[:, :] = A
            a[3:27, 2:35] = fill(-1.5, 25, 34)
            a[1:30, 6:10] = A[1:30, 1:5] .* 2
            a[5, 5] = 7.0
            s = create_array(st, "rs"; juliasize=(30, 37), chunks=(2, 3), shards=(8, 9), zarr_format=3, dtype=Int32)
            s[:, :] = Int32.(mod.(1:30 * 37, 101))
            s[4:25, 3:30] = zeros(Int32, 22, 28)
            return nothing
        end
        @test same_bytes(regions)
        @test same_bytes(regions; memory=true)
        d = tmpdir()
        regions(DirectoryStore(d))
        B = copy(A)
        B[3:27, 2:35] .= -1.5
        B[1:30, 6:10] = A[1:30, 1:5] .* 2
        B[5, 5] = 7.0
        @test read_array(open_array(DirectoryStore(d), "r")) == B
    end

    @testset "threaded sharded reads" begin
        A = testdata(Int32, 30, 37)
        A[9:12, 10:18] .= 0                   # a whole shard row of inner chunks is fill
        d = tmpdir()
        st = DirectoryStore(d)
        write_array(st, "s", A; zarr_format=3, chunks=(2, 3), shards=(8, 9))
        # one shard: its inner chunks are decoded on all threads
        write_array(st, "one", A; zarr_format=3, chunks=(4, 5), shards=(32, 40))
        deletekey!(st, "s/c/1/0")             # a missing shard (Zarr grid (1, 0): Julia rows 1:8, columns 10:18)
        B = copy(A)
        B[1:8, 10:18] .= 0
        for name in ("s", "one")
            a = open_array(st, name)
            want = name == "s" ? B : A
            @test read_array(a) == want
            @test a[3:29, 2:33] == want[3:29, 2:33]            # partial shards: inner chunks by byte ranges
            @test a[5, 7] == want[5, 7]
            dest = zeros(Int32, 37, 30)                        # a strided destination
            PolyZarr.read_region!(PermutedDimsArray(dest, (2, 1)), a, (1:30, 1:37))
            @test dest == permutedims(want)
        end
        @test all(x -> x == 0, open_array(st, "one")[9:12, 10:18])   # missing inner chunks read as fill
    end

    @testset "an error in one task: the error of a one-task run, naming the key" begin
        A = testdata(Float64, 64, 40)
        d = tmpdir()
        st = DirectoryStore(d)
        write_array(st, "a", A; chunks=(8, 5))
        writekey!(st, "a/5.3", UInt8[0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 0x01, 0x02, 0x03, 0x04])   # corrupt zstd
        caught(f) = try
            f()
            nothing
        catch e
            e
        end
        # the chunk alone (one task), then among all the others (all threads)
        e1 = caught(() -> open_array(st, "a")[25:32, 26:30])
        @test e1 isa PolyZarrError && occursin("a/5.3", e1.key)
        for f in (() -> read_array(open_array(st, "a")), () -> open_array(st, "a")[:, 20:40])
            e2 = caught(f)
            @test typeof(e2) == typeof(e1) && e2.key == e1.key && e2.msg == e1.msg
        end
        # a shard with a corrupt inner chunk, read whole and in parts (one shard: inner chunks on all threads)
        write_array(st, "s", A; zarr_format=3, chunks=(8, 5), shards=(64, 40))
        sh = readkey(st, "s/c/0/0")
        s = open_array(st, "s").pipeline.serializer
        idx, data = PolyZarr.split_shard(s, sh)
        r = PolyZarr.shard_entry(s, idx, 10, data)                 # Zarr inner chunk (1, 1): Julia 9:16, 6:10
        sh[first(r) + 1:first(r) + 4] .= 0x00                      # not a zstd frame any more
        writekey!(st, "s/c/0/0", sh)
        e1 = caught(() -> open_array(st, "s")[9:16, 6:10])
        @test e1 isa CodecError && e1.key == "s/c/0/0"
        for f in (() -> read_array(open_array(st, "s")), () -> open_array(st, "s")[2:60, 3:39])
            e2 = caught(f)
            @test typeof(e2) == typeof(e1) && e2.key == e1.key && e2.msg == e1.msg
        end
        # a write whose chunk cannot be stored (a directory in its place)
        mkpath(joinpath(d, "w", "3.2"))
        @test raises(() -> write_array(st, "w", A; chunks=(8, 5)), StoreError, "w/3.2")
        # the chunks taken before it were written (Zarr 1.1 is item 10 of 64, 3.2 item 27)
        @test readkey(st, "w/1.1") !== nothing
    end
end

end
