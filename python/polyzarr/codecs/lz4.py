"""``lz4``: numcodecs' LZ4 (4-byte little-endian size, then a raw LZ4 block). v2 only."""

from __future__ import annotations

from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("lz4", BYTES_BYTES, "lz4"))
