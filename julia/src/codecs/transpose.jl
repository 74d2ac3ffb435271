# v3 "transpose" and v2 order "F" (a transpose with the full reversal): array→array.

"A v3 `transpose`: `order` is the 0-based Zarr permutation p (the encoded array is `A.transpose(p)`)."
struct TransposeCodec
    order::Vector{Int}
end
function _v3_transpose(cfg, n, ckey)
    o = get(cfg, "order", nothing)
    o == "C" && return TransposeCodec(collect(0:n - 1))          # legacy spellings
    o == "F" && return TransposeCodec(zarr_reversal(n))
    (o isa AbstractVector && all(_is_int, o)) ||
        throw(CodecError(ckey, "transpose: \"order\" must be a list of integers, got " *
            "$(json_string(o; indent=nothing))"))
    p = Int[Int(x) for x in o]
    (length(p) == n && sort(p) == 0:n - 1) ||
        throw(CodecError(ckey, "transpose: \"order\" $(json_string(o; indent=nothing)) is not a permutation of " *
            "0…$(n - 1)"))
    return TransposeCodec(p)
end

transpose_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context) = _v3_transpose(cfg, length(ctx.chunks), ckey)
