"""``json2`` and ``msgpack2`` (v2 object codecs that store a chunk as nested lists of its shape), and the older
object codecs numcodecs still reads (``json``, ``pickle``). v2 only; numcodecs does the work. Under order "F"
the lists are the logical chunk (layout.lists_in_logical_order; the pipeline's NumcodecsFilter handles it)."""

from __future__ import annotations

from .registry import ARRAY_BYTES, CodecEntry, register

LIST_CODECS = ("json2", "msgpack2")  # object codecs that store a chunk as nested lists of its shape

for _id in ("json2", "msgpack2", "json", "pickle"):
    register(CodecEntry(_id, ARRAY_BYTES, _id, (), object_codec=True))
