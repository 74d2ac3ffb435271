"""``zfpy``: numcodecs.ZFPY (the PyPI package ``zfpy``, zfp's Python bindings): lossy or lossless float compression of
the typed chunk in its shape (``mode``, ``tolerance``, ``rate``, ``precision``). v3 ``numcodecs.zfpy`` is an
array→bytes codec (zarr-python's serializer); in v2 it is the compressor. Without the package: a CodecError naming it."""

from __future__ import annotations

from .pipeline import numcodecs_serializer_v3
from .registry import ARRAY_BYTES, CodecEntry, register

register(CodecEntry("zfpy", ARRAY_BYTES, "zfpy", ("numcodecs.zfpy",), numcodecs_serializer_v3, requires="zfpy"))
