"""polyzarr: a Zarr implementation for cross-language interop testing (Python side).

The Julia mirror lives in ``julia/`` (package PolyZarr); docs/CONTRACT.md is what both honour.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .arrays import Array, create_array, open_array  # noqa: E402
from .errors import (  # noqa: E402
    ChunkError,
    CodecError,
    DtypeError,
    MetadataError,
    PathError,
    PolyZarrError,
    StoreError,
)
from .groups import consolidate_metadata, create_group, walk  # noqa: E402
from .stores import open_store  # noqa: E402


def open(url: str, mode: str = "r", endpoint_url: str | None = None) -> Array:  # noqa: A001
    """Open the array at ``url`` (``out.zarr/a``, ``s3://bucket/x.zarr/a``, ``memory://m/a``, ``f.zip/a``)."""
    from .stores import split_url

    root, path = split_url(url)
    return open_array(open_store(root, mode, endpoint_url), path)


__all__ = [
    "Array", "open", "open_array", "create_array", "open_store", "walk", "create_group", "consolidate_metadata",
    "PolyZarrError", "MetadataError", "DtypeError", "CodecError", "ChunkError", "StoreError", "PathError",
]
