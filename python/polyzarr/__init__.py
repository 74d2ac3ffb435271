"""polyzarr: a Zarr implementation for cross-language interop testing (Python side).

The Julia mirror lives in ``julia/`` (package PolyZarr); docs/CONTRACT.md is what both honour.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .arrays import Array, create_array, open_array
from .errors import (
    ChunkError,
    CodecError,
    DtypeError,
    MetadataError,
    PathError,
    PolyZarrError,
    StoreError,
)
from .groups import consolidate_metadata, create_group, walk
from .stores import open_store


def open(url: str, mode: str = "r", endpoint_url: str | None = None) -> Array:
    """Open the array at ``url`` (``out.zarr/a``, ``s3://bucket/x.zarr/a``, ``memory://m/a``, ``f.zip/a``)."""
    from .stores import split_url

    root, path = split_url(url)
    return open_array(open_store(root, mode, endpoint_url), path)


__all__ = [
    "Array",
    "ChunkError",
    "CodecError",
    "DtypeError",
    "MetadataError",
    "PathError",
    "PolyZarrError",
    "StoreError",
    "consolidate_metadata",
    "create_array",
    "create_group",
    "open",
    "open_array",
    "open_store",
    "walk",
]
