"""``scale_offset`` (zarr-extensions; zarr-python 3.4): an array→array codec, encoded = (x − offset) × scale and
decoded = x / scale + offset, in the array's own data type (``{"offset": 10.0, "scale": 4.0}``, both optional, JSON
scalars of that type). As zarr-python 3.4 computes it: integers exactly (widened to int64, a result outside the type
is an error; int64 itself wraps silently, as in zarr-python; uint64 in Python integers), decoding an integer needs
every value to be a multiple of ``scale``; floats in their own arithmetic (Inf/NaN are ordinary results)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dtypes import decode_fill
from ..errors import CodecError, PolyZarrError
from .pipeline import ArrayArrayCodec, ChunkSpec, fit
from .registry import ARRAY_ARRAY, CodecContext, CodecEntry, register

_WIDE = np.dtype(np.int64)


def _fits(dt: np.dtype, offset: int, scale: int, decode: bool) -> bool:
    info = np.iinfo(dt)
    lo_x, hi_x = int(info.min), int(info.max)
    if decode:
        q = (lo_x // scale, hi_x // scale) if scale > 0 else (hi_x // scale, lo_x // scale)
        lo, hi = q[0] + offset, q[1] + offset
    else:
        p = ((lo_x - offset) * scale, (hi_x - offset) * scale)
        lo, hi = min(p), max(p)
    return lo_x <= lo and hi <= hi_x


def _check_range(values: np.ndarray, dt: np.dtype) -> None:
    info = np.iinfo(dt)
    if values.size and (values.min() < int(info.min) or values.max() > int(info.max)):
        raise ValueError(f"scale_offset produced a value outside the range of {dt} [{info.min}, {info.max}]")


def encode_values(arr: np.ndarray, offset: Any, scale: Any) -> np.ndarray:
    """(arr − offset) × scale in arr's dtype, as zarr-python 3.4 (zarr/codecs/scale_offset.py)."""
    dt = arr.dtype
    a = arr.astype(dt.newbyteorder("="), copy=False)
    if a.dtype == np.uint64:
        res = np.asarray((a.astype(object) - int(offset)) * int(scale), dtype=object)
        _check_range(res, a.dtype)
        out = res.astype(a.dtype)
    elif a.dtype.kind in "iu":
        if _fits(a.dtype, int(offset), int(scale), decode=False):
            out = (a - offset) * scale
        else:
            wide = (a.astype(_WIDE) - _WIDE.type(offset)) * _WIDE.type(scale)
            _check_range(wide, a.dtype)
            out = wide.astype(a.dtype)
    else:
        out = (a - offset) * scale
    return np.asarray(out).astype(dt, copy=False)


def decode_values(arr: np.ndarray, offset: Any, scale: Any) -> np.ndarray:
    """arr / scale + offset in arr's dtype (integers: exact division or an error)."""
    dt = arr.dtype
    a = arr.astype(dt.newbyteorder("="), copy=False)
    if a.dtype.kind in "iu" and np.any(a % scale):
        raise ValueError(f"a value is not a multiple of scale {scale}: the result is not exactly representable in {dt}")
    if a.dtype == np.uint64:
        res = np.asarray(a.astype(object) // int(scale) + int(offset), dtype=object)
        _check_range(res, a.dtype)
        out = res.astype(a.dtype)
    elif a.dtype.kind in "iu":
        if _fits(a.dtype, int(offset), int(scale), decode=True):
            out = a // scale + offset
        else:
            wide = a.astype(_WIDE) // _WIDE.type(scale) + _WIDE.type(offset)
            _check_range(wide, a.dtype)
            out = wide.astype(a.dtype)
    else:
        out = a / scale + offset
    return np.asarray(out).astype(dt, copy=False)


@dataclass
class ScaleOffset(ArrayArrayCodec):
    offset: Any  # numpy scalars of the array's (native) dtype
    scale: Any

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        return spec

    def encode(self, arr: np.ndarray) -> np.ndarray:
        try:
            return encode_values(np.asarray(arr), self.offset, self.scale)
        except (ValueError, OverflowError) as e:
            raise CodecError("", f"scale_offset encode failed: {e}") from None

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        arr = fit(arr, spec, key, "chunk")
        try:
            return decode_values(arr, self.offset, self.scale)
        except (ValueError, OverflowError) as e:
            raise CodecError(key, f"scale_offset decode failed: {e}") from None

    def encode_fill(self, fill: Any, spec: ChunkSpec) -> Any:
        if fill is None:
            return fill
        return self.encode(np.array([fill], dtype=spec.dtype))[0]


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> ScaleOffset:
    for k in cfg:
        if k not in ("offset", "scale"):
            raise CodecError(where, f"scale_offset: unknown configuration key {k!r} (offset, scale)")
    dt = ctx.dtype
    if dt.kind not in "iuf" or dt.fields is not None:
        raise CodecError(where, f"scale_offset only works on integer and floating-point arrays, not {dt.str}")
    nat = np.dtype(dt.newbyteorder("="))
    vals = {}
    for name, default in (("offset", 0), ("scale", 1)):
        try:
            vals[name] = nat.type(decode_fill(cfg.get(name, default), nat, f"{where}.{name}", 3))
        except PolyZarrError as e:
            raise CodecError(f"{where}.{name}", f"scale_offset: not representable in {nat}: {e.message}") from None
    if vals["scale"] == 0:
        raise CodecError(f"{where}.scale", "scale_offset: scale must be non-zero")
    return ScaleOffset(vals["offset"], vals["scale"])


register(CodecEntry("scale_offset", ARRAY_ARRAY, None, ("scale_offset",), from_v3))
