"""``jenkins_lookup3``: numcodecs' Jenkins lookup3 hash (initval, prefix) checksum, 4 bytes with the data (v2 ``jenkins_lookup3`` as compressor or filter, v3
``numcodecs.jenkins_lookup3``, bytes→bytes). numcodecs does the work; a mismatch is a damaged chunk (ChunkError)."""

from __future__ import annotations

from .crc32c import checksum_from_v3
from .registry import BYTES_BYTES, CodecEntry, register

register(
    CodecEntry("jenkins_lookup3", BYTES_BYTES, "jenkins_lookup3", ("numcodecs.jenkins_lookup3",), checksum_from_v3)
)
