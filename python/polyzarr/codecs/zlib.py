"""``zlib`` and ``gzip``: deflate in a zlib stream (v2 ``zlib``, v3 ``numcodecs.zlib``) or a gzip member (v2 ``gzip``,
v3 ``gzip`` and ``numcodecs.gzip``, whose configuration is numcodecs')."""

from __future__ import annotations

import numcodecs

from .pipeline import BytesBytesCodec, NumcodecsCompressor, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecContext, CodecEntry, allowed_settings, cfg_int, register

_LEVELS = {"level": tuple(range(-1, 10))}


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
