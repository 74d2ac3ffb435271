# numcodecs "bz2" (v2 only).

"numcodecs \"bz2\": a full bzip2 stream."
struct BZ2Codec <: BytesCodec
    level::Int
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
    limit = decode_limit()
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

bz2_from_v2(cfg::AbstractDict, key::String) = BZ2Codec(config_int(cfg, "bz2", "level", 1, 1:9, key))
codec_config(c::BZ2Codec) = Dict{String,Any}("id" => "bz2", "level" => c.level)
