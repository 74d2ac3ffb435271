# numcodecs "zstd" (v2 id zstd; v3 zstd).

"numcodecs \"zstd\": level 0 is zstd's default level (3)."
struct ZstdCodec <: BytesCodec
    level::Int
    checksum::Bool
end
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
    limit = decode_limit()
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

_encode(c::ZstdCodec, data::Vector{UInt8}, key::String) = _encode_via_buffer(c, data, key)

zstd_from_v2(cfg::AbstractDict, key::String) =
    ZstdCodec(config_int(cfg, "zstd", "level", 0, INT32_RANGE, key), config_bool(cfg, "zstd", "checksum", false, key))
zstd_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = zstd_from_v2(cfg, ckey)

codec_config(c::ZstdCodec) = Dict{String,Any}("id" => "zstd", "level" => c.level, "checksum" => c.checksum)
v3_codec_json(c::ZstdCodec) = _named("zstd", Dict{String,Any}("level" => c.level, "checksum" => c.checksum))
