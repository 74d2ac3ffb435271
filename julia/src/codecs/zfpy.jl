# numcodecs "zfpy" (v3: "numcodecs.zfpy", an array→bytes codec there): zfp compression through
# the C library libzfp (Debian: libzfp1; path from POLYZARR_LIBZFP, else libzfp.so.1).  The
# stored bytes are zfpy's: a full zfp header (magic, type and dimensions, mode) then the stream,
# so decoding needs no settings.  Encoding needs the chunk's dtype (int32, int64, float32,
# float64, little-endian) and shape (1–4 dimensions, C order as numcodecs requires): see
# `with_chunk`.  Modes (numcodecs' numbers = zfp's zfp_mode): 2 fixed rate, 3 fixed precision,
# 4 fixed accuracy, 5 reversible (lossless).
#
# Included after compressors.jl (BytesCodec, CLibrary, libfunc, max_chunk_bytes, CodecError).

# LIBZFP is declared in clibs.jl, with the other C libraries (reset in __init__).

const ZFP_MODE_FIXED_RATE = 2
const ZFP_MODE_FIXED_PRECISION = 3
const ZFP_MODE_FIXED_ACCURACY = 4
const ZFP_MODE_REVERSIBLE = 5
const ZFP_HEADER_FULL = Cuint(0x7)
const ZFP_TYPES = Dict(Int32 => Cint(1), Int64 => Cint(2), Float32 => Cint(3), Float64 => Cint(4))
const ZFP_TYPE_SIZES = Dict(1 => 4, 2 => 8, 3 => 4, 4 => 8)
const ZFP_TYPE_NAMES = Dict(1 => "int32", 2 => "int64", 3 => "float32", 4 => "float64")

"""
numcodecs ZFPY. `mode` 2 rate / 3 precision / 4 accuracy / 5 reversible with its parameter
(`rate`, `precision`, `tolerance`); `dtype` and `shape` (Zarr order) of the chunks, for encoding.
"""
struct ZFPYCodec <: BytesCodec
    mode::Int
    tolerance::Float64
    rate::Float64
    precision::Int
    dtype::Union{Nothing,ZDtype}
    shape::Union{Nothing,Vector{Int}}
end

"`c` for encoding chunks of `dtype` and Zarr shape `shape`."
with_chunk(c::ZFPYCodec, dtype::ZDtype, shape::AbstractVector{<:Integer}) =
    ZFPYCodec(c.mode, c.tolerance, c.rate, c.precision, dtype, collect(Int, shape))

function _zfpy_number(cfg, name, key)
    v = get(cfg, name, -1)
    v === nothing && return -1.0
    (v isa Real && !(v isa Bool) && isfinite(v)) ||
        throw(CodecError(key * ".$name", "codec \"zfpy\": \"$name\" must be a number, got $(repr(v))"))
    return Float64(v)
end

"""
    ZFPYCodec(cfg::AbstractDict; key="")

From a numcodecs config (`{"id": "zfpy", "mode": 4, "tolerance": 0.01, "rate": -1,
"precision": -1, "compression_kwargs": {...}}`) or zarr-python 3.4's v3 configuration
(`{"mode": 4, "tolerance": 0.01}`): default mode 4 (fixed accuracy).
"""
function ZFPYCodec(cfg::AbstractDict; key::AbstractString="")
    key = String(key)
    for k in keys(cfg)
        k in ("id", "mode", "tolerance", "rate", "precision", "compression_kwargs") ||
            throw(CodecError(key, "codec \"zfpy\": unknown parameter $(repr(k))"))
    end
    mode = get(cfg, "mode", ZFP_MODE_FIXED_ACCURACY)
    (mode isa Integer && !(mode isa Bool) && mode in 2:5) ||
        throw(CodecError(key * ".mode", "codec \"zfpy\": \"mode\" must be 2 (fixed rate), 3 (fixed precision), 4 " *
            "(fixed accuracy) or 5 (reversible), got $(repr(mode))"))
    tol, rate = _zfpy_number(cfg, "tolerance", key), _zfpy_number(cfg, "rate", key)
    prec = _zfpy_number(cfg, "precision", key)
    kw = get(cfg, "compression_kwargs", nothing)
    if kw isa AbstractDict                       # numcodecs' own copy of the one parameter in use
        haskey(kw, "tolerance") && (tol = _zfpy_number(kw, "tolerance", key * ".compression_kwargs"))
        haskey(kw, "rate") && (rate = _zfpy_number(kw, "rate", key * ".compression_kwargs"))
        haskey(kw, "precision") && (prec = _zfpy_number(kw, "precision", key * ".compression_kwargs"))
    elseif kw !== nothing
        throw(CodecError(key * ".compression_kwargs", "codec \"zfpy\": must be an object or null"))
    end
    (mode == ZFP_MODE_FIXED_PRECISION && !isinteger(prec)) &&
        throw(CodecError(key * ".precision", "codec \"zfpy\": \"precision\" must be an integer, got $prec"))
    # numcodecs passes only the mode's parameter to zfpy, which ignores a negative one (reversible)
    return ZFPYCodec(Int(mode), tol, rate, isinteger(prec) ? Int(prec) : -1, nothing, nothing)
end

# One zfp stream over `buf` (kept alive by the caller): (zfp_stream*, bitstream*).
function _zfp_open(buf::Vector{UInt8}, key::String)
    bs = ccall(libfunc(LIBZFP, :stream_open, key), Ptr{Cvoid}, (Ptr{UInt8}, Csize_t), buf, length(buf))
    bs == C_NULL && throw(CodecError(key, "zfpy: cannot open a zfp bit stream"))
    zs = ccall(libfunc(LIBZFP, :zfp_stream_open, key), Ptr{Cvoid}, (Ptr{Cvoid},), bs)
    zs == C_NULL && (ccall(libfunc(LIBZFP, :stream_close, key), Cvoid, (Ptr{Cvoid},), bs);
                     throw(CodecError(key, "zfpy: cannot open a zfp stream")))
    ccall(libfunc(LIBZFP, :zfp_stream_rewind, key), Cvoid, (Ptr{Cvoid},), zs)
    return zs, bs
end

function _zfp_close(zs, bs, field, key)
    field == C_NULL || ccall(libfunc(LIBZFP, :zfp_field_free, key), Cvoid, (Ptr{Cvoid},), field)
    ccall(libfunc(LIBZFP, :zfp_stream_close, key), Cvoid, (Ptr{Cvoid},), zs)
    ccall(libfunc(LIBZFP, :stream_close, key), Cvoid, (Ptr{Cvoid},), bs)
end

# Read the header of the stream in `buf`: (type, dims (x fastest), maximum stream size) or a CodecError.
function _zfp_header(buf::Vector{UInt8}, key::String)
    zs, bs = _zfp_open(buf, key)
    field = ccall(libfunc(LIBZFP, :zfp_field_alloc, key), Ptr{Cvoid}, ())
    try
        bits = ccall(libfunc(LIBZFP, :zfp_read_header, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}, Cuint), zs, field,
                     ZFP_HEADER_FULL)
        bits == 0 && throw(CodecError(key, "zfpy: not zfp data (no valid zfp header)"))
        t = Int(ccall(libfunc(LIBZFP, :zfp_field_type, key), Cint, (Ptr{Cvoid},), field))
        haskey(ZFP_TYPE_SIZES, t) || throw(CodecError(key, "zfpy: zfp header has unknown scalar type $t"))
        nd = Int(ccall(libfunc(LIBZFP, :zfp_field_dimensionality, key), Cuint, (Ptr{Cvoid},), field))
        1 <= nd <= 4 || throw(CodecError(key, "zfpy: zfp header has $nd dimensions"))
        sz = zeros(Csize_t, 4)
        ccall(libfunc(LIBZFP, :zfp_field_size, key), Csize_t, (Ptr{Cvoid}, Ptr{Csize_t}), field, sz)
        dims = Int[Int(sz[i]) for i in 1:nd]
        maxsize = Int(ccall(libfunc(LIBZFP, :zfp_stream_maximum_size, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}),
                      zs, field))
        return t, dims, maxsize
    finally
        _zfp_close(zs, bs, field, key)
    end
end

function _decode(c::ZFPYCodec, data::Vector{UInt8}, key::String, sizehint::Int)
    # zfp reads the stream without bounds checks: decode from a zero-padded copy large enough for
    # the longest stream the header allows, then check how much of it was really there.
    n = length(data)
    buf = zeros(UInt8, n + 64)
    copyto!(buf, data)
    t, dims, maxsize = GC.@preserve buf _zfp_header(buf, key)
    count = reduce(*, dims; init=1)
    nbytes = count * ZFP_TYPE_SIZES[t]
    check_decoded_size(nbytes, decode_limit(), key, "zfpy")
    if maxsize + 64 > length(buf)
        maxsize + 64 > max_chunk_bytes() && throw(CodecError(key, "zfpy: zfp header allows a $maxsize-byte stream, " *
            "more than the limit (POLYZARR_MAX_CHUNK_BYTES)"))
        resize!(buf, maxsize + 64)
        buf[n+1:end] .= 0x00
    end
    out = Vector{UInt8}(undef, nbytes)
    GC.@preserve buf out begin
        zs, bs = _zfp_open(buf, key)
        field = ccall(libfunc(LIBZFP, :zfp_field_alloc, key), Ptr{Cvoid}, ())
        try
            ccall(libfunc(LIBZFP, :zfp_read_header, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}, Cuint), zs, field,
                  ZFP_HEADER_FULL) == 0 &&
                throw(CodecError(key, "zfpy: not zfp data (no valid zfp header)"))
            ccall(libfunc(LIBZFP, :zfp_field_set_pointer, key), Cvoid, (Ptr{Cvoid}, Ptr{UInt8}), field, out)
            used = Int(ccall(libfunc(LIBZFP, :zfp_decompress, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}), zs, field))
            used == 0 && throw(CodecError(key, "zfpy: zfp decompression failed (corrupt data or unsupported mode)"))
            used > n && throw(CodecError(key, "zfpy: truncated data: the stream needs $used bytes, got $n"))
        finally
            _zfp_close(zs, bs, field, key)
        end
    end
    return out
end

function _encode(c::ZFPYCodec, data::Vector{UInt8}, key::String)
    (c.dtype === nothing || c.shape === nothing) &&
        throw(CodecError(key, "zfpy: encoding needs the chunk's dtype and shape (with_chunk)"))
    dt, shape = c.dtype, c.shape
    haskey(ZFP_TYPES, dt.T) || throw(CodecError(key, "zfpy: zfp compresses int32, int64, float32 and float64, not " *
        "$(dt.typestr)"))
    (dt.itemsize == 1 || isnative(dt)) || throw(CodecError(key, "zfpy: dtype $(dt.typestr) is not little-endian " *
        "(zfpy takes native arrays)"))
    1 <= length(shape) <= 4 || throw(CodecError(key, "zfpy: zfp compresses 1 to 4 dimensions, the chunk has " *
        "$(length(shape))"))
    count = reduce(*, shape; init=1)
    length(data) == count * dt.itemsize ||
        throw(CodecError(key, "zfpy: $(length(data)) bytes is not a chunk of shape $shape of $(dt.typestr)"))
    ztype = ZFP_TYPES[dt.T]
    dims = collect(Int, julia_size(shape, 'C'))     # zfp's x is the fastest (last numpy) axis
    src = copy(data)                             # zfp_field wants a non-const pointer
    GC.@preserve src begin
        f = (:zfp_field_1d, :zfp_field_2d, :zfp_field_3d, :zfp_field_4d)[length(dims)]
        fp = libfunc(LIBZFP, f, key)
        field = length(dims) == 1 ? ccall(fp, Ptr{Cvoid}, (Ptr{UInt8}, Cint, Csize_t), src, ztype, dims[1]) :
                length(dims) == 2 ? ccall(fp, Ptr{Cvoid}, (Ptr{UInt8}, Cint, Csize_t, Csize_t), src, ztype, dims[1],
                                          dims[2]) :
                length(dims) == 3 ? ccall(fp, Ptr{Cvoid}, (Ptr{UInt8}, Cint, Csize_t, Csize_t, Csize_t), src, ztype,
                                          dims[1], dims[2], dims[3]) :
                                    ccall(fp, Ptr{Cvoid}, (Ptr{UInt8}, Cint, Csize_t, Csize_t, Csize_t, Csize_t), src,
                                          ztype, dims[1], dims[2], dims[3], dims[4])
        field == C_NULL && throw(CodecError(key, "zfpy: cannot describe the chunk to zfp"))
        zs = ccall(libfunc(LIBZFP, :zfp_stream_open, key), Ptr{Cvoid}, (Ptr{Cvoid},), C_NULL)
        bs = C_NULL
        try
            # the same choice as zfpy's compress_numpy: the mode's parameter if not negative
            if c.mode == ZFP_MODE_FIXED_ACCURACY && c.tolerance >= 0
                ccall(libfunc(LIBZFP, :zfp_stream_set_accuracy, key), Cdouble, (Ptr{Cvoid}, Cdouble), zs, c.tolerance)
            elseif c.mode == ZFP_MODE_FIXED_RATE && c.rate >= 0
                ccall(libfunc(LIBZFP, :zfp_stream_set_rate, key), Cdouble, (Ptr{Cvoid}, Cdouble, Cint, Cuint, Cint),
                      zs, c.rate, ztype, length(dims), 0)
            elseif c.mode == ZFP_MODE_FIXED_PRECISION && c.precision >= 0
                ccall(libfunc(LIBZFP, :zfp_stream_set_precision, key), Cuint, (Ptr{Cvoid}, Cuint), zs, c.precision)
            else
                ccall(libfunc(LIBZFP, :zfp_stream_set_reversible, key), Cvoid, (Ptr{Cvoid},), zs)
            end
            maxsize = Int(ccall(libfunc(LIBZFP, :zfp_stream_maximum_size, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}),
                      zs, field))
            out = zeros(UInt8, maxsize + 64)
            GC.@preserve out begin
                bs = ccall(libfunc(LIBZFP, :stream_open, key), Ptr{Cvoid}, (Ptr{UInt8}, Csize_t), out, length(out))
                ccall(libfunc(LIBZFP, :zfp_stream_set_bit_stream, key), Cvoid, (Ptr{Cvoid}, Ptr{Cvoid}), zs, bs)
                ccall(libfunc(LIBZFP, :zfp_stream_rewind, key), Cvoid, (Ptr{Cvoid},), zs)
                ccall(libfunc(LIBZFP, :zfp_write_header, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}, Cuint), zs, field,
                      ZFP_HEADER_FULL) == 0 &&
                    throw(CodecError(key, "zfpy: cannot write the zfp header"))
                n = Int(ccall(libfunc(LIBZFP, :zfp_compress, key), Csize_t, (Ptr{Cvoid}, Ptr{Cvoid}), zs, field))
                n == 0 && throw(CodecError(key, "zfpy: zfp compression failed"))
            end
            # zfpy's bundled zfp streams 64-bit words: its output is padded with zeros to a multiple
            # of 8 bytes (Debian's libzfp may be built with smaller words); pad the same way
            n8 = 8 * cld(n, 8)
            return resize!(out, n8)                 # out is zero beyond n
        finally
            ccall(libfunc(LIBZFP, :zfp_field_free, key), Cvoid, (Ptr{Cvoid},), field)
            ccall(libfunc(LIBZFP, :zfp_stream_close, key), Cvoid, (Ptr{Cvoid},), zs)
            bs == C_NULL || ccall(libfunc(LIBZFP, :stream_close, key), Cvoid, (Ptr{Cvoid},), bs)
        end
    end
end

function codec_config(c::ZFPYCodec)
    kw = c.mode == ZFP_MODE_FIXED_ACCURACY ? Dict{String,Any}("tolerance" => c.tolerance) :
         c.mode == ZFP_MODE_FIXED_RATE ? Dict{String,Any}("rate" => c.rate) :
         c.mode == ZFP_MODE_FIXED_PRECISION ? Dict{String,Any}("precision" => c.precision) : nothing
    d = Dict{String,Any}("id" => "zfpy", "mode" => c.mode, "tolerance" => c.tolerance, "rate" => c.rate,
                         "precision" => c.precision)
    kw === nothing || (d["compression_kwargs"] = kw)
    return d
end

# zarr-python 3.4 writes the mode and the mode's parameter only.
function v3_codec_json(c::ZFPYCodec)
    cfg = Dict{String,Any}("mode" => c.mode)
    c.mode == ZFP_MODE_FIXED_ACCURACY && (cfg["tolerance"] = c.tolerance)
    c.mode == ZFP_MODE_FIXED_RATE && (cfg["rate"] = c.rate)
    c.mode == ZFP_MODE_FIXED_PRECISION && (cfg["precision"] = c.precision)
    return Dict{String,Any}("name" => "numcodecs.zfpy", "configuration" => cfg)
end

const ZFPY_PARAMETERS = ("mode", "tolerance", "rate", "precision", "compression_kwargs")
zfpy_from_v2(cfg::AbstractDict, key::String) = ZFPYCodec(cfg; key=key)

"numcodecs.zfpy in v3: the array→bytes codec (zarr-python 3.4 uses it as the serializer)."
struct ZfpySerializer <: ArrayToBytesCodec
    codec::ZFPYCodec
end
function zfpy_from_v3(cfg::AbstractDict, ckey::String, ctx::V3Context)
    dtype = parse_data_type(ctx.dt_json, '<'; key=string(ctx.key, ":data_type"))
    haskey(ZFP_TYPES, dtype.T) ||
        throw(CodecError(ckey, "numcodecs.zfpy: zfp compresses int32, int64, float32 and float64, not " *
            "$(_v3_repr(ctx.dt_json))"))
    return dtype, ZfpySerializer(with_chunk(ZFPYCodec(cfg; key=ckey), dtype, ctx.chunks))
end
serializer_encode(s::ZfpySerializer, p::Pipeline, A::AbstractArray) = _encode(s.codec, values_to_bytes(p.dtype, A), "")
function serializer_decode(s::ZfpySerializer, p::Pipeline, x; key::AbstractString="")
    b = _decode(s.codec, x isa Vector{UInt8} ? x : Vector{UInt8}(x), String(key), 0)
    want = chunk_length(p) * p.dtype.itemsize
    length(b) == want || throw(ChunkError(key, "zfpy: decoded to $(length(b)) bytes, expected $want"))
    return bytes_to_values(p.dtype, b; key=key)
end
