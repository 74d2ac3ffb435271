# xarray datasets: open_dataset decodes what xarray writes to the values xarray decodes (element by
# element), and what write_dataset writes xarray decodes to the values Julia wrote.  xarray is the
# oracle (julia/test/datasets_oracle.py, run with ENV["POLYZARR_PYTHON"]); without it only the
# Julia-side round trip and the calendar arithmetic run.
include(joinpath(@__DIR__, "testutils.jl"))

# a module of its own, so helper names cannot clash with other test files in runtests.jl
module TestDatasetsFile
using Test, Dates
using Main.PolyZarr
using Main.PZTestUtils

const ORACLE = joinpath(@__DIR__, "datasets_oracle.py")

iso9(x::DateTime) = string(lpad(year(x), 4, '0'), "-", lpad(month(x), 2, '0'), "-", lpad(day(x), 2, '0'), "T",
                           lpad(hour(x), 2, '0'), ":", lpad(minute(x), 2, '0'), ":", lpad(second(x), 2, '0'), ".",
                           lpad(millisecond(x) * 1_000_000, 9, '0'))
iso9(x::CFDateTime) = string(lpad(x.year, 4, '0'), "-", lpad(x.month, 2, '0'), "-", lpad(x.day, 2, '0'), "T",
                             lpad(x.hour, 2, '0'), ":", lpad(x.minute, 2, '0'), ":", lpad(x.second, 2, '0'), ".",
                             lpad(x.nanosecond, 9, '0'))

# one decoded Julia value against xarray's (JSON: null for NaN/NaT)
function same_value(x, e)
    e === nothing && return x === missing || (x isa AbstractFloat && isnan(x))
    x === missing && return false
    x isa Union{DateTime,CFDateTime} && return e isa AbstractString && iso9(x) == e
    x isa Dates.Period && return e isa Integer && Dates.value(Dates.Nanosecond(x)) == e
    x isa Vector{UInt8} && return e isa AbstractVector && x == UInt8.(e)
    x isa AbstractString && return x == e
    x isa Bool && return e isa Bool && x == e
    x isa Real && return e isa Real && !(e isa Bool) && Float64(x) == Float64(e)
    return false
end

# the Julia type a variable should have for xarray's dtype (nothing: no constraint)
function expected_type(dt, pytype)
    dt == "float64" && return Float64
    dt == "float32" && return Float32
    dt == "bool" && return Bool
    dt == "datetime64[ns]" && return Union{DateTime,CFDateTime{:proleptic_gregorian}}
    dt == "datetime64[s]" && return DateTime
    dt == "timedelta64[s]" && return Second
    dt == "timedelta64[ms]" && return Millisecond
    dt == "timedelta64[us]" && return Microsecond
    pytype == "DatetimeNoLeap" && return CFDateTime{:noleap}
    pytype == "DatetimeAllLeap" && return CFDateTime{:all_leap}
    pytype == "Datetime360Day" && return CFDateTime{Symbol("360_day")}
    pytype == "DatetimeGregorian" && return Union{DateTime,CFDateTime{:standard}}
    pytype == "DatetimeProlepticGregorian" && return Union{DateTime,CFDateTime{:proleptic_gregorian}}
    pytype == "str" && return String
    return nothing
end

const COUNTS = Dict{String,Int}("datasets" => 0, "variables" => 0, "elements" => 0)

"Compare the dataset at `url` (opened by PolyZarr.jl) with xarray's decoding `x` (the oracle's dump)."
function compare_dataset(url, x)
    ds = open_dataset(url)
    COUNTS["datasets"] += 1
    @test dims(ds) == Dict{String,Int}(k => v for (k, v) in x["dims"])
    @test sort(coords(ds)) == sort(String.(x["coords"]))
    @test attributes(ds) == x["attrs"]
    @test sort(keys(ds)) == sort(collect(keys(x["vars"])))
    for (n, xv) in x["vars"]
        haskey(ds, n) || continue
        v = ds[n]
        COUNTS["variables"] += 1
        @test collect(reverse(dims(v))) == String.(xv["dims"])
        @test collect(reverse(size(v))) == xv["shape"]
        T = Base.nonmissingtype(eltype(v))
        ET = expected_type(xv["dtype"], xv["pytype"])
        if ET !== nothing && !(ET <: AbstractFloat && T <: Integer)     # masked integers stay integers in Julia
            @test T <: ET || (@warn "type" n T xv["dtype"] xv["pytype"]; false)
        end
        va = Dict{String,Any}(k => w for (k, w) in xv["attrs"] if k != "_FillValue")
        @test Dict{String,Any}(k => w for (k, w) in attributes(v) if k != "_FillValue") == va
        full = read(v)
        vals = ndims(v) == 0 ? Any[full] : vec(full)
        ok = length(vals) == length(xv["values"]) && all(same_value(a, b) for (a, b) in zip(vals, xv["values"]))
        ok || @warn "values differ" url n vals xv["values"]
        @test ok
        COUNTS["elements"] += length(vals)
        # lazily: a region and a single element decode to the same values as the whole
        if length(v) > 1
            I = map(s -> s > 1 ? (2:s) : (1:1), size(v))
            @test isequal(v[I...], full[I...])
            J = map(s -> s, size(v))
            @test isequal(v[J...], full[J...])
        end
        @test raw(v) isa ZArray && v.raw === raw(v)
    end
    return ds
end

@testset "CF calendars" begin
    # day counts round-trip in every calendar
    for C in (:noleap, :all_leap, Symbol("360_day"), :julian, :standard, :proleptic_gregorian)
        for n in (-800_000, -1, 0, 1, 59, 365, 577_000, 730_000, 2_000_000)
            y, m, d = PolyZarr._from_days(C, n)
            @test PolyZarr._days(C, y, m, d) == n
        end
    end
    @test PolyZarr._from_days(:standard, PolyZarr._days(:standard, 1582, 10, 4) + 1) == (1582, 10, 15)
    x = CFDateTime{Symbol("360_day")}(2000, 2, 30, 12)
    @test string(x) == "2000-02-30T12:00:00"
    @test_throws ArgumentError DateTime(x)
    @test_throws ArgumentError CFDateTime{:noleap}(2000, 2, 29)
    @test DateTime(CFDateTime{:noleap}(2001, 3, 1, 6)) == DateTime(2001, 3, 1, 6)
    @test sprint(show, CFDateTime{:noleap}(2001, 3, 1)) == "CFDateTime{:noleap}(\"2001-03-01T00:00:00\")"
    @test CFDateTime{:all_leap}(1999, 2, 29) < CFDateTime{:all_leap}(1999, 3, 1)
    @test PolyZarr._parse_refdate("1990-01-01T00:00:00+01:00") == (1990, 1, 1, 0, 0, 0, 0, 60)
    @test PolyZarr._parse_refdate("2000-1-1 6:30") == (2000, 1, 1, 6, 30, 0, 0, 0)
    @test PolyZarr._parse_refdate("2000-01-01 00:00:00.5 UTC") == (2000, 1, 1, 0, 0, 0, 500_000_000, 0)
    @test PolyZarr._split_time_units("days since 1-1-1") == ("days", "0001-1-1")
end

# what PolyZarr.jl writes (the same in both formats)
function julia_vars()
    t = Union{Missing,DateTime}[DateTime(2000, 1, 1) + Hour(6i) for i in 0:4]
    t[4] = missing
    temp = Union{Missing,Float64}[round(10 * sin(i + j), digits=2) for i in 1:4, j in 1:5]
    temp[2, 3] = missing
    rain = Union{Missing,Float64}[i * j / 8 for i in 1:4, j in 1:5]
    rain[1, 1] = missing
    return [
        "time" => (("time",), t),
        "x" => (("x",), [10, 20, 30, 40]),
        "lat" => (("x",), [1.0, 2.0, 3.5, 4.0], Dict("units" => "degrees_north")),
        "temp" => (("x", "time"), temp, Dict("units" => "degC", "long_name" => "temperature"),
                   Dict("dtype" => Int16, "scale_factor" => 0.01, "add_offset" => 20.0, "_FillValue" => -32767, "chunks" => (2, 3))),
        "rain" => (("x", "time"), rain),
        "count" => (("x",), Union{Missing,Int32}[1, missing, 3, 4]),
        "small" => (("x",), Float32[0.5, 1.5, 2.5, 3.5]),
        "flag" => (("x",), [true, false, true, true]),
        "label" => (("x",), ["a", "bé", "", "d"]),
        "t_noleap" => (("t3",), [CFDateTime{:noleap}(2001, 2, 28), CFDateTime{:noleap}(2001, 3, 1), CFDateTime{:noleap}(2001, 3, 1, 12)]),
        "t_360" => (("t3",), [CFDateTime{Symbol("360_day")}(2000, 2, 30), CFDateTime{Symbol("360_day")}(2000, 3, 1), CFDateTime{Symbol("360_day")}(2000, 12, 30, 6)]),
        "t_allleap" => (("t3",), [CFDateTime{:all_leap}(2001, 2, 29), CFDateTime{:all_leap}(2001, 3, 1), CFDateTime{:all_leap}(2002, 1, 1)],
                        nothing, Dict("units" => "hours since 2001-01-01")),
        "dur" => (("x",), Union{Missing,Second}[Second(3600), Second(5400), missing, Second(5)]),
        "scalar" => ((), fill(7.25)),
    ]
end

@testset "write_dataset round trip (Julia)" begin
    for fmt in (2, 3)
        dir = joinpath(tmpdir(), "jl_v$fmt.zarr")
        ds = write_dataset(dir, julia_vars(); attrs=Dict("title" => "from julia"), coords=["lat"], zarr_format=fmt)
        @test sort(coords(ds)) == ["lat", "time", "x"]
        @test dims(ds) == Dict("time" => 5, "x" => 4, "t3" => 3)
        for (n, s) in julia_vars()
            got = read(ds[n])
            want = s[2]
            if n == "temp"
                @test all(ismissing(a) ? ismissing(b) : abs(a - b) < 0.006 for (a, b) in zip(got, want))
            else
                # a missing float is written as NaN (xarray's default fill), which reads back as NaN
                same = all(isequal(a, b) || (ismissing(b) && a isa AbstractFloat && isnan(a)) for (a, b) in zip(got, want))
                @test (size(got) == size(want) && same) || (@warn "round trip" n got want; false)
            end
        end
        @test eltype(ds["temp"]) == Union{Missing,Float64}
        @test eltype(ds["time"]) == Union{Missing,DateTime}
        @test eltype(ds["t_360"]) == Union{Missing,CFDateTime{Symbol("360_day")}}
        @test attributes(ds["temp"]) == Dict("units" => "degC", "long_name" => "temperature")
        s = sprint(show, MIME"text/plain"(), ds)
        @test occursin("Dimensions:", s) && occursin("* time", s) && occursin("Data variables:", s) && occursin("temp", s)
        @test occursin("scale_factor", sprint(show, MIME"text/plain"(), ds["temp"]))
    end
    # a zip archive, written and read through its URL
    z = joinpath(tmpdir(), "jl.zip")
    write_dataset(z, julia_vars()[1:4]; zarr_format=3)
    ds = open_dataset(z)
    @test isequal(read(ds["time"]), julia_vars()[1][2][2]) && ds.consolidated
end

# a store that counts the chunk reads, to see that a region decodes only the chunks it touches
struct CountingStore <: PolyZarr.AbstractStore
    inner::PolyZarr.AbstractStore
    reads::Vector{String}
end
PolyZarr.readkey(s::CountingStore, k::AbstractString) = (push!(s.reads, String(k)); readkey(s.inner, k))
PolyZarr.readrange(s::CountingStore, k::AbstractString, o::Integer, n::Integer) = (push!(s.reads, String(k)); readrange(s.inner, k, o, n))
PolyZarr.listkeys(s::CountingStore, p::AbstractString="") = listkeys(s.inner, p)

@testset "lazy: a region reads only its chunks" begin
    dir = joinpath(tmpdir(), "lazy.zarr")
    A = Union{Missing,Float64}[i + 10j for i in 1:6, j in 1:8]
    A[1, 1] = missing
    for fmt in (2, 3)
        write_dataset(dir, ["v" => (("x", "y"), A, nothing, Dict("dtype" => Int16, "scale_factor" => 0.5, "add_offset" => 1.0,
                                                                  "_FillValue" => -1, "chunks" => (2, 4)))]; zarr_format=fmt)
        cs = CountingStore(DirectoryStore(dir), String[])
        ds = open_dataset(cs, "")
        v = ds["v"]
        empty!(cs.reads)
        @test isequal(v[3:4, 5:8], A[3:4, 5:8])
        chunkreads = filter(k -> !endswith(k, ".json") && !startswith(basename(k), "."), cs.reads)
        @test length(chunkreads) == 1
        empty!(cs.reads)
        @test v[1, 1] === missing && v[6, 8] == A[6, 8]
        @test length(filter(k -> !endswith(k, ".json") && !startswith(basename(k), "."), cs.reads)) == 2
        @test_throws BoundsError v[7, 1]
        @test_throws ArgumentError write_dataset(dir, ["a" => (("x",), [1, 2]), "b" => (("x",), [1, 2, 3])])
    end
end

if isempty(python())
    @info "POLYZARR_PYTHON not set: skipping the xarray comparisons"
else
    # one Python run makes the xarray datasets, one reads them and the Julia-written ones back
    dir = tmpdir()
    stores = String.(PolyZarr.parse_json(read(`$(python()) $ORACLE make $dir`, String)))
    jlstores = String[]
    for fmt in (2, 3)
        p = joinpath(dir, "jl_v$fmt.zarr")
        write_dataset(p, julia_vars(); attrs=Dict("title" => "from julia"), coords=["lat"], zarr_format=fmt)
        push!(jlstores, p)
    end
    dumps = PolyZarr.parse_json(read(`$(python()) $ORACLE dump $stores $jlstores`, String))

    @testset "xarray-written datasets decode as xarray decodes them" begin
        for s in stores
            @testset "$(basename(s))" begin
                compare_dataset(s, dumps[s])
            end
        end
        ds = open_dataset(joinpath(dir, "basic_v3_c.zarr"); consolidated=false)
        @test !ds.consolidated && length(keys(ds)) == 14
        for fmt in (2, 3)
            ds = open_dataset(joinpath(dir, "basic_v$(fmt)_c.zarr", "g", "sub"))
            @test ds.consolidated && sort(keys(ds)) == ["flag", "lat", "temp", "time", "x"]
        end
        @info "datasets compared with xarray" datasets = COUNTS["datasets"] variables = COUNTS["variables"] elements = COUNTS["elements"]
    end

    @testset "write_dataset: xarray opens what Julia wrote" begin
        for p in jlstores
            x = dumps[p]
            vars = julia_vars()
            @test x["attrs"] == Dict("title" => "from julia")
            @test sort(String.(x["coords"])) == ["lat", "time", "x"]
            @test x["dims"] == Dict("time" => 5, "x" => 4, "t3" => 3)
            for (n, s) in vars
                xv = x["vars"][n]
                want = ndims(s[2]) == 0 ? Any[s[2][]] : vec(s[2])
                @test String.(xv["dims"]) == collect(reverse(s[1]))
                if n == "temp"
                    @test xv["dtype"] == "float64"
                    @test all(b === nothing ? a === missing : abs(a - b) < 0.006 for (a, b) in zip(want, xv["values"]))
                else
                    ok = all(same_value(a, b) for (a, b) in zip(want, xv["values"]))
                    ok || @warn "xarray reads differently" n want xv["values"]
                    @test ok
                end
                length(s) >= 3 && s[3] !== nothing && @test xv["attrs"] == s[3]
            end
            @test x["vars"]["time"]["dtype"] == "datetime64[ns]"
            @test x["vars"]["t_noleap"]["pytype"] == "DatetimeNoLeap"
            @test x["vars"]["t_360"]["pytype"] == "Datetime360Day"
            @test x["vars"]["t_allleap"]["pytype"] == "DatetimeAllLeap"
            @test x["vars"]["dur"]["dtype"] == "timedelta64[s]"
            @test x["vars"]["flag"]["dtype"] == "bool"
            @test x["vars"]["small"]["dtype"] == "float32"
        end
    end

    ep = get(ENV, "POLYZARR_TEST_S3_ENDPOINT", "")
    if isempty(ep)
        @info "POLYZARR_TEST_S3_ENDPOINT not set: skipping datasets on S3"
    else
        @testset "datasets on S3" begin
            creds = ("AWS_ACCESS_KEY_ID" => "testing", "AWS_SECRET_ACCESS_KEY" => "testing", "AWS_ENDPOINT_URL" => ep)
            old = Dict(k => get(ENV, k, nothing) for (k, _) in creds)
            try
                for (k, v) in creds
                    ENV[k] = v
                end
                bucket = "pz-ds-" * string(rand(UInt32), base=16)
                PolyZarr.create_bucket(ep, bucket)
                # an xarray-written store, copied key by key, read through an s3:// URL
                for name in ("raw_v3_c.zarr", "basic_v2_u.zarr")
                    src = DirectoryStore(joinpath(dir, name))
                    dst = PolyZarr.S3Store("s3://$bucket/$name"; endpoint_url=ep)
                    for k in listkeys(src)
                        writekey!(dst, k, readkey(src, k))
                    end
                    compare_dataset("s3://$bucket/$name", dumps[joinpath(dir, name)]) isa ZDataset
                end
                # written by Julia to S3, read back
                url = "s3://$bucket/jl.zarr"
                write_dataset(url, julia_vars(); coords=["lat"], zarr_format=3, endpoint_url=ep)
                ds = open_dataset(url; endpoint_url=ep)
                @test isequal(read(ds["t_noleap"]), julia_vars()[10][2][2])
                @test isequal(read(ds["count"]), Union{Missing,Int32}[1, missing, 3, 4])
            finally
                for (k, v) in old
                    v === nothing ? delete!(ENV, k) : (ENV[k] = v)
                end
            end
        end
    end

    @testset "README: reading an xarray dataset" begin
        readme = read(joinpath(@__DIR__, "..", "..", "README.md"), String)
        m = match(r"### Reading an xarray dataset\n.*?```julia\n(.*?)```"s, readme)
        @test m !== nothing
        mod = Module(:ReadmeExample)
        # the example's `using PolyZarr` names the package loaded here (standalone: included from src)
        Core.eval(mod, :(using Main.PolyZarr, Dates))
        code = replace(m.captures[1], r"^using PolyZarr.*$"m => "")
        cd(dir) do                   # weather.zarr is there (the oracle's `readme` dataset)
            Base.include_string(mod, code, "README.md")
        end
        @test Core.eval(mod, :(eltype(t))) == Union{Missing,Float64}
        @test isequal(Core.eval(mod, :(t[:, 2])), [0.75, 1.0, missing])
        @test Core.eval(mod, :(ds["time"][1])) == DateTime(2000, 1, 1)
        @test isfile(joinpath(dir, "out.zarr", ".zmetadata"))
    end
end

end # module TestDatasetsFile
