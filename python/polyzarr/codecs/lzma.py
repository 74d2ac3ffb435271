"""``lzma``: xz container by default (numcodecs.LZMA ``format`` / ``check``). v2 only."""

from __future__ import annotations

from .registry import BYTES_BYTES, CodecEntry, allowed_settings, register

_V2 = {"format": (0, 1, 2, 3), "check": (-1, 0, 1, 4, 10)}
register(CodecEntry("lzma", BYTES_BYTES, "lzma", check_v2=allowed_settings(_V2)))
