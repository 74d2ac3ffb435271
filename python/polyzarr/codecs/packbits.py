"""``packbits``: eight booleans per byte after a byte with the padding (numcodecs.PackBits), array→array: a v2
filter, and v3 ``numcodecs.packbits`` (the encoded chunk is ``1 + ceil(n / 8)`` uint8, as zarr-python says)."""

from __future__ import annotations

import math

import numpy as np

from .pipeline import ChunkSpec, numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register


def _encoded(cfg: dict, spec: ChunkSpec) -> ChunkSpec:
    return ChunkSpec((1 + math.ceil(math.prod(spec.shape) / 8),), np.dtype("u1"))


register(CodecEntry("packbits", ARRAY_ARRAY, "packbits", ("numcodecs.packbits",), numcodecs_filter_v3(_encoded)))
