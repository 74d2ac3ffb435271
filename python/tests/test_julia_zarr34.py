"""zarr-python 3.4 reads what PolyZarr.jl writes (issue 12): every readable store of
julia/test/data/zarr34 (written by zarr-python 3.4: numcodecs.* codecs, cast_value, scale_offset,
the 22 data types, rectilinear grids, v2 with the new codecs) is written again by PolyZarr.jl with
the same metadata (julia/test/data/zarr34/rewrite.jl, one Julia process), and zarr-python must read
each one equal to its own read of the original.  Skips when zarr-python < 3.4 is installed (its
codecs and data types are 3.4's) or Julia is missing.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zarr
from packaging.version import Version

from polyzarr.julia import julia_executable, repo_root

pytestmark = pytest.mark.julia

FIXTURES = repo_root() / "julia" / "test" / "data" / "zarr34"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CASES = [c for c in MANIFEST["cases"] if "unsupported" not in c]


def _skip_reason() -> str | None:
    if Version(zarr.__version__) < Version("3.4"):
        return f"zarr-python {zarr.__version__} < 3.4: the fixtures use 3.4's codecs and data types"
    if julia_executable() is None:
        return "Julia not found: run `make setup` (scripts/install-julia.sh) or set JULIA=/path/to/julia"
    return None


@pytest.fixture(scope="module")
def julia_written(tmp_path_factory) -> Path:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("julia_zarr34")
    exe = julia_executable()
    r = subprocess.run([exe, "--startup-file=no", str(FIXTURES / "rewrite.jl"), str(out)], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _expected(case: dict) -> np.ndarray:
    f = FIXTURES / "expected" / case["expected"]
    if f.suffix == ".json":
        d = json.loads(f.read_text())
        vals = d["values"]
        if case["name"] == "dt_variable_length_bytes":
            vals = [base64.b64decode(v) for v in vals]
        return np.array(vals, dtype=object).reshape(d["shape"])
    return np.load(f)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_zarr_python_reads_julia_written(julia_written: Path, case: dict) -> None:
    with zarr.config.set({"array.rectilinear_chunks": True}):
        got = zarr.open_array(julia_written / f"{case['name']}.zarr")[...]
    want = _expected(case)
    assert got.shape == want.shape
    if got.dtype.kind in "OTSUVb" or got.dtype.names:
        assert np.array_equal(np.asarray(got, dtype=object) if got.dtype.kind == "T" else got, want)
    else:
        assert got.dtype == want.dtype
        assert np.array_equal(got, want, equal_nan=True)
