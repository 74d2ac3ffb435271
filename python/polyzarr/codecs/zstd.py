"""``zstd``: Zstandard frames (v2 ``zstd``, v3 ``zstd`` with ``level`` and ``checksum``; ``numcodecs.zstd`` with numcodecs' configuration)."""

from __future__ import annotations

import threading
from typing import Any

import numcodecs
import numpy as np

from ..errors import ChunkError, CodecError
from .pipeline import (
    BOUNDED_DECODERS,
    DIRECT_CHECKS,
    DIRECT_DECODERS,
    PREFIX_DECODERS,
    BytesBytesCodec,
    NumcodecsCompressor,
    PrefixDecoder,
    numcodecs_compressor_v3,
)
from .registry import BYTES_BYTES, CodecContext, CodecEntry, cfg_int, register

try:  # python-zstandard decodes the fast path when installed (a dependency); else numcodecs does
    import zstandard
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    zstandard = None  # type: ignore[assignment]


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.zstd":
        return numcodecs_compressor_v3(cfg, ctx, where)
    checksum = cfg.get("checksum", False)
    if not isinstance(checksum, bool):
        raise CodecError(where, f"zstd checksum must be true or false, got {checksum!r}")
    level = cfg_int(cfg, "level", where, -131072, 22, 0)
    return NumcodecsCompressor(numcodecs.Zstd(level=level, checksum=checksum))


ZSTD_MAGIC = 0xFD2FB528
BLOCK_MAX = 128 * 1024  # a block never regenerates more than this


def frames_bound(data: bytes) -> tuple[int, bool, bool]:
    """(an upper bound on what the frames decode to, whether every frame declares its size, whether the frames
    are complete), read from the frame and block headers alone (a block regenerates at most 128 KiB)."""
    return _walk(data)[:3]


def _walk(data: bytes) -> tuple[int, bool, bool, bool]:
    """``frames_bound``'s three, then whether a frame seen declares a content checksum."""
    pos, total, declared, checksummed = 0, 0, True, False
    n = len(data)
    while pos < n:
        if n - pos < 6:
            return total, declared, False, checksummed
        magic = int.from_bytes(data[pos : pos + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame
            pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
            continue
        if magic != ZSTD_MAGIC:
            return total, declared, False, checksummed
        fhd = data[pos + 4]
        single, fcs_flag, did_flag, checksum = fhd >> 5 & 1, fhd >> 6, fhd & 3, fhd >> 2 & 1
        checksummed = checksummed or checksum == 1
        fcs_size = (1 if single else 0, 2, 4, 8)[fcs_flag]
        at = pos + 5 + (0 if single else 1) + (0, 1, 2, 4)[did_flag]
        if at + fcs_size > n:
            return total, False, False, checksummed
        fcs = int.from_bytes(data[at : at + fcs_size], "little") + (256 if fcs_size == 2 else 0)
        at += fcs_size
        if fcs_size:
            total += fcs
        regenerated = 0
        while True:
            if at + 3 > n:
                return total, declared and fcs_size > 0, False, checksummed
            h = int.from_bytes(data[at : at + 3], "little")
            last, btype, bsize = h & 1, h >> 1 & 3, h >> 3
            at += 3
            if btype == 3 or bsize > BLOCK_MAX:
                return total, declared and fcs_size > 0, False, checksummed
            regenerated += bsize if btype in (0, 1) else BLOCK_MAX
            at += 1 if btype == 1 else bsize
            if last:
                break
        if at + 4 * checksum > n:
            return total, declared and fcs_size > 0, False, checksummed
        pos = at + 4 * checksum
        if not fcs_size:
            declared = False
            total += regenerated
    return total, declared, True, checksummed


def bounded_decode(codec: Any, buf: Any, key: str, bound: int) -> Any:
    data = bytes(buf)
    upper, declared, complete = frames_bound(data)
    if not complete:  # first, as PolyZarr.jl (its libzstd size query fails on truncated frames)
        raise CodecError(key, "zstd decode failed: the frames are truncated or not zstd frames")
    if declared and upper > bound:
        raise ChunkError(key, f"zstd frame header says {upper} bytes, more than the {bound} expected")
    if upper <= bound:
        return codec.decode(data)
    try:  # sizes not declared: decoding into a buffer of the bound fails when the frames need more
        codec.decode(data, out=bytearray(bound))
    except Exception as e:
        raise ChunkError(key, f"zstd decodes to more than {bound} bytes, or is corrupt ({e})") from None
    return codec.decode(data)  # now known to fit


def direct_check(data: Any, nbytes: int) -> bool:
    """Frames that are complete and, where they declare their sizes, declare ``nbytes`` in all (frames that do
    not are decoded into exactly ``nbytes``: libzstd fails when they need more or fill less)."""
    upper, declared, complete = frames_bound(data)
    return complete and (upper == nbytes or not declared)


_contexts = threading.local()


def decode_into(codec: Any, data: Any, target: np.ndarray) -> None:
    """The frames straight into ``target`` by python-zstandard, with one decompression context per thread:
    numcodecs makes a context per call and bundles an older libzstd, ~10% slower on 128 KiB chunks. Only
    decoding goes this way (what is written stays numcodecs' bytes, as zarr-python writes them). Raises unless
    the frames decode to exactly ``target``'s size with their checksums right; ``DirectDecode`` then falls back
    to the full pipeline, whose numcodecs decode says what is wrong (and takes windows beyond libzstd's default
    limit, which the streaming decoder refuses)."""
    if zstandard is None:
        codec.decode(data, out=target)
        return
    view = _bytes_of(target)
    with _decompressor().stream_reader(data, read_across_frames=True) as reader:
        pos = _fill(reader, view)
        if pos != len(view) or reader.read(1):  # the read past the end also checks the last frame's checksum
            raise ValueError(f"zstd frames decode to {'more' if pos == len(view) else pos} bytes, not {len(view)}")


def decode_prefix(codec: Any, data: Any, prefix: np.ndarray, nbytes: int) -> None:
    """The first ``prefix.nbytes`` decoded bytes of the frames into ``prefix`` (python-zstandard's stream
    decoder stops there): a region's chunk that ends early in memory order. Refused (ValueError) unless the
    frames pass ``direct_check`` for ``nbytes`` and carry no checksum (only a decode to the end checks one), and
    without python-zstandard."""
    upper, declared, complete, checksummed = _walk(data)
    if not complete or (declared and upper != nbytes):
        raise ValueError(f"not zstd frames of {nbytes} bytes")
    if checksummed:
        raise ValueError("a prefix decode would skip the checksum")
    if zstandard is None:
        raise ValueError("python-zstandard is not installed")
    view = _bytes_of(prefix)
    with _decompressor().stream_reader(data, read_across_frames=True) as reader:
        pos = _fill(reader, view)
    if pos != len(view):
        raise ValueError(f"zstd frames end after {pos} bytes, before {len(view)}")


def _decompressor() -> Any:
    """The thread's python-zstandard decompression context (made on first use)."""
    dctx = getattr(_contexts, "dctx", None)
    if dctx is None:
        dctx = _contexts.dctx = zstandard.ZstdDecompressor()
    return dctx


def _bytes_of(target: np.ndarray) -> memoryview:
    return memoryview(target.reshape(-1).view(np.uint8))


def _fill(reader: Any, view: memoryview) -> int:
    """Read from a stream reader into ``view`` until it is full or the frames end: the bytes it holds."""
    pos = 0
    while pos < len(view):
        got = reader.readinto(view[pos:])
        if not got:
            break
        pos += got
    return pos


BOUNDED_DECODERS["zstd"] = bounded_decode
DIRECT_CHECKS[numcodecs.Zstd] = direct_check
DIRECT_DECODERS[numcodecs.Zstd] = decode_into
PREFIX_DECODERS[numcodecs.Zstd] = PrefixDecoder(decode_prefix, BLOCK_MAX)

register(CodecEntry("zstd", BYTES_BYTES, "zstd", ("zstd", "numcodecs.zstd"), from_v3))
