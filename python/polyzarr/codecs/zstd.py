"""``zstd``: Zstandard frames (v2 ``zstd``, v3 ``zstd`` with ``level`` and ``checksum``; ``numcodecs.zstd`` with numcodecs' configuration)."""

from __future__ import annotations

import numcodecs

from ..errors import CodecError
from .pipeline import BytesBytesCodec, NumcodecsCompressor, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecContext, CodecEntry, cfg_int, register


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.zstd":
        return numcodecs_compressor_v3(cfg, ctx, where)
    checksum = cfg.get("checksum", False)
    if not isinstance(checksum, bool):
        raise CodecError(where, f"zstd checksum must be true or false, got {checksum!r}")
    level = cfg_int(cfg, "level", where, -131072, 22, 0)
    return NumcodecsCompressor(numcodecs.Zstd(level=level, checksum=checksum))


register(CodecEntry("zstd", BYTES_BYTES, "zstd", ("zstd", "numcodecs.zstd"), from_v3))
