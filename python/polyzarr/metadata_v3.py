"""Zarr v3 documents (``zarr.json``) and their fill-value encodings (docs/V3.md).

With ``dtypes`` (the v3 data type names) this is the only place that knows v3's spellings. Parsing is strict and
every error names the key and the JSON path at fault (``a/zarr.json:codecs[1]``). Writing follows zarr-python 3.1:
its key order, ``indent=2``.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codecs import registry
from .dtypes import encode_v3_dtype, parse_v3_dtype, v3_byte_order
from .errors import DtypeError, MetadataError
from .metadata import INT64_MAX, decode_b64, loads_object, max_chunk_bytes
from .metadata import decode_fill_value as v2_decode_fill_value
from .stores import check_key

ZARR_JSON = "zarr.json"
ARRAY_KEYS = (
    "shape",
    "data_type",
    "chunk_grid",
    "chunk_key_encoding",
    "fill_value",
    "codecs",
    "attributes",
    "dimension_names",
    "zarr_format",
    "node_type",
    "storage_transformers",
)


def dumps(doc: Any) -> bytes:
    """As zarr-python 3 writes zarr.json: indent 2, non-ASCII escaped."""
    return json.dumps(doc, indent=2, allow_nan=False).encode("ascii")


# ---------------------------------------------------------------------------------------------------------
# Chunk keys


@dataclass(frozen=True)
class ChunkKeyEncoding:
    name: str = "default"  # "default" → c/0/1 ; "v2" → 0.1
    separator: str = "/"

    def key(self, index: tuple[int, ...]) -> str:
        parts = [str(i) for i in index]
        if self.name == "default":
            return self.separator.join(["c", *parts])
        return self.separator.join(parts) if parts else "0"

    def to_json(self) -> dict:
        return {"name": self.name, "configuration": {"separator": self.separator}}

    @classmethod
    def from_json(cls, v: Any, where: str) -> ChunkKeyEncoding:
        if not isinstance(v, dict) or v.get("name") not in ("default", "v2"):
            raise MetadataError(where, f'must be {{"name": "default"|"v2", ...}}, got {v!r}')
        cfg = v.get("configuration", {}) or {}
        if not isinstance(cfg, dict):
            raise MetadataError(f"{where}.configuration", f"must be an object, got {cfg!r}")
        sep = cfg.get("separator", "/" if v["name"] == "default" else ".")
        if sep not in ("/", "."):
            raise MetadataError(f"{where}.configuration.separator", f"must be '/' or '.', got {sep!r}")
        return cls(v["name"], sep)


# ---------------------------------------------------------------------------------------------------------
# Fill values

_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_UINT_FOR_FLOAT = {2: "<u2", 4: "<u4", 8: "<u8"}


def _float(v: Any, dt: np.dtype, where: str) -> np.generic:
    """A v3 float fill: number, NaN/Infinity words, or "0x…" with the IEEE bits (kept bit-exact)."""
    if isinstance(v, str):
        if v in _WORDS:
            return dt.type(_WORDS[v])
        if v.startswith("0x"):
            digits = v[2:]
            if len(digits) != 2 * dt.itemsize or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise MetadataError(where, f"hex fill value {v!r} must have {2 * dt.itemsize} hex digits for {dt.str}")
            bits = np.array(int(digits, 16), dtype=_UINT_FOR_FLOAT[dt.itemsize])
            return bits.view(dt.newbyteorder("<"))[()].astype(dt)  # type: ignore[no-any-return,return-value]
        raise MetadataError(
            where, f"float fill value must be a number, 'NaN', 'Infinity', '-Infinity' or '0x…', got {v!r}"
        )
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return dt.type(v)
    raise MetadataError(where, f"float fill value must be a number, got {v!r}")


def decode_fill_value(v: Any, dt: np.dtype, data_type: Any, where: str) -> Any:
    """v3 JSON fill value → numpy scalar of ``dt`` (a Python str/bytes for vlen types)."""
    if v is None:
        raise MetadataError(where, "v3 fill_value cannot be null")
    k = dt.kind
    if k == "O":
        if data_type == "string":
            if not isinstance(v, str):
                raise MetadataError(where, f"a string array's fill value must be a string, got {v!r}")
            return v
        return decode_b64(v, where)
    if isinstance(data_type, str) and data_type.startswith("r") and data_type[1:].isdigit():
        if not isinstance(v, list) or len(v) != dt.itemsize or not all(isinstance(b, int) and 0 <= b <= 255 for b in v):
            raise MetadataError(where, f"{data_type} fill value must be a list of {dt.itemsize} byte values, got {v!r}")
        return np.frombuffer(bytes(v), dtype=dt)[0]
    if dt.fields is not None or k == "V":
        raw = decode_b64(v, where)
        if len(raw) != dt.itemsize:
            raise MetadataError(where, f"fill value has {len(raw)} bytes, the data type needs {dt.itemsize}")
        return np.frombuffer(raw, dtype=dt)[0]
    if k == "b":
        if isinstance(v, bool):
            return np.bool_(v)
        raise MetadataError(where, f"bool fill value must be true or false, got {v!r}")
    if k in "iu":
        if not isinstance(v, int) or isinstance(v, bool):
            raise MetadataError(where, f"integer fill value must be an integer, got {v!r}")
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            raise MetadataError(where, f"fill value {v} does not fit {dt.str} ({info.min}..{info.max})")
        return dt.type(v)
    if k == "f":
        return _float(v, dt, where)
    if k == "c":
        if not isinstance(v, list) or len(v) != 2:
            raise MetadataError(where, f"complex fill value must be [real, imag], got {v!r}")
        part = np.dtype(f"{dt.byteorder if dt.byteorder in '<>' else '<'}f{dt.itemsize // 2}")
        re_, im = _float(v[0], part, where), _float(v[1], part, where)
        out = np.zeros((), dtype=dt)
        out.real, out.imag = re_, im  # keeps NaN bits and signed zeros
        return out[()]
    if k in "MmSU":  # the same encodings as v2: integer or "NaT", base64, string
        return v2_decode_fill_value(v, dt, where)
    raise MetadataError(where, f"no fill value encoding for {dt.str}")  # pragma: no cover


def _encode_float(x: np.generic) -> Any:
    """NaN with a payload other than the default quiet NaN is written as its bits ("0x7fc00001"), so it survives."""
    a = np.asarray(x)
    if math.isnan(float(a)):
        little = a.dtype.newbyteorder("<")
        bits = int(a.astype(little).view(_UINT_FOR_FLOAT[a.dtype.itemsize]))
        quiet = int(np.array(np.nan, little).view(_UINT_FOR_FLOAT[a.dtype.itemsize]))
        return "NaN" if bits == quiet else f"0x{bits:0{2 * a.dtype.itemsize}x}"
    if math.isinf(float(a)):
        return "Infinity" if float(a) > 0 else "-Infinity"
    return float(a)


def encode_fill_value(v: Any, dt: np.dtype, data_type: Any) -> Any:
    k = dt.kind
    if k == "O":
        return v if data_type == "string" else base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(data_type, str) and data_type.startswith("r") and data_type[1:].isdigit():
        return list(np.asarray(v, dtype=dt).tobytes())
    if dt.fields is not None or k == "V":
        return base64.b64encode(np.asarray(v, dtype=dt).tobytes()).decode("ascii")
    if k == "b":
        return bool(v)
    if k in "iu":
        return int(v)
    if k == "f":
        return _encode_float(np.asarray(v, dtype=dt)[()])
    if k == "c":
        c = np.asarray(v, dtype=dt)[()]
        return [_encode_float(c.real), _encode_float(c.imag)]
    if k in "Mm":
        return int(np.asarray(v, dtype=dt).astype(dt.newbyteorder("<")).view("<i8"))
    if k == "S":
        return base64.b64encode(bytes(np.asarray(v, dtype=dt)[()])).decode("ascii")
    if k == "U":
        return str(np.asarray(v, dtype=dt)[()])
    raise MetadataError("fill_value", f"no fill value encoding for {dt.str}")  # pragma: no cover


def default_fill_value(dt: np.dtype, data_type: Any) -> Any:
    """zarr-python 3.1's defaults: zero / false / "", NaT for datetime64 and timedelta64."""
    if dt.kind == "O":
        return "" if data_type == "string" else b""
    if dt.kind in "Mm":
        return dt.type("NaT")
    return np.zeros((), dtype=dt)[()]


# ---------------------------------------------------------------------------------------------------------
# Codec lists


def _codec_name(c: Any, where: str) -> str:
    if not isinstance(c, dict) or not isinstance(c.get("name"), str):
        raise MetadataError(where, f"a codec is an object with a string 'name', got {c!r}")
    cfg = c.get("configuration", {})
    if cfg is not None and not isinstance(cfg, dict):
        raise MetadataError(f"{where}.configuration", f"must be an object, got {cfg!r}")
    return c["name"]


def check_codec_chain(codecs: Any, where: str) -> list[dict]:
    """The order rule: array→array codecs, exactly one array→bytes codec, then bytes→bytes codecs. Unknown codecs
    with ``must_understand: false`` are dropped here; other unknown ones are left for the codec registry."""
    if not isinstance(codecs, list) or not codecs:
        raise MetadataError(where, f"must be a non-empty list of codecs, got {codecs!r}")
    out, stage = [], 0  # 0: array→array, 1: after the array→bytes codec
    for i, c in enumerate(codecs):
        w = f"{where}[{i}]"
        name = _codec_name(c, w)
        kind = registry.v3_kind(name)
        if kind is None and c.get("must_understand") is False:
            continue  # an optional extension we do not know: the spec lets us skip it
        if kind == registry.ARRAY_ARRAY:
            if stage:
                raise MetadataError(w, f"array→array codec {name!r} after the array→bytes codec")
        elif kind == registry.ARRAY_BYTES:
            if stage:
                raise MetadataError(w, f"a second array→bytes codec {name!r} (only one is allowed)")
            stage = 1
        elif kind == registry.BYTES_BYTES and not stage:
            raise MetadataError(w, f"bytes→bytes codec {name!r} before the array→bytes codec")
        out.append(c)
    if not stage and all(registry.v3_kind(_codec_name(c, where)) is not None for c in out):
        *first, last = registry.v3_names(registry.ARRAY_BYTES)
        raise MetadataError(where, f"no array→bytes codec ({', '.join(first)} or {last})")
    return out


def byte_order_of(codecs: list[dict]) -> str:
    """The endian of the array→bytes step (inside sharding: its inner codecs'), little by default."""
    for c in codecs:
        if c.get("name") == "bytes":
            return (c.get("configuration") or {}).get("endian", "little")
        if c.get("name") == "sharding_indexed":
            return byte_order_of((c.get("configuration") or {}).get("codecs") or [])
    return "little"


# ---------------------------------------------------------------------------------------------------------
# Documents


def _int_list(v: Any, where: str, positive: bool) -> tuple[int, ...]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise MetadataError(where, f"must be a list of integers, got {v!r}")
    for i, x in enumerate(v):
        if x < (1 if positive else 0):
            raise MetadataError(f"{where}[{i}]", f"must be {'positive' if positive else 'non-negative'}, got {x}")
        if x > INT64_MAX:
            raise MetadataError(f"{where}[{i}]", f"{x} does not fit a 64-bit integer")
    return tuple(v)


def _unknown_fields(doc: dict, known: tuple[str, ...], key: str) -> dict:
    extra = {}
    for k, v in doc.items():
        if k in known:
            continue
        if isinstance(v, dict) and v.get("must_understand") is False:
            extra[k] = v
            continue
        raise MetadataError(
            f"{key}:{k}", 'unknown field (an extension must say "must_understand": false to be ignored)'
        )
    return extra


@dataclass
class ArrayMetadataV3:
    shape: tuple[int, ...]
    data_type: Any  # the JSON value
    dtype: np.dtype  # numpy, in the bytes codec's byte order
    chunks: tuple[int, ...]  # the chunk grid's chunk shape (the shard shape when sharded)
    chunk_key_encoding: ChunkKeyEncoding
    fill_value: Any
    codecs: list[dict]
    attributes: dict = field(default_factory=dict)
    dimension_names: list | None = None
    extra: dict = field(default_factory=dict)
    zarr_format: int = 3
    order: str = "C"  # v3 arrays are in logical C order; transposes are codecs

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def object_type(self) -> type | None:
        return (
            {"string": str, "variable_length_bytes": bytes, "bytes": bytes}.get(self.data_type)
            if isinstance(self.data_type, str)
            else None
        )

    def chunk_key(self, index: tuple[int, ...]) -> str:
        return self.chunk_key_encoding.key(tuple(index))

    @classmethod
    def from_json(cls, data: bytes | None, key: str) -> ArrayMetadataV3:
        return cls.from_dict(loads_object(data, key), key)

    @classmethod
    def from_dict(cls, doc: dict, key: str) -> ArrayMetadataV3:
        if doc.get("zarr_format") != 3:
            raise MetadataError(f"{key}:zarr_format", f"expected 3, got {doc.get('zarr_format')!r}")
        if doc.get("node_type") != "array":
            raise MetadataError(f"{key}:node_type", f"expected 'array', got {doc.get('node_type')!r}")
        for name in ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs"):
            if name not in doc:
                raise MetadataError(f"{key}:{name}", "required field is missing")
        extra = _unknown_fields(doc, ARRAY_KEYS + ("consolidated_metadata",), key)
        shape = _int_list(doc["shape"], f"{key}:shape", positive=False)
        grid = doc["chunk_grid"]
        if not isinstance(grid, dict) or grid.get("name") != "regular":
            raise MetadataError(f"{key}:chunk_grid", f"only the regular chunk grid is supported, got {grid!r}")
        chunks = _int_list(
            (grid.get("configuration") or {}).get("chunk_shape"), f"{key}:chunk_grid.configuration.chunk_shape", True
        )
        if len(chunks) != len(shape):
            raise MetadataError(
                f"{key}:chunk_grid", f"chunk_shape has {len(chunks)} dimensions, shape has {len(shape)}"
            )
        if math.prod(shape) > INT64_MAX:
            raise MetadataError(f"{key}:shape", f"{list(shape)} has more than 2^63-1 elements")
        codecs = check_codec_chain(doc["codecs"], f"{key}:codecs")
        try:
            dt = parse_v3_dtype(doc["data_type"], byte_order_of(codecs), f"{key}:data_type")
        except DtypeError:
            raise
        nbytes = math.prod(chunks) * max(dt.itemsize, 1)
        if nbytes > max_chunk_bytes():
            raise MetadataError(
                f"{key}:chunk_grid",
                f"a chunk of {list(chunks)} × {dt.itemsize} bytes = {nbytes} bytes exceeds "
                f"the limit of {max_chunk_bytes()} (POLYZARR_MAX_CHUNK_BYTES)",
            )
        cke = ChunkKeyEncoding.from_json(doc["chunk_key_encoding"], f"{key}:chunk_key_encoding")
        fill = decode_fill_value(doc["fill_value"], dt, doc["data_type"], f"{key}:fill_value")
        attrs = doc.get("attributes", {})
        if not isinstance(attrs, dict):
            raise MetadataError(f"{key}:attributes", f"must be an object, got {attrs!r}")
        names = doc.get("dimension_names")
        if names is not None:
            if (
                not isinstance(names, list)
                or len(names) != len(shape)
                or not all(n is None or isinstance(n, str) for n in names)
            ):
                raise MetadataError(
                    f"{key}:dimension_names", f"must be a list of {len(shape)} strings or nulls, got {names!r}"
                )
        st = doc.get("storage_transformers", [])
        if st not in ([], None):
            raise MetadataError(f"{key}:storage_transformers", f"storage transformers are not supported, got {st!r}")
        return cls(shape, doc["data_type"], dt, chunks, cke, fill, codecs, attrs, names, extra)

    def to_dict(self) -> dict:
        doc: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": self.data_type,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.chunks)}},
            "chunk_key_encoding": self.chunk_key_encoding.to_json(),
            "fill_value": encode_fill_value(self.fill_value, self.dtype, self.data_type),
            "codecs": self.codecs,
            "attributes": self.attributes,
        }
        if self.dimension_names is not None:
            doc["dimension_names"] = list(self.dimension_names)
        doc.update({"zarr_format": 3, "node_type": "array", "storage_transformers": []})
        doc.update(self.extra)
        return doc

    def to_json(self) -> bytes:
        return dumps(self.to_dict())


def group_doc(attributes: dict | None = None, consolidated: dict | None = None) -> dict:
    doc: dict[str, Any] = {"attributes": attributes or {}, "zarr_format": 3}
    if consolidated is not None:
        doc["consolidated_metadata"] = {"kind": "inline", "must_understand": False, "metadata": consolidated}
    doc["node_type"] = "group"
    return doc


def parse_node(data: bytes | None, key: str) -> dict:
    """A zarr.json document, checked for its format and node type (arrays are parsed by ArrayMetadataV3)."""
    doc = loads_object(data, key)
    if doc.get("zarr_format") != 3:
        raise MetadataError(f"{key}:zarr_format", f"expected 3, got {doc.get('zarr_format')!r}")
    if doc.get("node_type") not in ("array", "group"):
        raise MetadataError(f"{key}:node_type", f"must be 'array' or 'group', got {doc.get('node_type')!r}")
    if doc["node_type"] == "group":
        _unknown_fields(doc, ("zarr_format", "node_type", "attributes", "consolidated_metadata"), key)
        if not isinstance(doc.get("attributes", {}), dict):
            raise MetadataError(f"{key}:attributes", "must be an object")
    return doc


def consolidated_of(doc: dict, key: str) -> dict | None:
    """A group's inline consolidated metadata: {relative path: zarr.json document}, keys checked."""
    cm = doc.get("consolidated_metadata")
    if cm is None:
        return None
    if not isinstance(cm, dict) or cm.get("kind") != "inline" or not isinstance(cm.get("metadata"), dict):
        raise MetadataError(
            f"{key}:consolidated_metadata", f'must be {{"kind": "inline", "metadata": {{...}}}}, got {cm!r}'
        )
    for k, v in cm["metadata"].items():
        check_key(k)
        if not isinstance(v, dict):
            raise MetadataError(f"{key}:consolidated_metadata.metadata.{k}", "must be a zarr.json document (an object)")
    return cm["metadata"]


def crc32c_of(data: bytes) -> int:
    """CRC32C (Castagnoli), for tests and the shard index."""
    import numcodecs

    enc = bytes(numcodecs.CRC32C().encode(bytes(data)))
    return struct.unpack("<I", enc[-4:])[0]


__all__ = [
    "ZARR_JSON",
    "ArrayMetadataV3",
    "ChunkKeyEncoding",
    "byte_order_of",
    "check_codec_chain",
    "consolidated_of",
    "decode_fill_value",
    "default_fill_value",
    "encode_fill_value",
    "encode_v3_dtype",
    "group_doc",
    "parse_node",
    "v3_byte_order",
]
