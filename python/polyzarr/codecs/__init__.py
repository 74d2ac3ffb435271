"""Codecs: one module per codec (or codec family) behind a registry (registry.py), run by the pipeline
(pipeline.py: array→array, array→bytes, bytes→bytes). Importing this package registers every codec; adding a
codec is one new module here, its import below, and golden cases (CONTRIBUTING.md)."""

# ruff: noqa: I001 - the import order is the registration order (registry.v3_names())
from __future__ import annotations

# Registration order is the order of registry.v3_names(): the array→bytes codecs as error messages list them.
from . import transpose, bytes, vlen, sharding
from . import json2, categorize, delta, fixedscaleoffset, quantize, astype, packbits, shuffle
from . import zlib, blosc, zstd, lz4, bz2, lzma, crc32c
from . import crc32, adler32, fletcher32, jenkins_lookup3, bitround, cast_value, scale_offset, pcodec, zfpy
from .bytes import RawBytes
from .crc32c import Crc32c
from .pipeline import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BytesBytesCodec,
    ChunkSpec,
    CodecPipeline,
    NumcodecsArrayBytes,
    NumcodecsCompressor,
    NumcodecsFilter,
    codec_failure,
    fit,
    get_codec,
)
from .json2 import LIST_CODECS
from .registry import CodecContext, CodecEntry, Kind
from .sharding import ShardingCodec
from .transpose import Transpose

__all__ = [
    "LIST_CODECS",
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BytesBytesCodec",
    "ChunkSpec",
    "CodecContext",
    "CodecEntry",
    "CodecPipeline",
    "Crc32c",
    "Kind",
    "NumcodecsArrayBytes",
    "NumcodecsCompressor",
    "NumcodecsFilter",
    "RawBytes",
    "ShardingCodec",
    "Transpose",
    "adler32",
    "astype",
    "bitround",
    "blosc",
    "bytes",
    "bz2",
    "cast_value",
    "categorize",
    "codec_failure",
    "crc32",
    "crc32c",
    "delta",
    "fit",
    "fixedscaleoffset",
    "fletcher32",
    "get_codec",
    "jenkins_lookup3",
    "json2",
    "lz4",
    "lzma",
    "packbits",
    "pcodec",
    "quantize",
    "scale_offset",
    "sharding",
    "shuffle",
    "transpose",
    "vlen",
    "zfpy",
    "zlib",
    "zstd",
]
