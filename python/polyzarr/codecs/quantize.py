"""``quantize``: a v2 filter (array→array), keeps a number of decimal digits (numcodecs.Quantize). numcodecs does the work."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("quantize", ARRAY_ARRAY, "quantize"))
