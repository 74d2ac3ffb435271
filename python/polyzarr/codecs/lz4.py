"""``lz4``: numcodecs' LZ4 (4-byte little-endian size, then a raw LZ4 block): v2 ``lz4``, v3 ``numcodecs.lz4``."""

from __future__ import annotations

from typing import Any

import numcodecs

from ..errors import ChunkError
from .pipeline import BOUNDED_DECODERS, DIRECT_CHECKS, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecEntry, register


def bounded_decode(codec: Any, buf: Any, key: str, bound: int) -> Any:
    """The size prefix is checked against the bound before numcodecs allocates it."""
    data = memoryview(buf).cast("B")
    if len(data) < 4:
        raise ChunkError(key, f"lz4 chunk of {len(data)} bytes is shorter than its 4-byte size prefix")
    size = int.from_bytes(data[:4], "little")
    if size > bound:
        raise ChunkError(key, f"lz4 size prefix says {size} bytes, more than the {bound} expected")
    return codec.decode(data)


def direct_check(data: Any, nbytes: int) -> bool:
    """A size prefix of exactly ``nbytes`` (numcodecs' LZ4 then fails unless the block decodes to that many)."""
    view = memoryview(data).cast("B")
    return len(view) >= 4 and int.from_bytes(view[:4], "little") == nbytes


BOUNDED_DECODERS["lz4"] = bounded_decode
DIRECT_CHECKS[numcodecs.LZ4] = direct_check
register(CodecEntry("lz4", BYTES_BYTES, "lz4", ("numcodecs.lz4",), numcodecs_compressor_v3))
