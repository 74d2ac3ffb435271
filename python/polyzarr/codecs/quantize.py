"""``quantize``: keeps a number of decimal digits (numcodecs.Quantize), array→array: a v2 filter, and v3
``numcodecs.quantize`` (``digits``, ``dtype``; zarr-python keeps the chunk's dtype). numcodecs does the work."""

from __future__ import annotations

from .pipeline import numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("quantize", ARRAY_ARRAY, "quantize", ("numcodecs.quantize",), numcodecs_filter_v3()))
