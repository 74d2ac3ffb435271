# numcodecs "adler32" (v3: "numcodecs.adler32"): the data with its Adler-32 (zlib's, seed 1) as
# 4 bytes little-endian, at the start (numcodecs' default) or at the end (`"location": "end"`).
#
# Included after codecs/crc32.jl (checksum_location, checksum_frame, checksum_unframe, zlib_checksum).

"numcodecs Adler32: Adler-32 of the data, 4 bytes little-endian, at the start (default) or end."
struct Adler32Codec <: BytesCodec
    at_start::Bool
end
Adler32Codec() = Adler32Codec(true)

"""
    Adler32Codec(cfg::AbstractDict; key="")

From a numcodecs config (`{"id": "adler32", "location": "start"|"end"}`; id optional).
"""
function Adler32Codec(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    checksum_check_params(cfg, "adler32", key)
    return Adler32Codec(checksum_location(cfg, "adler32", true, key))
end

adler32_value(data::AbstractVector{UInt8}, key::String="") = zlib_checksum(:adler32, data, 0x00000001, key)

_encode(c::Adler32Codec, data::Vector{UInt8}, key::String) = checksum_frame(data, adler32_value(data, key), c.at_start)

function _decode(c::Adler32Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    stored, payload = checksum_unframe(data, c.at_start, "adler32", key)
    computed = adler32_value(payload, key)
    stored == computed || checksum_mismatch("adler32", stored, computed, key)
    return Vector{UInt8}(payload)
end

codec_config(c::Adler32Codec) = c.at_start ? Dict{String,Any}("id" => "adler32") :
                                             Dict{String,Any}("id" => "adler32", "location" => "end")
v3_codec_json(c::Adler32Codec) = Dict{String,Any}("name" => "numcodecs.adler32",
    "configuration" => Dict{String,Any}(k => v for (k, v) in codec_config(c) if k != "id"))

adler32_from_v2(cfg::AbstractDict, key::String) = Adler32Codec(cfg; key=key)
