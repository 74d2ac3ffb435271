"""Deterministic test values for every dtype, with the edge values that break interop (NaN, -0.0, NaT,
integer extremes, non-ASCII text, embedded NUL-free bytes)."""

from __future__ import annotations

import numpy as np

from ..dtypes import parse_dtype


def make_values(dt: np.dtype | str | list, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Varied values of ``dt`` (any typestring or structured spec) in numpy C order."""
    dt = parse_dtype(dt) if isinstance(dt, (str, list)) else np.dtype(dt)
    shape = tuple(shape)
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dt.fields is not None:
        out = np.zeros(n, dtype=dt)
        for i, name in enumerate(dt.names):
            fdt = dt.fields[name][0]
            base, sub = fdt.subdtype if fdt.subdtype else (fdt, ())
            out[name] = make_values(base, (n,) + tuple(sub), seed + i + 1)
        return out.reshape(shape)
    k = dt.kind
    if k == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif k in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=np.int64 if k == "i" else np.uint64, endpoint=True)
        if n >= 2:
            v[0], v[-1] = info.min, info.max
    elif k == "f":
        v = rng.standard_normal(n) * 1000
        if n >= 4:
            v[1], v[2], v[3] = np.nan, np.inf, -0.0
    elif k == "c":
        v = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        if n >= 2:
            v[1] = complex(np.nan, 1.0)
    elif k in "Mm":
        v = rng.integers(-(10**12), 10**12, n).astype("<i8")
        if n >= 2:
            v[1] = np.iinfo(np.int64).min  # NaT
        return v.view(dt.newbyteorder("<")).astype(dt).reshape(shape)
    elif k == "S":
        w = dt.itemsize
        v = np.array([bytes(rng.integers(1, 256, rng.integers(0, w + 1)).astype(np.uint8)) for _ in range(n)], dtype=dt)
    elif k == "U":
        alphabet = "abcxyzé中😀 "
        w = dt.itemsize // 4
        v = np.array(["".join(rng.choice(list(alphabet), rng.integers(0, w + 1))) for _ in range(n)], dtype=dt)
    elif k == "V":
        v = np.frombuffer(rng.integers(0, 256, n * dt.itemsize).astype(np.uint8).tobytes(), dtype=dt)
    else:
        raise ValueError(f"no value generator for dtype {dt}")
    return np.asarray(v).astype(dt).reshape(shape)


def make_objects(kind: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """An object array of ``str`` (``kind="str"``) or ``bytes`` values of varied lengths, empty ones included."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    out = np.empty(n, dtype=object)
    for i in range(n):
        k = int(rng.integers(0, 12))
        if kind == "str":
            out[i] = "".join(rng.choice(list("abé中😀 xyz"), k))
        else:
            out[i] = bytes(rng.integers(0, 256, k).astype(np.uint8))
    return out.reshape(shape)


def sparse(values: np.ndarray, fill: object, keep: int = 3, seed: int = 0) -> np.ndarray:
    """``values`` with all but ``keep`` elements (at seeded positions) set to ``fill``: most chunks are all-fill."""
    out = values.copy()
    flat = out.reshape(-1)
    rng = np.random.default_rng(seed)
    kept = rng.choice(flat.size, size=min(keep, flat.size), replace=False) if flat.size else []
    saved = flat[kept].copy()
    flat[...] = fill
    flat[kept] = saved
    return out
