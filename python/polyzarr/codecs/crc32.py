"""``crc32``: numcodecs' CRC-32 (zlib's polynomial) checksum, 4 bytes with the data (v2 ``crc32`` as compressor or filter, v3
``numcodecs.crc32``, bytes→bytes). numcodecs does the work; a mismatch is a damaged chunk (ChunkError)."""

from __future__ import annotations

from .crc32c import checksum_from_v3
from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("crc32", BYTES_BYTES, "crc32", ("numcodecs.crc32",), checksum_from_v3))
