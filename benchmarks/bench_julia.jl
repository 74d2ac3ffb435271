# PolyZarr.jl throughput against the raw codec throughput (the same chunks encoded/decoded by bare
# ccalls into the C libraries, in a loop), and the peak memory of a read. Run by
# benchmarks/bench_v2.py (make bench), single-threaded (JULIA_NUM_THREADS=1; blosc gets 1 thread):
#   julia bench_julia.jl DIR MIB REPEAT            → one JSON line per case on stdout
#   julia bench_julia.jl --peak-read PATH          → {"peak_delta": bytes, "nbytes": ...}: RSS high-water
#                                                    mark of one read in a fresh process minus RSS before
#
# Fairness: the raw loops reuse only what PolyZarr reuses too — one codec context and one output
# buffer for encoding; decoding writes each chunk into its place in a fresh array of the whole
# size (a read must return new memory), allocated as PolyZarr allocates its result. They start
# from bytes in memory; PolyZarr reads and writes the files. For reference, not in the fractions:
# `raw_decode_hot_s` (every chunk decoded into one reused 1 MiB buffer: cache-hot, no fresh
# memory), and `files_write_s` / `files_read_s` (the stored chunks written to / read from files
# with plain write/read, a floor that the raw loops leave out).
pushfirst!(LOAD_PATH, joinpath(@__DIR__, "..", "julia"))
using PolyZarr

const CODECS = [("zstd", Dict{String,Any}("id" => "zstd", "level" => 0)),
                ("blosc-lz4", Dict{String,Any}("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1, "blocksize" => 0))]

function best_of(f, repeat; setup=() -> nothing)
    best = Inf
    for _ in 1:repeat
        setup()
        GC.gc()
        t = time_ns()
        f()
        best = min(best, (time_ns() - t) / 1e9)
    end
    return best
end

# The same values as the Python side: x[k] = round(sin(k/1000)*100, 2) over the C-order linear index k.
function make_data(nrows, ncols, order)
    v = round.(sin.((0:nrows * ncols - 1) ./ 1000.0) .* 100; digits=2)
    A = reshape(v, ncols, nrows)            # Julia view of a C-order (nrows, ncols) array
    return order == "C" ? A : permutedims(A) # F: Julia array with the Zarr shape itself
end

# ---- the raw codec loops: bare ccalls, no PolyZarr code on the timed path -------------------

sym(lib, name) = PolyZarr.libfunc(lib, name, "")    # the loaded library's function address

struct RawZstd
    dctx::Ptr{Cvoid}
    cctx::Ptr{Cvoid}
end
function RawZstd(level)
    z = RawZstd(ccall(sym(PolyZarr.LIBZSTD, :ZSTD_createDCtx), Ptr{Cvoid}, ()),
                ccall(sym(PolyZarr.LIBZSTD, :ZSTD_createCCtx), Ptr{Cvoid}, ()))
    ccall(sym(PolyZarr.LIBZSTD, :ZSTD_CCtx_setParameter), Csize_t, (Ptr{Cvoid}, Cint, Cint), z.cctx, 100, level)
    return z
end
raw_bound(::RawZstd, n) = Int(ccall(sym(PolyZarr.LIBZSTD, :ZSTD_compressBound), Csize_t, (Csize_t,), n))
function raw_decode!(z::RawZstd, dest::Ptr{UInt8}, n::Int, src::Vector{UInt8})
    r = ccall(sym(PolyZarr.LIBZSTD, :ZSTD_decompressDCtx), Csize_t, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t),
              z.dctx, dest, n, src, length(src))
    r == n || error("zstd decode")
end
raw_encode!(z::RawZstd, out::Vector{UInt8}, src::Vector{UInt8}) =
    ccall(sym(PolyZarr.LIBZSTD, :ZSTD_compress2), Csize_t, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t),
          z.cctx, out, length(out), src, length(src))

struct RawBlosc
    cname::String
    clevel::Int
    shuffle::Int
    typesize::Int
end
raw_bound(::RawBlosc, n) = n + 16
function raw_decode!(b::RawBlosc, dest::Ptr{UInt8}, n::Int, src::Vector{UInt8})
    r = ccall(sym(PolyZarr.LIBBLOSC, :blosc_decompress_ctx), Cint, (Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cint), src, dest, n, 1)
    r == n || error("blosc decode")
end
raw_encode!(b::RawBlosc, out::Vector{UInt8}, src::Vector{UInt8}) =
    ccall(sym(PolyZarr.LIBBLOSC, :blosc_compress_ctx), Cint,
          (Cint, Cint, Csize_t, Csize_t, Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cstring, Csize_t, Cint),
          b.clevel, b.shuffle, b.typesize, length(src), src, out, length(out), b.cname, 0, 1)

raw_codec(cfg) = cfg["id"] == "zstd" ? RawZstd(cfg["level"]) : RawBlosc(cfg["cname"], cfg["clevel"], cfg["shuffle"], 8)

# Decode every chunk into its place in one fresh array of the whole size.
function raw_decode_all(codec, enc::Vector{Vector{UInt8}}, chunkbytes::Int)
    dest = PolyZarr._result_array(UInt8, (chunkbytes * length(enc),))
    GC.@preserve dest for (i, e) in enumerate(enc)
        raw_decode!(codec, pointer(dest, (i - 1) * chunkbytes + 1), chunkbytes, e)
    end
    return dest
end

function raw_decode_hot(codec, enc::Vector{Vector{UInt8}}, chunkbytes::Int)
    buf = Vector{UInt8}(undef, chunkbytes)
    GC.@preserve buf for e in enc
        raw_decode!(codec, pointer(buf), chunkbytes, e)
    end
end

function raw_encode_all(codec, raw::Vector{Vector{UInt8}})
    out = Vector{UInt8}(undef, raw_bound(codec, length(raw[1])))
    total = 0
    for r in raw
        total += raw_encode!(codec, out, r)
    end
    return total
end

# ---- peak memory of one read ------------------------------------------------------------------

# This process's resident set size and its high-water mark, from /proc/self/status. Not
# Sys.maxrss(): Linux carries ru_maxrss over exec from the parent, here a Python process that
# holds the array, so a fresh process can start with a "peak" above anything it did.
function proc_status_bytes(field::AbstractString)
    for line in eachline("/proc/self/status")
        startswith(line, field * ":") && return parse(Int, split(line)[2]) * 1024   # kB
    end
    error("no $field in /proc/self/status")
end

function peak_read(path)
    a = open_array(DirectoryStore(path), "")
    a[ntuple(_ -> 1:1, ndims(a))...]            # compile the read path on one chunk first
    GC.gc()
    try
        write("/proc/self/clear_refs", "5")      # reset the high-water mark to the current RSS
    catch
    end
    before = proc_status_bytes("VmRSS")
    A = read_array(a)
    peak = proc_status_bytes("VmHWM")
    println(PolyZarr.json_string(Dict("peak_delta" => peak - before, "rss_before" => before,
                                      "nbytes" => sizeof(A)); indent=nothing))
end

# -------------------------------------------------------------------------------------------------

function main(dir, mib, repeat)
    Threads.nthreads() == 1 || error("run single-threaded (JULIA_NUM_THREADS=1): the raw loops are")
    ncols = 1024
    nrows = mib * 2^20 ÷ (8 * ncols)
    for (name, cfg) in CODECS, order in ("C", "F")
        A = make_data(nrows, ncols, order)
        conv = order == "C" ? :reverse : :F
        jchunks = order == "C" ? (1024, 128) : (128, 1024)   # 1 MiB chunks, Zarr chunks (128, 1024) either way
        path = joinpath(dir, "jl-$name-$order")
        clear() = rm(path; force=true, recursive=true)
        write_once() = write_array(DirectoryStore(path), "", A; convention=conv, chunks=jchunks, compressor=cfg)
        clear(); write_once()                                  # compile
        tw = best_of(write_once, repeat; setup=clear)
        store = DirectoryStore(path)
        read_once() = read_array(open_array(store, ""))
        read_once() == A || error("read back differs")
        tr = best_of(read_once, repeat)
        # the same chunks, in memory: stored bytes and decoded bytes
        keys = filter(k -> !startswith(basename(k), "."), listkeys(store))
        enc = [readkey(store, k) for k in keys]
        chunkbytes = prod(jchunks) * 8
        codec = raw_codec(cfg)
        dec = raw_decode_all(codec, enc, chunkbytes)
        raw = [dec[(i - 1) * chunkbytes + 1:i * chunkbytes] for i in 1:length(enc)]
        tdec = best_of(() -> raw_decode_all(codec, enc, chunkbytes), repeat)
        thot = best_of(() -> raw_decode_hot(codec, enc, chunkbytes), repeat)
        tenc = best_of(() -> raw_encode_all(codec, raw), repeat)
        files = joinpath(dir, "files-only")
        clearfiles() = (rm(files; force=true, recursive=true); mkpath(files))
        twf = best_of(() -> foreach((i, e) -> write(joinpath(files, string(i)), e), 1:length(enc), enc), repeat; setup=clearfiles)
        buf = UInt8[]
        trf = best_of(() -> foreach(k -> open(io -> readbytes!(io, resize!(buf, filesize(io))), joinpath(path, k)), keys), repeat)
        rm(files; recursive=true)
        println(PolyZarr.json_string(Dict("codec" => name, "order" => order, "write_s" => tw, "read_s" => tr,
                                 "raw_encode_s" => tenc, "raw_decode_s" => tdec, "raw_decode_hot_s" => thot,
                                 "files_write_s" => twf, "files_read_s" => trf,
                                 "stored_bytes" => sum(length, enc), "nbytes" => sizeof(A), "path" => path,
                                 "julia" => string(VERSION), "threads" => Threads.nthreads()); indent=nothing))
        flush(stdout)
    end
end

if length(ARGS) >= 2 && ARGS[1] == "--peak-read"
    peak_read(ARGS[2])
elseif length(ARGS) == 3
    main(ARGS[1], parse(Int, ARGS[2]), parse(Int, ARGS[3]))
else
    println(stderr, "usage: bench_julia.jl DIR MIB REPEAT | --peak-read PATH"); exit(2)
end
