"""One benchmark contender in a long-lived process, driven by bench_peers.py over JSON lines on stdin/stdout.

    python bench_worker.py --impl IMPL

IMPL: polyzarr-python | zarr-python | zarr-python-fused | zarrs-python | tensorstore | codec-limit | codec-limit-hot

Protocol (one request line, one reply line; every reply has "ok", a failed one "error"):
  {"op": "info"}                 → {"ok": true, "versions": {...}}
  {"op": "prepare", "case": {…}} → set up outside the timing (open nothing the op itself must open; load the
                                   source array of a write, the stored chunk bytes for the codec limit), gc
  {"op": "run"}                  → {"ok": true, "seconds": t}: the operation alone, timed here
  {"op": "verify"}               → {"ok": true, "verified": bool, "detail": str}: the result against the expected
                                   values (outside the timing); the result is then dropped and memory returned
  {"op": "quit"}
The parent takes CPU time and the RSS high-water mark from /proc/<pid> around "run".
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import json
import os
import sys
import threading
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

try:
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # pragma: no cover - not glibc
    _LIBC = None


def release_memory() -> None:
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def expected_array(case: dict) -> np.ndarray:
    """The values every read store holds: a read-only map of the raw C-order float64 file the parent wrote."""
    return np.memmap(case["expected"], dtype="<f8", mode="r", shape=tuple(case["shape"]))


def small_values(i: int, n: int) -> np.ndarray:
    return np.arange(i * n, (i + 1) * n, dtype="<f8")


def first_line(e: BaseException) -> str:
    s = f"{type(e).__name__}: {e}".strip().splitlines()
    return s[0][:300] if s else type(e).__name__


# ---------------------------------------------------------------------------------------------------------
# contenders: read(path) / point(a, i, j) / region(a, r0, r1, c0, c1) / open(path) / write(case, x, path)


class NumpyIndexing:
    """A contender whose arrays index like numpy arrays (polyzarr, zarr-python): read, point and region alike."""

    def read(self, a) -> np.ndarray:
        return a[...]

    def point(self, a, i: int, j: int) -> float:
        return float(a[i, j])

    def region(self, a, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        return a[r0:r1, c0:c1]


class Polyzarr(NumpyIndexing):
    name = "polyzarr-python"

    def __init__(self) -> None:
        import polyzarr

        self.pz = polyzarr

    def versions(self) -> dict:
        return {"polyzarr": self.pz.__version__, "numpy": np.__version__, "from": str(Path(self.pz.__file__).parent)}

    def open(self, path: str):
        return self.pz.open_array(self.pz.open_store(path, "r"), "")

    def open_in(self, root: str):
        store = self.pz.open_store(root, "r")
        return lambda name: self.pz.open_array(store, name)

    def write(self, case: dict, x: np.ndarray, path: str) -> None:
        pz = self.pz
        store = pz.open_store(path, "w")
        if case["fmt"] == 2:
            a = pz.create_array(store, "", x.shape, x.dtype, chunks=tuple(case["chunks"]), order=case["order"],
                                compressor=case["v2_compressor"])
        elif case.get("shards"):
            a = pz.create_array(store, "", x.shape, x.dtype, chunks=tuple(case["chunks"]), zarr_format=3,
                                shards=tuple(case["shards"]), compressor=case["v3_compressor"])
        else:
            a = pz.create_array(store, "", x.shape, x.dtype, chunks=tuple(case["chunks"]), zarr_format=3,
                                compressor=case["v3_compressor"])
        a[...] = x


class ZarrPython(NumpyIndexing):
    """zarr-python 3 with a codec pipeline (its default BatchedCodecPipeline, the fused one, or zarrs')."""

    PIPELINES = {
        "zarr-python": None,
        "zarr-python-fused": "zarr.core.codec_pipeline.FusedCodecPipeline",
        "zarrs-python": "zarrs.ZarrsCodecPipeline",
    }

    def __init__(self, name: str) -> None:
        import zarr

        self.name, self.zarr = name, zarr
        path = self.PIPELINES[name]
        if name == "zarr-python-fused":
            import zarr.core.codec_pipeline as cp

            if not hasattr(cp, "FusedCodecPipeline"):
                raise RuntimeError(f"zarr-python {zarr.__version__} has no FusedCodecPipeline")
        if name == "zarrs-python":
            import zarrs  # noqa: F401  (ImportError: not installed)
        if path is not None:
            zarr.config.set({"codec_pipeline.path": path})

    def versions(self) -> dict:
        v = {"zarr": self.zarr.__version__, "numcodecs": __import__("numcodecs").__version__, "numpy": np.__version__,
             "codec_pipeline": self.zarr.config.get("codec_pipeline.path")}
        if self.name == "zarrs-python":
            from importlib.metadata import version

            v["zarrs"] = version("zarrs")
        return v

    def open(self, path: str):
        return self.zarr.open_array(path, mode="r")

    def open_in(self, root: str):
        from zarr.storage import LocalStore

        store = LocalStore(root, read_only=True)
        return lambda name: self.zarr.open_array(store, path=name, mode="r")

    def write(self, case: dict, x: np.ndarray, path: str) -> None:
        import numcodecs
        from zarr.codecs import ZstdCodec

        zarr = self.zarr
        if case["fmt"] == 2:
            a = zarr.create_array(store=path, shape=x.shape, chunks=tuple(case["chunks"]), dtype=x.dtype, zarr_format=2,
                                  order=case["order"], compressors=numcodecs.get_codec(dict(case["v2_compressor"])),
                                  filters=None)
        else:
            c = case["v3_compressor"]["configuration"]
            a = zarr.create_array(store=path, shape=x.shape, chunks=tuple(case["chunks"]), dtype=x.dtype, zarr_format=3,
                                  shards=tuple(case["shards"]) if case.get("shards") else None,
                                  compressors=ZstdCodec(level=c["level"], checksum=c["checksum"]))
        a[...] = x


class Tensorstore:
    """tensorstore's zarr / zarr3 drivers on the file kvstore; its default context, except file_io_sync off for
    writes (the others do not fsync either)."""

    name = "tensorstore"

    def __init__(self) -> None:
        import tensorstore as ts

        self.ts = ts

    def versions(self) -> dict:
        from importlib.metadata import version

        return {"tensorstore": version("tensorstore"), "numpy": np.__version__}

    def _spec(self, path: str) -> dict:
        driver = "zarr3" if (Path(path) / "zarr.json").exists() else "zarr"
        return {"driver": driver, "kvstore": {"driver": "file", "path": path}}

    def open(self, path: str):
        return self.ts.open(self._spec(path), read=True).result()

    def open_in(self, root: str):
        ctx = self.ts.Context()
        return lambda name: self.ts.open(self._spec(os.path.join(root, name)), read=True, context=ctx).result()

    def read(self, a) -> np.ndarray:
        return a.read().result()

    def point(self, a, i: int, j: int) -> float:
        return float(a[i, j].read().result())

    def region(self, a, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        return a[r0:r1, c0:c1].read().result()

    def write(self, case: dict, x: np.ndarray, path: str) -> None:
        ts = self.ts
        kv = {"driver": "file", "path": path}
        if case["fmt"] == 2:
            meta = {"shape": list(x.shape), "chunks": list(case["chunks"]), "dtype": "<f8",
                    "compressor": dict(case["v2_compressor"]), "order": case["order"], "filters": None,
                    "fill_value": 0.0, "dimension_separator": "."}
            spec = {"driver": "zarr", "kvstore": kv, "metadata": meta}
        else:
            inner = [{"name": "bytes", "configuration": {"endian": "little"}}, dict(case["v3_compressor"])]
            if case.get("shards"):
                codecs = [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": list(case["chunks"]), "codecs": inner,
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end"}}]
                grid = list(case["shards"])
            else:
                codecs, grid = inner, list(case["chunks"])
            meta = {"shape": list(x.shape), "data_type": "float64", "fill_value": 0.0, "codecs": codecs,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
                    "chunk_key_encoding": {"name": "default"}}
            spec = {"driver": "zarr3", "kvstore": kv, "metadata": meta}
        ctx = ts.Context({"file_io_sync": False})
        a = ts.open(spec, create=True, context=ctx).result()
        a.write(x).result()


class CodecLimit:
    """Bare numcodecs decode of every stored chunk (bytes already in memory) on os.cpu_count() threads, blosc
    with 1 internal thread: into its own chunk-sized slot of one fresh result-sized buffer ("codec-limit"), or
    into one reused chunk-sized buffer per thread ("codec-limit-hot", cache-hot, no fresh memory)."""

    def __init__(self, name: str) -> None:
        import numcodecs
        import numcodecs.blosc

        numcodecs.blosc.set_nthreads(1)
        numcodecs.blosc.use_threads = False
        self.name, self.numcodecs = name, numcodecs
        self.hot = name == "codec-limit-hot"
        self.nthreads = os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(self.nthreads)

    def versions(self) -> dict:
        return {"numcodecs": self.numcodecs.__version__, "threads": self.nthreads, "numpy": np.__version__}

    def load(self, case: dict) -> None:
        """The stored chunks' bytes and their decoded size, in chunk order."""
        root = Path(case["path"])
        if case["fmt"] == 2:
            meta = json.loads((root / ".zarray").read_text())
            codec = self.numcodecs.get_codec(meta["compressor"])
            files = sorted((p for p in root.iterdir() if not p.name.startswith(".")),
                           key=lambda p: tuple(int(s) for s in p.name.split(".")))
            chunks = [p.read_bytes() for p in files]
            nbytes = int(np.prod(meta["chunks"])) * 8
        else:
            meta = json.loads((root / "zarr.json").read_text())
            codecs = meta["codecs"]
            files = sorted((p for p in (root / "c").rglob("*") if p.is_file()),
                           key=lambda p: tuple(int(s) for s in p.relative_to(root / "c").parts))
            if codecs[0]["name"] == "sharding_indexed":
                cfg = codecs[0]["configuration"]
                inner = cfg["codecs"]
                n_inner = int(np.prod([s // c for s, c in zip(meta["chunk_grid"]["configuration"]["chunk_shape"],
                                                              cfg["chunk_shape"])]))
                chunks = []
                for p in files:
                    data = p.read_bytes()
                    index = np.frombuffer(data[-(16 * n_inner + 4):-4], dtype="<u8").reshape(n_inner, 2)
                    chunks += [data[o:o + n] for o, n in index if o != 2**64 - 1]
                nbytes = int(np.prod(cfg["chunk_shape"])) * 8
            else:
                inner = codecs
                chunks = [p.read_bytes() for p in files]
                nbytes = int(np.prod(meta["chunk_grid"]["configuration"]["chunk_shape"])) * 8
            comp = [c for c in inner if c["name"] not in ("bytes", "transpose")]
            assert len(comp) == 1 and comp[0]["name"] == "zstd", comp
            codec = self.numcodecs.Zstd(level=comp[0]["configuration"].get("level", 0))
        self.codec, self.chunks, self.chunk_nbytes = codec, chunks, nbytes

    def run(self):
        n, cb, chunks, decode = len(self.chunks), self.chunk_nbytes, self.chunks, self.codec.decode
        counter = itertools.count()
        out = np.empty(n * cb, dtype=np.uint8) if not self.hot else None

        def work() -> None:
            buf = np.empty(cb, dtype=np.uint8) if self.hot else None
            while (i := next(counter)) < n:
                decode(chunks[i], out=buf if buf is not None else out[i * cb:(i + 1) * cb])

        for f in [self.pool.submit(work) for _ in range(self.nthreads)]:
            f.result()
        return out


# ---------------------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, impl: str) -> None:
        self.impl = impl
        if impl == "polyzarr-python":
            self.c = Polyzarr()
        elif impl in ZarrPython.PIPELINES:
            self.c = ZarrPython(impl)
        elif impl == "tensorstore":
            self.c = Tensorstore()
        elif impl in ("codec-limit", "codec-limit-hot"):
            self.c = CodecLimit(impl)
        else:
            raise SystemExit(f"unknown --impl {impl}")
        self.case: dict | None = None
        self.x: np.ndarray | None = None
        self.result = None

    def prepare(self, case: dict) -> dict:
        self.case, self.result, self.x = case, None, None
        kind = case["kind"]
        if isinstance(self.c, CodecLimit):
            if kind != "read":
                raise RuntimeError("the codec limit is for full reads only")
            self.c.load(case)
        elif kind == "write":
            self.x = np.fromfile(case["expected"], dtype="<f8").reshape(case["shape"])
            if case["order"] == "F" and case["fmt"] == 2:
                self.x = np.asfortranarray(self.x)
        release_memory()
        return {}

    def run(self) -> dict:
        case, c = self.case, self.c
        assert case is not None
        kind = case["kind"]
        t0 = time.perf_counter()
        if isinstance(c, CodecLimit):
            r = c.run()
        elif kind == "read":
            r = c.read(c.open(case["path"]))
        elif kind == "points":
            a = c.open(case["path"])
            r = [c.point(a, i, j) for i, j in case["points"]]
        elif kind == "regions":
            a = c.open(case["path"])
            r = [c.region(a, r0, r0 + h, c0, c0 + w) for r0, c0, h, w in case["regions"]]
        elif kind == "small":
            open_one = c.open_in(case["path"])
            r = [c.read(open_one(name)) for name in case["names"]]
        elif kind == "write":
            c.write(case, self.x, case["out"])
            r = None
        else:
            raise RuntimeError(f"unknown case kind {kind}")
        t = time.perf_counter() - t0
        self.result = r
        return {"seconds": t}

    def verify(self) -> dict:
        case, r = self.case, self.result
        assert case is not None
        kind = case["kind"]
        try:
            if isinstance(self.c, CodecLimit):
                ok, detail = True, "bare decode (not compared)"
                if r is not None and case["order"] == "C":  # full-row chunks: the slots are the C-order array
                    e = expected_array(case)
                    ok = bool(np.array_equal(r.view("<f8").reshape(e.shape), e))
                    detail = "decoded bytes equal the array" if ok else "decoded bytes differ"
            elif kind == "write":
                ok, detail = True, "checked by the parent (zarr-python)"
            elif kind == "read":
                e = expected_array(case)
                r = np.asarray(r)
                ok = r.shape == e.shape and bool(np.array_equal(r, e))
                detail = "equal" if ok else f"differs (shape {r.shape})"
            elif kind == "points":
                e = expected_array(case)
                want = np.array([e[i, j] for i, j in case["points"]])
                ok = bool(np.array_equal(np.array(r, dtype="<f8"), want))
                detail = "equal" if ok else f"{int(np.sum(np.array(r) != want))} of {len(want)} points differ"
            elif kind == "regions":
                e = expected_array(case)
                bad = sum(not np.array_equal(np.asarray(v), e[r0:r0 + h, c0:c0 + w])
                          for v, (r0, c0, h, w) in zip(r, case["regions"]))
                ok, detail = bad == 0, "equal" if bad == 0 else f"{bad} regions differ"
            elif kind == "small":
                n = case["elements"]
                bad = sum(not np.array_equal(np.asarray(v), small_values(i, n)) for i, v in enumerate(r))
                ok, detail = bad == 0, "equal" if bad == 0 else f"{bad} arrays differ"
            else:
                ok, detail = False, f"unknown kind {kind}"
        finally:
            self.result = None
            del r
            release_memory()
        return {"verified": ok, "detail": detail}

    def finish(self) -> dict:
        self.case, self.x, self.result = None, None, None
        if isinstance(self.c, CodecLimit):
            self.c.chunks = []
        release_memory()
        return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", required=True)
    args = ap.parse_args()
    out = sys.stdout
    sys.stdout = sys.stderr  # library chatter must not break the protocol
    try:
        w = Worker(args.impl)
        hello: dict = {"ok": True, "ready": True, "pid": os.getpid(), "versions": w.c.versions()}
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which marks the contender n/a
        w, hello = None, {"ok": False, "ready": False, "error": first_line(e)}
    out.write(json.dumps(hello) + "\n")
    out.flush()
    if w is None:
        return 0
    for line in sys.stdin:
        req = json.loads(line)
        op = req.get("op")
        if op == "quit":
            break
        try:
            if op == "prepare":
                rep = w.prepare(req["case"])
            elif op == "run":
                rep = w.run()
            elif op == "verify":
                rep = w.verify()
            elif op == "finish":
                rep = w.finish()
            elif op == "info":
                rep = {"versions": w.c.versions()}
            else:
                raise RuntimeError(f"unknown op {op}")
            rep = {"ok": True, **rep}
        except BaseException as e:  # noqa: BLE001
            w.result = None
            rep = {"ok": False, "error": first_line(e), "trace": traceback.format_exc()[-2000:]}
        out.write(json.dumps(rep) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench-worker"
    sys.exit(main())
