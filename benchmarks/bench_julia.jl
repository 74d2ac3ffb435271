# PolyZarr.jl throughput against the raw codec throughput (the same chunks encoded/decoded by bare calls
# into the C libraries, in a loop), and the peak memory of a read. Run by benchmarks/bench_v2.py (make bench):
#   julia bench_julia.jl DIR MIB REPEAT            → one JSON line per case on stdout
#   julia bench_julia.jl --peak-read PATH          → {"maxrss_delta": bytes} for one read in a fresh process
include(joinpath(@__DIR__, "..", "julia", "src", "PolyZarr.jl"))
using .PolyZarr

const CODECS = [("zstd", Dict{String,Any}("id" => "zstd", "level" => 0)),
                ("blosc-lz4", Dict{String,Any}("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1, "blocksize" => 0))]

function best_of(f, repeat)
    best = Inf
    for _ in 1:repeat
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

function peak_read(path)
    small = joinpath(mktempdir(), "warm")
    write_array(DirectoryStore(small), "", rand(4, 4); chunks=(2, 2))
    read_array(open_array(DirectoryStore(small), ""))   # compile first
    GC.gc()
    before = Sys.maxrss()
    A = read_array(open_array(DirectoryStore(path), ""))
    after = Sys.maxrss()
    println(PolyZarr.json_string(Dict("maxrss_delta" => Int(after - before), "nbytes" => sizeof(A)); indent=nothing))
end

function main(dir, mib, repeat)
    ncols = 1024
    nrows = mib * 2^20 ÷ (8 * ncols)
    for (name, cfg) in CODECS, order in ("C", "F")
        A = make_data(nrows, ncols, order)
        conv = order == "C" ? :reverse : :F
        jchunks = order == "C" ? (1024, 128) : (128, 1024)   # 1 MiB chunks, Zarr chunks (128, 1024) either way
        path = joinpath(dir, "jl-$name-$order")
        write_once() = (rm(path; force=true, recursive=true);
                        write_array(DirectoryStore(path), "", A; convention=conv, chunks=jchunks, compressor=cfg))
        write_once()                                           # compile
        tw = best_of(write_once, repeat)
        store = DirectoryStore(path)
        tr = best_of(() -> read_array(open_array(store, "")), repeat)
        @assert read_array(open_array(store, "")) == A
        # Raw codec throughput over the same chunks: bytes already in memory, bare encode/decode calls.
        codec = PolyZarr.with_typesize(PolyZarr.bytescodec_from_config(cfg), 8)
        keys = filter(k -> !startswith(basename(k), "."), listkeys(store))
        enc = [readkey(store, k) for k in keys]
        raw = [PolyZarr.decode(codec, e) for e in enc]
        tdec = best_of(() -> foreach(e -> PolyZarr.decode(codec, e), enc), repeat)
        tenc = best_of(() -> foreach(r -> PolyZarr.encode(codec, r), raw), repeat)
        println(PolyZarr.json_string(Dict("codec" => name, "order" => order, "write_s" => tw, "read_s" => tr,
                                 "raw_encode_s" => tenc, "raw_decode_s" => tdec, "nbytes" => sizeof(A),
                                 "path" => path); indent=nothing))
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
