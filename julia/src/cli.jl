# The command line (`julia julia/bin/polyzarr.jl VERB ...`), same verbs and flags as the Python CLI
# (docs/CONTRACT.md).  argv is parsed by hand: Julia 1.5's stdlib has no argument parser.
# Exit codes: 0 ok, 1 an array failed or an error, 2 usage.

const CLI_USAGE = """
usage: polyzarr [--impl python|julia] [--endpoint-url URL] [--version] VERB ...

  export SRC OUTDIR            every array under SRC to OUTDIR/<path>.npy
  import NPY DEST [--zarr-format 2|3] [--chunks 3,2,2|3+3+4,2+5] [--order C|F] [--compressor SPEC|none]
                  [--filters SPEC]... [--fill-value JSON] [--dimension-separator .|/]
                  [--object-codec vlen-utf8|vlen-bytes|json2] [--attrs JSON] [--overwrite]
                  [--convention reverse|F]
                  v3 only: [--codecs JSON|SPEC] [--shards 4,6] [--transpose 1,2,0]
                  [--dimension-names time,lat,lon] [--chunk-key-encoding default|v2]
  inspect SRC [--json]         the tree with each array's metadata
  explain DTYPE [--json]       a typestring or v3 data_type as PolyZarr.jl sees it

SPEC is id[:key=value[,key=value...]] (values parsed as JSON when they parse), or a JSON object;
several filters: repeat --filters or separate them with ';' (or give a JSON list).
--codecs is a JSON list of v3 codec objects, or name[:key=value,...] specs separated by ';'
(a value with commas is a list): transpose:order=1,2,0;bytes:endian=big;gzip:level=5
"""

"A bad command line: printed with the usage, exit code 2."
struct UsageError <: Exception
    msg::String
end
Base.showerror(io::IO, e::UsageError) = print(io, "usage error: ", e.msg)

struct CLICommand
    verb::String                    # "export", "import", "inspect" or "help"
    args::Vector{String}            # positional arguments after the verb
    opts::Dict{String,Any}          # parsed options, keyed like the import_npy keywords
end

# options that take a value, and what they become
const CLI_VALUE_FLAGS = Dict(
    "--impl" => "impl", "--endpoint-url" => "endpoint_url", "--zarr-format" => "zarr_format",
    "--chunks" => "chunks", "--order" => "order", "--compressor" => "compressor",
    "--filters" => "filters", "--fill-value" => "fill_value", "--dimension-separator" => "dimension_separator",
    "--object-codec" => "object_codec", "--attrs" => "attrs", "--convention" => "convention",
    "--codecs" => "codecs", "--shards" => "shards", "--transpose" => "transpose",
    "--dimension-names" => "dimension_names", "--chunk-key-encoding" => "chunk_key_encoding",
)
const CLI_BOOL_FLAGS = Dict("--overwrite" => "overwrite", "--json" => "json", "--help" => "help", "-h" => "help",
                            "--version" => "version")
const CLI_VERB_FLAGS = Dict(
    "export" => ["impl", "endpoint_url"],
    "inspect" => ["impl", "endpoint_url", "json"],
    "explain" => ["impl", "json"],
    "import" => ["impl", "endpoint_url", "zarr_format", "chunks", "order", "compressor", "filters", "fill_value",
                 "dimension_separator", "object_codec", "attrs", "convention", "overwrite", "codecs", "shards",
                 "transpose", "dimension_names", "chunk_key_encoding"],
)
const CLI_NARGS = Dict("export" => 2, "import" => 2, "inspect" => 1, "explain" => 1)

"""
    parse_cli(args) -> CLICommand

Parse argv; flags may come before or after the verb, as `--flag value` or `--flag=value`.
Raises `UsageError`.
"""
function parse_cli(args::AbstractVector{<:AbstractString})
    verb = ""
    positional = String[]
    raw = Dict{String,Any}()
    filters = String[]
    i = 1
    while i <= length(args)
        a = String(args[i])
        i += 1
        if a == "--"
            append!(positional, args[i:end])
            break
        elseif startswith(a, "-") && length(a) > 1 && !occursin(r"^-\d", a)
            name, value = occursin('=', a) ? (String.(split(a, '='; limit=2))...,) : (a, nothing)
            if haskey(CLI_BOOL_FLAGS, name)
                value === nothing || throw(UsageError(string(name, " takes no value")))
                raw[CLI_BOOL_FLAGS[name]] = true
            elseif haskey(CLI_VALUE_FLAGS, name)
                if value === nothing
                    i <= length(args) || throw(UsageError(string(name, " needs a value")))
                    value = String(args[i])
                    i += 1
                end
                key = CLI_VALUE_FLAGS[name]
                key == "filters" ? push!(filters, value) : (raw[key] = value)
            else
                throw(UsageError(string("unknown option ", name)))
            end
        elseif isempty(verb)
            verb = a
        else
            push!(positional, a)
        end
    end
    isempty(filters) || (raw["filters"] = filters)
    get(raw, "help", false) === true && return CLICommand("help", positional, Dict{String,Any}())
    get(raw, "version", false) === true && return CLICommand("version", positional, Dict{String,Any}())
    isempty(verb) && throw(UsageError("missing verb (export, import or inspect)"))
    haskey(CLI_NARGS, verb) || throw(UsageError(string("unknown verb ", repr(verb))))
    length(positional) == CLI_NARGS[verb] ||
        throw(UsageError(string(verb, " takes ", CLI_NARGS[verb], " argument(s), got ", length(positional))))
    for k in keys(raw)
        k in CLI_VERB_FLAGS[verb] || throw(UsageError(string("option --", replace(k, "_" => "-"),
                                                             " does not apply to ", verb)))
    end
    impl = get(raw, "impl", "julia")
    impl in ("python", "julia") || throw(UsageError(string("--impl must be python or julia, got ", repr(impl))))
    delete!(raw, "impl")           # accepted and ignored: this is the Julia implementation
    return CLICommand(verb, positional, convert_cli_options(raw))
end

function convert_cli_options(raw::Dict{String,Any})
    opts = Dict{String,Any}()
    for (k, v) in raw
        opts[k] = if k == "chunks"
            parse_chunks(v)
        elseif k == "zarr_format"
            n = tryparse(Int, v)
            n in (2, 3) || throw(UsageError(string("--zarr-format must be 2 or 3, got ", repr(v))))
            n
        elseif k == "order"
            v in ("C", "F") || throw(UsageError(string("--order must be C or F, got ", repr(v))))
            v
        elseif k == "dimension_separator"
            v in (".", "/") || throw(UsageError(string("--dimension-separator must be . or /, got ", repr(v))))
            v
        elseif k == "convention"
            v in ("reverse", "F") || throw(UsageError(string("--convention must be reverse or F, got ", repr(v))))
            v
        elseif k == "compressor"
            parse_compressor_spec(v)
        elseif k == "filters"
            parse_filter_specs(v)
        elseif k == "fill_value"
            cli_json(v, "--fill-value")
        elseif k == "attrs"
            a = cli_json(v, "--attrs")
            a isa Dict || throw(UsageError("--attrs must be a JSON object"))
            a
        elseif k == "codecs"
            parse_v3_codec_specs(v)
        elseif k == "shards"
            parse_chunks(v, "--shards")
        elseif k == "transpose"
            parse_permutation(v)
        elseif k == "dimension_names"
            t = strip(v)
            names = startswith(t, "[") ? cli_json(t, "--dimension-names") : Any[String(strip(x)) for x in split(t, ',')]
            (names isa AbstractVector && all(x -> x === nothing || x isa AbstractString, names)) ||
                throw(UsageError("--dimension-names must be names separated by commas, or a JSON list of strings and " *
                    "nulls"))
            names
        elseif k == "chunk_key_encoding"
            v in ("default", "v2") ||
                throw(UsageError(string("--chunk-key-encoding must be default or v2, got ", repr(v))))
            v
        else
            v
        end
    end
    return opts
end

function cli_json(s::AbstractString, flag::AbstractString)
    try
        return parse_json(s; key=flag)
    catch e
        e isa MetadataError || rethrow()
        throw(UsageError(string(flag, " is not valid JSON: ", e.msg)))
    end
end

function _positive_int(x::AbstractString, flag, s)
    n = tryparse(Int, strip(x))
    (n isa Integer && n >= 1) || throw(UsageError(string(flag, " must be positive integers, got ", repr(s))))
    return n
end

"`3,2,2` or `[3,2,2]` → [3, 2, 2]: integers of at least `lo` (1: positive, 0: non-negative) for `flag`."
function parse_int_list(s::AbstractString, flag::AbstractString, lo::Int)
    t = strip(s)
    parts = startswith(t, "[") ? cli_json(t, flag) : split(t, ',')
    out = Int[]
    for x in parts
        n = x isa Integer ? x : tryparse(Int, strip(string(x)))
        (n isa Integer && n >= lo) ||
            throw(UsageError(string(flag, " must be ", lo >= 1 ? "positive" : "non-negative", " integers, got " *
                "", repr(s))))
        push!(out, n)
    end
    return out
end

"""
A chunk or shard shape: positive integers, at least one; or a rectilinear grid, an axis given as its
chunk edge lengths joined by `+` (`3+3+4,2+5`), or a JSON list of per-axis lists (`[[3,3,4],[2,5]]`,
runs `[size, count]` allowed).
"""
function parse_chunks(s::AbstractString, flag::AbstractString="--chunks")
    t = strip(s)
    if occursin('+', t) || (startswith(t, "[") && occursin(r"^\[\s*\[", t) || occursin(r",\s*\[", t))
        parts = split(t, ',')
        axes = startswith(t, "[") ? cli_json(t, flag) : Any[occursin('+', x) ? Any[split(x, '+')...] : x for x in parts]
        out = Any[]
        for ax in axes
            if ax isa AbstractVector
                push!(out, Any[y isa AbstractString ? _positive_int(y, flag, s) : y for y in ax])
            else
                push!(out, ax isa AbstractString ? _positive_int(ax, flag, s) : ax)
            end
        end
        return out
    end
    chunks = parse_int_list(s, flag, 1)
    isempty(chunks) && throw(UsageError(string(flag, " is empty")))
    return chunks
end

"""
    parse_codec_spec(spec) -> Dict{String,Any}

`id[:key=value,...]` (values parsed as JSON when they parse, else kept as strings) or a JSON
object, to a numcodecs-style config `Dict("id" => id, key => value, ...)`.
"""
function parse_codec_spec(spec::AbstractString)
    s = strip(spec)
    if startswith(s, "{")
        d = cli_json(s, "codec spec")
        d isa Dict && haskey(d, "id") || throw(UsageError(string("codec spec needs an \"id\": ", spec)))
        return d
    end
    id, rest = occursin(':', s) ? split(s, ':'; limit=2) : (s, "")
    id = strip(id)
    (isempty(id) || occursin(r"[\s=,]", id)) && throw(UsageError(string("bad codec spec ", repr(spec))))
    d = Dict{String,Any}("id" => String(id))
    isempty(strip(rest)) && return d
    for kv in split_toplevel(rest, ',')
        occursin('=', kv) ||
            throw(UsageError(string("bad codec spec ", repr(spec), ": expected key=value, got ", repr(kv))))
        k, v = split(kv, '='; limit=2)
        k = strip(k)
        isempty(k) && throw(UsageError(string("bad codec spec ", repr(spec), ": empty key")))
        d[String(k)] = spec_value(strip(v))
    end
    return d
end

"`--transpose 1,2,0` or `[1,2,0]`: a 0-based permutation in Zarr order (checked by the codec)."
parse_permutation(s::AbstractString) = parse_int_list(s, "--transpose", 0)

"`--codecs` (see `v3_codec_specs`); a bad spec is a usage error."
function parse_v3_codec_specs(s::AbstractString)
    try
        return v3_codec_specs(s)
    catch e
        (e isa MetadataError && e.key == "codecs") || rethrow()
        throw(UsageError(e.msg))
    end
end

"`--compressor`: a spec, a JSON object, or `none`/`null` → nothing (no compressor)."
parse_compressor_spec(s::AbstractString) =
    lowercase(strip(s)) in ("none", "null") ? nothing : parse_codec_spec(s)

"`--filters` values (repeated and/or `;`-separated specs, or JSON lists) → a vector of configs, or nothing (`none`)."
function parse_filter_specs(values::AbstractVector)
    filters = Dict{String,Any}[]
    for v in values
        t = strip(v)
        lowercase(t) in ("none", "null", "") && continue
        if startswith(t, "[")
            list = cli_json(t, "--filters")
            for f in list
                f isa Dict && haskey(f, "id") || throw(UsageError(string("--filters list entries need an \"id\": ", v)))
                push!(filters, f)
            end
        else
            for part in split_toplevel(t, ';')
                isempty(strip(part)) || push!(filters, parse_codec_spec(part))
            end
        end
    end
    return isempty(filters) ? nothing : filters      # no filters is `null` in .zarray
end

"The version in the repository's Project.toml (shared with the Python package)."
function polyzarr_version()
    toml = joinpath(@__DIR__, "..", "..", "Project.toml")
    if isfile(toml)
        for line in eachline(toml)
            m = match(r"^version\s*=\s*\"([^\"]*)\"", line)
            m === nothing || return String(m.captures[1])
        end
    end
    return "unknown"
end

"""
    cli_main(args; out=stdout, err=stderr) -> Int

Run the CLI; returns the exit code.
"""
function cli_main(args::AbstractVector{<:AbstractString}=ARGS; out::IO=stdout, err::IO=stderr)
    cmd = try
        parse_cli(args)
    catch e
        e isa UsageError || rethrow()
        print(err, CLI_USAGE)
        println(err, "polyzarr: error: ", e.msg)
        return 2
    end
    if cmd.verb == "help"
        print(out, CLI_USAGE)
        return 0
    elseif cmd.verb == "version"
        println(out, "polyzarr ", polyzarr_version(), " (Julia ", VERSION, ")")
        return 0
    end
    try
        return run_cli(cmd, out, err)
    catch e
        print_cli_error(err, e, catch_backtrace())
        return 1
    end
end

function print_cli_error(err::IO, e, bt)
    if e isa PolyZarrError
        println(err, sprint(showerror, e))
    else
        println(err, "InternalError: ", sprint(showerror, e))
        get(ENV, "POLYZARR_DEBUG", "") == "" || Base.show_backtrace(err, bt)
    end
end

endpoint_kw(opts) = get(opts, "endpoint_url", nothing)

function run_cli(cmd::CLICommand, out::IO, err::IO)
    opts = cmd.opts
    if cmd.verb == "export"
        src, outdir = cmd.args
        # export_tree prints the `exported ...` / `FAILED ...` lines itself, in tree order
        res = export_tree(src, outdir; endpoint_url=endpoint_kw(opts), log=out)
        flush(out)
        return isempty(res.failed) ? 0 : 1
    elseif cmd.verb == "import"
        npy, dest = cmd.args
        kw = Dict{Symbol,Any}(Symbol(k) => v for (k, v) in opts)
        res = import_npy(npy, dest; kw...)
        # the Python CLI's line, word for word
        println(out, import_summary(npy, dest, res))
        return 0
    elseif cmd.verb == "inspect"
        d = inspect_tree(cmd.args[1]; endpoint_url=endpoint_kw(opts))
        if get(opts, "json", false) === true
            println(out, json_string(d; indent=2))       # json.dumps(tree, indent=2, sort_keys=True)
        else
            print_inspect(out, d)
        end
        return any(n -> haskey(n, "error"), get(d, "nodes", Any[])) ? 1 : 0
    end
    if cmd.verb == "explain"
        d = explain_dtype(cmd.args[1])
        if get(opts, "json", false) === true
            println(out, json_string(d; indent=2))
        else
            print_explain(out, d)
        end
        return 0
    end
    throw(UsageError(string("unknown verb ", cmd.verb)))
end
