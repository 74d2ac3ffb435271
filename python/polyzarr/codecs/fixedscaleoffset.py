"""``fixedscaleoffset``: (x - offset) * scale rounded into an integer type (numcodecs.FixedScaleOffset), array→array:
a v2 filter, and v3 ``numcodecs.fixedscaleoffset`` (``offset``, ``scale``, ``dtype``, ``astype``; the encoded chunk
has the ``astype`` dtype). numcodecs does the work."""

from __future__ import annotations

from .delta import encoded_as_astype
from .pipeline import numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register

register(
    CodecEntry(
        "fixedscaleoffset",
        ARRAY_ARRAY,
        "fixedscaleoffset",
        ("numcodecs.fixedscaleoffset",),
        numcodecs_filter_v3(encoded_as_astype),
    )
)
