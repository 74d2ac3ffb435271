"""``delta``: successive differences (numcodecs.Delta), array→array: a v2 filter, and v3 ``numcodecs.delta`` (its
configuration numcodecs', ``dtype`` / ``astype`` typestrings; the encoded chunk has the ``astype`` dtype)."""

from __future__ import annotations

import numpy as np

from .pipeline import ChunkSpec, numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register


def encoded_as_astype(cfg: dict, spec: ChunkSpec) -> ChunkSpec:
    """zarr-python's resolve_metadata for delta and fixedscaleoffset: the chunk takes the ``astype`` dtype."""
    astype = cfg.get("astype")
    return ChunkSpec(spec.shape, np.dtype(astype)) if astype else spec


register(CodecEntry("delta", ARRAY_ARRAY, "delta", ("numcodecs.delta",), numcodecs_filter_v3(encoded_as_astype)))
