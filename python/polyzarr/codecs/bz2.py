"""``bz2``: a full ``BZh`` stream, levels 1..9 (v2 ``bz2``, v3 ``numcodecs.bz2``)."""

from __future__ import annotations

import bz2
from typing import Any

from ..errors import CodecError
from .pipeline import BOUNDED_DECODERS, numcodecs_compressor_v3, too_big
from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register


def streams(new: Any, data: bytes, key: str, bound: int, name: str) -> bytes:
    """Decompress stream after stream (as bz2.decompress / lzma.decompress do), at most ``bound`` bytes out."""
    out: list[bytes] = []
    left = bound
    while True:
        d = new()
        try:
            got = d.decompress(data, left + 1)
        except Exception as e:  # OSError, EOFError, ValueError; lzma.LZMAError
            raise CodecError(key, f"{name} decode failed: the stream is corrupt: {e}") from None
        if len(got) > left or (not d.eof and not d.needs_input):
            raise too_big(key, name, bound, False)
        if not d.eof:
            raise CodecError(key, f"{name} decode failed: the stream is truncated")
        out.append(got)
        left -= len(got)
        data = d.unused_data
        if not data:
            return b"".join(out)


def bounded_decode(codec: Any, buf: Any, key: str, bound: int) -> bytes:
    return streams(bz2.BZ2Decompressor, bytes(buf), key, bound, "bz2")


BOUNDED_DECODERS["bz2"] = bounded_decode
_V2 = allowed_settings({"level": tuple(range(1, 10))})
register(CodecEntry("bz2", BYTES_BYTES, "bz2", ("numcodecs.bz2",), numcodecs_compressor_v3, check_v2=_V2))
