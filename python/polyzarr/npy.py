"""``.npy`` values: the language-neutral value format (docs/CONTRACT.md). Both languages read and write it with the
exact dtype, byte order included; object arrays become fixed-width strings or bytes."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DtypeError


def to_npy_array(values: np.ndarray, object_type: type | None = None, key: str = "") -> np.ndarray:
    """Object arrays → fixed width (str → <U longest, bytes → |S longest); others unchanged. ``object_type``
    (the array's vlen codec: str or bytes) decides for an empty array, which has no element to tell. Other
    objects (json2 numbers, vlen-array arrays) have no exact .npy form: a DtypeError naming ``key``."""
    if values.dtype.kind != "O":
        return values
    flat = list(values.flat)
    if object_type is not bytes and all(isinstance(x, str) for x in flat):
        width = max((len(x) for x in flat), default=1) or 1
        return np.array(values.tolist() if values.ndim else values[()], dtype=f"<U{width}").reshape(values.shape)
    if all(isinstance(x, (bytes, np.bytes_)) for x in flat):
        width = max((len(x) for x in flat), default=1) or 1
        out = np.empty(values.shape, dtype=f"|S{width}")
        out.flat[:] = flat
        return out
    kinds = sorted({type(x).__name__ for x in flat})
    raise DtypeError(key, f"object values of types {kinds} have no exact .npy form (only all-str or all-bytes do)")


def read_npy(path: str | Path) -> np.ndarray:
    """A .npy file's values (never pickled objects)."""
    return np.load(path, allow_pickle=False)


def npy_bytes(values: Any) -> bytes:
    """The .npy file of ``values`` (never pickled objects)."""
    buf = io.BytesIO()
    np.save(buf, values, allow_pickle=False)
    return buf.getvalue()


def write_npy(path: str | Path, values: Any) -> None:
    """Write values as .npy (never pickled objects); parent directories are created. Written to a temporary
    name beside the target and renamed over it: never torn, and a link at the target is replaced."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:16]}"
    try:
        tmp.write_bytes(npy_bytes(values))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
