"""``bz2``: a full ``BZh`` stream, levels 1..9 (v2 ``bz2``, v3 ``numcodecs.bz2``)."""

from __future__ import annotations

from .pipeline import numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register

_V2 = allowed_settings({"level": tuple(range(1, 10))})
register(CodecEntry("bz2", BYTES_BYTES, "bz2", ("numcodecs.bz2",), numcodecs_compressor_v3, check_v2=_V2))
