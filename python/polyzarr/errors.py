"""The shared error vocabulary (same names as julia/src/errors.jl).

Every error names the store key or JSON path at fault (``key``), then the problem.
"""

from __future__ import annotations


class PolyZarrError(Exception):
    """Base of all polyzarr errors."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)

    @property
    def category(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        return f"{self.category}: {self}"


class MetadataError(PolyZarrError):
    """Invalid or unsupported metadata (.zarray, .zgroup, .zattrs, .zmetadata, zarr.json)."""


class DtypeError(PolyZarrError):
    """A data type string that is malformed or unsupported."""


class CodecError(PolyZarrError):
    """A codec that is unknown, misconfigured, or failed to encode/decode."""


class ChunkError(PolyZarrError):
    """A chunk whose bytes do not decode to the expected size or content."""


class StoreError(PolyZarrError):
    """The store failed: I/O error, S3 error status, permission denied."""


class PathError(PolyZarrError):
    """A key or path that is not allowed (``..``, absolute, empty segments)."""


CATEGORIES = {c.__name__: c for c in (MetadataError, DtypeError, CodecError, ChunkError, StoreError, PathError)}
