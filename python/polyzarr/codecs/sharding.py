"""The v3 ``sharding_indexed`` codec: a shard holds inner chunks, each encoded with its own codec pipeline, and an
index of ``(offset, nbytes)`` uint64 pairs per inner chunk (C order of the inner grid; ``2^64-1`` twice for an
empty one), encoded with the index codecs and stored at the shard's end (default) or start.

Reading a region touches only what it needs: the index (a prefix or suffix byte range) and then the byte ranges of
the inner chunks the region intersects (on S3: ``Range`` requests, never the whole shard).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ChunkError, CodecError
from .crc32c import Crc32c
from .pipeline import ArrayBytesCodec, ChunkSpec, CodecPipeline, compressed_bound
from .registry import ARRAY_BYTES, CodecContext, CodecEntry, register

EMPTY = 2**64 - 1
RangeGetter = Callable[[str, int, int | None], "bytes | None"]  # (key, start, length) → bytes; start < 0: suffix


@dataclass
class ShardingCodec(ArrayBytesCodec):
    chunk_shape: tuple[int, ...]  # inner chunks
    shard_shape: tuple[int, ...]
    dtype: np.dtype
    inner: CodecPipeline
    index: CodecPipeline
    index_location: str = "end"
    index_dtype: np.dtype = np.dtype("<u8")  # uint64 in the index's bytes codec order  # noqa: RUF009 - a dtype is immutable
    fill_value: Any = None  # set by the array: what empty inner chunks read as

    @classmethod
    def from_config(
        cls, cfg: dict, dtype: np.dtype, shard_shape: Sequence[int], where: str, object_type: type | None = None
    ) -> ShardingCodec:
        from ..metadata_v3 import check_codec_chain

        inner = cfg.get("chunk_shape")
        if (
            not isinstance(inner, list)
            or len(inner) != len(shard_shape)
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in inner)
        ):
            raise CodecError(
                f"{where}.configuration.chunk_shape", f"must be {len(shard_shape)} positive integers, got {inner!r}"
            )
        if any(s % c for s, c in zip(shard_shape, inner)):
            raise CodecError(
                f"{where}.configuration.chunk_shape",
                f"inner chunks {inner} do not divide the shard shape {list(shard_shape)}",
            )
        loc = cfg.get("index_location", "end")
        if loc not in ("start", "end"):
            raise CodecError(f"{where}.configuration.index_location", f"must be 'start' or 'end', got {loc!r}")
        codecs = check_codec_chain(cfg.get("codecs"), f"{where}.configuration.codecs")
        index_codecs = cfg.get(
            "index_codecs", [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
        )
        index_codecs = check_codec_chain(index_codecs, f"{where}.configuration.index_codecs")
        for i, c in enumerate(index_codecs):
            if c["name"] not in ("bytes", "crc32c"):
                raise CodecError(
                    f"{where}.configuration.index_codecs[{i}]",
                    f"only bytes and crc32c may encode the shard index (a fixed size), got {c['name']!r}",
                )
        index_endian = next(
            ((c.get("configuration") or {}).get("endian", "little") for c in index_codecs if c["name"] == "bytes"),
            "little",
        )
        grid = tuple(s // c for s, c in zip(shard_shape, inner))
        index_dtype = np.dtype("<u8" if index_endian == "little" else ">u8")
        return cls(
            tuple(inner),
            tuple(shard_shape),
            dtype,
            CodecPipeline.from_v3(codecs, dtype, inner, f"{where}.configuration.codecs", object_type),
            CodecPipeline.from_v3(index_codecs, index_dtype, grid + (2,), f"{where}.configuration.index_codecs"),
            loc,
            index_dtype,
        )

    # -- geometry --------------------------------------------------------------------------------------------
    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(s // c for s, c in zip(self.shard_shape, self.chunk_shape))

    @property
    def index_nbytes(self) -> int:
        n = 16 * math.prod(self.grid)
        return n + 4 * sum(isinstance(b, Crc32c) for b in self.index.bytes_bytes)

    def _block(self, idx: Sequence[int]) -> tuple[slice, ...]:
        return tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, self.chunk_shape))

    # -- the index -------------------------------------------------------------------------------------------
    def parse_index(self, raw: bytes, key: str) -> np.ndarray:
        if len(raw) != self.index_nbytes:
            raise ChunkError(
                key,
                f"shard index is {len(raw)} bytes, expected {self.index_nbytes} for an inner grid {list(self.grid)}",
            )
        index = self.index.decode(raw, ChunkSpec(self.grid + (2,), self.index_dtype), key)
        return np.asarray(index, dtype=np.uint64)

    def _extent(self, index: np.ndarray, idx: tuple[int, ...], total: int | None, key: str) -> tuple[int, int] | None:
        off, n = (int(x) for x in index[idx])
        if off == EMPTY and n == EMPTY:
            return None
        if (
            total is not None and (off + n > total or (self.index_location == "start" and off < self.index_nbytes))
        ) or (total is None and (off >= EMPTY or n >= EMPTY)):
            raise ChunkError(
                key,
                f"shard index entry for inner chunk {list(idx)} points outside the shard "
                f"(offset {off}, {n} bytes{f', shard {total} bytes' if total is not None else ''})",
            )
        return off, n

    # -- whole shards ----------------------------------------------------------------------------------------
    def encode(self, arr: Any) -> bytes:
        arr = np.asarray(arr)
        index = np.full(self.grid + (2,), EMPTY, dtype="<u8")
        parts: list[bytes] = []
        pos = self.index_nbytes if self.index_location == "start" else 0
        for idx in itertools.product(*[range(g) for g in self.grid]):
            sub = arr[self._block(idx)]
            if self._is_fill(sub):
                continue
            data = self.inner.encode(np.ascontiguousarray(sub) if sub.dtype.kind != "O" else sub)
            index[idx] = (pos, len(data))
            parts.append(data)
            pos += len(data)
        raw_index = self.index.encode(index.astype(self.index_dtype))
        body = b"".join(parts)
        return raw_index + body if self.index_location == "start" else body + raw_index

    def max_encoded(self, spec: ChunkSpec | None) -> tuple[int, bool] | None:
        inner = ChunkSpec(self.chunk_shape, self.dtype)
        one = self.inner.array_bytes.max_encoded(inner)
        if one is None:
            return None
        for _ in self.inner.bytes_bytes:
            one = (compressed_bound(one[0]), False)
        return one[0] * math.prod(self.grid) + self.index_nbytes, False

    def all_empty(self, shard: bytes) -> bool:
        return len(shard) == self.index_nbytes

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        data = bytes(buf)
        if len(data) < self.index_nbytes:
            raise ChunkError(key, f"shard is {len(data)} bytes, shorter than its {self.index_nbytes}-byte index")
        raw = data[: self.index_nbytes] if self.index_location == "start" else data[len(data) - self.index_nbytes :]
        index = self.parse_index(raw, key)
        out = self._empty(self.shard_shape)
        for idx in itertools.product(*[range(g) for g in self.grid]):
            ext = self._extent(index, idx, len(data), key)
            if ext is not None:
                out[self._block(idx)] = self.inner.decode(
                    data[ext[0] : ext[0] + ext[1]], ChunkSpec(self.chunk_shape, self.dtype), key
                )
        return out

    # -- regions ---------------------------------------------------------------------------------------------
    def read_region(self, get_range: RangeGetter, key: str, region: tuple[slice, ...]) -> np.ndarray | None:
        """The part ``region`` (slices within the shard) of shard ``key``, fetching only the index and the inner
        chunks it intersects; None when the shard is not stored."""
        if self.index_location == "end":
            raw = get_range(key, -self.index_nbytes, None)
        else:
            raw = get_range(key, 0, self.index_nbytes)
        if raw is None:
            return None
        index = self.parse_index(raw, key)
        out = self._empty(tuple(s.stop - s.start for s in region))
        ranges = [
            range(s.start // c, (s.stop - 1) // c + 1) if s.stop > s.start else range(0)
            for s, c in zip(region, self.chunk_shape)
        ]
        for idx in itertools.product(*ranges):
            block = self._block(idx)
            lo = [max(b.start, r.start) for b, r in zip(block, region)]
            hi = [min(b.stop, r.stop) for b, r in zip(block, region)]
            dst = tuple(slice(a - r.start, b - r.start) for a, b, r in zip(lo, hi, region))
            src = tuple(slice(a - b.start, z - b.start) for a, z, b in zip(lo, hi, block))
            ext = self._extent(index, idx, None, key)
            if ext is None:
                continue  # empty inner chunk: stays the fill value
            data = get_range(key, ext[0], ext[1])
            if data is None or len(data) != ext[1]:
                raise ChunkError(
                    key,
                    f"inner chunk {list(idx)}: expected {ext[1]} bytes at offset {ext[0]}, "
                    f"got {0 if data is None else len(data)} (shard truncated?)",
                )
            chunk = self.inner.decode(data, ChunkSpec(self.chunk_shape, self.dtype), key)
            out[dst] = chunk[src]
        return out

    # -- helpers ---------------------------------------------------------------------------------------------
    def _empty(self, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape, dtype=self.dtype)
        out[...] = self.fill_value if self.fill_value is not None else np.zeros((), self.dtype)[()]
        return out

    def _is_fill(self, sub: np.ndarray) -> bool:
        if self.fill_value is None:
            return False
        if sub.dtype.kind == "O":
            return all(x == self.fill_value for x in sub.flat)
        fill = np.full((), self.fill_value, dtype=sub.dtype).tobytes()
        raw = np.ascontiguousarray(sub).view(np.uint8).reshape(-1, len(fill)) if sub.size else None
        return raw is None or bool((raw == np.frombuffer(fill, np.uint8)).all())


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> ShardingCodec:
    return ShardingCodec.from_config(cfg, ctx.dtype, ctx.chunk_shape, where, ctx.object_type)


register(CodecEntry("sharding_indexed", ARRAY_BYTES, None, ("sharding_indexed",), from_v3))
