# numcodecs "shuffle" (v2 only), a bytes→bytes filter.

"numcodecs \"shuffle\": byte shuffle with elements of `elementsize` bytes (≤ 1: identity)."
struct ShuffleCodec <: BytesCodec
    elementsize::Int
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

shuffle_from_v2(cfg::AbstractDict, key::String) =
    ShuffleCodec(config_int(cfg, "shuffle", "elementsize", 4, INT32_RANGE, key))
codec_config(c::ShuffleCodec) = Dict{String,Any}("id" => "shuffle", "elementsize" => c.elementsize)
