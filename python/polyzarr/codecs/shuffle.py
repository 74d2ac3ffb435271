"""``shuffle``: byte shuffle by element size (numcodecs.Shuffle), a v2 filter working on the chunk's bytes."""

from __future__ import annotations

from .registry import BYTES_BYTES, CodecEntry, register

register(CodecEntry("shuffle", BYTES_BYTES, "shuffle"))
