# Stores: key → bytes.  Generic functions dispatched over store types; keys are relative,
# '/'-separated, and checked by `checkkey` before any store touches them.

abstract type AbstractStore end

"""
    checkkey(key) -> String

Reject keys that could escape the store or are ambiguous: `..` or `.` segments, absolute keys,
backslashes, empty segments, NUL.  Raises PathError naming the key.
"""
function checkkey(key::AbstractString)
    k = String(key)
    isempty(k) && throw(PathError(k, "empty key"))
    occursin('\0', k) && throw(PathError(replace(k, '\0' => "\\0"), "key contains NUL"))
    occursin('\\', k) && throw(PathError(k, "key contains a backslash"))
    startswith(k, "/") && throw(PathError(k, "absolute key"))
    (ncodeunits(k) >= 2 && codeunit(k, 2) == UInt8(':') && isletter(k[1])) &&
        throw(PathError(k, "absolute key (drive letter)"))
    for seg in split(k, '/')
        isempty(seg) && throw(PathError(k, "empty path segment"))
        seg == ".." && throw(PathError(k, "'..' segment"))
        seg == "." && throw(PathError(k, "'.' segment"))
    end
    return k
end

"Join store path segments, skipping empty ones (\"\" is the store root)."
joinkey(parts::AbstractString...) = join(filter(!isempty, [strip(String(p), '/') for p in parts]), "/")

"Key prefix check: is `key` inside directory `prefix` (\"\" = everything)?"
_under(key, prefix) = isempty(prefix) || startswith(key, prefix * "/")

function _normprefix(prefix)
    p = String(strip(prefix, '/'))
    isempty(p) || checkkey(p)
    return p
end

"""
    readrange(store, key, offset, length) -> Vector{UInt8} or nothing

Bytes `offset+1 : offset+length` of a key (clipped at its end); a negative `offset` reads the
last `length` bytes (a suffix, as an HTTP `Range: bytes=-n`).  Nothing when the key is missing.
Directory, memory, zip (stored entries) and S3 stores read only those bytes; the generic fallback
reads the whole value.
"""
function readrange(s::AbstractStore, key::AbstractString, offset::Integer, length::Integer)
    b = readkey(s, key)
    b === nothing && return nothing
    return _byterange(b, offset, length)
end

function _byterange(b::AbstractVector{UInt8}, offset::Integer, length::Integer)
    length < 0 && throw(ArgumentError("negative length"))
    n = Base.length(b)
    lo, hi = offset < 0 ? (max(0, n - length), n) : (min(offset, n), min(offset + length, n))
    return b[lo + 1:hi]
end

"""
    readkey!(store, key, buf::Vector{UInt8}) -> Vector{UInt8} or nothing

`readkey` that may return `buf` itself, resized and filled (a DirectoryStore does); the bytes are
valid until `buf` is used again.  Other stores return a new vector.
"""
readkey!(s::AbstractStore, key::AbstractString, buf::Vector{UInt8}) = readkey(s, key)

haskey_store(s::AbstractStore, key::AbstractString) = readkey(s, key) !== nothing

Base.close(::AbstractStore) = nothing

# ---------------------------------------------------------------------------------------------
# in-memory

"An in-process store: a Dict of keys to bytes (safe to use from several threads)."
struct MemoryStore <: AbstractStore
    data::Dict{String,Vector{UInt8}}
    lock::ReentrantLock          # threaded reads and writes (arrays.jl) share the Dict
end
MemoryStore(data::Dict{String,Vector{UInt8}}) = MemoryStore(data, ReentrantLock())
MemoryStore() = MemoryStore(Dict{String,Vector{UInt8}}())

function readkey(s::MemoryStore, key::AbstractString)
    k = checkkey(key)
    return lock(s.lock) do
        haskey(s.data, k) ? copy(s.data[k]) : nothing
    end
end
function readrange(s::MemoryStore, key::AbstractString, offset::Integer, length::Integer)
    k = checkkey(key)
    return lock(s.lock) do
        b = get(s.data, k, nothing)
        b === nothing ? nothing : _byterange(b, offset, length)
    end
end
function writekey!(s::MemoryStore, key::AbstractString, data::AbstractVector{UInt8})
    k = checkkey(key)
    v = Vector{UInt8}(data)
    lock(() -> (s.data[k] = v), s.lock)
    return nothing
end
deletekey!(s::MemoryStore, key::AbstractString) = (k = checkkey(key); lock(() -> delete!(s.data, k), s.lock); nothing)
function listkeys(s::MemoryStore, prefix::AbstractString="")
    p = _normprefix(prefix)
    return lock(s.lock) do
        sort!([k for k in keys(s.data) if _under(k, p)])
    end
end

# memory://name stores live for the process
const MEMORY_STORES = Dict{String,MemoryStore}()
memory_store(name::AbstractString) = get!(MemoryStore, MEMORY_STORES, String(name))

# ---------------------------------------------------------------------------------------------
# directory

"A directory on the local file system; writes are atomic (temp file + rename)."
struct DirectoryStore <: AbstractStore
    root::String
    DirectoryStore(root::AbstractString) = new(String(abspath(root)))
end

_path(s::DirectoryStore, key) = joinpath(s.root, split(checkkey(key), '/')...)

# Linux open(2) flags Base does not name: the last component is never followed, and a FIFO opens
# without waiting for a writer (fstat then refuses it).
const O_NOFOLLOW = 0o400000
const O_NONBLOCK = 0o4000

function _special_kind(st)
    islink(st) && return "is a symbolic link"
    isfifo(st) && return "is a FIFO, not a regular file"
    ischardev(st) && return "is a character device, not a regular file"
    isblockdev(st) && return "is a block device, not a regular file"
    issocket(st) && return "is a socket, not a regular file"
    isdir(st) && return "is a directory, not a regular file"
    return "is not a regular file"
end

"""
    confined_path(s::DirectoryStore, key) -> (path, exists)

The file of `key`, after checking every directory below the root with lstat: a symbolic link on
the way is a PathError (the root itself may be reached through links); a component that is
missing or not a directory means the key does not exist.
"""
function confined_path(s::DirectoryStore, key::AbstractString)
    k = checkkey(key)
    parts = split(k, '/')
    p = s.root
    for i in 1:length(parts) - 1
        p = joinpath(p, parts[i])
        st = lstat(p)
        islink(st) && throw(PathError(k, "$(join(parts[1:i], '/')) is a symbolic link"))
        isdir(st) || return (joinpath(p, parts[end]), false)
    end
    return (joinpath(p, parts[end]), true)
end

# Open `key` for reading: nothing when it does not exist (or is a directory, as a prefix of other
# keys is); a link or special file is a PathError, decided on the open descriptor.
function _open_confined(s::DirectoryStore, key::AbstractString)
    p, ok = confined_path(s, key)
    ok || return nothing
    st = lstat(p)
    ispath(st) || return nothing
    isdir(st) && return nothing
    isfile(st) || throw(PathError(String(key), _special_kind(st)))
    f = try
        Base.Filesystem.open(p, Base.Filesystem.JL_O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    catch e
        islink(lstat(p)) && throw(PathError(String(key), "is a symbolic link"))
        ispath(p) || return nothing                       # removed since the lstat
        throw(StoreError(String(key), "cannot read $(p): $(sprint(showerror, e))"))
    end
    fst = stat(f)
    isfile(fst) || (close(f); throw(PathError(String(key), _special_kind(fst))))
    return f
end

function _read_confined(f, s::DirectoryStore, key, p)
    f === nothing && return nothing
    try
        return p(f)
    catch e
        e isa PolyZarrError && rethrow()
        throw(StoreError(String(key), "cannot read $(_path(s, key)): $(sprint(showerror, e))"))
    finally
        close(f)
    end
end

readkey(s::DirectoryStore, key::AbstractString) = _read_confined(_open_confined(s, key), s, key, read)

# Into a buffer reused from chunk to chunk: a new vector per file costs page faults.  Read with
# read(2): Julia 1.5 has no readbytes! for a Filesystem.File, and the generic one reads a byte
# at a time (a stat per byte).
function readkey!(s::DirectoryStore, key::AbstractString, buf::Vector{UInt8})
    return _read_confined(_open_confined(s, key), s, key, io -> begin
        n = _read_fd!(io, resize!(buf, filesize(io)))
        resize!(buf, n)
        eof(io) || append!(buf, read(io))          # the file grew since it was opened
        buf
    end)
end

# Fill `buf` from the file's current position, or by `pread` from byte `at` (any task may, at once);
# fewer bytes at end of file.
function _read_fd!(io::Base.Filesystem.File, buf::Vector{UInt8}, at::Int=-1)
    fd = Base.cconvert(Cint, Base.fd(io))
    n = 0
    GC.@preserve buf while n < length(buf)
        p, k = pointer(buf, n + 1), length(buf) - n
        r = at < 0 ? ccall(:read, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, p, k) :
                     ccall(:pread, Cssize_t, (Cint, Ptr{UInt8}, Csize_t, Int64), fd, p, k, at + n)
        if r < 0
            Libc.errno() == Libc.EINTR && continue
            throw(SystemError("read", Libc.errno()))
        end
        r == 0 && break
        n += r
    end
    return n
end

function readrange(s::DirectoryStore, key::AbstractString, offset::Integer, length::Integer)
    length < 0 && throw(ArgumentError("negative length"))
    return _read_confined(_open_confined(s, key), s, key, io -> begin
        n = filesize(io)
        lo = offset < 0 ? max(0, n - length) : min(offset, n)
        seek(io, lo)
        read(io, min(length, n - lo))       # clipped first: read(io, k) allocates k bytes
    end)
end

# ---------------------------------------------------------------------------------------------
# Range readers: one value read by several byte ranges (a shard's index, then its inner chunks)

"""
    RangeReader(store, key)

Range reads of one key through `readrange` (any store).  It has no identity (`signature` is
`nothing`), so nothing read through it is cached.
"""
struct RangeReader
    store::AbstractStore
    key::String
end

"""
    FileReader

A local file held open for several range reads, by `pread` (safe from several tasks at once).
`signature` (device, inode, size, mtime, ctime) comes from the same `stat` and identifies the
version of the file being read: a rewrite renames a new file over it.
"""
struct FileReader
    key::String
    path::String
    io::Base.Filesystem.File
    size::Int
    signature::Tuple{UInt64,UInt64,Int64,Float64,Float64}
end

signature(::RangeReader) = nothing
signature(r::FileReader) = r.signature
readrange(r::RangeReader, offset::Integer, length::Integer) = readrange(r.store, r.key, offset, length)
Base.close(::RangeReader) = nothing
Base.close(r::FileReader) = close(r.io)

function readrange(r::FileReader, offset::Integer, length::Integer)
    length < 0 && throw(ArgumentError("negative length"))
    lo = offset < 0 ? max(0, r.size - length) : min(Int(offset), r.size)
    buf = Vector{UInt8}(undef, min(length, r.size - lo))
    n = try
        _read_fd!(r.io, buf, lo)
    catch e
        throw(StoreError(r.key, "cannot read $(r.path): $(sprint(showerror, e))"))
    end
    return resize!(buf, n)
end

"""
    open_reader(store, key) -> FileReader, RangeReader or nothing

A reader of `key` for several range reads: a local file held open (one open, one `stat`; not on
Windows, which has no `pread`), else range requests through the store.  Nothing when a local file
is missing (a RangeReader finds out on its first read).  The caller closes it.
"""
open_reader(s::AbstractStore, key::AbstractString) = RangeReader(s, String(key))
function open_reader(s::DirectoryStore, key::AbstractString)
    Sys.iswindows() && return RangeReader(s, String(key))
    f = _open_confined(s, key)
    f === nothing && return nothing
    st = try
        stat(f)
    catch e
        close(f)
        throw(StoreError(String(key), "cannot read $(_path(s, key)): $(sprint(showerror, e))"))
    end
    return FileReader(String(key), _path(s, key), f, Int(st.size),
                      (UInt64(st.device), UInt64(st.inode), Int64(st.size), st.mtime, st.ctime))
end

# Directories of `key` below the root, made where missing; a link or a file in the way is refused.
function _make_dirs(s::DirectoryStore, key::AbstractString)
    k = checkkey(key)
    parts = split(k, '/')
    p = s.root
    isdir(p) || mkpath(p)                       # the root itself may be reached through links
    for i in 1:length(parts) - 1
        p = joinpath(p, parts[i])
        st = lstat(p)
        if !ispath(st)
            # another thread or process may make it first (threaded writes: arrays.jl)
            try
                mkdir(p)
            catch e
                isdir(lstat(p)) || rethrow()
            end
        elseif islink(st)
            throw(PathError(k, "$(join(parts[1:i], '/')) is a symbolic link"))
        elseif !isdir(st)
            throw(StoreError(k, "$(p) is not a directory"))
        end
    end
    return joinpath(p, parts[end])
end

"""
    write_file_atomic(path, data)

Write `data` to a temp file `.<name>.tmp-<random>` next to `path` and rename it over `path`: a
reader never sees half a file, and a link already at `path` is replaced, not written through.
"""
write_file_atomic(path::AbstractString, data) = write_file_atomic(io -> write(io, data), path)

"`write_file_atomic(f, path)`: the same, with `f(io)` writing the content."
function write_file_atomic(f::Function, path::AbstractString)
    tmp = joinpath(dirname(path), string(".", basename(path), ".tmp-", getpid(), "-", string(rand(UInt32); base=16)))
    try
        open(f, tmp, "w")
        Base.Filesystem.rename(tmp, path)
    catch
        rm(tmp; force=true)
        rethrow()
    end
    return nothing
end

function writekey!(s::DirectoryStore, key::AbstractString, data::AbstractVector{UInt8})
    try
        p = _make_dirs(s, key)
        isdir(lstat(p)) && throw(StoreError(String(key), "$(p) is a directory"))
        write_file_atomic(p, data)
    catch e
        e isa PolyZarrError && rethrow()
        throw(StoreError(String(key), "cannot write $(_path(s, key)): $(sprint(showerror, e))"))
    end
    return nothing
end

function deletekey!(s::DirectoryStore, key::AbstractString)
    p, ok = confined_path(s, key)
    ok || return nothing
    try
        st = lstat(p)
        (isfile(st) || islink(st)) && rm(p)           # a link itself, never what it points to
    catch e
        throw(StoreError(String(key), "cannot delete $(p): $(sprint(showerror, e))"))
    end
    return nothing
end

# An overwrite's sibling directories (arrays.jl) hold no keys of the store until swapped in.
_in_swap_dir(rel) = occursin(".polyzarr-tmp-", rel) || occursin(".polyzarr-old-", rel)

# Only regular files are keys; links (to files or directories) and special files are not.
function listkeys(s::DirectoryStore, prefix::AbstractString="")
    p = _normprefix(prefix)
    out = String[]
    if isempty(p)
        base = s.root
    else
        base, ok = confined_path(s, p)
        ok || return out
        st = lstat(base)
        islink(st) && throw(PathError(p, "is a symbolic link"))
        isdir(st) || return out
    end
    isdir(base) || return out
    for (dir, _, files) in walkdir(base)
        rel = relpath(dir, s.root)
        for f in files
            occursin(".tmp-", f) && startswith(f, ".") && continue   # in-flight atomic writes
            isfile(lstat(joinpath(dir, f))) || continue
            _in_swap_dir(rel) && continue
            k = rel == "." ? f : string(replace(rel, '\\' => '/'), "/", f)
            push!(out, k)
        end
    end
    return sort!(out)
end

# ---------------------------------------------------------------------------------------------
# zip

struct ZipEntry
    name::String
    method::Int
    crc::UInt32
    csize::Int
    usize::Int
    offset::Int     # of the local header
end

"""
    ZipStore(path)

A zip archive.  Reading parses the central directory (STORED and DEFLATE entries; ZIP64 sizes);
writes are kept in memory and written as a STORED archive by `close` (existing entries kept).
"""
mutable struct ZipStore <: AbstractStore
    path::String
    entries::Dict{String,ZipEntry}
    pending::Dict{String,Union{Vector{UInt8},Nothing}}   # nothing = deleted
    closed::Bool
end

function ZipStore(path::AbstractString)
    p = String(abspath(path))
    # the archive is the store root: links to it are fine, a FIFO or device is not
    ispath(p) && !isfile(p) && throw(PathError(basename(p), _special_kind(stat(p))))
    entries = isfile(p) ? _zip_entries(p) : Dict{String,ZipEntry}()
    return ZipStore(p, entries, Dict{String,Union{Vector{UInt8},Nothing}}(), false)
end

_le16(b, i) = Int(b[i]) | Int(b[i + 1]) << 8
_le32(b, i) = Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
_le64(b, i) = _le32(b, i) | _le32(b, i + 4) << 32

function _zip_entries(path)
    try
        return _zip_entries(path, read(path))
    catch e
        # a record whose lengths point outside the file
        e isa BoundsError || e isa ArgumentError || rethrow()
        throw(StoreError(basename(path), "not a valid zip file: a record points outside the file"))
    end
end

function _zip_entries(path, bytes::Vector{UInt8})
    n = length(bytes)
    err(msg) = throw(StoreError(basename(path), "not a valid zip file: $msg"))
    # end of central directory: last signature within the final 64 KiB + 22 bytes
    eocd = 0
    for i in (n - 21):-1:max(1, n - 22 - 65535)
        if bytes[i] == 0x50 && bytes[i + 1] == 0x4b && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06
            eocd = i
            break
        end
    end
    eocd == 0 && err("no end-of-central-directory record")
    count = _le16(bytes, eocd + 10)
    cdoff = _le32(bytes, eocd + 16)
    if (count == 0xffff || cdoff == 0xffffffff) && eocd > 20 && _le32(bytes, eocd - 20) == 0x07064b50
        z64 = _le64(bytes, eocd - 20 + 8) + 1                 # zip64 end record
        _le32(bytes, z64) == 0x06064b50 || err("bad zip64 end record")
        count = _le64(bytes, z64 + 32)
        cdoff = _le64(bytes, z64 + 48)
    end
    entries = Dict{String,ZipEntry}()
    pos = cdoff + 1
    for _ in 1:count
        pos + 45 <= n || err("truncated central directory")
        _le32(bytes, pos) == 0x02014b50 || err("bad central directory entry")
        method = _le16(bytes, pos + 10)
        crc = UInt32(_le32(bytes, pos + 16))
        csize = _le32(bytes, pos + 20)
        usize = _le32(bytes, pos + 24)
        nlen, elen, clen = _le16(bytes, pos + 28), _le16(bytes, pos + 30), _le16(bytes, pos + 32)
        off = _le32(bytes, pos + 42)
        pos + 45 + nlen + elen + clen <= n || err("truncated central directory entry")
        name = String(bytes[pos + 46:pos + 45 + nlen])
        # zip64 extra field: the 0xffffffff fields, in order
        e = pos + 46 + nlen
        while e + 3 < pos + 46 + nlen + elen
            id, sz = _le16(bytes, e), _le16(bytes, e + 2)
            if id == 0x0001
                q = e + 4
                usize == 0xffffffff && (usize = _le64(bytes, q); q += 8)
                csize == 0xffffffff && (csize = _le64(bytes, q); q += 8)
                off == 0xffffffff && (off = _le64(bytes, q); q += 8)
            end
            e += 4 + sz
        end
        endswith(name, "/") || (entries[name] = ZipEntry(name, method, crc, csize, usize, off))
        pos += 46 + nlen + elen + clen
    end
    return entries
end

function _zip_read(z::ZipStore, e::ZipEntry)
    data = open(z.path) do io
        seek(io, e.offset)
        h = read(io, 30)
        (length(h) == 30 && _le32(h, 1) == 0x04034b50) || throw(StoreError(e.name, "bad local zip header in $(z.path)"))
        skip(io, _le16(h, 27) + _le16(h, 29))
        read(io, e.csize)
    end
    length(data) == e.csize || throw(StoreError(e.name, "truncated zip entry in $(z.path)"))
    if e.method == 0
        return data
    elseif e.method == 8
        out = with_decode_bound(() -> inflate_raw(data, e.usize; key=e.name), e.usize)   # codecs/zlib.jl
        length(out) == e.usize ||
            throw(StoreError(e.name, "zip entry inflated to $(length(out)) bytes, expected $(e.usize)"))
        crc32(out) == e.crc || throw(StoreError(e.name, "zip entry fails its CRC-32 check"))
        return out
    end
    throw(StoreError(e.name, "unsupported zip compression method $(e.method)"))
end

function readkey(z::ZipStore, key::AbstractString)
    k = checkkey(key)
    haskey(z.pending, k) && return (v = z.pending[k]; v === nothing ? nothing : copy(v))
    e = get(z.entries, k, nothing)
    e === nothing && return nothing
    return _zip_read(z, e)
end

# A stored (uncompressed) entry is read in place: only the range's bytes.
function readrange(z::ZipStore, key::AbstractString, offset::Integer, length::Integer)
    length < 0 && throw(ArgumentError("negative length"))
    k = checkkey(key)
    if haskey(z.pending, k)
        v = z.pending[k]
        return v === nothing ? nothing : _byterange(v, offset, length)
    end
    e = get(z.entries, k, nothing)
    e === nothing && return nothing
    e.method == 0 || return _byterange(_zip_read(z, e), offset, length)
    lo, hi = offset < 0 ? (max(0, e.usize - length), e.usize) : (min(offset, e.usize), min(offset + length, e.usize))
    return open(z.path) do io
        seek(io, e.offset)
        h = read(io, 30)
        (Base.length(h) == 30 && _le32(h, 1) == 0x04034b50) ||
            throw(StoreError(e.name, "bad local zip header in $(z.path)"))
        skip(io, _le16(h, 27) + _le16(h, 29) + lo)
        data = read(io, hi - lo)
        Base.length(data) == hi - lo || throw(StoreError(e.name, "truncated zip entry in $(z.path)"))
        data
    end
end
function writekey!(z::ZipStore, key::AbstractString, data::AbstractVector{UInt8})
    z.closed && throw(StoreError(String(key), "zip store $(z.path) is closed"))
    z.pending[checkkey(key)] = Vector{UInt8}(data)
    return nothing
end
function deletekey!(z::ZipStore, key::AbstractString)
    z.closed && throw(StoreError(String(key), "zip store $(z.path) is closed"))
    z.pending[checkkey(key)] = nothing
    return nothing
end
function listkeys(z::ZipStore, prefix::AbstractString="")
    p = _normprefix(prefix)
    ks = Set{String}(k for k in keys(z.entries) if _under(k, p))
    for (k, v) in z.pending
        _under(k, p) || continue
        v === nothing ? delete!(ks, k) : push!(ks, k)
    end
    return sort!(collect(ks))
end

# CRC-32 (zip's polynomial; stdlib only has CRC-32C)
const CRC32_TABLE = let t = Vector{UInt32}(undef, 256)
    for i in 0:255
        c = UInt32(i)
        for _ in 1:8
            c = (c & 1) != 0 ? (0xedb88320 ⊻ (c >> 1)) : (c >> 1)
        end
        t[i + 1] = c
    end
    t
end
function crc32(b::AbstractVector{UInt8})
    c = 0xffffffff
    @inbounds for x in b
        c = CRC32_TABLE[((c ⊻ x) & 0xff) + 1] ⊻ (c >> 8)
    end
    return c ⊻ 0xffffffff
end

"Write the archive (existing entries plus pending writes) as a STORED zip; ZIP64 when needed."
function Base.close(z::ZipStore)
    z.closed && return nothing
    z.closed = true
    isempty(z.pending) && return nothing
    names = listkeys(z)
    tag = string(getpid(), "-", string(rand(UInt32); base=16))
    tmp = joinpath(dirname(z.path), string(".", basename(z.path), ".tmp-", tag))
    try
        open(tmp, "w") do io
            central = IOBuffer()
            for name in names
                data = haskey(z.pending, name) ? z.pending[name] : _zip_read(z, z.entries[name])
                off = position(io)
                crc = crc32(data)
                nb = codeunits(name)
                big = length(data) >= 0xffffffff || off >= 0xffffffff
                extra = big ? vcat(reinterpret(UInt8, [htol(UInt16(1)), htol(UInt16(24))]),
                                   reinterpret(UInt8, htol.(UInt64[length(data), length(data), off]))) : UInt8[]
                sz32 = big ? 0xffffffff : UInt32(length(data))
                # local header (no zip64 extra needed when sizes fit)
                write(io, htol(UInt32(0x04034b50)), htol(UInt16(big ? 45 : 20)), htol(UInt16(0x0800)), htol(UInt16(0)),
                      htol(UInt16(0)), htol(UInt16(0x21)), htol(crc), htol(sz32), htol(sz32),
                      htol(UInt16(length(nb))), htol(UInt16(big ? 20 : 0)))
                write(io, nb)
                big && write(io, reinterpret(UInt8, [htol(UInt16(1)), htol(UInt16(16))]),
                             reinterpret(UInt8, htol.(UInt64[length(data), length(data)])))
                write(io, data)
                write(central, htol(UInt32(0x02014b50)), htol(UInt16(big ? 45 : 20)), htol(UInt16(big ? 45 : 20)),
                      htol(UInt16(0x0800)), htol(UInt16(0)), htol(UInt16(0)), htol(UInt16(0x21)), htol(crc),
                      htol(sz32), htol(sz32), htol(UInt16(length(nb))), htol(UInt16(length(extra))), htol(UInt16(0)),
                      htol(UInt16(0)), htol(UInt16(0)), htol(UInt32(0o100644 << 16)),
                      htol(big ? 0xffffffff : UInt32(off)))
                write(central, nb, extra)
            end
            cd = take!(central)
            cdoff = position(io)
            write(io, cd)
            if length(names) >= 0xffff || cdoff >= 0xffffffff
                z64 = position(io)
                write(io, htol(UInt32(0x06064b50)), htol(UInt64(44)), htol(UInt16(45)), htol(UInt16(45)),
                      htol(UInt32(0)), htol(UInt32(0)), htol(UInt64(length(names))), htol(UInt64(length(names))),
                      htol(UInt64(length(cd))), htol(UInt64(cdoff)))
                write(io, htol(UInt32(0x07064b50)), htol(UInt32(0)), htol(UInt64(z64)), htol(UInt32(1)))
            end
            write(io, htol(UInt32(0x06054b50)), htol(UInt16(0)), htol(UInt16(0)),
                  htol(UInt16(min(length(names), 0xffff))), htol(UInt16(min(length(names), 0xffff))),
                  htol(UInt32(min(length(cd), 0xffffffff))), htol(UInt32(min(cdoff, 0xffffffff))), htol(UInt16(0)))
        end
        Base.Filesystem.rename(tmp, z.path)
    catch e
        rm(tmp; force=true)
        e isa PolyZarrError && rethrow()
        throw(StoreError(basename(z.path), "cannot write zip: $(sprint(showerror, e))"))
    end
    z.entries = _zip_entries(z.path)
    empty!(z.pending)
    return nothing
end

# ---------------------------------------------------------------------------------------------
# URLs

"""
    open_store(url; endpoint_url=nothing) -> (store, path)

Parse a store URL (CONTRACT.md): a local path or `file://` URL (the root is the first `*.zarr`
or `*.zip` segment if any, else the path itself), `memory://name/path`, `file.zip[/inner]`,
`s3://bucket/prefix[.zarr/path]`, `http(s)://host/path[.zarr/path]` (read-only).  Returns the store
and the path within it.
"""
function open_store(url::AbstractString; endpoint_url=nothing)
    u = String(url)
    if startswith(u, "http://") || startswith(u, "https://")
        # read-only, listing-free (http.jl); the store root is the outermost *.zarr segment, if any
        m = match(r"^(https?://[^/]+)(.*)$", u)
        parts = split(strip(m.captures[2], '/'), '/'; keepempty=false)
        for (i, seg) in enumerate(parts)
            if endswith(lowercase(seg), ".zarr") && i < length(parts)
                inner = join(parts[i + 1:end], "/")
                checkkey(inner)
                return (HTTPStore(string(m.captures[1], "/", join(parts[1:i], "/"))), inner)
            end
        end
        return (HTTPStore(u), "")
    elseif startswith(u, "s3://")
        # like local paths: the store root is the outermost *.zarr segment, if any
        parts = split(rstrip(u[6:end], '/'), '/')
        for (i, seg) in enumerate(parts)
            if i > 1 && endswith(lowercase(seg), ".zarr") && i < length(parts)
                inner = join(parts[i + 1:end], "/")
                checkkey(inner)
                return (S3Store("s3://" * join(parts[1:i], "/"); endpoint_url=endpoint_url), inner)
            end
        end
        return (S3Store(u; endpoint_url=endpoint_url), "")
    elseif startswith(u, "memory://")
        rest = String(strip(u[10:end], '/'))
        isempty(rest) && throw(PathError(u, "memory:// URL needs a store name"))
        parts = split(rest, '/'; limit=2)
        path = length(parts) == 2 ? String(strip(parts[2], '/')) : ""
        isempty(path) || checkkey(path)
        return (memory_store(parts[1]), path)
    end
    startswith(u, "file://") && (u = u[8:end])
    occursin(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", u) && throw(StoreError(u, "unsupported URL scheme"))
    isempty(u) && throw(PathError(u, "empty path"))
    occursin('\0', u) && throw(PathError(replace(u, '\0' => "\\0"), "path contains NUL"))
    # the store root is the first segment named *.zarr or *.zip (a zip archive unless it is a
    # directory); without one the path itself is the root
    parts = split(rstrip(u, '/'), '/')
    for (i, seg) in enumerate(parts)
        (endswith(lowercase(seg), ".zarr") || endswith(lowercase(seg), ".zip")) || continue
        inner = join(parts[i + 1:end], "/")
        isempty(inner) || checkkey(inner)
        rootpath = join(parts[1:i], "/")
        isempty(rootpath) && (rootpath = "/")
        if endswith(lowercase(seg), ".zip") && !isdir(rootpath)
            return (ZipStore(rootpath), inner)
        end
        return (DirectoryStore(rootpath), inner)
    end
    return (DirectoryStore(isempty(rstrip(u, '/')) ? "/" : rstrip(u, '/')), "")
end
