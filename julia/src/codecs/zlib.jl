# numcodecs "zlib" and "gzip" (v2 ids zlib, gzip; v3 gzip), through the system zlib.

"numcodecs \"zlib\": a zlib stream."
struct ZlibCodec <: BytesCodec
    level::Int
end

"numcodecs \"gzip\": one gzip member on encode; any gzip data (several members too) on decode."
struct GZipCodec <: BytesCodec
    level::Int
end
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
    limit = decode_limit()
    if kind === :gzip && sizehint <= 0 && n >= 18
        sizehint = le_uint32(data, n - 3)        # ISIZE: the last member's size mod 2^32
    end
    # deflate expands at most ~1032×: a larger hint is wrong, don't allocate for it.
    sizehint = min(sizehint, 1032 * n + 1024)
    out = Vector{UInt8}(undef, initial_capacity(sizehint, n, limit))
    zs = ZStream()
    ret = ccall(init, Cint, (Ref{ZStream}, Cint, Ptr{UInt8}, Cint), zs, inflate_windowbits(kind), version,
        sizeof(ZStream))
    ret == Z_OK || throw(CodecError(key, "$what: cannot start decompression (error $ret)"))
    inpos = outpos = 0
    try
        while true
            # full at the limit with all input read: a stream cut short, more likely than a bomb
            outpos == length(out) && outpos >= limit && inpos == n &&
                throw(CodecError(key, "$what: truncated data (input ends before the end of the stream)"))
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

zlib_from_v2(cfg::AbstractDict, key::String) = ZlibCodec(config_int(cfg, "zlib", "level", 1, -1:9, key))
gzip_from_v2(cfg::AbstractDict, key::String) = GZipCodec(config_int(cfg, "gzip", "level", 1, -1:9, key))
# v3 gzip's default level is 5 (zarr-python)
gzip_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) =
    GZipCodec(config_int(cfg, "gzip", "level", 5, -1:9, ckey))

codec_config(c::ZlibCodec) = Dict{String,Any}("id" => "zlib", "level" => c.level)
codec_config(c::GZipCodec) = Dict{String,Any}("id" => "gzip", "level" => c.level)
v3_codec_json(c::GZipCodec) = _named("gzip", Dict{String,Any}("level" => c.level))
