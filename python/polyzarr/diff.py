"""``polyzarr diff A B``: compare two arrays (store URLs or .npy files) and say why they differ.

Three layers, each only where both sides have it:
- metadata: the .zarray fields that differ (shape, chunks, dtype, order, fill value, codecs, separator, attributes);
- the store: chunk keys that do not follow the declared separator, chunks stored on one side only (they read as
  the fill value), chunks stored under each other's keys (a chunk grid written in reversed order), the same
  chunk bytes declared in another memory order;
- values: ``diagnose`` (axis permutation, byte swap, same bytes under another dtype, wrong width, C/F layout,
  fill where values were expected, the first differing element and its chunk key).
A is taken as the expected side. Exit status 0 when the values are equal (dtype and shape included).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metadata as md
from .diagnose import Diagnosis, diagnose
from .layout import chunk_key
from .stores import Store


@dataclass
class Side:
    label: str
    values: np.ndarray
    meta: md.ArrayMetadataV2 | None = None
    attrs: dict = field(default_factory=dict)
    store: Store | None = None
    path: str = ""
    chunk_keys: list[str] = field(default_factory=list)  # stored keys of this array, relative to it

    def describe(self) -> str:
        if self.meta is None:
            return f"{self.label}: {list(self.values.shape)} {self.values.dtype.str} (.npy)"
        m = self.meta
        comp = (m.compressor or {}).get("id", "none")
        return (
            f"{self.label}: {list(m.shape)} {md.encode_dtype(m.dtype) if m.dtype.fields is None else 'structured'} "
            f"order {m.order}, chunks {list(m.chunks)}, {comp}, separator {m.dimension_separator!r}, "
            f"{len(self.chunk_keys)} chunks stored"
        )


def load_side(src: str, label: str, endpoint_url: str | None = None, bridge: Any = None) -> Side:
    """A .npy file, or the array at a store URL (read with polyzarr; the values with Julia when ``bridge``)."""
    from .arrays import open_array
    from .npy import to_npy_array
    from .stores import open_store, split_url

    if src.endswith(".npy") and Path(src).is_file():
        return Side(f"{label} {src}", np.load(src, allow_pickle=False))
    root, path = split_url(src)
    store = open_store(root, "r", endpoint_url)
    arr = open_array(store, path)
    prefix = f"{path}/" if path else ""
    keys = [k[len(prefix) :] for k in store.list(path) if not k.rsplit("/", 1)[-1].startswith(".")]
    values = bridge.read(src, endpoint_url) if bridge is not None else to_npy_array(arr.read(), arr.object_type)
    return Side(f"{label} {src}", values, arr.settled_meta(), arr.attrs, store, path, keys)


@dataclass
class DiffResult:
    equal: bool
    metadata: list[str]
    store: list[str]
    diagnosis: Diagnosis
    a: str
    b: str

    def text(self) -> str:
        lines = [self.a, self.b]
        if self.metadata:
            lines.append("metadata differs:")
            lines += [f"  {m}" for m in self.metadata]
        if self.store:
            lines.append("store:")
            lines += [f"  {s}" for s in self.store]
        lines.append(("values: " if not self.diagnosis.equal else "") + str(self.diagnosis).replace("\n", "\n  "))
        lines.append("verdict: EQUAL" if self.equal else f"verdict: DIFFERENT ({self.diagnosis.kind})")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "equal": self.equal,
            "a": self.a,
            "b": self.b,
            "metadata": self.metadata,
            "store": self.store,
            "values": self.diagnosis.to_json(),
        }


def diff(a: Side, b: Side) -> DiffResult:
    meta_notes = _metadata_differences(a, b)
    store_notes = _store_findings(a, b)
    fill = a.meta.fill_value if a.meta is not None and a.values.dtype.kind != "O" else None
    chunks = a.meta.chunks if a.meta is not None else (b.meta.chunks if b.meta is not None else None)
    order = a.meta.order if a.meta is not None else "C"
    d = diagnose(b.values, a.values, fill_value=fill, chunks=chunks, order=order)
    if not d.equal and chunks and d.data.get("first_index"):
        sep = a.meta.dimension_separator if a.meta is not None else "."
        idx = tuple(i // c for i, c in zip(d.data["first_index"], chunks))
        d.details.append(f"the first difference lies in chunk {chunk_key(idx, sep)!r}")
    return DiffResult(d.equal, meta_notes, store_notes, d, a.describe(), b.describe())


def _metadata_differences(a: Side, b: Side) -> list[str]:
    if a.meta is None or b.meta is None:
        return []
    da, db = a.meta.to_dict(), b.meta.to_dict()
    out = []
    for k in sorted(set(da) | set(db)):
        if da.get(k) != db.get(k):
            out.append(f"{k}: A {json.dumps(da.get(k))}, B {json.dumps(db.get(k))}")
    if a.attrs != b.attrs:
        out.append(f"attributes: A {json.dumps(a.attrs, sort_keys=True)}, B {json.dumps(b.attrs, sort_keys=True)}")
    return out


def _grid(meta: md.ArrayMetadataV2) -> list[tuple[int, ...]]:
    return list(itertools.product(*[range(math.ceil(s / c)) for s, c in zip(meta.shape, meta.chunks)]))


def _separator_problem(side: Side) -> str | None:
    """Stored chunk keys that do not follow the declared separator (every chunk then reads as missing)."""
    m = side.meta
    if m is None or m.ndim < 2 or not side.chunk_keys:
        return None
    expected = {chunk_key(i, m.dimension_separator) for i in _grid(m)}
    other = "/" if m.dimension_separator == "." else "."
    alt = {chunk_key(i, other) for i in _grid(m)}
    stored = set(side.chunk_keys)
    if not stored & expected and stored & alt:
        return (
            f"{side.label.split()[0]}: chunk keys use {other!r} (e.g. {sorted(stored & alt)[0]!r}) but the metadata "
            f"declares dimension_separator {m.dimension_separator!r}: every chunk reads as missing (fill)"
        )
    return None


def _chunk_hashes(side: Side) -> dict[str, str]:
    if side.store is None:
        return {}
    prefix = f"{side.path}/" if side.path else ""
    out = {}
    for k in side.chunk_keys:
        data = side.store.get(prefix + k)
        if data is not None:
            out[k] = hashlib.sha256(data).hexdigest()
    return out


def _store_findings(a: Side, b: Side) -> list[str]:
    out = [p for p in (_separator_problem(a), _separator_problem(b)) if p]
    if a.meta is None or b.meta is None or out:
        return out
    ka, kb = set(a.chunk_keys), set(b.chunk_keys)
    only_a, only_b = sorted(ka - kb), sorted(kb - ka)
    if only_a:
        out.append(
            f"chunks stored in A but not in B (B reads them as its fill value {b.meta.to_dict()['fill_value']!r}): "
            + ", ".join(only_a[:8])
            + (" …" if len(only_a) > 8 else "")
        )
    if only_b:
        out.append("chunks stored in B but not in A: " + ", ".join(only_b[:8]) + (" …" if len(only_b) > 8 else ""))
    ha, hb = _chunk_hashes(a), _chunk_hashes(b)
    if ha and hb and a.meta.chunks == b.meta.chunks:
        by_hash_a: dict[str, list[str]] = {}
        for k, h in ha.items():
            by_hash_a.setdefault(h, []).append(k)
        moved = [
            (kb_, by_hash_a[h][0])
            for kb_, h in hb.items()
            if h in by_hash_a and kb_ not in by_hash_a[h] and len(by_hash_a[h]) == 1
        ]
        if moved:
            sa, sb = a.meta.dimension_separator, b.meta.dimension_separator
            rev = all(ka_.split(sa)[::-1] == kb_.split(sb) for kb_, ka_ in moved)
            what = (
                "the chunk grid index is reversed in B's keys (a writer that forgot to reverse chunk keys)"
                if rev
                else "B stores A's chunks under other keys"
            )
            out.append(f"{what}: " + ", ".join(f"B {kb_!r} holds A's {ka_!r}" for kb_, ka_ in moved[:6]))
        same_bytes = [k for k in ha if hb.get(k) == ha[k]]
        if same_bytes and a.meta.order != b.meta.order and len(same_bytes) == len(ha):
            out.append(
                f"every chunk's stored bytes are identical but A declares order {a.meta.order!r} and B "
                f"{b.meta.order!r}: the same bytes are read in the other memory order"
            )
    return out


def run(
    a_src: str,
    b_src: str,
    as_json: bool = False,
    endpoint_url: str | None = None,
    impl: str = "python",
    bridge_factory: Any = None,
) -> int:
    """``polyzarr diff``; with ``impl="julia"`` the values are read by PolyZarr.jl (metadata and keys by polyzarr),
    through the bridge ``bridge_factory`` makes (the cli passes polyzarr.julia.get_bridge)."""
    from .errors import PolyZarrError

    bridge = None
    try:
        if impl == "julia":
            if bridge_factory is None:
                from .julia import get_bridge as bridge_factory

            bridge = bridge_factory()
        a, b = load_side(a_src, "A", endpoint_url, bridge), load_side(b_src, "B", endpoint_url, bridge)
    except PolyZarrError as e:
        print(e.describe())
        return 2
    finally:
        if bridge is not None:
            bridge.close()
    r = diff(a, b)
    print(json.dumps(r.to_json(), indent=2, default=str) if as_json else r.text())
    return 0 if r.equal else 1
