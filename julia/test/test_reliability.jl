# Issue 15: reliability under bad input and faults, with real files (links, FIFOs, bombs,
# interrupted writes).  Each case asserts the error category and the key it names.
include(joinpath(@__DIR__, "testutils.jl"))

module TestReliability
using Test
using ..PolyZarr
using ..PZTestUtils: raises
const PZ = PolyZarr

thrown(f) = try
    f()
    nothing
catch e
    e
end

zarray_doc(; kw...) = begin
    d = Dict{String,Any}("zarr_format" => 2, "shape" => [8], "chunks" => [8], "dtype" => "<i4",
                         "compressor" => nothing, "filters" => nothing, "fill_value" => 0, "order" => "C")
    for (k, v) in kw
        d[String(k)] = v
    end
    Vector{UInt8}(codeunits(PZ.json_string(d)))
end

@testset "reliability" begin
    dir = mktempdir()
    root = joinpath(dir, "st.zarr")
    s = DirectoryStore(root)
    a = create_array(s, "a"; shape=[10], chunks=[4], dtype="<i4", compressor=nothing)
    a[:] = collect(Int32, 1:10)

    @testset "confinement: links and special files" begin
        outside = joinpath(dir, "secret")
        write(outside, reinterpret(UInt8, fill(Int32(99), 4)))
        rm(joinpath(root, "a", "0"))
        symlink(outside, joinpath(root, "a", "0"))
        @test raises(() -> open_array(s, "a")[:], PathError, "a/0", "symbolic link")
        @test !("a/0" in listkeys(s, "a"))
        deletekey!(s, "a/0")                                 # removes the link, not the file
        @test isfile(outside) && !islink(joinpath(root, "a", "0"))
        run(`mkfifo $(joinpath(root, "a", "0"))`)
        t = @elapsed e = thrown(() -> open_array(s, "a")[:])
        @test e isa PathError && occursin("FIFO", e.msg) && e.key == "a/0" && t < 10
        @test !("a/0" in listkeys(s, "a"))
        rm(joinpath(root, "a", "0"))
        symlink("/dev/zero", joinpath(root, "a", "0"))
        @test raises(() -> readkey(s, "a/0"), PathError, "a/0", "symbolic link")
        rm(joinpath(root, "a", "0"))
        # a directory link inside the store: neither read, listed, written nor overwritten through
        mkpath(joinpath(dir, "elsewhere"))
        b = create_array(DirectoryStore(joinpath(dir, "elsewhere")), "x"; shape=[2], chunks=[2], dtype="<i4")
        b[:] = Int32[5, 6]
        symlink(joinpath(dir, "elsewhere", "x"), joinpath(root, "link"))
        @test raises(() -> open_array(s, "link"), PathError, "link", "symbolic link")
        @test !any(k -> startswith(k, "link"), listkeys(s))
        @test raises(() -> writekey!(s, "link/0", UInt8[1]), PathError, "link/0", "symbolic link")
        npy = joinpath(dir, "v.npy")
        write_npy(npy, Int32[1, 2, 3], "<i4")
        @test raises(() -> import_npy(npy, joinpath(root, "link"); overwrite=true), PathError, "link", "symbolic link")
        @test open_array(DirectoryStore(joinpath(dir, "elsewhere")), "x")[:] == Int32[5, 6]
        rm(joinpath(root, "link"))
        # a zip archive that is a FIFO is refused, not waited on
        run(`mkfifo $(joinpath(dir, "f.zip"))`)
        @test raises(() -> ZipStore(joinpath(dir, "f.zip")), PathError, "f.zip", "FIFO")
    end

    @testset "export never writes through a link in OUTDIR" begin
        a[:] = collect(Int32, 1:10)
        out = joinpath(dir, "out")
        mkpath(out)
        victim = joinpath(dir, "victim")
        write(victim, "keep")
        symlink(victim, joinpath(out, "a.npy"))
        r = export_tree(root, out; log=devnull)
        @test isempty(r.failed)
        @test read(victim, String) == "keep" && !islink(joinpath(out, "a.npy"))
        @test read_npy(joinpath(out, "a.npy"))[1] == collect(Int32, 1:10)
        # a missing SRC is an error, not an empty export
        @test raises(() -> export_tree(joinpath(dir, "nope.zarr"), out; log=devnull), StoreError, "nope.zarr",
                     "no such file")
        err = IOBuffer()
        @test PZ.cli_main(["export", joinpath(dir, "nope.zarr"), out]; out=devnull, err=err) == 1
        @test occursin("StoreError", String(take!(err)))
    end

    @testset "write protocol" begin
        npy = joinpath(dir, "w.npy")
        write_npy(npy, collect(Int32, 1:6), "<i4")
        dest = joinpath(root, "g", "w")
        import_npy(npy, dest; chunks=[2])
        @test !isfile(joinpath(dest, ".polyzarr-incomplete"))
        # an interrupted write: the marker and some chunks, then the metadata (or not)
        write(joinpath(dest, ".polyzarr-incomplete"), "{\"writer\": \"PolyZarr.jl\", \"pid\": 42, \"started\": \"T\"}")
        e = thrown(() -> open_array(s, "g/w"))
        @test e isa StoreError && e.key == "g/w/.polyzarr-incomplete" && occursin("pid 42", e.msg) &&
              occursin("incomplete", e.msg)
        rm(joinpath(dest, ".zarray"))
        @test raises(() -> open_array(s, "g/w"), StoreError, "g/w/.polyzarr-incomplete", "incomplete")
        r = export_tree(joinpath(root, "g"), joinpath(dir, "out2"); log=devnull)
        @test length(r.failed) == 1 && r.failed[1]["category"] == "StoreError"
        node = only(n for n in inspect_tree(joinpath(root, "g"))["nodes"] if n["path"] == "w")
        @test node["error"]["category"] == "StoreError" && occursin("incomplete", node["error"]["message"])
        # overwrite swaps a new directory in; nothing is left beside it
        import_npy(npy, dest; chunks=[3], overwrite=true)
        @test open_array(s, "g/w")[:] == collect(Int32, 1:6) && open_array(s, "g/w").meta.chunks == [3]
        @test sort(readdir(joinpath(root, "g"))) == [".zattrs", ".zgroup", "w"]
        @test !isfile(joinpath(dest, ".polyzarr-incomplete"))
        # a failed import (the last chunk cannot be written) removes what it wrote, marker included
        mkpath(joinpath(root, "g", "x", "2"))
        @test raises(() -> import_npy(npy, joinpath(root, "g", "x"); chunks=[2]), StoreError, "g/x/2", "directory")
        @test readdir(joinpath(root, "g", "x")) == ["2"]
        v = create_array(s, "v"; shape=[4], chunks=[2], dtype="<i4", publish=false)
        v[:] = Int32[1, 2, 3, 4]
        @test raises(() -> open_array(s, "v"), StoreError, "v/.polyzarr-incomplete", "incomplete")
        PZ.publish!(v)
        @test open_array(s, "v")[:] == Int32[1, 2, 3, 4]
    end

    @testset "bounded decoding" begin
        m = MemoryStore()
        # a zstd frame of 100 MB of zeros for a 32-byte chunk, with and without a content size
        z = PZ.ZstdCodec(0, false)
        writekey!(m, "z/.zarray", zarray_doc(compressor=Dict("id" => "zstd", "level" => 0)))
        writekey!(m, "z/0", PZ.encode(z, zeros(UInt8, 100_000_000)))
        stats = @timed e = thrown(() -> open_array(m, "z")[:])
        @test e isa ChunkError && e.key == "z/0" && occursin("more than 32 bytes", e.msg)
        @test stats.bytes < 50_000_000      # (compilation included)
        # truncated blosc: its header disagrees with the chunk
        bl = PZ.BloscCodec("lz4", 5, 1, 0, 4)
        writekey!(m, "b/.zarray", zarray_doc(compressor=PZ.codec_config(bl)))
        writekey!(m, "b/0", PZ.encode(bl, reinterpret(UInt8, collect(Int32, 1:8)))[1:end - 1])
        @test raises(() -> open_array(m, "b")[:], ChunkError, "b/0", "compressed bytes")
        # zlib bomb under a filter (an inner stage): bounded too
        writekey!(m, "g/.zarray", zarray_doc(compressor=Dict("id" => "zlib", "level" => 1),
                                             filters=Any[Dict("id" => "shuffle", "elementsize" => 4)]))
        writekey!(m, "g/0", PZ.encode(PZ.ZlibCodec(1), zeros(UInt8, 50_000_000)))
        stats = @timed e = thrown(() -> open_array(m, "g")[:])
        @test e isa ChunkError && e.key == "g/0" && stats.bytes < 25_000_000
        # vlen: a bogus item count is refused before allocating
        writekey!(m, "s/.zarray", zarray_doc(dtype="|O", filters=Any[Dict("id" => "vlen-utf8")], fill_value=nothing))
        writekey!(m, "s/0", UInt8[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0])
        stats = @timed e = thrown(() -> open_array(m, "s")[:])
        @test e isa ChunkError && e.key == "s/0" && occursin("items", e.msg)
        @test stats.bytes < 200_000_000                    # not 2^31 strings
    end

    @testset "vocabulary" begin
        m = MemoryStore()
        writekey!(m, "f/.zarray", zarray_doc(dtype="<f8", filters=Any[Dict("id" => "fixedscaleoffset", "scale" => 0,
                                                                            "offset" => 0, "dtype" => "<f8")]))
        @test raises(() -> open_array(m, "f"), MetadataError, "f/.zarray:filters[0].scale", "non-zero")
        writekey!(m, "o/.zarray", zarray_doc(dtype="|b1", filters=Any[Dict("id" => "vlen-utf8")]))
        @test raises(() -> open_array(m, "o"), MetadataError, "o/.zarray:filters[0]", "object codec")
        writekey!(m, "n/.zarray", Vector{UInt8}(codeunits("{\"zarr_format\": 2, \"x\": " * "7"^5000 * "}")))
        @test raises(() -> open_array(m, "n"), MetadataError, "n/.zarray", "5000 digits")
        writekey!(m, "u/.zattrs", Vector{UInt8}(codeunits("{\"a\": \"\\ud800\"}")))
        writekey!(m, "u/.zarray", zarray_doc())
        @test raises(() -> open_array(m, "u"), MetadataError, "u/.zattrs", "surrogate")
        # v3 null_terminated_bytes of 2^62 bytes: refused, fast
        d = Dict{String,Any}("zarr_format" => 3, "node_type" => "array", "shape" => [2],
                             "data_type" => Dict("name" => "null_terminated_bytes",
                                                 "configuration" => Dict("length_bytes" => 2^62)),
                             "chunk_grid" => Dict("name" => "regular", "configuration" => Dict("chunk_shape" => [2])),
                             "chunk_key_encoding" => Dict("name" => "default"), "fill_value" => "",
                             "codecs" => Any[Dict("name" => "bytes")])
        writekey!(m, "t/zarr.json", Vector{UInt8}(codeunits(PZ.json_string(d))))
        t = @elapsed e = thrown(() -> open_array(m, "t"))
        @test e isa DtypeError && t < 10
        # huge shapes with small chunks: an error naming the array when they cannot be read
        writekey!(m, "h/.zarray", zarray_doc(shape=[2^40, 2^20], chunks=[1, 1]))
        @test thrown(() -> read_array(open_array(m, "h"))) isa MetadataError
        # a zip whose central directory length points past the file
        zp = joinpath(dir, "bad.zip")
        z = ZipStore(zp)
        writekey!(z, "a/.zarray", zarray_doc())
        close(z)
        bytes = read(zp)
        i = first(findlast(i -> bytes[i:i + 3] == UInt8[0x50, 0x4b, 0x01, 0x02], 1:length(bytes) - 3))
        bytes[i + 28] = 0xff                                    # its name length
        write(zp, bytes)
        @test raises(() -> ZipStore(zp), StoreError, "bad.zip", "not a valid zip")
    end

    @testset "concurrent partial-chunk writers" begin
        c = create_array(s, "c"; shape=[64], chunks=[64], dtype="<i4", compressor=nothing)
        c[:] = zeros(Int32, 64)
        lockfile = joinpath(root, "c", ".polyzarr-lock")
        c[1:2] = Int32[1, 1]                               # a partial chunk: takes the lock
        @test isfile(lockfile)
        # another process (util-linux flock) holds the lock: the partial write waits for it
        holder = run(`flock $lockfile sleep 2`; wait=false)
        sleep(0.5)
        t = @elapsed c[3:4] = Int32[2, 2]
        wait(holder)
        @test t > 1
        @test open_array(s, "c")[1:5] == Int32[1, 1, 2, 2, 0]
    end
end

end # module
