"""Zarr v2 metadata documents: ``.zarray``, ``.zgroup``, ``.zattrs``, ``.zmetadata``; fill-value encodings.

Parsing is strict and every error names the key and the JSON field at fault (``a/.zarray:chunks``).
Writing produces what zarr-python writes: ``json.dumps(indent=4, sort_keys=True, ensure_ascii=True)``.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dtypes import INT64_MAX, decode_b64, decode_fill, encode_dtype, encode_fill, parse_dtype
from .errors import DtypeError, MetadataError
from .stores import check_key

ZARRAY = ".zarray"
ZGROUP = ".zgroup"
ZATTRS = ".zattrs"
ZMETADATA = ".zmetadata"


def max_chunk_bytes() -> int:
    """Largest chunk we agree to decode (absurd chunk shapes are refused before allocating)."""
    return int(os.environ.get("POLYZARR_MAX_CHUNK_BYTES", 2**31))


def max_read_bytes() -> int:
    """Largest result we agree to allocate for one read."""
    return int(os.environ.get("POLYZARR_MAX_BYTES", 16 * 2**30))


def dumps(doc: Any) -> bytes:
    """Serialise a metadata document the way zarr-python does."""
    return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": ")).encode("ascii")


def loads(data: bytes | None, key: str) -> Any:
    """Parse JSON bytes; broken JSON → MetadataError naming the key and the position."""
    if data is None:
        raise MetadataError(key, "missing")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MetadataError(key, f"not UTF-8 at byte {e.start}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise MetadataError(key, f"invalid JSON at byte {e.pos} (line {e.lineno}, column {e.colno}): {e.msg}") from None
    except RecursionError:
        raise MetadataError(key, "invalid JSON: nested too deeply") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise MetadataError(key, f"invalid JSON: {e}") from None
    surrogates = "\\u" in text  # only a \u escape can make a lone surrogate
    if surrogates or text.count("[") + text.count("{") >= MAX_JSON_DEPTH:
        _check_tree(doc, key, surrogates)
    return doc


MAX_JSON_DEPTH = 128  # deeper documents are refused (nothing in Zarr nests so deep; printing them would recurse)


def _check_tree(doc: Any, key: str, surrogates: bool) -> None:
    """No nesting deeper than MAX_JSON_DEPTH, and (``surrogates``) no lone surrogate in any string."""
    stack = [(doc, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise MetadataError(key, f"invalid JSON: nested more than {MAX_JSON_DEPTH} deep")
            items = [*v.keys(), *v.values()] if isinstance(v, dict) else v
            stack.extend((x, depth + 1) for x in items)
        elif surrogates and isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise MetadataError(
                    key, "invalid JSON: a \\u escape is a lone surrogate (not a Unicode character)"
                ) from None


def loads_object(data: bytes | None, key: str) -> dict:
    doc = loads(data, key)
    if not isinstance(doc, dict):
        raise MetadataError(key, f"must be a JSON object, got {type(doc).__name__}")
    return doc


# ---------------------------------------------------------------------------------------------------------
# Fill values


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def chunk_fill_value(fill: Any, dt: np.dtype, object_type: type | None = None) -> Any:
    """What missing chunks read as, given the decoded fill (v2 or v3). A null fill (v2: "no fill") reads as zero
    bits, and as NaT for datetimes, as in zarr-python 3. Object arrays follow zarr-python 3's rules for v2 fills:
    a vlen-utf8 array's number fill reads as its text (zarr 2.x's default fill 0 reads "0"), a vlen-bytes
    array's string fill as base64; null, or a number for bytes (which zarr-python 3 refuses), reads as "" / b""."""
    if dt.kind == "O":
        if object_type is str:
            return "" if fill is None else fill if isinstance(fill, str) else str(fill)
        if object_type is bytes:
            if isinstance(fill, bytes):
                return fill
            if isinstance(fill, str):
                try:
                    return decode_b64(fill, "fill_value")
                except MetadataError:
                    return fill.encode()
            return b""
        return fill
    if fill is not None:
        return fill
    if dt.kind in "Mm":
        return np.array("NaT", dtype=dt)[()]
    return np.zeros((), dtype=dt)[()]


def decode_fill_value(v: Any, dt: np.dtype, where: str) -> Any:
    """v2 JSON fill value → numpy scalar of ``dt`` (or None, or a Python object for object dtype); the dtype's
    kind owns the encoding (dtypes.decode_fill)."""
    return decode_fill(v, dt, where, 2)


def encode_fill_value(v: Any, dt: np.dtype) -> Any:
    """numpy scalar (or Python value) → v2 JSON fill value, as zarr-python writes it (dtypes.encode_fill)."""
    return encode_fill(v, dt, 2)


def fill_value_rule(dt: np.dtype) -> str:
    """How a .zarray encodes a fill value of this dtype (what ``polyzarr explain`` prints)."""
    k = dt.kind
    if dt.fields is not None or k == "V":
        return f'base64 of exactly {dt.itemsize} bytes (the raw element), e.g. "{base64.b64encode(bytes(dt.itemsize)).decode()}"; or null'
    rules = {
        "b": "true or false; or null",
        "i": f"a JSON integer in {np.iinfo(dt).min}..{np.iinfo(dt).max}; or null" if k in "iu" else "",
        "f": 'a JSON number, or "NaN", "Infinity", "-Infinity"; or null',
        "c": '[real, imag], each a number or "NaN"/"Infinity"/"-Infinity"; or null',
        "M": "the int64 count of the unit since the epoch (-9223372036854775808 is NaT); or null",
        "m": "the int64 count of the unit (-9223372036854775808 is NaT); or null",
        "S": f"base64 of at most {dt.itemsize} bytes (NUL-padded to the width); or null",
        "U": f"a JSON string of at most {dt.itemsize // 4} characters; or null",
        "O": "null (missing chunks read as empty objects), or a value the object codec understands",
    }
    if k == "u":
        rules["u"] = f"a JSON integer in 0..{np.iinfo(dt).max}; or null"
    return rules[k] + ("" if k == "O" else " (null: no fill value; missing chunks read as zeros)")


def default_fill_value(dt: np.dtype) -> Any:
    """The fill value used when none is given: the dtype's zero (empty string for vlen strings is None)."""
    return None if dt.kind == "O" else np.zeros((), dtype=dt)[()]


def normalize_fill_value(v: Any, dt: np.dtype, where: str = "fill_value") -> Any:
    """A user-given fill value (Python value or JSON encoding) → the numpy scalar stored in metadata."""
    if v is None:
        return None
    if dt.kind == "O":
        return v
    if isinstance(v, (np.generic, np.ndarray)) or not isinstance(v, (str, list)):
        try:
            return np.asarray(v).astype(dt)[()]
        except (ValueError, TypeError, OverflowError) as e:
            raise MetadataError(where, f"fill value {v!r} does not convert to {dt}: {e}") from None
    if dt.kind == "S" and isinstance(v, str):
        return decode_fill_value(v, dt, where)  # base64, as in the metadata
    return decode_fill_value(v, dt, where)


# ---------------------------------------------------------------------------------------------------------
# .zarray


def _check_int_list(doc: dict, name: str, key: str, positive: bool) -> tuple[int, ...]:
    v = doc.get(name)
    where = f"{key}:{name}"
    if not isinstance(v, list) or not all(_is_int(x) for x in v):
        raise MetadataError(where, f"must be a list of integers, got {v!r}")
    low = 1 if positive else 0
    for i, x in enumerate(v):
        if x < low:
            raise MetadataError(f"{where}[{i}]", f"must be {'positive' if positive else 'non-negative'}, got {x}")
        if x > INT64_MAX:
            raise MetadataError(f"{where}[{i}]", f"{x} does not fit a 64-bit integer")
    return tuple(v)


def _check_codec(v: Any, where: str) -> dict | None:
    if v is None:
        return None
    if not isinstance(v, dict) or not isinstance(v.get("id"), str):
        raise MetadataError(where, f"a codec must be an object with a string 'id', got {v!r}")
    return v


@dataclass(frozen=True)
class ArrayMetadataV2:
    """A parsed .zarray: a value (frozen). What reading settles later (an implied separator) is the Array's state."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    compressor: dict | None = None
    filters: list[dict] | None = None
    fill_value: Any = None
    order: str = "C"
    dimension_separator: str = "."
    zarr_format: int = 2
    extra: dict = field(default_factory=dict)  # unknown fields, kept when rewriting
    # no dimension_separator in the document (zarr < 2.8, and zarr 2.x for "."): the keys may still be nested
    separator_implied: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "chunks", tuple(int(c) for c in self.chunks))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @classmethod
    def from_json(cls, data: bytes | None, key: str) -> ArrayMetadataV2:
        doc = loads_object(data, key)
        return cls.from_dict(doc, key)

    @classmethod
    def from_dict(cls, doc: dict, key: str) -> ArrayMetadataV2:
        fmt = doc.get("zarr_format")
        if fmt != 2:
            raise MetadataError(f"{key}:zarr_format", f"expected 2, got {fmt!r}")
        for name in ("shape", "chunks", "dtype", "compressor", "fill_value", "order"):
            if name not in doc:
                raise MetadataError(f"{key}:{name}", "required field is missing")
        shape = _check_int_list(doc, "shape", key, positive=False)
        chunks = _check_int_list(doc, "chunks", key, positive=True)
        if len(chunks) != len(shape):
            raise MetadataError(f"{key}:chunks", f"has {len(chunks)} dimensions, shape has {len(shape)}")
        try:
            dt = parse_dtype(doc["dtype"], f"{key}:dtype")
        except DtypeError:
            raise
        if math.prod(shape) > INT64_MAX:
            raise MetadataError(f"{key}:shape", f"{list(shape)} has more than 2^63-1 elements")
        chunk_bytes = math.prod(chunks) * max(dt.itemsize, 1)
        if chunk_bytes > max_chunk_bytes():
            raise MetadataError(
                f"{key}:chunks",
                f"a chunk of {list(chunks)} × {dt.itemsize} bytes = {chunk_bytes} bytes exceeds the limit of {max_chunk_bytes()} (POLYZARR_MAX_CHUNK_BYTES)",
            )
        order = doc["order"]
        if order not in ("C", "F"):
            raise MetadataError(f"{key}:order", f"must be 'C' or 'F', got {order!r}")
        sep = doc.get("dimension_separator", ".")
        if sep is None:
            sep = "."
        if sep not in (".", "/"):
            raise MetadataError(f"{key}:dimension_separator", f"must be '.' or '/', got {sep!r}")
        compressor = _check_codec(doc["compressor"], f"{key}:compressor")
        filters = doc.get("filters")
        if filters is not None:
            if not isinstance(filters, list):
                raise MetadataError(f"{key}:filters", f"must be a list or null, got {filters!r}")
            filters = [_check_codec(f, f"{key}:filters[{i}]") for i, f in enumerate(filters)] or None
        if dt.kind == "O" and not filters:
            raise MetadataError(
                f"{key}:filters",
                "object dtype '|O' needs an object codec (vlen-utf8, vlen-bytes, json2, ...) in filters",
            )
        fill = decode_fill_value(doc["fill_value"], dt, f"{key}:fill_value")
        known = {
            "zarr_format",
            "shape",
            "chunks",
            "dtype",
            "compressor",
            "fill_value",
            "order",
            "filters",
            "dimension_separator",
        }
        extra = {k: v for k, v in doc.items() if k not in known}
        return cls(
            shape,
            chunks,
            dt,
            compressor,
            filters,
            fill,
            order,
            sep,
            2,
            extra,
            separator_implied=doc.get("dimension_separator") is None,
        )

    def to_dict(self) -> dict:
        doc = {
            "zarr_format": 2,
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": encode_dtype(self.dtype),
            "compressor": self.compressor,
            "fill_value": encode_fill_value(self.fill_value, self.dtype),
            "order": self.order,
            "filters": self.filters,
            "dimension_separator": self.dimension_separator,
        }
        doc.update(self.extra)
        return doc

    def to_json(self) -> bytes:
        return dumps(self.to_dict())


def group_metadata_json() -> bytes:
    return dumps({"zarr_format": 2})


def check_group(data: bytes | None, key: str) -> dict:
    doc = loads_object(data, key)
    if doc.get("zarr_format") != 2:
        raise MetadataError(f"{key}:zarr_format", f"expected 2, got {doc.get('zarr_format')!r}")
    return doc


def parse_attrs(data: bytes | None, key: str) -> dict:
    if data is None:
        return {}
    return loads_object(data, key)


def parse_consolidated(data: bytes, key: str) -> dict[str, Any]:
    """``.zmetadata`` → {relative key: parsed JSON document}."""
    doc = loads_object(data, key)
    if doc.get("zarr_consolidated_format") != 1:
        raise MetadataError(
            f"{key}:zarr_consolidated_format", f"expected 1, got {doc.get('zarr_consolidated_format')!r}"
        )
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        raise MetadataError(f"{key}:metadata", "must be an object of key → metadata document")
    for k in meta:  # keys become store keys: one that leaves the store poisons the whole document
        check_key(k)
    return meta


def consolidated_json(meta: dict[str, Any]) -> bytes:
    return dumps({"metadata": meta, "zarr_consolidated_format": 1})
