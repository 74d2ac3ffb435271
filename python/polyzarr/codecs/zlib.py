"""``zlib`` and ``gzip``: deflate in a zlib stream (v2 ``zlib``) or a gzip member (v2 ``gzip``, v3 ``gzip``)."""

from __future__ import annotations

import numcodecs

from .pipeline import BytesBytesCodec, NumcodecsCompressor
from .registry import BYTES_BYTES, CodecContext, CodecEntry, allowed_settings, cfg_int, register

_LEVELS = {"level": tuple(range(-1, 10))}


def gzip_from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    return NumcodecsCompressor(numcodecs.GZip(level=cfg_int(cfg, "level", where, 0, 9, 5)))


register(CodecEntry("zlib", BYTES_BYTES, "zlib", check_v2=allowed_settings(_LEVELS)))
register(CodecEntry("gzip", BYTES_BYTES, "gzip", ("gzip",), gzip_from_v3, check_v2=allowed_settings(_LEVELS)))
