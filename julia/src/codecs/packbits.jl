# numcodecs "packbits" (v2 filter).

"numcodecs PackBits: booleans as bits, first byte = number of padding bits."
struct PackBitsFilter <: ArrayFilter end
function filter_decode(f::PackBitsFilter, b; key::AbstractString="")
    isempty(b) && throw(CodecError(key, "packbits: empty input"))
    pad = Int(b[1])
    pad <= 7 || throw(CodecError(key, "packbits: padding $(pad) > 7"))
    n = 8 * (length(b) - 1) - pad
    n >= 0 || throw(CodecError(key, "packbits: padding exceeds data"))
    out = Vector{UInt8}(undef, n)
    for i in 1:n
        byte = b[2 + (i - 1) >> 3]
        out[i] = (byte >> (7 - (i - 1) & 7)) & 0x01    # MSB first, like np.unpackbits
    end
    return out
end
function filter_encode(f::PackBitsFilter, x)
    bits = x isa Vector{UInt8} ? x : UInt8[v ? 0x01 : 0x00 for v in x]
    n = length(bits)
    nb, left = divrem(n, 8)
    left > 0 && (nb += 1)
    out = zeros(UInt8, nb + 1)
    out[1] = left > 0 ? 8 - left : 0
    for i in 1:n
        bits[i] != 0 && (out[2 + (i - 1) >> 3] |= 0x80 >> ((i - 1) & 7))
    end
    return out
end

packbits_from_v2(cfg::AbstractDict, key::String) = PackBitsFilter()
filter_config(::PackBitsFilter) = Dict{String,Any}("id" => "packbits")

encoded_dtype(f::PackBitsFilter, dt::ZDtype) = parse_dtype("|u1")
encoded_shape(f::PackBitsFilter, shape::Vector{Int}) = [1 + cld(reduce(*, shape; init=1), 8)]
elementwise(f::PackBitsFilter) = false
