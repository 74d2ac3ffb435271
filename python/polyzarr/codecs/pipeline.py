"""The codec pipeline: array→array codecs, one array→bytes codec, bytes→bytes codecs.

Zarr v2 maps into it (``from_v2``):
- ``order`` is an array→array ``Transpose`` step (codecs/transpose.py: identity for "C", the full reversal for
  "F", as layout.py says), so every later step sees a C-contiguous array whose bytes are the chunk's stored
  memory order;
- ``filters`` are array→array codecs (numcodecs filters, which flatten in that memory order, as zarr does);
  an object codec (vlen-utf8, ...) returns bytes, which the array→bytes step then passes through;
- the array→bytes step (codecs/bytes.py) writes the elements in the dtype's own byte order (v2 keeps endianness
  in the dtype);
- ``compressor`` is a bytes→bytes codec.
Zarr v3's ``codecs`` list maps into the same three stages (``from_v3``): each name is looked up in the registry
(codecs/registry.py), whose entry builds the step. Every codec is numcodecs' own implementation.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numcodecs.abc import Codec

from .. import layout
from ..errors import ChunkError, CodecError, MetadataError, PolyZarrError
from . import registry
from .registry import ARRAY_ARRAY, ARRAY_BYTES, CodecContext, numcodecs_codec

get_codec = numcodecs_codec  # the v2 name: numcodecs config → codec
IN_PLACE = ("bitround",)  # numcodecs filters that encode in place


@dataclass(frozen=True)
class ChunkSpec:
    """What a codec's decoded side looks like: shape and dtype of the array."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


BOUND_SLACK = 1024
OBJECT_ITEM_BOUND = 2**20  # an object chunk (vlen, json2) decodes to at most 1 MiB an element


def compressed_bound(n: int) -> int:
    """The most bytes any compressor or checksum turns ``n`` bytes into (zstd, lz4, blosc, deflate, bz2, xz
    all stay below n + n/8 + 1 KiB): the bound of an outer bytes→bytes stage's output."""
    return n + n // 8 + BOUND_SLACK


def too_big(key: str, what: str, bound: int, exact: bool) -> ChunkError:
    expected = f"expected {bound}" if exact else f"at most {bound} expected"
    return ChunkError(key, f"{what} decodes to more than {bound} bytes ({expected})")


# codec id → decode(codec, buf, key, bound) that never produces (or allocates) more than ``bound`` bytes;
# each compressor's module registers its own (codecs/zstd.py, blosc.py, lz4.py, zlib.py, bz2.py, lzma.py)
BoundedDecoder = Callable[[Codec, Any, str, int], Any]
BOUNDED_DECODERS: dict[str, BoundedDecoder] = {}
# codec id → check(buf, spec, key) run before an object codec decodes (codecs/vlen.py: the item count)
Precheck = Callable[[Any, "ChunkSpec | None", str], None]
PRECHECKS: dict[str, Precheck] = {}


def codec_failure(codec: Codec, action: str, key: str, e: Exception) -> CodecError:
    return CodecError(key, f"{codec.codec_id} {action} failed: {type(e).__name__}: {e}")


class ArrayArrayCodec(ABC):
    @abstractmethod
    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        """The encoded side's spec, or None when the codec's output shape is not fixed (flat numcodecs output)."""

    @abstractmethod
    def encode(self, arr: np.ndarray) -> Any: ...

    @abstractmethod
    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        """Inverse of encode; ``spec`` is the decoded side's spec (None if unknown)."""

    def encode_fill(self, fill: Any, spec: ChunkSpec) -> Any:
        """The fill value on the encoded side (zarr-python's resolve_metadata): unchanged unless the codec maps
        values (cast_value, scale_offset)."""
        resolved = self.resolve(spec)
        if fill is None or resolved is None or resolved.dtype == spec.dtype or resolved.dtype.kind == "O":
            return fill
        try:
            return np.asarray(fill).astype(resolved.dtype)[()]
        except (TypeError, ValueError):
            return fill


class ArrayBytesCodec(ABC):
    @abstractmethod
    def encode(self, arr: Any) -> Any: ...

    @abstractmethod
    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray: ...

    def max_encoded(self, spec: ChunkSpec | None) -> tuple[int, bool] | None:
        """(the most bytes a chunk of ``spec`` encodes to, whether that size is exact); None when unknown."""
        return None


class BytesBytesCodec(ABC):
    @abstractmethod
    def encode(self, buf: Any) -> Any: ...

    @abstractmethod
    def decode(self, buf: Any, key: str, bound: int | None = None, exact: bool = False) -> Any:
        """Inverse of encode, producing at most ``bound`` bytes (ChunkError beyond, before allocating them)."""


def fit(arr: Any, spec: ChunkSpec | None, key: str, what: str) -> np.ndarray:
    """View a decoded buffer as ``spec`` (dtype and shape), checking its size first."""
    a = np.asarray(arr) if not isinstance(arr, (bytes, bytearray, memoryview)) else np.frombuffer(arr, dtype=np.uint8)
    if spec is None:
        return a
    if a.dtype.kind == "O" and spec.dtype.kind != "O":
        raise ChunkError(key, f"{what} decoded to Python objects, but the chunk holds {spec.dtype.str} values")
    if spec.dtype.kind == "O" or a.dtype.kind == "O":
        if a.size != math.prod(spec.shape):
            raise ChunkError(
                key,
                f"{what} decoded to {a.size} elements, expected {math.prod(spec.shape)} for chunk shape {list(spec.shape)}",
            )
        return a.reshape(spec.shape)
    if a.nbytes != spec.nbytes:
        raise ChunkError(
            key,
            f"{what} decoded to {a.nbytes} bytes, expected {spec.nbytes} ({list(spec.shape)} × {spec.dtype.itemsize}-byte {spec.dtype.str})",
        )
    if a.dtype != spec.dtype:
        a = np.ascontiguousarray(a).reshape(-1).view(spec.dtype)
    return a.reshape(spec.shape)


@dataclass
class NumcodecsFilter(ArrayArrayCodec):
    """A v2 filter: any numcodecs codec applied to the chunk in memory order.

    ``logical_lists``: the codec writes nested lists (json2, msgpack2) and the array is order "F". zarr 2.x hands
    such a codec the chunk in its logical shape, so the lists are the logical chunk in C order; we write the same.
    On read, lists in the chunk's logical shape are taken that way and lists in the reversed shape as memory order
    (how zarr 2.x's own reader takes them); for square chunks the writer's reading wins."""

    codec: Codec
    logical_lists: bool = False

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        return None

    def encode(self, arr: np.ndarray) -> Any:
        if self.logical_lists and isinstance(arr, np.ndarray) and arr.ndim > 1:
            arr = layout.f_memory_to_logical(arr)
        if isinstance(arr, np.ndarray) and (self.codec.codec_id in IN_PLACE or not arr.flags.writeable):
            arr = arr.copy()  # it would change the chunk (the caller's array); numcodecs' vlen-bytes needs it writable
        try:
            return self.codec.encode(arr)
        except Exception as e:  # numcodecs raises anything from ValueError to RuntimeError
            raise codec_failure(self.codec, "encode", "", e) from None

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        precheck = PRECHECKS.get(self.codec.codec_id)
        if precheck is not None:
            precheck(arr, spec, key)
        bounded = BOUNDED_DECODERS.get(self.codec.codec_id)
        try:
            if bounded is not None:  # a compressor used as a filter: bounded as one
                from ..metadata import max_chunk_bytes

                bound = 16 * math.prod(spec.shape) + BOUND_SLACK if spec is not None else max_chunk_bytes()
                out = bounded(self.codec, arr, key, bound)
            else:
                out = self.codec.decode(arr)
        except PolyZarrError:
            raise
        except Exception as e:
            raise codec_failure(self.codec, "decode", key, e) from None
        if (
            self.logical_lists
            and spec is not None
            and isinstance(out, np.ndarray)
            and out.ndim > 1
            and out.shape == layout.f_memory_shape(spec.shape)
        ):
            out = layout.f_logical_to_memory(out)
        return fit(out, spec, key, f"filter {self.codec.codec_id}")


@dataclass
class NumcodecsCompressor(BytesBytesCodec):
    codec: Codec

    def encode(self, buf: Any) -> Any:
        try:
            return self.codec.encode(buf)
        except Exception as e:
            raise codec_failure(self.codec, "encode", "", e) from None

    def decode(self, buf: Any, key: str, bound: int | None = None, exact: bool = False) -> Any:
        bounded = BOUNDED_DECODERS.get(self.codec.codec_id) if bound is not None else None
        try:
            out = bounded(self.codec, buf, key, bound) if bounded is not None and bound is not None else None
            if out is None:
                out = self.codec.decode(buf)
        except PolyZarrError:
            raise
        except Exception as e:
            raise codec_failure(self.codec, "decode", key, e) from None
        if bound is not None and memoryview(out).nbytes > bound:
            raise too_big(key, self.codec.codec_id, bound, exact)
        return out


# -- decoding straight into the destination ----------------------------------------------------------------
# numcodecs codec class → check(data, nbytes) that the stored chunk is a frame decoding to exactly ``nbytes``
# (from its headers alone), registered by the compressor modules whose codec takes ``decode(buf, out=...)``
DIRECT_CHECKS: dict[type, Callable[[Any, int], bool]] = {}
# numcodecs codec class → decode(codec, data, target) into the C-contiguous ``target``, raising unless the frames
# decode to exactly its size: a faster decoder than the codec's own ``decode(buf, out=...)`` (the default)
DIRECT_DECODERS: dict[type, Callable[[Codec, Any, np.ndarray], None]] = {}
PREFIX_WORTH = 0.75  # a prefix decode costs more per byte (measured ~0.8 of the time for half a zstd frame)
_scratch = threading.local()
REUSED_MAX = 32 * 2**20  # the most a thread keeps for reuse (bigger chunks get fresh memory, as before)


def scratch(nbytes: int) -> np.ndarray:
    """A per-thread reusable uint8 buffer of ``nbytes`` (valid until the thread's next call): where a chunk that
    cannot be decoded in place is decoded before its one copy into the result, instead of fresh memory."""
    if nbytes > REUSED_MAX:
        return np.empty(nbytes, dtype=np.uint8)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < nbytes:
        buf = _scratch.buf = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buf[:nbytes]


@dataclass(frozen=True)
class PrefixDecoder:
    """``decode(codec, data, prefix, nbytes)``: only the first ``prefix.nbytes`` bytes of a chunk of ``nbytes`` into
    the C-contiguous ``prefix`` (a part of a chunk that ends early in memory order need not decode the rest),
    raising when it cannot or the frames are not ones of ``nbytes`` by their headers (the chunk then decodes
    whole). It decodes whole ``granule``s (zstd: 128 KiB blocks), so a prefix saves only the granules after it."""

    decode: Callable[[Codec, Any, np.ndarray, int], None]
    granule: int


# numcodecs codec class → its PrefixDecoder, registered where the format allows one without skipping checks
PREFIX_DECODERS: dict[type, PrefixDecoder] = {}


@dataclass(frozen=True)
class DirectDecode:
    """A plain pipeline's chunk (transposes, the bytes codec, at most one compressor whose numcodecs codec
    decodes into a caller's buffer) decoded straight into a contiguous destination: the chunk's stored bytes
    are its elements in memory order ``perm`` (``logical.transpose(perm)`` C-contiguous), ``nbytes`` of them.
    ``into`` returns False whenever the frame is not exactly that (the caller then runs the full pipeline,
    which raises the categorised error naming the key); it never writes more than ``nbytes``."""

    codec: Codec | None
    check: Callable[[Any, int], bool] | None
    perm: tuple[int, ...]
    inverse: tuple[int, ...]
    mem_shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    decoder: Callable[[Codec, Any, np.ndarray], None] | None = None
    prefix_decoder: PrefixDecoder | None = None

    def into(self, data: Any, target: np.ndarray) -> bool:
        """Decode ``data`` into ``target`` (a C-contiguous array of ``nbytes`` bytes)."""
        if self.codec is None:
            if len(data) != self.nbytes:
                return False
            target.reshape(-1).view(np.uint8)[:] = np.frombuffer(data, dtype=np.uint8)
            return True
        assert self.check is not None
        if not self.check(data, self.nbytes):
            return False
        try:
            if self.decoder is not None:
                self.decoder(self.codec, data, target)
            else:
                self.codec.decode(data, out=target)
        except Exception:
            return False
        return True

    def logical(self, buf: np.ndarray) -> np.ndarray:
        """A decoded buffer (``scratch``) as the logical chunk (a view)."""
        return buf.view(self.dtype).reshape(self.mem_shape).transpose(self.inverse)

    def target_in(self, dst: np.ndarray) -> np.ndarray | None:
        """``dst`` (a whole chunk's place in the result) in the chunk's memory order, when that is contiguous."""
        mem = dst.transpose(self.perm)
        return mem if mem.flags.c_contiguous and dst.dtype == self.dtype else None

    def decode_to(self, data: Any, dst: np.ndarray, in_chunk: tuple[slice, ...] | None) -> bool:
        """Decode into ``dst``: the whole chunk (``in_chunk`` None) in place when its place is contiguous, else
        through the thread's scratch buffer and one copy of the ``in_chunk`` part. False: not decoded."""
        if in_chunk is None:
            target = self.target_in(dst)
            if target is not None:
                return self.into(data, target)
        buf = scratch(self.nbytes)
        if not (in_chunk is not None and self._prefix_into(data, buf, in_chunk)) and not self.into(data, buf):
            return False
        chunk = self.logical(buf)
        dst[...] = chunk if in_chunk is None else chunk[in_chunk + (Ellipsis,)]
        return True

    def _prefix_into(self, data: Any, buf: np.ndarray, in_chunk: tuple[slice, ...]) -> bool:
        """Decode only the bytes up to the last element of ``in_chunk`` in memory order into ``buf``, when that is
        well short of the chunk and the codec can stop early; False: nothing decoded that counts."""
        if self.prefix_decoder is None or self.codec is None or any(s.stop <= s.start for s in in_chunk):
            return False
        end = layout.memory_prefix(in_chunk, self.perm, self.mem_shape) * self.dtype.itemsize
        granule = self.prefix_decoder.granule
        if -(-end // granule) * granule > PREFIX_WORTH * self.nbytes:
            return False
        try:
            self.prefix_decoder.decode(self.codec, data, buf[:end], self.nbytes)
        except Exception:
            return False
        return True


@dataclass
class CodecPipeline:
    array_array: list[ArrayArrayCodec] = field(default_factory=list)
    array_bytes: ArrayBytesCodec = field(default_factory=lambda: _raw_bytes())
    bytes_bytes: list[BytesBytesCodec] = field(default_factory=list)
    _direct: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def direct(self, spec: ChunkSpec) -> DirectDecode | None:
        """How a chunk of ``spec`` decodes straight into its destination, or None when this pipeline is not plain
        (filters, value-mapping codecs, two compressors, object data, ...). Worked out once per chunk shape."""
        found = self._direct.get(spec.shape, False)
        if found is False:
            found = self._direct[spec.shape] = self._plan_direct(spec)
        return found

    def _plan_direct(self, spec: ChunkSpec) -> DirectDecode | None:
        from .bytes import RawBytes
        from .transpose import Transpose

        if spec.dtype.hasobject or type(self.array_bytes) is not RawBytes or len(self.bytes_bytes) > 1:
            return None
        perm = tuple(range(len(spec.shape)))
        for c in self.array_array:
            if type(c) is not Transpose:
                return None
            step = c.perm(len(spec.shape))
            perm = tuple(perm[i] for i in step)
        codec, check = None, None
        if self.bytes_bytes:
            b = self.bytes_bytes[0]
            if type(b) is not NumcodecsCompressor:
                return None
            codec, check = b.codec, DIRECT_CHECKS.get(type(b.codec))
            if check is None:
                return None
        return DirectDecode(
            codec,
            check,
            perm,
            layout.inverse_permutation(perm),
            layout.permute(spec.shape, perm),
            spec.dtype,
            spec.nbytes,
            None if codec is None else DIRECT_DECODERS.get(type(codec)),
            None if codec is None else PREFIX_DECODERS.get(type(codec)),
        )

    @classmethod
    def from_v2(
        cls, order: str, filters: Sequence[dict] | None, compressor: dict | None, key: str = ""
    ) -> CodecPipeline:
        from .bytes import RawBytes
        from .json2 import LIST_CODECS
        from .transpose import Transpose

        aa: list[ArrayArrayCodec] = [Transpose(order)]
        for i, f in enumerate(filters or []):
            codec = get_codec(f, f"{key}:filters[{i}]")
            lists = layout.lists_in_logical_order(order) and codec.codec_id in LIST_CODECS
            aa.append(NumcodecsFilter(codec, logical_lists=lists))
        bb: list[BytesBytesCodec] = []
        if compressor is not None:
            entry = registry.by_v2_id(compressor.get("id", ""))
            if entry is not None and entry.object_codec:  # (pcodec and zfpy are v2 compressors: they take arrays)
                raise MetadataError(f"{key}:compressor", f"{compressor['id']} is an object codec, not a compressor")
            bb.append(NumcodecsCompressor(get_codec(compressor, f"{key}:compressor")))
        return cls(aa, RawBytes(), bb)

    @classmethod
    def from_v3(
        cls,
        codecs: Sequence[dict],
        dtype: np.dtype,
        chunk_shape: Sequence[int],
        key: str = "",
        object_type: type | None = None,
    ) -> CodecPipeline:
        """A v3 ``codecs`` list (already order-checked by metadata_v3.check_codec_chain) → the pipeline; each
        name's registry entry builds its step."""
        aa: list[ArrayArrayCodec] = []
        ab: ArrayBytesCodec | None = None
        bb: list[BytesBytesCodec] = []
        spec = ChunkSpec(tuple(chunk_shape), dtype)
        for i, c in enumerate(codecs):
            where = f"{key}[{i}]"
            name, cfg = c["name"], c.get("configuration") or {}
            entry = registry.by_v3_name(name)
            if entry is None or entry.from_v3 is None:
                if c.get("must_understand") is False:
                    continue
                raise CodecError(where, f'unknown codec {name!r} (and it does not say "must_understand": false)')
            step = entry.from_v3(cfg, CodecContext(spec.dtype, spec.shape, object_type, name), where)
            if entry.kind == ARRAY_ARRAY:
                aa.append(step)
                resolved = step.resolve(spec)
                assert resolved is not None
                spec = resolved
            elif entry.kind == ARRAY_BYTES:
                ab = step
            else:
                bb.append(step)
        if ab is None:
            raise CodecError(key, "no array→bytes codec")
        return cls(aa, ab, bb)

    def encoded_fill(self, fill: Any, spec: ChunkSpec) -> Any:
        """The fill value as the array→bytes step sees it (through cast_value, scale_offset, ...): what an empty
        inner chunk of a shard holds."""
        for c in self.array_array:
            fill = c.encode_fill(fill, spec)
            resolved = c.resolve(spec)
            if resolved is None:
                break
            spec = resolved
        return fill

    def encode(self, chunk: np.ndarray) -> bytes:
        data: Any = chunk
        for c in self.array_array:
            data = c.encode(data)
        data = self.array_bytes.encode(data)
        for b in self.bytes_bytes:
            data = b.encode(data)
        return data.tobytes() if isinstance(data, np.ndarray) else bytes(data)

    def bytes_bound(self, spec: ChunkSpec, encoded: ChunkSpec | None) -> tuple[int, bool]:
        """The most bytes the array→bytes step's input may have (and whether exactly that many): the encoded
        chunk's size when known; else 16 bytes an element (a v2 filter changes the item size by at most that);
        for object chunks the chunk limit."""
        found = self.array_bytes.max_encoded(encoded)
        if found is not None:
            return found
        if spec.dtype.kind == "O" or (encoded is not None and encoded.dtype.kind == "O"):
            from ..metadata import max_chunk_bytes

            return min(max_chunk_bytes(), OBJECT_ITEM_BOUND * (math.prod(spec.shape) + 1)), False
        return 16 * math.prod(spec.shape) + BOUND_SLACK, False

    def stored_bound(self, spec: ChunkSpec) -> int:
        """The most bytes a stored chunk of ``spec`` can be (each bytes→bytes stage may add a little)."""
        encoded: ChunkSpec | None = spec
        for c in self.array_array:
            encoded = c.resolve(encoded)
        bound, _ = self.bytes_bound(spec, encoded)
        for _ in self.bytes_bytes:
            bound = compressed_bound(bound)
        return compressed_bound(bound)  # and room for a codec whose output size is not known here

    def decode(self, data: Any, spec: ChunkSpec, key: str) -> np.ndarray:
        specs: list[ChunkSpec | None] = [spec]
        for c in self.array_array:
            specs.append(c.resolve(specs[-1]))
        if self.bytes_bytes:
            bound, exact = self.bytes_bound(spec, specs[-1])
            bounds = []
            for _ in self.bytes_bytes:  # the first stage feeds the array→bytes step; each outer one may be bigger
                bounds.append((bound, exact))
                bound, exact = compressed_bound(bound), False
            for b, (lim, ex) in zip(reversed(self.bytes_bytes), reversed(bounds)):
                data = b.decode(data, key, lim, ex)
        arr = self.array_bytes.decode(data, specs[-1], key)
        for c, s in zip(reversed(self.array_array), reversed(specs[:-1])):
            arr = c.decode(arr, s, key)
        return arr


def _raw_bytes() -> ArrayBytesCodec:
    from .bytes import RawBytes

    return RawBytes()


@dataclass
class NumcodecsArrayBytes(ArrayBytesCodec):
    """An array→bytes step done by a numcodecs object codec (v3 ``vlen-utf8`` / ``vlen-bytes``)."""

    codec: Codec

    def encode(self, arr: Any) -> Any:
        arr = np.asarray(arr, dtype=object)
        try:
            return self.codec.encode(arr if arr.flags.writeable else arr.copy())  # vlen-bytes needs it writable
        except Exception as e:
            raise codec_failure(self.codec, "encode", "", e) from None

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        precheck = PRECHECKS.get(self.codec.codec_id)
        if precheck is not None:
            precheck(buf, spec, key)
        try:
            out = self.codec.decode(buf)
        except Exception as e:
            raise codec_failure(self.codec, "decode", key, e) from None
        return fit(out, spec, key, self.codec.codec_id)


def in_order_of(dt: np.dtype, like: np.dtype) -> np.dtype:
    """``dt`` in the byte order of ``like`` (a dtype-changing codec's output keeps the bytes codec's order)."""
    if dt.itemsize > 1 and dt.kind in "iufcmM" and like.byteorder in "<>":
        return dt.newbyteorder(like.byteorder)
    return dt


def native(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous array in the machine's byte order (what numcodecs' array codecs expect)."""
    arr = np.asarray(arr)
    if arr.dtype.byteorder not in "=|" and arr.dtype.kind in "iufcmM":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


Resolve = Callable[[dict, ChunkSpec], ChunkSpec]


def same_spec(cfg: dict, spec: ChunkSpec) -> ChunkSpec:
    return spec


@dataclass
class NumcodecsV3Filter(ArrayArrayCodec):
    """A v3 ``numcodecs.<id>`` array→array codec, as zarr-python 3's numcodecs wrappers run it: numcodecs encodes
    the chunk (C order, logical shape); the output is the chunk in the encoded spec (``out``: zarr-python's
    resolve_metadata, e.g. the ``astype`` dtype); decode reshapes numcodecs' output to the decoded chunk."""

    codec: Codec
    cfg: dict
    out: Resolve = same_spec

    def resolve(self, spec: ChunkSpec | None) -> ChunkSpec | None:
        if spec is None:
            return None
        r = self.out(self.cfg, spec)
        return ChunkSpec(r.shape, in_order_of(r.dtype, spec.dtype))

    def encode(self, arr: np.ndarray) -> Any:
        arr = np.asarray(arr)
        spec = self.resolve(ChunkSpec(arr.shape, arr.dtype))
        try:
            # a copy: some numcodecs filters (bitround) work in place, and the chunk may be the caller's array
            out = self.codec.encode(np.array(native(arr), copy=True))
        except Exception as e:
            raise codec_failure(self.codec, "encode", "", e) from None
        assert spec is not None
        out = np.asarray(out)
        if out.dtype.kind != "O" and out.nbytes == spec.nbytes and out.dtype.itemsize == spec.dtype.itemsize:
            out = out.reshape(spec.shape)
            # same kind: only the byte order changes; another kind (bitround's integer view) is the same bits
            return out.astype(spec.dtype, copy=False) if out.dtype.kind == spec.dtype.kind else out.view(spec.dtype)
        return out

    def decode(self, arr: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        try:
            out = self.codec.decode(native(arr) if isinstance(arr, np.ndarray) else arr)
        except Exception as e:
            raise codec_failure(self.codec, "decode", key, e) from None
        out = np.asarray(out)
        if spec is not None and out.dtype != spec.dtype and out.dtype.kind != "O" and spec.dtype.kind != "O":
            if out.dtype.itemsize == spec.dtype.itemsize and out.dtype.kind == spec.dtype.kind:
                out = out.astype(spec.dtype)
        return fit(out, spec, key, self.codec.codec_id)


@dataclass
class NumcodecsV3Serializer(ArrayBytesCodec):
    """A v3 ``numcodecs.<id>`` array→bytes codec (pcodec, zfpy): numcodecs encodes the C-ordered chunk; decode
    reshapes its output to the chunk."""

    codec: Codec

    def encode(self, arr: Any) -> Any:
        try:
            return self.codec.encode(native(arr))
        except Exception as e:
            raise codec_failure(self.codec, "encode", "", e) from None

    def max_encoded(self, spec: ChunkSpec | None) -> tuple[int, bool] | None:
        return None if spec is None else (compressed_bound(spec.nbytes), False)

    def decode(self, buf: Any, spec: ChunkSpec | None, key: str) -> np.ndarray:
        try:
            out = self.codec.decode(bytes(buf))
        except Exception as e:
            raise codec_failure(self.codec, "decode", key, e) from None
        out = np.asarray(out)
        if spec is not None and out.dtype != spec.dtype and out.dtype.itemsize == spec.dtype.itemsize:
            out = out.astype(spec.dtype)
        return fit(out, spec, key, self.codec.codec_id)


def numcodecs_filter_v3(out: Resolve = same_spec) -> registry.V3Constructor:
    """The v3 constructor of a ``numcodecs.<id>`` array→array codec whose encoded spec is ``out``."""

    def build(cfg: dict, ctx: CodecContext, where: str) -> ArrayArrayCodec:
        return NumcodecsV3Filter(registry.numcodecs_v3_codec(cfg, ctx, where), dict(cfg), out)

    return build


def numcodecs_serializer_v3(cfg: dict, ctx: CodecContext, where: str) -> ArrayBytesCodec:
    if ctx.dtype.kind not in "iufcb":
        raise CodecError(where, f"{ctx.name} needs a numeric data type, not {ctx.dtype.str}")
    return NumcodecsV3Serializer(registry.numcodecs_v3_codec(cfg, ctx, where))


def numcodecs_compressor_v3(cfg: dict, ctx: CodecContext, where: str) -> BytesBytesCodec:
    return NumcodecsCompressor(registry.numcodecs_v3_codec(cfg, ctx, where))
