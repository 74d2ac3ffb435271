# Zarr v3 sharding_indexed (docs/V3.md): index at the end and at the start, transposes inside and
# outside, empty inner chunks (2^64-1 pairs) and shards, nested shards, and partial reads that
# touch only the byte ranges they need (counted on a wrapper store, and over S3 against moto).
include(joinpath(@__DIR__, "testutils.jl"))

const PZS3 = PolyZarr

"A store that counts what is read: whole values (`readkey`) and byte ranges (`readrange`)."
struct CountingStore <: PolyZarr.AbstractStore
    inner::PolyZarr.AbstractStore
    whole::Vector{String}
    ranges::Vector{Tuple{String,Int,Int}}
end
CountingStore(inner) = CountingStore(inner, String[], Tuple{String,Int,Int}[])
PolyZarr.readkey(s::CountingStore, k::AbstractString) = (push!(s.whole, String(k)); PolyZarr.readkey(s.inner, k))
PolyZarr.readrange(s::CountingStore, k::AbstractString, off::Integer, n::Integer) =
    (push!(s.ranges, (String(k), Int(off), Int(n))); PolyZarr.readrange(s.inner, k, off, n))
PolyZarr.writekey!(s::CountingStore, k::AbstractString, d::AbstractVector{UInt8}) = PolyZarr.writekey!(s.inner, k, d)
PolyZarr.deletekey!(s::CountingStore, k::AbstractString) = PolyZarr.deletekey!(s.inner, k)
PolyZarr.listkeys(s::CountingStore, p::AbstractString="") = PolyZarr.listkeys(s.inner, p)
reset!(s::CountingStore) = (empty!(s.whole); empty!(s.ranges); s)
chunk_reads(s::CountingStore) = count(r -> occursin("/c/", r[1]), s.ranges)

"""
A store whose range reads wait (yielding, as a network store does) and which says how many of them may be
in flight (`io_concurrency`, 16 for S3 over http); the most reads seen in flight at once is recorded.
"""
mutable struct LatencyStore <: PolyZarr.AbstractStore
    inner::PolyZarr.AbstractStore
    nio::Int
    inflight::Int
    most::Int
end
LatencyStore(inner, nio) = LatencyStore(inner, nio, 0, 0)
PolyZarr.io_concurrency(s::LatencyStore) = s.nio
PolyZarr.readkey(s::LatencyStore, k::AbstractString) = PolyZarr.readkey(s.inner, k)
function PolyZarr.readrange(s::LatencyStore, k::AbstractString, off::Integer, n::Integer)
    s.inflight += 1
    s.most = max(s.most, s.inflight)
    try
        sleep(0.02)
        return PolyZarr.readrange(s.inner, k, off, n)
    finally
        s.inflight -= 1
    end
end
PolyZarr.writekey!(s::LatencyStore, k::AbstractString, d::AbstractVector{UInt8}) = PolyZarr.writekey!(s.inner, k, d)
PolyZarr.deletekey!(s::LatencyStore, k::AbstractString) = PolyZarr.deletekey!(s.inner, k)
PolyZarr.listkeys(s::LatencyStore, p::AbstractString="") = PolyZarr.listkeys(s.inner, p)

# The moto endpoint for the S3 check: the one pytest gives, or a moto_server started here.
function v3_moto()
    ep = get(ENV, "POLYZARR_TEST_S3_ENDPOINT", "")
    isempty(ep) || return ep, nothing
    exe = get(ENV, "POLYZARR_MOTO_SERVER", joinpath(@__DIR__, "..", "..", ".venv", "bin", "moto_server"))
    isfile(exe) || return nothing, nothing
    port, srv = PolyZarr.Sockets.listenany(PolyZarr.Sockets.IPv4(127, 0, 0, 1), 25000)
    close(srv)
    proc = run(pipeline(`$exe -H 127.0.0.1 -p $(Int(port))`; stdout=devnull, stderr=devnull); wait=false)
    t0 = time()
    while time() - t0 < 20
        try
            close(PolyZarr.Sockets.connect(PolyZarr.Sockets.IPv4(127, 0, 0, 1), port))
            return "http://127.0.0.1:$(Int(port))", proc
        catch
            process_running(proc) || break
            sleep(0.1)
        end
    end
    kill(proc)
    return nothing, nothing
end

function sharded(store, path; loc="end", inner=Any["bytes"], shards=[4, 6], chunks=[2, 3], shape=[10, 12], dtype="int32", fill=0)
    codecs = Any[c isa String && c == "bytes" ? Dict("name" => "bytes", "configuration" => Dict("endian" => "little")) : c for c in inner]
    sharding = Dict("name" => "sharding_indexed", "configuration" => Dict(
        "chunk_shape" => chunks, "codecs" => codecs, "index_location" => loc,
        "index_codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "little")), Dict("name" => "crc32c")]))
    return create_array(store, path; zarr_format=3, shape=shape, dtype=dtype, fill_value=fill, chunks=chunks, shards=shards,
                        codecs=Any[sharding])
end

@testset "v3 sharding" begin
    @testset "index at end and start, transpose inside, empty inner chunks and shards" begin
        for loc in ("end", "start"), tr in (nothing, [1, 0])
            inner = tr === nothing ? Any["bytes"] : Any[Dict("name" => "transpose", "configuration" => Dict("order" => tr)), "bytes"]
            m = MemoryStore()
            a = sharded(m, "s"; loc=loc, inner=inner)
            @test a.pipeline.serializer isa PZS3.ShardingCodec && a.jchunks == (6, 4)
            A = reshape(Int32.(1:120), 12, 10)
            A[:, 5:8] .= 0                               # the second shard row is all fill
            A[1:3, 1:2] .= 0                             # one inner chunk of shard c/0/0 is all fill
            write_array!(a, A)
            @test read_array(open_array(m, "s")) == A
            @test readkey(m, "s/c/1/0") === nothing && readkey(m, "s/c/1/1") === nothing   # all-empty shards are not stored
            shard = readkey(m, "s/c/0/0")
            s = a.pipeline.serializer
            @test PZS3.shard_index_nbytes(s) == 16 * 4 + 4
            idx, data = PZS3.split_shard(s, shard)
            @test idx[1] == typemax(UInt64) && idx[2] == typemax(UInt64)        # inner (0,0): empty
            offs = [Int(idx[2l - 1]) for l in 2:4]
            @test issorted(offs) && all(l -> idx[2l] == 2 * 3 * 4, 2:4)         # C order of the inner grid
            @test first(data) == (loc == "end" ? 0 : 68) && length(shard) == 68 + 3 * 24
            # inner chunk (1, 1) (Zarr) holds Zarr rows 2:3, cols 3:5 in C order (transposed when asked)
            r = PZS3.shard_entry(s, idx, 4, data)
            blk = A[4:6, 3:4]                             # Julia block of that inner chunk
            want = tr === nothing ? vec(blk) : vec(permutedims(blk))
            @test reinterpret(Int32, shard[first(r) + 1:last(r) + 1]) == want
            # rewrite part of a shard: read, update, write back
            a[1:2, 1:2] = Int32[-1 -2; -3 -4]
            A[1:2, 1:2] = Int32[-1 -2; -3 -4]
            @test read_array(open_array(m, "s")) == A
            # everything back to fill: the shard is deleted
            a[:, :] = zeros(Int32, 12, 10)
            @test isempty(filter(k -> occursin("/c/", k), listkeys(m, "s")))
        end
    end
    @testset "partial reads touch only the needed byte ranges" begin
        for loc in ("end", "start")
            c = CountingStore(MemoryStore())
            a = sharded(c, "p"; loc=loc, shape=[8, 8], shards=[8, 8], chunks=[2, 2],
                        inner=Any["bytes", Dict("name" => "zstd", "configuration" => Dict("level" => 1, "checksum" => false))])
            A = reshape(collect(Int32, 1:64), 8, 8)
            A[7:8, 7:8] .= 0                              # Zarr inner chunk (3, 3) is empty
            write_array!(a, A)
            b = open_array(c, "p")
            reset!(c)
            @test b[3, 5] == A[3, 5]                      # one inner chunk: the index + its bytes
            @test c.whole == String[] && length(c.ranges) == 2
            isz = 16 * 16 + 4
            @test c.ranges[1] == ("p/c/0/0", loc == "end" ? -isz : 0, isz)
            reset!(c)
            @test b[2:5, 3:4] == A[2:5, 3:4]              # 3 × 1 inner chunks
            @test c.whole == String[] && length(c.ranges) == 1 + 3
            reset!(c)
            @test b[6:8, 6:8] == A[6:8, 6:8]              # 2 × 2, one of them empty: no read for it
            @test c.whole == String[] && length(c.ranges) == 1 + 3
            reset!(c)
            @test b[:, :] == A                            # the whole shard: one read
            @test c.whole == ["p/c/0/0"] && isempty(c.ranges)
            reset!(c)
            @test b[8, 8] == 0 && length(c.ranges) == 1   # an empty inner chunk: the index only
            reset!(c)
            @test read_array(b) == A && c.whole == ["p/c/0/0"]
        end
        # on disk and in a zip too (stored entries are read in place)
        d = tmpdir()
        A = reshape(collect(Float64, 1:64), 8, 8)
        write_array(DirectoryStore(joinpath(d, "x.zarr")), "a", A; zarr_format=3, chunks=(2, 2), shards=(4, 8))
        z = ZipStore(joinpath(d, "x.zip"))
        for k in listkeys(DirectoryStore(joinpath(d, "x.zarr")))
            writekey!(z, k, readkey(DirectoryStore(joinpath(d, "x.zarr")), k))
        end
        close(z)
        for st in (DirectoryStore(joinpath(d, "x.zarr")), ZipStore(joinpath(d, "x.zip")))
            c = CountingStore(st)
            b = open_array(c, "a")
            reset!(c)
            @test b[3:4, 2:3] == A[3:4, 2:3] && isempty(c.whole) && length(c.ranges) == 3
            @test readrange(st, "a/c/0/0", -4, 4) == readkey(st, "a/c/0/0")[end - 3:end]
        end
    end
    @testset "shard index cache: used while the file is the same, never stale" begin
        d = tmpdir()
        st = DirectoryStore(joinpath(d, "s.zarr"))
        X = reshape(collect(Float64, 1:192) .* 0.5, 12, 16)                  # Zarr shape (16, 12)
        zc = Dict("id" => "zstd", "level" => 1)
        write_array(st, "a", X; zarr_format=3, chunks=(3, 4), shards=(6, 8), compressor=zc)
        reader, writer = open_array(st, "a"), open_array(st, "a")
        @test reader[2, 2] == X[2, 2] && reader[1:5, 1:3] == X[1:5, 1:3]
        @test collect(keys(reader.index_cache.entries)) == ["a/c/0/0"]      # the partial reads cached it
        sig = reader.index_cache.entries["a/c/0/0"][1]
        @test reader[6, 8] == X[6, 8] && reader.index_cache.entries["a/c/0/0"][1] === sig   # a hit
        # another ZArray rewrites the shard: other values (other compressed sizes, so offsets move) and
        # one inner chunk all fill (empty)
        Y = copy(X)
        Y[1:6, 1:8] .= reshape(collect(1.0:48.0), 6, 8) .* 1e9 .+ 0.123
        Y[4:6, 5:8] .= 0.0
        writer[1:6, 1:8] = Y[1:6, 1:8]
        for (i, j) in ((2, 2), (5, 6), (1, 8), (6, 3))
            @test reader[i, j] == Y[i, j]
        end
        @test reader[1:6, 1:8] == Y[1:6, 1:8]
        # a write through the same ZArray drops its entry
        Z = copy(Y)
        Z[1:3, 1:4] .= -3.25
        @test isempty(writer.index_cache.entries)                            # it wrote a whole shard, read nothing
        @test writer[2, 2] == Y[2, 2] && haskey(writer.index_cache.entries, "a/c/0/0")
        writer[1:3, 1:4] = Z[1:3, 1:4]                                       # read-modify-write of the shard
        @test !haskey(writer.index_cache.entries, "a/c/0/0")
        @test writer[2, 2] == -3.25 && reader[2, 2] == -3.25 && read_array(reader) == Z
        # the shard deleted (every inner chunk fill): fill, not the cached index
        writer[1:6, 1:8] = zeros(6, 8)
        @test !isfile(joinpath(d, "s.zarr", "a", "c", "0", "0"))
        @test reader[2, 2] == 0.0 && writer[2, 2] == 0.0
        # a rewrite of the same size at once (the same clock tick): a new file renamed over the old one
        A = reshape(collect(Float64, 1:48), 6, 8)
        write_array(st, "b", A; zarr_format=3, chunks=(3, 4), shards=(6, 8), compressor=nothing)
        b = open_array(st, "b")
        @test b[1, 1] == A[1, 1]
        w = open_array(st, "b")
        w[:, :] = A[end:-1:1, :]
        @test b[1, 1] == A[end, 1] && b[1:6, 1:4] == A[end:-1:1, 1:4]
        # rewritten in place by another program (same inode, same size): inner chunks 0 and 1 swap places
        # in the file, the index says so; a stale index would read chunk 1's bytes for chunk 0
        p = joinpath(d, "s.zarr", "b", "c", "0", "0")
        @test b[1, 1] == A[end, 1] && b[1, 5] == A[end, 5]                   # inner chunks 0 and 1, cached
        sleep(0.02)                                                          # a later mtime (coarse clock)
        bytes = read(p)
        isz, n = 4 * 16 + 4, 3 * 4 * 8                                      # 2 × 2 entries + crc32c; raw chunks
        idx = reinterpret(UInt64, bytes[end - isz + 1:end - 4])
        @test idx[1] == 0 && idx[3] == n                                     # chunk 0 at 0, chunk 1 after it
        newidx = copy(idx)
        newidx[1], newidx[3] = n, 0
        data = vcat(bytes[n + 1:2n], bytes[1:n], bytes[2n + 1:end - isz])
        swapped = vcat(data, PolyZarr.encode(PolyZarr.CRC32CCodec(), collect(reinterpret(UInt8, newidx))))
        @test length(swapped) == length(bytes)
        open(io -> write(io, swapped), p, "r+")                              # no rename: the file itself
        @test b[1, 1] == A[end, 1] && b[1, 5] == A[end, 5] && b[1:6, 1:8] == A[end:-1:1, :]
        # other stores cache nothing
        m = MemoryStore()
        write_array(m, "a", X; zarr_format=3, chunks=(3, 4), shards=(6, 8), compressor=zc)
        am = open_array(m, "a")
        @test am[2, 2] == X[2, 2] && isempty(am.index_cache.entries)
    end
    @testset "a partial shard's ranges are in flight together on a network store" begin
        A = reshape(collect(Float64, 1:144), 12, 12)
        m = MemoryStore()
        write_array(m, "a", A; zarr_format=3, chunks=(3, 3), shards=(12, 12), compressor=Dict("id" => "zstd", "level" => 1))
        for nio in (1, 4)
            st = LatencyStore(m, nio)
            b = open_array(st, "a")
            st.most = 0
            @test b[2:11, 4:9] == A[2:11, 4:9]            # 4 × 2 inner chunks of one shard, after its index
            # io_concurrency 1: the store sees a one-task read; 4: up to 4 ranges at once
            @test st.most == min(nio, 8)
            @test st.inflight == 0
        end
    end
    @testset "partial reads over S3: Range requests only" begin
        ep, proc = v3_moto()
        if ep === nothing
            println("test_v3_sharding: skipping the S3 check: no moto server")
        else
            try
                withenv("AWS_ACCESS_KEY_ID" => "testing", "AWS_SECRET_ACCESS_KEY" => "testing", "AWS_SESSION_TOKEN" => nothing) do
                    bucket = "pz3-" * string(rand(UInt32), base=16)
                    PZS3.create_bucket(ep, bucket)
                    s3 = PZS3.S3Store("s3://$bucket/root"; endpoint_url=ep)
                    A = reshape(collect(Int16, 1:144), 12, 12)
                    write_array(s3, "a", A; zarr_format=3, chunks=(3, 3), shards=(6, 12), compressor=Dict("id" => "gzip", "level" => 1))
                    c = CountingStore(s3)
                    b = open_array(c, "a")
                    reset!(c)
                    @test b[4:6, 2] == A[4:6, 2]
                    @test isempty(c.whole) && length(c.ranges) == 2 && c.ranges[1][2] < 0   # suffix range, then one chunk
                    @test read_array(open_array(s3, "a")) == A
                    # the store's own Range reads: a suffix and an offset range
                    sh = readkey(s3, "a/c/0/0")
                    @test readrange(s3, "a/c/0/0", -20, 20) == sh[end - 19:end]
                    @test readrange(s3, "a/c/0/0", 5, 7) == sh[6:12]
                end
            finally
                proc === nothing || kill(proc)
            end
        end
    end
    @testset "nested shards, transpose outside, vlen inner, edge shards, 0-d" begin
        m = MemoryStore()
        nested = Dict("name" => "sharding_indexed", "configuration" => Dict(
            "chunk_shape" => [2, 2], "codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "big"))],
            "index_codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "big"))], "index_location" => "start"))
        a = sharded(m, "n"; shape=[9, 10], shards=[8, 8], chunks=[4, 4], inner=Any[nested], dtype="uint16", fill=7)
        A = reshape(UInt16.(1:90), 10, 9)
        write_array!(a, A)
        b = open_array(m, "n")
        @test read_array(b) == A && b[3:7, 2:9] == A[3:7, 2:9]
        @test b.pipeline.dtype.typestr == ">u2"            # the innermost bytes codec's order
        # a transpose before the sharding codec: the shard is decoded whole
        m2 = MemoryStore()
        t = create_array(m2, "t"; zarr_format=3, shape=[6, 4], dtype="float64", codecs=Any[
            Dict("name" => "transpose", "configuration" => Dict("order" => [1, 0])),
            Dict("name" => "sharding_indexed", "configuration" => Dict("chunk_shape" => [2, 3],
                 "codecs" => Any[Dict("name" => "bytes", "configuration" => Dict("endian" => "little"))]))])
        @test t.pipeline.perm == [2, 1]
        T = reshape(collect(1.0:24.0), 4, 6)
        write_array!(t, T)
        @test read_array(open_array(m2, "t")) == T && open_array(m2, "t")[2:3, 5] == T[2:3, 5]
        # strings in shards
        v = sharded(m, "v"; shape=[5], shards=[4], chunks=[2], dtype="string", fill="",
                    inner=Any[Dict("name" => "vlen-utf8", "configuration" => Dict())])
        V = ["a", "", "ccc", "dd", "é"]
        write_array!(v, V)
        @test read_array(open_array(m, "v")) == V && open_array(m, "v")[3] == "ccc"
        idx = PZS3.decode_shard_index(v.pipeline.serializer, readkey(m, "v/c/0")[end - 35:end])
        @test idx[1] == 0 && idx[2] > 0 && idx[3] == idx[2]           # ["a", ""] then ["ccc", "dd"]
        # 0-d
        z = create_array(m, "z"; zarr_format=3, shape=Int[], dtype="int8", shards=Int[], chunks=Int[], fill_value=0)
        z[] = Int8(5)
        @test open_array(m, "z")[] == 5 && readkey(m, "z/c") !== nothing
    end
end
