"""``bytes``: the array→bytes step. v2's is implied (the elements in the dtype's own byte order, C memory order);
v3's ``bytes`` codec names the endianness, which the dtype already carries (metadata_v3 parses it in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CodecError
from .pipeline import ArrayBytesCodec, ChunkSpec, fit
from .registry import ARRAY_BYTES, CodecContext, CodecEntry, register


@dataclass
class RawBytes(ArrayBytesCodec):
    def encode(self, arr: Any) -> Any:
        if isinstance(arr, np.ndarray):
            if arr.dtype.kind == "O":
                raise CodecError(
                    "", "object arrays need an object codec (vlen-utf8, vlen-bytes, json2, ...) in filters"
                )
            # Keep the dtype: blosc takes its typesize from the buffer's itemsize, as with zarr-python.
            return np.ascontiguousarray(arr)
        return arr  # an object codec already produced bytes

    def max_encoded(self, spec: ChunkSpec | None) -> tuple[int, bool] | None:
        return None if spec is None or spec.dtype.kind == "O" else (spec.nbytes, True)

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        return fit(buf, spec, key, "chunk")


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> RawBytes:
    endian = cfg.get("endian")
    dtype = ctx.dtype
    if endian not in (None, "little", "big"):
        raise CodecError(where, f"bytes endian must be 'little' or 'big', got {endian!r}")
    if dtype.kind == "O":
        raise CodecError(
            where, "the bytes codec cannot store variable-length strings or bytes (use vlen-utf8/vlen-bytes)"
        )
    if endian is None and dtype.fields is None and dtype.itemsize > 1 and dtype.kind not in "SVb":
        # the spec requires it for multi-byte types (structured ones are read little-endian, as zarr-python writes them)
        raise CodecError(where, f"the bytes codec needs an 'endian' for the {dtype.itemsize}-byte data type")
    return RawBytes()


register(CodecEntry("bytes", ARRAY_BYTES, None, ("bytes",), from_v3))
