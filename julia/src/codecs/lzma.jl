# numcodecs "lzma" (v2 only): xz and lzma-alone.

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
    limit = decode_limit()
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

function lzma_from_v2(cfg::AbstractDict, key::String)
    id = "lzma"
    get(cfg, "filters", nothing) === nothing ||
        throw(CodecError(key, "codec \"lzma\": \"filters\" are not supported (only null)"))
    format = config_int(cfg, id, "format", 1, 0:3, key)
    format == 3 && throw(CodecError(key, "codec \"lzma\": format 3 (raw) needs filters, which are not supported"))
    check = config_int(cfg, id, "check", -1, INT32_RANGE, key)
    check in LZMA_CHECKS ||
        throw(CodecError(key, "codec \"lzma\": \"check\" is $check, expected one of $(join(LZMA_CHECKS, ", "))"))
    preset = get(cfg, "preset", nothing)
    if preset !== nothing
        preset = config_int(cfg, id, "preset", nothing, 0:(LZMA_PRESET_EXTREME + 9), key)
        preset & ~LZMA_PRESET_EXTREME <= 9 ||
            throw(CodecError(key, "codec \"lzma\": \"preset\" is $preset, expected 0 to 9 (| 2^31 for extreme)"))
    end
    return LZMACodec(format, check, preset)
end

codec_config(c::LZMACodec) = Dict{String,Any}("id" => "lzma", "format" => c.format, "check" => c.check,
                                              "preset" => c.preset, "filters" => nothing)
