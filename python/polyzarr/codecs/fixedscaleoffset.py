"""``fixedscaleoffset``: (x - offset) * scale rounded into an integer type (numcodecs.FixedScaleOffset), array→array:
a v2 filter, and v3 ``numcodecs.fixedscaleoffset`` (``offset``, ``scale``, ``dtype``, ``astype``; the encoded chunk
has the ``astype`` dtype). numcodecs does the work."""

from __future__ import annotations

import math

from ..errors import MetadataError
from .delta import encoded_as_astype
from .pipeline import numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register


def check(config: dict, where: str) -> None:
    """A scale of 0 (every value decodes to ±inf or NaN) or a non-finite scale or offset is invalid metadata."""
    for name in ("scale", "offset"):
        v = config.get(name, 1 if name == "scale" else 0)
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or (name == "scale" and v == 0):
            raise MetadataError(
                f"{where}.{name}", f"must be a finite{' non-zero' if name == 'scale' else ''} number, got {v!r}"
            )


register(
    CodecEntry(
        "fixedscaleoffset",
        ARRAY_ARRAY,
        "fixedscaleoffset",
        ("numcodecs.fixedscaleoffset",),
        numcodecs_filter_v3(encoded_as_astype),
        check_v2=check,
    )
)
