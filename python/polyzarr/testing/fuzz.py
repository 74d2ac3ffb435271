"""A seeded fuzzer: mutated metadata documents and chunk bytes (v2 and v3) run through walk / open / read / .npy
conversion / inspect, in-process, each case under a timeout and a peak-memory check.

Outcomes: ``ok`` (read without error), ``vocab-error`` (a PolyZarrError), ``CRASH`` (any other exception),
``HANG`` (over the time limit), ``BLOWUP`` (peak RSS above 1.5 × the array's size + a margin, or MemoryError),
``WRONG`` (read without error, values differ from the seed's, and the damage was one the codecs can see: a
changed length under a codec that knows its size, or any change under a checksum).

    python -m polyzarr.testing.fuzz -n 10000 [--seed 1] [--show 5]

Exit status 1 when any case is CRASH, HANG, BLOWUP or WRONG.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import copy
import json
import random
import resource
import signal
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..arrays import create_array
from ..errors import PolyZarrError
from ..groups import consolidate_metadata, open_node_array, walk
from ..npy import to_npy_array
from ..stores import Store, check_key
from ..verbs import format_inspect, inspect_store

BAD = ("CRASH", "HANG", "BLOWUP", "WRONG")
TIMEOUT = 5.0  # seconds a case may take
MARGIN = 48 * 2**20  # bytes of peak RSS growth a case may use beyond 1.5 × its array
READ_LIMIT = 32 * 2**20  # POLYZARR_MAX_BYTES while fuzzing (seeds are tiny; a mutated shape may not be)
BOMB = 160 * 2**20  # what a bomb decodes to: well past MARGIN, so an unbounded decode shows
METADATA_NAMES = (".zarray", ".zattrs", ".zgroup", "zarr.json", ".zmetadata")


class DictStore(Store):
    """Keys → bytes in a dict: the fuzzer's store (no I/O, so cases are fast and independent)."""

    def __init__(self, files: dict[str, bytes] | None = None, url: str = "fuzz://"):
        self.files = dict(files or {})
        self.url = url

    def get(self, key: str) -> bytes | None:
        return self.files.get(check_key(key))

    def set(self, key: str, value: bytes) -> None:
        self.files[check_key(key)] = bytes(value)

    def delete(self, key: str) -> None:
        self.files.pop(check_key(key), None)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every key, odd ones included (a listing of a store another tool wrote may hold anything)."""
        p = prefix.strip("/")
        return sorted(k for k in self.files if not p or k == p or k.startswith(p + "/"))


# ---------------------------------------------------------------------------------------------------------
# Seeds: small valid arrays, v2 and v3, over the codecs


@dataclass
class Seed:
    name: str
    files: dict[str, bytes]
    values: np.ndarray
    codecs: tuple[str, ...]  # the codec names the chunks go through (for WRONG: what can see damage)


def _v2(name: str, x: np.ndarray, **kw: Any) -> tuple[str, np.ndarray, dict]:
    return name, x, kw


DECLARED_F = {"order": "F"}  # a seed's .zarray field (layout.py lays the chunks out)


def _seed_specs() -> list[tuple[str, np.ndarray, dict]]:
    f8 = np.arange(20, dtype="<f8").reshape(5, 4) / 3
    i4 = np.arange(24, dtype="<i4").reshape(4, 6)
    strs = np.array(["a", "bc", "", "déf", "ghij", "k"], dtype=object)
    rec = np.zeros(4, dtype=[("a", "<i4"), ("b", ">f8", (2,))])
    rec["a"] = [1, 2, 3, 4]
    rec["b"] = [[0.5, 1], [2, 3], [4, 5], [6, 7]]
    return [
        _v2("v2-raw", f8, chunks=(3, 2), compressor=None),
        _v2("v2-zlib", f8, chunks=(3, 2), compressor={"id": "zlib", "level": 1}),
        _v2("v2-gzip", i4, chunks=(2, 3), compressor={"id": "gzip", "level": 1}),
        _v2("v2-zstd", i4, chunks=(2, 3), compressor={"id": "zstd", "level": 1}),
        _v2("v2-blosc", f8, chunks=(5, 4), compressor={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
        _v2("v2-lz4", i4, chunks=(4, 6), compressor={"id": "lz4", "acceleration": 1}),
        _v2("v2-bz2", f8, chunks=(3, 4), compressor={"id": "bz2", "level": 1}),
        _v2("v2-lzma", i4, chunks=(4, 3), compressor={"id": "lzma"}),
        _v2("v2-delta-F", i4, chunks=(3, 3), filters=[{"id": "delta", "dtype": "<i4"}], **DECLARED_F),
        _v2(
            "v2-fso",
            f8,
            chunks=(3, 2),
            filters=[{"id": "fixedscaleoffset", "offset": 1, "scale": 10, "dtype": "<f8", "astype": "<i4"}],
        ),
        _v2("v2-vlen", strs.reshape(2, 3), chunks=(1, 3), object_codec="vlen-utf8"),
        _v2("v2-rec", rec, chunks=(3,), compressor={"id": "zlib", "level": 1}),
        _v2("v2-U", np.array(["ab", "c", "def"], dtype="<U3"), chunks=(2,), compressor=None),
        _v2("v3-zstd", i4, chunks=(2, 3), zarr_format=3),
        _v2("v3-gzip-crc", f8, chunks=(3, 2), zarr_format=3, codecs=_v3_codecs("gzip", "crc32c")),
        _v2("v3-shard", i4, chunks=(2, 3), shards=(4, 6), zarr_format=3),
        _v2("v3-blosc-T", f8, chunks=(5, 2), zarr_format=3, codecs=_v3_codecs("blosc", transpose=True)),
        _v2("v3-vlen", strs.reshape(3, 2), chunks=(2, 2), zarr_format=3, object_codec="vlen-utf8"),
        _v2("v3-zstd-checksum", f8, chunks=(5, 4), zarr_format=3, codecs=_v3_codecs("zstd-checksum")),
        _v2("v2-json2", strs.reshape(2, 3), chunks=(2, 2), object_codec="json2", compressor=None),
        _v2("v2-vlen-bytes", np.array([b"a", b"", b"xyz", b"q"], dtype=object), chunks=(3,), object_codec="vlen-bytes"),
        _v2("v2-packbits", np.array([True, False, True] * 5), chunks=(4,), filters=[{"id": "packbits"}]),
        _v2("v2-quantize", f8, chunks=(5, 2), filters=[{"id": "quantize", "digits": 3, "dtype": "<f8"}]),
        _v2("v2-M8", np.arange(6).astype("<M8[s]"), chunks=(4,), fill_value=-(2**63)),
        _v2("v2-c16", (np.arange(6) + 1j).astype("<c16"), chunks=(4,), compressor={"id": "zlib", "level": 1}),
        _v2(
            "v2-S-shuffle",
            np.array([b"ab", b"cd", b"e"], dtype="|S2"),
            chunks=(2,),
            filters=[{"id": "shuffle", "elementsize": 2}],
        ),
        _v2("v2-astype", f8, chunks=(5, 4), filters=[{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}]),
        _v2("v3-rect", i4, chunks=[[1, 3], 6], zarr_format=3),
        _v2(
            "v3-vlen-bytes",
            np.array([b"a", b"", b"xyz", b"q"], dtype=object),
            chunks=(2,),
            zarr_format=3,
            object_codec="vlen-bytes",
        ),
        _v2("v3-numcodecs", i4, chunks=(2, 3), zarr_format=3, codecs=_v3_codecs("numcodecs.delta", "numcodecs.zlib")),
        _v2("v3-shard-start", f8, chunks=(1, 2), shards=(5, 4), zarr_format=3, codecs=_v3_codecs("gzip")),
        _v2("v3-big-endian", i4.astype(">i4"), chunks=(4, 3), zarr_format=3, endian="big"),
    ]


def _v3_codecs(*names: str, transpose: bool = False) -> list[dict]:
    out: list[dict] = []
    if transpose:
        out.append({"name": "transpose", "configuration": {"order": [1, 0]}})
    out.append({"name": "bytes", "configuration": {"endian": "little"}})
    table = {
        "gzip": {"name": "gzip", "configuration": {"level": 1}},
        "crc32c": {"name": "crc32c"},
        "blosc": {
            "name": "blosc",
            "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle", "typesize": 8, "blocksize": 0},
        },
        "zstd-checksum": {"name": "zstd", "configuration": {"level": 1, "checksum": True}},
        "numcodecs.zlib": {"name": "numcodecs.zlib", "configuration": {"level": 1}},
    }
    for n in names:
        if n == "numcodecs.delta":  # an array→array codec: before bytes
            out.insert(0, {"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}})
        else:
            out.append(table[n])
    return out


_SEEDS: list[Seed] = []


def seeds() -> list[Seed]:
    if not _SEEDS:
        for name, x, kw in _seed_specs():
            store = DictStore()
            store.set(".zgroup" if kw.get("zarr_format", 2) == 2 else "zarr.json", _group_doc(kw))
            arr = create_array(store, "a", x.shape, x.dtype, attributes={"units": "m", "n": [1, 2]}, **kw)
            arr[...] = x
            if len(_SEEDS) % 3 == 0:  # every third seed also has consolidated metadata
                consolidate_metadata(store)
            meta = json.loads(store.files["a/zarr.json" if "a/zarr.json" in store.files else "a/.zarray"])
            _SEEDS.append(Seed(name, store.files, arr[...], tuple(_names_in(meta))))
    return _SEEDS


def _group_doc(kw: dict) -> bytes:
    if kw.get("zarr_format", 2) == 2:
        return b'{"zarr_format": 2}'
    return b'{"zarr_format": 3, "node_type": "group", "attributes": {}}'


CHECKED = ("zlib", "gzip", "bz2", "lzma", "crc32c", "crc32", "adler32", "fletcher32", "jenkins_lookup3")
SIZED = ("blosc", "lz4", "zstd", *CHECKED)  # codecs whose frames say their length: truncation is visible


def _names_in(meta: dict) -> list[str]:
    """The codecs a chunk's bytes go through (a shard: its inner chunks' codecs; the index's crc32c guards
    only the index)."""
    if "codecs" in meta:
        out: list[str] = []
        for c in meta["codecs"]:
            if c["name"] == "sharding_indexed":
                out += ["sharding_indexed", *_names_in({"codecs": c["configuration"]["codecs"]})]
            elif c["name"] == "zstd" and (c.get("configuration") or {}).get("checksum"):
                out.append("zstd-checksum")
            else:
                out.append(c["name"].removeprefix("numcodecs."))
        return out
    return [c["id"] for c in [meta.get("compressor"), *(meta.get("filters") or [])] if c]


# ---------------------------------------------------------------------------------------------------------
# Mutations

_WEIRD: list[Any] = [
    0, -1, 1, 2, 3, 2**31, 2**32 + 1, 2**53, 2**63, 2**64, -(2**63) - 1, 1.5, -0.0, 1e308, float("nan"),
    float("inf"), True, False, None, "", "x", "<f8", "|O", ">i2", "|V0", "../x", "/abs", "a\\b", "\ud800",
    "\udfff tail", "C", "F", ".", "/", [], {}, [0], [2**40, 2**40], [1, -1], [[1, 2]], {"name": "x"},
    {"id": "zlib"}, {"id": "pickle"}, {"id": "vlen-utf8"}, {"name": "bytes", "configuration": "x"},
    "9" * 5000, [["a", "<i4", [2**31, 2**31]]], [["a", "<i4", [10**6, 10**6, 10**6]]], {"configuration": "s"},
]  # fmt: skip
BIG_INT = "9" * 5000  # a string in _WEIRD that becomes a 5000-digit JSON integer (see _dumps)


def _dumps(doc: Any) -> bytes:
    text = json.dumps(doc, allow_nan=True)
    return text.replace(f'"{BIG_INT}"', BIG_INT).encode()  # as an integer, which json.dumps cannot write


def _paths(doc: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if len(prefix) > 12:  # not into the deep nests a mutation made
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _replace(doc: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def _weird(rng: random.Random) -> Any:
    v = copy.deepcopy(rng.choice(_WEIRD))
    if rng.random() < 0.15:
        v = [v] * rng.choice((1, 2, 3, 64))
    elif rng.random() < 0.05:
        for _ in range(rng.choice((30, 200, 2000))):
            v = [v]
    return v


def mutate_metadata(rng: random.Random, files: dict[str, bytes]) -> str:
    keys = sorted(k for k in files if k.rsplit("/", 1)[-1] in METADATA_NAMES)
    key = rng.choice(keys)
    raw = files[key]
    r = rng.random()
    if r < 0.15:  # damage the text itself
        b = bytearray(raw)
        if rng.random() < 0.5 and b:
            del b[rng.randrange(len(b)) :]
        elif b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        files[key] = bytes(b)
        return f"text {key}"
    doc = json.loads(raw)
    what = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = list(_paths(doc))
        path = rng.choice(paths[1:] if len(paths) > 1 else paths)
        op = rng.random()
        if op < 0.2 and path:
            doc = _replace(doc, path, None, delete=True)
            what.append(f"del {path}")
        elif op < 0.3 and isinstance(_get(doc, path), dict):
            _get(doc, path)[rng.choice(("configuration", "name", "id", "extra", "must_understand"))] = _weird(rng)
            what.append(f"add {path}")
        else:
            doc = _replace(doc, path, _weird(rng))
            what.append(f"set {path}")
    files[key] = _dumps(doc)
    return f"{key}: {'; '.join(map(str, what))}"


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


_BOMBS: dict[str, bytes] = {}


def bomb(kind: str) -> bytes:
    """A small chunk that decodes to ``BOMB`` bytes with codec ``kind`` (made once, then kept)."""
    if kind not in _BOMBS:
        _BOMBS[kind] = _make_bomb(kind)
    return _BOMBS[kind]


def _make_bomb(kind: str) -> bytes:
    import bz2
    import lzma

    import numcodecs

    if kind == "zstd":  # a frame with no content size: RLE blocks of 128 KiB of zeros
        n = BOMB // (128 * 1024)
        block = (((128 * 1024) << 3) | (1 << 1)).to_bytes(3, "little") + b"\0"
        last = (((128 * 1024) << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"\0"
        return (0xFD2FB528).to_bytes(4, "little") + b"\x00\x58" + block * (n - 1) + last
    if kind == "lz4":
        return BOMB.to_bytes(4, "little") + b"\x00"
    if kind == "blosc":
        return numcodecs.Blosc(cname="lz4", clevel=1).encode(bytes(BOMB))
    piece = bytes(2**20)
    streams: dict[str, Any] = {
        "zlib": zlib.compressobj(1),
        "gzip": zlib.compressobj(1, zlib.DEFLATED, 31),
        "bz2": bz2.BZ2Compressor(1),
        "lzma": lzma.LZMACompressor(),
    }
    c = streams[kind]
    return b"".join([c.compress(piece) for _ in range(BOMB // len(piece))] + [c.flush()])


def mutate_chunk(rng: random.Random, files: dict[str, bytes], seed: Seed) -> tuple[str, bool]:
    """Damage one chunk; returns (what was done, whether the codecs can see it)."""
    keys = sorted(k for k in files if k.rsplit("/", 1)[-1] not in METADATA_NAMES and k.startswith("a/"))
    if not keys:
        return "no chunk", False
    key = rng.choice(keys)
    b = bytearray(files[key])
    sized = any(c in SIZED for c in seed.codecs)
    checked = any(c in CHECKED or c == "zstd-checksum" for c in seed.codecs)
    r = rng.random()
    if r < 0.25 and len(b) > 1:
        n = rng.choice((1, 1, 2, 4, rng.randrange(1, len(b))))
        del b[len(b) - n :]
        what, visible = f"truncate {key} by {n}", sized or checked or "sharding_indexed" in seed.codecs
    elif r < 0.35:
        b += bytes(rng.randrange(256) for _ in range(rng.choice((1, 3, 100))))
        what, visible = f"extend {key}", checked and "zlib" not in seed.codecs  # zlib ignores what follows
    elif r < 0.6 and b:
        for _ in range(rng.choice((1, 1, 2, 8))):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        what, visible = f"flip bits of {key}", checked
    elif r < 0.7 and len(b) >= 4:
        at = rng.choice((0, 4, 8, 12, rng.randrange(len(b) - 3)))
        b[at : at + 4] = rng.choice((0xFFFFFFFF, 0x7FFFFFFF, 2**24, 0)).to_bytes(4, "little")
        what, visible = f"header field at {at} of {key}", False
    elif r < 0.85:
        kinds = [c for c in ("zstd", "lz4", "blosc", "zlib", "gzip", "bz2", "lzma") if c in seed.codecs]
        kind = rng.choice(kinds or ["zstd"])
        b = bytearray(bomb(kind))
        what, visible = f"{kind} bomb at {key}", False
    elif r < 0.92:
        b = bytearray(rng.randrange(256) for _ in range(rng.choice((0, 1, 7, 16, 64))))
        what, visible = f"random bytes at {key}", False
    else:
        del files[key]
        return f"delete {key}", False
    files[key] = bytes(b)
    return what, visible


# ---------------------------------------------------------------------------------------------------------
# Running a case


@dataclass
class Case:
    seed: Seed
    files: dict[str, bytes]
    what: str
    visible: bool = False  # chunk damage the codecs can see: success with other values is WRONG


@dataclass
class Result:
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    peak: int = 0


_ODD_KEYS = (
    "a/../x/.zarray",
    "a/\x00",
    "/abs/.zarray",
    "a//b/.zarray",
    "b\\c/.zarray",
    "é/.zgroup",
    "a/.",
    "c/zarr.json",
)


def mutate_store(rng: random.Random, files: dict[str, bytes]) -> str:
    """Keys a store may hold that no writer made: odd names, a stray marker, documents copied elsewhere."""
    r = rng.random()
    if r < 0.3:
        files["a/.polyzarr-incomplete"] = rng.choice((b"", b"{}", b'{"pid": "x"}', b"\xff", b"[1]"))
        return "marker"
    docs = sorted(k for k in files if k.rsplit("/", 1)[-1] in METADATA_NAMES)
    src = files[rng.choice(docs)]
    key = rng.choice(_ODD_KEYS) if r < 0.7 else f"a/{rng.choice(('0', 'c', 'x'))}/{rng.choice(METADATA_NAMES)}"
    files[key] = src
    return f"odd key {key!r}"


def generate(rng: random.Random, kind: str = "all") -> Case:
    seed = rng.choice(seeds())
    files = dict(seed.files)
    if kind == "all" and rng.random() < 0.08:
        return Case(seed, files, mutate_store(rng, files))
    if kind == "meta" or (kind == "all" and rng.random() < 0.5):
        return Case(seed, files, mutate_metadata(rng, files))
    what, visible = mutate_chunk(rng, files, seed)
    return Case(seed, files, what, visible)


class _Timeout(BaseException):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _rss() -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes, from /proc (the peak can be reset, unlike getrusage's)."""
    cur = peak = 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return cur, peak


def _reset_peak() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def exercise(store: Store) -> list[np.ndarray]:
    """What the CLI does with a store: walk it, open and read every array, make its .npy values, format
    ``inspect``. PolyZarrErrors of single arrays are collected as export collects them; the first is raised at
    the end (so an array failing after another succeeded still counts)."""
    out: list[np.ndarray] = []
    first: PolyZarrError | None = None
    for node in walk(store):
        if node.kind != "array":
            continue
        try:
            arr = open_node_array(store, node)
            values = arr[...]
            to_npy_array(values, arr.object_type, arr.meta_key)
            if node.path == "a":
                out.append(values)
        except PolyZarrError as e:
            first = first or e
    text = format_inspect(inspect_store(store))
    text.encode("utf-8")  # what printing it needs
    if first is not None:
        raise first
    return out


def run_case(case: Case, timeout: float = TIMEOUT) -> Result:
    limit = int(1.5 * case.seed.values.nbytes) + MARGIN
    store = DictStore(case.files)
    _reset_peak()
    base, _ = _rss()
    t0 = time.monotonic()
    in_main = _in_main_thread()
    if in_main:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        got = exercise(store)
        outcome, detail = "ok", ""
        if case.visible and got and not _same(got[0], case.seed.values):
            outcome, detail = "WRONG", "read without error, values differ"
    except _Timeout:
        outcome, detail = "HANG", f"over {timeout} s"
    except PolyZarrError as e:
        outcome, detail = "vocab-error", e.describe()
    except MemoryError as e:
        outcome, detail = "BLOWUP", f"MemoryError: {e}"
    except Exception as e:
        outcome, detail = "CRASH", f"{type(e).__name__}: {e}"
    finally:
        if in_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    seconds = time.monotonic() - t0
    _, peak = _rss()
    grown = max(0, peak - base)
    if seconds > timeout and outcome != "HANG":
        outcome, detail = "HANG", f"took {seconds:.1f} s"
    if grown > limit and outcome not in ("CRASH",):
        outcome, detail = "BLOWUP", f"peak RSS grew {grown >> 20} MiB (limit {limit >> 20} MiB); {detail}"
    return Result(outcome, detail, seconds, grown)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "O" or a.dtype.fields is not None:
        return a.tobytes() == b.tobytes() if a.dtype.kind != "O" else bool((a == b).all())
    return a.tobytes() == b.tobytes()


@dataclass
class Report:
    n: int
    seconds: float
    counts: Counter = field(default_factory=Counter)
    bad: list[tuple[int, Case, Result]] = field(default_factory=list)

    def table(self, show: int = 5) -> str:
        lines = [f"polyzarr fuzz (Python): {self.n} cases in {self.seconds:.1f} s"]
        for name in ("ok", "vocab-error", *BAD):
            lines.append(f"  {name:12s} {self.counts.get(name, 0)}")
        for i, case, res in self.bad[:show]:
            lines.append(f"  case {i} [{case.seed.name}] {case.what}: {res.outcome}: {res.detail[:300]}")
        return "\n".join(lines)


def fuzz(n: int, seed: int = 1, kind: str = "all", timeout: float = TIMEOUT) -> Report:
    rng = random.Random(seed)
    t0 = time.monotonic()
    report = Report(n, 0.0)
    for i in range(n):
        case = generate(rng, kind)
        res = run_case(case, timeout)
        report.counts[res.outcome] += 1
        if res.outcome in BAD:
            report.bad.append((i, case, res))
    report.seconds = time.monotonic() - t0
    return report


def _limit_memory(extra: int = 3 * 2**30) -> None:
    """An address-space cap a little above what the process has now: a runaway allocation fails as a
    MemoryError (BLOWUP) instead of taking the machine."""
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = vm + extra
    if hard == resource.RLIM_INFINITY or want < hard:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m polyzarr.testing.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=1000, help="number of cases")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kind", choices=("all", "meta", "chunk"), default="all")
    p.add_argument("--show", type=int, default=10, help="bad cases to describe")
    args = p.parse_args(argv)
    import os

    os.environ.setdefault("POLYZARR_THREADS", "1")
    os.environ.setdefault("POLYZARR_MAX_BYTES", str(READ_LIMIT))  # a mutated shape's legitimate huge read: refused
    seeds()
    for k in ("zstd", "lz4", "blosc", "zlib", "gzip", "bz2", "lzma"):
        bomb(k)  # made before the cap and the first peak reset
    _limit_memory()
    report = fuzz(args.n, args.seed, args.kind)
    print(report.table(args.show))
    return 1 if any(report.counts.get(b) for b in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BAD", "Case", "DictStore", "Report", "Result", "exercise", "fuzz", "generate", "run_case", "seeds"]
