# numcodecs "jenkins_lookup3" (v3: "numcodecs.jenkins_lookup3"): the data followed by Bob
# Jenkins' lookup3 hashlittle (HDF5's H5_checksum_lookup3) of `prefix ++ data` seeded with
# `initval`, 4 bytes little-endian.
#
# Included after codecs/crc32.jl (checksum_check_params, checksum_frame, checksum_unframe).

"numcodecs JenkinsLookup3: lookup3 of `prefix` then the data, seed `initval`, appended (4 bytes LE)."
struct JenkinsLookup3Codec <: BytesCodec
    initval::UInt32
    prefix::Union{Nothing,Vector{UInt8}}
end
JenkinsLookup3Codec() = JenkinsLookup3Codec(0x00000000, nothing)

"""
    JenkinsLookup3Codec(cfg::AbstractDict; key="")

From a numcodecs config `{"id": "jenkins_lookup3", "initval": 0, "prefix": null}`: `initval` an
integer 0…2^32-1, `prefix` null or a list of byte values (what `numpy.ndarray.tolist` writes).
"""
function JenkinsLookup3Codec(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    checksum_check_params(cfg, "jenkins_lookup3", key)
    iv = get(cfg, "initval", 0)
    iv === nothing && (iv = 0)
    ok = iv isa Integer && !(iv isa Bool) || iv isa AbstractFloat && isfinite(iv) && isinteger(iv)
    (ok && 0 <= iv <= typemax(UInt32)) ||
        throw(CodecError(key * ".initval", "codec \"jenkins_lookup3\": \"initval\" must be an integer 0 to " *
            "4294967295, got $(repr(iv))"))
    p = get(cfg, "prefix", nothing)
    prefix = nothing
    if p !== nothing
        (p isa AbstractVector && all(x -> x isa Integer && !(x isa Bool) && 0 <= x <= 255, p)) ||
            throw(CodecError(key * ".prefix", "codec \"jenkins_lookup3\": \"prefix\" must be null or a list of byte " *
                "values 0 to 255, got $(repr(p))"))
        prefix = UInt8[UInt8(x) for x in p]
    end
    return JenkinsLookup3Codec(UInt32(iv), prefix)
end

@inline _rot(x::UInt32, k) = (x << k) | (x >> (32 - k))

@inline function _lookup3_mix(a::UInt32, b::UInt32, c::UInt32)
    a -= c; a ⊻= _rot(c, 4);  c += b
    b -= a; b ⊻= _rot(a, 6);  a += c
    c -= b; c ⊻= _rot(b, 8);  b += a
    a -= c; a ⊻= _rot(c, 16); c += b
    b -= a; b ⊻= _rot(a, 19); a += c
    c -= b; c ⊻= _rot(b, 4);  b += a
    return a, b, c
end

@inline function _lookup3_final(a::UInt32, b::UInt32, c::UInt32)
    c ⊻= b; c -= _rot(b, 14)
    a ⊻= c; a -= _rot(c, 11)
    b ⊻= a; b -= _rot(a, 25)
    c ⊻= b; c -= _rot(b, 16)
    a ⊻= c; a -= _rot(c, 4)
    b ⊻= a; b -= _rot(a, 14)
    c ⊻= b; c -= _rot(b, 24)
    return c
end

"lookup3 hashlittle of `data` with seed `initval` (HDF5's H5_checksum_lookup3)."
function jenkins_lookup3(data::AbstractVector{UInt8}, initval::UInt32=0x00000000)
    len = length(data)
    a = b = c = 0xdeadbeef + (len % UInt32) + initval
    len == 0 && return c
    k = firstindex(data) - 1                     # data[k+1] is the next byte
    w(i) = @inbounds UInt32(data[k+i])
    while len > 12
        a += w(1) | w(2) << 8 | w(3) << 16 | w(4) << 24
        b += w(5) | w(6) << 8 | w(7) << 16 | w(8) << 24
        c += w(9) | w(10) << 8 | w(11) << 16 | w(12) << 24
        a, b, c = _lookup3_mix(a, b, c)
        len -= 12
        k += 12
    end
    # the last 1…12 bytes (lookup3's fall-through switch)
    len >= 12 && (c += w(12) << 24)
    len >= 11 && (c += w(11) << 16)
    len >= 10 && (c += w(10) << 8)
    len >= 9 && (c += w(9))
    len >= 8 && (b += w(8) << 24)
    len >= 7 && (b += w(7) << 16)
    len >= 6 && (b += w(6) << 8)
    len >= 5 && (b += w(5))
    len >= 4 && (a += w(4) << 24)
    len >= 3 && (a += w(3) << 16)
    len >= 2 && (a += w(2) << 8)
    a += w(1)
    return _lookup3_final(a, b, c)
end

jenkins_value(c::JenkinsLookup3Codec, data::AbstractVector{UInt8}) =
    c.prefix === nothing ? jenkins_lookup3(data, c.initval) : jenkins_lookup3(vcat(c.prefix, data), c.initval)

_encode(c::JenkinsLookup3Codec, data::Vector{UInt8}, key::String) = checksum_frame(data, jenkins_value(c, data), false)

function _decode(c::JenkinsLookup3Codec, data::Vector{UInt8}, key::String, sizehint::Int)
    stored, payload = checksum_unframe(data, false, "jenkins_lookup3", key)
    computed = jenkins_value(c, payload)
    stored == computed || checksum_mismatch("jenkins_lookup3", stored, computed, key)
    return Vector{UInt8}(payload)
end

codec_config(c::JenkinsLookup3Codec) = Dict{String,Any}("id" => "jenkins_lookup3", "initval" => Int(c.initval),
    "prefix" => c.prefix === nothing ? nothing : Any[Int(x) for x in c.prefix])
v3_codec_json(c::JenkinsLookup3Codec) = Dict{String,Any}("name" => "numcodecs.jenkins_lookup3",
    "configuration" => Dict{String,Any}(k => v for (k, v) in codec_config(c) if k != "id"))

jenkins_lookup3_from_v2(cfg::AbstractDict, key::String) = JenkinsLookup3Codec(cfg; key=key)
