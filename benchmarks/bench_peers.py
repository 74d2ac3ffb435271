"""make bench: polyzarr (Python and Julia) against the peers, on the same stores, in one run.

Contenders, each in a long-lived worker process of its own (benchmarks/bench_worker.py --impl …, or
benchmarks/bench_worker.jl), driven over JSON lines; the worker times the operation alone:
  polyzarr-python     polyzarr's Python package (its own thread pool, POLYZARR_THREADS as set)
  polyzarr-jl         PolyZarr.jl, julia -t 2
  polyzarr-jl-1t      PolyZarr.jl, julia -t 1 (full reads and writes only: the 2-thread ÷ 1-thread speed-up)
  tensorstore         tensorstore's zarr / zarr3 drivers, file kvstore (default context; file_io_sync off for writes)
  zarrs-python        zarr-python with codec_pipeline.path = zarrs.ZarrsCodecPipeline
  zarr-python         zarr-python 3, its default BatchedCodecPipeline
  zarr-python-fused   zarr-python 3 with zarr.core.codec_pipeline.FusedCodecPipeline (n/a where absent)
and the reference for full reads, the codec limit: every stored chunk's bytes in memory, decoded by bare
numcodecs calls (blosc with 1 internal thread) on os.cpu_count() threads into its own slot of one fresh
result-sized buffer (codec-limit), or into one reused buffer per thread (codec-limit-hot, for reference).

Cases (default a 256 MiB float64 array of shape (32768, 1024), values round(sin(k/1000)*100, 2), chunks
(128, 1024) = 1 MiB; the read stores are written once by zarr-python, the oracle, and kept in --dir):
  read-v2-zstd-C / -F, read-v2-blosc-lz4-C / -F   v2, zstd level 0 / blosc lz4 clevel 5 shuffle 1, order C / F
  read-v3-zstd, read-v3-sharded                   v3 zstd; v3 shards (1024, 1024) = 8 MiB of (16, 1024) inner chunks
  points-v3-sharded                               1,000 point reads (fixed random indices, --seed) on the sharded array
  regions-v2-zstd-C, regions-v3-sharded           100 random 256×256 regions
  write-v2-zstd-C, write-v3-zstd, write-v3-sharded each contender writes its own copy into a fresh directory
                                                  (deleting it is not timed; zarr-python checks the first copy)
  small-arrays                                    2,000 arrays × 100 elements in one group: open + read each
Every timed operation includes opening the array. Each read's result is compared in the worker against the
expected values (outside the timing): a fast but wrong contender is flagged "WRONG". A contender that cannot do
a case is n/a with the first line of its error, never a crash.

Per case: one warm-up run per contender (page cache warm, Julia compiled), then --repeat rounds in which the
contenders alternate (round-robin, rotated each round); the best run counts. Measured from this process for
every contender alike: CPU use = (utime + stime) delta of the worker (/proc/<pid>/stat, 10 ms ticks) ÷ wall,
and the peak RSS: the worker's high-water mark is reset (/proc/<pid>/clear_refs ← 5) before the operation and
VmHWM read after, minus VmRSS before (reported ÷ the array's size).

Output: the tables on stdout (seconds; ratio peer ÷ polyzarr-python, < 1 means the peer is faster; PolyZarr.jl
against the codec limit and its 2-thread ÷ 1-thread write speed-up; CPU use and peak RSS), each target of issue
16's "Done when" marked ✓ met / ✗ missed; reports/bench.json (machine, versions, every run) and reports/bench.png.
Progress on stderr. A benchmark, not a test: it exits 0 whatever the numbers (non-zero only when the harness
itself fails). Set BENCH_MATRIX=1 (make bench) to also time the interop matrix (benchmarks/bench_matrix.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LAYOUT_VERSION = 1  # bump when the stores change: --dir keeps them between runs

PEERS = ["tensorstore", "zarrs-python", "zarr-python-fused", "zarr-python"]
CONTENDERS = ["polyzarr-python", "polyzarr-jl", "polyzarr-jl-1t"] + PEERS
LIMITS = ["codec-limit", "codec-limit-hot"]
SHORT = {"polyzarr-python": "pz-py", "polyzarr-jl": "pz-jl", "polyzarr-jl-1t": "pz-jl-1t", "tensorstore": "ts",
         "zarrs-python": "zarrs", "zarr-python-fused": "zarr-fused", "zarr-python": "zarr",
         "codec-limit": "limit", "codec-limit-hot": "hot"}

ZSTD_V2 = {"id": "zstd", "level": 0}
BLOSC_V2 = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
ZSTD_V3 = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}

CASES = ["read-v2-zstd-C", "read-v2-zstd-F", "read-v2-blosc-lz4-C", "read-v2-blosc-lz4-F", "read-v3-zstd",
         "read-v3-sharded", "points-v3-sharded", "regions-v2-zstd-C", "regions-v3-sharded", "write-v2-zstd-C",
         "write-v3-zstd", "write-v3-sharded", "small-arrays"]
STORE_OF = {"read-v2-zstd-C": "v2-zstd-C", "read-v2-zstd-F": "v2-zstd-F", "read-v2-blosc-lz4-C": "v2-blosc-lz4-C",
            "read-v2-blosc-lz4-F": "v2-blosc-lz4-F", "read-v3-zstd": "v3-zstd", "read-v3-sharded": "v3-sharded",
            "points-v3-sharded": "v3-sharded", "regions-v2-zstd-C": "v2-zstd-C", "regions-v3-sharded": "v3-sharded",
            "write-v2-zstd-C": "v2-zstd-C", "write-v3-zstd": "v3-zstd", "write-v3-sharded": "v3-sharded",
            "small-arrays": "small"}

# seconds per run at 256 MiB on the shared 2-core machine, with preparing, verifying and cleaning up (a default
# run took 9m41s there); for the estimate printed at the start
EST_S = {"read": 1.0, "points": 1.0, "regions": 1.0, "write": 3.0, "small": 2.0}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fmt_s(t: float) -> str:
    return f"{int(t // 60)}m{t % 60:04.1f}s" if t >= 60 else f"{t:.1f}s"


# ---------------------------------------------------------------------------------------------------------
# the stores, written once by zarr-python (the oracle)


class Layout:
    def __init__(self, mib: int, seed: int, npoints: int, nregions: int, nsmall: int, small_n: int):
        self.ncols = 1024
        self.nrows = max(1, mib * 2**20 // (8 * self.ncols))
        self.shape = (self.nrows, self.ncols)
        self.nbytes = self.nrows * self.ncols * 8
        self.chunks = (min(128, self.nrows), 1024)
        self.shards = (min(1024, self.nrows), 1024)
        self.inner = (min(16, self.nrows), 1024)
        self.seed, self.nsmall, self.small_n = seed, nsmall, small_n
        rng = np.random.default_rng(seed)
        self.points = [[int(i), int(j)] for i, j in zip(rng.integers(0, self.nrows, npoints),
                                                         rng.integers(0, self.ncols, npoints))]
        h, w = min(256, self.nrows), min(256, self.ncols)
        self.regions = [[int(r), int(c), h, w] for r, c in zip(rng.integers(0, self.nrows - h + 1, nregions),
                                                               rng.integers(0, self.ncols - w + 1, nregions))]

    def spec(self) -> dict:
        return {"layout": LAYOUT_VERSION, "shape": self.shape, "chunks": self.chunks, "shards": self.shards,
                "inner": self.inner, "nsmall": self.nsmall, "small_n": self.small_n}

    def data(self) -> np.ndarray:
        k = np.arange(self.nrows * self.ncols, dtype="<f8").reshape(self.shape)
        return (np.sin(k / 1000.0) * 100).round(2)


def write_stores(lay: Layout, root: Path, fresh: bool) -> dict[str, Path]:
    import numcodecs
    import zarr
    from zarr.codecs import ZstdCodec

    paths = {name: root / name for name in ("v2-zstd-C", "v2-zstd-F", "v2-blosc-lz4-C", "v2-blosc-lz4-F", "v3-zstd",
                                             "v3-sharded", "small")}
    paths["expected"] = root / "expected.f8"
    stamp = root / "spec.json"
    want = json.dumps({**lay.spec(), "zarr": zarr.__version__})
    if not fresh and stamp.exists() and stamp.read_text() == want:
        log(f"stores: reusing {root} (written by zarr-python {zarr.__version__})")
        return paths
    t0 = time.perf_counter()
    log(f"stores: writing {root} with zarr-python {zarr.__version__} (the oracle) …")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    x = lay.data()
    x.tofile(paths["expected"])
    for codec, cfg in (("zstd", ZSTD_V2), ("blosc-lz4", BLOSC_V2)):
        for order in ("C", "F"):
            a = zarr.create_array(store=str(paths[f"v2-{codec}-{order}"]), shape=lay.shape, chunks=lay.chunks,
                                  dtype="<f8", zarr_format=2, order=order, compressors=numcodecs.get_codec(dict(cfg)),
                                  filters=None)
            a[...] = x if order == "C" else np.asfortranarray(x)
    zc = ZstdCodec(level=0, checksum=False)
    a = zarr.create_array(store=str(paths["v3-zstd"]), shape=lay.shape, chunks=lay.chunks, dtype="<f8",
                          zarr_format=3, compressors=zc)
    a[...] = x
    a = zarr.create_array(store=str(paths["v3-sharded"]), shape=lay.shape, chunks=lay.inner, shards=lay.shards,
                          dtype="<f8", zarr_format=3, compressors=zc)
    a[...] = x
    del x
    g = zarr.open_group(str(paths["small"]), mode="w", zarr_format=2)
    for i in range(lay.nsmall):
        s = g.create_array(f"a{i:05d}", shape=(lay.small_n,), chunks=(lay.small_n,), dtype="<f8",
                           compressors=numcodecs.Zstd(level=0), filters=None)
        s[...] = np.arange(i * lay.small_n, (i + 1) * lay.small_n, dtype="<f8")
    stamp.write_text(want)
    log(f"stores: written in {time.perf_counter() - t0:.1f} s")
    return paths


def case_spec(name: str, lay: Layout, paths: dict[str, Path], out_dir: Path) -> dict:
    store = STORE_OF[name]
    kind = name.split("-")[0]
    fmt = 3 if "v3" in name else 2
    c = {"name": name, "kind": kind, "fmt": fmt, "path": str(paths[store]), "expected": str(paths["expected"]),
         "shape": list(lay.shape), "order": "F" if name.endswith("-F") else "C", "nbytes": lay.nbytes,
         "chunks": list(lay.chunks), "shards": None, "v2_compressor": BLOSC_V2 if "blosc" in name else ZSTD_V2,
         "v3_compressor": ZSTD_V3}
    if "sharded" in name:
        c["chunks"], c["shards"] = list(lay.inner), list(lay.shards)
    if kind == "points":
        c["points"] = lay.points
    if kind == "regions":
        c["regions"] = lay.regions
    if kind == "small":
        c["names"] = [f"a{i:05d}" for i in range(lay.nsmall)]
        c["elements"] = lay.small_n
        c["nbytes"] = lay.nsmall * lay.small_n * 8
    if kind == "write":
        c["out_dir"] = str(out_dir)
    return c


def applies(contender: str, kind: str) -> bool:
    if contender in LIMITS:
        return kind == "read"
    if contender == "polyzarr-jl-1t":
        return kind in ("read", "write")
    return True


# ---------------------------------------------------------------------------------------------------------
# workers


class WorkerError(Exception):
    pass


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def proc_status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise WorkerError(f"no {field} in /proc/{pid}/status")


class Worker:
    def __init__(self, name: str, log_dir: Path, timeout: float, julia_project: Path = ROOT / "julia",
                 python_path: str | None = None):
        self.name, self.timeout = name, timeout
        self.julia_project, self.python_path = julia_project, python_path
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.hello: dict = {}
        self.lines: queue.Queue = queue.Queue()
        self.start_error: str | None = None

    def command(self) -> list[str]:
        if self.name.startswith("polyzarr-jl"):
            from polyzarr.julia import julia_executable

            exe = julia_executable()
            if exe is None:
                raise WorkerError("no Julia (run `make setup`)")
            threads = "1" if self.name.endswith("-1t") else "2"
            return [exe, "-t", threads, f"--project={self.julia_project}", "--startup-file=no", "--history-file=no",
                    str(HERE / "bench_worker.jl")]
        return [sys.executable, str(HERE / "bench_worker.py"), "--impl", self.name]

    def start(self) -> None:
        """Start the process (not waiting for it to be ready: Julia takes a while)."""
        try:
            cmd = self.command()
        except WorkerError as e:
            self.start_error = str(e)
            return
        env = dict(os.environ)
        env.pop("JULIA_NUM_THREADS", None)  # -t says
        if self.python_path and self.name == "polyzarr-python":
            env["PYTHONPATH"] = os.pathsep.join([self.python_path] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        self._log = open(self.log_path, "a")
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     bufsize=1, env=env, cwd=str(ROOT))
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def ready(self, timeout: float = 900.0) -> bool:
        if self.start_error:
            return False
        if self.hello:
            return bool(self.hello.get("ok"))
        try:
            self.hello = self._read(timeout)
        except WorkerError as e:
            self.start_error = str(e)
            return False
        if not self.hello.get("ok"):
            self.start_error = self.hello.get("error", "did not start")
            return False
        return True

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _read(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerError(f"no reply in {timeout:.0f} s (killed)") from None
        if line is None:
            code = self.proc.wait() if self.proc else None
            raise WorkerError(f"worker exited (code {code}); {self.last_log_line()}")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise WorkerError(f"not a reply: {line[:200]!r}") from None

    def last_log_line(self) -> str:
        try:
            lines = [s for s in self.log_path.read_text(errors="replace").splitlines() if s.strip()]
            return lines[-1][:300] if lines else "no output"
        except OSError:
            return "no log"

    def request(self, obj: dict) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            raise WorkerError("worker is not running")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()
        except OSError as e:
            raise WorkerError(f"worker gone ({e})") from None
        return self._read(self.timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.kill()
        self.hello = {}
        self.start()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()


def measured_run(w: Worker, case: dict, out: Path | None) -> dict:
    """prepare → run (measured) → verify → finish. Raises WorkerError on any failure (n/a)."""
    spec = dict(case)
    if out is not None:
        spec["out"] = str(out)
    rep = w.request({"op": "prepare", "case": spec})
    if not rep.get("ok"):
        raise WorkerError(rep.get("error", "prepare failed"))
    pid = w.pid
    rss0 = proc_status(pid, "VmRSS")
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    cpu0 = proc_cpu_s(pid)
    t0 = time.perf_counter()
    rep = w.request({"op": "run"})
    wall = time.perf_counter() - t0
    cpu1 = proc_cpu_s(pid)
    hwm = proc_status(pid, "VmHWM")
    if not rep.get("ok"):
        w.request({"op": "finish"})
        raise WorkerError(rep.get("error", "run failed"))
    ver = w.request({"op": "verify"})
    w.request({"op": "finish"})
    if not ver.get("ok"):
        raise WorkerError("verify: " + ver.get("error", "failed"))
    return {"seconds": rep["seconds"], "wall_s": wall, "cpu_s": cpu1 - cpu0, "cpu_use": (cpu1 - cpu0) / wall,
            "rss_before": rss0, "vmhwm": hwm, "peak_delta": max(0, hwm - rss0) if hwm_reset else None,
            "verified": bool(ver.get("verified")), "verify_detail": ver.get("detail", "")}


def check_written(out: Path, expected: np.ndarray) -> tuple[bool, str]:
    """zarr-python (the oracle) reads a contender's written copy back."""
    import zarr

    try:
        got = zarr.open_array(str(out), mode="r")[...]
    except Exception as e:  # noqa: BLE001
        return False, f"zarr-python cannot read it: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    ok = got.shape == expected.shape and bool(np.array_equal(got, expected))
    return ok, "zarr-python reads the same values" if ok else "zarr-python reads different values"


# ---------------------------------------------------------------------------------------------------------
# the run


def run_bench(args: argparse.Namespace) -> dict:
    t_start = time.perf_counter()
    cases = [c for c in CASES if not args.only or any(s in c for s in args.only.split(","))]
    contenders = [c for c in CONTENDERS if not args.contenders or c in args.contenders.split(",")]
    unknown = set(args.contenders.split(",")) - set(CONTENDERS) if args.contenders else set()
    if unknown:
        raise SystemExit(f"unknown contenders {sorted(unknown)}; known: {', '.join(CONTENDERS)}")
    if not cases:
        raise SystemExit(f"--only {args.only} matches no case; cases: {', '.join(CASES)}")
    lay = Layout(args.mib, args.seed, args.points, args.regions, args.small, 100)
    root = Path(args.dir).resolve() / f"{args.mib}MiB"
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir = out_dir / "bench-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    kinds = {c.split("-")[0] for c in cases}
    names = contenders + (LIMITS if "read" in kinds and not args.no_limit else [])
    needed = [n for n in names if any(applies(n, k) for k in kinds)]
    workers = {n: Worker(n, log_dir, args.timeout, Path(args.julia_project).resolve(), args.python_path)
               for n in needed}
    for w in workers.values():  # start them all now: Julia loads while the stores are written
        w.start()
    try:
        return _run_cases(args, t_start, cases, lay, root, workers, needed)
    finally:
        for w in workers.values():
            w.close()


def _run_cases(args: argparse.Namespace, t_start: float, cases: list[str], lay: Layout, root: Path,
               workers: dict[str, Worker], needed: list[str]) -> dict:
    scale = {"read": args.mib / 256, "write": args.mib / 256, "points": args.points / 1000,
             "regions": args.regions / 100, "small": args.small / 2000}  # fixed counts, not the array size
    est = sum(EST_S[c.split("-")[0]] * max(0.3, scale[c.split("-")[0]])
              * (args.repeat + 1) * sum(applies(n, c.split("-")[0]) for n in needed) for c in cases)
    log(f"bench: {len(cases)} cases × {len(needed)} contenders, {args.mib} MiB, best of {args.repeat}; "
        f"estimated {fmt_s(est + 20)} plus writing the stores the first time")
    paths = write_stores(lay, root, args.fresh)
    write_out = root.parent / f"{args.mib}MiB-out"
    shutil.rmtree(write_out, ignore_errors=True)
    write_out.mkdir(parents=True)
    expected = np.memmap(paths["expected"], dtype="<f8", mode="r", shape=lay.shape)

    versions: dict[str, dict] = {}
    unavailable: dict[str, str] = {}
    for n, w in workers.items():
        t = time.perf_counter()
        if w.ready():
            versions[n] = w.hello.get("versions", {})
            log(f"  {n}: ready ({time.perf_counter() - t:.1f} s wait) {versions[n]}")
        else:
            unavailable[n] = w.start_error or "did not start"
            log(f"  {n}: n/a — {unavailable[n]}")

    results: list[dict] = []
    total_runs = sum((args.repeat + 1) * sum(applies(n, c.split("-")[0]) for n in needed) for c in cases)
    done_runs = 0
    t_runs = time.perf_counter()
    for ci, cname in enumerate(cases):
        case = case_spec(cname, lay, paths, write_out)
        kind = case["kind"]
        part = [n for n in needed if applies(n, kind)]
        res: dict[str, dict] = {n: {"status": "ok", "runs": [], "warmup": None} for n in part}
        for n in part:
            if n in unavailable:
                res[n] = {"status": "n/a", "error": unavailable[n], "runs": []}
        for rnd in range(args.repeat + 1):  # round 0: the warm-up
            order = part[rnd % len(part):] + part[:rnd % len(part)] if rnd else part
            for n in order:
                done_runs += 1
                r = res[n]
                if r["status"] != "ok" or (rnd and r.get("slow")):
                    continue
                w = workers[n]
                out = write_out / f"{n}-{cname}-{rnd}" if kind == "write" else None
                try:
                    run = measured_run(w, case, out)
                    if kind == "write" and rnd == 0 and out is not None:
                        ok, detail = check_written(out, expected)
                        run["verified"], run["verify_detail"] = ok, detail
                except WorkerError as e:
                    r.update(status="n/a", error=str(e).splitlines()[0][:300] if str(e) else "failed")
                    log(f"  [{ci + 1}/{len(cases)}] {cname}: {n} n/a — {r['error']}")
                    if w.proc is None or w.proc.poll() is not None:
                        w.restart()  # a crashed worker: a fresh one for the next case
                        if not w.ready():
                            unavailable[n] = f"restart failed: {w.start_error}"
                    continue
                finally:
                    if out is not None:
                        shutil.rmtree(out, ignore_errors=True)  # not timed
                if not run["verified"]:
                    r["wrong"] = run["verify_detail"]
                if rnd == 0:
                    r["warmup"] = run
                    if run["seconds"] > args.slow:  # bound the wall time: its warm-up is its only run
                        r["runs"].append(run)
                        r["slow"] = f"warm-up took {run['seconds']:.0f} s > --slow {args.slow:.0f} s: the only run"
                        log(f"  [{ci + 1}/{len(cases)}] {cname}: {n} is slow — {r['slow']}")
                elif not r.get("slow"):
                    r["runs"].append(run)
                else:
                    continue
                elapsed = time.perf_counter() - t_runs
                left = elapsed / done_runs * (total_runs - done_runs)
                log(f"  [{ci + 1}/{len(cases)}] {cname}: {n} {'warm-up' if rnd == 0 else f'run {rnd}/{args.repeat}'} "
                    f"{run['seconds']:.3f} s, cpu {run['cpu_use']:.2f}"
                    f"{'' if run['verified'] else ' WRONG: ' + run['verify_detail']} "
                    f"(elapsed {fmt_s(time.perf_counter() - t_start)}, ~{fmt_s(left)} left)")
        for n, r in res.items():
            if r["status"] == "ok" and r["runs"]:
                best = min(r["runs"], key=lambda x: x["seconds"])
                peaks = [x["peak_delta"] for x in r["runs"] if x["peak_delta"] is not None]
                r.update(best_s=best["seconds"], cpu_use=best["cpu_use"], peak_delta=max(peaks) if peaks else None,
                         peak_over_size=max(peaks) / case["nbytes"] if peaks else None,
                         verified=all(x["verified"] for x in r["runs"] + [r["warmup"]] if x))
            elif r["status"] == "ok":
                r.update(status="n/a", error="no runs")
        results.append({"case": cname, "kind": kind, "nbytes": case["nbytes"], "store": case["path"],
                        "results": res})
    shutil.rmtree(write_out, ignore_errors=True)
    wall = time.perf_counter() - t_start
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
               "processor": cpu_model(), "python": platform.python_version(), "mem_total_gib": mem_total_gib()}
    return {"machine": machine, "versions": versions, "unavailable": unavailable,
            "config": {"mib": args.mib, "repeat": args.repeat, "seed": args.seed, "shape": list(lay.shape),
                       "chunks": list(lay.chunks), "shards": list(lay.shards), "inner_chunks": list(lay.inner),
                       "points": args.points, "regions": args.regions, "small_arrays": args.small,
                       "small_elements": lay.small_n, "cases": cases, "contenders": needed, "dir": str(root)},
            "cases": results, "wall_s": wall, "estimated_s": est + 20,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def mem_total_gib() -> float | None:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------------------
# targets (issue 16, "Done when") and the tables

READ_KINDS = ("read", "points", "regions", "small")


def evaluate(report: dict) -> None:
    """Per case: ratios and the targets, into report["cases"][i]["ratios"] / ["targets"]."""
    for c in report["cases"]:
        res, kind = c["results"], c["kind"]
        best = {n: r["best_s"] for n, r in res.items() if r.get("status") == "ok" and "best_s" in r}
        pz = best.get("polyzarr-python")
        ratios = {n: t / pz for n, t in best.items() if pz and n != "polyzarr-python" and n not in LIMITS}
        targets = []
        for n in PEERS + ["polyzarr-jl"]:
            if n in ratios and n in PEERS:
                targets.append({"target": f"polyzarr-python {'read' if kind in READ_KINDS else 'write'} ≥ 1.0× {n}",
                                "value": ratios[n], "goal": 1.0, "met": ratios[n] >= 1.0, "cell": n})
        lim = best.get("codec-limit")
        c["limit_fraction"] = {n: lim / best[n] for n in ("polyzarr-python", "polyzarr-jl", "polyzarr-jl-1t")
                               if lim and n in best}
        if kind == "read" and "polyzarr-jl" in c["limit_fraction"]:
            v = c["limit_fraction"]["polyzarr-jl"]
            targets.append({"target": "PolyZarr.jl 2 threads ≥ 0.9× the codec limit", "value": v, "goal": 0.9,
                            "met": v >= 0.9, "cell": "polyzarr-jl/limit"})
        if "polyzarr-jl" in best and "polyzarr-jl-1t" in best:
            c["jl_speedup_2t"] = best["polyzarr-jl-1t"] / best["polyzarr-jl"]
            if kind == "write":
                targets.append({"target": "PolyZarr.jl write 2 threads ≥ 1.6× 1 thread", "value": c["jl_speedup_2t"],
                                "goal": 1.6, "met": c["jl_speedup_2t"] >= 1.6, "cell": "polyzarr-jl/1t"})
        if kind == "read":
            for n in ("polyzarr-python", "polyzarr-jl"):
                p = res.get(n, {}).get("peak_over_size")
                if p is not None:
                    targets.append({"target": f"{n} read peak RSS ≤ 1.2× the array", "value": p, "goal": 1.2,
                                    "met": p <= 1.2, "cell": f"{n}/rss"})
        for n, r in res.items():
            if r.get("wrong"):
                targets.append({"target": f"{n} returns the right values", "value": None, "goal": None, "met": False,
                                "cell": n, "detail": r["wrong"]})
        c["ratios"], c["targets"] = ratios, targets


def mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(s.ljust(widths[0]) if i == 0 else s.rjust(widths[i]) for i, s in enumerate(r))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def render(report: dict) -> str:
    cases = report["cases"]
    present = [n for n in CONTENDERS + LIMITS if any(n in c["results"] for c in cases)]
    notes: dict[str, int] = {}

    def na(r: dict) -> str:
        key = r.get("error", "n/a")
        notes.setdefault(key, len(notes) + 1)
        return f"n/a[{notes[key]}]"

    def target_of(c: dict, cell: str) -> bool | None:
        t = [x for x in c["targets"] if x["cell"] == cell and x["value"] is not None]
        return t[0]["met"] if t else None

    cfg = report["config"]
    out = [f"polyzarr vs peers: {cfg['mib']} MiB float64 {tuple(cfg['shape'])}, chunks {tuple(cfg['chunks'])}, "
           f"shards {tuple(cfg['shards'])} of {tuple(cfg['inner_chunks'])}; best of {cfg['repeat']}, alternating; "
           f"{report['machine']['cpu_count']} CPUs ({report['machine']['processor']})", ""]

    # 1. seconds
    rows = []
    for c in cases:
        row = [c["case"]]
        for n in present:
            r = c["results"].get(n)
            row.append("" if r is None else (f"{r['best_s']:.3f}" + ("~" if r.get("slow") else "")
                                              + (" WRONG" if r.get("wrong") else ""))
                       if r.get("status") == "ok" else na(r))
        rows.append(row)
    out += ["seconds (best run; every operation includes opening the array; ~: slower than --slow, one run only)",
            table(rows, ["case"] + [SHORT[n] for n in present]), ""]

    # 2. ratios
    peers = [n for n in ["polyzarr-jl"] + PEERS if n in present]
    rows = []
    for c in cases:
        row = [c["case"]]
        for n in peers:
            r = c["results"].get(n)
            if r is None:
                row.append("")
            elif r.get("status") != "ok":
                row.append(na(r))
            elif n in c["ratios"]:
                row.append(f"{c['ratios'][n]:.2f}{mark(target_of(c, n))}")
            else:
                row.append("-")
        lf = c.get("limit_fraction", {})
        row.append(f"{lf['polyzarr-python']:.2f}" if "polyzarr-python" in lf else "")
        row.append(f"{lf['polyzarr-jl']:.2f}{mark(target_of(c, 'polyzarr-jl/limit'))}" if "polyzarr-jl" in lf else "")
        sp = c.get("jl_speedup_2t")
        row.append(f"{sp:.2f}{mark(target_of(c, 'polyzarr-jl/1t'))}" if sp is not None else "")
        rows.append(row)
    out += ["ratio peer time ÷ polyzarr-python time (< 1: the peer is faster; target ≥ 1.00 for every peer); "
            "limit ÷ time: the codec limit's time ÷ the contender's (target ≥ 0.90 for pz-jl on full reads); "
            "1t÷2t: PolyZarr.jl 1-thread time ÷ 2-thread time (target ≥ 1.60 on writes)",
            table(rows, ["case"] + [SHORT[n] for n in peers] + ["pz-py lim", "pz-jl lim", "jl 1t÷2t"]), ""]

    # 3. CPU use and peak RSS
    who = [n for n in CONTENDERS + ["codec-limit"] if n in present]
    rows = []
    for c in cases:
        row = [c["case"]]
        for n in who:
            r = c["results"].get(n)
            if r is None:
                row.append("")
            elif r.get("status") != "ok":
                row.append(na(r))
            else:
                p = r.get("peak_over_size")
                ps = "-" if p is None else f"{p:.2f}{mark(target_of(c, n + '/rss'))}"
                if c["kind"] not in ("read", "write") and r.get("peak_delta") is not None:
                    ps = f"{r['peak_delta'] / 2**20:.0f}M"
                row.append(f"{r['cpu_use']:.2f} {ps}")
        rows.append(row)
    out += ["CPU use (user+sys ÷ wall, best run) and peak RSS ÷ array size (worst run; MiB for point/region/small "
            "cases; target ≤ 1.20 for pz-py and pz-jl on full reads)",
            table(rows, ["case"] + [SHORT[n] for n in who]), ""]

    if notes:
        out.append("n/a:")
        out += [f"  [{i}] {e}" for e, i in notes.items()]
        out.append("")
    missed = [t for c in cases for t in c["targets"] if not t["met"]]
    met = sum(t["met"] for c in cases for t in c["targets"])
    out.append(f"targets (issue 16): {met} met, {len(missed)} missed"
               + (":" if missed else ""))
    for c in cases:
        for t in c["targets"]:
            if not t["met"]:
                v = "" if t["value"] is None else f" {t['value']:.2f}"
                out.append(f"  ✗ {c['case']}: {t['target']}:{v}{' — ' + t['detail'] if t.get('detail') else ''}")
    out.append("")
    out.append(f"wall time {fmt_s(report['wall_s'])} (estimated {fmt_s(report['estimated_s'])})")
    return "\n".join(out)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = report["cases"]
    who = [n for n in CONTENDERS + ["codec-limit"] if any(n in c["results"] for c in cases)]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(cases) + 2), 5.5))
    width = 0.8 / max(1, len(who))
    for k, n in enumerate(who):
        xs, ys = [], []
        for i, c in enumerate(cases):
            r, pz = c["results"].get(n), c["results"].get("polyzarr-python", {}).get("best_s")
            if r and r.get("status") == "ok" and pz:
                xs.append(i + (k - (len(who) - 1) / 2) * width)
                ys.append(r["best_s"] / pz)
        ax.bar(xs, ys, width, label=n)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "235" else ""))
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([c["case"] for c in cases], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("time ÷ polyzarr-python time (log; lower is faster)")
    cfg = report["config"]
    ax.set_title(f"polyzarr vs peers, {cfg['mib']} MiB, best of {cfg['repeat']}, {report['machine']['cpu_count']} CPUs")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="array size in MiB (default 256; ≥ 1)")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds per case, best counts (default 3)")
    ap.add_argument("--only", help="comma-separated substrings of case names to run (e.g. read-v2,points)")
    ap.add_argument("--contenders", help=f"comma-separated contenders (default all: {','.join(CONTENDERS)})")
    ap.add_argument("--no-limit", action="store_true", help="skip the codec-limit reference")
    ap.add_argument("--seed", type=int, default=0, help="seed of the point and region indices (default 0)")
    ap.add_argument("--points", type=int, default=1000, help="point reads (default 1000)")
    ap.add_argument("--regions", type=int, default=100, help="region reads (default 100)")
    ap.add_argument("--small", type=int, default=2000, help="small arrays of 100 elements (default 2000)")
    ap.add_argument("--dir", default=str(ROOT / ".cache" / "bench"),
                    help="where the stores are written once and kept (default .cache/bench)")
    ap.add_argument("--fresh", action="store_true", help="rewrite the stores even if --dir has them")
    ap.add_argument("--out", default=str(ROOT / "reports"), help="bench.json, bench.png, worker logs (default reports/)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per worker request before n/a (default 600)")
    ap.add_argument("--slow", type=float, default=60.0,
                    help="a contender whose warm-up run takes longer is timed by that run alone (default 60 s)")
    ap.add_argument("--julia-project", default=str(ROOT / "julia"),
                    help="the PolyZarr.jl package to bench (default julia/ of this checkout; e.g. another worktree's)")
    ap.add_argument("--python-path", help="put this directory first on polyzarr-python's PYTHONPATH (another "
                    "checkout's python/, to bench it before a merge)")
    ap.add_argument("--list", action="store_true", help="list the cases and contenders, and exit")
    args = ap.parse_args()
    if args.list:
        print("cases:      " + " ".join(CASES) + "\ncontenders: " + " ".join(CONTENDERS))
        return 0
    if args.mib < 1 or args.repeat < 1:
        ap.error("--mib and --repeat must be ≥ 1")
    report = run_bench(args)
    evaluate(report)
    text = render(report)
    out = Path(args.out).resolve()
    report["table"] = text
    (out / "bench.json").write_text(json.dumps(report, indent=1, default=str))
    try:
        plot(report, out / "bench.png")
        png = f", {out / 'bench.png'}"
    except Exception as e:  # noqa: BLE001 - a chart is not worth failing the run
        png = f" (no chart: {type(e).__name__}: {e})"
    print(text, flush=True)
    print(f"wrote {out / 'bench.json'}{png}", flush=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # workers are closed on the way out
    sys.exit(main())
