# Issue 12: what zarr-python 3.4 writes, read by PolyZarr.jl equal to zarr-python's own read, and
# written again by PolyZarr.jl with the same metadata and read back: numcodecs.* v3 codecs,
# cast_value, scale_offset, the 22 data types (struct in 3.4's and 3.1's JSON), rectilinear chunk
# grids (sharded too), v2 with the new codecs, zarr.json beside .zarray, v3 consolidated metadata.
# Fixtures: data/zarr34 (make_fixtures.py, run with zarr-python 3.4); python/tests/test_julia_zarr34.py
# has zarr-python 3.4 read the stores PolyZarr.jl writes.
#
# Standalone: .cache/julia/bin/julia --project=julia julia/test/test_v3_ecosystem.jl
include(joinpath(@__DIR__, "testutils.jl"))
include(joinpath(@__DIR__, "data", "zarr34", "rewrite.jl"))

module V3EcosystemTests

using Test
using Base64
import ..PolyZarr
const PZ = PolyZarr
using ..PolyZarr: CodecError, MetadataError
import ..PZTestUtils: raises
import ..rewrite_store

const DIR = joinpath(@__DIR__, "data", "zarr34")
const MANIFEST = PZ.parse_json(read(joinpath(DIR, "manifest.json")))
const CASES = MANIFEST["cases"]
store(name) = joinpath(DIR, "stores", name * ".zarr")

# zarr-python's read of a case: (values in numpy C order as a Julia array of size reverse(shape), dtype or nothing)
function expected(c)
    f = joinpath(DIR, "expected", c["expected"])
    if endswith(f, ".json")
        d = PZ.parse_json(read(f))
        vals = Any[x for x in d["values"]]
        shape = Int[x for x in d["shape"]]
        return reshape(vals, PZ.julia_size(shape, 'C')), nothing
    end
    A, h = PZ.read_npy(f)
    return A, h.dtype
end

function same_values(got, want, c)
    size(got) == size(want) || return false
    if eltype(got) <: AbstractVector{UInt8}          # variable_length_bytes: base64 in the JSON
        return all(i -> got[i] == base64decode(want[i]), eachindex(got))
    end
    return all(i -> isequal(got[i], want[i]), eachindex(got))
end

@testset "zarr-python 3.4 stores" begin
    @test startswith(MANIFEST["zarr"], "3.")
    counts = Dict{String,Int}()
    @testset "read $(c["name"])" for c in CASES
        if haskey(c, "unsupported")
            # pcodec: a CodecError that names the codec and says what to use instead
            err = try
                PZ.read_array(PZ.open_array(store(c["name"])))
                nothing
            catch e
                e
            end
            @test err isa CodecError
            @test occursin(c["unsupported"], err.msg) && occursin("polyzarr (Python)", err.msg)
            @test !PZ.codec_supported(c["unsupported"]) && !PZ.codec_supported("numcodecs." * c["unsupported"])
            @test !isempty(PZ.codec_unsupported_reason(c["unsupported"]))
            continue
        end
        a = PZ.open_array(store(c["name"]))
        @test PZ.zarr_format(a.meta) == c["zarr_format"]
        got = PZ.read_numpy_order(a)
        want, wdt = expected(c)
        @test same_values(got, want, c)
        wdt === nothing || @test eltype(got) == eltype(want)
        # v2: the dtype as stored, byte order included (numpy's read has it)
        (wdt !== nothing && c["zarr_format"] == 2) && @test a.meta.dtype.typestr == wdt.typestr
        counts[c["group"]] = get(counts, c["group"], 0) + 1
    end
    @test get(counts, "numcodecs", 0) >= 20 && get(counts, "dtypes", 0) >= 23
    @test get(counts, "rectilinear", 0) == 2 && get(counts, "cast_scale", 0) >= 6

    @testset "written by PolyZarr.jl, read back: $(c["name"])" for c in CASES
        haskey(c, "unsupported") && continue
        mktempdir() do tmp
            dst = joinpath(tmp, c["name"] * ".zarr")
            rewrite_store(store(c["name"]), dst)
            src = PZ.open_array(store(c["name"]))
            b = PZ.open_array(dst)
            @test same_values(PZ.read_numpy_order(b), expected(c)[1], c)
            # the same metadata as zarr-python wrote (codec names and configurations, data type, grid)
            if c["zarr_format"] == 3
                @test b.meta.data_type == src.meta.data_type || b.meta.data_type["name"] == "struct"
                @test b.meta.codecs == src.meta.codecs
                @test b.meta.edges == src.meta.edges
            else
                # (Julia writes numcodecs' full config: zstd gets its "checksum": false)
                cid(m) = m.compressor === nothing ? nothing : m.compressor["id"]
                @test cid(b.meta) == cid(src.meta) && b.meta.filters == src.meta.filters
            end
        end
    end

    @testset "zarr.json wins over .zarray" begin
        a = PZ.open_array(store("both_documents"))
        @test PZ.zarr_format(a.meta) == 3 && PZ.zshape(a) == [4, 3]
        s = PZ.DirectoryStore(joinpath(DIR, "stores"))
        nodes = PZ._list_nodes(s, "both_documents.zarr")
        @test nodes == [("", :array, 3)]
        mktempdir() do tmp
            r = PZ.export_tree(store("both_documents"), tmp; log=devnull)
            @test isempty(r.failed) && r.exported[1]["shape"] == [4, 3]
        end
    end

    @testset "v3 consolidated metadata (zarr-python 3.4)" begin
        s = PZ.DirectoryStore(store("consolidated"))
        cons = PZ.read_consolidated(s, "")
        @test haskey(cons, "a/zarr.json") && haskey(cons, "sub/b/zarr.json")
        @test PZ.list_nodes(s, ""; consolidated=cons) == [("", :group), ("a", :array), ("sub", :group),
                                                         ("sub/b", :array)]
        @test PZ.read_numpy_order(PZ.open_array(s, "a"; consolidated=cons)) ==
              PZ.read_npy(joinpath(DIR, "expected", "consolidated_a.npy"))[1]
        @test PZ.read_array(PZ.open_array(s, "sub/b"; consolidated=cons)) == [1.5, 2.5, 3.5]
    end
end

@testset "writing numcodecs.*, struct and rectilinear from Julia" begin
    A = reshape(collect(1.0:70.0), 7, 10)                # Zarr shape (10, 7)
    s = PZ.MemoryStore()
    # every numcodecs bytes→bytes codec as a v3 compressor: written as numcodecs.<id> (zarr-python 3.4's name)
    for (id, cfg) in (("zlib", Dict("level" => 1)), ("bz2", Dict("level" => 9)), ("lzma", Dict{String,Any}()),
                      ("lz4", Dict{String,Any}()), ("crc32", Dict{String,Any}()), ("adler32", Dict{String,Any}()),
                      ("fletcher32", Dict{String,Any}()), ("jenkins_lookup3", Dict{String,Any}()),
                      ("shuffle", Dict("elementsize" => 8)))
        a = PZ.write_array(s, "c_$id", A; zarr_format=3, chunks=(3, 4), compressor=merge(Dict{String,Any}("id" => id), cfg))
        @test a.meta.codecs[end]["name"] == "numcodecs.$id"
        @test PZ.read_array(PZ.open_array(s, "c_$id")) == A
    end
    # numcodecs filters and zarr-extensions codecs in a v3 codec list
    codecs = Any[Dict("name" => "numcodecs.delta", "configuration" => Dict("dtype" => "<f8")),
                 Dict("name" => "bytes", "configuration" => Dict("endian" => "little")),
                 Dict("name" => "numcodecs.zstd", "configuration" => Dict("level" => 3))]
    PZ.write_array(s, "delta", A; zarr_format=3, chunks=(3, 4), codecs=codecs)
    @test PZ.read_array(PZ.open_array(s, "delta")) == A
    codecs = Any[Dict("name" => "scale_offset", "configuration" => Dict("offset" => 1.0, "scale" => 2.0)),
                 Dict("name" => "cast_value", "configuration" => Dict("data_type" => "int16")),
                 Dict("name" => "bytes", "configuration" => Dict("endian" => "big"))]
    PZ.write_array(s, "cast", A; zarr_format=3, chunks=(3, 4), codecs=codecs, fill_value=3.0)
    @test PZ.read_array(PZ.open_array(s, "cast")) == A
    # struct: zarr-python 3.4's JSON, fill an object
    T = NamedTuple{(:a, :b),Tuple{Int32,Float64}}
    S = reshape([T((Int32(i), i / 2)) for i in 1:6], 3, 2)
    a = PZ.write_array(s, "st", S; zarr_format=3, dtype=[["a", "<i4"], ["b", "<f8"]], fill_value=T((Int32(5), 0.5)))
    d = PZ.parse_json(PZ.readkey(s, "st/zarr.json"))
    @test d["data_type"]["name"] == "struct"
    @test d["data_type"]["configuration"]["fields"][1] == Dict("name" => "a", "data_type" => "int32")
    @test d["fill_value"] == Dict("a" => 5, "b" => 0.5)
    @test PZ.read_array(PZ.open_array(s, "st")) == S
    # rectilinear: chunks per axis (Julia order here: axis 1 is Zarr's last)
    a = PZ.write_array(s, "rect", A; zarr_format=3, chunks=([2, 5], [3, 3, 4]))
    d = PZ.parse_json(PZ.readkey(s, "rect/zarr.json"))
    @test d["chunk_grid"] == Dict("name" => "rectilinear", "configuration" => Dict("kind" => "inline",
                                  "chunk_shapes" => Any[Any[Any[3, 2], 4], Any[2, 5]]))
    @test PZ.read_array(PZ.open_array(s, "rect")) == A
    @test PZ.readkey(s, "rect/c/2/1") !== nothing && PZ.readkey(s, "rect/c/3/0") === nothing
    # a partial write and read across irregular chunks
    b = PZ.open_array(s, "rect")
    b[2:6, 3:9] = fill(-1.0, 5, 7)
    B = copy(A)
    B[2:6, 3:9] .= -1.0
    @test PZ.read_array(PZ.open_array(s, "rect")) == B
    @test PZ.open_array(s, "rect")[4:7, 6:7] == B[4:7, 6:7]
    # sharded, rectilinear shards, regular inner chunks
    a = PZ.write_array(s, "rs", A; zarr_format=3, chunks=(1, 2), shards=([2, 5], [2, 4, 4]))
    @test PZ.read_array(PZ.open_array(s, "rs")) == A
    d = PZ.parse_json(PZ.readkey(s, "rs/zarr.json"))
    @test d["chunk_grid"]["configuration"]["chunk_shapes"] == Any[Any[2, Any[4, 2]], Any[2, 5]]
    # bare-integer axes and edges that overhang the extent (zarr-python keeps them after a resize)
    m = PZ.parse_rectilinear(Dict("kind" => "inline", "chunk_shapes" => Any[4, Any[Any[3, 2], 5]]), [10, 10], "k")
    @test m == [[4, 4, 4], [3, 3, 5]]
    # the CLI's spelling
    @test PZ.parse_chunks("3+3+4,2+5") == Any[Any[3, 3, 4], 2 + 3 == 5 ? Any[2, 5] : nothing]
    @test PZ.parse_chunks("[[[3,2],4],7]") == Any[Any[Any[3, 2], 4], 7]
    @test PZ.parse_chunks("3,2") == [3, 2]
end

@testset "bad zarr-python 3.4 metadata" begin
    base() = PZ.parse_json(read(joinpath(store("rect"), "zarr.json")))
    d = base()
    d["chunk_grid"]["configuration"]["kind"] = "file"
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "zarr.json:chunk_grid.configuration.kind", "kind")
    d = base()
    d["chunk_grid"]["configuration"]["chunk_shapes"] = Any[Any[Any[3, 2], 3], Any[2, 5]]
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "chunk_grid.configuration.chunk_shapes[0]", "sum to 9")
    d = base()
    d["chunk_grid"]["configuration"]["chunk_shapes"] = Any[Any[Any[3, "x"]], Any[2, 5]]
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "chunk_grid.configuration.chunk_shapes[0][0]", "run")
    d = base()
    d["chunk_grid"]["configuration"]["chunk_shapes"] = Any[Any[10]]
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "chunk_grid.configuration.chunk_shapes", "axes")
    d = PZ.parse_json(read(joinpath(store("dt_struct"), "zarr.json")))
    delete!(d["fill_value"], "b")
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "zarr.json:fill_value.b", "missing")
    d = PZ.parse_json(read(joinpath(store("dt_struct"), "zarr.json")))
    d["fill_value"]["z"] = 1
    @test raises(() -> PZ.parse_array_v3(d), MetadataError, "zarr.json:fill_value.z", "not a field")
    # a transpose after delta cannot be reordered
    d = PZ.parse_json(read(joinpath(store("nc_delta"), "zarr.json")))
    insert!(d["codecs"], 2, Dict{String,Any}("name" => "transpose", "configuration" => Dict("order" => Any[1, 0])))
    @test raises(() -> PZ.make_pipeline(PZ.parse_array_v3(d)), CodecError, "zarr.json:codecs[1]", "order-dependent")
    # numcodecs.* configurations are checked like the v2 configs
    d = PZ.parse_json(read(joinpath(store("nc_zlib"), "zarr.json")))
    d["codecs"][2]["configuration"]["bogus"] = 1
    @test raises(() -> PZ.make_pipeline(PZ.parse_array_v3(d)), CodecError, "zarr.json:codecs[1]", "bogus")
end

end # module
