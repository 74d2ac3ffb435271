"""``lz4``: numcodecs' LZ4 (4-byte little-endian size, then a raw LZ4 block): v2 ``lz4``, v3 ``numcodecs.lz4``."""

from __future__ import annotations

from .pipeline import numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("lz4", BYTES_BYTES, "lz4", ("numcodecs.lz4",), numcodecs_compressor_v3))
