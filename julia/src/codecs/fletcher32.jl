# numcodecs "fletcher32" (v3: "numcodecs.fletcher32"): the data followed by HDF5's Fletcher-32
# checksum (H5_checksum_fletcher32: 16-bit words read BIG-endian, a trailing odd byte as the high
# byte of a last word, sums folded mod 65535 the HDF5 way), stored as 4 bytes little-endian.
#
# Included after codecs/crc32.jl (checksum_check_params, checksum_frame, checksum_unframe).

"numcodecs Fletcher32 (HDF5's variant): the checksum appended, 4 bytes little-endian. No parameters."
struct Fletcher32Codec <: BytesCodec end

function Fletcher32Codec(cfg::AbstractDict; key::AbstractString="")
    checksum_check_params(cfg, "fletcher32", String(key))
    return Fletcher32Codec()
end

"HDF5's H5_checksum_fletcher32 of `data`."
function fletcher32_value(data::AbstractVector{UInt8})
    n = length(data)
    words = n ÷ 2
    sum1 = UInt32(0)
    sum2 = UInt32(0)
    i = firstindex(data)
    @inbounds while words > 0
        tlen = min(words, 360)                   # 360 words cannot overflow the 32-bit sums
        words -= tlen
        for _ in 1:tlen
            sum1 += (UInt32(data[i]) << 8) | UInt32(data[i+1])
            sum2 += sum1
            i += 2
        end
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    end
    if isodd(n)
        sum1 += UInt32(data[i]) << 8
        sum2 += sum1
        sum1 = (sum1 & 0xffff) + (sum1 >> 16)
        sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    end
    sum1 = (sum1 & 0xffff) + (sum1 >> 16)
    sum2 = (sum2 & 0xffff) + (sum2 >> 16)
    return (sum2 << 16) | sum1
end

_encode(c::Fletcher32Codec, data::Vector{UInt8}, key::String) = checksum_frame(data, fletcher32_value(data), false)

function _decode(c::Fletcher32Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    stored, payload = checksum_unframe(data, false, "fletcher32", key)
    computed = fletcher32_value(payload)
    stored == computed || checksum_mismatch("fletcher32", stored, computed, key)
    return Vector{UInt8}(payload)
end

codec_config(c::Fletcher32Codec) = Dict{String,Any}("id" => "fletcher32")
v3_codec_json(c::Fletcher32Codec) = Dict{String,Any}("name" => "numcodecs.fletcher32",
                                                     "configuration" => Dict{String,Any}())

fletcher32_from_v2(cfg::AbstractDict, key::String) = Fletcher32Codec(cfg; key=key)
