"""The codec pipeline: array→array codecs, one array→bytes codec, bytes→bytes codecs.

Zarr v2 maps into it (and Zarr v3 will use it as is):
- ``order`` is an array→array ``Transpose`` step (identity for "C", full reversal for "F"), so every later
  step sees a C-contiguous array whose bytes are the chunk's stored memory order;
- ``filters`` are array→array codecs (numcodecs filters, which flatten in that memory order, as zarr does);
  an object codec (vlen-utf8, ...) returns bytes, which the array→bytes step then passes through;
- the array→bytes step writes the elements in the dtype's own byte order (v2 keeps endianness in the dtype);
- ``compressor`` is a bytes→bytes codec.
Zarr v3's ``codecs`` list maps into the same three stages (``from_v3``): ``transpose`` is the same Transpose step,
``bytes``/``vlen-*``/``sharding_indexed`` are array→bytes steps, gzip/zstd/blosc/crc32c bytes→bytes steps.
Every codec is numcodecs' own implementation (looked up in numcodecs' registry by id for v2).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Sequence

import numcodecs
import numpy as np
from numcodecs.abc import Codec

from .errors import ChunkError, CodecError
from .layout import inverse_permutation, memory_permutation


@dataclass(frozen=True)
class ChunkSpec:
    """What a codec's decoded side looks like: shape and dtype of the array."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


# Settings numcodecs accepts when a codec is made but rejects (or misuses) only when it encodes: checked up front,
# so a bad .zarray is an error on open even when no chunk has to be decoded.
_ALLOWED: dict[str, dict[str, tuple]] = {
    "zlib": {"level": tuple(range(-1, 10))},
    "gzip": {"level": tuple(range(-1, 10))},
    "bz2": {"level": tuple(range(1, 10))},
    "blosc": {"cname": ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"), "clevel": tuple(range(10)),
              "shuffle": (-1, 0, 1, 2)},
    "lzma": {"format": (0, 1, 2, 3), "check": (-1, 0, 1, 4, 10)},
}


def _check_settings(config: dict, key: str) -> None:
    for name, allowed in _ALLOWED.get(config["id"], {}).items():
        if name in config and config[name] not in allowed:
            raise CodecError(key, f"codec {config['id']!r}: {name} {config[name]!r} is not one of {list(allowed)}")


def get_codec(config: Any, key: str = "") -> Codec:
    """numcodecs config (``{"id": "zlib", "level": 1}``) → codec; unknown ids and bad settings → CodecError."""
    if not isinstance(config, dict) or not isinstance(config.get("id"), str):
        raise CodecError(key, f"a codec config must be an object with a string 'id', got {config!r}")
    _check_settings(config, key)
    try:
        return numcodecs.get_codec(dict(config))
    except ValueError as e:
        if "codec not available" in str(e):
            raise CodecError(key, f"unknown codec id {config['id']!r}") from None
        raise CodecError(key, f"bad configuration for codec {config['id']!r}: {e}") from None
    except (TypeError, KeyError, RuntimeError) as e:
        raise CodecError(key, f"bad configuration for codec {config['id']!r}: {e}") from None


def _codec_failure(codec: Codec, action: str, key: str, e: Exception) -> CodecError:
    return CodecError(key, f"{codec.codec_id} {action} failed: {type(e).__name__}: {e}")


class ArrayArrayCodec(ABC):
    @abstractmethod
    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        """The encoded side's spec, or None when the codec's output shape is not fixed (flat numcodecs output)."""

    @abstractmethod
    def encode(self, arr: np.ndarray) -> Any: ...

    @abstractmethod
    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        """Inverse of encode; ``spec`` is the decoded side's spec (None if unknown)."""


class ArrayBytesCodec(ABC):
    @abstractmethod
    def encode(self, arr: Any) -> Any: ...

    @abstractmethod
    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray: ...


class BytesBytesCodec(ABC):
    @abstractmethod
    def encode(self, buf: Any) -> Any: ...

    @abstractmethod
    def decode(self, buf: Any, key: str) -> Any: ...


def _fit(arr: Any, spec: ChunkSpec | None, key: str, what: str) -> np.ndarray:
    """View a decoded buffer as ``spec`` (dtype and shape), checking its size first."""
    a = np.asarray(arr) if not isinstance(arr, (bytes, bytearray, memoryview)) else np.frombuffer(arr, dtype=np.uint8)
    if spec is None:
        return a
    if spec.dtype.kind == "O" or a.dtype.kind == "O":
        if a.size != math.prod(spec.shape):
            raise ChunkError(key, f"{what} decoded to {a.size} elements, expected {math.prod(spec.shape)} for chunk shape {list(spec.shape)}")
        return a.reshape(spec.shape)
    if a.nbytes != spec.nbytes:
        raise ChunkError(key, f"{what} decoded to {a.nbytes} bytes, expected {spec.nbytes} ({list(spec.shape)} × {spec.dtype.itemsize}-byte {spec.dtype.str})")
    if a.dtype != spec.dtype:
        a = np.ascontiguousarray(a).reshape(-1).view(spec.dtype)
    return a.reshape(spec.shape)


@dataclass
class Transpose(ArrayArrayCodec):
    """v3 ``transpose`` (``order`` a permutation: the encoded chunk is ``A.transpose(order)``), and v2's ``order``
    ("C": identity, "F": full reversal, so every later step sees a C-contiguous array in stored memory order)."""

    order: Any  # "C" | "F" | a permutation

    def perm(self, ndim: int) -> tuple[int, ...]:
        if isinstance(self.order, str):
            return memory_permutation(ndim, self.order)
        return tuple(self.order)

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        if spec is None:
            return None
        return ChunkSpec(tuple(spec.shape[p] for p in self.perm(len(spec.shape))), spec.dtype)

    def encode(self, arr: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(arr.transpose(self.perm(arr.ndim)))

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        assert spec is not None
        arr = _fit(arr, self.resolve(spec), key, "chunk")
        return arr.transpose(inverse_permutation(self.perm(arr.ndim)))


LIST_CODECS = ("json2", "msgpack2")  # object codecs that store a chunk as nested lists of its shape


@dataclass
class NumcodecsFilter(ArrayArrayCodec):
    """A v2 filter: any numcodecs codec applied to the chunk in memory order.

    ``logical_lists``: the codec writes nested lists (json2, msgpack2) and the array is order "F". zarr 2.x hands
    such a codec the chunk in its logical shape, so the lists are the logical chunk in C order; we write the same.
    On read, lists in the chunk's logical shape are taken that way and lists in the reversed shape as memory order
    (how zarr 2.x's own reader takes them); for square chunks the writer's reading wins."""

    codec: Codec
    logical_lists: bool = False

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        return None

    def encode(self, arr: np.ndarray) -> Any:
        if self.logical_lists and isinstance(arr, np.ndarray) and arr.ndim > 1:
            arr = arr.T  # memory order (the transposed chunk) → the logical chunk
        try:
            return self.codec.encode(arr)
        except Exception as e:  # numcodecs raises anything from ValueError to RuntimeError
            raise _codec_failure(self.codec, "encode", "", e) from None

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        try:
            out = self.codec.decode(arr)
        except Exception as e:
            raise _codec_failure(self.codec, "decode", key, e) from None
        if self.logical_lists and spec is not None and isinstance(out, np.ndarray) and out.ndim > 1 \
                and out.shape == tuple(reversed(spec.shape)):
            out = out.T  # the logical chunk → memory order
        return _fit(out, spec, key, f"filter {self.codec.codec_id}")


@dataclass
class RawBytes(ArrayBytesCodec):
    """v2's array→bytes step: the elements' bytes in the dtype's own byte order, C memory order."""

    def encode(self, arr: Any) -> Any:
        if isinstance(arr, np.ndarray):
            if arr.dtype.kind == "O":
                raise CodecError("", "object arrays need an object codec (vlen-utf8, vlen-bytes, json2, ...) in filters")
            # Keep the dtype: blosc takes its typesize from the buffer's itemsize, as with zarr-python.
            return np.ascontiguousarray(arr)
        return arr  # an object codec already produced bytes

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        return _fit(buf, spec, key, "chunk")


@dataclass
class NumcodecsCompressor(BytesBytesCodec):
    codec: Codec

    def encode(self, buf: Any) -> Any:
        try:
            return self.codec.encode(buf)
        except Exception as e:
            raise _codec_failure(self.codec, "encode", "", e) from None

    def decode(self, buf: Any, key: str) -> Any:
        try:
            return self.codec.decode(buf)
        except Exception as e:
            raise _codec_failure(self.codec, "decode", key, e) from None


@dataclass
class CodecPipeline:
    array_array: list[ArrayArrayCodec] = field(default_factory=list)
    array_bytes: ArrayBytesCodec = field(default_factory=RawBytes)
    bytes_bytes: list[BytesBytesCodec] = field(default_factory=list)

    @classmethod
    def from_v2(cls, order: str, filters: Sequence[dict] | None, compressor: dict | None, key: str = "") -> "CodecPipeline":
        aa: list[ArrayArrayCodec] = [Transpose(order)]
        for i, f in enumerate(filters or []):
            codec = get_codec(f, f"{key}:filters[{i}]")
            aa.append(NumcodecsFilter(codec, logical_lists=order == "F" and codec.codec_id in LIST_CODECS))
        bb = [NumcodecsCompressor(get_codec(compressor, f"{key}:compressor"))] if compressor is not None else []
        return cls(aa, RawBytes(), bb)

    @classmethod
    def from_v3(cls, codecs: Sequence[dict], dtype: np.dtype, chunk_shape: Sequence[int], key: str = "",
                object_type: type | None = None) -> "CodecPipeline":
        """A v3 ``codecs`` list (already order-checked by metadata_v3.check_codec_chain) → the pipeline."""
        aa: list[ArrayArrayCodec] = []
        ab: ArrayBytesCodec | None = None
        bb: list[BytesBytesCodec] = []
        ndim = len(chunk_shape)
        shape = tuple(chunk_shape)
        for i, c in enumerate(codecs):
            where = f"{key}[{i}]"
            name, cfg = c["name"], c.get("configuration") or {}
            if name == "transpose":
                t = Transpose(_v3_permutation(cfg, ndim, where))
                aa.append(t)
                shape = tuple(shape[p] for p in t.perm(ndim))
            elif name == "bytes":
                ab = _v3_bytes(cfg, dtype, where)
            elif name in ("vlen-utf8", "vlen-bytes"):
                if dtype.kind != "O":
                    raise CodecError(where, f"{name} needs a string or bytes data type, not {dtype.str}")
                ab = NumcodecsArrayBytes(numcodecs.get_codec({"id": name}))
            elif name == "sharding_indexed":
                from .sharding import ShardingCodec

                ab = ShardingCodec.from_config(cfg, dtype, shape, where, object_type)
            elif name in _V3_BYTES_CODECS:
                bb.append(_V3_BYTES_CODECS[name](cfg, dtype, where))
            elif c.get("must_understand") is False:
                continue
            else:
                raise CodecError(where, f"unknown codec {name!r} (and it does not say \"must_understand\": false)")
        if ab is None:
            raise CodecError(key, "no array→bytes codec")
        return cls(aa, ab, bb)

    def encode(self, chunk: np.ndarray) -> bytes:
        data: Any = chunk
        for c in self.array_array:
            data = c.encode(data)
        data = self.array_bytes.encode(data)
        for b in self.bytes_bytes:
            data = b.encode(data)
        return data.tobytes() if isinstance(data, np.ndarray) else bytes(data)

    def decode(self, data: Any, spec: ChunkSpec, key: str) -> np.ndarray:
        specs: list[ChunkSpec | None] = [spec]
        for c in self.array_array:
            specs.append(c.resolve(specs[-1]))
        for b in reversed(self.bytes_bytes):
            data = b.decode(data, key)
        arr = self.array_bytes.decode(data, specs[-1], key)
        for c, s in zip(reversed(self.array_array), reversed(specs[:-1])):
            arr = c.decode(arr, s, key)
        return arr


# ---------------------------------------------------------------------------------------------------------
# Zarr v3 codecs (docs/V3.md): configurations checked up front, numcodecs does the work


@dataclass
class NumcodecsArrayBytes(ArrayBytesCodec):
    """v3 ``vlen-utf8`` / ``vlen-bytes``: an object array ⇄ numcodecs' vlen layout."""

    codec: Codec

    def encode(self, arr: Any) -> Any:
        try:
            return self.codec.encode(np.asarray(arr, dtype=object))
        except Exception as e:
            raise _codec_failure(self.codec, "encode", "", e) from None

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        try:
            out = self.codec.decode(buf)
        except Exception as e:
            raise _codec_failure(self.codec, "decode", key, e) from None
        return _fit(out, spec, key, self.codec.codec_id)


@dataclass
class Crc32c(NumcodecsCompressor):
    """v3 ``crc32c``: a mismatch on decode is a damaged chunk (ChunkError), not a codec failure."""

    def decode(self, buf: Any, key: str) -> Any:
        data = bytes(buf)
        if len(data) < 4:
            raise ChunkError(key, f"crc32c: {len(data)} bytes cannot hold the 4-byte checksum")
        try:
            return self.codec.decode(data)
        except Exception as e:
            raise ChunkError(key, f"crc32c checksum mismatch: the chunk is damaged ({e})") from None


def _cfg_int(cfg: dict, name: str, where: str, lo: int, hi: int, default: Any = None) -> int:
    v = cfg.get(name, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise CodecError(where, f"{name} must be an integer in {lo}..{hi}, got {v!r}")
    return v


def _v3_permutation(cfg: dict, ndim: int, where: str) -> tuple[int, ...]:
    order = cfg.get("order")
    if order == "C":  # spellings from before the spec settled on a permutation
        return tuple(range(ndim))
    if order == "F":
        return tuple(reversed(range(ndim)))
    if not isinstance(order, list) or sorted(order) != list(range(ndim)) or any(isinstance(x, bool) for x in order):
        raise CodecError(where, f"transpose order must be a permutation of 0..{ndim - 1}, got {order!r}")
    return tuple(order)


def _v3_bytes(cfg: dict, dtype: np.dtype, where: str) -> RawBytes:
    endian = cfg.get("endian")
    if endian not in (None, "little", "big"):
        raise CodecError(where, f"bytes endian must be 'little' or 'big', got {endian!r}")
    if dtype.kind == "O":
        raise CodecError(where, "the bytes codec cannot store variable-length strings or bytes (use vlen-utf8/vlen-bytes)")
    if endian is None and dtype.fields is None and dtype.itemsize > 1 and dtype.kind not in "SVb":
        # the spec requires it for multi-byte types (structured ones are read little-endian, as zarr-python writes them)
        raise CodecError(where, f"the bytes codec needs an 'endian' for the {dtype.itemsize}-byte data type")
    return RawBytes()


def _v3_gzip(cfg: dict, dtype: np.dtype, where: str) -> BytesBytesCodec:
    return NumcodecsCompressor(numcodecs.GZip(level=_cfg_int(cfg, "level", where, 0, 9, 5)))


def _v3_zstd(cfg: dict, dtype: np.dtype, where: str) -> BytesBytesCodec:
    checksum = cfg.get("checksum", False)
    if not isinstance(checksum, bool):
        raise CodecError(where, f"zstd checksum must be true or false, got {checksum!r}")
    return NumcodecsCompressor(numcodecs.Zstd(level=_cfg_int(cfg, "level", where, -131072, 22, 0), checksum=checksum))


_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def _v3_blosc(cfg: dict, dtype: np.dtype, where: str) -> BytesBytesCodec:
    cname = cfg.get("cname", "zstd")
    if cname not in ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"):
        raise CodecError(where, f"blosc cname {cname!r} is not one of blosclz, lz4, lz4hc, snappy, zlib, zstd")
    shuffle = cfg.get("shuffle", "noshuffle")
    if shuffle not in _SHUFFLE:
        raise CodecError(where, f"blosc shuffle must be noshuffle, shuffle or bitshuffle, got {shuffle!r}")
    typesize = _cfg_int(cfg, "typesize", where, 1, 2**31 - 1, max(dtype.itemsize, 1) if dtype.kind != "O" else 1)
    return NumcodecsCompressor(numcodecs.Blosc(cname=cname, clevel=_cfg_int(cfg, "clevel", where, 0, 9, 5),
                                               shuffle=_SHUFFLE[shuffle], blocksize=_cfg_int(cfg, "blocksize", where, 0, 2**31 - 1, 0),
                                               typesize=typesize))


def _v3_crc32c(cfg: dict, dtype: np.dtype, where: str) -> BytesBytesCodec:
    if cfg:
        raise CodecError(where, f"crc32c takes no configuration, got {cfg!r}")
    return Crc32c(numcodecs.CRC32C())


_V3_BYTES_CODECS = {"gzip": _v3_gzip, "zstd": _v3_zstd, "blosc": _v3_blosc, "crc32c": _v3_crc32c}
