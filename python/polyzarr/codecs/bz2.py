"""``bz2``: a full ``BZh`` stream, levels 1..9. v2 only."""

from __future__ import annotations

from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register

register(CodecEntry("bz2", BYTES_BYTES, "bz2", check_v2=allowed_settings({"level": tuple(range(1, 10))})))
