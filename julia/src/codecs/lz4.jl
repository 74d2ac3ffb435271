# numcodecs "lz4" (v2 only).

"numcodecs \"lz4\": 4-byte little-endian uncompressed size, then a raw LZ4 block."
struct LZ4Codec <: BytesCodec
    acceleration::Int
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
    check_decoded_size(n, decode_limit(), key, "lz4")
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

_encode(c::LZ4Codec, data::Vector{UInt8}, key::String) = _encode_via_buffer(c, data, key)

lz4_from_v2(cfg::AbstractDict, key::String) = LZ4Codec(config_int(cfg, "lz4", "acceleration", 1, INT32_RANGE, key))
codec_config(c::LZ4Codec) = Dict{String,Any}("id" => "lz4", "acceleration" => c.acceleration)
