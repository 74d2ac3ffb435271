"""Zarr v3 documents (``zarr.json``) and their fill-value encodings (docs/V3.md).

With ``dtypes`` (the v3 data type names) this is the only place that knows v3's spellings. Parsing is strict and
every error names the key and the JSON path at fault (``a/zarr.json:codecs[1]``). Writing follows zarr-python 3.1:
its key order, ``indent=2``.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codecs import registry
from .dtypes import decode_fill, encode_fill, encode_v3_dtype, parse_v3_dtype, v3_byte_order
from .errors import DtypeError, MetadataError
from .layout import AxisChunks
from .metadata import INT64_MAX, loads_object, max_chunk_bytes
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


def decode_fill_value(v: Any, dt: np.dtype, data_type: Any, where: str) -> Any:
    """v3 JSON fill value → numpy scalar of ``dt`` (a Python str/bytes for vlen types); the dtype's kind owns the
    encoding (dtypes.decode_fill)."""
    return decode_fill(v, dt, where, 3, data_type)


def encode_fill_value(v: Any, dt: np.dtype, data_type: Any) -> Any:
    return encode_fill(v, dt, 3, data_type)


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
    for c in codecs if isinstance(codecs, list) else []:
        if not isinstance(c, dict):
            continue
        cfg = c.get("configuration") if isinstance(c.get("configuration"), dict) else {}
        if c.get("name") == "bytes":
            return cfg.get("endian", "little")
        if c.get("name") == "sharding_indexed":
            return byte_order_of(cfg.get("codecs") or [])
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


@dataclass(frozen=True)
class ArrayMetadataV3:
    """A parsed zarr.json array document: a value (frozen)."""

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
    # a rectilinear chunk grid: per axis its chunk size (int) or its chunk edge lengths; None for the regular grid
    # (then ``chunks`` is the chunk shape; for a rectilinear grid ``chunks`` is the largest chunk per axis)
    grid: tuple[AxisChunks, ...] | None = None

    @property
    def grid_chunks(self) -> tuple[AxisChunks, ...]:
        """Per axis a chunk size or the chunk edge lengths (what layout.chunk_parts takes)."""
        return self.grid if self.grid is not None else self.chunks

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
        chunks, edges = parse_chunk_grid(doc["chunk_grid"], shape, f"{key}:chunk_grid")
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
        return cls(shape, doc["data_type"], dt, chunks, cke, fill, codecs, attrs, names, extra, grid=edges)

    def to_dict(self) -> dict:
        doc: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": self.data_type,
            "chunk_grid": chunk_grid_json(self.chunks, self.grid),
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


RECTILINEAR_KINDS = ("inline",)
MAX_SPARE_EDGES = 2**16  # chunk edges allowed beyond an axis's extent (room to grow; no more)


def _edge(v: Any, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise MetadataError(where, f"a chunk edge length must be a positive integer, got {v!r}")
    if v > INT64_MAX:
        raise MetadataError(where, f"{v} does not fit a 64-bit integer")
    return v


def parse_chunk_grid(grid: Any, shape: tuple[int, ...], where: str) -> tuple[tuple[int, ...], tuple | None]:
    """``chunk_grid`` → (largest chunk per axis, None for the regular grid or the per-axis chunks of a rectilinear
    one: an int repeats along its axis, a tuple lists the edge lengths, ``[size, count]`` runs expanded; the
    zarr-extensions rectilinear grid, as zarr-python 3.4 writes it). Edges must cover the extent."""
    name = grid.get("name") if isinstance(grid, dict) else None
    cfg = grid.get("configuration") if isinstance(grid, dict) else None
    if name not in ("regular", "rectilinear"):
        raise MetadataError(where, f"the chunk grid must be regular or rectilinear, got {grid!r}")
    if not isinstance(cfg, dict):
        raise MetadataError(f"{where}.configuration", f"must be an object, got {cfg!r}")
    if name == "regular":
        chunks = _int_list(cfg.get("chunk_shape"), f"{where}.configuration.chunk_shape", True)
        if len(chunks) != len(shape):
            raise MetadataError(where, f"chunk_shape has {len(chunks)} dimensions, shape has {len(shape)}")
        return chunks, None
    if cfg.get("kind") not in RECTILINEAR_KINDS:
        raise MetadataError(
            f"{where}.configuration.kind", f"unknown rectilinear kind {cfg.get('kind')!r} (only 'inline')"
        )
    axes = cfg.get("chunk_shapes")
    w = f"{where}.configuration.chunk_shapes"
    if not isinstance(axes, list) or len(axes) != len(shape):
        raise MetadataError(w, f"must be a list of {len(shape)} axes (one per dimension), got {axes!r}")
    out: list[AxisChunks] = []
    for i, (axis, extent) in enumerate(zip(axes, shape)):
        if not isinstance(axis, list):
            out.append(_edge(axis, f"{w}[{i}]"))
            continue
        if not axis:
            raise MetadataError(f"{w}[{i}]", "an axis needs at least one chunk edge length")
        edges: list[int] = []
        most = max(extent, 1) + MAX_SPARE_EDGES  # each edge is at least 1: more could never hold data
        for j, e in enumerate(axis):
            if isinstance(e, list):
                if len(e) != 2:
                    raise MetadataError(f"{w}[{i}][{j}]", f"a run is [size, count], got {e!r}")
                size, count = _edge(e[0], f"{w}[{i}][{j}][0]"), _edge(e[1], f"{w}[{i}][{j}][1]")
                if len(edges) + count > most:  # checked before the run is expanded
                    raise MetadataError(f"{w}[{i}][{j}][1]", f"more than {most} chunk edges for an axis of {extent}")
                edges.extend([size] * count)
            else:
                edges.append(_edge(e, f"{w}[{i}][{j}]"))
            if len(edges) > most:
                raise MetadataError(f"{w}[{i}]", f"more than {most} chunk edges for an axis of {extent}")
        if sum(edges) < extent:
            raise MetadataError(
                f"{w}[{i}]", f"the chunk edges sum to {sum(edges)}, less than axis {i}'s extent {extent}"
            )
        out.append(tuple(edges))
    chunks = tuple(a if isinstance(a, int) else max(a) for a in out)
    return chunks, tuple(out)


def compress_runs(edges: tuple[int, ...]) -> list:
    """Equal neighbours as ``[size, count]`` runs (zarr-python 3.4's compress_rle)."""
    out: list = []
    for e in edges:
        if out and (out[-1] == e or (isinstance(out[-1], list) and out[-1][0] == e)):
            out[-1] = [e, 2] if out[-1] == e and not isinstance(out[-1], list) else [e, out[-1][1] + 1]
        else:
            out.append(e)
    return out


def chunk_grid_json(chunks: tuple[int, ...], grid: tuple | None) -> dict:
    if grid is None:
        return {"name": "regular", "configuration": {"chunk_shape": list(chunks)}}
    shapes = [a if isinstance(a, int) else compress_runs(tuple(a)) for a in grid]
    return {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": shapes}}


def rectilinear_grid(chunks: Any, shape: tuple[int, ...], where: str) -> tuple[tuple[int, ...], tuple | None]:
    """A create_array ``chunks`` (or ``shards``) argument: a chunk shape, or per axis an int or a list of edge
    lengths (a rectilinear grid) → (largest chunk per axis, the grid or None)."""
    if all(isinstance(c, (int, np.integer)) for c in chunks):
        return tuple(int(c) for c in chunks), None
    axes = [int(c) if isinstance(c, (int, np.integer)) else [int(x) for x in c] for c in chunks]
    return parse_chunk_grid(
        {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": axes}}, shape, where
    )


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
