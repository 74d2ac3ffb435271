"""Why two arrays differ, in words a developer chasing an order bug can act on.

``diagnose(got, expected)`` looks for the one transformation that turns ``got`` into ``expected`` exactly
(bit for bit): a dtype fix (byte order, the same bytes under another dtype, a wrong width) composed with a
layout fix (all axes reversed, any axis permutation, the same memory read in the other C/F order, per chunk
or as a whole). When none explains it, the differences are described element by element: how many, the
first one (numpy and Julia index), and whether the wrong elements are the fill value (missing chunks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import layout

MAX_PERMUTED_RANK = 6


@dataclass
class Diagnosis:
    """The verdict: ``kind`` is a stable word for tools, ``summary`` one line for people, ``details`` more."""

    equal: bool
    kind: str
    summary: str
    details: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join([self.summary, *("  " + d for d in self.details)])

    def to_json(self) -> dict:
        return {
            "equal": self.equal,
            "kind": self.kind,
            "summary": self.summary,
            "details": self.details,
            "data": _jsonable(self.data),
        }


# ---------------------------------------------------------------------------------------------------------
# Exact comparison


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype (byte order included), shape and bits; object arrays compare their elements."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O":
        return all(x == y and type(x) is type(y) for x, y in zip(a.flat, b.flat))
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _element_mismatch(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Boolean mask of elements whose bits differ (same dtype and shape)."""
    if got.dtype.kind == "O":
        flat = np.array([not (x == y and type(x) is type(y)) for x, y in zip(got.flat, expected.flat)], dtype=bool)
        return flat.reshape(got.shape)
    n = got.dtype.itemsize
    a = (
        np.ascontiguousarray(got).view(np.uint8).reshape(got.shape + (n,))
        if got.size
        else np.zeros(got.shape + (n,), np.uint8)
    )
    b = np.ascontiguousarray(expected).view(np.uint8).reshape(expected.shape + (n,)) if expected.size else a
    return (a != b).any(axis=-1)


# ---------------------------------------------------------------------------------------------------------
# Candidate fixes: each yields (description, kind, transformed array)


DtypeFix = tuple[str, str, np.ndarray]


def _dtype_fixes(got: np.ndarray, want: np.dtype) -> Iterator[DtypeFix]:
    """Ways to bring ``got`` to dtype ``want``: identity, value-preserving cast, same bytes reinterpreted,
    per-element byte swap."""
    g = got.dtype
    if g == want:
        yield "", "", got
        if g.kind not in "OSUVb" and g.itemsize > 1 and g.fields is None:
            yield (
                "values are byte-swapped: each element's bytes are reversed (a '<'/'>' byte-order mix-up)",
                "byteswapped",
                got.byteswap(),
            )
        return
    if g.kind == "O" or want.kind == "O":
        return
    if g.fields is None and want.fields is None and g.newbyteorder() == want and g.itemsize > 1:
        try:
            cast = got.astype(want)
        except (TypeError, ValueError):
            cast = None
        if cast is not None:
            yield (
                f"values are right but the dtype is {g.str}, expected {want.str}: the byte order was lost",
                "dtype-byteorder",
                cast,
            )
        yield (
            f"the same bytes were read as {g.str} instead of {want.str}: the byte order was ignored, so every value "
            "is byte-swapped",
            "byteswapped",
            _reinterpret(got, want),
        )
        return
    if g.itemsize == want.itemsize:
        if g.fields is not None and want.fields is not None:
            yield (
                "the same bytes were read with another structured dtype: " + "; ".join(_field_types(g, want)),
                "struct",
                _reinterpret(got, want),
            )
            return
        yield (
            f"the same bytes were read with dtype {_name(g)} instead of {_name(want)}",
            "reinterpreted",
            _reinterpret(got, want),
        )
        return
    if g.kind == want.kind and g.kind in "SUV":
        try:
            yield (
                f"wrong width: {g.str} instead of {want.str} (the values themselves agree)",
                "width",
                got.astype(want),
            )
        except (TypeError, ValueError):
            pass
    total = got.size * g.itemsize
    if want.itemsize and total % want.itemsize == 0:
        yield (
            f"the same bytes were read with {g.itemsize}-byte {_name(g)} instead of {want.itemsize}-byte {_name(want)} "
            "(wrong width, so the element count changed)",
            "width",
            _reinterpret(got.reshape(-1), want),
        )
    if g.fields is None and want.fields is None and g.kind in "biufc" and want.kind in "biufc":
        try:
            yield (f"dtype is {g.str}, expected {want.str} (values converted)", "dtype", got.astype(want))
        except (TypeError, ValueError, OverflowError):
            pass


def _reinterpret(a: np.ndarray, dt: np.dtype) -> np.ndarray:
    flat = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    out = flat.view(dt)
    return out.reshape(a.shape) if out.size == a.size else out


LayoutFix = tuple[str, str, Callable[[np.ndarray], np.ndarray | None]]


def _layout_fixes(shape: tuple[int, ...], want: tuple[int, ...], chunks: Sequence[int] | None) -> Iterator[LayoutFix]:
    """Ways to rearrange an array of ``shape`` into ``want`` (descriptions refer to the original array)."""
    n = len(shape)
    if shape == want:
        yield "", "", lambda a: a
    rev = tuple(reversed(range(n)))
    if n >= 2 and tuple(shape[p] for p in rev) == want:
        yield (
            "transposed: all axes are reversed (a C/F order or Julia axis-reversal mix-up)",
            "reversed",
            lambda a: a.transpose(rev),
        )
    if 2 < n <= MAX_PERMUTED_RANK:
        for p in itertools.permutations(range(n)):
            if p in (tuple(range(n)), rev) or tuple(shape[i] for i in p) != want:
                continue
            inv = tuple(int(i) for i in np.argsort(p))
            yield (
                f"axes are permuted: got = expected.transpose({list(inv)}), i.e. expected = got.transpose({list(p)})",
                "permuted",
                lambda a, p=p: a.transpose(p),  # type: ignore[misc]
            )
    if math.prod(shape) == math.prod(want) and n + len(want) > 0:
        if shape != want:
            yield (
                f"shape is {list(shape)}, expected {list(want)}: the same elements in the same memory order under a "
                "reversed or wrong shape",
                "shape",
                lambda a: a.reshape(want),
            )
        # got's C traversal is expected's F traversal: bytes written in F order were read as C (and vice versa)
        yield (
            "memory order mix-up: F-order bytes were read as C order (order metadata ignored or wrong)",
            "layout",
            lambda a: np.asarray(a).reshape(-1, order="C").reshape(want, order="F"),
        )
        yield (
            "memory order mix-up: C-order bytes were read as F order (order metadata ignored or wrong)",
            "layout",
            lambda a: np.asarray(a).reshape(-1, order="F").reshape(want, order="C"),
        )
    if chunks and shape == want and len(chunks) == n and n >= 2:
        yield (
            "each chunk's bytes are read in the wrong memory order (C vs F inside every chunk)",
            "chunk-layout",
            lambda a: _per_chunk_relayout(a, chunks),
        )


def _moved_chunks(got: np.ndarray, expected: np.ndarray, chunks: Sequence[int]) -> list[tuple[tuple, tuple]]:
    """Whole chunks of ``got`` that differ from their place in ``expected`` but equal another whole chunk there:
    [(position in got, position in expected)], or [] unless every differing whole chunk is explained so."""
    if got.shape != expected.shape or got.dtype != expected.dtype or got.dtype.kind == "O" or len(chunks) != got.ndim:
        return []
    grid = [range(s // c) for s, c in zip(got.shape, chunks)]
    blocks = {idx: tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks)) for idx in itertools.product(*grid)}
    where = {}
    for idx, sel in blocks.items():
        where.setdefault(np.ascontiguousarray(expected[sel]).tobytes(), idx)
    moved = []
    for idx, sel in blocks.items():
        g = np.ascontiguousarray(got[sel]).tobytes()
        if g == np.ascontiguousarray(expected[sel]).tobytes():
            continue
        src = where.get(g)
        if src is None:
            return []
        moved.append((idx, src))
    return moved


def _full_chunks_relaid(got: np.ndarray, expected: np.ndarray, chunks: Sequence[int]) -> bool:
    """Do the chunks that lie wholly inside the array match once their memory order is flipped (C⇄F)? Edge
    chunks cannot say: their stored padding is not visible."""
    if got.ndim < 2 or len(chunks) != got.ndim or got.dtype != expected.dtype or got.shape != expected.shape:
        return False
    seen = 0
    for idx in itertools.product(*[range(s // c) for s, c in zip(got.shape, chunks)]):
        sel = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
        g, e = got[sel], expected[sel]
        if same(g, e):
            continue
        flips = (
            g.reshape(-1, order="C").reshape(tuple(chunks), order="F"),
            g.reshape(-1, order="F").reshape(tuple(chunks), order="C"),
        )
        if not any(same(np.ascontiguousarray(f), np.ascontiguousarray(e)) for f in flips):
            return False
        seen += 1
    return seen > 0


def _per_chunk_relayout(a: np.ndarray, chunks: Sequence[int]) -> np.ndarray | None:
    """Undo 'each chunk read in the other memory order' (only defined when every chunk is full)."""
    if any(s % c for s, c in zip(a.shape, chunks)):
        return None
    out = np.empty_like(a)
    for idx in itertools.product(*[range(s // c) for s, c in zip(a.shape, chunks)]):
        sel = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
        out[sel] = a[sel].reshape(-1, order="C").reshape(tuple(chunks), order="F")
    return out


# ---------------------------------------------------------------------------------------------------------
# The verdict


def diagnose(
    got: Any, expected: Any, fill_value: Any = None, chunks: Sequence[int] | None = None, order: str = "C"
) -> Diagnosis:
    """Compare ``got`` with ``expected``; ``fill_value`` and ``chunks`` (Zarr order) sharpen the explanation,
    ``order`` ("C"/"F") picks how Julia indices are shown."""
    got, expected = np.asarray(got), np.asarray(expected)
    if same(got, expected):
        return Diagnosis(True, "equal", f"equal: {list(expected.shape)} {_name(expected.dtype)}")
    for dtext, dkind, g in _dtype_fixes(got, expected.dtype):
        for ltext, lkind, fix in _layout_fixes(g.shape, expected.shape, chunks):
            try:
                cand = fix(g)
            except ValueError:
                continue
            if cand is not None and same(cand, expected):
                parts = [t for t in (dtext, ltext) if t]
                kind = "+".join(k for k in (dkind, lkind) if k)
                return Diagnosis(
                    False,
                    kind,
                    "; ".join(parts),
                    _context(got, expected),
                    {
                        "got_shape": got.shape,
                        "expected_shape": expected.shape,
                        "got_dtype": got.dtype.str,
                        "expected_dtype": expected.dtype.str,
                    },
                )
    return _describe_values(got, expected, fill_value, chunks, order)


def _describe_values(
    got: np.ndarray, expected: np.ndarray, fill_value: Any, chunks: Sequence[int] | None, order: str
) -> Diagnosis:
    ctx = _context(got, expected)
    if got.shape != expected.shape:
        return Diagnosis(
            False,
            "shape",
            f"shape {list(got.shape)} differs from expected {list(expected.shape)}",
            ctx,
            {"got_shape": got.shape, "expected_shape": expected.shape},
        )
    if got.dtype != expected.dtype:
        if expected.dtype.fields is not None and got.dtype.itemsize == expected.dtype.itemsize:
            fields = _field_differences(got, expected)
            return Diagnosis(
                False,
                "struct",
                f"structured dtype differs: {fields[0]}",
                ctx + fields[1:],
                {"got_dtype": str(got.dtype.descr), "expected_dtype": str(expected.dtype.descr)},
            )
        g2 = _try_cast(got, expected.dtype)
        if g2 is None:
            return Diagnosis(
                False,
                "dtype",
                f"dtype {_name(got.dtype)} ({got.dtype.str}) differs from expected "
                f"{_name(expected.dtype)} ({expected.dtype.str}) and the values do not convert",
                ctx,
            )
        ctx.insert(0, f"dtype {got.dtype.str} differs from expected {expected.dtype.str}")
        got = g2
    bad = _element_mismatch(got, expected)
    nbad = int(bad.sum())
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if nbad else ()
    data = {"n_different": nbad, "n_total": int(expected.size), "first_index": first}
    if nbad == 0:
        return Diagnosis(False, "dtype", ctx[0] if ctx else "dtype differs", ctx[1:], data)
    if expected.dtype.kind in "fc" and _numerically_equal(got, expected):
        return Diagnosis(
            False,
            "bits",
            f"{nbad} element(s) compare equal but their bits differ (NaN payload or signed zero); "
            f"first at {first}: got {_show(got[first])}, expected {_show(expected[first])}",
            ctx,
            data,
        )
    details = list(ctx)
    details.append(_first_text(got, expected, first, order))
    kind, summary = "values", f"{nbad} of {expected.size} elements differ"
    if fill_value is not None:
        fill = _as_fill(fill_value, expected.dtype)
        if fill is not None:
            got_fill = ~_element_mismatch(got, np.broadcast_to(fill, got.shape))
            exp_fill = ~_element_mismatch(expected, np.broadcast_to(fill, expected.shape))
            if (got_fill | ~bad).all():
                kind = "fill"
                summary = f"{nbad} of {expected.size} elements read as the fill value {_show(fill)} where values were expected (missing or skipped chunks?)"
                if chunks:
                    missing = _whole_chunks(bad & got_fill, chunks)
                    if missing:
                        details.append(
                            f"chunks wholly read as fill: {', '.join(str(c) for c in missing[:8])}{' …' if len(missing) > 8 else ''}"
                        )
                        data["fill_chunks"] = missing
            elif (exp_fill | ~bad).all():
                kind = "fill"
                summary = f"{nbad} of {expected.size} elements should be the fill value {_show(fill)} but are not (fill value not applied to missing chunks?)"
    moved = _moved_chunks(got, expected, chunks) if chunks and kind == "values" else []
    if moved:
        rev = all(g == tuple(reversed(e)) for g, e in moved)
        kind = "chunk-placement"
        summary = f"{nbad} of {expected.size} elements differ: whole chunks sit at other grid positions" + (
            " (the chunk grid index is reversed: chunk keys written or read in the other axis order)" if rev else ""
        )
        details.append("; ".join(f"chunk {list(g)} holds expected chunk {list(e)}" for g, e in moved[:6]))
    if chunks and kind == "values" and _full_chunks_relaid(got, expected, chunks):
        kind = "chunk-layout"
        summary = (
            f"{nbad} of {expected.size} elements differ: every whole chunk holds its values in the other memory "
            "order (C vs F inside each chunk; order metadata ignored or wrong)"
        )
    if chunks and kind == "values":
        touched = sorted(
            {tuple(int(i) // c for i, c in zip(idx, chunks)) for idx in map(tuple, np.argwhere(bad)[:10000])}
        )
        details.append(f"differences lie in {len(touched)} chunk(s), first {touched[0]}")
        data["chunks"] = touched
    return Diagnosis(False, kind, summary, details, data)


def _first_text(got: np.ndarray, expected: np.ndarray, first: tuple[int, ...], order: str) -> str:
    jl = layout.julia_index(first, order)
    return (
        f"first difference at numpy index {first} (Julia index {list(jl)} for order {order}): "
        f"got {_show(got[first])}, expected {_show(expected[first])}"
    )


def _context(got: np.ndarray, expected: np.ndarray) -> list[str]:
    out = []
    if got.shape != expected.shape:
        out.append(
            f"shape {list(got.shape)}, expected {list(expected.shape)}"
            + (" (reversed)" if got.shape == expected.shape[::-1] else "")
        )
    if got.dtype != expected.dtype and not (got.dtype.fields and expected.dtype.fields):
        out.append(f"dtype {got.dtype.str}, expected {expected.dtype.str}")
    return out


def _field_types(g: np.dtype, want: np.dtype) -> list[str]:
    """Fields whose type or place differs between two structured dtypes."""
    out = []
    for name, (fdt, off, *_) in want.fields.items():
        if name not in (g.fields or {}):
            out.append(f"field {name!r} is missing")
            continue
        gdt, goff = g.fields[name][0], g.fields[name][1]
        if gdt != fdt or goff != off:
            shown = f"{fdt.base.str} {fdt.shape}" if fdt.shape else fdt.str
            out.append(f"field {name!r} is {gdt.str} at byte {goff}, expected {shown} at byte {off}")
    return out or ["field names differ"]


def _field_differences(got: np.ndarray, expected: np.ndarray) -> list[str]:
    """Field by field: which fields have another type, and whose bytes differ (same itemsize)."""
    out = []
    gf = got.dtype.fields or {}
    raw_g = np.ascontiguousarray(got).view(np.uint8).reshape(-1, got.dtype.itemsize) if got.size else None
    raw_e = (
        np.ascontiguousarray(expected).view(np.uint8).reshape(-1, expected.dtype.itemsize) if expected.size else None
    )
    for name, (fdt, off, *_) in expected.dtype.fields.items():
        span = slice(off, off + fdt.itemsize)
        if name not in gf:
            out.append(f"field {name!r} is missing")
            continue
        gdt, goff = gf[name][0], gf[name][1]
        if gdt != fdt or goff != off:
            shown = f"{fdt.base.str} {fdt.shape}" if fdt.shape else fdt.str
            out.append(f"field {name!r} is {gdt.str} at byte {goff}, expected {shown} at byte {off}")
        if raw_g is not None and raw_e is not None:
            bad = (raw_g[:, span] != raw_e[:, span]).any(axis=1)
            if bad.any():
                out.append(
                    f"field {name!r}: bytes differ in {int(bad.sum())} of {bad.size} elements "
                    f"(first at flat index {int(np.argmax(bad))})"
                )
    return out or ["field layout differs"]


def _whole_chunks(mask: np.ndarray, chunks: Sequence[int]) -> list[tuple[int, ...]]:
    out = []
    for idx in itertools.product(*[range(math.ceil(s / c)) for s, c in zip(mask.shape, chunks)]):
        sel = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
        if mask[sel].size and mask[sel].all():
            out.append(idx)
    return out


def _try_cast(a: np.ndarray, dt: np.dtype) -> np.ndarray | None:
    try:
        return a.astype(dt)
    except (TypeError, ValueError, OverflowError):
        return None


def _as_fill(v: Any, dt: np.dtype) -> np.ndarray | None:
    try:
        return np.asarray(v).astype(dt)
    except (TypeError, ValueError, OverflowError):
        return None


def _numerically_equal(a: np.ndarray, b: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        return bool(np.array_equal(a, b, equal_nan=True))


def _name(dt: np.dtype) -> str:
    return "structured" if dt.fields is not None else dt.str


def _show(x: Any) -> str:
    x = x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x
    text = repr(
        x.item() if isinstance(x, np.generic) and not isinstance(x, (np.void, np.datetime64, np.timedelta64)) else x
    )
    return text if len(text) <= 80 else text[:77] + "..."


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    return x
