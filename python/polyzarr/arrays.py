"""Zarr arrays: open, create, read and write any region, chunk by chunk.

Reading allocates the result once and decodes each chunk into its place (chunks in parallel: numcodecs
releases the GIL); F-order chunks are viewed in Fortran layout, never transposed as a whole array.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metadata as md
from .codecs import ChunkSpec, CodecPipeline, ShardingCodec, registry
from .dtypes import encode_v3_dtype, parse_v3_dtype, v3_byte_order
from .errors import ChunkError, MetadataError, PolyZarrError, StoreError
from .layout import (
    ChunkPart,
    chunk_in_memory_order,
    chunk_key,
    chunk_parts,
    chunk_shape_at,
    empty_chunk,
    is_c_order,
    memory_permutation,
)
from .metadata_v3 import ZARR_JSON, ArrayMetadataV3, ChunkKeyEncoding, byte_order_of, rectilinear_grid
from .metadata_v3 import decode_fill_value as decode_v3_fill
from .metadata_v3 import default_fill_value as default_v3_fill
from .stores import MARKER, LocalStore, RangeReader, Store, io_pool, join, open_reader

DEFAULT_COMPRESSOR = {"id": "zstd", "level": 0}  # zarr-python 3's default for zarr_format=2
INDEX_CACHE_ENTRIES = 4096  # shard indexes an Array keeps for partial reads (each 16 bytes an inner chunk)


@dataclass(frozen=True)
class Box:
    """A normalised basic selection: a box per axis, a step per axis, and the axes indexed by an integer."""

    start: tuple[int, ...]
    stop: tuple[int, ...]
    step: tuple[int, ...]
    squeeze: tuple[int, ...]


def normalize_selection(sel: Any, shape: Sequence[int]) -> Box:
    if not isinstance(sel, tuple):
        sel = (sel,)
    if sum(s is Ellipsis for s in sel) > 1:
        raise IndexError("only one Ellipsis is allowed")
    i = next((i for i, s in enumerate(sel) if s is Ellipsis), None)
    if i is not None:
        sel = sel[:i] + (slice(None),) * (len(shape) - len(sel) + 1) + sel[i + 1 :]
    if len(sel) > len(shape):
        raise IndexError(f"too many indices: {len(sel)} for {len(shape)} dimensions")
    sel = sel + (slice(None),) * (len(shape) - len(sel))
    start, stop, step, squeeze = [], [], [], []
    for ax, (s, n) in enumerate(zip(sel, shape)):
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            i = int(s) + n if s < 0 else int(s)
            if not 0 <= i < n:
                raise IndexError(f"index {s} is out of bounds for axis {ax} with size {n}")
            start.append(i)
            stop.append(i + 1)
            step.append(1)
            squeeze.append(ax)
        elif isinstance(s, slice):
            a, b, c = s.indices(n)
            if c < 1:
                raise IndexError("only positive slice steps are supported")
            b = max(a, b)
            start.append(a)
            stop.append(b)
            step.append(c)
        else:
            raise IndexError(f"unsupported index {s!r}: use integers, slices and Ellipsis")
    return Box(tuple(start), tuple(stop), tuple(step), tuple(squeeze))


Metadata = md.ArrayMetadataV2 | ArrayMetadataV3


class Array:
    """A Zarr array (v2 or v3) in a store: both formats build one codec pipeline and share everything else."""

    def __init__(self, store: Store, path: str, meta: Metadata, write_empty_chunks: bool = False):
        self.store = store
        self.path = path.strip("/")
        self.meta = meta
        self.write_empty_chunks = write_empty_chunks
        self._attrs: dict | None = None
        self._missing: tuple | None = None
        if isinstance(meta, ArrayMetadataV3):
            self.meta_key = join(self.path, ZARR_JSON)
            self.pipeline = CodecPipeline.from_v3(
                meta.codecs, meta.dtype, meta.chunks, f"{self.meta_key}:codecs", meta.object_type
            )
            self._attrs = meta.attributes
        else:
            self.meta_key = join(self.path, md.ZARRAY)
            _check_object_codecs(meta, self.meta_key)
            self.pipeline = CodecPipeline.from_v2(meta.order, meta.filters, meta.compressor, self.meta_key)
        # v2: the chunk key separator. The metadata says it, except when the document leaves it out: then the
        # first chunk found settles it (_settle_separator), and that is this array's state, not the metadata's.
        self._separator = meta.dimension_separator if isinstance(meta, md.ArrayMetadataV2) else None
        self._separator_unsure = (
            not isinstance(meta, ArrayMetadataV3)
            and meta.separator_implied
            and meta.dimension_separator == "."
            and len(meta.shape) > 1
        )
        # per axis the chunk size, or (rectilinear grid) the chunk edge lengths
        self._grid = meta.grid_chunks if isinstance(meta, ArrayMetadataV3) else meta.chunks
        self._pipelines: dict[tuple[int, ...], CodecPipeline] = {tuple(meta.chunks): self.pipeline}
        self.sharding = self.pipeline.array_bytes if isinstance(self.pipeline.array_bytes, ShardingCodec) else None
        self._set_shard_fill(self.pipeline, tuple(meta.chunks))
        self._pending_all: list[tuple[str, bytes]] = []
        self._pending: list[tuple[str, bytes]] = []  # metadata documents not yet written (publish writes them)
        self._written: set[str] | None = None  # chunk keys written, tracked while a new array is being written
        self._bulk = False  # inside the import protocol: the caller holds the marker
        # a v2 order "F" array reads as a Fortran-ordered result (as zarr-python 3 returns it): its chunks copy
        # in runs of their first axis, not through a transpose
        self._result_order = "F" if isinstance(meta, md.ArrayMetadataV2) and not is_c_order(meta.order) else "C"
        self._bounds: dict[tuple[int, ...], int] = {}  # chunk shape → the most bytes its stored chunk can be
        # shard key → (the file's identity when read, its parsed index): partial reads of a shard read its index
        # once; a write through this array drops the key, and a file rewritten by anyone else has a new identity
        self._index_cache: dict[str, tuple[tuple, np.ndarray]] = {}

    def publish(self) -> None:
        """Write the metadata documents held back by ``create_array(..., publish=False)`` (v2 .zarray then
        .zattrs; v3 zarr.json): the last step of a write, so an array is complete once it has metadata."""
        while self._pending:
            key, doc = self._pending[0]
            self.store.set(key, doc)
            self._pending.pop(0)

    def _set_shard_fill(self, pipeline: CodecPipeline, shape: tuple[int, ...]) -> None:
        if isinstance(pipeline.array_bytes, ShardingCodec):
            # what an empty inner chunk holds: the fill value through the array→array codecs (cast_value, ...)
            pipeline.array_bytes.fill_value = pipeline.encoded_fill(self._fill_scalar(), self._spec(shape))

    def pipeline_for(self, shape: tuple[int, ...]) -> CodecPipeline:
        """The codec pipeline of chunks of this shape (a rectilinear grid's chunks differ in shape)."""
        found = self._pipelines.get(shape)
        if found is None:
            assert isinstance(self.meta, ArrayMetadataV3)
            found = CodecPipeline.from_v3(
                self.meta.codecs, self.meta.dtype, shape, f"{self.meta_key}:codecs", self.meta.object_type
            )
            self._set_shard_fill(found, shape)
            self._pipelines[shape] = found
        return found

    def chunk_shape(self, index: Sequence[int]) -> tuple[int, ...]:
        """The full shape of the chunk at a grid index."""
        return chunk_shape_at(index, self._grid)

    @property
    def dimension_separator(self) -> str | None:
        """v2: the chunk key separator in use (settled by the first chunk found when the document leaves it out)."""
        return self._separator

    def settled_meta(self) -> Metadata:
        """The metadata with what reading settled (the separator) filled in: a new value, the original unchanged."""
        if isinstance(self.meta, md.ArrayMetadataV2) and self._separator != self.meta.dimension_separator:
            return dataclasses.replace(self.meta, dimension_separator=self._separator)
        return self.meta

    @property
    def zarr_format(self) -> int:
        return self.meta.zarr_format

    @property
    def dimension_names(self) -> list | None:
        """v3 ``dimension_names``, or xarray's ``_ARRAY_DIMENSIONS`` attribute (Zarr order)."""
        if isinstance(self.meta, ArrayMetadataV3) and self.meta.dimension_names is not None:
            return list(self.meta.dimension_names)
        names = self.attrs.get("_ARRAY_DIMENSIONS")
        return list(names) if isinstance(names, list) else None

    # -- description -------------------------------------------------------------------------------------
    shape = property(lambda self: self.meta.shape)
    chunks = property(lambda self: self.meta.chunks)
    dtype = property(lambda self: self.meta.dtype)
    order = property(lambda self: self.meta.order)
    fill_value = property(lambda self: self.meta.fill_value)
    ndim = property(lambda self: self.meta.ndim)
    size = property(lambda self: self.meta.size)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def attrs(self) -> dict:
        if self._attrs is None:
            key = join(self.path, md.ZATTRS)
            self._attrs = md.parse_attrs(self.store.get(key), key)
        return self._attrs

    @property
    def object_type(self) -> type | None:
        """For object arrays: str or bytes when the object codec says so."""
        if isinstance(self.meta, ArrayMetadataV3):
            return self.meta.object_type
        for f in self.meta.filters or []:
            is_object, object_type = registry.v2_object_type(f["id"])
            if is_object:
                return object_type
        return None

    def __repr__(self) -> str:
        return f"<polyzarr.Array {self.store.url}/{self.path} shape={self.shape} chunks={self.chunks} dtype={self.dtype.str} order={self.order}>"

    def chunk_key(self, index: Sequence[int]) -> str:
        if isinstance(self.meta, ArrayMetadataV3):
            return join(self.path, self.meta.chunk_key(tuple(index)))
        assert self._separator is not None
        return join(self.path, chunk_key(index, self._separator))

    # -- fill ----------------------------------------------------------------------------------------------
    def _fill_scalar(self) -> Any:
        """What missing elements read as (metadata.chunk_fill_value), worked out once per array."""
        if self._missing is None:
            self._missing = (md.chunk_fill_value(self.fill_value, self.dtype, self.object_type),)
        return self._missing[0]

    def _fill_chunk(self, shape: tuple[int, ...]) -> np.ndarray:
        chunk = empty_chunk(shape, self.dtype, self.order)
        chunk[...] = self._fill_scalar()
        return chunk

    def _check_alloc(self, shape: Sequence[int]) -> None:
        nbytes = math.prod(shape) * self.dtype.itemsize
        if nbytes > md.max_read_bytes():
            raise MetadataError(
                self.meta_key,
                f"reading {list(shape)} × {self.dtype.itemsize} bytes = {nbytes} bytes exceeds the limit of {md.max_read_bytes()} (POLYZARR_MAX_BYTES)",
            )

    # -- chunks --------------------------------------------------------------------------------------------
    def _spec(self, shape: tuple[int, ...] | None = None) -> ChunkSpec:
        return ChunkSpec(self.chunks if shape is None else shape, self.dtype)

    def decode_chunk(self, data: bytes, key: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        shape = tuple(self.chunks) if shape is None else shape
        return self.pipeline_for(shape).decode(data, self._spec(shape), key)

    def read_chunk(self, index: Sequence[int]) -> np.ndarray | None:
        unsure = self._separator_unsure  # read before the key: a thread that settles sets the separator first
        key = self.chunk_key(index)
        shape = self.chunk_shape(index)
        data = self.store.get_bounded(key, self._stored_bound(shape))
        if unsure:
            data, key = self._settle_separator(index, key, data)
        return None if data is None else self.decode_chunk(data, key, shape)

    def _settle_separator(self, index: Sequence[int], key: str, data: bytes | None) -> tuple[bytes | None, str]:
        """A v2 document without ``dimension_separator`` says ".", but zarr < 2.8's NestedDirectoryStore (OME-Zarr
        0.1/0.2, for one) wrote "/" keys under such documents, and readers that trust "." see only fill. The first
        chunk found settles it: a "." key that exists, or else the "/" key of a missing one (an array holds no
        other nodes, so a nested key under it can only be a chunk)."""
        if data is None:
            nested = join(self.path, chunk_key(index, "/"))
            found = self.store.get(nested) if nested != key else None
            if found is None:
                return None, key
            self._separator = "/"
            data, key = found, nested
        self._separator_unsure = False
        return data, key

    # -- read ----------------------------------------------------------------------------------------------
    def __getitem__(self, sel: Any) -> np.ndarray:
        if type(sel) is tuple and len(sel) == len(self.shape) and self.sharding is not None:
            point = self._point(sel)
            if point is not None:
                return self._read_point(point)
        box = normalize_selection(sel, self.shape)
        out = self._read_box(box.start, box.stop)
        if any(s != 1 for s in box.step):
            out = out[tuple(slice(None, None, s) for s in box.step)]
        if box.squeeze:
            out = out.reshape([n for ax, n in enumerate(out.shape) if ax not in box.squeeze])
        return out

    def read(self) -> np.ndarray:
        return self[...]

    # -- single elements of a sharded array ------------------------------------------------------------------
    def _point(self, sel: tuple) -> tuple[int, ...] | None:
        """An index of plain ints within the bounds (negative ones counted from the end), else None."""
        out = []
        for s, n in zip(sel, self.shape):
            if type(s) is not int:
                return None
            i = s + n if s < 0 else s
            if not 0 <= i < n:
                return None  # the general path raises the IndexError
            out.append(i)
        return tuple(out)

    def _read_point(self, point: tuple[int, ...]) -> np.ndarray:
        """One element of a sharded array with a plain inner pipeline (as a 0-d array, like any integer index):
        the shard's index (cached), then the one inner chunk, decoded into the thread's scratch buffer."""
        sharding = self.sharding
        assert sharding is not None
        if (
            self.pipeline.array_array
            or self.pipeline.bytes_bytes
            or not all(type(c) is int for c in self._grid)
            or sharding.inner.direct(ChunkSpec(sharding.chunk_shape, sharding.dtype)) is None
        ):
            return self._read_box(point, tuple(i + 1 for i in point)).reshape(())
        if not self.store.read_only and not self._bulk:
            check_complete(self.store, self.path)
        shard = tuple(i // c for i, c in zip(point, self._grid))
        within = tuple(i - s * c for i, s, c in zip(point, shard, self._grid))
        inner = tuple(i // c for i, c in zip(within, sharding.chunk_shape))
        at = tuple(i - j * c for i, j, c in zip(within, inner, sharding.chunk_shape))
        key = self.chunk_key(shard)
        out = np.empty((), dtype=self.dtype)
        reader = open_reader(self.store, key)
        if reader is None:
            sharding.fill(out)
            return out
        try:
            index = self._shard_index(reader, sharding, key)
            data = None if index is None else sharding.inner_bytes(reader, index, inner, key)
        finally:
            reader.close()
        if data is None:
            sharding.fill(out)
        else:
            sharding.decode_inner_into(data, out, tuple(slice(i, i + 1) for i in at), key)
        return out

    def _read_box(self, start: Sequence[int], stop: Sequence[int]) -> np.ndarray:
        shape = tuple(b - a for a, b in zip(start, stop))
        self._check_alloc(shape)
        if not self.store.read_only and not self._bulk:
            check_complete(self.store, self.path)
        try:
            out = np.empty(shape, dtype=self.dtype, order=self._result_order)
        except MemoryError:
            nbytes = math.prod(shape) * self.dtype.itemsize
            raise MetadataError(self.meta_key, f"cannot allocate {nbytes} bytes to read {list(shape)}") from None
        parts = list(chunk_parts(start, stop, self.shape, self._grid))
        if self.sharding is not None and not self.pipeline.array_array and not self.pipeline.bytes_bytes:
            self._read_shards(parts, out)
            return out
        reuse = type(self.store) is LocalStore

        def one(part: ChunkPart) -> None:
            shape = part.shape
            pipeline = self.pipeline_for(shape)
            direct = pipeline.direct(self._spec(shape))
            unsure = self._separator_unsure  # read before the key: a thread that settles sets the separator first
            key = self.chunk_key(part.index)
            bound = self._stored_bound(shape)
            # a plain chunk is decoded at once: read into the thread's reused buffer (no fresh pages per chunk)
            data: Any = (
                self.store.get_reused(key, bound)  # type: ignore[attr-defined]
                if reuse and direct is not None
                else self.store.get_bounded(key, bound)
            )
            if unsure:
                data, key = self._settle_separator(part.index, key, data)
            if data is None:
                out[part.in_region] = self._fill_scalar()
                return
            dst = out[part.in_region + (Ellipsis,)]
            if direct is not None and direct.decode_to(
                data, dst, None if part.whole and part.interior else part.in_chunk
            ):
                return
            chunk = self.decode_chunk(bytes(data), key, shape)  # not plain, or damaged: the full pipeline says how
            dst[...] = chunk[part.in_chunk + (Ellipsis,)]

        _run(one, parts, self.store.remote)
        return out

    def _stored_bound(self, shape: tuple[int, ...]) -> int:
        found = self._bounds.get(shape)
        if found is None:
            found = self._bounds[shape] = self.pipeline_for(shape).stored_bound(self._spec(shape))
        return found

    # -- sharded reads ---------------------------------------------------------------------------------------
    def _read_shards(self, parts: list[ChunkPart], out: np.ndarray) -> None:
        """Each shard's index once, then its inner chunks decoded straight into ``out``. Many shards: a shard a
        task (its bytes read into the thread's reused buffer); fewer than two a thread: the inner chunks of all
        of them are the tasks. A part of a shard reads only the inner chunks it touches (the index cached)."""
        threads = io_pool(self.store.remote)._max_workers
        if len(parts) > 2 * threads - 1:  # else a region's few shards, unevenly touched, would leave threads idle

            def shard(part: ChunkPart) -> None:
                readers: list[RangeReader] = []
                try:
                    for job in self._shard_jobs(part, out, True, readers):
                        job()
                finally:
                    for r in readers:
                        r.close()

            _run(shard, parts, self.store.remote)
            return
        readers: list[RangeReader] = []
        try:
            jobs = [job for part in parts for job in self._shard_jobs(part, out, False, readers)]
            _run(lambda job: job(), jobs, self.store.remote)
        finally:
            for r in readers:
                r.close()

    def _shard_jobs(self, part: ChunkPart, out: np.ndarray, reuse: bool, readers: list[RangeReader]) -> list[Any]:
        """The decodes of the inner chunks ``part`` needs, as callables: a whole shard's bytes are read here, a
        part's inner chunks are each read by their job (reads run on the threads too); empty inner chunks and a
        missing shard are filled here. A reader opened is added to ``readers``: the caller closes it once the
        jobs ran."""
        key = self.chunk_key(part.index)
        sharding = self.pipeline_for(part.shape).array_bytes
        assert isinstance(sharding, ShardingCodec)
        dst = out[part.in_region + (Ellipsis,)]
        jobs: list[Any] = []
        if part.whole:
            bound = self._stored_bound(part.shape)
            data: Any = (
                self.store.get_reused(key, bound)  # type: ignore[attr-defined]
                if reuse and type(self.store) is LocalStore
                else self.store.get_bounded(key, bound)
            )
            if data is None:
                sharding.fill(dst)
                return jobs
            view = memoryview(data)
            index = sharding.index_of(view, key)
            for inner in sharding.inner_parts(part.in_chunk):
                where = dst[inner.dst + (Ellipsis,)]
                ext = sharding._extent(index, inner.idx, len(view), key)
                if ext is None:
                    sharding.fill(where)
                else:
                    raw = view[ext[0] : ext[0] + ext[1]]
                    jobs.append(functools.partial(sharding.decode_inner_into, raw, where, inner.src, key))
            return jobs
        reader = open_reader(self.store, key)
        if reader is None:
            sharding.fill(dst)
            return jobs
        readers.append(reader)
        cached = self._shard_index(reader, sharding, key)
        if cached is None:
            sharding.fill(dst)
            return jobs
        for inner in sharding.inner_parts(part.in_chunk):
            where = dst[inner.dst + (Ellipsis,)]
            if sharding._extent(cached, inner.idx, None, key) is None:
                sharding.fill(where)
            else:
                jobs.append(functools.partial(_read_inner, sharding, reader, cached, inner.idx, where, inner.src, key))
        return jobs

    def _shard_index(self, reader: RangeReader, sharding: ShardingCodec, key: str) -> np.ndarray | None:
        """The shard's index, from this array's cache when the file is the version it was read from (a local
        file's device, inode, size, mtime and ctime from the reader's one fstat; other stores: never cached)."""
        sig = reader.signature
        if sig is not None:
            hit = self._index_cache.get(key)
            if hit is not None and hit[0] == sig:
                return hit[1]
        index = sharding.read_index(reader, key)
        if sig is not None and index is not None:
            if len(self._index_cache) >= INDEX_CACHE_ENTRIES:
                self._index_cache.clear()
            self._index_cache[key] = (sig, index)
        return index

    # -- write ---------------------------------------------------------------------------------------------
    def __setitem__(self, sel: Any, value: Any) -> None:
        box = normalize_selection(sel, self.shape)
        if any(s != 1 for s in box.step):
            raise IndexError("writing with slice steps is not supported")
        region = tuple(b - a for a, b in zip(box.start, box.stop))
        value = np.asarray(value, dtype=self.dtype) if self.dtype.kind != "O" else _object_array(value)
        if box.squeeze:
            value = np.expand_dims(value, box.squeeze) if value.ndim == len(region) - len(box.squeeze) else value
        try:
            value = np.broadcast_to(value, region)
        except ValueError:
            raise ValueError(f"cannot write an array of shape {value.shape} into region {list(region)}") from None

        def one(part: ChunkPart) -> None:
            if part.whole and part.interior:
                self.write_chunk(part.index, value[part.in_region + (Ellipsis,)])  # Ellipsis: a 0-d view
            elif part.whole:
                chunk = self._fill_chunk(part.shape)
                chunk[part.in_chunk] = value[part.in_region + (Ellipsis,)]
                self.write_chunk(part.index, chunk)
            else:
                with self.store.lock(self.path):  # read-modify-write: another writer must not slip in between
                    old = self.read_chunk(part.index)
                    chunk = self._fill_chunk(part.shape) if old is None else chunk_in_memory_order(old, self.order)
                    chunk[part.in_chunk] = value[part.in_region + (Ellipsis,)]
                    self.write_chunk(part.index, chunk)

        parts = list(chunk_parts(box.start, box.stop, self.shape, self._grid))
        with contextlib.nullcontext() if self._bulk else writing(self.store, self.path):
            _run(one, parts, self.store.remote)

    def write(self, value: Any) -> None:
        self[...] = value

    def write_chunk(self, index: Sequence[int], chunk: np.ndarray) -> None:
        key = self.chunk_key(index)
        self._index_cache.pop(key, None)
        if not self.write_empty_chunks and self._is_fill(chunk):
            self.store.delete(key)
            return
        pipeline = self.pipeline_for(self.chunk_shape(index))
        try:
            data = pipeline.encode(chunk)
        except PolyZarrError as e:
            raise type(e)(key, e.message) from None
        if isinstance(pipeline.array_bytes, ShardingCodec) and pipeline.array_bytes.all_empty(data):
            self.store.delete(key)  # every inner chunk is fill: no shard, as zarr-python
            return
        if self._written is not None:
            self._written.add(key)
        self.store.set(key, data)

    def _is_fill(self, chunk: np.ndarray) -> bool:
        """Every element's bytes equal the fill value's (so NaN fills compare equal); cheap when the first differs."""
        if self.fill_value is None:
            return False
        if self.dtype.kind == "O":
            return all(x == self.fill_value for x in chunk.flat)
        if chunk.size == 0:
            return True
        fill = np.frombuffer(np.full((), self.fill_value, dtype=self.dtype).tobytes(), np.uint8)
        flat = chunk.reshape(-1) if chunk.flags.contiguous or chunk.flags.f_contiguous else np.ravel(chunk, order="K")
        rows = (
            flat.view(np.uint8).reshape(-1, fill.size)
            if flat.flags.contiguous
            else np.ascontiguousarray(flat).view(np.uint8).reshape(-1, fill.size)
        )
        if not np.array_equal(rows[0], fill) or not np.array_equal(rows[-1], fill):
            return False
        return bool((rows == fill).all())


def _check_object_codecs(meta: md.ArrayMetadataV2, key: str) -> None:
    """An object codec (vlen-*, json2, msgpack2, pickle; categorize with an object dtype) under a dtype that is
    not |O would fill a typed array with Python objects: invalid metadata."""
    if meta.dtype.kind == "O":
        return
    for i, f in enumerate(meta.filters or []):
        is_object, _ = registry.v2_object_type(f["id"])
        if is_object and (f["id"] != "categorize" or f.get("dtype") in ("|O", "O", "object")):
            raise MetadataError(
                f"{key}:filters[{i}]", f"{f['id']} is an object codec, but the dtype is {meta.dtype.str}, not |O"
            )


def _object_array(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return value.astype(object)
    arr = np.empty(np.shape(value), dtype=object)
    arr[...] = value
    return arr


def _read_inner(
    sharding: ShardingCodec,
    reader: RangeReader,
    index: np.ndarray,
    idx: tuple[int, ...],
    dst: np.ndarray,
    src: tuple[slice, ...] | None,
    key: str,
) -> None:
    """One inner chunk of a shard read by its range and decoded into ``dst`` (a job of ``_shard_jobs``)."""
    data = sharding.inner_bytes(reader, index, idx, key)
    if data is None:
        sharding.fill(dst)
    else:
        sharding.decode_inner_into(data, dst, src, key)


def _run(fn: Any, parts: list, remote: bool) -> None:
    """``fn`` on every part on the shared pool: one task per thread, each taking the next part until none are
    left (no future per part, and a thread that is held up by another process leaves its share to the others);
    the calling thread is one of them (it would only wait: one thread fewer to wake for every read); the first
    failure stops the rest and is raised once every task has stopped."""
    if len(parts) <= 1:
        for p in parts:
            fn(p)
        return
    pool = io_pool(remote)
    todo = iter(parts)
    lock = threading.Lock()
    failed: list[BaseException] = []

    def worker() -> None:
        while not failed:
            with lock:
                p = next(todo, _DONE)
            if p is _DONE:
                return
            try:
                fn(p)
            except BaseException as e:
                failed.append(e)
                raise

    futures = [pool.submit(worker) for _ in range(min(len(parts), pool._max_workers) - 1)]
    with contextlib.suppress(BaseException):  # recorded in ``failed``
        worker()
    for f in futures:
        with contextlib.suppress(BaseException):
            f.result()
    if failed:
        raise failed[0]


_DONE = object()


# ---------------------------------------------------------------------------------------------------------
# The write protocol (docs/CONTRACT.md "Write guarantees"): marker first, chunks, metadata last, marker deleted


def marker_document() -> bytes:
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"writer": "polyzarr-python", "pid": os.getpid(), "started": started}).encode()


def incomplete_error(store: Store, path: str, data: bytes | None = None) -> StoreError:
    """The error a reader gives for an array whose write never finished (its marker is there)."""
    key = join(path, MARKER)
    data = store.get(key) if data is None else data
    try:
        doc = json.loads(data or b"{}")
        pid, started = doc.get("pid", "?"), doc.get("started", "?")
    except (ValueError, AttributeError, UnicodeDecodeError):
        pid, started = "?", "?"
    return StoreError(
        key,
        f"the array is incomplete: a polyzarr write (pid {pid}, started {started}) did not finish; "
        "rewrite it or delete the marker",
    )


def check_complete(store: Store, path: str) -> None:
    """StoreError when the array at ``path`` carries the marker of an unfinished write."""
    data = store.get(join(path, MARKER)) if store.uses_marker else None
    if data is not None:
        raise incomplete_error(store, path, data)


@contextlib.contextmanager
def writing(store: Store, path: str) -> Any:
    """The marker is there while the block runs, and stays when it fails (the array is then incomplete)."""
    if not store.uses_marker or store.read_only:  # read-only: the first chunk's write says so
        yield
        return
    key = join(path, MARKER)
    store.set(key, marker_document())
    yield
    store.delete(key)


def write_new_array(store: Store, path: str, values: np.ndarray, **create: Any) -> Array:
    """Create the array at ``path`` and write ``values`` into it by the write protocol: the marker first, then
    the chunks, the metadata last, then the marker is deleted. On any failure what was written is deleted (best
    effort) and the error raised; a crash leaves no metadata, or the marker."""
    arr = create_array(store, path, values.shape, values.dtype, publish=False, **create)
    arr._written, arr._bulk = set(), True
    try:
        with writing(store, path):
            arr.write(values)
            arr.publish()
    except BaseException:
        for k in [k for k, _ in arr._pending_all] + sorted(arr._written) + [join(path, MARKER)]:
            with contextlib.suppress(Exception):
                store.delete(k)
        raise
    finally:
        arr._written, arr._bulk = None, False
    return arr


def open_array(store: Store, path: str = "", meta: Metadata | dict | None = None) -> Array:
    """Open the array at ``path`` (v3 ``zarr.json`` or v2 ``.zarray``); ``meta`` may come from consolidated
    metadata (parsed, or the JSON document). An array whose write did not finish is a StoreError (a read-only
    store's at once; a writable one's when it is read, so that writers sharing the array can open it)."""
    if store.read_only:
        check_complete(store, path)
    try:
        return _open_array(store, path, meta)
    except INVALID as e:
        raise invalid_metadata(store, path, e) from None


# what interpreting a document of the right JSON but the wrong shapes somewhere a check missed may raise
INVALID = (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError, OverflowError)


def invalid_metadata(store: Store, path: str, e: Exception) -> MetadataError:
    key = join(path, ZARR_JSON if store.get(join(path, ZARR_JSON)) is not None else md.ZARRAY)
    return MetadataError(key, f"invalid metadata ({type(e).__name__}: {e})")


def _open_array(store: Store, path: str, meta: Metadata | dict | None) -> Array:
    if isinstance(meta, dict):
        meta = parse_array_document(meta, path)
    if meta is None:
        k3 = join(path, ZARR_JSON)
        data = store.get(k3)
        if data is not None:
            doc = md.loads_object(data, k3)
            if doc.get("node_type") == "group":
                raise MetadataError(k3, f"a group, not an array, in {store.url}")
            meta = ArrayMetadataV3.from_dict(doc, k3)
        else:
            key = join(path, md.ZARRAY)
            data = store.get(key)
            if data is None:
                raise MetadataError(key, f"no array here (neither zarr.json nor .zarray) in {store.url}")
            meta = md.ArrayMetadataV2.from_json(data, key)
    return Array(store, path, meta)


def parse_array_document(doc: dict, path: str, zarr_format: int | None = None) -> Metadata:
    """A parsed .zarray (``zarr_format=2``) or zarr.json (3) document → metadata; which file it came from decides
    (a .zarray claiming format 3 is a broken .zarray). Without ``zarr_format``, the document's own field does."""
    fmt = zarr_format if zarr_format is not None else (3 if doc.get("zarr_format") == 3 else 2)
    if fmt == 3:
        return ArrayMetadataV3.from_dict(doc, join(path, ZARR_JSON))
    return md.ArrayMetadataV2.from_dict(doc, join(path, md.ZARRAY))


NODE_DOCUMENTS = (ZARR_JSON, md.ZARRAY, md.ZGROUP, md.ZATTRS)


def node_exists(store: Store, path: str) -> str | None:
    """The key that makes ``path`` a node (a metadata document, or an unfinished write's marker), or None."""
    names = (md.ZARRAY, md.ZGROUP, ZARR_JSON) + ((MARKER,) if store.uses_marker else ())
    return next((k for k in (join(path, n) for n in names) if store.exists(k)), None)


def _existing_node(store: Store, path: str, overwrite: bool) -> None:
    existing = node_exists(store, path)
    if existing:
        if not overwrite:
            raise StoreError(existing, "a node already exists here; pass overwrite=True (--overwrite) to replace it")
        # the metadata first: from then on no reader takes what is left for a complete array
        for name in NODE_DOCUMENTS:
            store.delete(join(path, name))
        for k in store.list(path):
            store.delete(k)


def create_array(
    store: Store,
    path: str,
    shape: Sequence[int],
    dtype: Any,
    chunks: Sequence[int] | None = None,
    order: str = "C",
    compressor: dict | str | None = "default",
    filters: list[dict] | None = None,
    fill_value: Any = "default",
    dimension_separator: str | None = None,
    attributes: dict | None = None,
    object_codec: str | None = None,
    overwrite: bool = False,
    write_empty_chunks: bool = False,
    zarr_format: int = 2,
    publish: bool = True,
    **v3: Any,
) -> Array:
    """Create an array's metadata (no chunks). Refuses to replace an existing node unless ``overwrite``.

    ``zarr_format=3`` takes the v3 options of ``create_array_v3`` as keywords (``codecs``, ``shards``, ``transpose``,
    ``dimension_names``, ``chunk_key_encoding``, ``data_type``, ``endian``)."""
    if zarr_format == 3:
        if filters:
            raise MetadataError(join(path, ZARR_JSON), "v3 has no filters: use codecs")
        if order not in ("C", "F"):
            raise MetadataError(join(path, ZARR_JSON), f'order must be "C" or "F", got {order!r}')
        # v3 has no order: "F" is a transpose with the full reversal (the chunks' bytes as v2's order F), as
        # PolyZarr.jl writes it; an explicit transpose or codec list wins
        if not is_c_order(order) and v3.get("transpose") is None and v3.get("codecs") is None:
            v3["transpose"] = memory_permutation(len(tuple(shape)), order)
        return create_array_v3(
            store,
            path,
            shape,
            dtype,
            chunks,
            compressor=compressor,
            fill_value=fill_value,
            separator=dimension_separator,
            attributes=attributes,
            object_codec=object_codec,
            overwrite=overwrite,
            write_empty_chunks=write_empty_chunks,
            publish=publish,
            **v3,
        )
    if zarr_format != 2:
        raise MetadataError("zarr_format", f"Zarr format {zarr_format} does not exist (2 or 3)")
    if v3:
        raise MetadataError(join(path, md.ZARRAY), f"options {sorted(v3)} are v3 only (zarr_format=3)")
    key = join(path, md.ZARRAY)
    dt = np.dtype(dtype) if not isinstance(dtype, (str, list)) else md.parse_dtype(dtype, key)
    shape = tuple(int(s) for s in shape)
    if chunks is None:
        chunks = tuple(max(1, s) for s in shape)
    if compressor == "default":
        compressor = DEFAULT_COMPRESSOR
    if dt.kind == "O":
        if object_codec is None and not any(registry.v2_object_type(f.get("id", ""))[0] for f in filters or []):
            raise MetadataError(
                key, "object dtype needs an object codec: object_codec='vlen-utf8', 'vlen-bytes' or 'json2'"
            )
        if object_codec is not None:
            filters = list(filters or []) + [{"id": object_codec}]
    # Store each codec's full numcodecs config, as zarr-python does.
    compressor = registry.v2_json(compressor, f"{key}:compressor") if compressor is not None else None
    filters = [registry.v2_json(f, f"{key}:filters[{i}]") for i, f in enumerate(filters or [])] or None
    fill = (
        md.default_fill_value(dt)
        if isinstance(fill_value, str) and fill_value == "default"
        else md.normalize_fill_value(fill_value, dt, f"{key}:fill_value")
    )
    meta = md.ArrayMetadataV2(shape, tuple(chunks), dt, compressor, filters, fill, order, dimension_separator or ".")
    meta = md.ArrayMetadataV2.from_dict(meta.to_dict(), key)  # one validation path for written and read metadata
    _existing_node(store, path, overwrite)
    docs = [(key, meta.to_json())] + ([(join(path, md.ZATTRS), md.dumps(attributes))] if attributes else [])
    return _publishing(Array(store, path, meta, write_empty_chunks), docs, publish)


def _publishing(arr: Array, docs: list[tuple[str, bytes]], publish: bool) -> Array:
    arr._pending = list(docs)
    arr._pending_all = list(docs)
    if publish:
        arr.publish()
    return arr


DEFAULT_V3_COMPRESSOR = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}  # zarr-python 3's


def default_v3_codecs(
    dt: np.dtype,
    object_type: type | None,
    compressor: Any = "default",
    transpose: Sequence[int] | None = None,
    endian: str | None = None,
) -> list[dict]:
    """zarr-python 3's codec choice for a dtype: [transpose], bytes (the dtype's own byte order) or vlen, zstd 0."""
    out: list[dict] = []
    if transpose is not None and list(transpose) != list(range(len(transpose))):
        out.append({"name": "transpose", "configuration": {"order": list(transpose)}})
    if dt.kind == "O":
        out.append({"name": "vlen-utf8" if object_type is str else "vlen-bytes", "configuration": {}})
    else:
        order = endian or v3_byte_order(dt)
        out.append({"name": "bytes", "configuration": {"endian": order}} if order else {"name": "bytes"})
    if compressor == "default":
        out.append(DEFAULT_V3_COMPRESSOR)
    elif compressor is not None:
        out.extend(compressor if isinstance(compressor, list) else [compressor])
    return out


def create_array_v3(
    store: Store,
    path: str,
    shape: Sequence[int],
    dtype: Any,
    chunks: Sequence[int] | None = None,
    *,
    codecs: list[dict] | None = None,
    shards: Sequence[int] | None = None,
    transpose: Sequence[int] | None = None,
    compressor: Any = "default",
    endian: str | None = None,
    data_type: Any = None,
    fill_value: Any = "default",
    chunk_key_encoding: str | dict = "default",
    separator: str | None = None,
    dimension_names: Sequence[str | None] | None = None,
    attributes: dict | None = None,
    object_codec: str | None = None,
    overwrite: bool = False,
    write_empty_chunks: bool = False,
    publish: bool = True,
) -> Array:
    """Create a v3 array (docs/V3.md). ``codecs`` is used as given; otherwise zarr-python 3's defaults, with
    ``transpose``, ``compressor`` (a v3 codec object, a list, or None) and ``endian``. With ``shards``, the chunk
    grid is the shard shape and ``chunks`` the inner chunk shape of a sharding_indexed codec around those codecs.
    ``data_type`` overrides the v3 name (e.g. ``"r16"`` for a ``|V2`` array)."""
    key = join(path, ZARR_JSON)
    dt = np.dtype(dtype) if not isinstance(dtype, (str, list)) else md.parse_dtype(dtype, key)
    shape = tuple(int(s) for s in shape)
    chunks = tuple(chunks) if chunks is not None else tuple(max(1, s) for s in shape)
    if len(chunks) != len(shape):
        raise MetadataError(f"{key}:chunks", f"has {len(chunks)} dimensions, the array has {len(shape)}")
    object_type = _v3_object_type(object_codec or "")
    if dt.kind == "O" and object_type is None:
        found = [_v3_object_type(c.get("name", "")) for c in codecs or []]
        object_type = next((t for t in found if t is not None), None)
        if object_type is None:
            raise MetadataError(key, "an object array needs object_codec='vlen-utf8' or 'vlen-bytes'")
    if data_type is None:
        data_type = encode_v3_dtype(dt, object_type)
    if codecs is None:
        codecs = default_v3_codecs(dt, object_type, compressor, transpose, endian)
    # a list of edge lengths for an axis (of the chunks, or of the shards) makes the grid rectilinear
    grid_chunks, grid = rectilinear_grid(shards if shards is not None else chunks, shape, f"{key}:chunk_grid")
    if shards is not None:
        if not all(isinstance(c, (int, np.integer)) for c in chunks):
            raise MetadataError(f"{key}:chunks", f"with shards, the inner chunk shape must be regular, got {chunks!r}")
        codecs = [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(chunks),
                    "codecs": codecs,
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end",
                },
            }
        ]
    if isinstance(chunk_key_encoding, dict):
        cke = ChunkKeyEncoding.from_json(chunk_key_encoding, f"{key}:chunk_key_encoding")
    else:
        cke = ChunkKeyEncoding(chunk_key_encoding, separator or ("/" if chunk_key_encoding == "default" else "."))
    stored_dt = parse_v3_dtype(data_type, byte_order_of(codecs), f"{key}:data_type")
    if isinstance(fill_value, str) and fill_value == "default":
        fill = default_v3_fill(stored_dt, data_type)
    elif isinstance(fill_value, (np.generic, np.ndarray, bytes)):
        fill = fill_value
    else:  # the JSON encoding, as in zarr.json
        fill = decode_v3_fill(fill_value, stored_dt, data_type, f"{key}:fill_value")
    meta = ArrayMetadataV3(
        shape,
        data_type,
        stored_dt,
        grid_chunks,
        cke,
        fill,
        codecs,
        dict(attributes or {}),
        list(dimension_names) if dimension_names is not None else None,
        grid=grid,
    )
    meta = ArrayMetadataV3.from_dict(json.loads(meta.to_json()), key)  # one validation path for written and read
    _existing_node(store, path, overwrite)
    return _publishing(Array(store, path, meta, write_empty_chunks), [(key, meta.to_json())], publish)


def _v3_object_type(name: str) -> type | None:
    entry = registry.by_v3_name(name)
    return entry.object_type if entry is not None and entry.object_codec else None


def read_chunk_checked(arr: Array, index: Sequence[int]) -> np.ndarray:
    """Read one stored chunk; a missing chunk is an error here (used by tools that inspect chunks)."""
    chunk = arr.read_chunk(index)
    if chunk is None:
        raise ChunkError(arr.chunk_key(index), "chunk is missing")
    return chunk
