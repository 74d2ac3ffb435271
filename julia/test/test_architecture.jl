# The shape of julia/src (issue 11): axis reversal only in layout.jl, core files never call the CLI,
# the worker or the bridge, every codec file the registry names exists, and a small style check
# (what julia/.JuliaFormatter.toml asks of users on current Julia, which cannot run here).
include(joinpath(@__DIR__, "testutils.jl"))

module ArchitectureTests

using Test
import ..PolyZarr

const SRC = normpath(joinpath(@__DIR__, "..", "src"))

"Every .jl file under julia/src, as a path relative to it."
function source_files()
    out = String[]
    for (root, _, files) in walkdir(SRC)
        for f in files
            endswith(f, ".jl") && push!(out, relpath(joinpath(root, f), SRC))
        end
    end
    return sort!(out)
end

"""
The code lines of `text` as (line number, code): docstrings and other triple-quoted strings and
comments are dropped (their prose may say `reverse(S)`; only code is checked).
"""
function code_lines(text::AbstractString)
    out = Tuple{Int,String}[]
    intriple = false
    for (i, line) in enumerate(split(text, '\n'))
        n = length(collect(eachmatch(r"\"\"\"", line)))
        if intriple || (n > 0 && isodd(n))
            isodd(n) && (intriple = !intriple)
            continue
        end
        s = strip(line)
        (isempty(s) || startswith(s, "#")) && continue
        startswith(s, "\"") && endswith(s, "\"") && continue          # a one-line docstring
        code = replace(line, r"\"(?:[^\"\\]|\\.)*\"" => "\"\"")       # string literals out
        code = replace(code, r"#.*$" => "")                           # trailing comment out
        push!(out, (i, code))
    end
    return out
end

# Axis reversal: reverse( / reverse!( / Iterators.reverse, `N + 1 - i`, descending ranges `n:-1:1`.
const REVERSAL = [r"\breverse!?\(", r"Iterators\.reverse", r"\b\w+\s*\+\s*1\s*-\s*\w", r":\s*-1\s*:"]

# The allow-list: (file, code on the line, why it is not an axis reversal outside layout.jl).
const ALLOWED = [
    # codecs decode in the reverse of their encode order: a list of codecs, not axes
    ("codecs/pipeline.jl", "for i in length(p.bytes_codecs):-1:1"),
    ("codecs/pipeline.jl", "for i in length(s.filters):-1:1"),
    # a zip's end-of-central-directory record is searched from the end of the file: bytes, not axes
    ("stores.jl", "for i in (n - 21):-1:max(1, n - 22 - 65535)"),
]

"(file, line, code) of every reversal outside layout.jl that is not allow-listed."
function reversals(files=source_files(); read_text=f -> read(joinpath(SRC, f), String))
    found = Tuple{String,Int,String}[]
    for f in files
        f == "layout.jl" && continue
        for (i, code) in code_lines(read_text(f))
            any(r -> occursin(r, code), REVERSAL) || continue
            any(a -> a[1] == f && occursin(a[2], code), ALLOWED) && continue
            push!(found, (f, i, strip(code)))
        end
    end
    return found
end

# Core files: everything but the entry points (cli.jl, worker.jl, bridge.jl) and precompile.jl.
const ENTRY_FILES = ("cli.jl", "worker.jl", "bridge.jl", "precompile.jl", "PolyZarr.jl")

"Names defined at top level in `file` (functions, consts, structs)."
function defined_names(file)
    names = Set{String}()
    for (_, code) in code_lines(read(joinpath(SRC, file), String))
        m = match(r"^(?:function|const|struct|mutable struct|abstract type)\s+([A-Za-z_][A-Za-z_0-9!]*)", code)
        m === nothing && (m = match(r"^([A-Za-z_][A-Za-z_0-9!]*)\(.*\)\s*=[^=]", code))
        m === nothing || push!(names, m.captures[1])
    end
    return names
end

@testset "architecture" begin
    @testset "axis reversal only in layout.jl" begin
        found = reversals()
        for (f, i, code) in found
            @warn "axis reversal outside layout.jl" file = f line = i code
        end
        @test isempty(found)
        # the check itself: a reversal added to a core file is found (and a docstring's prose is not)
        fake = "\"\"\"\n    f(x) = reverse(x)\n\"\"\"\ng(x) = 1\nh(s) = Tuple(reverse(s))   # sneaky\nk(n) = n - 1:-1:0\n"
        hits = reversals(["arrays.jl"]; read_text=_ -> fake)
        @test [h[2] for h in hits] == [5, 6]
        @test isempty(reversals(["layout.jl"]; read_text=_ -> fake))
    end

    @testset "core files never call cli.jl, worker.jl or bridge.jl" begin
        entry = union([defined_names(f) for f in ("cli.jl", "worker.jl", "bridge.jl")]...)
        @test "cli_main" in entry && "worker_main" in entry
        for f in source_files()
            (f in ENTRY_FILES) && continue
            used = String[]
            for (_, code) in code_lines(read(joinpath(SRC, f), String))
                for m in eachmatch(r"\b([A-Za-z_][A-Za-z_0-9!]*)\b", code)
                    m.captures[1] in entry && push!(used, m.captures[1])
                end
            end
            isempty(used) || @warn "core file uses the entry points" file = f names = unique(used)
            @test isempty(used)
        end
    end

    @testset "the codec registry" begin
        reg = PolyZarr.codec_registry()
        files = Set(source_files())
        for s in reg.entries
            @test s.kind in (:array_array, :array_bytes, :bytes_bytes)
            @test s.v2_id !== nothing || !isempty(s.v3_names)
            @test s.v2_id === nothing || s.from_v2 !== nothing
            # a numcodecs.<id> name may be built from the numcodecs config (registry.jl: numcodecs_from_v3)
            @test isempty(s.v3_names) || s.from_v3 !== nothing ||
                  (s.from_v2 !== nothing && all(n -> startswith(n, "numcodecs."), s.v3_names))
        end
        # zarr-python 3.4's numcodecs.* names are all registered
        for id in ("zlib", "gzip", "bz2", "lzma", "lz4", "zstd", "blosc", "shuffle", "delta", "fixedscaleoffset",
                   "quantize", "bitround", "packbits", "astype", "crc32", "crc32c", "adler32", "fletcher32",
                   "jenkins_lookup3", "pcodec", "zfpy")
            @test PolyZarr.codec_spec_v3("numcodecs." * id) !== nothing
            @test PolyZarr.codec_spec_v2(id) !== nothing
        end
        for f in ("registry", "pipeline", "clibs", "transpose", "bytes", "sharding", "vlen", "json2", "categorize",
                  "delta", "fixedscaleoffset", "quantize", "astype", "packbits", "shuffle", "zlib", "blosc", "zstd",
                  "lz4", "bz2", "lzma", "crc32c", "crc32", "adler32", "fletcher32", "jenkins_lookup3", "bitround",
                  "zfpy", "pcodec", "cast_value", "scale_offset")
            @test "codecs/$f.jl" in files
        end
        @test !("codecs.jl" in files) && !("compressors.jl" in files)
        for f in ("metadata.jl", "metadata_v3.jl", "verbs.jl", "explain.jl", "layout.jl", "cli.jl")
            @test f in files
        end
    end

    @testset "style" begin
        bad = String[]
        for f in source_files()
            for (i, line) in enumerate(split(read(joinpath(SRC, f), String), '\n'))
                where = "$f:$i"
                occursin('\t', line) && push!(bad, "$where: tab")
                line != rstrip(line) && push!(bad, "$where: trailing whitespace")
                length(line) > 120 && push!(bad, "$where: $(length(line)) characters (limit 120)")
            end
        end
        # statements that open, continue or close a block sit on a 4-space multiple (continuation lines of
        # a call or an expression may align with their opening bracket)
        block = r"^(function|if|elseif|else|for|while|end|try|catch|finally|return|struct|mutable struct|let|begin|module|abstract type)\b"
        for f in source_files()
            for (i, code) in code_lines(read(joinpath(SRC, f), String))
                s = lstrip(code)
                n = length(code) - length(s)
                occursin(block, s) && n % 4 != 0 && push!(bad, "$f:$i: indented $n spaces (a multiple of 4 expected)")
            end
        end
        for b in bad
            @warn b
        end
        @test isempty(bad)
    end
end

end # module
