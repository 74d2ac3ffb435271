"""``astype``: a v2 filter (array→array), converts to another dtype for storage (numcodecs.AsType). numcodecs does the work."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("astype", ARRAY_ARRAY, "astype"))
