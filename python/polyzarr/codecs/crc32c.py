"""``crc32c``: a 4-byte CRC32C (Castagnoli) after the data (v3 ``crc32c``; numcodecs ``crc32c`` in v2)."""

from __future__ import annotations

from typing import Any

import numcodecs

from ..errors import ChunkError, CodecError
from .pipeline import BytesBytesCodec, NumcodecsCompressor
from .registry import BYTES_BYTES, CodecContext, CodecEntry, register


class Crc32c(NumcodecsCompressor):
    """A mismatch on decode is a damaged chunk (ChunkError), not a codec failure."""

    def decode(self, buf: Any, key: str) -> Any:
        data = bytes(buf)
        if len(data) < 4:
            raise ChunkError(key, f"crc32c: {len(data)} bytes cannot hold the 4-byte checksum")
        try:
            return self.codec.decode(data)
        except Exception as e:
            raise ChunkError(key, f"crc32c checksum mismatch: the chunk is damaged ({e})") from None


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if cfg:
        raise CodecError(where, f"crc32c takes no configuration, got {cfg!r}")
    return Crc32c(numcodecs.CRC32C())


register(CodecEntry("crc32c", BYTES_BYTES, "crc32c", ("crc32c",), from_v3))
