"""Zarr arrays: open, create, read and write any region, chunk by chunk.

Reading allocates the result once and decodes each chunk into its place (chunks in parallel: numcodecs
releases the GIL); F-order chunks are viewed in Fortran layout, never transposed as a whole array.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import metadata as md
from .codecs import ChunkSpec, CodecPipeline, get_codec
from .errors import ChunkError, MetadataError, PolyZarrError, StoreError
from .layout import ChunkPart, chunk_key, chunk_parts
from .stores import Store, io_pool, join

DEFAULT_COMPRESSOR = {"id": "zstd", "level": 0}  # zarr-python 3's default for zarr_format=2

OBJECT_CODECS = {"vlen-utf8": str, "vlen-bytes": bytes, "vlen-array": None, "json2": None, "json": None, "pickle": None,
                 "msgpack2": None, "categorize": str}


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
        sel = sel[:i] + (slice(None),) * (len(shape) - len(sel) + 1) + sel[i + 1:]
    if len(sel) > len(shape):
        raise IndexError(f"too many indices: {len(sel)} for {len(shape)} dimensions")
    sel = sel + (slice(None),) * (len(shape) - len(sel))
    start, stop, step, squeeze = [], [], [], []
    for ax, (s, n) in enumerate(zip(sel, shape)):
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            i = int(s) + n if s < 0 else int(s)
            if not 0 <= i < n:
                raise IndexError(f"index {s} is out of bounds for axis {ax} with size {n}")
            start.append(i), stop.append(i + 1), step.append(1), squeeze.append(ax)
        elif isinstance(s, slice):
            a, b, c = s.indices(n)
            if c < 1:
                raise IndexError("only positive slice steps are supported")
            b = max(a, b)
            start.append(a), stop.append(b), step.append(c)
        else:
            raise IndexError(f"unsupported index {s!r}: use integers, slices and Ellipsis")
    return Box(tuple(start), tuple(stop), tuple(step), tuple(squeeze))


class Array:
    """A Zarr v2 array in a store."""

    def __init__(self, store: Store, path: str, meta: md.ArrayMetadataV2, write_empty_chunks: bool = False):
        self.store = store
        self.path = path.strip("/")
        self.meta = meta
        self.write_empty_chunks = write_empty_chunks
        self.meta_key = join(self.path, md.ZARRAY)
        self.pipeline = CodecPipeline.from_v2(meta.order, meta.filters, meta.compressor, self.meta_key)
        self._attrs: dict | None = None

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
        for f in self.meta.filters or []:
            if f["id"] in OBJECT_CODECS:
                return OBJECT_CODECS[f["id"]]
        return None

    def __repr__(self) -> str:
        return f"<polyzarr.Array {self.store.url}/{self.path} shape={self.shape} chunks={self.chunks} dtype={self.dtype.str} order={self.order}>"

    def chunk_key(self, index: Sequence[int]) -> str:
        return join(self.path, chunk_key(index, self.meta.dimension_separator))

    # -- fill ----------------------------------------------------------------------------------------------
    def _fill_scalar(self) -> Any:
        fv = self.fill_value
        if fv is not None:
            return fv
        if self.dtype.kind == "O":
            t = self.object_type
            return t() if t is not None else None
        return np.zeros((), dtype=self.dtype)[()]

    def _fill_chunk(self) -> np.ndarray:
        chunk = np.empty(self.chunks, dtype=self.dtype, order=self.order)
        chunk[...] = self._fill_scalar()
        return chunk

    def _check_alloc(self, shape: Sequence[int]) -> None:
        nbytes = math.prod(shape) * self.dtype.itemsize
        if nbytes > md.max_read_bytes():
            raise MetadataError(self.meta_key, f"reading {list(shape)} × {self.dtype.itemsize} bytes = {nbytes} bytes exceeds the limit of {md.max_read_bytes()} (POLYZARR_MAX_BYTES)")

    # -- chunks --------------------------------------------------------------------------------------------
    def _spec(self) -> ChunkSpec:
        return ChunkSpec(self.chunks, self.dtype)

    def decode_chunk(self, data: bytes, key: str) -> np.ndarray:
        return self.pipeline.decode(data, self._spec(), key)

    def read_chunk(self, index: Sequence[int]) -> np.ndarray | None:
        key = self.chunk_key(index)
        data = self.store.get(key)
        return None if data is None else self.decode_chunk(data, key)

    # -- read ----------------------------------------------------------------------------------------------
    def __getitem__(self, sel: Any) -> np.ndarray:
        box = normalize_selection(sel, self.shape)
        out = self._read_box(box.start, box.stop)
        if any(s != 1 for s in box.step):
            out = out[tuple(slice(None, None, s) for s in box.step)]
        if box.squeeze:
            out = out.reshape([n for ax, n in enumerate(out.shape) if ax not in box.squeeze])
        return out

    def read(self) -> np.ndarray:
        return self[...]

    def _read_box(self, start: Sequence[int], stop: Sequence[int]) -> np.ndarray:
        shape = tuple(b - a for a, b in zip(start, stop))
        self._check_alloc(shape)
        out = np.empty(shape, dtype=self.dtype)
        parts = list(chunk_parts(start, stop, self.shape, self.chunks))

        def one(part: ChunkPart) -> None:
            chunk = self.read_chunk(part.index)
            if chunk is None:
                out[part.in_region] = self._fill_scalar()
            else:
                out[part.in_region] = chunk[part.in_chunk + (Ellipsis,)]

        _run(one, parts, self.store.remote)
        return out

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
            full_interior = part.whole and all(
                (i + 1) * c <= n for i, c, n in zip(part.index, self.chunks, self.shape)
            )
            if full_interior:
                chunk = value[part.in_region + (Ellipsis,)]  # Ellipsis: a 0-d view, not a scalar
            else:
                chunk = None if part.whole else self.read_chunk(part.index)
                chunk = self._fill_chunk() if chunk is None else np.array(chunk, order=self.order)
                chunk[part.in_chunk] = value[part.in_region + (Ellipsis,)]
            self.write_chunk(part.index, chunk)

        _run(one, list(chunk_parts(box.start, box.stop, self.shape, self.chunks)), self.store.remote)

    def write(self, value: Any) -> None:
        self[...] = value

    def write_chunk(self, index: Sequence[int], chunk: np.ndarray) -> None:
        key = self.chunk_key(index)
        if not self.write_empty_chunks and self._is_fill(chunk):
            self.store.delete(key)
            return
        try:
            data = self.pipeline.encode(chunk)
        except PolyZarrError as e:
            raise type(e)(key, e.message) from None
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
        rows = flat.view(np.uint8).reshape(-1, fill.size) if flat.flags.contiguous else np.ascontiguousarray(flat).view(np.uint8).reshape(-1, fill.size)
        if not np.array_equal(rows[0], fill) or not np.array_equal(rows[-1], fill):
            return False
        return bool((rows == fill).all())


def _object_array(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return value.astype(object)
    arr = np.empty(np.shape(value), dtype=object)
    arr[...] = value
    return arr


def _run(fn: Any, parts: list, remote: bool) -> None:
    if len(parts) <= 1:
        for p in parts:
            fn(p)
        return
    for f in [io_pool(remote).submit(fn, p) for p in parts]:
        f.result()


def open_array(store: Store, path: str = "", meta: md.ArrayMetadataV2 | None = None) -> Array:
    """Open the array at ``path``; ``meta`` may come from consolidated metadata."""
    key = join(path, md.ZARRAY)
    if meta is None:
        data = store.get(key)
        if data is None:
            raise MetadataError(key, f"no array here (missing .zarray) in {store.url}")
        meta = md.ArrayMetadataV2.from_json(data, key)
    return Array(store, path, meta)


def create_array(
    store: Store,
    path: str,
    shape: Sequence[int],
    dtype: Any,
    chunks: Sequence[int] | None = None,
    order: str = "C",
    compressor: dict | None | str = "default",
    filters: list[dict] | None = None,
    fill_value: Any = "default",
    dimension_separator: str = ".",
    attributes: dict | None = None,
    object_codec: str | None = None,
    overwrite: bool = False,
    write_empty_chunks: bool = False,
) -> Array:
    """Create an array's metadata (no chunks). Refuses to replace an existing node unless ``overwrite``."""
    key = join(path, md.ZARRAY)
    dt = np.dtype(dtype) if not isinstance(dtype, (str, list)) else md.parse_dtype(dtype, key)
    shape = tuple(int(s) for s in shape)
    if chunks is None:
        chunks = tuple(max(1, s) for s in shape)
    if compressor == "default":
        compressor = DEFAULT_COMPRESSOR
    if dt.kind == "O":
        if object_codec is None and not any(f.get("id") in OBJECT_CODECS for f in filters or []):
            raise MetadataError(key, "object dtype needs an object codec: object_codec='vlen-utf8', 'vlen-bytes' or 'json2'")
        if object_codec is not None:
            filters = list(filters or []) + [{"id": object_codec}]
    # Store each codec's full numcodecs config, as zarr-python does.
    compressor = get_codec(compressor, f"{key}:compressor").get_config() if compressor is not None else None
    filters = [get_codec(f, f"{key}:filters[{i}]").get_config() for i, f in enumerate(filters or [])] or None
    fill = md.default_fill_value(dt) if isinstance(fill_value, str) and fill_value == "default" else md.normalize_fill_value(fill_value, dt, f"{key}:fill_value")
    meta = md.ArrayMetadataV2(shape, tuple(chunks), dt, compressor, filters, fill, order, dimension_separator)
    meta = md.ArrayMetadataV2.from_dict(meta.to_dict(), key)  # one validation path for written and read metadata
    existing = [k for k in (key, join(path, md.ZGROUP)) if store.exists(k)]
    if existing:
        if not overwrite:
            raise StoreError(existing[0], "a node already exists here; pass overwrite=True (--overwrite) to replace it")
        for k in store.list(path):
            store.delete(k)
    store.set(key, meta.to_json())
    if attributes:
        store.set(join(path, md.ZATTRS), md.dumps(attributes))
    return Array(store, path, meta, write_empty_chunks)


def read_chunk_checked(arr: Array, index: Sequence[int]) -> np.ndarray:
    """Read one stored chunk; a missing chunk is an error here (used by tools that inspect chunks)."""
    chunk = arr.read_chunk(index)
    if chunk is None:
        raise ChunkError(arr.chunk_key(index), "chunk is missing")
    return chunk
