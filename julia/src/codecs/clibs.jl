# Julia only: C library loading for the ccall codecs (zlib, blosc, zstd, lz4, bz2, lzma), the decoded-size
# limit and buffer growth for formats that do not record their decoded size.
#
# Each library is opened on first use (path from an environment variable, else its soname) so that a missing
# library only breaks the codecs that need it. Decoders never trust sizes read from the data: they are checked
# against the input length and against `max_chunk_bytes()` before anything is allocated.

import Libdl


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
const LIBZFP = CLibrary("libzfp", "POLYZARR_LIBZFP", "libzfp.so.1")       # zfpy.jl (Debian: libzfp1)
const CODEC_LIBRARIES = (LIBZ, LIBBLOSC, LIBZSTD, LIBLZ4, LIBBZ2, LIBLZMA, LIBZFP)
const LIBRARY_LOCK = ReentrantLock()

libpath(lib::CLibrary) = get(ENV, lib.envvar, lib.soname)

# The address of C function `name` in `lib`, opening the library on first use. Pointers are
# cached; a C_NULL entry (e.g. after precompilation, which nulls pointers) is looked up again.
# The cache is copy-on-write (a new Dict per added symbol, under the lock): chunks decoded on
# several threads look their functions up without taking a lock.
function libfunc(lib::CLibrary, name::Symbol, key::String)
    p = get(lib.symbols, name, C_NULL)
    p == C_NULL || return p
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
        syms = copy(lib.symbols)
        syms[name] = p
        lib.symbols = syms
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
            lib.symbols = Dict{Symbol,Ptr{Cvoid}}()      # a new Dict: readers may hold the old one
            lib.handle = C_NULL
        end
    end
    for pool in (ZSTD_DCTX_POOL, ZSTD_CCTX_POOL)
        lock(pool.lock) do
            empty!(pool.free)               # contexts of the old library are leaked, not freed
        end
    end
    return nothing
end

# The decoded-size bound of the chunk being decoded: pipeline.jl knows what each stage should
# produce and sets it per task, so a decompression bomb stops at the chunk's size, not at the
# global limit.  `expected` is only for the message.
const DECODE_BOUND = :polyzarr_decode_bound

"""
    with_decode_bound(f, bound, expected=bound)

Run `f()` with decoders limited to `bound` decoded bytes (ChunkError beyond it); `bound <= 0`
leaves only `max_chunk_bytes()`.
"""
function with_decode_bound(f, bound::Integer, expected::Integer=bound)
    bound > 0 || return f()
    tls = task_local_storage()
    old = get(tls, DECODE_BOUND, nothing)
    tls[DECODE_BOUND] = (Int(bound), Int(expected))
    try
        return f()
    finally
        old === nothing ? delete!(tls, DECODE_BOUND) : (tls[DECODE_BOUND] = old)
    end
end

_decode_bound() = get(task_local_storage(), DECODE_BOUND, (0, 0))::Tuple{Int,Int}

"The most bytes a decoder may produce now: the chunk's bound if one is set, else `max_chunk_bytes()`."
function decode_limit()
    b = _decode_bound()[1]
    m = max_chunk_bytes()
    return b > 0 ? min(b, m) : m
end

function _limit_error(key::String, what::String, n, limit::Int)
    bound, expected = _decode_bound()
    bound > 0 && limit == bound &&
        return ChunkError(key, "$what: decodes to more than $bound bytes (expected $expected)")
    return CodecError(key, "$what: " * (n === nothing ? "decoded data exceeds $limit bytes" :
        "header claims $n decoded bytes, more than the limit of $limit") *
        " (POLYZARR_MAX_CHUNK_BYTES); corrupt data or raise the limit")
end

# Decoded-size bookkeeping for formats that do not record it: start with a guess, grow by doubling.
function initial_capacity(sizehint::Int, inlen::Int, limit::Int)
    n = sizehint > 0 ? sizehint : max(4 * inlen, 4096)
    return min(n, limit)
end

function grow!(out::Vector{UInt8}, limit::Int, key::String, what::String)
    n = length(out)
    n >= limit && throw(_limit_error(key, what, nothing, limit))
    return resize!(out, min(limit, max(2n, 4096)))
end

function check_decoded_size(n::Integer, limit::Int, key::String, what::String)
    n > limit && throw(_limit_error(key, what, n, limit))
    return Int(n)
end

# Streaming APIs count bytes in 32-bit fields: feed them at most this much per call.
const STREAM_STEP = 1 << 30
le_uint32(a::Vector{UInt8}, i::Int) =
    Int(a[i]) | Int(a[i+1]) << 8 | Int(a[i+2]) << 16 | Int(a[i+3]) << 24
