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


@dataclass(frozen=True)
class InnerPart:
    """One inner chunk's share of a region of a shard: its index, its place in the region, its part of the
    inner chunk (None: all of it)."""

    idx: tuple[int, ...]
    dst: tuple[slice, ...]
    src: tuple[slice, ...] | None


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
        fill = self._fill_bytes(arr.dtype)
        for idx in itertools.product(*[range(g) for g in self.grid]):
            sub = arr[self._block(idx)]
            if self._is_fill(sub, fill):
                continue
            # the inner pipeline makes the one contiguous copy it needs (none for a C-contiguous block)
            data = self.inner.encode(sub)
            index[idx] = (pos, len(data))
            parts.append(data)
            pos += len(data)
        raw_index = self.index.encode(index.astype(self.index_dtype))
        if self.index_location == "start":
            parts.insert(0, raw_index)
        else:
            parts.append(raw_index)
        return b"".join(parts)  # one join: the shard's only copy of the encoded inner chunks

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

    def index_of(self, data: Any, key: str) -> np.ndarray:
        """The index of a whole shard's bytes."""
        if len(data) < self.index_nbytes:
            raise ChunkError(key, f"shard is {len(data)} bytes, shorter than its {self.index_nbytes}-byte index")
        at = 0 if self.index_location == "start" else len(data) - self.index_nbytes
        return self.parse_index(bytes(data[at : at + self.index_nbytes]), key)

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        data = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
        index = self.index_of(data, key)
        out = np.empty(self.shard_shape, dtype=self.dtype)
        whole = tuple(slice(0, s) for s in self.shard_shape)
        view = memoryview(data)
        for part in self.inner_parts(whole):
            ext = self._extent(index, part.idx, len(data), key)
            dst = out[part.dst + (Ellipsis,)]
            if ext is None:
                self.fill(dst)
            else:
                self.decode_inner_into(view[ext[0] : ext[0] + ext[1]], dst, part.src, key)
        return out

    # -- regions ---------------------------------------------------------------------------------------------
    def inner_parts(self, region: tuple[slice, ...]) -> list[InnerPart]:
        """The inner chunks ``region`` (slices within the shard) intersects, in index order: each one's place in
        the region and (None when it is the whole inner chunk) its part of the inner chunk."""
        ranges = [
            range(s.start // c, (s.stop - 1) // c + 1) if s.stop > s.start else range(0)
            for s, c in zip(region, self.chunk_shape)
        ]
        out = []
        for idx in itertools.product(*ranges):
            dst, src, whole = [], [], True
            for i, c, r in zip(idx, self.chunk_shape, region):
                lo, hi = max(i * c, r.start), min((i + 1) * c, r.stop)
                dst.append(slice(lo - r.start, hi - r.start))
                src.append(slice(lo - i * c, hi - i * c))
                whole &= hi - lo == c
            out.append(InnerPart(idx, tuple(dst), None if whole else tuple(src)))
        return out

    def read_index(self, reader: Any, key: str) -> np.ndarray | None:
        """The index of the shard ``reader`` reads (a suffix or prefix range); None when the shard is missing."""
        if self.index_location == "end":
            raw = reader.read(-self.index_nbytes, None)
        else:
            raw = reader.read(0, self.index_nbytes)
        return None if raw is None else self.parse_index(raw, key)

    def inner_bytes(self, reader: Any, index: np.ndarray, idx: tuple[int, ...], key: str) -> bytes | None:
        """The stored bytes of inner chunk ``idx`` by one range read; None for an empty inner chunk."""
        ext = self._extent(index, idx, None, key)
        if ext is None:
            return None
        data = reader.read(ext[0], ext[1])
        if data is None or len(data) != ext[1]:
            raise ChunkError(
                key,
                f"inner chunk {list(idx)}: expected {ext[1]} bytes at offset {ext[0]}, "
                f"got {0 if data is None else len(data)} (shard truncated?)",
            )
        return data

    def read_region(self, get_range: RangeGetter, key: str, region: tuple[slice, ...]) -> np.ndarray | None:
        """The part ``region`` (slices within the shard) of shard ``key``, fetching only the index and the inner
        chunks it intersects; None when the shard is not stored."""

        class _Reader:
            def read(self, start: int, length: int | None) -> bytes | None:
                return get_range(key, start, length)

        reader = _Reader()
        index = self.read_index(reader, key)
        if index is None:
            return None
        out = np.empty(tuple(s.stop - s.start for s in region), dtype=self.dtype)
        for part in self.inner_parts(region):
            dst = out[part.dst + (Ellipsis,)]
            data = self.inner_bytes(reader, index, part.idx, key)
            if data is None:
                self.fill(dst)
            else:
                self.decode_inner_into(data, dst, part.src, key)
        return out

    def decode_inner_into(self, data: Any, dst: np.ndarray, src: tuple[slice, ...] | None, key: str) -> None:
        """Decode one inner chunk into ``dst`` (its place in the result): straight in where the inner pipeline is
        plain, else through the full pipeline (which raises the categorised error on damage)."""
        spec = ChunkSpec(self.chunk_shape, self.dtype)
        direct = self.inner.direct(spec)
        if direct is not None and direct.decode_to(data, dst, src):
            return
        chunk = self.inner.decode(bytes(data), spec, key)
        dst[...] = chunk if src is None else chunk[src + (Ellipsis,)]

    def fill(self, dst: np.ndarray) -> None:
        """An empty inner chunk's place: the fill value."""
        dst[...] = self.fill_value if self.fill_value is not None else np.zeros((), self.dtype)[()]

    # -- helpers ---------------------------------------------------------------------------------------------
    def _fill_bytes(self, dtype: np.dtype) -> np.ndarray | None:
        if self.fill_value is None or dtype.kind == "O":
            return None
        return np.frombuffer(np.full((), self.fill_value, dtype=dtype).tobytes(), np.uint8)

    def _is_fill(self, sub: np.ndarray, fill: np.ndarray | None) -> bool:
        """Every element's bytes are the fill value's (NaN fills compare equal); the first and the last element
        are compared first, so a chunk of data costs two element comparisons, not a pass over it."""
        if self.fill_value is None:
            return False
        if sub.dtype.kind == "O":
            return all(x == self.fill_value for x in sub.flat)
        if sub.size == 0:
            return True
        assert fill is not None
        for corner in (tuple(slice(0, 1) for _ in sub.shape), tuple(slice(n - 1, n) for n in sub.shape)):
            if np.ascontiguousarray(sub[corner]).view(np.uint8).tobytes() != fill.tobytes():
                return False
        raw = np.ascontiguousarray(sub).view(np.uint8).reshape(-1, fill.size)
        return bool((raw == fill).all())


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> ShardingCodec:
    return ShardingCodec.from_config(cfg, ctx.dtype, ctx.chunk_shape, where, ctx.object_type)


register(CodecEntry("sharding_indexed", ARRAY_BYTES, None, ("sharding_indexed",), from_v3))
