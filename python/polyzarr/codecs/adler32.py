"""``adler32``: numcodecs' Adler-32 checksum, 4 bytes with the data (v2 ``adler32`` as compressor or filter, v3
``numcodecs.adler32``, bytes→bytes). numcodecs does the work; a mismatch is a damaged chunk (ChunkError)."""

from __future__ import annotations

from .crc32c import checksum_from_v3
from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("adler32", BYTES_BYTES, "adler32", ("numcodecs.adler32",), checksum_from_v3))
