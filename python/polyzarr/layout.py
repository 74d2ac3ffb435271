"""The one place that knows axis order: chunk grids, chunk keys, memory layouts and the Julia view.

Zarr shape ``S`` with v2 order ``"C"`` is a numpy array of shape ``S`` and a Julia array of size
``reversed(S)`` over the same bytes; order ``"F"`` stores each chunk in Fortran memory order, which Julia
sees with size ``S``. Everything else in the package asks this module instead of reversing tuples itself.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def memory_permutation(ndim: int, order: str) -> tuple[int, ...]:
    """Axes permutation that turns a logical chunk into its C-contiguous stored form.

    ``"C"``: identity. ``"F"``: full reversal (Fortran bytes of A are the C bytes of A.T).
    """
    return tuple(range(ndim)) if is_c_order(order) else reversed_axes(range(ndim))


def permute(shape: Sequence[int], perm: Sequence[int]) -> tuple[int, ...]:
    """``shape`` after ``transpose(perm)``: axis ``k`` of the result is axis ``perm[k]`` of the input."""
    return tuple(shape[p] for p in perm)


def memory_prefix(box: Sequence[slice], perm: Sequence[int], mem_shape: Sequence[int]) -> int:
    """How many elements of a chunk stored as ``transpose(perm)`` in C order (``mem_shape``: its shape so
    permuted) come up to and including the last element of ``box`` (logical, non-empty slices with explicit
    bounds): the prefix of the stored elements that holds the whole box."""
    last = tuple(box[p].stop - 1 for p in perm)
    return int(np.ravel_multi_index(last, mem_shape)) + 1


def reversed_axes(shape: Sequence[T]) -> tuple[T, ...]:
    """A shape (or index, or grid index) with its axes in the other order: the C ⇄ F and numpy ⇄ Julia flip."""
    return tuple(reversed(shape))


def f_memory_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """Shape of an F-order chunk's bytes read as a C-contiguous array (the logical chunk transposed)."""
    return reversed_axes(shape)


def f_memory_to_logical(arr: np.ndarray) -> np.ndarray:
    """An F-order chunk's memory view (C-contiguous, shape reversed) → the logical chunk, no copy."""
    return arr.T


def f_logical_to_memory(arr: np.ndarray) -> np.ndarray:
    """The logical chunk of an F-order array → its memory view (shape reversed), no copy."""
    return arr.T


def is_c_order(order: str) -> bool:
    """v2 order "C": the chunk's memory order is its logical order (no transpose)."""
    return order == "C"


def julia_view_note(order: str) -> str:
    """One line on how Julia sees an array of this v2 order (``polyzarr inspect --both``)."""
    if is_c_order(order):
        return "C order: Julia sees the axes reversed over the same bytes (no copy); x[i,j,...] is A[...,j+1,i+1]."
    return "F order: Julia sees numpy's axes (each chunk's bytes are column-major); x[i,j,...] is A[i+1,j+1,...]."


def lists_in_logical_order(order: str) -> bool:
    """Whether nested-list object codecs (json2, msgpack2) see the chunk transposed from its memory view: zarr 2.x
    hands them the logical chunk, which for order "F" is not the C-contiguous memory view."""
    return order == "F"


def empty_chunk(shape: Sequence[int], dtype: np.dtype, order: str) -> np.ndarray:
    """An uninitialised chunk laid out in the array's v2 memory order (so encoding it needs no copy)."""
    return np.empty(tuple(shape), dtype=dtype, order="F" if order == "F" else "C")


def chunk_in_memory_order(chunk: np.ndarray, order: str) -> np.ndarray:
    """A writable copy of ``chunk`` laid out in the array's v2 memory order."""
    return np.array(chunk, order="F" if order == "F" else "C")


def to_julia_view(values: np.ndarray) -> np.ndarray:
    """numpy (shape S, logical order) → the view a column-major consumer (PythonCall) sees as size reversed(S)."""
    return np.asarray(values).T


def from_julia_view(arr: np.ndarray) -> np.ndarray:
    """A column-major array of size reversed(S) seen from numpy (shape reversed(S)) → shape S, logical order."""
    return np.asarray(arr).T


def inverse_permutation(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def julia_size(shape: Sequence[int], order: str) -> tuple[int, ...]:
    """Size of the Julia array PolyZarr.jl returns for a Zarr array of this shape and order."""
    return reversed_axes(shape) if is_c_order(order) else tuple(shape)


def julia_index(index: Sequence[int], order: str) -> tuple[int, ...]:
    """numpy (0-based, Zarr order) index → Julia (1-based) index of the same element."""
    j = tuple(i + 1 for i in index)
    return reversed_axes(j) if is_c_order(order) else j


def julia_strides(shape: Sequence[int], order: str) -> tuple[int, ...]:
    """Julia strides (in elements) of the Julia view of a chunk-sized array: always column-major."""
    size = julia_size(shape, order)
    out, acc = [], 1
    for s in size:
        out.append(acc)
        acc *= s
    return tuple(out)


def julia_dimension_names(names: Sequence[str] | None, order: str) -> list[str] | None:
    """xarray's ``_ARRAY_DIMENSIONS`` (Zarr order) as PolyZarr.jl exposes them."""
    if names is None:
        return None
    return list(reversed_axes(names)) if is_c_order(order) else list(names)


def chunk_key(index: Sequence[int], sep: str) -> str:
    """Chunk grid index (Zarr order, 0-based) → key relative to the array. A 0-d array's one chunk is "0"."""
    return sep.join(str(i) for i in index) if index else "0"


AxisChunks = int | Sequence[int]  # a regular axis: its chunk size; a rectilinear axis: its chunk edge lengths


def _axis_chunks(c: AxisChunks, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """(grid index, origin, size) of the chunks of one axis that intersect ``[lo, hi)`` (hi > lo)."""
    if isinstance(c, int):
        for i in range(lo // c, (hi - 1) // c + 1):
            yield i, i * c, c
        return
    offsets = list(itertools.accumulate(c, initial=0))
    for i in range(bisect.bisect_right(offsets, lo) - 1, bisect.bisect_right(offsets, hi - 1)):
        yield i, offsets[i], c[i]


def axis_grid(extent: int, c: AxisChunks) -> int:
    """How many chunks of one axis hold data for an axis of this extent."""
    if isinstance(c, int):
        return math.ceil(extent / c)
    return bisect.bisect_left(list(itertools.accumulate(c)), extent) + 1 if extent else 0


def grid_shape(shape: Sequence[int], chunks: Sequence[AxisChunks]) -> tuple[int, ...]:
    return tuple(axis_grid(s, c) for s, c in zip(shape, chunks))


def chunk_shape_at(index: Sequence[int], chunks: Sequence[AxisChunks]) -> tuple[int, ...]:
    """The full shape of the chunk at a grid index (rectilinear axes: that chunk's edge length)."""
    return tuple(c if isinstance(c, int) else c[i] for i, c in zip(index, chunks))


@dataclass(frozen=True)
class ChunkPart:
    """One chunk's share of a region: its grid index, the part of the chunk, the part of the region."""

    index: tuple[int, ...]
    in_chunk: tuple[slice, ...]
    in_region: tuple[slice, ...]
    whole: bool  # the part covers every element of the chunk that lies inside the array
    shape: tuple[int, ...] = ()  # the chunk's full shape
    interior: bool = False  # the chunk lies entirely inside the array (no edge padding)


def chunk_parts(
    start: Sequence[int], stop: Sequence[int], shape: Sequence[int], chunks: Sequence[AxisChunks]
) -> Iterator[ChunkPart]:
    """The chunks that intersect the box ``[start, stop)``, in key order (last axis fastest). An axis of
    ``chunks`` is a chunk size (regular grid) or the list of its chunk edge lengths (rectilinear grid)."""
    axes = []
    for a, b, c in zip(start, stop, chunks):
        if b <= a:
            return
        axes.append(list(_axis_chunks(c, a, b)))
    for combo in itertools.product(*axes):
        in_chunk, in_region, whole, interior = [], [], True, True
        for (_, c0, c), a, b, s in zip(combo, start, stop, shape):
            lo, hi = max(a, c0), min(b, c0 + c)
            in_chunk.append(slice(lo - c0, hi - c0))
            in_region.append(slice(lo - a, hi - a))
            whole &= lo == c0 and hi == min(c0 + c, s)
            interior &= c0 + c <= s
        yield ChunkPart(
            tuple(i for i, _, _ in combo),
            tuple(in_chunk),
            tuple(in_region),
            whole,
            tuple(c for _, _, c in combo),
            interior,
        )
