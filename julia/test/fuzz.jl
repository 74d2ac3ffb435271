# A seeded fuzzer for PolyZarr.jl (issue 15): mutated metadata documents and chunk bytes, v2 and
# v3, each opened and read.  Outcomes: ok, vocab-error (a PolyZarr error), CRASH (any other
# exception), HANG (slower than HANG_SECONDS), BLOWUP (allocated more than 1.5× the array plus
# slack), WRONG (a checksummed chunk read back changed without an error).
#   julia --project=julia julia/test/fuzz.jl N SEED      (exit 1 on any crash, hang or blowup)
if !isdefined(Main, :PolyZarr)
    pushfirst!(LOAD_PATH, normpath(joinpath(@__DIR__, "..")))
    using PolyZarr
end

module PZFuzz
using Random
using ..PolyZarr
const PZ = PolyZarr

const HANG_SECONDS = 10.0
const SLACK_BYTES = 256 * 2^20          # compilation of a new type allocates too
const OUTCOMES = ("ok", "vocab-error", "CRASH", "HANG", "BLOWUP", "WRONG")

jbytes(d) = Vector{UInt8}(codeunits(PZ.json_string(d)))

# The seed arrays: (name, metadata key, write function, checksummed?)
function seed_arrays()
    s = MemoryStore()
    v = collect(Int32, 1:24)
    f = collect(range(-1.0, 1.0; length=24))
    create = [
        ("v2_zstd", ".zarray", () -> write_array(s, "v2_zstd", v; chunks=(8,)), false),
        ("v2_blosc", ".zarray", () -> write_array(s, "v2_blosc", f; chunks=(8,),
            compressor=Dict("id" => "blosc", "cname" => "lz4", "clevel" => 5, "shuffle" => 1)), false),
        ("v2_zlib_shuffle", ".zarray", () -> write_array(s, "v2_zlib_shuffle", f; chunks=(8,),
            compressor=Dict("id" => "zlib", "level" => 1),
            filters=[Dict("id" => "shuffle", "elementsize" => 8)]), true),
        ("v2_lz4", ".zarray", () -> write_array(s, "v2_lz4", v; chunks=(8,), compressor=Dict("id" => "lz4")), false),
        ("v2_bz2", ".zarray", () -> write_array(s, "v2_bz2", reshape(v, 4, 6); chunks=(2, 3),
            compressor=Dict("id" => "bz2", "level" => 1)), true),
        ("v2_vlen", ".zarray", () -> write_array(s, "v2_vlen", ["a", "bb", "", "dddd", "é", "x", "yy", "z"];
            chunks=(4,), compressor=nothing), false),
        ("v2_fso", ".zarray", () -> write_array(s, "v2_fso", f; chunks=(8,), compressor=nothing,
            filters=[Dict("id" => "fixedscaleoffset", "scale" => 100, "offset" => 0, "dtype" => "<f8",
                          "astype" => "<i2")]), false),
        ("v2_S", ".zarray", () -> write_array(s, "v2_S", [PZ.FixedBytesString{3}("ab$i") for i in 0:7];
            dtype="|S3", chunks=(4,)), false),
        ("v3_zstd", "zarr.json", () -> write_array(s, "v3_zstd", v; chunks=(8,), zarr_format=3), false),
        ("v3_gzip", "zarr.json", () -> write_array(s, "v3_gzip", reshape(f, 4, 6); chunks=(2, 3), zarr_format=3,
            compressor=Dict("name" => "gzip", "configuration" => Dict("level" => 1))), true),
        ("v3_crc32c", "zarr.json", () -> write_array(s, "v3_crc32c", v; chunks=(8,), zarr_format=3,
            compressor=Any[Dict("name" => "crc32c")]), true),
        ("v3_shard", "zarr.json", () -> write_array(s, "v3_shard", v; chunks=(4,), shards=(8,), zarr_format=3), false),
        ("v3_string", "zarr.json", () -> write_array(s, "v3_string", ["a", "bb", "", "dddd", "é", "x"]; chunks=(3,),
            zarr_format=3), false),
    ]
    seeds = []
    for (name, mkey, make, checked) in create
        make()
        a = open_array(s, name)
        keys = [k for k in listkeys(s, name) if !(basename(k) in (".zarray", ".zattrs", "zarr.json"))]
        push!(seeds, (name=name, meta=readkey(s, PZ.joinkey(name, mkey)), mkey=mkey,
                      attrs=readkey(s, PZ.joinkey(name, ".zattrs")),
                      chunks=Dict(k[length(name) + 2:end] => readkey(s, k) for k in keys),
                      values=read_array(a), checked=checked))
    end
    return seeds
end

# ---- mutations

const NASTY = Any[nothing, true, -1, 0, 1, 2^31, 2^62, typemax(Int), -2^63, big(10)^50, parse(BigInt, "7"^5000),
                  1.5, -0.0, NaN, Inf, "", "x", "<f8", "|O", "|S99999", ">U3", "|V0", "zstd", "<i4",
                  Any[], Any[0], Any[2^40, 2^40], Any[-1], Any["a"], Any[nothing], Dict{String,Any}(),
                  Dict{String,Any}("id" => "zlib"), Dict{String,Any}("name" => "bytes"),
                  Dict{String,Any}("name" => "null_terminated_bytes", "configuration" => Dict("length_bytes" => 2^62)),
                  Dict{String,Any}("id" => "vlen-utf8"), Dict{String,Any}("id" => "fixedscaleoffset", "scale" => 0,
                  "offset" => 0, "dtype" => "<f8")]

# plausible values, so that mutated documents also get past the parsers into the codecs
const PLAUSIBLE = Any[2, 3, 4, 8, 16, 24, "<i8", "<f4", "|u1", ">i4", "|b1", "<U2", "|S2", "F", "C", ".", "/",
                      Any[4], Any[16], Any[3, 8], "int16", "float32", "uint8", "bool", "big", "little", 0.0]

# containers through JSON: a fresh copy with Any slots, which later mutations may fill with anything
nasty(rng) = (x = rand(rng) < 0.5 ? rand(rng, PLAUSIBLE) : rand(rng, NASTY);
              x isa Union{AbstractDict,AbstractVector} ? PZ.parse_json(PZ.json_string(x)) : x)

# Every (container, key) pair of a JSON value, depth first.
function slots!(out, x)
    if x isa AbstractDict
        for k in collect(keys(x))
            push!(out, (x, k))
            slots!(out, x[k])
        end
    elseif x isa AbstractVector
        for i in eachindex(x)
            push!(out, (x, i))
            slots!(out, x[i])
        end
    end
    return out
end

function mutate_doc(rng, bytes::Vector{UInt8})
    if rand(rng) < 0.25          # the text itself
        b = copy(bytes)
        for _ in 1:rand(rng, 1:3)
            isempty(b) && break
            k = rand(rng, 1:3)
            i = rand(rng, 1:length(b))
            if k == 1
                b[i] = rand(rng, UInt8[0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0xff, 0x00])
            elseif k == 2
                resize!(b, i)
            else
                splice!(b, i:i - 1, codeunits(rand(rng, ["\\ud800", "1e999", "-", "99999999999999999999"])))
            end
        end
        return b
    end
    doc = PZ.parse_json(bytes)
    for _ in 1:(rand(rng) < 0.7 ? 1 : rand(rng, 2:3))
        ss = slots!(Any[], doc)
        isempty(ss) && break
        c, k = rand(rng, ss)
        r = rand(rng)
        if r < 0.15 && c isa AbstractDict
            delete!(c, k)
        elseif r < 0.3 && c[k] isa Integer && !(c[k] isa Bool)
            c[k] = c[k] * rand(rng, [-1, 0, 2, 2^20, 2^40]) + rand(rng, -1:1)
        else
            c[k] = nasty(rng)
        end
    end
    return jbytes(doc)
end

# Compressing 50 MB takes a while: each bomb is made once.
const BOMBS = Dict{Tuple{String,Int},Vector{UInt8}}()
bomb(rng, name) = (n = rand(rng, [10^6, 10^7, 5 * 10^7]); get!(() -> make_bomb(name, n), BOMBS, (name, n)))

function make_bomb(name, n)
    z = zeros(UInt8, n)
    occursin("blosc", name) && return PZ.encode(PZ.BloscCodec("lz4", 5, 1, 0, 1), z)
    occursin("lz4", name) && return PZ.encode(PZ.LZ4Codec(1), z)
    occursin("zlib", name) && return PZ.encode(PZ.ZlibCodec(1), z)
    occursin("gzip", name) && return PZ.encode(PZ.GZipCodec(1), z)
    occursin("bz2", name) && return PZ.encode(PZ.BZ2Codec(1), z)
    return PZ.encode(PZ.ZstdCodec(1, false), z)
end

function mutate_chunk(rng, b::Vector{UInt8}, name)
    r = rand(rng)
    r < 0.05 && return bomb(rng, name)
    r < 0.2 && return b[1:rand(rng, 0:max(0, length(b) - 1))]                     # truncated
    r < 0.3 && return vcat(b, rand(rng, UInt8, rand(rng, 1:64)))                  # trailing junk
    r < 0.35 && return rand(rng, UInt8, rand(rng, 0:256))
    x = copy(b)
    isempty(x) && return UInt8[0xff]
    for _ in 1:rand(rng, 1:4)
        i = rand(rng, 1:length(x))
        x[i] = rand(rng) < 0.5 ? x[i] ⊻ (0x01 << rand(rng, 0:7)) : rand(rng, UInt8[0x00, 0xff, 0x7f, 0x80])
    end
    return x
end

# ---- one case

function run_case(rng, seed)
    s = MemoryStore()
    chunks = copy(seed.chunks)
    meta, what = seed.meta, :meta
    if rand(rng) < 0.5
        meta = mutate_doc(rng, seed.meta)
    else
        what = :chunk
        isempty(chunks) || (k = rand(rng, collect(keys(chunks))); chunks[k] = mutate_chunk(rng, chunks[k], seed.name))
    end
    writekey!(s, PZ.joinkey("a", seed.mkey), meta)
    seed.attrs === nothing || writekey!(s, "a/.zattrs", seed.attrs)
    for (k, v) in chunks
        writekey!(s, "a/" * k, v)
    end
    outcome, detail = "ok", ""
    nbytes = 0
    t0 = time()
    stats = @timed try
        a = open_array(s, "a")
        nbytes = length(a) * max(1, a.pipeline.dtype.itemsize)
        # a legitimately large grid takes long to read: then only its first chunk
        nchunks = reduce(*, map((n, c) -> cld(n, c), size(a), a.jchunks); init=1)
        rs = nchunks <= 4096 ? map(n -> 1:n, size(a)) : map((n, c) -> 1:min(n, c), size(a), a.jchunks)
        A = isempty(rs) ? read_array(a) : a[rs...]
        if size(A) != map(length, rs)
            outcome, detail = "WRONG", "read $(size(A)) for $(map(length, rs))"
        elseif what == :chunk && seed.checked && !isequal(A, seed.values)
            outcome, detail = "WRONG", "a damaged checksummed chunk read back without an error"
        end
    catch e
        e isa InterruptException && rethrow()
        if e isa PolyZarrError
            outcome = "vocab-error"
        else
            outcome, detail = "CRASH", sprint(showerror, e)[1:min(end, 300)]
        end
    end
    elapsed = time() - t0
    if elapsed > HANG_SECONDS
        outcome, detail = "HANG", "$(round(elapsed; digits=1)) s"
    elseif stats.bytes > 1.5 * nbytes + SLACK_BYTES
        outcome, detail = "BLOWUP", "allocated $(stats.bytes) bytes"
    end
    # what to reproduce it with
    outcome in ("ok", "vocab-error") || what != :meta || (detail *= "\n    " * String(copy(meta))[1:min(end, 600)])
    return outcome, detail, what
end

"""
    fuzz(n, seed; log=stdout) -> Dict(outcome => count)

Run `n` cases seeded with `seed`; failures (CRASH, HANG, BLOWUP, WRONG) are printed as they happen.
"""
function fuzz(n::Integer, seed::Integer; log::IO=stdout, quiet::Bool=false)
    rng = MersenneTwister(seed)
    counts = Dict((w, o) => 0 for w in (:meta, :chunk) for o in OUTCOMES)
    withenv("POLYZARR_MAX_BYTES" => string(64 * 2^20)) do       # no legitimately huge reads
        seeds = seed_arrays()
        for i in 1:n
            sd = rand(rng, seeds)
            outcome, detail, what = run_case(rng, sd)
            counts[(what, outcome)] += 1
            outcome in ("ok", "vocab-error") || quiet || println(log, "case $i ($(sd.name), $what): $outcome: $detail")
        end
    end
    return counts
end

function print_table(io::IO, counts, n, seconds)
    println(io, rpad("cases", 8), rpad("kind", 8), join((rpad(o, 13) for o in OUTCOMES)))
    for w in (:meta, :chunk)
        tot = sum(counts[(w, o)] for o in OUTCOMES)
        println(io, rpad(tot, 8), rpad(w, 8), join((rpad(counts[(w, o)], 13) for o in OUTCOMES)))
    end
    println(io, "$n cases in $(round(seconds; digits=1)) s")
end

bad(counts) = sum(v for ((_, o), v) in counts if o in ("CRASH", "HANG", "BLOWUP"))

function main(args)
    n = length(args) >= 1 ? parse(Int, args[1]) : 1000
    seed = length(args) >= 2 ? parse(Int, args[2]) : 1
    t = @elapsed counts = fuzz(n, seed)
    print_table(stdout, counts, n, t)
    return bad(counts) == 0 ? 0 : 1
end

end # module

if abspath(PROGRAM_FILE) == @__FILE__
    exit(PZFuzz.main(ARGS))
end
