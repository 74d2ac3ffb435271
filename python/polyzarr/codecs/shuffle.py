"""``shuffle``: byte shuffle by element size (numcodecs.Shuffle), a v2 filter working on the chunk's bytes, and v3's
``numcodecs.shuffle`` (bytes→bytes; without ``elementsize`` zarr-python takes the data type's item size)."""

from __future__ import annotations

from .pipeline import BytesBytesCodec, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecContext, CodecEntry, register


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if cfg.get("elementsize") is None:
        cfg = {**cfg, "elementsize": max(ctx.dtype.itemsize, 1)}
    return numcodecs_compressor_v3(cfg, ctx, where)


register(CodecEntry("shuffle", BYTES_BYTES, "shuffle", ("numcodecs.shuffle",), from_v3))
