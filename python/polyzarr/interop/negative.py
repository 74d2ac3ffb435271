"""Negative golden cases: stores every implementation must reject, with the same error category, naming the key.

Each case is a small store (``interop_tests/golden/negative/<name>/``, or ``<name>.zip``) holding an array ``a``
(4×4 float64, 2×2 chunks) with one thing wrong. ``negative.json`` lists, per case, what is wrong, the category
(MetadataError, DtypeError, CodecError, ChunkError, StoreError, PathError) and the key or JSON path the error
message must name. ``make golden`` writes them from the table below; the expectations come from the Zarr v2
spec and numcodecs' formats, not from either implementation.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np

from .jsonfmt import dumps

GOOD: dict[str, Any] = {
    "zarr_format": 2,
    "shape": [4, 4],
    "chunks": [2, 2],
    "dtype": "<f8",
    "compressor": None,
    "fill_value": 0.0,
    "order": "C",
    "filters": None,
}
CHUNK = np.arange(4, dtype="<f8").tobytes()  # one valid 2×2 <f8 chunk, uncompressed
DROP = object()  # in a .zarray patch: remove the field


@dataclass
class Negative:
    name: str
    category: str
    key: str  # what the error message must name
    about: str
    zarray: Any = None  # dict patch over GOOD, or raw bytes; None = GOOD
    files: dict[str, bytes] = field(default_factory=dict)  # more keys (chunks, .zattrs, .zmetadata, ...)
    zip: bytes | None = None  # the whole store is this zip file instead
    v3: Any = None  # a zarr.json patch over GOOD_V3 (dict) or raw bytes: the array is v3 instead

    def zarray_bytes(self) -> bytes:
        if isinstance(self.zarray, (bytes, bytearray)):
            return bytes(self.zarray)
        doc = dict(GOOD)
        for k, v in (self.zarray or {}).items():
            if v is DROP:
                doc.pop(k, None)
            else:
                doc[k] = v
        return json.dumps(doc).encode()


def _codec(cfg: dict) -> Any:
    return numcodecs.get_codec(cfg)


def _lz4_truncated() -> bytes:
    good = _codec({"id": "lz4"}).encode(CHUNK)  # the header keeps the right size (32); the block is cut short
    return good[: 4 + (len(good) - 4) // 2]


def _zstd_truncated() -> bytes:
    good = _codec({"id": "zstd", "level": 1}).encode(np.arange(4096, dtype="<f8").tobytes())
    return good[: len(good) // 2]


def _blosc(data: bytes) -> bytes:
    return _codec({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}).encode(np.frombuffer(data, dtype="<f8"))


def _vlen_utf8(items: list[str]) -> bytes:
    return _codec({"id": "vlen-utf8"}).encode(np.array(items, dtype=object))


def _consolidated(meta: dict[str, Any]) -> bytes:
    return json.dumps({"zarr_consolidated_format": 1, "metadata": meta}).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for k, v in entries.items():
            z.writestr(zipfile.ZipInfo(k), v)
    return buf.getvalue()


GARBAGE = bytes(range(7, 250, 3)) * 2
Z = "a/.zarray"
ZLIB = {"compressor": {"id": "zlib", "level": 1}}

CASES: list[Negative] = [
    # ---- broken .zarray documents
    Negative(
        "truncated-json", "MetadataError", Z, "the .zarray JSON stops mid-document", b'{"zarr_format": 2, "shape": [4'
    ),
    Negative("not-an-object", "MetadataError", Z, ".zarray is a JSON list", b"[1, 2]"),
    Negative("not-utf8", "MetadataError", Z, ".zarray holds bytes that are not UTF-8", b'{"dtype": "\xff\xfe"}'),
    Negative("empty-zarray", "MetadataError", Z, ".zarray is empty", b""),
    Negative(
        "trailing-garbage",
        "MetadataError",
        Z,
        "a valid object followed by more text",
        json.dumps(GOOD).encode() + b" x",
    ),
    *[
        Negative(f"missing-{f}", "MetadataError", f"{Z}:{f}", f"the required field {f} is absent", {f: DROP})
        for f in ("shape", "chunks", "dtype", "compressor", "fill_value", "order", "zarr_format")
    ],
    Negative("format-3", "MetadataError", f"{Z}:zarr_format", "zarr_format 3 in a v2 .zarray", {"zarr_format": 3}),
    Negative(
        "format-string", "MetadataError", f"{Z}:zarr_format", 'zarr_format is the string "2"', {"zarr_format": "2"}
    ),
    Negative("negative-shape", "MetadataError", f"{Z}:shape", "a negative extent", {"shape": [4, -1]}),
    Negative("string-shape", "MetadataError", f"{Z}:shape", "shape is a string", {"shape": "4,4"}),
    Negative("float-shape", "MetadataError", f"{Z}:shape", "shape holds a float", {"shape": [4.5, 4]}),
    Negative("bool-shape", "MetadataError", f"{Z}:shape", "shape holds a boolean", {"shape": [True, 4]}),
    Negative("zero-chunk", "MetadataError", f"{Z}:chunks", "a chunk extent of 0", {"chunks": [0, 2]}),
    Negative("negative-chunk", "MetadataError", f"{Z}:chunks", "a negative chunk extent", {"chunks": [2, -2]}),
    Negative("chunk-rank", "MetadataError", f"{Z}:chunks", "chunks has fewer dimensions than shape", {"chunks": [2]}),
    Negative("float-chunk", "MetadataError", f"{Z}:chunks", "chunks holds a float", {"chunks": [2.0, 2]}),
    Negative("bad-order", "MetadataError", f"{Z}:order", 'order "X"', {"order": "X"}),
    Negative("lowercase-order", "MetadataError", f"{Z}:order", 'order "c" (the spec says "C" or "F")', {"order": "c"}),
    Negative(
        "bad-separator",
        "MetadataError",
        f"{Z}:dimension_separator",
        'dimension_separator "-"',
        {"dimension_separator": "-"},
    ),
    Negative(
        "shape-overflow",
        "MetadataError",
        f"{Z}:shape",
        "more than 2^63-1 elements",
        {"shape": [2**62, 8], "chunks": [1, 1]},
    ),
    Negative(
        "absurd-chunk",
        "MetadataError",
        f"{Z}:chunks",
        "one chunk would be 80 GB: refused before allocating",
        {"shape": [100000, 100000], "chunks": [100000, 100000]},
    ),
    Negative("filters-not-list", "MetadataError", f"{Z}:filters", "filters is a string", {"filters": "zlib"}),
    Negative(
        "compressor-not-object", "MetadataError", f"{Z}:compressor", "compressor is a string", {"compressor": "zlib"}
    ),
    Negative(
        "compressor-no-id", "MetadataError", f"{Z}:compressor", "compressor without an id", {"compressor": {"level": 1}}
    ),
    Negative(
        "object-without-codec",
        "MetadataError",
        f"{Z}:filters",
        "|O without any object codec",
        {"dtype": "|O", "fill_value": None},
    ),
    # ---- fill values
    Negative("float-fill-word", "MetadataError", f"{Z}:fill_value", 'a float fill "abc"', {"fill_value": "abc"}),
    Negative(
        "int-fill-overflow",
        "MetadataError",
        f"{Z}:fill_value",
        "300 in a |u1 array",
        {"dtype": "|u1", "fill_value": 300},
    ),
    Negative(
        "int-fill-string",
        "MetadataError",
        f"{Z}:fill_value",
        'an integer fill "1"',
        {"dtype": "<i4", "fill_value": "1"},
    ),
    Negative(
        "int-fill-fraction",
        "MetadataError",
        f"{Z}:fill_value",
        "an integer fill 1.5",
        {"dtype": "<i4", "fill_value": 1.5},
    ),
    Negative(
        "bool-fill-string",
        "MetadataError",
        f"{Z}:fill_value",
        'a bool fill "yes"',
        {"dtype": "|b1", "fill_value": "yes"},
    ),
    Negative(
        "bytes-fill-bad-base64",
        "MetadataError",
        f"{Z}:fill_value",
        "|S4 fill that is not base64",
        {"dtype": "|S4", "fill_value": "***"},
    ),
    Negative(
        "bytes-fill-too-long",
        "MetadataError",
        f"{Z}:fill_value",
        "4 bytes of fill for |S2",
        {"dtype": "|S2", "fill_value": "YWJjZA=="},
    ),
    Negative(
        "void-fill-wrong-size",
        "MetadataError",
        f"{Z}:fill_value",
        "2 bytes of fill for |V4",
        {"dtype": "|V4", "fill_value": "AAA="},
    ),
    Negative(
        "struct-fill-wrong-size",
        "MetadataError",
        f"{Z}:fill_value",
        "3 bytes of fill for a 12-byte struct",
        {"dtype": [["a", "<i4"], ["b", ">f8"]], "fill_value": "AAAA"},
    ),
    Negative(
        "complex-fill-3",
        "MetadataError",
        f"{Z}:fill_value",
        "a complex fill with 3 parts",
        {"dtype": "<c16", "fill_value": [1, 2, 3]},
    ),
    Negative(
        "complex-fill-word",
        "MetadataError",
        f"{Z}:fill_value",
        'a complex fill "abc"',
        {"dtype": "<c8", "fill_value": "abc"},
    ),
    Negative(
        "unicode-fill-too-long",
        "MetadataError",
        f"{Z}:fill_value",
        '"abc" in <U2',
        {"dtype": "<U2", "fill_value": "abc"},
    ),
    Negative(
        "unicode-fill-number",
        "MetadataError",
        f"{Z}:fill_value",
        "a number as a <U3 fill",
        {"dtype": "<U3", "fill_value": 5},
    ),
    Negative(
        "datetime-fill-float",
        "MetadataError",
        f"{Z}:fill_value",
        "1.5 as a <M8[s] fill",
        {"dtype": "<M8[s]", "fill_value": 1.5},
    ),
    # ---- attributes, groups, consolidated metadata
    Negative("attrs-not-object", "MetadataError", "a/.zattrs", ".zattrs is a list", files={"a/.zattrs": b"[1, 2]"}),
    Negative(
        "attrs-broken-json", "MetadataError", "a/.zattrs", ".zattrs is broken JSON", files={"a/.zattrs": b'{"units": '}
    ),
    Negative(
        "zgroup-broken",
        "MetadataError",
        ".zgroup",
        "the root .zgroup is broken JSON",
        files={".zgroup": b"{zarr_format: 2}"},
    ),
    Negative(
        "zmetadata-broken",
        "MetadataError",
        ".zmetadata",
        "the consolidated metadata is broken JSON",
        files={".zgroup": b'{"zarr_format": 2}', ".zmetadata": b'{"metadata": {'},
    ),
    Negative(
        "zmetadata-format",
        "MetadataError",
        ".zmetadata:zarr_consolidated_format",
        "zarr_consolidated_format 2",
        files={
            ".zgroup": b'{"zarr_format": 2}',
            ".zmetadata": json.dumps({"zarr_consolidated_format": 2, "metadata": {}}).encode(),
        },
    ),
    Negative(
        "zmetadata-not-object",
        "MetadataError",
        ".zmetadata:metadata",
        "metadata is a list",
        files={
            ".zgroup": b'{"zarr_format": 2}',
            ".zmetadata": json.dumps({"zarr_consolidated_format": 1, "metadata": []}).encode(),
        },
    ),
    # ---- data types
    *[
        Negative(f"dtype-{slug}", "DtypeError", f"{Z}:dtype", about, {"dtype": dt})
        for slug, dt, about in [
            ("unknown-kind", "<x4", "kind x does not exist"),
            ("f4-no-byteorder", "|f4", "a 4-byte float needs < or >"),
            ("i9", "<i9", "there is no 9-byte integer"),
            ("datetime-no-unit", "<M8", "datetime64 without a unit"),
            ("datetime-bad-unit", "<M8[xs]", "an unknown time unit"),
            ("bytes-no-size", "|S", "|S without a size"),
            ("zero-width", "|S0", "a zero-width string"),
            ("native-order", "=i4", "'=' (native) byte order is machine-dependent"),
            ("unicode-no-order", "|U4", "UTF-32 needs a byte order"),
            ("number", 42, "dtype is a number"),
            ("struct-field-short", [["a", "<i4"], ["b"]], "a structured field without a type"),
            ("struct-duplicate", [["a", "<i4"], ["a", "<f8"]], "two fields named a"),
            ("struct-empty", [], "a structured dtype with no fields"),
        ]
    ],
    # ---- codecs: unknown or misconfigured
    Negative(
        "unknown-compressor",
        "CodecError",
        f"{Z}:compressor",
        "a compressor id nobody knows",
        {"compressor": {"id": "nosuchcodec"}},
    ),
    Negative(
        "unknown-filter",
        "CodecError",
        f"{Z}:filters[0]",
        "a filter id nobody knows",
        {"filters": [{"id": "nosuchfilter"}]},
    ),
    Negative(
        "blosc-bad-cname",
        "CodecError",
        f"{Z}:compressor",
        "blosc with cname snappy9",
        {"compressor": {"id": "blosc", "cname": "snappy9", "clevel": 5, "shuffle": 1}},
    ),
    Negative(
        "zlib-bad-level", "CodecError", f"{Z}:compressor", "zlib level 42", {"compressor": {"id": "zlib", "level": 42}}
    ),
    Negative(
        "delta-no-dtype",
        "CodecError",
        f"{Z}:filters[0]",
        "a delta filter without its dtype",
        {"filters": [{"id": "delta"}]},
    ),
    # ---- codecs: corrupt data in chunk a/0.0
    *[
        Negative(
            f"corrupt-{cid}",
            category,
            "a/0.0",
            f"chunk a/0.0 is not {cid} data" + about,
            {"compressor": cfg},
            files={"a/0.0": GARBAGE},
        )
        for cid, cfg, category, about in [
            ("zlib", {"id": "zlib", "level": 1}, "CodecError", ""),
            ("gzip", {"id": "gzip", "level": 1}, "CodecError", ""),
            ("zstd", {"id": "zstd", "level": 0}, "CodecError", ""),
            ("bz2", {"id": "bz2", "level": 1}, "CodecError", ""),
            ("lzma", {"id": "lzma"}, "CodecError", ""),
            # the header is read before anything is decoded (bounded decoding): a size mismatch is a ChunkError
            (
                "blosc",
                {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
                "ChunkError",
                ": its header's compressed size is not the chunk's length",
            ),
        ]
    ],
    Negative(
        "truncated-lz4",
        "CodecError",
        "a/0.0",
        "an lz4 block cut short (its size header is right)",
        {"compressor": {"id": "lz4", "acceleration": 1}},
        files={"a/0.0": b""},
    ),
    Negative(
        "truncated-zstd",
        "CodecError",
        "a/0.0",
        "a zstd frame cut in half",
        {"compressor": {"id": "zstd", "level": 1}},
        files={"a/0.0": b""},
    ),
    Negative(
        "truncated-gzip",
        "ChunkError",
        "a/0.0",
        "a gzip member cut in half, whose first half already decodes to more than the chunk's 32 bytes",
        {"compressor": {"id": "gzip", "level": 1}},
        files={"a/0.0": gzip.compress(CHUNK * 64, mtime=0)[:40]},
    ),
    Negative(
        "truncated-bz2",
        "CodecError",
        "a/0.0",
        "a bz2 stream cut in half",
        {"compressor": {"id": "bz2", "level": 1}},
        files={"a/0.0": bz2.compress(CHUNK * 64)[:30]},
    ),
    Negative(
        "truncated-xz",
        "CodecError",
        "a/0.0",
        "an xz stream cut in half",
        {"compressor": {"id": "lzma"}},
        files={"a/0.0": lzma.compress(CHUNK * 64)[:40]},
    ),
    # ---- chunks of the wrong size
    Negative(
        "raw-chunk-short",
        "ChunkError",
        "a/0.0",
        "an uncompressed chunk of 10 bytes (a 2×2 <f8 chunk is 32)",
        files={"a/0.0": CHUNK[:10]},
    ),
    Negative(
        "raw-chunk-long", "ChunkError", "a/0.0", "an uncompressed chunk of 40 bytes", files={"a/0.0": CHUNK + CHUNK[:8]}
    ),
    Negative(
        "zlib-wrong-size",
        "ChunkError",
        "a/0.0",
        "zlib data that inflates to 24 bytes",
        ZLIB,
        files={"a/0.0": zlib.compress(CHUNK[:24], 1)},
    ),
    Negative(
        "zlib-too-big",
        "ChunkError",
        "a/0.0",
        "zlib data that inflates to 64 bytes",
        ZLIB,
        files={"a/0.0": zlib.compress(CHUNK * 2, 1)},
    ),
    Negative(
        "blosc-wrong-size",
        "ChunkError",
        "a/0.0",
        "blosc data that decodes to 24 bytes",
        {"compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}},
        files={"a/0.0": b""},
    ),
    Negative(
        "f-order-chunk-short",
        "ChunkError",
        "a/1.1",
        "an F-order chunk of 16 bytes",
        {"order": "F"},
        files={"a/1.1": CHUNK[:16]},
    ),
    Negative(
        "vlen-wrong-count",
        "ChunkError",
        "a/0.0",
        "a vlen-utf8 chunk with 3 items where the chunk holds 4",
        {"dtype": "|O", "fill_value": None, "filters": [{"id": "vlen-utf8"}]},
        files={"a/0.0": b""},
    ),
    # ---- keys that would leave the store
    *[
        Negative(
            f"consolidated-{slug}",
            "PathError",
            bad,
            f"consolidated metadata names the array {bad!r}",
            files={
                ".zgroup": b'{"zarr_format": 2}',
                ".zmetadata": _consolidated({".zgroup": {"zarr_format": 2}, f"{bad}/.zarray": GOOD}),
            },
        )
        for slug, bad in [
            ("dotdot", "../evil"),
            ("absolute", "/abs"),
            ("empty-segment", "a//b"),
            ("dot", "./a"),
            ("backslash", "a\\b"),
        ]
    ],
    Negative(
        "zip-dotdot-entry",
        "PathError",
        "../a",
        "a zip archive with an entry outside the store",
        zip=_zip({".zgroup": b'{"zarr_format": 2}', "../a/.zarray": json.dumps(GOOD).encode()}),
    ),
    # ---- stores that cannot be opened
    Negative("zip-not-a-zip", "StoreError", "zip-not-a-zip.zip", "the .zip file is not a zip archive", zip=GARBAGE),
    Negative(
        "zip-truncated",
        "StoreError",
        "zip-truncated.zip",
        "a zip archive cut in half (no central directory)",
        zip=_zip({".zgroup": b'{"zarr_format": 2}', "a/.zarray": json.dumps(GOOD).encode(), "a/0.0": CHUNK * 8})[:60],
    ),
]

# ---- Zarr v3 (docs/V3.md): a 4×4 float64 array a/zarr.json with 2×2 chunks
GOOD_V3: dict[str, Any] = {
    "shape": [4, 4],
    "data_type": "float64",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 2]}},
    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
    "fill_value": 0.0,
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "attributes": {},
    "zarr_format": 3,
    "node_type": "array",
}
J = "a/zarr.json"
_B = {"name": "bytes", "configuration": {"endian": "little"}}
_CRC = [_B, {"name": "crc32c"}]
_SHARD = [
    {
        "name": "sharding_indexed",
        "configuration": {"chunk_shape": [1, 2], "codecs": [_B], "index_codecs": _CRC, "index_location": "end"},
    }
]


def _v3_chunk_with_bad_crc() -> bytes:
    good = bytes(numcodecs.CRC32C().encode(CHUNK))
    return good[:-1] + bytes([good[-1] ^ 0xFF])


def _v3_shard(offset: int | None = None, truncate: int = 0) -> bytes:
    """A valid 2×2 shard of two 1×2 inner chunks (index at the end), optionally with a bad offset or cut short."""
    body = CHUNK
    index = np.array([[0, 16], [16, 16]], dtype="<u8")
    if offset is not None:
        index[1, 0] = offset
    raw = index.tobytes()
    blob = body + bytes(numcodecs.CRC32C().encode(raw))
    return blob[: len(blob) - truncate] if truncate else blob


V3_CASES: list[Negative] = [
    Negative(
        "v3-truncated-json", "MetadataError", J, "zarr.json stops mid-document", v3=b'{"zarr_format": 3, "shape": [4'
    ),
    Negative("v3-node-type", "MetadataError", f"{J}:node_type", 'node_type "table"', v3={"node_type": "table"}),
    Negative("v3-missing-codecs", "MetadataError", f"{J}:codecs", "no codecs field", v3={"codecs": DROP}),
    Negative("v3-missing-fill", "MetadataError", f"{J}:fill_value", "no fill_value field", v3={"fill_value": DROP}),
    Negative(
        "v3-null-fill",
        "MetadataError",
        f"{J}:fill_value",
        "fill_value null (v3 requires a value)",
        v3={"fill_value": None},
    ),
    Negative(
        "v3-unknown-field",
        "MetadataError",
        f"{J}:surprise",
        "an unknown field without must_understand: false",
        v3={"surprise": {"x": 1}},
    ),
    Negative(
        "v3-storage-transformers",
        "MetadataError",
        f"{J}:storage_transformers",
        "a storage transformer",
        v3={"storage_transformers": [{"name": "sharding"}]},
    ),
    Negative(
        "v3-bad-grid",
        "MetadataError",
        f"{J}:chunk_grid",
        "a rectilinear chunk grid",
        v3={"chunk_grid": {"name": "rectilinear"}},
    ),
    Negative(
        "v3-grid-rank",
        "MetadataError",
        f"{J}:chunk_grid",
        "chunk_shape of rank 1 for a 2-d array",
        v3={"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}},
    ),
    Negative(
        "v3-bad-key-encoding",
        "MetadataError",
        f"{J}:chunk_key_encoding",
        "chunk key encoding v4",
        v3={"chunk_key_encoding": {"name": "v4"}},
    ),
    Negative(
        "v3-bad-key-separator",
        "MetadataError",
        f"{J}:chunk_key_encoding",
        "separator '-'",
        v3={"chunk_key_encoding": {"name": "default", "configuration": {"separator": "-"}}},
    ),
    Negative(
        "v3-dimension-names",
        "MetadataError",
        f"{J}:dimension_names",
        "one dimension name for two axes",
        v3={"dimension_names": ["x"]},
    ),
    Negative(
        "v3-two-array-bytes", "MetadataError", f"{J}:codecs[1]", "two array→bytes codecs", v3={"codecs": [_B, _B]}
    ),
    Negative(
        "v3-no-array-bytes",
        "MetadataError",
        f"{J}:codecs",
        "only a bytes→bytes codec",
        v3={"codecs": [{"name": "crc32c"}]},
    ),
    Negative(
        "v3-transpose-after-bytes",
        "MetadataError",
        f"{J}:codecs[1]",
        "transpose after bytes",
        v3={"codecs": [_B, {"name": "transpose", "configuration": {"order": [1, 0]}}]},
    ),
    Negative(
        "v3-unknown-data-type", "DtypeError", f"{J}:data_type", "data_type float128", v3={"data_type": "float128"}
    ),
    Negative(
        "v3-raw-bits-12", "DtypeError", f"{J}:data_type", "r12 (raw bits must be whole bytes)", v3={"data_type": "r12"}
    ),
    Negative(
        "v3-datetime-unit",
        "DtypeError",
        f"{J}:data_type",
        "numpy.datetime64 with unit 'fortnight'",
        v3={
            "data_type": {"name": "numpy.datetime64", "configuration": {"unit": "fortnight", "scale_factor": 1}},
            "fill_value": 0,
        },
    ),
    Negative(
        "v3-fill-hex-width",
        "MetadataError",
        f"{J}:fill_value",
        "a 4-digit hex fill for float64",
        v3={"fill_value": "0x7fc0"},
    ),
    Negative(
        "v3-fill-word",
        "MetadataError",
        f"{J}:fill_value",
        'fill "nan" (the spelling is "NaN")',
        v3={"fill_value": "nan"},
    ),
    Negative(
        "v3-fill-r16-length",
        "MetadataError",
        f"{J}:fill_value",
        "an r16 fill of 3 bytes",
        v3={"data_type": "r16", "fill_value": [1, 2, 3], "codecs": [{"name": "bytes"}]},
    ),
    Negative(
        "v3-unknown-codec",
        "CodecError",
        f"{J}:codecs[1]",
        "an unknown codec without must_understand: false",
        v3={"codecs": [_B, {"name": "nosuchcodec"}]},
    ),
    Negative(
        "v3-bad-permutation",
        "CodecError",
        f"{J}:codecs[0]",
        "transpose order [0, 0]",
        v3={"codecs": [{"name": "transpose", "configuration": {"order": [0, 0]}}, _B]},
    ),
    Negative(
        "v3-bad-endian",
        "CodecError",
        f"{J}:codecs[0]",
        "bytes endian 'middle'",
        v3={"codecs": [{"name": "bytes", "configuration": {"endian": "middle"}}]},
    ),
    Negative(
        "v3-bytes-no-endian",
        "CodecError",
        f"{J}:codecs[0]",
        "a float64 array whose bytes codec has no endian (the spec requires one)",
        v3={"codecs": [{"name": "bytes"}]},
    ),
    Negative(
        "v3-blosc-int-shuffle",
        "CodecError",
        f"{J}:codecs[1]",
        "blosc shuffle given as v2's integer",
        v3={
            "codecs": [
                _B,
                {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": 1, "typesize": 8}},
            ]
        },
    ),
    Negative(
        "v3-shard-not-dividing",
        "CodecError",
        f"{J}:codecs[0].configuration.chunk_shape",
        "inner chunks 3×2 in a 2×2 shard",
        v3={"codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [3, 2], "codecs": [_B]}}]},
    ),
    Negative(
        "v3-shard-index-codec",
        "CodecError",
        f"{J}:codecs[0].configuration.index_codecs[1]",
        "gzip on the shard index",
        v3={
            "codecs": [
                {
                    "name": "sharding_indexed",
                    "configuration": {
                        "chunk_shape": [1, 2],
                        "codecs": [_B],
                        "index_codecs": [_B, {"name": "gzip", "configuration": {"level": 1}}],
                    },
                }
            ]
        },
    ),
    Negative(
        "v3-crc32c-mismatch",
        "ChunkError",
        "a/c/0/0",
        "a chunk whose crc32c does not match",
        v3={"codecs": _CRC},
        files={"a/c/0/0": b""},
    ),
    Negative(
        "v3-raw-chunk-short",
        "ChunkError",
        "a/c/1/1",
        "a chunk of 10 bytes (32 expected)",
        v3={},
        files={"a/c/1/1": CHUNK[:10]},
    ),
    Negative(
        "v3-shard-offset-out-of-range",
        "ChunkError",
        "a/c/0/0",
        "a shard index entry pointing past the shard",
        v3={"codecs": _SHARD},
        files={"a/c/0/0": b""},
    ),
    Negative(
        "v3-shard-truncated",
        "ChunkError",
        "a/c/0/0",
        "a shard cut short (its index no longer checks out)",
        v3={"codecs": _SHARD},
        files={"a/c/0/0": b""},
    ),
    Negative(
        "v3-consolidated-dotdot",
        "PathError",
        "../x",
        "inline consolidated metadata naming ../x",
        files={
            "zarr.json": json.dumps(
                {
                    "zarr_format": 3,
                    "node_type": "group",
                    "consolidated_metadata": {
                        "kind": "inline",
                        "must_understand": False,
                        "metadata": {"../x": GOOD_V3},
                    },
                }
            ).encode()
        },
    ),
]
CASES += V3_CASES

# Chunks computed from codecs (kept out of the table for readability).
_DYNAMIC = {
    "truncated-lz4": _lz4_truncated,
    "truncated-zstd": _zstd_truncated,
    "blosc-wrong-size": lambda: _blosc(CHUNK[:24]),
    "vlen-wrong-count": lambda: _vlen_utf8(["a", "bc", "d"]),
    "v3-crc32c-mismatch": _v3_chunk_with_bad_crc,
    "v3-shard-offset-out-of-range": lambda: _v3_shard(offset=10_000),
    "v3-shard-truncated": lambda: _v3_shard(truncate=7),
}


def _patched(base: dict, patch: dict) -> bytes:
    doc = dict(base)
    for k, v in patch.items():
        if v is DROP:
            doc.pop(k, None)
        else:
            doc[k] = v
    return json.dumps(doc).encode()


def store_path(root: Path, case: Negative) -> Path:
    return root / (f"{case.name}.zip" if case.zip is not None else case.name)


def write_all(root: Path) -> list[Negative]:
    """(Re)write every negative store under ``root`` and its ``negative.json``."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for case in CASES:
        if case.zip is not None:
            store_path(root, case).write_bytes(case.zip)
            continue
        d = store_path(root, case)
        (d / "a").mkdir(parents=True)
        files = dict(case.files)
        if case.v3 is not None or case.name.startswith("v3-"):
            if case.v3 is not None:
                (d / "a" / "zarr.json").write_bytes(
                    case.v3 if isinstance(case.v3, bytes) else _patched(GOOD_V3, case.v3)
                )
        else:
            (d / "a" / ".zarray").write_bytes(case.zarray_bytes())
        if case.name in _DYNAMIC:
            files[next(iter(case.files), "a/0.0")] = _DYNAMIC[case.name]()
        for k, v in files.items():
            p = d / k
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(v)
    manifest = {
        "about": "Stores every implementation must reject: reading each (polyzarr export) fails with `category`, and "
        "the message names `key`. Written by `make golden` from python/polyzarr/interop/negative.py.",
        "cases": {
            c.name: {"store": store_path(root, c).name, "category": c.category, "key": c.key, "about": c.about}
            for c in CASES
        },
    }
    (root / "negative.json").write_text(dumps(manifest))
    return CASES


def load_manifest(root: Path) -> dict[str, dict]:
    return json.loads((root / "negative.json").read_text())["cases"]
