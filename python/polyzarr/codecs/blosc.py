"""``blosc``: the blosc meta-compressor (v2 ``blosc`` with integer shuffle, v3 ``blosc`` with shuffle names,
v3 ``numcodecs.blosc`` with numcodecs' configuration)."""

from __future__ import annotations

from typing import Any

import numcodecs

from ..errors import ChunkError, CodecError
from .pipeline import BOUNDED_DECODERS, DIRECT_CHECKS, BytesBytesCodec, NumcodecsCompressor, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecContext, CodecEntry, allowed_settings, cfg_int, register

CNAMES = ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd")
SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}  # v3 names → v2 (numcodecs) integers
SHUFFLE_NAMES = {v: k for k, v in SHUFFLE.items()}


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.blosc":  # numcodecs' configuration: integer shuffle, typesize from the buffer
        return numcodecs_compressor_v3(cfg, ctx, where)
    cname = cfg.get("cname", "zstd")
    if not isinstance(cname, str) or cname not in CNAMES:
        raise CodecError(where, f"blosc cname {cname!r} is not one of {', '.join(CNAMES)}")
    shuffle = cfg.get("shuffle", "noshuffle")
    if not isinstance(shuffle, str) or shuffle not in SHUFFLE:
        raise CodecError(where, f"blosc shuffle must be noshuffle, shuffle or bitshuffle, got {shuffle!r}")
    dtype = ctx.dtype
    typesize = cfg_int(cfg, "typesize", where, 1, 2**31 - 1, max(dtype.itemsize, 1) if dtype.kind != "O" else 1)
    return NumcodecsCompressor(
        numcodecs.Blosc(
            cname=cname,
            clevel=cfg_int(cfg, "clevel", where, 0, 9, 5),
            shuffle=SHUFFLE[shuffle],
            blocksize=cfg_int(cfg, "blocksize", where, 0, 2**31 - 1, 0),
            typesize=typesize,
        )
    )


def v2_to_v3_configuration(config: dict) -> dict:
    """A numcodecs blosc config (without ``id``) → the v3 configuration (integer shuffle → its name)."""
    cfg = dict(config)
    if isinstance(cfg.get("shuffle"), int):
        cfg["shuffle"] = SHUFFLE_NAMES[cfg["shuffle"]]
    return cfg


def bounded_decode(codec: Any, buf: Any, key: str, bound: int) -> Any:
    """The 16-byte blosc header says how big the frame is and what it decodes to: both are checked first (a
    truncated frame would otherwise decode to wrong values)."""
    data = memoryview(buf).cast("B")
    if len(data) < 16:
        raise ChunkError(key, f"blosc frame of {len(data)} bytes is shorter than its 16-byte header")
    nbytes = int.from_bytes(data[4:8], "little")
    cbytes = int.from_bytes(data[12:16], "little")
    if cbytes != len(data):
        raise ChunkError(key, f"blosc header says {cbytes} compressed bytes, the chunk has {len(data)}")
    if nbytes > bound:
        raise ChunkError(key, f"blosc header says {nbytes} bytes, more than the {bound} expected")
    return codec.decode(data)


def direct_check(data: Any, nbytes: int) -> bool:
    """A whole blosc frame (its header's compressed size is the chunk's) that decodes to exactly ``nbytes``."""
    view = memoryview(data).cast("B")
    return (
        len(view) >= 16
        and int.from_bytes(view[12:16], "little") == len(view)
        and int.from_bytes(view[4:8], "little") == nbytes
    )


BOUNDED_DECODERS["blosc"] = bounded_decode
DIRECT_CHECKS[numcodecs.Blosc] = direct_check

_V2 = {"cname": CNAMES, "clevel": tuple(range(10)), "shuffle": (-1, 0, 1, 2)}
register(
    CodecEntry("blosc", BYTES_BYTES, "blosc", ("blosc", "numcodecs.blosc"), from_v3, check_v2=allowed_settings(_V2))
)
