# Julia only: blosc 1.x frames decoded here, block by block — each block's streams by liblz4, libzstd or zlib,
# then the byte unshuffle in Julia, which the compiler vectorises. Debian's libblosc 1.21.3 unshuffles at half
# the speed of the c-blosc numcodecs bundles (benchmarks/codec_builds.py), and zarr 2.x writes blosc lz4 with the
# byte shuffle by default. Any other frame (bit-shuffle; blosclz or snappy streams; a memcpyed frame; sizes that
# do not add up) is left to libblosc (`blosc_decompress!`), which decodes it or says what is wrong.
#
# The frame (blosc 1.x): a 16-byte header (version, versionlz, flags, typesize, then nbytes, blocksize and
# cbytes as uint32 LE); unless memcpyed, an int32 LE start offset per block; each block holds `nsplits` streams
# of an int32 LE size and that many bytes (a stream as long as its decoded part is stored as it is). A block is
# split into `typesize` streams unless the frame says not to (flag 0x10), the type is wider than 16 bytes, the
# block holds fewer than 128 elements, or it is the last, shorter block. Shuffled blocks are unshuffled whole:
# element byte j of element i is at j * (bsize ÷ typesize) + i, the trailing bsize % typesize bytes as they are.

const BLOSC_DOSHUFFLE = 0x01
const BLOSC_MEMCPYED = 0x02
const BLOSC_DOBITSHUFFLE = 0x04
const BLOSC_DONT_SPLIT = 0x10
const BLOSC_MAX_SPLITS = 16
const BLOSC_MIN_BUFFERSIZE = 128

"Whether blosc frames are decoded here (true) or all by libblosc: a switch for tests and benchmarks."
const BLOSC_FRAMES_HERE = Ref(true)

@inline _le_int32(p::Ptr{UInt8}) = Int(ltoh(unsafe_load(Ptr{Int32}(p))))

"""
    blosc_frames_decode!(dest, n, data, key) -> Bool

Decode the blosc frame `data`, whose header says it decodes to `n` bytes, into `dest`; false, having written
nothing that counts, when the frame is one libblosc must decode (see above). A stream that fails to decode is
such a frame too: libblosc then names the damage.
"""
function blosc_frames_decode!(dest::Ptr{UInt8}, n::Int, data::Vector{UInt8}, key::String)
    BLOSC_FRAMES_HERE[] || return false
    len = length(data)
    len >= BLOSC_MAX_OVERHEAD || return false
    flags = data[3]
    typesize = Int(data[4])
    compformat = flags >> 5
    (flags & (BLOSC_MEMCPYED | BLOSC_DOBITSHUFFLE)) == 0 && compformat in (1, 3, 4) && typesize >= 1 || return false
    blocksize = Int(le_uint32(data, 9))
    blocksize >= 1 || return false
    nblocks = cld(n, blocksize)
    leftover = n % blocksize
    shuffled = (flags & BLOSC_DOSHUFFLE) != 0 && typesize > 1
    BLOSC_MAX_OVERHEAD + 4 * nblocks <= len || return false
    first_data = BLOSC_MAX_OVERHEAD + 4 * nblocks           # a block starts after the header and the starts
    tmp = shuffled ? _blosc_scratch(blocksize) : UInt8[]
    GC.@preserve data tmp begin
        src = pointer(data)
        for b in 0:nblocks-1
            last = b == nblocks - 1 && leftover > 0
            bsize = last ? leftover : blocksize
            start = _le_int32(src + BLOSC_MAX_OVERHEAD + 4b)
            start >= first_data || return false
            out = dest + b * blocksize
            into = shuffled ? pointer(tmp) : out
            _blosc_block!(into, bsize, src, len, start, flags, typesize, compformat, last, key) || return false
            shuffled && _unshuffle!(out, into, bsize, typesize)
        end
    end
    return true
end

# The streams of one block (at byte `start` of the frame) decoded into `into`, `bsize` bytes in all.
function _blosc_block!(into::Ptr{UInt8}, bsize::Int, src::Ptr{UInt8}, len::Int, start::Int, flags::UInt8,
                       typesize::Int, compformat::UInt8, last::Bool, key::String)
    split = (flags & BLOSC_DONT_SPLIT) == 0 && typesize <= BLOSC_MAX_SPLITS &&
            bsize ÷ typesize >= BLOSC_MIN_BUFFERSIZE && !last
    nsplits = split ? typesize : 1
    neblock = bsize ÷ nsplits
    pos = start
    for j in 0:nsplits-1
        0 <= pos && pos + 4 <= len || return false
        cbytes = _le_int32(src + pos)
        pos += 4
        0 <= cbytes && pos + cbytes <= len || return false
        if cbytes == neblock
            unsafe_copyto!(into, src + pos, neblock)
        else
            _blosc_stream!(into, neblock, src + pos, cbytes, compformat, key) || return false
        end
        pos += cbytes
        into += neblock
    end
    return true
end

# One compressed stream, which must decode to exactly `neblock` bytes.
function _blosc_stream!(dst::Ptr{UInt8}, neblock::Int, src::Ptr{UInt8}, cbytes::Int, compformat::UInt8, key::String)
    if compformat == 1      # lz4 and lz4hc
        f = libfunc(LIBLZ4, :LZ4_decompress_safe, key)
        return ccall(f, Cint, (Ptr{UInt8}, Ptr{UInt8}, Cint, Cint), src, dst, cbytes, neblock) == neblock
    elseif compformat == 4  # zstd
        f = libfunc(LIBZSTD, :ZSTD_decompress, key)
        r = ccall(f, Csize_t, (Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t), dst, neblock, src, cbytes)
        return r == neblock   # an error code is a huge size_t, never neblock
    else                    # zlib
        f = libfunc(LIBZ, :uncompress, key)
        got = Ref{Culong}(neblock)
        ok = ccall(f, Cint, (Ptr{UInt8}, Ref{Culong}, Ptr{UInt8}, Culong), dst, got, src, cbytes) == 0
        return ok && got[] == neblock
    end
end

# A block-sized buffer of the task's own (a task decodes one frame at a time).
function _blosc_scratch(nbytes::Int)
    tls = task_local_storage()
    buf = get(tls, :polyzarr_blosc_scratch, nothing)
    if !(buf isa Vector{UInt8}) || length(buf) < nbytes
        buf = Vector{UInt8}(undef, nbytes)
        tls[:polyzarr_blosc_scratch] = buf
    end
    return buf
end

# The byte unshuffle of one block of `nbytes`: for `typesize` up to 16 the inner loop has a constant trip count
# (`Val`), which the compiler turns into vector shuffles (~40 GB/s here, ~50× the scalar loop).
function _unshuffle!(dest::Ptr{UInt8}, src::Ptr{UInt8}, nbytes::Int, typesize::Int)
    n = nbytes ÷ typesize
    Unshuffle.elements!(dest, src, n, typesize <= BLOSC_MAX_SPLITS ? Val(typesize) : typesize)
    rem = nbytes - n * typesize
    rem > 0 && unsafe_copyto!(dest + n * typesize, src + n * typesize, rem)
    return nothing
end

# The unshuffle kernels in a module of their own: PolyZarr is compiled at -O1 on Julia < 1.9 (PolyZarr.jl says
# why), which does not vectorise loops; this module keeps the full optimisation.
module Unshuffle

@static if VERSION < v"1.9"
    Base.Experimental.@optlevel 2
end

# element byte j of element i from stream j; `width` a `Val` (a constant trip count: vectorised) or an Int
function elements!(dest::Ptr{UInt8}, src::Ptr{UInt8}, n::Int, width)
    t = _bytes(width)
    @inbounds for i in 0:n-1
        for j in 0:t-1
            unsafe_store!(dest, unsafe_load(src, j * n + i + 1), t * i + j + 1)
        end
    end
    return nothing
end

_bytes(::Val{T}) where {T} = T
_bytes(t::Int) = t

end # module Unshuffle
