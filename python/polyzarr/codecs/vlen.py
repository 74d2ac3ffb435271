"""``vlen-utf8`` / ``vlen-bytes`` / ``vlen-array``: variable-length elements (numcodecs' vlen layout). In v2 they are
object codecs in ``filters``; in v3 ``vlen-utf8`` and ``vlen-bytes`` are array→bytes codecs."""

from __future__ import annotations

import numcodecs

from ..errors import CodecError
from .pipeline import NumcodecsArrayBytes
from .registry import ARRAY_BYTES, CodecContext, CodecEntry, register


def _from_v3(name: str):
    def build(cfg: dict, ctx: CodecContext, where: str) -> NumcodecsArrayBytes:
        if ctx.dtype.kind != "O":
            raise CodecError(where, f"{name} needs a string or bytes data type, not {ctx.dtype.str}")
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
