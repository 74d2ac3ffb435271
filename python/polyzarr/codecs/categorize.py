"""``categorize``: a v2 filter mapping string values to small integer labels (numcodecs.Categorize)."""

from __future__ import annotations

from .registry import ARRAY_ARRAY, CodecEntry, register

register(CodecEntry("categorize", ARRAY_ARRAY, "categorize", (), object_codec=True, object_type=str))
