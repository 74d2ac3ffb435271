"""``bitround``: keeps ``keepbits`` mantissa bits of floats (numcodecs.BitRound), array→array: a v2 filter, and v3
``numcodecs.bitround`` (the chunk keeps its dtype). numcodecs does the work."""

from __future__ import annotations

from .pipeline import numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("bitround", ARRAY_ARRAY, "bitround", ("numcodecs.bitround",), numcodecs_filter_v3()))
