"""``astype``: converts to another dtype for storage (numcodecs.AsType), array→array: a v2 filter, and v3
``numcodecs.astype`` (``encode_dtype``, ``decode_dtype``; the encoded chunk has ``encode_dtype``)."""

from __future__ import annotations

import numpy as np

from .pipeline import ChunkSpec, numcodecs_filter_v3
from .registry import ARRAY_ARRAY, CodecEntry, register


def _encoded(cfg: dict, spec: ChunkSpec) -> ChunkSpec:
    return ChunkSpec(spec.shape, np.dtype(cfg["encode_dtype"])) if cfg.get("encode_dtype") else spec


register(CodecEntry("astype", ARRAY_ARRAY, "astype", ("numcodecs.astype",), numcodecs_filter_v3(_encoded)))
