# Bytes→bytes codecs: the numcodecs compressors (zlib, gzip, blosc, zstd, lz4, bz2, lzma), the
# byte-shuffle filter and zarr v3's crc32c checksum.
#
# The compressors call the system C libraries. Each library is opened on first use (path from an
# environment variable, else its soname) so that a missing library only breaks the codecs that need
# it. Decoders never trust sizes read from the data: they are checked against the input length and
# against `max_chunk_bytes()` before anything is allocated.
#
# Included by the package module after errors.jl (needs `CodecError`, `ChunkError`).

import Libdl
import CRC32c

abstract type BytesCodec end

"numcodecs \"zlib\": a zlib stream."
struct ZlibCodec <: BytesCodec
    level::Int
end

"numcodecs \"gzip\": one gzip member on encode; any gzip data (several members too) on decode."
struct GZipCodec <: BytesCodec
    level::Int
end

"""
numcodecs "blosc". `shuffle`: 0 none, 1 byte, 2 bit, -1 auto (bit if `typesize == 1`, else byte).
`blocksize` 0 is automatic. `typesize` is not part of numcodecs' config (numcodecs takes the item
size of the array it is given): set it from the dtype, see `with_typesize`.
"""
struct BloscCodec <: BytesCodec
    cname::String
    clevel::Int
    shuffle::Int
    blocksize::Int
    typesize::Int
end

"numcodecs \"zstd\": level 0 is zstd's default level (3)."
struct ZstdCodec <: BytesCodec
    level::Int
    checksum::Bool
end

"numcodecs \"lz4\": 4-byte little-endian uncompressed size, then a raw LZ4 block."
struct LZ4Codec <: BytesCodec
    acceleration::Int
end

"numcodecs \"bz2\": a full bzip2 stream."
struct BZ2Codec <: BytesCodec
    level::Int
end

"""
numcodecs "lzma". `format`: 1 xz, 2 lzma-alone (0 auto: decode only); `check`: -1 default
(CRC64 for xz), 0 none, 1 CRC32, 4 CRC64, 10 SHA-256; `preset`: 0–9 (| 2^31 for extreme),
`nothing` = 6. Filter chains are not supported. Decoding accepts xz and lzma-alone whatever `format` says.
"""
struct LZMACodec <: BytesCodec
    format::Int
    check::Int
    preset::Union{Int,Nothing}
end

"numcodecs \"shuffle\": byte shuffle with elements of `elementsize` bytes (≤ 1: identity)."
struct ShuffleCodec <: BytesCodec
    elementsize::Int
end

"zarr v3 / numcodecs \"crc32c\": the data followed by its CRC32C, 4 bytes little-endian."
struct CRC32CCodec <: BytesCodec end

"""
    with_typesize(c::BytesCodec, typesize) -> BytesCodec

`c` with the blosc type size set (numcodecs uses the array's item size); other codecs unchanged.
"""
with_typesize(c::BytesCodec, typesize::Integer) = c
with_typesize(c::BloscCodec, typesize::Integer) =
    BloscCodec(c.cname, c.clevel, c.shuffle, c.blocksize, Int(typesize))

# ---------------------------------------------------------------------------------------------
# Public entry points

"""
    encode(c::BytesCodec, data::Vector{UInt8}; key="") -> Vector{UInt8}

Encode `data` (not modified). Failures raise `CodecError(key, …)`.
"""
encode(c::BytesCodec, data::Vector{UInt8}; key::AbstractString="") = _encode(c, data, String(key))
encode(c::BytesCodec, data::AbstractVector{UInt8}; key::AbstractString="") =
    encode(c, convert(Vector{UInt8}, data); key=key)

"""
    decode(c::BytesCodec, data::Vector{UInt8}; key="", sizehint=0) -> Vector{UInt8}

Decode `data` (not modified). Corrupt or truncated data raises `CodecError(key, …)`; a crc32c
mismatch raises `ChunkError`. `sizehint`, the expected decoded size if known, only saves
reallocations for formats that do not record their decoded size (zlib, bz2, lzma).
"""
decode(c::BytesCodec, data::Vector{UInt8}; key::AbstractString="", sizehint::Integer=0) =
    _decode(c, data, String(key), Int(sizehint))
decode(c::BytesCodec, data::AbstractVector{UInt8}; key::AbstractString="", sizehint::Integer=0) =
    decode(c, convert(Vector{UInt8}, data); key=key, sizehint=sizehint)

# The in-place variants below let arrays.jl decode a chunk straight into the destination array
# and encode into one reused buffer: a fresh 1 MiB buffer per chunk costs page faults that are a
# large share of a fast codec's time.

"""
    decode!(c::BytesCodec, dest::Ptr{UInt8}, n, data::Vector{UInt8}; key="") -> Int

Decode `data` into the `n` bytes at `dest` (the caller keeps that memory alive) and return the
decoded size; when it is not `n`, what `dest` holds is unspecified and the caller reports the
mismatch. Corrupt data raises like `decode`. zstd, blosc and lz4 decode in place, other codecs
into a temporary that is copied.
"""
decode!(c::BytesCodec, dest::Ptr{UInt8}, n::Integer, data::Vector{UInt8}; key::AbstractString="") =
    _decode!(c, dest, Int(n), data, String(key))

_decode!(c::BytesCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String) =
    decode_and_copy!(c, dest, n, data, key)

function decode_and_copy!(c::BytesCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    x = _decode(c, data, key, n)
    length(x) == n && GC.@preserve x unsafe_copyto!(dest, pointer(x), n)
    return length(x)
end

"""
    encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n; key="") -> Vector{UInt8}

Encode the `n` bytes at `src`. zstd, blosc and lz4 write into `out`, resized to the encoded
length (its memory is reused from call to call), and return it; other codecs return a new vector.
"""
encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n::Integer; key::AbstractString="") =
    _encode!(out, c, src, Int(n), String(key))

_encode!(out::Vector{UInt8}, c::BytesCodec, src::Ptr{UInt8}, n::Int, key::String) =
    _encode(c, unsafe_wrap(Array, src, n), key)

# The vector-in, vector-out forms of the in-place codecs.
_encode(c::Union{BloscCodec,ZstdCodec,LZ4Codec}, data::Vector{UInt8}, key::String) =
    GC.@preserve data _encode!(UInt8[], c, pointer(data), length(data), key)

"""
    max_chunk_bytes() -> Int

Largest decoded size a decoder will allocate: `POLYZARR_MAX_CHUNK_BYTES`, default 2 GiB.
"""
function max_chunk_bytes()
    s = get(ENV, "POLYZARR_MAX_CHUNK_BYTES", "")
    n = isempty(s) ? nothing : tryparse(Int, s)
    return n === nothing || n <= 0 ? 2^31 : n
end

# ---------------------------------------------------------------------------------------------
# C libraries, opened lazily

mutable struct CLibrary
    name::String                        # for messages
    envvar::String                      # overrides the path
    soname::String                      # default path
    handle::Ptr{Cvoid}
    symbols::Dict{Symbol,Ptr{Cvoid}}
end
CLibrary(name, envvar, soname) = CLibrary(name, envvar, soname, C_NULL, Dict{Symbol,Ptr{Cvoid}}())

const LIBZ = CLibrary("zlib", "POLYZARR_LIBZ", "libz.so.1")
const LIBBLOSC = CLibrary("libblosc", "POLYZARR_LIBBLOSC", "libblosc.so.1")
const LIBZSTD = CLibrary("libzstd", "POLYZARR_LIBZSTD", "libzstd.so.1")
const LIBLZ4 = CLibrary("liblz4", "POLYZARR_LIBLZ4", "liblz4.so.1")
const LIBBZ2 = CLibrary("libbz2", "POLYZARR_LIBBZ2", "libbz2.so.1.0")
const LIBLZMA = CLibrary("liblzma", "POLYZARR_LIBLZMA", "liblzma.so.5")
const CODEC_LIBRARIES = (LIBZ, LIBBLOSC, LIBZSTD, LIBLZ4, LIBBZ2, LIBLZMA)
const LIBRARY_LOCK = ReentrantLock()

libpath(lib::CLibrary) = get(ENV, lib.envvar, lib.soname)

# The address of C function `name` in `lib`, opening the library on first use. Pointers are
# cached; a C_NULL entry (e.g. after precompilation, which nulls pointers) is looked up again.
function libfunc(lib::CLibrary, name::Symbol, key::String)
    lock(LIBRARY_LOCK)
    try
        p = get(lib.symbols, name, C_NULL)
        p == C_NULL || return p
        if lib.handle == C_NULL
            path = libpath(lib)
            lib.handle = try
                Libdl.dlopen(path)
            catch err
                throw(CodecError(key, "cannot load $(lib.name) from \"$path\" " *
                    "($(replace(sprint(showerror, err), '\n' => ": "))); install it or set " *
                    "$(lib.envvar) to its path"))
            end
        end
        p = try
            Libdl.dlsym(lib.handle, name)
        catch
            C_NULL
        end
        p == C_NULL && throw(CodecError(key, "$(lib.name) at \"$(libpath(lib))\" has no function " *
            "$name (too old?); set $(lib.envvar) to a newer library"))
        lib.symbols[name] = p
        return p
    finally
        unlock(LIBRARY_LOCK)
    end
end

"""
    reset_codec_libraries!()

Forget the opened codec libraries and cached contexts, so that the `POLYZARR_LIB*` variables are
read again on next use. Libraries are not closed (code elsewhere may still hold their pointers).
For tests: do not call it while other tasks are encoding or decoding.
"""
function reset_codec_libraries!()
    lock(LIBRARY_LOCK) do
        for lib in CODEC_LIBRARIES
            lib.handle = C_NULL
            empty!(lib.symbols)
        end
    end
    for pool in (ZSTD_DCTX_POOL, ZSTD_CCTX_POOL)
        lock(pool.lock) do
            empty!(pool.free)               # contexts of the old library are leaked, not freed
        end
    end
    return nothing
end

# Decoded-size bookkeeping for formats that do not record it: start with a guess, grow by doubling.
function initial_capacity(sizehint::Int, inlen::Int, limit::Int)
    n = sizehint > 0 ? sizehint : max(4 * inlen, 4096)
    return min(n, limit)
end

function grow!(out::Vector{UInt8}, limit::Int, key::String, what::String)
    n = length(out)
    n >= limit && throw(CodecError(key, "$what: decoded data exceeds $limit bytes " *
        "(POLYZARR_MAX_CHUNK_BYTES); corrupt data or raise the limit"))
    return resize!(out, min(limit, max(2n, 4096)))
end

function check_decoded_size(n::Integer, limit::Int, key::String, what::String)
    n > limit && throw(CodecError(key, "$what: header claims $n decoded bytes, more than the " *
        "limit of $limit (POLYZARR_MAX_CHUNK_BYTES)"))
    return Int(n)
end

# Streaming APIs count bytes in 32-bit fields: feed them at most this much per call.
const STREAM_STEP = 1 << 30

# ---------------------------------------------------------------------------------------------
# zlib and gzip

const Z_OK = Cint(0)
const Z_STREAM_END = Cint(1)
const Z_NEED_DICT = Cint(2)
const Z_BUF_ERROR = Cint(-5)
const Z_NO_FLUSH = Cint(0)
const Z_FINISH = Cint(4)

# z_stream from zlib.h (LP64 layout: uInt is 32-bit, uLong 64-bit). zlib keeps a pointer back
# to it, so one mutable object must be used for the whole life of a stream.
mutable struct ZStream
    next_in::Ptr{UInt8}
    avail_in::Cuint
    total_in::Culong
    next_out::Ptr{UInt8}
    avail_out::Cuint
    total_out::Culong
    msg::Ptr{UInt8}
    state::Ptr{Cvoid}
    zalloc::Ptr{Cvoid}
    zfree::Ptr{Cvoid}
    opaque::Ptr{Cvoid}
    data_type::Cint
    adler::Culong
    reserved::Culong
end
ZStream() = ZStream(C_NULL, 0, 0, C_NULL, 0, 0, C_NULL, C_NULL, C_NULL, C_NULL, C_NULL, 0, 0, 0)

zlib_version(key) = ccall(libfunc(LIBZ, :zlibVersion, key), Ptr{UInt8}, ())

zmessage(zs::ZStream, ret) = zs.msg == C_NULL ? "zlib error $ret" : unsafe_string(zs.msg)

function _encode(c::ZlibCodec, data::Vector{UInt8}, key::String)
    # compress2 is what Python's zlib.compress uses: output is byte-identical to numcodecs.
    bound = libfunc(LIBZ, :compressBound, key)
    compress2 = libfunc(LIBZ, :compress2, key)
    out = Vector{UInt8}(undef, ccall(bound, Culong, (Culong,), length(data)))
    outlen = Ref{Culong}(length(out))
    ret = ccall(compress2, Cint, (Ptr{UInt8}, Ref{Culong}, Ptr{UInt8}, Culong, Cint),
                out, outlen, data, length(data), c.level)
    ret == Z_OK || throw(CodecError(key, "zlib: compression failed (error $ret, level $(c.level))"))
    return resize!(out, outlen[])
end

_encode(c::GZipCodec, data::Vector{UInt8}, key::String) = deflate_all(data, c.level, :gzip, key)
_decode(c::ZlibCodec, data::Vector{UInt8}, key::String, sizehint::Int) = inflate_all(data, sizehint, :zlib, key)
_decode(c::GZipCodec, data::Vector{UInt8}, key::String, sizehint::Int) = inflate_all(data, sizehint, :gzip, key)

"""
    deflate_raw(data::Vector{UInt8}, level=6; key="") -> Vector{UInt8}

Raw DEFLATE data (no zlib or gzip framing), as in zip entries of method 8.
"""
deflate_raw(data::Vector{UInt8}, level::Integer=6; key::AbstractString="") =
    deflate_all(data, Int(level), :raw, String(key))

"""
    inflate_raw(data::Vector{UInt8}, sizehint=0; key="") -> Vector{UInt8}

Decode raw DEFLATE data (zip entries of method 8). `sizehint` is the expected size, if known; the
caller checks the result's length and CRC.
"""
inflate_raw(data::Vector{UInt8}, sizehint::Integer=0; key::AbstractString="") =
    inflate_all(data, Int(sizehint), :raw, String(key))

# windowBits: 15 zlib, 31 gzip, -15 raw deflate; on decode 47 detects zlib or gzip.
deflate_windowbits(kind::Symbol) = kind === :gzip ? 31 : kind === :raw ? -15 : 15
inflate_windowbits(kind::Symbol) = kind === :raw ? -15 : 47
deflate_name(kind::Symbol) = kind === :raw ? "deflate" : String(kind)

# zlib's gz_header (zlib.h), for deflateSetHeader.
struct GZHeader
    text::Cint
    time::Culong
    xflags::Cint
    os::Cint
    extra::Ptr{UInt8}
    extra_len::Cuint
    extra_max::Cuint
    name::Ptr{UInt8}
    name_max::Cuint
    comment::Ptr{UInt8}
    comm_max::Cuint
    hcrc::Cint
    done::Cint
end

# The header Python's gzip module writes, but with MTIME 0 (numcodecs writes the current time, so
# its output changes every second): OS 255 "unknown" instead of zlib's 3, so the two differ only in MTIME.
const GZIP_HEADER = GZHeader(0, 0, 0, 255, C_NULL, 0, 0, C_NULL, 0, C_NULL, 0, 0, 0)

function deflate_all(data::Vector{UInt8}, level::Int, kind::Symbol, key::String)
    what = deflate_name(kind)
    init = libfunc(LIBZ, :deflateInit2_, key)
    bound = libfunc(LIBZ, :deflateBound, key)
    deflate = libfunc(LIBZ, :deflate, key)
    finish = libfunc(LIBZ, :deflateEnd, key)
    zs = ZStream()
    ret = ccall(init, Cint, (Ref{ZStream}, Cint, Cint, Cint, Cint, Cint, Ptr{UInt8}, Cint),
                zs, level, 8, deflate_windowbits(kind), 8, 0, zlib_version(key), sizeof(ZStream))
    ret == Z_OK || throw(CodecError(key, "$what: cannot start compression (error $ret, level $level)"))
    header = Ref(GZIP_HEADER)                    # zlib keeps the pointer until the header is written
    if kind === :gzip
        sethdr = libfunc(LIBZ, :deflateSetHeader, key)
        ccall(sethdr, Cint, (Ref{ZStream}, Ref{GZHeader}), zs, header) == Z_OK ||
            (ccall(finish, Cint, (Ref{ZStream},), zs); throw(CodecError(key, "gzip: cannot set the header")))
    end
    n = length(data)
    inpos = outpos = 0
    local out
    try
        out = Vector{UInt8}(undef, ccall(bound, Culong, (Ref{ZStream}, Culong), zs, n))
        while true
            outpos == length(out) && resize!(out, 2 * length(out))
            avail_in = min(n - inpos, STREAM_STEP)
            avail_out = min(length(out) - outpos, STREAM_STEP)
            GC.@preserve data out header begin
                zs.next_in = pointer(data) + inpos
                zs.avail_in = avail_in
                zs.next_out = pointer(out) + outpos
                zs.avail_out = avail_out
                flush = inpos + avail_in == n ? Z_FINISH : Z_NO_FLUSH
                ret = ccall(deflate, Cint, (Ref{ZStream}, Cint), zs, flush)
            end
            inpos += avail_in - zs.avail_in
            outpos += avail_out - zs.avail_out
            ret == Z_STREAM_END && break
            ret == Z_OK || ret == Z_BUF_ERROR ||
                throw(CodecError(key, "$what: compression failed ($(zmessage(zs, ret)))"))
        end
    finally
        ccall(finish, Cint, (Ref{ZStream},), zs)
    end
    return resize!(out, outpos)
end

# Like Python: for zlib and raw deflate, bytes after the end of the stream are ignored; for gzip,
# further members are decoded and zero padding is skipped.
function inflate_all(data::Vector{UInt8}, sizehint::Int, kind::Symbol, key::String)
    what = deflate_name(kind)
    init = libfunc(LIBZ, :inflateInit2_, key)
    inflate = libfunc(LIBZ, :inflate, key)
    reset = libfunc(LIBZ, :inflateReset, key)
    finish = libfunc(LIBZ, :inflateEnd, key)
    version = zlib_version(key)
    n = length(data)
    limit = max_chunk_bytes()
    if kind === :gzip && sizehint <= 0 && n >= 18
        sizehint = le_uint32(data, n - 3)        # ISIZE: the last member's size mod 2^32
    end
    # deflate expands at most ~1032×: a larger hint is wrong, don't allocate for it.
    sizehint = min(sizehint, 1032 * n + 1024)
    out = Vector{UInt8}(undef, initial_capacity(sizehint, n, limit))
    zs = ZStream()
    ret = ccall(init, Cint, (Ref{ZStream}, Cint, Ptr{UInt8}, Cint), zs, inflate_windowbits(kind), version, sizeof(ZStream))
    ret == Z_OK || throw(CodecError(key, "$what: cannot start decompression (error $ret)"))
    inpos = outpos = 0
    try
        while true
            outpos == length(out) && grow!(out, limit, key, what)
            avail_in = min(n - inpos, STREAM_STEP)
            avail_out = min(length(out) - outpos, STREAM_STEP)
            GC.@preserve data out begin
                zs.next_in = pointer(data) + inpos
                zs.avail_in = avail_in
                zs.next_out = pointer(out) + outpos
                zs.avail_out = avail_out
                ret = ccall(inflate, Cint, (Ref{ZStream}, Cint), zs, Z_NO_FLUSH)
            end
            inpos += avail_in - zs.avail_in
            outpos += avail_out - zs.avail_out
            if ret == Z_STREAM_END
                kind === :gzip || break
                while inpos < n && data[inpos+1] == 0x00
                    inpos += 1
                end
                inpos == n && break
                ccall(reset, Cint, (Ref{ZStream},), zs)
            elseif ret == Z_OK || ret == Z_BUF_ERROR
                # No more input and room left for output: the stream stops early.
                inpos == n && outpos < length(out) &&
                    throw(CodecError(key, "$what: truncated data (input ends before the end of the stream)"))
            elseif ret == Z_NEED_DICT
                throw(CodecError(key, "$what: stream needs a preset dictionary"))
            else
                throw(CodecError(key, "$what: corrupt data ($(zmessage(zs, ret)))"))
            end
        end
    finally
        ccall(finish, Cint, (Ref{ZStream},), zs)
    end
    return resize!(out, outpos)
end

# ---------------------------------------------------------------------------------------------
# blosc (1.x, thread-safe *_ctx functions only: no global state)

const BLOSC_MAX_OVERHEAD = 16
const BLOSC_MAX_BUFFERSIZE = typemax(Cint) - BLOSC_MAX_OVERHEAD
const BLOSC_CNAMES = ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd")

function _encode!(out::Vector{UInt8}, c::BloscCodec, src::Ptr{UInt8}, n::Int, key::String)
    compcode = libfunc(LIBBLOSC, :blosc_compname_to_compcode, key)
    compress = libfunc(LIBBLOSC, :blosc_compress_ctx, key)
    c.cname in BLOSC_CNAMES || throw(CodecError(key, "blosc: unknown compressor $(repr(c.cname))"))
    ccall(compcode, Cint, (Cstring,), c.cname) < 0 &&
        throw(CodecError(key, "blosc: compressor $(repr(c.cname)) is not available in $(libpath(LIBBLOSC))"))
    n > BLOSC_MAX_BUFFERSIZE && throw(CodecError(key, "blosc: cannot compress $n bytes (limit $BLOSC_MAX_BUFFERSIZE)"))
    typesize = max(c.typesize, 1)
    shuffle = c.shuffle == -1 ? (typesize == 1 ? 2 : 1) : c.shuffle   # numcodecs' AUTOSHUFFLE
    resize!(out, n + BLOSC_MAX_OVERHEAD)
    r = ccall(compress, Cint, (Cint, Cint, Csize_t, Csize_t, Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cstring, Csize_t, Cint),
              c.clevel, shuffle, typesize, n, src, out, length(out), c.cname, c.blocksize, 1)
    r > 0 || throw(CodecError(key, "blosc: compression failed (error $r)"))
    return resize!(out, r)
end

# The decoded size from a blosc header, after checking what blosc itself would trust.
function blosc_decoded_size(data::Vector{UInt8}, key::String)
    validate = libfunc(LIBBLOSC, :blosc_cbuffer_validate, key)
    len = length(data)
    len < BLOSC_MAX_OVERHEAD && throw(CodecError(key, "blosc: $len bytes is too short for a blosc header"))
    # Header: version, versionlz, flags, typesize, then nbytes, blocksize, cbytes (uint32 LE).
    # blosc 1.x decompression trusts cbytes: it must be the input's length.
    nbytes, cbytes = le_uint32(data, 5), le_uint32(data, 13)
    cbytes == len || throw(CodecError(key, "blosc: header says $cbytes compressed bytes, the chunk has $len"))
    ccall(validate, Cint, (Ptr{UInt8}, Csize_t, Ref{Csize_t}), data, len, Ref{Csize_t}(0)) == 0 ||
        throw(CodecError(key, "blosc: invalid header (decoded size $nbytes)"))
    return check_decoded_size(nbytes, max_chunk_bytes(), key, "blosc")
end

function blosc_decompress!(dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    decompress = libfunc(LIBBLOSC, :blosc_decompress_ctx, key)
    r = ccall(decompress, Cint, (Ptr{UInt8}, Ptr{UInt8}, Csize_t, Cint), data, dest, n, 1)
    r == n || throw(CodecError(key, "blosc: corrupt data (decompression returned $r, expected $n bytes)"))
    return n
end

function _decode(c::BloscCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    n = blosc_decoded_size(data, key)
    out = Vector{UInt8}(undef, n)
    n == 0 || GC.@preserve out blosc_decompress!(pointer(out), n, data, key)
    return out
end

function _decode!(c::BloscCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    m = blosc_decoded_size(data, key)
    m == n && n > 0 && blosc_decompress!(dest, n, data, key)
    return m
end

le_uint32(a::Vector{UInt8}, i::Int) =
    Int(a[i]) | Int(a[i+1]) << 8 | Int(a[i+2]) << 16 | Int(a[i+3]) << 24

# ---------------------------------------------------------------------------------------------
# zstd

const ZSTD_CONTENTSIZE_UNKNOWN = typemax(UInt64)
const ZSTD_CONTENTSIZE_ERROR = typemax(UInt64) - 1
const ZSTD_c_compressionLevel = Cint(100)
const ZSTD_c_checksumFlag = Cint(201)
const ZSTD_reset_session_only = Cint(1)
const ZSTD_reset_session_and_parameters = Cint(3)

# ZSTD_inBuffer / ZSTD_outBuffer
struct ZstdBuffer
    ptr::Ptr{UInt8}
    size::Csize_t
    pos::Csize_t
end

# zstd contexts own large tables: reuse them instead of creating one per chunk.
struct ContextPool
    free::Vector{Ptr{Cvoid}}
    lock::ReentrantLock
end
ContextPool() = ContextPool(Ptr{Cvoid}[], ReentrantLock())

const ZSTD_DCTX_POOL = ContextPool()
const ZSTD_CCTX_POOL = ContextPool()

function take_context(pool::ContextPool, create::Ptr{Cvoid}, key::String, what::String)
    p = lock(pool.lock) do
        while !isempty(pool.free)
            q = pop!(pool.free)
            q == C_NULL || return q
        end
        return C_NULL
    end
    p == C_NULL || return p
    p = ccall(create, Ptr{Cvoid}, ())
    p == C_NULL && throw(CodecError(key, "zstd: cannot allocate a $what context"))
    return p
end

function give_context(pool::ContextPool, p::Ptr{Cvoid}, free::Ptr{Cvoid})
    kept = lock(pool.lock) do
        length(pool.free) < 2 * Threads.nthreads() + 2 || return false
        push!(pool.free, p)
        return true
    end
    kept || ccall(free, Csize_t, (Ptr{Cvoid},), p)
    return nothing
end

function zstd_check(r::Csize_t, key::String, what::String)
    iserror = libfunc(LIBZSTD, :ZSTD_isError, key)
    if ccall(iserror, Cuint, (Csize_t,), r) != 0
        name = libfunc(LIBZSTD, :ZSTD_getErrorName, key)
        throw(CodecError(key, "zstd: $what ($(unsafe_string(ccall(name, Ptr{UInt8}, (Csize_t,), r))))"))
    end
    return Int(r)
end

function _encode!(out::Vector{UInt8}, c::ZstdCodec, src::Ptr{UInt8}, n::Int, key::String)
    # Same calls as numcodecs: one frame with content size, checksum only if asked for.
    create = libfunc(LIBZSTD, :ZSTD_createCCtx, key)
    free = libfunc(LIBZSTD, :ZSTD_freeCCtx, key)
    reset = libfunc(LIBZSTD, :ZSTD_CCtx_reset, key)
    setparam = libfunc(LIBZSTD, :ZSTD_CCtx_setParameter, key)
    compress2 = libfunc(LIBZSTD, :ZSTD_compress2, key)
    bound = libfunc(LIBZSTD, :ZSTD_compressBound, key)
    libfunc(LIBZSTD, :ZSTD_isError, key)
    resize!(out, ccall(bound, Csize_t, (Csize_t,), n))
    cctx = take_context(ZSTD_CCTX_POOL, create, key, "compression")
    r = try
        ccall(reset, Csize_t, (Ptr{Cvoid}, Cint), cctx, ZSTD_reset_session_and_parameters)
        zstd_check(ccall(setparam, Csize_t, (Ptr{Cvoid}, Cint, Cint), cctx, ZSTD_c_compressionLevel,
                         clamp(c.level, typemin(Cint), typemax(Cint))), key, "bad level $(c.level)")
        ccall(setparam, Csize_t, (Ptr{Cvoid}, Cint, Cint), cctx, ZSTD_c_checksumFlag, c.checksum)
        ccall(compress2, Csize_t, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t),
              cctx, out, length(out), src, n)
    finally
        give_context(ZSTD_CCTX_POOL, cctx, free)
    end
    return resize!(out, zstd_check(r, key, "compression failed"))
end

# Sum of the content sizes of all frames; UNKNOWN if a writer left one out (streaming writers).
function zstd_content_size(data::Vector{UInt8}, key::String)
    findsize = libfunc(LIBZSTD, :ZSTD_findDecompressedSize, key)
    isempty(data) && throw(CodecError(key, "zstd: empty input"))
    total = ccall(findsize, Culonglong, (Ptr{UInt8}, Csize_t), data, length(data))
    total == ZSTD_CONTENTSIZE_ERROR && throw(CodecError(key, "zstd: not zstd data, or truncated"))
    return total
end

# Decode frames whose header says `n` bytes in total into `dest`.
function zstd_decompress!(dctx::Ptr{Cvoid}, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    decompress = libfunc(LIBZSTD, :ZSTD_decompressDCtx, key)
    r = ccall(decompress, Csize_t, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t),
              dctx, dest, n, data, length(data))
    zstd_check(r, key, "corrupt data") == n ||
        throw(CodecError(key, "zstd: decoded $(Int(r)) bytes, the frame header says $n"))
    return n
end

function _decode(c::ZstdCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    create = libfunc(LIBZSTD, :ZSTD_createDCtx, key)
    free = libfunc(LIBZSTD, :ZSTD_freeDCtx, key)
    libfunc(LIBZSTD, :ZSTD_isError, key)
    limit = max_chunk_bytes()
    total = zstd_content_size(data, key)
    dctx = take_context(ZSTD_DCTX_POOL, create, key, "decompression")
    try
        if total == ZSTD_CONTENTSIZE_UNKNOWN
            return zstd_decode_stream(dctx, data, sizehint, limit, key)
        end
        n = check_decoded_size(total, limit, key, "zstd")
        # A block is at most 128 KiB and at least 4 bytes (RLE): frames expand at most 32768×.
        n > 32768 * length(data) && throw(CodecError(key,
            "zstd: frame header claims $n decoded bytes, impossible from $(length(data)) bytes"))
        out = Vector{UInt8}(undef, n)
        GC.@preserve out zstd_decompress!(dctx, pointer(out), n, data, key)
        return out
    finally
        give_context(ZSTD_DCTX_POOL, dctx, free)
    end
end

function _decode!(c::ZstdCodec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    # an unknown size or one that is not `n`: the general path decodes it or says what is wrong
    zstd_content_size(data, key) == n || return decode_and_copy!(c, dest, n, data, key)
    create = libfunc(LIBZSTD, :ZSTD_createDCtx, key)
    free = libfunc(LIBZSTD, :ZSTD_freeDCtx, key)
    libfunc(LIBZSTD, :ZSTD_isError, key)
    dctx = take_context(ZSTD_DCTX_POOL, create, key, "decompression")
    try
        return zstd_decompress!(dctx, dest, n, data, key)
    finally
        give_context(ZSTD_DCTX_POOL, dctx, free)
    end
end

function zstd_decode_stream(dctx::Ptr{Cvoid}, data::Vector{UInt8}, sizehint::Int, limit::Int, key::String)
    reset = libfunc(LIBZSTD, :ZSTD_DCtx_reset, key)
    stream = libfunc(LIBZSTD, :ZSTD_decompressStream, key)
    ccall(reset, Csize_t, (Ptr{Cvoid}, Cint), dctx, ZSTD_reset_session_only)
    n = length(data)
    out = Vector{UInt8}(undef, initial_capacity(sizehint, n, limit))
    inpos = outpos = 0
    while true
        outpos == length(out) && grow!(out, limit, key, "zstd")
        GC.@preserve data out begin
            inbuf = Ref(ZstdBuffer(pointer(data), n, inpos))
            outbuf = Ref(ZstdBuffer(pointer(out), length(out), outpos))
            r = ccall(stream, Csize_t, (Ptr{Cvoid}, Ref{ZstdBuffer}, Ref{ZstdBuffer}), dctx, outbuf, inbuf)
        end
        zstd_check(r, key, "corrupt data")
        inpos, outpos = Int(inbuf[].pos), Int(outbuf[].pos)
        r == 0 && inpos == n && break                  # last frame complete
        inpos == n && outpos < length(out) &&
            throw(CodecError(key, "zstd: truncated data (input ends inside a frame)"))
    end
    return resize!(out, outpos)
end

# ---------------------------------------------------------------------------------------------
# LZ4 (numcodecs framing: 4-byte little-endian decoded size + one raw block)

const LZ4_MAX_INPUT_SIZE = 0x7E000000

function _encode!(out::Vector{UInt8}, c::LZ4Codec, src::Ptr{UInt8}, n::Int, key::String)
    bound = libfunc(LIBLZ4, :LZ4_compressBound, key)
    compress = libfunc(LIBLZ4, :LZ4_compress_fast, key)
    n > LZ4_MAX_INPUT_SIZE && throw(CodecError(key, "lz4: cannot compress $n bytes (limit $LZ4_MAX_INPUT_SIZE)"))
    cap = ccall(bound, Cint, (Cint,), n)
    resize!(out, 4 + cap)
    for i in 0:3
        out[i+1] = (n >> (8i)) % UInt8
    end
    accel = clamp(c.acceleration, typemin(Cint), typemax(Cint))
    r = GC.@preserve out ccall(compress, Cint, (Ptr{UInt8}, Ptr{UInt8}, Cint, Cint, Cint),
                                src, pointer(out) + 4, n, cap, accel)
    r > 0 || throw(CodecError(key, "lz4: compression failed (error $r)"))
    return resize!(out, 4 + r)
end

# The decoded size from the numcodecs header, if the block could hold that much.
function lz4_decoded_size(data::Vector{UInt8}, key::String)
    len = length(data)
    len < 5 && throw(CodecError(key, "lz4: $len bytes is too short (4-byte size header + data)"))
    n = le_uint32(data, 1)
    check_decoded_size(n, max_chunk_bytes(), key, "lz4")
    # An LZ4 block expands at most ~255× (a length byte of 255 per 255 output bytes).
    n > 255 * (len - 4) + 16 && throw(CodecError(key,
        "lz4: header claims $n decoded bytes, impossible from $(len - 4) compressed bytes"))
    len - 4 > typemax(Cint) && throw(CodecError(key, "lz4: $len bytes is too large for one block"))
    return n
end

function lz4_decompress!(dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    decompress = libfunc(LIBLZ4, :LZ4_decompress_safe, key)
    r = GC.@preserve data ccall(decompress, Cint, (Ptr{UInt8}, Ptr{UInt8}, Cint, Cint),
                                 pointer(data) + 4, dest, length(data) - 4, n)
    r < 0 && throw(CodecError(key, "lz4: corrupt data (error at block byte $(-r - 1))"))
    r == n || throw(CodecError(key, "lz4: decoded $r bytes, the header says $n"))
    return n
end

function _decode(c::LZ4Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    n = lz4_decoded_size(data, key)
    out = Vector{UInt8}(undef, n)
    GC.@preserve out lz4_decompress!(pointer(out), n, data, key)
    return out
end

function _decode!(c::LZ4Codec, dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    m = lz4_decoded_size(data, key)
    m == n && lz4_decompress!(dest, n, data, key)
    return m
end

# ---------------------------------------------------------------------------------------------
# bzip2

const BZ_OK = Cint(0)
const BZ_STREAM_END = Cint(4)
const BZ_ERRORS = Dict(-3 => "out of memory", -4 => "corrupt data", -5 => "not bzip2 data")

# bz_stream from bzlib.h; bzip2 also keeps a pointer back to it.
mutable struct BZStream
    next_in::Ptr{UInt8}
    avail_in::Cuint
    total_in_lo32::Cuint
    total_in_hi32::Cuint
    next_out::Ptr{UInt8}
    avail_out::Cuint
    total_out_lo32::Cuint
    total_out_hi32::Cuint
    state::Ptr{Cvoid}
    bzalloc::Ptr{Cvoid}
    bzfree::Ptr{Cvoid}
    opaque::Ptr{Cvoid}
end
BZStream() = BZStream(C_NULL, 0, 0, 0, C_NULL, 0, 0, 0, C_NULL, C_NULL, C_NULL, C_NULL)

function _encode(c::BZ2Codec, data::Vector{UInt8}, key::String)
    compress = libfunc(LIBBZ2, :BZ2_bzBuffToBuffCompress, key)
    n = length(data)
    cap = n + n ÷ 100 + 601                      # bzlib's documented worst case
    cap > typemax(Cuint) && throw(CodecError(key, "bz2: cannot compress $n bytes in one buffer"))
    out = Vector{UInt8}(undef, cap)
    outlen = Ref{Cuint}(cap)
    r = ccall(compress, Cint, (Ptr{UInt8}, Ref{Cuint}, Ptr{UInt8}, Cuint, Cint, Cint, Cint),
              out, outlen, data, n, c.level, 0, 0)
    r == BZ_OK || throw(CodecError(key, "bz2: compression failed (error $r, level $(c.level))"))
    return resize!(out, outlen[])
end

# Like Python's bz2.decompress: concatenated streams are decoded; bytes after a complete stream
# that do not decode are ignored, but a truncated stream is an error.
function _decode(c::BZ2Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    init = libfunc(LIBBZ2, :BZ2_bzDecompressInit, key)
    decompress = libfunc(LIBBZ2, :BZ2_bzDecompress, key)
    finish = libfunc(LIBBZ2, :BZ2_bzDecompressEnd, key)
    n = length(data)
    limit = max_chunk_bytes()
    out = Vector{UInt8}(undef, initial_capacity(sizehint, n, limit))
    inpos = outpos = 0
    later = false                                # decoding a stream after a complete one
    while true                                   # one iteration per stream
        bz = BZStream()
        ret = ccall(init, Cint, (Ref{BZStream}, Cint, Cint), bz, 0, 0)
        ret == BZ_OK || throw(CodecError(key, "bz2: cannot start decompression (error $ret)"))
        streamstart = outpos
        try
            while true
                outpos == length(out) && grow!(out, limit, key, "bz2")
                avail_in = min(n - inpos, STREAM_STEP)
                avail_out = min(length(out) - outpos, STREAM_STEP)
                GC.@preserve data out begin
                    bz.next_in = pointer(data) + inpos
                    bz.avail_in = avail_in
                    bz.next_out = pointer(out) + outpos
                    bz.avail_out = avail_out
                    ret = ccall(decompress, Cint, (Ref{BZStream},), bz)
                end
                inpos += avail_in - bz.avail_in
                outpos += avail_out - bz.avail_out
                ret == BZ_STREAM_END && break
                if ret != BZ_OK
                    later && break               # garbage after a complete stream
                    throw(CodecError(key, "bz2: $(get(BZ_ERRORS, Int(ret), "error $ret"))"))
                end
                inpos == n && outpos < length(out) &&
                    throw(CodecError(key, "bz2: truncated data (input ends before the end of the stream)"))
            end
        finally
            ccall(finish, Cint, (Ref{BZStream},), bz)
        end
        if ret != BZ_STREAM_END
            outpos = streamstart
            break
        end
        inpos == n && break
        later = true
    end
    return resize!(out, outpos)
end

# ---------------------------------------------------------------------------------------------
# lzma / xz

const LZMA_OK = Cint(0)
const LZMA_STREAM_END = Cint(1)
const LZMA_BUF_ERROR = Cint(10)
const LZMA_FINISH = Cint(3)
const LZMA_CHECK_CRC64 = 4
const LZMA_CHECKS = (-1, 0, 1, 4, 10)
const LZMA_PRESET_EXTREME = 1 << 31
const LZMA_ERRORS = Dict(5 => "out of memory", 6 => "memory limit reached", 7 => "not xz or lzma data",
                         8 => "unsupported options", 9 => "corrupt data", 10 => "truncated data",
                         11 => "programming error")

# lzma_stream from lzma/base.h (LZMA_STREAM_INIT is all zeros).
mutable struct LZMAStream
    next_in::Ptr{UInt8}
    avail_in::Csize_t
    total_in::UInt64
    next_out::Ptr{UInt8}
    avail_out::Csize_t
    total_out::UInt64
    allocator::Ptr{Cvoid}
    internal::Ptr{Cvoid}
    reserved_ptr1::Ptr{Cvoid}
    reserved_ptr2::Ptr{Cvoid}
    reserved_ptr3::Ptr{Cvoid}
    reserved_ptr4::Ptr{Cvoid}
    seek_pos::UInt64
    reserved_int2::UInt64
    reserved_int3::Csize_t
    reserved_int4::Csize_t
    reserved_enum1::Cint
    reserved_enum2::Cint
end
LZMAStream() = LZMAStream(C_NULL, 0, 0, C_NULL, 0, 0, C_NULL, C_NULL, C_NULL, C_NULL, C_NULL, C_NULL,
                          0, 0, 0, 0, 0, 0)

lzma_error(ret) = get(LZMA_ERRORS, Int(ret), "error $ret")
lzma_preset(c::LZMACodec) = UInt32(c.preset === nothing ? 6 : c.preset)

function _encode(c::LZMACodec, data::Vector{UInt8}, key::String)
    c.format == 1 && return lzma_encode_xz(c, data, key)
    c.format == 2 && return lzma_encode_alone(c, data, key)
    throw(CodecError(key, "lzma: cannot encode format $(c.format) (1 = xz and 2 = lzma-alone are supported)"))
end

# Both formats stream through lzma_code, as Python's lzma module does: the one-shot buffer encoder
# would also record the block sizes in the xz block header, so the bytes would differ from numcodecs'.
function lzma_encode_xz(c::LZMACodec, data::Vector{UInt8}, key::String)
    encoder = libfunc(LIBLZMA, :lzma_easy_encoder, key)
    check = c.check == -1 ? LZMA_CHECK_CRC64 : c.check
    st = LZMAStream()
    ret = ccall(encoder, Cint, (Ref{LZMAStream}, UInt32, Cint), st, lzma_preset(c), check)
    ret == LZMA_OK || throw(CodecError(key, "lzma: cannot start compression ($(lzma_error(ret)))"))
    return lzma_encode_stream!(st, data, key)
end

function lzma_encode_alone(c::LZMACodec, data::Vector{UInt8}, key::String)
    c.check in (-1, 0) || throw(CodecError(key, "lzma: integrity checks are only supported by the xz format"))
    preset = libfunc(LIBLZMA, :lzma_lzma_preset, key)
    encoder = libfunc(LIBLZMA, :lzma_alone_encoder, key)
    options = zeros(UInt8, 256)                  # lzma_options_lzma is ~112 bytes
    ccall(preset, UInt8, (Ptr{UInt8}, UInt32), options, lzma_preset(c)) == 0 ||
        throw(CodecError(key, "lzma: invalid preset $(c.preset)"))
    st = LZMAStream()
    ret = ccall(encoder, Cint, (Ref{LZMAStream}, Ptr{UInt8}), st, options)
    ret == LZMA_OK || throw(CodecError(key, "lzma: cannot start compression ($(lzma_error(ret)))"))
    return lzma_encode_stream!(st, data, key)
end

"Run an initialised lzma encoder over `data` to the end of the stream; frees the encoder."
function lzma_encode_stream!(st::LZMAStream, data::Vector{UInt8}, key::String)
    code = libfunc(LIBLZMA, :lzma_code, key)
    finish = libfunc(LIBLZMA, :lzma_end, key)
    n = length(data)
    out = Vector{UInt8}(undef, n + n ÷ 2 + 1024)
    outpos = 0
    try
        GC.@preserve data begin
            st.next_in = pointer(data)
            st.avail_in = n
            while true
                outpos == length(out) && resize!(out, 2 * length(out))
                GC.@preserve out begin
                    st.next_out = pointer(out) + outpos
                    st.avail_out = length(out) - outpos
                    ret = ccall(code, Cint, (Ref{LZMAStream}, Cint), st, LZMA_FINISH)
                    outpos = length(out) - Int(st.avail_out)
                end
                ret == LZMA_STREAM_END && break
                ret == LZMA_OK || throw(CodecError(key, "lzma: compression failed ($(lzma_error(ret)))"))
            end
        end
    finally
        ccall(finish, Cvoid, (Ref{LZMAStream},), st)
    end
    return resize!(out, outpos)
end

# Like Python's lzma.decompress: xz or lzma-alone, concatenated streams decoded; bytes after a
# complete stream that do not decode are ignored, but a truncated stream is an error.
function _decode(c::LZMACodec, data::Vector{UInt8}, key::String, sizehint::Int)
    c.format == 3 && throw(CodecError(key, "lzma: raw format needs filters, which are not supported"))
    decoder = libfunc(LIBLZMA, :lzma_auto_decoder, key)
    code = libfunc(LIBLZMA, :lzma_code, key)
    finish = libfunc(LIBLZMA, :lzma_end, key)
    n = length(data)
    limit = max_chunk_bytes()
    out = Vector{UInt8}(undef, initial_capacity(sizehint, n, limit))
    inpos = outpos = 0
    ret = LZMA_OK
    later = false                                # decoding a stream after a complete one
    while true                                   # one iteration per stream
        st = LZMAStream()
        ret = ccall(decoder, Cint, (Ref{LZMAStream}, UInt64, UInt32), st, typemax(UInt64), 0)
        ret == LZMA_OK || throw(CodecError(key, "lzma: cannot start decompression ($(lzma_error(ret)))"))
        streamstart = outpos
        try
            while true
                outpos == length(out) && grow!(out, limit, key, "lzma")
                GC.@preserve data out begin
                    st.next_in = pointer(data) + inpos
                    st.avail_in = n - inpos
                    st.next_out = pointer(out) + outpos
                    st.avail_out = length(out) - outpos
                    ret = ccall(code, Cint, (Ref{LZMAStream}, Cint), st, LZMA_FINISH)
                    inpos = n - Int(st.avail_in)
                    outpos = length(out) - Int(st.avail_out)
                end
                ret == LZMA_STREAM_END && break
                truncated = ret == LZMA_BUF_ERROR || (ret == LZMA_OK && inpos == n && outpos < length(out))
                truncated && throw(CodecError(key, "lzma: truncated data (input ends before the end of the stream)"))
                if ret != LZMA_OK
                    later && break               # garbage after a complete stream
                    throw(CodecError(key, "lzma: $(lzma_error(ret))"))
                end
            end
        finally
            ccall(finish, Cvoid, (Ref{LZMAStream},), st)
        end
        if ret != LZMA_STREAM_END
            outpos = streamstart
            break
        end
        inpos == n && break
        later = true
    end
    return resize!(out, outpos)
end

# ---------------------------------------------------------------------------------------------
# shuffle (pure Julia; byte j of element i goes to position j*count + i, like numcodecs)

function shuffle_count(c::ShuffleCodec, data::Vector{UInt8}, key::String)
    n, es = length(data), c.elementsize
    # numcodecs refuses these too ("Shuffle buffer is not an integer multiple of elementsize").
    n % es == 0 || throw(CodecError(key, "shuffle: $n bytes is not a multiple of elementsize $es"))
    return n ÷ es
end

function _encode(c::ShuffleCodec, data::Vector{UInt8}, key::String)
    es = c.elementsize
    es <= 1 && return copy(data)
    count = shuffle_count(c, data, key)
    out = Vector{UInt8}(undef, length(data))
    @inbounds for j in 0:es-1, i in 0:count-1
        out[j*count+i+1] = data[i*es+j+1]
    end
    return out
end

function _decode(c::ShuffleCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    es = c.elementsize
    es <= 1 && return copy(data)
    count = shuffle_count(c, data, key)
    out = Vector{UInt8}(undef, length(data))
    @inbounds for i in 0:count-1, j in 0:es-1
        out[i*es+j+1] = data[j*count+i+1]
    end
    return out
end

# ---------------------------------------------------------------------------------------------
# crc32c

function _encode(c::CRC32CCodec, data::Vector{UInt8}, key::String)
    n = length(data)
    crc = CRC32c.crc32c(data)
    out = Vector{UInt8}(undef, n + 4)
    copyto!(out, 1, data, 1, n)
    for i in 0:3
        out[n+i+1] = (crc >> (8i)) % UInt8
    end
    return out
end

function _decode(c::CRC32CCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    n = length(data) - 4
    n < 0 && throw(ChunkError(key, "crc32c: $(n + 4) bytes is too short to hold a checksum"))
    stored = UInt32(data[n+1]) | UInt32(data[n+2]) << 8 | UInt32(data[n+3]) << 16 | UInt32(data[n+4]) << 24
    computed = CRC32c.crc32c(view(data, 1:n))
    stored == computed || throw(ChunkError(key, "crc32c mismatch: stored 0x$(string(stored, base=16, pad=8)), " *
                                                "computed 0x$(string(computed, base=16, pad=8))"))
    return data[1:n]
end

# ---------------------------------------------------------------------------------------------
# numcodecs JSON configuration

# The parameters each codec id accepts (numcodecs' constructor arguments; blosc also takes
# zarr v3's "typesize").
const CODEC_PARAMETERS = Dict(
    "zlib" => ("level",), "gzip" => ("level",), "bz2" => ("level",),
    "blosc" => ("cname", "clevel", "shuffle", "blocksize", "typesize"),
    "zstd" => ("level", "checksum"), "lz4" => ("acceleration",),
    "lzma" => ("format", "check", "preset", "filters"), "shuffle" => ("elementsize",),
    "crc32c" => ("location",))

const INT32_RANGE = Int(typemin(Int32)):Int(typemax(Int32))

function config_int(cfg::AbstractDict, id::String, name::String, default, range, key::String)
    v = get(cfg, name, default)
    ok = v isa Integer && !(v isa Bool) || v isa AbstractFloat && isfinite(v) && isinteger(v)
    ok || throw(CodecError(key, "codec \"$id\": \"$name\" must be an integer, got $(repr(v))"))
    v in range || throw(CodecError(key, "codec \"$id\": \"$name\" is $v, expected $(first(range)) to $(last(range))"))
    return Int(v)
end

function config_bool(cfg::AbstractDict, id::String, name::String, default::Bool, key::String)
    v = get(cfg, name, default)
    v isa Bool && return v
    v isa Integer && v in (0, 1) && return v == 1
    throw(CodecError(key, "codec \"$id\": \"$name\" must be true or false, got $(repr(v))"))
end

const BLOSC_SHUFFLE_NAMES = Dict("noshuffle" => 0, "shuffle" => 1, "bitshuffle" => 2)

# numcodecs writes the shuffle as an integer, zarr v3 by name.
function blosc_shuffle(cfg::AbstractDict, key::String)
    v = get(cfg, "shuffle", 1)
    v isa AbstractString && haskey(BLOSC_SHUFFLE_NAMES, v) && return BLOSC_SHUFFLE_NAMES[v]
    return config_int(cfg, "blosc", "shuffle", 1, -1:2, key)
end

"""
    bytescodec_from_config(cfg; key="") -> BytesCodec

The codec for a numcodecs JSON config (`cfg["id"]` one of zlib, gzip, blosc, zstd, lz4, bz2, lzma,
shuffle, crc32c). Missing parameters take numcodecs' defaults. An unknown id, an unknown
parameter or a bad value raises `CodecError(key, …)`.
"""
function bytescodec_from_config(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    id = get(cfg, "id", nothing)
    id isa AbstractString || throw(CodecError(key, id === nothing ? "codec config has no \"id\"" :
                                                   "codec id must be a string, got $(repr(id))"))
    id = String(id)
    haskey(CODEC_PARAMETERS, id) || throw(CodecError(key, "unknown codec id $(repr(id))"))
    allowed = CODEC_PARAMETERS[id]
    for k in keys(cfg)
        k == "id" || k in allowed || throw(CodecError(key, "codec \"$id\": unknown parameter $(repr(k))"))
    end
    if id == "zlib"
        return ZlibCodec(config_int(cfg, id, "level", 1, -1:9, key))
    elseif id == "gzip"
        return GZipCodec(config_int(cfg, id, "level", 1, -1:9, key))
    elseif id == "bz2"
        return BZ2Codec(config_int(cfg, id, "level", 1, 1:9, key))
    elseif id == "blosc"
        cname = get(cfg, "cname", "lz4")
        cname in BLOSC_CNAMES || throw(CodecError(key, "codec \"blosc\": unknown \"cname\" $(repr(cname))"))
        return BloscCodec(String(cname),
                          config_int(cfg, id, "clevel", 5, 0:9, key),
                          blosc_shuffle(cfg, key),
                          config_int(cfg, id, "blocksize", 0, 0:BLOSC_MAX_BUFFERSIZE, key),
                          config_int(cfg, id, "typesize", 1, 1:typemax(Int32), key))
    elseif id == "zstd"
        return ZstdCodec(config_int(cfg, id, "level", 0, INT32_RANGE, key),
                         config_bool(cfg, id, "checksum", false, key))
    elseif id == "lz4"
        return LZ4Codec(config_int(cfg, id, "acceleration", 1, INT32_RANGE, key))
    elseif id == "lzma"
        get(cfg, "filters", nothing) === nothing ||
            throw(CodecError(key, "codec \"lzma\": \"filters\" are not supported (only null)"))
        format = config_int(cfg, id, "format", 1, 0:3, key)
        format == 3 && throw(CodecError(key, "codec \"lzma\": format 3 (raw) needs filters, which are not supported"))
        check = config_int(cfg, id, "check", -1, INT32_RANGE, key)
        check in LZMA_CHECKS || throw(CodecError(key, "codec \"lzma\": \"check\" is $check, expected one of $(join(LZMA_CHECKS, ", "))"))
        preset = get(cfg, "preset", nothing)
        if preset !== nothing
            preset = config_int(cfg, id, "preset", nothing, 0:(LZMA_PRESET_EXTREME + 9), key)
            preset & ~LZMA_PRESET_EXTREME <= 9 ||
                throw(CodecError(key, "codec \"lzma\": \"preset\" is $preset, expected 0 to 9 (| 2^31 for extreme)"))
        end
        return LZMACodec(format, check, preset)
    elseif id == "shuffle"
        return ShuffleCodec(config_int(cfg, id, "elementsize", 4, INT32_RANGE, key))
    else # crc32c
        location = get(cfg, "location", "end")
        location == "end" || throw(CodecError(key, "codec \"crc32c\": \"location\" $(repr(location)) is not supported (only \"end\")"))
        return CRC32CCodec()
    end
end

"""
    codec_config(c::BytesCodec) -> Dict{String,Any}

The numcodecs JSON config of `c`, with the keys numcodecs' `get_config()` writes.
"""
codec_config(c::ZlibCodec) = Dict{String,Any}("id" => "zlib", "level" => c.level)
codec_config(c::GZipCodec) = Dict{String,Any}("id" => "gzip", "level" => c.level)
codec_config(c::BZ2Codec) = Dict{String,Any}("id" => "bz2", "level" => c.level)
codec_config(c::BloscCodec) = Dict{String,Any}("id" => "blosc", "cname" => c.cname, "clevel" => c.clevel,
                                               "shuffle" => c.shuffle, "blocksize" => c.blocksize)
codec_config(c::ZstdCodec) = Dict{String,Any}("id" => "zstd", "level" => c.level, "checksum" => c.checksum)
codec_config(c::LZ4Codec) = Dict{String,Any}("id" => "lz4", "acceleration" => c.acceleration)
codec_config(c::LZMACodec) = Dict{String,Any}("id" => "lzma", "format" => c.format, "check" => c.check,
                                              "preset" => c.preset, "filters" => nothing)
codec_config(c::ShuffleCodec) = Dict{String,Any}("id" => "shuffle", "elementsize" => c.elementsize)
codec_config(c::CRC32CCodec) = Dict{String,Any}("id" => "crc32c")
