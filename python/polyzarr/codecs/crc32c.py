"""``crc32c``: a 4-byte CRC32C (Castagnoli) after the data (v3 ``crc32c`` and ``numcodecs.crc32c``;
numcodecs ``crc32c`` in v2)."""

from __future__ import annotations

from typing import Any

import numcodecs

from ..errors import ChunkError, CodecError
from .pipeline import BytesBytesCodec, NumcodecsCompressor, too_big
from .registry import BYTES_BYTES, CodecContext, CodecEntry, numcodecs_v3_codec, register


class Checksum(NumcodecsCompressor):
    """A numcodecs checksum (4 bytes): a mismatch on decode is a damaged chunk (ChunkError), not a codec failure."""

    def decode(self, buf: Any, key: str, bound: int | None = None, exact: bool = False) -> Any:
        data = bytes(buf)
        name = self.codec.codec_id
        if bound is not None and len(data) - 4 > bound:
            raise too_big(key, name, bound, exact)
        if len(data) < 4:
            raise ChunkError(key, f"{name}: {len(data)} bytes cannot hold the 4-byte checksum")
        try:
            return self.codec.decode(data)
        except Exception as e:
            raise ChunkError(key, f"{name} checksum mismatch: the chunk is damaged ({e})") from None


class Crc32c(Checksum):
    """The v3 spec's crc32c (the shard index's checksum)."""


def checksum_from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    """A ``numcodecs.<checksum>`` v3 codec (crc32, adler32, fletcher32, jenkins_lookup3)."""
    return Checksum(numcodecs_v3_codec(cfg, ctx, where))


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.crc32c":
        return Crc32c(numcodecs_v3_codec(cfg, ctx, where))
    if cfg:
        raise CodecError(where, f"crc32c takes no configuration, got {cfg!r}")
    return Crc32c(numcodecs.CRC32C())


register(CodecEntry("crc32c", BYTES_BYTES, "crc32c", ("crc32c", "numcodecs.crc32c"), from_v3))
