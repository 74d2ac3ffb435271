"""Zarr v2 write/read throughput: polyzarr against zarr-python 3, measured in the same run.

Default: a 256 MiB float64 array in 1 MiB chunks, zstd and blosc-lz4, C and F order, on a local directory.
Prints, per case, seconds for each implementation and the ratio zarr-python time / polyzarr time (> 1 means
polyzarr is faster; the target is ≥ 1.0, the goal 1.5), and the peak memory of a polyzarr read relative to
the array's size (target ≤ 1.2). A benchmark, not a test: it never fails on a number.
"""
from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numcodecs
import numpy as np

warnings.filterwarnings("ignore")

import polyzarr as pz  # noqa: E402
from polyzarr.stores import open_store  # noqa: E402

CODECS = {
    "zstd": {"id": "zstd", "level": 0},
    "blosc-lz4": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
}


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="array size in MiB (default 256)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write results to this file")
    ap.add_argument("--no-julia", action="store_true", help="only the Python side")
    args = ap.parse_args()
    import zarr

    ncols = 1024
    nrows = args.mib * 2**20 // (8 * ncols)
    chunks = (128, 1024)  # 1 MiB of float64
    rng = np.random.default_rng(0)
    x = (np.sin(np.arange(nrows * ncols, dtype="<f8").reshape(nrows, ncols) / 1000.0) * 100).round(2)
    x += rng.integers(0, 4, x.shape) * 0.01
    print(f"polyzarr {pz.__version__} vs zarr-python {zarr.__version__}; array {x.shape} <f8 = {x.nbytes / 2**20:.0f} MiB, "
          f"chunks {chunks} (1 MiB), best of {args.repeat}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="pz-bench-"))
    rows = []
    try:
        for cname, cfg in CODECS.items():
            for order in ("C", "F"):
                pz_path, z_path = tmp / f"pz-{cname}-{order}", tmp / f"z-{cname}-{order}"

                def pz_write():
                    shutil.rmtree(pz_path, ignore_errors=True)
                    a = pz.create_array(open_store(str(pz_path), "w"), "", x.shape, x.dtype, chunks=chunks, order=order, compressor=cfg)
                    a[...] = x

                def z_write():
                    shutil.rmtree(z_path, ignore_errors=True)
                    a = zarr.create_array(store=str(z_path), shape=x.shape, chunks=chunks, dtype=x.dtype, zarr_format=2, order=order,
                                          compressors=numcodecs.get_codec(dict(cfg)), filters=None)
                    a[...] = x

                def pz_read():
                    return pz.open(str(pz_path))[...]

                def z_read():
                    return zarr.open_array(str(z_path), mode="r")[...]

                print(f"  {cname:9s} {order}: writing…", end="", flush=True)
                tw_pz, tw_z = best_of(pz_write, args.repeat), best_of(z_write, args.repeat)
                print(" reading…", end="", flush=True)
                tr_pz, tr_z = best_of(pz_read, args.repeat), best_of(z_read, args.repeat)
                assert np.array_equal(pz_read(), x) and np.array_equal(z_read(), x)
                gc.collect()
                tracemalloc.start()
                y = pz_read()
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                del y
                row = {"codec": cname, "order": order, "write_polyzarr_s": tw_pz, "write_zarr_s": tw_z, "write_ratio": tw_z / tw_pz,
                       "read_polyzarr_s": tr_pz, "read_zarr_s": tr_z, "read_ratio": tr_z / tr_pz, "read_peak_over_size": peak / x.nbytes}
                rows.append(row)
                print(f"\r  {cname:9s} {order}: write {tw_pz:6.3f}s vs {tw_z:6.3f}s  ratio {row['write_ratio']:4.2f} | "
                      f"read {tr_pz:6.3f}s vs {tr_z:6.3f}s  ratio {row['read_ratio']:4.2f} | read peak {row['read_peak_over_size']:4.2f}× size", flush=True)
        w = [r["write_ratio"] for r in rows]
        r = [r["read_ratio"] for r in rows]
        print(f"ratio zarr-python/polyzarr (>1 = polyzarr faster): write min {min(w):.2f} median {statistics.median(w):.2f}; "
              f"read min {min(r):.2f} median {statistics.median(r):.2f}; target ≥ 1.0, goal 1.5", flush=True)
        jrows = [] if args.no_julia else bench_julia(tmp, args.mib, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"python": rows, "julia": jrows}, indent=2))
    return 0


def bench_julia(tmp: Path, mib: int, repeat: int) -> list[dict]:
    """PolyZarr.jl on the same array: throughput as a fraction of bare codec calls, and read peak memory.

    Both sides single-threaded (JULIA_NUM_THREADS=1; blosc is called with 1 thread). See bench_julia.jl for
    what the raw loops do. The first run may spend a few seconds precompiling PolyZarr into the depot."""
    import os

    from polyzarr.julia import julia_executable, repo_root

    exe = julia_executable()
    if exe is None:
        print("julia: skipped (no Julia: run `make setup`)")
        return []
    script = str(repo_root() / "benchmarks" / "bench_julia.jl")
    env = dict(os.environ, JULIA_NUM_THREADS="1")
    print(f"PolyZarr.jl ({exe}): same array, fraction = bare codec time / PolyZarr time (target ≥ 0.8), best of {repeat}; "
          "[files: plain write/read of the stored chunks, included in PolyZarr's time, not in the bare codec's]", flush=True)
    p = subprocess.Popen([exe, "--startup-file=no", script, str(tmp), str(mib), str(repeat)], stdout=subprocess.PIPE, text=True, env=env)
    rows = []
    assert p.stdout is not None
    for line in p.stdout:
        row = json.loads(line)
        # peak memory of one read in a fresh process: its RSS just before the read vs the high-water mark after
        q = subprocess.run([exe, "--startup-file=no", script, "--peak-read", row["path"]], capture_output=True, text=True, env=env)
        row["read_peak_over_size"] = json.loads(q.stdout.strip().splitlines()[-1])["peak_delta"] / row["nbytes"] if q.returncode == 0 else float("nan")
        row["write_fraction"] = row["raw_encode_s"] / row["write_s"]
        row["read_fraction"] = row["raw_decode_s"] / row["read_s"]
        rows.append(row)
        print(f"  {row['codec']:9s} {row['order']}: write {row['write_s']:6.3f}s (bare encode {row['raw_encode_s']:6.3f}s, fraction {row['write_fraction']:4.2f}; "
              f"files {row['files_write_s']:5.3f}s) | read {row['read_s']:6.3f}s (bare decode {row['raw_decode_s']:6.3f}s, fraction {row['read_fraction']:4.2f}; "
              f"files {row['files_read_s']:5.3f}s) | read peak {row['read_peak_over_size']:4.2f}× size", flush=True)
    p.wait()
    return rows


if __name__ == "__main__":
    sys.exit(main())
