"""``cast_value`` (zarr-extensions; zarr-python 3.4): an array→array codec that converts values to ``data_type`` on
encode and back to the array's data type on decode, by value, with ``rounding`` (nearest-even, towards-zero,
towards-positive, towards-negative, nearest-away), ``out_of_range`` (absent: an error; ``clamp``; ``wrap`` for integer
targets) and ``scalar_map`` (``{"encode": [[source, target], …], "decode": [[target, source], …]}``).

The casting is the PyPI package ``cast-value-rs``, the library zarr-python 3.4 itself uses (so both write the same
bytes, edge cases included: clamp to a float target overflows to ±Inf, NaN/Inf to an integer is an error unless the
scalar_map covers it); without it, encoding or decoding raises a CodecError naming the package. Sources and targets:
int8–64, uint8–64, float16/32/64 (the extension's sub-byte and float8 types are not supported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dtypes import decode_fill
from ..errors import CodecError, PolyZarrError
from .pipeline import ArrayArrayCodec, ChunkSpec, fit, in_order_of, native
from .registry import ARRAY_ARRAY, CodecContext, CodecEntry, missing_package, register

TYPES = {
    n: np.dtype(n)
    for n in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64")
}
UNSUPPORTED = (
    "int2",
    "int4",
    "uint2",
    "uint4",
    "float4_e2m1fn",
    "float6_e2m3fn",
    "float6_e3m2fn",
    "float8_e3m4",
    "float8_e4m3",
    "float8_e4m3b11fnuz",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "bfloat16",
)
ROUNDING = ("nearest-even", "towards-zero", "towards-positive", "towards-negative", "nearest-away")
OUT_OF_RANGE = (None, "clamp", "wrap")
KEYS = ("data_type", "rounding", "out_of_range", "scalar_map")


def type_name(dt: np.dtype) -> str | None:
    """The cast_value name of a numpy dtype (``int16``, ``float32``), None when cast_value has none."""
    if dt.kind in "iuf" and dt.fields is None:
        name = np.dtype(dt.newbyteorder("=")).name
        return name if name in TYPES else None
    return None


def _cast_array() -> Any:
    try:
        from cast_value_rs import cast_array
    except ImportError:
        raise CodecError("", missing_package("cast_value", "cast-value-rs")) from None
    return cast_array


def _scalar(v: Any, dt: np.dtype, where: str) -> float | int:
    try:
        x = decode_fill(v, dt, where, 3, type_name(dt))
    except PolyZarrError as e:
        raise CodecError(where, f"cast_value: {v!r} is not representable in {type_name(dt)} ({e.message})") from None
    return int(x) if dt.kind in "iu" else float(x)


def _scalar_map(m: Any, source: np.dtype, target: np.dtype, where: str) -> dict[str, dict]:
    if m is None:
        return {}
    if not isinstance(m, dict) or set(m) - {"encode", "decode"}:
        raise CodecError(where, f'must be {{"encode": [[a, b], …], "decode": [[b, a], …]}}, got {m!r}')
    out: dict[str, dict] = {}
    for direction, (kt, vt) in (("encode", (source, target)), ("decode", (target, source))):
        entries = m.get(direction)
        if entries is None:
            continue
        if isinstance(entries, dict):
            entries = list(entries.items())
        if not isinstance(entries, list):
            raise CodecError(f"{where}.{direction}", f"must be a list of [from, to] pairs, got {entries!r}")
        table: dict = {}
        for i, pair in enumerate(entries):
            w = f"{where}.{direction}[{i}]"
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise CodecError(w, f"must be a [from, to] pair, got {pair!r}")
            table[_scalar(pair[0], kt, w)] = _scalar(pair[1], vt, w)
        out[direction] = table
    return out


@dataclass
class CastValue(ArrayArrayCodec):
    source: np.dtype
    target: np.dtype  # native byte order
    rounding: str = "nearest-even"
    out_of_range: str | None = None
    maps: dict[str, dict] = field(default_factory=dict)

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        return None if spec is None else ChunkSpec(spec.shape, in_order_of(self.target, spec.dtype))

    def _cast(self, arr: np.ndarray, to: np.dtype, direction: str) -> np.ndarray:
        cast_array = _cast_array()
        try:
            return np.asarray(
                cast_array(
                    native(arr),
                    target_dtype=type_name(to),
                    rounding_mode=self.rounding,
                    out_of_range_mode=self.out_of_range,
                    scalar_map_entries=self.maps.get(direction),
                )
            )
        except Exception as e:
            raise CodecError(
                "", f"cast_value {direction} ({type_name(arr.dtype)} → {type_name(to)}) failed: {type(e).__name__}: {e}"
            ) from None

    def encode(self, arr: np.ndarray) -> np.ndarray:
        arr = np.asarray(arr)
        return self._cast(arr, self.target, "encode").astype(in_order_of(self.target, arr.dtype), copy=False)

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        assert spec is not None
        arr = fit(arr, self.resolve(spec), key, "chunk")
        try:
            out = self._cast(arr, self.source, "decode")
        except CodecError as e:
            raise CodecError(key, e.message) from None
        return out.astype(spec.dtype, copy=False)

    def encode_fill(self, fill: Any, spec: ChunkSpec) -> Any:
        if fill is None:
            return fill
        return self.encode(np.array([fill], dtype=spec.dtype))[0]


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> CastValue:
    for k in cfg:
        if k not in KEYS:
            raise CodecError(where, f"cast_value: unknown configuration key {k!r} ({', '.join(KEYS)})")
    name = cfg.get("data_type")
    if name in UNSUPPORTED:
        raise CodecError(
            f"{where}.data_type", f"cast_value to {name!r} is not supported (int8–64, uint8–64, float16/32/64 are)"
        )
    if not isinstance(name, str) or name not in TYPES:
        raise CodecError(f"{where}.data_type", f"must be an integer or floating-point data type name, got {name!r}")
    source_name = type_name(ctx.dtype)
    if source_name is None:
        raise CodecError(where, f"cast_value only casts integer and floating-point arrays, not {ctx.dtype.str}")
    rounding = cfg.get("rounding", "nearest-even")
    if rounding not in ROUNDING:
        raise CodecError(f"{where}.rounding", f"must be one of {', '.join(ROUNDING)}, got {rounding!r}")
    oor = cfg.get("out_of_range")
    if oor not in OUT_OF_RANGE:
        raise CodecError(f"{where}.out_of_range", f"must be 'clamp', 'wrap' or absent, got {oor!r}")
    target = TYPES[name]
    if oor == "wrap" and target.kind == "f":
        raise CodecError(f"{where}.out_of_range", f"'wrap' is only valid for integer targets, not {name}")
    source = np.dtype(ctx.dtype.newbyteorder("="))
    maps = _scalar_map(cfg.get("scalar_map"), source, target, f"{where}.scalar_map")
    return CastValue(source, target, rounding, oor, maps)


register(CodecEntry("cast_value", ARRAY_ARRAY, None, ("cast_value",), from_v3))
