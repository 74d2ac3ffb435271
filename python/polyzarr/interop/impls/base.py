"""What every adapter shares: where stores go (``Place``), a reader's failure (``ReadFailure``), the .npy form of
a result (``normalize``), and the adapter contract with its declared capability table (``capabilities.py``).

Every case is a store of its own (the array at the store's root): ``<place>/<writer>/<slug>``, where a place
is a local directory or an S3 prefix. Readers return numpy arrays in logical order with the exact dtype;
object arrays come back in their ``.npy`` form (``<U``/``|S`` of the longest element), as ``polyzarr export``
writes them. A failure is returned (not raised) as the exception, so one bad case never hides the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import metadata as md
from ...errors import PolyZarrError
from ...npy import to_npy_array
from ..cases import Case


@dataclass
class Place:
    """Where stores are written: a local directory or an ``s3://bucket/prefix`` (with its endpoint)."""

    kind: str  # "local" | "s3"
    root: str
    endpoint_url: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def url(self, writer: str, case: Case) -> str:
        return f"{self.writer_root(writer)}/{case.slug}"

    def writer_root(self, writer: str) -> str:
        return f"{self.root.rstrip('/')}/{writer}"

    def s3fs(self, asynchronous: bool = False) -> Any:
        """One s3fs filesystem per place (creating one per case costs more than the requests)."""
        key = ("s3fs", asynchronous)
        if key not in self._cache:
            import s3fs

            from ...stores import s3_options

            opts = s3_options(self.endpoint_url)
            self._cache[key] = s3fs.S3FileSystem(asynchronous=asynchronous, **opts)
        return self._cache[key]

    def close(self) -> None:
        """Close the async S3 session zarr-python used (it lives on zarr's own event loop)."""
        fs = self._cache.pop(("s3fs", True), None)
        client = getattr(fs, "_s3", None)
        if client is not None:
            try:
                from zarr.core.sync import sync

                sync(client.close())
            except Exception:
                pass


class ReadFailure(Exception):
    """A reader's failure for one case: the error category (shared vocabulary when it is one) and message."""

    def __init__(self, category: str, message: str):
        self.category = category
        self.message = message
        super().__init__(f"{category}: {message}")


def normalize(values: Any) -> np.ndarray:
    """A reader's result in .npy form: numpy array, object/StringDType → fixed-width <U / |S."""
    arr = np.asarray(values)
    if arr.dtype.kind == "T":  # numpy 2 StringDType (zarr-python 3 may return it for vlen-utf8)
        arr = arr.astype(object)
    return to_npy_array(arr)


def _failure(e: BaseException) -> ReadFailure:
    if isinstance(e, PolyZarrError):
        return ReadFailure(e.category, str(e))
    return ReadFailure(type(e).__name__, str(e))


def fill_for_zarr_python(case: Case) -> Any:
    return md.decode_fill_value(case.fill_json, case.np_dtype, case.id)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
