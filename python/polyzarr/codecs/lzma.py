"""``lzma``: xz container by default (numcodecs.LZMA ``format`` / ``check``): v2 ``lzma``, v3 ``numcodecs.lzma``."""

from __future__ import annotations

from .pipeline import numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register

_V2 = {"format": (0, 1, 2, 3), "check": (-1, 0, 1, 4, 10)}
register(
    CodecEntry(
        "lzma", BYTES_BYTES, "lzma", ("numcodecs.lzma",), numcodecs_compressor_v3, check_v2=allowed_settings(_V2)
    )
)
