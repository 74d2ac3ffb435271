"""``pcodec``: numcodecs.PCodec (the PyPI package ``pcodec``): numeric compression that needs the typed chunk. v3
``numcodecs.pcodec`` is an array→bytes codec (zarr-python's serializer); in v2 it is the compressor, which zarr-python
hands the typed chunk (the pipeline's bytes step keeps the dtype). Without the package: a CodecError naming it."""

from __future__ import annotations

from .pipeline import numcodecs_serializer_v3
from .registry import ARRAY_BYTES, CodecEntry, register

register(CodecEntry("pcodec", ARRAY_BYTES, "pcodec", ("numcodecs.pcodec",), numcodecs_serializer_v3, requires="pcodec"))
