"""`polyzarr export --cf` in both languages: PolyZarr.jl's CF decoding (datasets.jl) against xarray's, variable by
variable, on datasets written by xarray (julia/test/datasets_oracle.py: v2 and v3, consolidated or not, packed int16,
_FillValue, times in several units and calendars, strings, bools, coordinates) and by PolyZarr.jl's write_dataset
(v2 and v3), on local directories, S3 (moto) and HTTP. One Julia process runs every Julia export (the CLI's entry
point, PolyZarr.cli_main)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from polyzarr.testing import need

pytest.importorskip("xarray")
pytest.importorskip("zarr")

REPO = Path(__file__).resolve().parents[2]
ORACLE = REPO / "julia" / "test" / "datasets_oracle.py"

WRITE_JL = r"""
t = Union{Missing,DateTime}[DateTime(2000, 1, 1) + Hour(6i) for i in 0:4]
t[4] = missing
temp = Union{Missing,Float64}[round(10 * sin(i + j), digits=2) for i in 1:4, j in 1:5]
temp[2, 3] = missing
vars = [
    "time" => (("time",), t),
    "x" => (("x",), [10, 20, 30, 40]),
    "lat" => (("x",), [1.0, 2.0, 3.5, 4.0], Dict("units" => "degrees_north")),
    "temp" => (("x", "time"), temp, Dict("units" => "degC"),
               Dict("dtype" => Int16, "scale_factor" => 0.01, "add_offset" => 20.0, "_FillValue" => -32767, "chunks" => (2, 3))),
    "count" => (("x",), Union{Missing,Int32}[1, missing, 3, 4]),
    "flag" => (("x",), [true, false, true, true]),
    "label" => (("x",), ["a", "bé", "", "d"]),
    "t_noleap" => (("t3",), [CFDateTime{:noleap}(2001, 2, 28), CFDateTime{:noleap}(2001, 3, 1), CFDateTime{:noleap}(2001, 3, 1, 12)]),
    "t_360" => (("t3",), [CFDateTime{Symbol("360_day")}(2000, 2, 30), CFDateTime{Symbol("360_day")}(2000, 3, 1), CFDateTime{Symbol("360_day")}(2000, 12, 30, 6)]),
    "dur" => (("x",), Union{Missing,Second}[Second(3600), Second(5400), missing, Second(5)]),
    "scalar" => ((), fill(7.25)),
]
"""


def _julia():
    from polyzarr.julia import julia_executable

    exe = julia_executable()
    if exe is None:
        need("Julia", "scripts/install-julia.sh")
    return exe


def _run_julia(body: str, env=None) -> str:
    script = f"""
    pushfirst!(LOAD_PATH, {json.dumps(str(REPO / 'julia'))}); using PolyZarr, Dates
    function cli(args...)
        io = IOBuffer()
        code = PolyZarr.cli_main(collect(String, args); out=io, err=io)
        println("CLI ", code, " ", replace(String(take!(io)), "\\n" => " | "))
    end
    {body}
    """
    r = subprocess.run(
        [_julia(), "--startup-file=no", "-e", script], capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind in "mM":
        return bool(np.array_equal(a.view("i8"), b.view("i8")))
    return bool(np.array_equal(a, b))


def _compare(py_dir: Path, jl_dir: Path) -> list[str]:
    """Differences between the two exports, one line each (empty: identical)."""
    py = {p.name for p in py_dir.glob("*.npy")}
    jl = {p.name for p in jl_dir.glob("*.npy")}
    out = [f"{n}: only Python exported it" for n in sorted(py - jl)]
    out += [f"{n}: only Julia exported it" for n in sorted(jl - py)]
    for n in sorted(py & jl):
        a, b = np.load(py_dir / n), np.load(jl_dir / n)
        if not _same(a, b):
            out.append(f"{n}: xarray {a.dtype}{a.shape} {a.ravel()[:6]!r} vs Julia {b.dtype}{b.shape} {b.ravel()[:6]!r}")
    return out


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """xarray-written (the oracle's fixtures) and PolyZarr.jl-written (v2 and v3) datasets, local."""
    root = tmp_path_factory.mktemp("cfds")
    r = subprocess.run([sys.executable, str(ORACLE), "make", str(root / "xr")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # v2 and v3, consolidated (_c) or not (_u): the oracle's basic and raw-encoding datasets
    # (julia/test/test_datasets.jl compares datasets.jl with xarray on all of them, value by value; here the
    # contract's .npy forms, on one of each kind, to keep the test fast)
    keep = ("basic_v2_c.zarr", "raw_v3_u.zarr", "basic_v3_c.zarr")
    xr_names = [p for p in json.loads(r.stdout) if p.endswith(keep)]
    assert len(xr_names) == len(keep)
    return root, xr_names


def _py_export(src, out, endpoint_url=None):
    import warnings

    from polyzarr.cfexport import export_cf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_cf(src, str(out), endpoint_url, log=lambda *a: None)


@pytest.mark.julia
@pytest.mark.s3
def test_cf_export_julia_matches_xarray(datasets, s3_bucket, tmp_path):
    """Local (xarray- and PolyZarr.jl-written, v2 and v3), S3 (moto) and HTTP (consolidated): one Julia process
    writes the PolyZarr.jl datasets and runs every `export --cf`; each is compared with Python's (xarray's)."""
    import shutil

    import fsspec

    from polyzarr.stores import s3_options
    from polyzarr.testing.httpserver import HTTPTestServer

    root, xr_names = datasets
    local_xr = [p for p in xr_names if not p.endswith("basic_v3_c.zarr")]
    jl_written = [str(root / "jl_v2.zarr"), str(root / "jl_v3.zarr")]
    v2 = next(p for p in xr_names if p.endswith("basic_v2_c.zarr"))
    v3 = next(p for p in xr_names if p.endswith("basic_v3_c.zarr"))
    fs = fsspec.filesystem("s3", **s3_options())
    bucket = s3_bucket[len("s3://"):]
    for p in (v2, v3):
        fs.put(p, f"{bucket}/{Path(p).name}", recursive=True)
    www = tmp_path / "www"
    shutil.copytree(v3, www / "basic_v3_c.zarr")
    q = json.dumps
    with HTTPTestServer(www) as srv:
        srcs = local_xr + jl_written + [
            f"{s3_bucket}/basic_v2_c.zarr", f"{s3_bucket}/basic_v3_c.zarr", f"{srv.url}/basic_v3_c.zarr",
        ]
        body = WRITE_JL + f"""
        write_dataset({q(jl_written[0])}, vars; coords=["lat"], zarr_format=2)
        write_dataset({q(jl_written[1])}, vars; coords=["lat"], zarr_format=3)
        """ + "\n".join(
            f'cli("export", "--cf", {q(s)}, {q(str(tmp_path / "jl" / str(i)))})' for i, s in enumerate(srcs)
        )
        out = _run_julia(body)
        problems = []
        for i, s in enumerate(srcs):
            exported, failed = _py_export(s, tmp_path / "py" / str(i))
            assert exported, s
            problems += [f"{s}: {d}" for d in _compare(tmp_path / "py" / str(i), tmp_path / "jl" / str(i))]
        assert not problems, "\n".join(problems) + "\n" + out
        assert srv.count("", 200) > 0


def test_cf_export_needs_xarray_message(monkeypatch, tmp_path):
    import builtins

    from polyzarr.cfexport import export_cf
    from polyzarr.errors import PolyZarrError

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "xarray" or name.startswith("xarray."):
            raise ImportError("No module named 'xarray'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(PolyZarrError) as e:
        export_cf(str(tmp_path), str(tmp_path / "out"))
    assert "needs xarray" in str(e.value)
