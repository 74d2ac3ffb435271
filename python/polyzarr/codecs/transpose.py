"""``transpose``: v3's ``transpose`` codec (``order`` a permutation: the encoded chunk is ``A.transpose(order)``) and
v2's ``order`` ("C": identity, "F": the full reversal, so every later step sees a C-contiguous array in stored
memory order). The permutations themselves come from layout.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import layout
from ..errors import CodecError
from .pipeline import ArrayArrayCodec, ChunkSpec, fit
from .registry import ARRAY_ARRAY, CodecContext, CodecEntry, register


@dataclass
class Transpose(ArrayArrayCodec):
    order: Any  # "C" | "F" | a permutation

    def perm(self, ndim: int) -> tuple[int, ...]:
        if isinstance(self.order, str):
            return layout.memory_permutation(ndim, self.order)
        return tuple(self.order)

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        if spec is None:
            return None
        return ChunkSpec(layout.permute(spec.shape, self.perm(len(spec.shape))), spec.dtype)

    def encode(self, arr: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(arr.transpose(self.perm(arr.ndim)))

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        assert spec is not None
        arr = fit(arr, self.resolve(spec), key, "chunk")
        return arr.transpose(layout.inverse_permutation(self.perm(arr.ndim)))


def v3_permutation(cfg: dict, ndim: int, where: str) -> tuple[int, ...]:
    """A v3 transpose configuration's ``order`` → the permutation (the pre-spec words "C" and "F" too)."""
    order = cfg.get("order")
    if order in ("C", "F"):  # spellings from before the spec settled on a permutation
        return layout.memory_permutation(ndim, order)
    if (
        not isinstance(order, list)
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in order)
        or sorted(order) != list(range(ndim))
    ):
        raise CodecError(where, f"transpose order must be a permutation of 0..{ndim - 1}, got {order!r}")
    return tuple(order)


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> Transpose:
    return Transpose(v3_permutation(cfg, len(ctx.chunk_shape), where))


register(CodecEntry("transpose", ARRAY_ARRAY, None, ("transpose",), from_v3))
