# The worker the Python side drives (docs/CONTRACT.md): one JSON request per line on stdin, one
# JSON reply per line on stdout, logs on stderr.  It never exits on a bad request; it exits on
# EOF or `shutdown`.

"A request the worker cannot act on (broken JSON, no op, unknown op, missing argument)."
struct ProtocolError <: Exception
    msg::String
end

function required_arg(args::AbstractDict, name::AbstractString)
    haskey(args, name) || throw(ProtocolError(string("missing argument \"", name, "\"")))
    v = args[name]
    v isa AbstractString || throw(ProtocolError(string("argument \"", name, "\" must be a string")))
    return String(v)
end

optional_endpoint(args) = get(args, "endpoint_url", nothing)

# `delay` (seconds) lets the Python side test its request timeout against a live worker.
function worker_ping(args)
    d = get(args, "delay", 0)
    (d isa Real && d >= 0) || throw(ProtocolError("ping: \"delay\" must be a non-negative number"))
    d > 0 && sleep(d)
    return Dict{String,Any}("pong" => true, "julia" => string(VERSION), "pid" => getpid(),
                            "threads" => Threads.nthreads())
end

function worker_export(args)
    res = export_tree(required_arg(args, "src"), required_arg(args, "outdir");
                      endpoint_url=optional_endpoint(args), log=stderr)
    return Dict{String,Any}("exported" => res.exported, "failed" => res.failed)
end

const IMPORT_KWARGS = ("chunks", "order", "compressor", "filters", "fill_value", "dimension_separator",
                       "object_codec", "attrs", "convention", "endpoint_url", "overwrite", "zarr_format",
                       "codecs", "shards", "transpose", "dimension_names", "chunk_key_encoding", "data_type")

function worker_import(args)
    npy = required_arg(args, "npy")
    dest = required_arg(args, "dest")
    kw = Dict{Symbol,Any}()
    for k in keys(args)
        k in ("npy", "dest") && continue
        k in IMPORT_KWARGS || throw(ProtocolError(string("import: unknown argument \"", k, "\"")))
        v = args[k]
        # absent means the default; an explicit null means "none" for the compressor and a null
        # fill value (as `--compressor none` and `--fill-value null` on the command line)
        (v === nothing && !(k in ("compressor", "fill_value"))) && continue
        kw[Symbol(k)] = v
    end
    return import_npy(npy, dest; kw...)
end

worker_inspect(args) = inspect_tree(required_arg(args, "src"); endpoint_url=optional_endpoint(args))
worker_julia_view(args) = julia_view(required_arg(args, "src"); endpoint_url=optional_endpoint(args),
                                     index=get(args, "index", nothing))
worker_shutdown(args) = Dict{String,Any}("bye" => true)
worker_explain(args) = explain_dtype(required_arg(args, "dtype"))

function worker_handoff(args)
    probes = get(args, "probes", Any[])
    w = get(args, "write", nothing)
    (w === nothing || (w isa AbstractDict && haskey(w, "dest"))) ||
        throw(ProtocolError("handoff: \"write\" must be an object with \"dest\""))
    return handoff_npy(required_arg(args, "npy"), required_arg(args, "out"); probes=probes, write=w)
end

# Several requests in one round trip: each gets its own reply object (as on the wire, without "id").
function worker_batch(args)
    reqs = get(args, "requests", nothing)
    reqs isa AbstractVector || throw(ProtocolError("batch: \"requests\" must be a list"))
    out = Any[]
    for r in reqs
        r isa AbstractDict || (push!(out, error_reply(nothing, "ProtocolError", "a batch item must be an " *
            "object")); continue)
        op = get(r, "op", nothing)
        if op == "batch" || op == "shutdown"
            push!(out, error_reply(nothing, "ProtocolError", "op \"$(op)\" cannot be batched"))
            continue
        end
        reply, _ = handle_request(Dict{String,Any}("id" => nothing, "op" => op, "args" => get(r, "args", nothing)))
        delete!(reply, "id")
        push!(out, reply)
    end
    return out
end

"The ops the worker answers: name → function of the args Dict returning the result."
worker_ops() = Dict{String,Function}(
    "ping" => worker_ping, "export" => worker_export, "import" => worker_import,
    "inspect" => worker_inspect, "julia_view" => worker_julia_view, "shutdown" => worker_shutdown,
    "handoff" => worker_handoff, "batch" => worker_batch, "explain" => worker_explain)

error_reply(id, category, message) =
    Dict{String,Any}("id" => id, "ok" => false,
                     "error" => Dict{String,Any}("category" => category, "message" => message))

"""
    handle_request(line, ops=worker_ops()) -> (reply::Dict, stop::Bool)

Answer one request line.  Never throws (except InterruptException).
"""
function handle_request(line::AbstractString, ops=worker_ops())
    req = try
        parse_json(line; key="request")
    catch e
        e isa MetadataError || rethrow()
        return error_reply(nothing, "ProtocolError", e.msg), false
    end
    return handle_request(req, ops)
end

function handle_request(req, ops=worker_ops())
    req isa AbstractDict || return error_reply(nothing, "ProtocolError", "a request must be a JSON object"), false
    id = get(req, "id", nothing)
    (id === nothing || id isa Union{Integer,AbstractFloat,AbstractString}) ||
        return error_reply(nothing, "ProtocolError", "\"id\" must be a number or a string"), false
    op = get(req, "op", nothing)
    op isa AbstractString || return error_reply(id, "ProtocolError", "missing \"op\""), false
    haskey(ops, op) || return error_reply(id, "ProtocolError", string("unknown op \"", op, "\"")), false
    args = get(req, "args", Dict{String,Any}())
    args === nothing && (args = Dict{String,Any}())
    args isa AbstractDict || return error_reply(id, "ProtocolError", "\"args\" must be an object"), false
    try
        result = ops[op](args)
        reply = Dict{String,Any}("id" => id, "ok" => true, "result" => result)
        # check now that the result is writable, so a bad result is an error reply, not a crash
        json_string(reply; indent=nothing)
        return reply, op == "shutdown"
    catch e
        e isa InterruptException && rethrow()
        if e isa PolyZarrError
            r = error_reply(id, errorcategory(e), isempty(e.key) ? e.msg : string(e.key, ": ", e.msg))
            r["error"]["key"] = e.key
            return r, false
        elseif e isa ProtocolError
            return error_reply(id, "ProtocolError", e.msg), false
        end
        bt = catch_backtrace()
        @error "worker: $op failed" exception = (e, bt)
        return error_reply(id, "InternalError", sprint(showerror, e)), false
    end
end

"""
    bridge_call(request_json) -> reply_json

One worker request answered in-process (the juliacall backend uses this): the same ops, arguments,
replies and errors as the worker's JSON lines, without a process in between.
"""
bridge_call(request_json::AbstractString) = json_string(first(handle_request(request_json)); indent=nothing)

function send_line(output::IO, x)
    write(output, json_string(x; indent=nothing), '\n')
    flush(output)
end

"""
    worker_main(input=stdin, output=stdout; ops=worker_ops())

Print the ready line, then answer requests until EOF or `shutdown`.  Returns 0.
"""
function worker_main(input::IO=stdin, output::IO=stdout; ops=worker_ops())
    send_line(output, Dict{String,Any}("ready" => true, "version" => string(VERSION), "pid" => getpid(),
                                       "threads" => Threads.nthreads()))
    while !eof(input)
        line = readline(input)
        isempty(strip(line)) && continue
        reply, stop = handle_request(line, ops)
        send_line(output, reply)
        stop && break
    end
    return 0
end
