"""``zlib`` and ``gzip``: deflate in a zlib stream (v2 ``zlib``, v3 ``numcodecs.zlib``) or a gzip member (v2 ``gzip``,
v3 ``gzip`` and ``numcodecs.gzip``, whose configuration is numcodecs')."""

from __future__ import annotations

import zlib
from typing import Any

import numcodecs

from ..errors import CodecError
from .pipeline import BOUNDED_DECODERS, BytesBytesCodec, NumcodecsCompressor, numcodecs_compressor_v3, too_big
from .registry import BYTES_BYTES, CodecContext, CodecEntry, allowed_settings, cfg_int, register

_LEVELS = {"level": tuple(range(-1, 10))}


def inflate(data: bytes, key: str, bound: int, wbits: int, name: str) -> bytes:
    """Deflate streams (one zlib stream; gzip: members one after another), never more than ``bound`` bytes
    out: each step asks for at most what is left of the bound (plus one, to see an overflow)."""
    out: list[bytes] = []
    left = bound
    while True:
        d = zlib.decompressobj(wbits)
        try:
            got = d.decompress(data, left + 1)
        except zlib.error as e:
            raise CodecError(key, f"{name} decode failed: the stream is corrupt: {e}") from None
        if len(got) > left or (d.unconsumed_tail and not d.eof):
            raise too_big(key, name, bound, False)
        if not d.eof:
            raise CodecError(key, f"{name} decode failed: the stream is truncated")
        out.append(got)
        left -= len(got)
        data = d.unused_data
        if wbits == 31 and data.strip(b"\0"):  # another gzip member (zero padding after the last is allowed)
            continue
        return b"".join(out)  # bytes after a zlib stream are ignored, as zlib.decompress (numcodecs) does


def zlib_bounded(codec: Any, buf: Any, key: str, bound: int) -> bytes:
    return inflate(bytes(buf), key, bound, 15, "zlib")


def gzip_bounded(codec: Any, buf: Any, key: str, bound: int) -> bytes:
    return inflate(bytes(buf), key, bound, 31, "gzip")


BOUNDED_DECODERS["zlib"] = zlib_bounded
BOUNDED_DECODERS["gzip"] = gzip_bounded


def gzip_from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.gzip":
        return numcodecs_compressor_v3(cfg, ctx, where)
    return NumcodecsCompressor(numcodecs.GZip(level=cfg_int(cfg, "level", where, 0, 9, 5)))


register(
    CodecEntry(
        "zlib", BYTES_BYTES, "zlib", ("numcodecs.zlib",), numcodecs_compressor_v3, check_v2=allowed_settings(_LEVELS)
    )
)
register(
    CodecEntry(
        "gzip", BYTES_BYTES, "gzip", ("gzip", "numcodecs.gzip"), gzip_from_v3, check_v2=allowed_settings(_LEVELS)
    )
)
