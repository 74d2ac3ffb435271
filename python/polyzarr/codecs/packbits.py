"""``packbits``: a v2 filter (array→array), eight booleans per byte (numcodecs.PackBits). numcodecs does the work."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("packbits", ARRAY_ARRAY, "packbits"))
