"""``fletcher32``: numcodecs' Fletcher-32 checksum, 4 bytes with the data (v2 ``fletcher32`` as compressor or filter, v3
``numcodecs.fletcher32``, bytes→bytes). numcodecs does the work; a mismatch is a damaged chunk (ChunkError)."""

from __future__ import annotations

from .crc32c import checksum_from_v3
from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("fletcher32", BYTES_BYTES, "fletcher32", ("numcodecs.fletcher32",), checksum_from_v3))
