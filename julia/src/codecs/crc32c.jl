# zarr v3 / numcodecs "crc32c" checksum.

import CRC32c

"zarr v3 / numcodecs \"crc32c\": the data followed by its CRC32C, 4 bytes little-endian."
struct CRC32CCodec <: BytesCodec end
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

function crc32c_from_v2(cfg::AbstractDict, key::String)
    location = get(cfg, "location", "end")
    location == "end" ||
        throw(CodecError(key, "codec \"crc32c\": \"location\" $(repr(location)) is not supported (only \"end\")"))
    return CRC32CCodec()
end
crc32c_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = crc32c_from_v2(cfg, ckey)

codec_config(c::CRC32CCodec) = Dict{String,Any}("id" => "crc32c")
v3_codec_json(::CRC32CCodec) = Dict{String,Any}("name" => "crc32c")       # zarr-python writes no configuration
