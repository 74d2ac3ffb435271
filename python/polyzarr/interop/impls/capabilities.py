"""The declared capability table of an implementation, and the features of a case it is checked against.

A case has features (``features``): its format (2 | 3), its data type (one token per kind, ``dtype_token``), the
codecs it uses (v2 compressor and filter ids, v3 codec names, sharding's inner codecs included) and flags
(``order_F``, ``big_endian``, ``0d``, ``fill_null``, ``chunk_key_v2``, ``struct_nested``...). An implementation
declares, for writing and for reading, what it supports (``Support``: formats, data types, codecs, stores; None =
any) and the exceptions (``Limit``: a reason and the features it applies to). ``Capabilities.check`` says why a
cell is outside the table (the cell is then *unsupported*: shown with the reason, never run as a failure), or
None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cases import Case

FLAGS = (
    "order_F",  # v2 order "F"
    "big_endian",  # some field stored big-endian (v2 typestring, v3 bytes codec endian "big")
    "0d",  # a 0-dimensional array
    "fill_null",  # fill_value null
    "fill_nan",  # a NaN / infinity fill
    "chunk_key_v2",  # v3 with the "v2" chunk key encoding
    "sep_slash",  # v2 dimension_separator "/"
    "struct_nested",  # a structured dtype with a nested struct or a sub-array field
    "sharded",  # v3 sharding_indexed
    "rectilinear",  # v3 rectilinear chunk grid (zarr-extensions; zarr-python 3.4)
)


def dtype_token(case: Case) -> str:
    """One name per data type kind: the v3 name where there is one (``int16``, ``string``, ``raw_bits``...)."""
    if case.zarr_format == 3:
        dt = case.v3_data_type
        name = dt if isinstance(dt, str) else dt["name"]
        if isinstance(name, str) and name.startswith("r") and name[1:].isdigit():
            return "raw_bits"
        return {"bytes": "variable_length_bytes", "structured": "struct", "numpy.datetime64": "datetime64"}.get(
            name, {"numpy.timedelta64": "timedelta64"}.get(name, name)
        )
    d = case.np_dtype
    if d.kind == "O":
        return {"vlen-utf8": "string", "vlen-bytes": "variable_length_bytes"}.get(case.object_codec or "", "object")
    if d.fields is not None:
        return "struct"
    return {
        "b": "bool",
        "M": "datetime64",
        "m": "timedelta64",
        "U": "fixed_length_utf32",
        "S": "null_terminated_bytes",
        "V": "raw_bytes",
    }.get(d.kind) or d.newbyteorder("=").name


def codec_names(case: Case) -> set[str]:
    """v2: the compressor id and the filter ids; v3: every codec name, sharding's inner and index codecs too."""
    if case.zarr_format == 2:
        out = {f["id"] for f in case.filters}
        if case.compressor is not None:
            out.add(case.compressor["id"])
        return out

    def walk(codecs: Iterable[dict] | None) -> set[str]:
        names: set[str] = set()
        for c in codecs or ():
            names.add(c["name"])
            if c["name"] == "sharding_indexed":
                cfg = c.get("configuration") or {}
                names |= walk(cfg.get("codecs")) | walk(cfg.get("index_codecs"))
        return names

    return walk(case.codecs)


def _big_endian(case: Case) -> bool:
    if case.zarr_format == 3:
        return '"big"' in repr(case.codecs).replace("'", '"')

    def big(d: np.dtype) -> bool:
        if d.fields is not None:
            return any(big(d.fields[n][0]) for n in d.names or ())
        if d.subdtype is not None:
            return big(d.subdtype[0])
        return d.byteorder == ">"

    return big(case.np_dtype)


def _nested(d: np.dtype) -> bool:
    return d.fields is not None and any(
        d.fields[n][0].fields is not None or d.fields[n][0].subdtype is not None for n in d.names or ()
    )


def features(case: Case) -> dict[str, Any]:
    flags = set()
    if case.zarr_format == 2 and case.order == "F":
        flags.add("order_F")
    if _big_endian(case):
        flags.add("big_endian")
    if len(case.shape) == 0:
        flags.add("0d")
    if case.fill_json is None:
        flags.add("fill_null")
    if isinstance(case.fill_json, str) and case.fill_json in ("NaN", "Infinity", "-Infinity"):
        flags.add("fill_nan")
    if isinstance(case.fill_json, str) and case.fill_json.startswith("0x") and case.np_dtype.kind == "f":
        flags.add("fill_nan")
    if case.zarr_format == 3 and (case.chunk_key_encoding or {}).get("name") == "v2":
        flags.add("chunk_key_v2")
    if case.zarr_format == 2 and case.dimension_separator == "/":
        flags.add("sep_slash")
    if case.np_dtype.kind == "V" and _nested(case.np_dtype):
        flags.add("struct_nested")
    if case.rectilinear:
        flags.add("rectilinear")
    names = codec_names(case)
    if "sharding_indexed" in names:
        flags.add("sharded")
    return {"format": case.zarr_format, "dtype": dtype_token(case), "codecs": names, "flags": flags}


@dataclass(frozen=True)
class Support:
    """What an implementation does for one direction (write or read); None = no restriction."""

    formats: frozenset[int] = frozenset({2, 3})
    dtypes: frozenset[str] | None = None
    codecs: frozenset[str] | None = None
    stores: frozenset[str] | None = None
    flags: frozenset[str] | None = None  # the flags it handles (None: all)

    def why_not(self, f: dict, store: str, what: str) -> str | None:
        if f["format"] not in self.formats:
            return f"{what} no Zarr v{f['format']}"
        if self.stores is not None and store not in self.stores:
            return f"{what} no {store} store"
        if self.dtypes is not None and f["dtype"] not in self.dtypes:
            return f"{what} no data type {f['dtype']}"
        if self.codecs is not None and f["codecs"] - self.codecs:
            return f"{what} no codec {', '.join(sorted(f['codecs'] - self.codecs))}"
        if self.flags is not None and f["flags"] - self.flags:
            return f"{what} no {', '.join(sorted(f['flags'] - self.flags))}"
        return None


@dataclass(frozen=True)
class Limit:
    """An exception to the table: ``reason`` applies to ``op`` ("write" | "read" | "both") when every given
    condition holds (format, any of the data types, any of the codecs, every flag)."""

    reason: str
    op: str = "both"
    format: int | None = None
    dtypes: frozenset[str] | None = None
    codecs: frozenset[str] | None = None
    flags: frozenset[str] = frozenset()

    def applies(self, f: dict, op: str) -> bool:
        return (
            self.op in ("both", op)
            and (self.format is None or f["format"] == self.format)
            and (self.dtypes is None or f["dtype"] in self.dtypes)
            and (self.codecs is None or bool(f["codecs"] & self.codecs))
            and self.flags <= f["flags"]
        )


@dataclass(frozen=True)
class Capabilities:
    write: Support | None  # None: not a writer
    read: Support
    limits: tuple[Limit, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def check(self, case: Case, op: str, store: str) -> str | None:
        """Why ``op`` on ``case`` in ``store`` is outside the declared table, or None when it is declared."""
        sup = self.write if op == "write" else self.read
        if sup is None:
            return "does not write"
        f = features(case)
        why = sup.why_not(f, store, "writes" if op == "write" else "reads")
        if why:
            return why
        for lim in self.limits:
            if lim.applies(f, op):
                return lim.reason
        return None

    def hard(self, case: Case, op: str, store: str) -> bool:
        """Whether ``op`` is outside the table for a reason the adapter cannot even try (not a writer, another
        format, another store): such cells are never probed."""
        sup = self.write if op == "write" else self.read
        if sup is None:
            return True
        return case.zarr_format not in sup.formats or (sup.stores is not None and store not in sup.stores)

    def to_json(self) -> dict:
        def sup(s: Support | None) -> Any:
            if s is None:
                return None
            return {
                k: (sorted(v) if v is not None else "any")
                for k, v in (
                    ("formats", s.formats),
                    ("dtypes", s.dtypes),
                    ("codecs", s.codecs),
                    ("stores", s.stores),
                    ("flags", s.flags),
                )
            }

        return {
            "write": sup(self.write),
            "read": sup(self.read),
            "limits": [
                {
                    "reason": lim.reason,
                    "op": lim.op,
                    **({"format": lim.format} if lim.format else {}),
                    **({"dtypes": sorted(lim.dtypes)} if lim.dtypes else {}),
                    **({"codecs": sorted(lim.codecs)} if lim.codecs else {}),
                    **({"flags": sorted(lim.flags)} if lim.flags else {}),
                }
                for lim in self.limits
            ],
            "notes": list(self.notes),
        }


def fs(*xs: Any) -> frozenset:
    return frozenset(xs)


# Every capability the three own implementations have: any format, data type, codec, store.
EVERYTHING = Capabilities(write=Support(), read=Support())
