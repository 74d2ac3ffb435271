"""The interop matrix's wall time and cells per second (make bench; a benchmark, not a test).

Runs every golden case × writer × reader × store (local, s3 on a fresh moto server, golden) the way
`polyzarr matrix` does, without writing reports, once per --jobs setting, and prints where the time goes.
Target: ≥ 2,000 cells in ≤ 60 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

from polyzarr.interop.cases import load_cases  # noqa: E402
from polyzarr.interop.run import STORES, Matrix, all_cells  # noqa: E402
from polyzarr.testing import MotoServer  # noqa: E402


def run_once(stores: list[str], jobs: int, endpoint: str | None) -> dict:
    cases = load_cases()
    cells = all_cells(cases, stores=stores)
    m = Matrix(s3_endpoint=endpoint)
    try:
        t0 = time.perf_counter()
        m.bridge().ping()  # Julia start-up counted separately: it is paid once per run
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        results = m.run(cells, jobs=jobs)
        run_s = time.perf_counter() - t1
        bad = sum(o.status in ("fail", "fixed") for _, o in results)
    finally:
        m.close()
    return {"stores": stores, "jobs": jobs, "cells": len(cells), "cases": len(cases), "julia_start_s": startup,
            "run_s": run_s, "wall_s": startup + run_s, "cells_per_s": len(cells) / (startup + run_s), "failing": bad,
            "stages_s": dict(sorted(m.timings.items(), key=lambda kv: -kv[1]))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs settings to time (default 1,2)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    out = []
    with MotoServer() as server:
        os.environ.update(server.environ())
        for stores in (["local", "golden"], list(STORES)):
            for jobs in (int(j) for j in args.jobs.split(",")):
                r = run_once(stores, jobs, server.endpoint)
                out.append(r)
                top = ", ".join(f"{k} {v:.1f}s" for k, v in list(r["stages_s"].items())[:5])
                print(f"matrix {'+'.join(stores):18s} jobs={jobs}: {r['cells']} cells ({r['cases']} cases) in "
                      f"{r['wall_s']:5.1f} s = {r['cells_per_s']:5.0f} cells/s (Julia start {r['julia_start_s']:.1f} s); "
                      f"{r['failing']} failing; slowest stages: {top}", flush=True)
    full = [r for r in out if len(r["stores"]) == len(STORES)]
    best = min(full, key=lambda r: r["wall_s"])
    rate_2000 = 2000 / best["cells_per_s"]
    print(f"full matrix: best {best['cells']} cells in {best['wall_s']:.1f} s (jobs={best['jobs']}); "
          f"2,000 cells at that rate take {rate_2000:.0f} s (target ≤ 60 s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
