"""``fixedscaleoffset``: a v2 filter (array→array), (x - offset) * scale rounded into an integer type (numcodecs.FixedScaleOffset). numcodecs does the work."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("fixedscaleoffset", ARRAY_ARRAY, "fixedscaleoffset"))
