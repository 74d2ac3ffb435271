"""``delta``: a v2 filter (array→array), successive differences (numcodecs.Delta). numcodecs does the work."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("delta", ARRAY_ARRAY, "delta"))
