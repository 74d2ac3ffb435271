# PolyZarr.jl as one benchmark contender in a long-lived process, driven by bench_peers.py over JSON
# lines (the protocol of bench_worker.py: info / prepare / run / verify / finish / quit; one request,
# one reply; "run" is timed here, around the operation only).  Started as
#   julia -t N --project=julia --startup-file=no benchmarks/bench_worker.jl
# Cases speak Zarr order (numpy's); a C-order Zarr array of shape (a, b) is a Julia array of size
# (b, a), an F-order v2 one of size (a, b).
using PolyZarr
using Mmap

const OUT = stdout
redirect_stdout(stderr)                    # library chatter must not break the protocol

reply(d) = (println(OUT, PolyZarr.json_string(d; indent=nothing)); flush(OUT))

function first_line(e)
    s = sprint(showerror, e)
    l = split(strip(s), '\n')
    return string(typeof(e), ": ", isempty(l) ? "" : first(l))[1:min(end, 300)]
end

function release_memory()
    GC.gc(true)
    Sys.islinux() && ccall(:malloc_trim, Cint, (Csize_t,), 0)
    return nothing
end

# the Zarr (row-major) shape as the Julia size of a C-order array
jl(v) = Tuple(reverse(Int.(collect(v))))

mutable struct State
    case::Union{Nothing,Dict{String,Any}}
    x::Any
    result::Any
end
const S = State(nothing, nothing, nothing)

function expected(case)
    nrows, ncols = Int(case["shape"][1]), Int(case["shape"][2])
    io = open(case["expected"])
    E = Mmap.mmap(io, Matrix{Float64}, (ncols, nrows))   # Julia view of the C-order bytes
    close(io)
    return E
end

# the value at Zarr index (i, j) (0-based) of a read result
zget(A, order, i, j) = order == 'F' ? A[i + 1, j + 1] : A[j + 1, i + 1]

function prepare(case)
    S.case, S.x, S.result = case, nothing, nothing
    if case["kind"] == "write"
        (case["fmt"] == 2 && case["order"] != "C") && error("the bench writes C order only")
        nrows, ncols = Int(case["shape"][1]), Int(case["shape"][2])
        x = Matrix{Float64}(undef, ncols, nrows)
        open(io -> read!(io, x), case["expected"])
        S.x = x
    end
    release_memory()
    return Dict{String,Any}()
end

function do_write(case, A, out)
    store = DirectoryStore(out)
    chunks = jl(case["chunks"])
    if case["fmt"] == 2
        write_array(store, "", A; convention=:reverse, chunks=chunks,
                    compressor=Dict{String,Any}(case["v2_compressor"]))
    elseif get(case, "shards", nothing) !== nothing
        write_array(store, "", A; convention=:reverse, chunks=chunks, zarr_format=3, shards=jl(case["shards"]),
                    compressor=Dict{String,Any}(case["v3_compressor"]))
    else
        write_array(store, "", A; convention=:reverse, chunks=chunks, zarr_format=3,
                    compressor=Dict{String,Any}(case["v3_compressor"]))
    end
    return nothing
end

function run_case()
    case = S.case
    kind = case["kind"]
    t0 = time_ns()
    r = nothing
    if kind == "read"
        r = read_array(open_array(DirectoryStore(case["path"]), ""))
    elseif kind == "points"
        a = open_array(DirectoryStore(case["path"]), "")
        C = zorder(a) == 'C'
        r = Float64[C ? a[p[2] + 1, p[1] + 1] : a[p[1] + 1, p[2] + 1] for p in case["points"]]
    elseif kind == "regions"
        a = open_array(DirectoryStore(case["path"]), "")
        C = zorder(a) == 'C'
        r = Any[]
        for q in case["regions"]
            r0, c0, h, w = q
            push!(r, C ? a[c0 + 1:c0 + w, r0 + 1:r0 + h] : a[r0 + 1:r0 + h, c0 + 1:c0 + w])
        end
    elseif kind == "small"
        store = DirectoryStore(case["path"])
        r = Any[read_array(open_array(store, name)) for name in case["names"]]
    elseif kind == "write"
        do_write(case, S.x, case["out"])
    else
        error("unknown case kind $kind")
    end
    t = (time_ns() - t0) / 1e9
    S.result = r
    return Dict{String,Any}("seconds" => t)
end

# A == permutedims(E) without the copy (a function barrier: the result is held untyped)
function equal_transposed(A::AbstractMatrix, E::AbstractMatrix)
    for j in 1:size(A, 2), i in 1:size(A, 1)
        @inbounds A[i, j] == E[j, i] || return false
    end
    return true
end

function verify()
    case, r = S.case, S.result
    kind = case["kind"]
    ok, detail = false, ""
    try
        if kind == "write"
            ok, detail = true, "checked by the parent (zarr-python)"
        elseif kind == "small"
            n = Int(case["elements"])
            bad = count(i -> r[i] != Float64.((i - 1) * n:i * n - 1), 1:length(r))
            ok, detail = bad == 0, bad == 0 ? "equal" : "$bad arrays differ"
        else
            E = expected(case)
            order = zorder(open_array(DirectoryStore(case["path"]), ""))
            if kind == "read"
                if order == 'C'
                    ok = size(r) == size(E) && r == E
                else
                    ok = size(r) == reverse(size(E)) && equal_transposed(r, E)
                end
                detail = ok ? "equal" : "differs (size $(size(r)))"
            elseif kind == "points"
                bad = count(k -> r[k] != E[case["points"][k][2] + 1, case["points"][k][1] + 1], 1:length(r))
                ok, detail = bad == 0, bad == 0 ? "equal" : "$bad of $(length(r)) points differ"
            elseif kind == "regions"
                bad = 0
                for (v, q) in zip(r, case["regions"])
                    r0, c0, h, w = q
                    want = E[c0 + 1:c0 + w, r0 + 1:r0 + h]
                    bad += (order == 'C' ? v == want : v == permutedims(want)) ? 0 : 1
                end
                ok, detail = bad == 0, bad == 0 ? "equal" : "$bad regions differ"
            end
            E = nothing
        end
    finally
        S.result = nothing
        r = nothing
        release_memory()
    end
    return Dict{String,Any}("verified" => ok, "detail" => detail)
end

versions() = Dict{String,Any}("julia" => string(VERSION), "threads" => Threads.nthreads(),
                              "PolyZarr.jl" => string(PolyZarr_version()), "from" => dirname(pathof(PolyZarr)))

function PolyZarr_version()
    for line in eachline(joinpath(dirname(pathof(PolyZarr)), "..", "Project.toml"))
        m = match(r"^version\s*=\s*\"(.*)\"", line)
        m === nothing || return m.captures[1]
    end
    return "?"
end

function main()
    reply(Dict{String,Any}("ok" => true, "ready" => true, "pid" => getpid(), "versions" => versions()))
    for line in eachline(stdin)
        isempty(strip(line)) && continue
        req = PolyZarr.parse_json(line)
        op = get(req, "op", "")
        op == "quit" && break
        rep = try
            d = op == "prepare" ? prepare(req["case"]) :
                op == "run" ? run_case() :
                op == "verify" ? verify() :
                op == "finish" ? (S.case = nothing; S.x = nothing; S.result = nothing; release_memory();
                                  Dict{String,Any}()) :
                op == "info" ? Dict{String,Any}("versions" => versions()) :
                error("unknown op $op")
            d["ok"] = true
            d
        catch e
            S.result = nothing
            Dict{String,Any}("ok" => false, "error" => first_line(e))
        end
        reply(rep)
    end
end

main()
