"""``blosc``: the blosc meta-compressor (v2 ``blosc`` with integer shuffle, v3 ``blosc`` with shuffle names,
v3 ``numcodecs.blosc`` with numcodecs' configuration)."""

from __future__ import annotations

import numcodecs

from ..errors import CodecError
from .pipeline import BytesBytesCodec, NumcodecsCompressor, numcodecs_compressor_v3
from .registry import BYTES_BYTES, CodecContext, CodecEntry, allowed_settings, cfg_int, register

CNAMES = ("blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd")
SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}  # v3 names → v2 (numcodecs) integers
SHUFFLE_NAMES = {v: k for k, v in SHUFFLE.items()}


def from_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    if ctx.name == "numcodecs.blosc":  # numcodecs' configuration: integer shuffle, typesize from the buffer
        return numcodecs_compressor_v3(cfg, ctx, where)
    cname = cfg.get("cname", "zstd")
    if cname not in CNAMES:
        raise CodecError(where, f"blosc cname {cname!r} is not one of {', '.join(CNAMES)}")
    shuffle = cfg.get("shuffle", "noshuffle")
    if shuffle not in SHUFFLE:
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


_V2 = {"cname": CNAMES, "clevel": tuple(range(10)), "shuffle": (-1, 0, 1, 2)}
register(
    CodecEntry("blosc", BYTES_BYTES, "blosc", ("blosc", "numcodecs.blosc"), from_v3, check_v2=allowed_settings(_V2))
)
