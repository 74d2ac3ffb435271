"""``lzma``: xz container by default (numcodecs.LZMA ``format`` / ``check``): v2 ``lzma``, v3 ``numcodecs.lzma``."""

from __future__ import annotations

import lzma
from typing import Any

from .bz2 import streams
from .pipeline import BOUNDED_DECODERS, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register


def bounded_decode(codec: Any, buf: Any, key: str, bound: int) -> bytes:
    fmt = getattr(codec, "format", lzma.FORMAT_XZ)
    filters = getattr(codec, "filters", None) if fmt == lzma.FORMAT_RAW else None
    return streams(lambda: lzma.LZMADecompressor(format=fmt, filters=filters), bytes(buf), key, bound, "lzma")


BOUNDED_DECODERS["lzma"] = bounded_decode
_V2 = {"format": (0, 1, 2, 3), "check": (-1, 0, 1, 4, 10)}
register(
    CodecEntry(
        "lzma", BYTES_BYTES, "lzma", ("numcodecs.lzma",), numcodecs_compressor_v3, check_v2=allowed_settings(_V2)
    )
)
