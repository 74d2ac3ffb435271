"""Smoke test of `make bench` (benchmarks/bench_peers.py): a tiny run, its report's structure, verified results.

Not a benchmark: no number is checked. polyzarr-python and zarr-python always, PolyZarr.jl when Julia is there,
tensorstore and zarrs-python when installed.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from polyzarr.julia.locate import julia_executable, repo_root

SCRIPT = repo_root() / "benchmarks" / "bench_peers.py"
CASES = ["read-v2-zstd-F", "read-v3-sharded", "points-v3-sharded", "write-v3-zstd", "small-arrays"]


def test_bench_tiny(tmp_path: Path) -> None:
    contenders = ["polyzarr-python", "zarr-python"]
    contenders += ["polyzarr-jl"] if julia_executable() is not None else []
    contenders += [n for n, mod in (("tensorstore", "tensorstore"), ("zarrs-python", "zarrs"))
                   if importlib.util.find_spec(mod) is not None]
    out = tmp_path / "reports"
    p = subprocess.run(
        [sys.executable, str(SCRIPT), "--mib", "1", "--repeat", "1", "--only", ",".join(CASES),
         "--contenders", ",".join(contenders), "--points", "20", "--regions", "3", "--small", "20",
         "--dir", str(tmp_path / "stores"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "ratio peer time" in p.stdout and "targets (issue 16)" in p.stdout
    report = json.loads((out / "bench.json").read_text())
    assert report["machine"]["cpu_count"] >= 1
    assert set(report["config"]["cases"]) == set(CASES)
    for n in contenders:
        assert n in report["versions"], (n, report.get("unavailable"))
    assert (out / "bench.png").stat().st_size > 0
    for case in report["cases"]:
        res = case["results"]
        assert {"polyzarr-python", "zarr-python"} <= set(res)
        for name, r in res.items():
            if r["status"] != "ok":  # n/a with a reason (zarrs-python cannot read order F)
                assert r["error"], (case["case"], name)
                continue
            assert r["best_s"] > 0 and r["runs"], (case["case"], name)
            assert r["verified"] is True, (case["case"], name, r.get("wrong"))
            assert "cpu_use" in r and "peak_delta" in r
        assert res["polyzarr-python"]["status"] == "ok", case["case"]
        assert "zarr-python" in case["ratios"], case["case"]
    read = next(c for c in report["cases"] if c["case"] == "read-v3-sharded")
    assert "codec-limit" in read["results"] and read["results"]["codec-limit"]["status"] == "ok"


def test_codec_builds_runs() -> None:
    """benchmarks/codec_builds.py (run by make bench after the peers): every row printed, with a number for the
    libraries this venv always has (numcodecs; python-zstandard, a dependency)."""
    p = subprocess.run([sys.executable, str(SCRIPT.parent / "codec_builds.py"), "--rounds", "1"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    rows = [r for r in map(str.split, p.stdout.splitlines()) if "numcodecs" in r]
    assert len(rows) == 6, p.stdout
    for r in rows:
        assert float(r[r.index("numcodecs") + 1]) > 0, r
    assert sum("zstandard" in r and r[r.index("zstandard") + 1] != "n/a" for r in rows) == 4, p.stdout
    assert "frames against numcodecs'" in p.stdout
