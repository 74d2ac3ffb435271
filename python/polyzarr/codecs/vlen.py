"""``vlen-utf8`` / ``vlen-bytes`` / ``vlen-array``: variable-length elements (numcodecs' vlen layout). In v2 they are
object codecs in ``filters``; in v3 ``vlen-utf8`` and ``vlen-bytes`` are array→bytes codecs."""

from __future__ import annotations

import math
from typing import Any

import numcodecs
import numpy as np

from ..errors import ChunkError, MetadataError
from .pipeline import PRECHECKS, ChunkSpec, NumcodecsArrayBytes
from .registry import ARRAY_BYTES, CodecContext, CodecEntry, register


def check_count(buf: Any, spec: ChunkSpec | None, key: str) -> None:
    """numcodecs' vlen layout starts with the item count: it must be the chunk's element count, checked before
    numcodecs allocates that many objects (the item lengths it checks against the bytes itself)."""
    data = memoryview(buf).cast("B") if not isinstance(buf, np.ndarray) else memoryview(buf.reshape(-1).view("u1"))
    if len(data) < 4:
        raise ChunkError(key, f"vlen chunk of {len(data)} bytes is shorter than its 4-byte item count")
    count = int.from_bytes(data[:4], "little")
    if spec is not None and count != math.prod(spec.shape):
        raise ChunkError(key, f"vlen header says {count} items, the chunk has {math.prod(spec.shape)} elements")
    if count > (len(data) - 4) // 4:  # each item has a 4-byte length
        raise ChunkError(key, f"vlen header says {count} items, but {len(data)} bytes cannot hold them")


for _id in ("vlen-utf8", "vlen-bytes", "vlen-array"):
    PRECHECKS[_id] = check_count


def _from_v3(name: str):
    def build(cfg: dict, ctx: CodecContext, where: str) -> NumcodecsArrayBytes:
        if ctx.dtype.kind != "O":  # an object codec under a typed array: invalid metadata
            raise MetadataError(where, f"{name} needs a string or bytes data type, not {ctx.dtype.str}")
        return NumcodecsArrayBytes(numcodecs.get_codec({"id": name}))

    return build


register(
    CodecEntry(
        "vlen-utf8", ARRAY_BYTES, "vlen-utf8", ("vlen-utf8",), _from_v3("vlen-utf8"), object_codec=True, object_type=str
    )
)
register(
    CodecEntry(
        "vlen-bytes",
        ARRAY_BYTES,
        "vlen-bytes",
        ("vlen-bytes",),
        _from_v3("vlen-bytes"),
        object_codec=True,
        object_type=bytes,
    )
)
register(CodecEntry("vlen-array", ARRAY_BYTES, "vlen-array", (), object_codec=True))
