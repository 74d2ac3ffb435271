# stores.jl: key checks, directory / memory / zip stores, store URLs.
include(joinpath(@__DIR__, "testutils.jl"))

const PZS = PolyZarr

function exercise(s)
    @test readkey(s, "a/b/c") === nothing
    writekey!(s, "a/b/c", UInt8[1, 2, 3])
    writekey!(s, "a/x", UInt8[9])
    writekey!(s, "ab", UInt8[7])
    writekey!(s, "top", UInt8[])
    @test readkey(s, "a/b/c") == UInt8[1, 2, 3]
    @test readkey(s, "top") == UInt8[]
    @test readrange(s, "a/b/c", 1, 5) == UInt8[2, 3]
    @test listkeys(s) == ["a/b/c", "a/x", "ab", "top"]
    @test listkeys(s, "a") == ["a/b/c", "a/x"]          # a directory prefix: not "ab"
    @test listkeys(s, "a/") == ["a/b/c", "a/x"]
    @test listkeys(s, "nope") == String[]
    writekey!(s, "a/x", UInt8[8, 8])                      # overwrite
    @test readkey(s, "a/x") == UInt8[8, 8]
    deletekey!(s, "a/x")
    deletekey!(s, "never/there")                           # deleting a missing key is fine
    @test readkey(s, "a/x") === nothing && listkeys(s, "a") == ["a/b/c"]
end

@testset "stores" begin
    @testset "checkkey" begin
        @test checkkey("a/b/.zarray") == "a/b/.zarray"
        @test checkkey("a..b/c.d") == "a..b/c.d"          # dots inside names are fine
        for k in ("..", "a/..", "/a", "a\\b", "a//b", "a/", "a\0", "")
            @test_throws PathError checkkey(k)
        end
        @test PZS.joinkey("", "a/", "/b", "") == "a/b"
    end
    @testset "MemoryStore" begin
        exercise(MemoryStore())
        m1, p = open_store("memory://shared/x/y")
        m2, _ = open_store("memory://shared")
        @test m1 === m2 && p == "x/y"
    end
    @testset "DirectoryStore" begin
        root = tmpdir()
        s = DirectoryStore(root)
        exercise(s)
        @test isfile(joinpath(root, "a", "b", "c"))
        @test cd(() -> DirectoryStore("rel").root, root) == joinpath(realpath(root), "rel") ||
              cd(() -> DirectoryStore("rel").root, root) == joinpath(root, "rel")      # always absolute
        @test !any(f -> occursin(".tmp-", f), readdir(joinpath(root, "a", "b")))   # temp files renamed away
        # a failed write leaves the old data in place (atomic replace)
        writekey!(s, "keep", UInt8[1, 2, 3, 4])
        mkpath(joinpath(root, "dir"))
        @test_throws StoreError writekey!(s, "dir", UInt8[1])
        @test readkey(s, "keep") == UInt8[1, 2, 3, 4]
        # in-flight temp files are not keys
        write(joinpath(root, ".keep.tmp-1-2"), "x")
        @test !(".keep.tmp-1-2" in listkeys(s))
        if Sys.isunix() && get(ENV, "USER", "") != "root" && Base.Libc.getpid() > 0 && !iszero(ccall(:geteuid, Cuint, ()))
            chmod(joinpath(root, "a"), 0o500)
            @test_throws StoreError writekey!(s, "a/new", UInt8[1])
            chmod(joinpath(root, "a"), 0o700)
        end
    end
    @testset "ZipStore" begin
        z = ZipStore(joinpath(DATA, "fixtures.zip"))
        @test "inner/arr/.zarray" in listkeys(z)
        @test listkeys(z, "inner/arr")[1] == "inner/arr/.zarray" || "inner/arr/.zarray" in listkeys(z, "inner/arr")
        a = open_array(z, "inner/arr")
        @test read_numpy_order(a) == expected("zip_arr")
        st, p = open_store(joinpath(DATA, "fixtures.zip", "inner", "arr"))
        @test st isa ZipStore && p == "inner/arr"
        @test read_array(open_array(st, p)) == read_array(a)
        # DEFLATE entries (codecs/zlib.jl's inflate_raw, checked by size and CRC-32)
        zd = ZipStore(joinpath(DATA, "fixtures_deflate.zip"))
        @test read_numpy_order(open_array(zd, "inner/arr")) == expected("zip_arr")
        @test_throws PolyZarrError PZS.inflate_raw(UInt8[0xff, 0xff]; key="k")
        if !isempty(python())   # fixed, dynamic and stored blocks, long matches
            d = tmpdir()
            runpy("""
import zlib, random
random.seed(1)
data = b''.join(bytes([random.randrange(4)]) * random.randrange(1, 300) for _ in range(3000)) + bytes(range(256)) * 50
for lvl in (0, 1, 9):
    c = zlib.compressobj(lvl, zlib.DEFLATED, -15)
    open('$d/raw%d' % lvl, 'wb').write(c.compress(data) + c.flush())
open('$d/plain', 'wb').write(data)""")
            plain = read(joinpath(d, "plain"))
            for lvl in (0, 1, 9)
                @test PZS.inflate_raw(read(joinpath(d, "raw$lvl")), length(plain)) == plain
            end
        end
        # writing: STORED archive written on close, readable by us (and Python's zipfile below)
        path = joinpath(tmpdir(), "out.zip")
        w = ZipStore(path)
        exercise(w)
        writekey!(w, "ü/name", Vector{UInt8}(codeunits("unicode name")))
        close(w)
        r = ZipStore(path)
        @test listkeys(r) == ["a/b/c", "ab", "top", "ü/name"]
        @test readkey(r, "a/b/c") == UInt8[1, 2, 3] && readkey(r, "ü/name") == Vector{UInt8}(codeunits("unicode name"))
        @test_throws StoreError writekey!(w, "late", UInt8[1])
        # appending keeps existing entries
        writekey!(r, "more", UInt8[5])
        close(r)
        @test listkeys(ZipStore(path)) == ["a/b/c", "ab", "more", "top", "ü/name"]
        @test PZS.crc32(Vector{UInt8}(codeunits("123456789"))) == 0xcbf43926
        @test raises(() -> ZipStore(joinpath(DATA, "manifest.json")), StoreError, "manifest.json", "zip")
        if !isempty(python())
            out = runpy("import zipfile; z = zipfile.ZipFile('$path'); print(z.testzip(), sorted(z.namelist()), z.read('a/b/c'))")
            @test strip(out) == "None ['a/b/c', 'ab', 'more', 'top', 'ü/name'] b'\\x01\\x02\\x03'"
        end
    end
    @testset "open_store URLs" begin
        d = tmpdir()
        s, p = open_store(joinpath(d, "x.zarr"))
        @test s isa DirectoryStore && s.root == joinpath(d, "x.zarr") && p == ""
        s, p = open_store(joinpath(d, "x.zarr", "g", "a"))
        @test s.root == joinpath(d, "x.zarr") && p == "g/a"
        s, p = open_store("file://" * joinpath(d, "plain", "dir"))
        @test s isa DirectoryStore && s.root == joinpath(d, "plain", "dir") && p == ""
        s, p = open_store(joinpath(d, "new.zip", "inner"))
        @test s isa ZipStore && p == "inner"
        @test_throws PathError open_store(joinpath(d, "x.zarr", "..", "..", "etc"))
    end
end
