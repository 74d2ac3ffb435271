"""`polyzarr explain DTYPE` and `polyzarr inspect --both`: checked against numpy's own dtype parser and strides, and
against what PolyZarr.jl itself answers (through the bridge)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polyzarr as pz
from polyzarr.stores import open_store

POLYZARR = str(Path(sys.executable).parent / "polyzarr")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([POLYZARR, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("typestr,julia", [
    ("<i4", "Int32"), (">f8", "Float64"), ("|b1", "Bool"), ("<c8", "ComplexF32"), ("|S7", "FixedBytesString{7}"),
    ("<U5", "FixedUTF32String{5}"), ("|V3", "RawBytes{3}"), ("<M8[ns]", "Datetime64{:ns,1}"), ("<m8[10s]", "Timedelta64{:s,10}"),
])
def test_explain_typestrings(typestr, julia):
    p = run("explain", typestr, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    dt = np.dtype(typestr)  # numpy's own parser is the independent reference
    assert info["itemsize"] == dt.itemsize and info["numpy"] == repr(dt) and info["julia"] == julia
    assert info["byteorder"] == {"<": "little", ">": "big", "|": "not applicable", "=": "little"}[dt.byteorder]
    assert info["fill_value"]


def test_explain_structured_and_v3():
    info = json.loads(run("explain", '[["a", "<i4"], ["b", ">f8", [2]]]', "--json").stdout)
    assert info["itemsize"] == np.dtype([("a", "<i4"), ("b", ">f8", (2,))]).itemsize
    assert [f["offset"] for f in info["fields"]] == [0, 4] and info["fields"][1]["shape"] == [2]
    v3 = json.loads(run("explain", "float32", "--json").stdout)
    assert v3["typestr"] == "<f4" and "hex" in v3["fill_value"]
    r = json.loads(run("explain", "r24", "--json").stdout)
    assert r["itemsize"] == 3 and "3 byte values" in r["fill_value"]


@pytest.mark.parametrize("bad,words", [("|f4", "byte order"), ("<i9", "cannot have size 9"), ("<M8", "needs a unit"),
                                       ("<S", "no size"), ("=i4", "machine-dependent"), ("r12", "multiple of 8"),
                                       ("[[1]]", "[name, dtype]")])
def test_explain_says_what_is_malformed(bad, words):
    p = run("explain", bad)
    assert p.returncode == 1 and "DtypeError" in p.stderr and words in p.stderr, p.stderr


@pytest.fixture(scope="module")
def julia_worker_bridge():
    from polyzarr.julia import WorkerBridge, julia_executable
    from polyzarr.testing import need

    if julia_executable() is None:
        need("Julia", "run `make setup`")
    b = WorkerBridge()
    yield b
    b.close()


@pytest.fixture
def two_arrays(tmp_path):
    store = open_store(str(tmp_path / "s.zarr"), "w")
    x = np.arange(60, dtype="<i2").reshape(5, 4, 3)
    for name, order in (("c", "C"), ("f", "F")):
        a = pz.create_array(store, name, x.shape, x.dtype, chunks=(2, 3, 2), order=order,
                            attributes={"_ARRAY_DIMENSIONS": ["t", "y", "x"]})
        a[...] = x
    return tmp_path / "s.zarr", x


def test_inspect_both_from_both_languages(two_arrays):
    root, x = two_arrays
    p = run("inspect", str(root), "--both", "--index", "3,1,2", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    views = {v["path"]: v for v in out["arrays"]}
    for name, order in (("c", "C"), ("f", "F")):
        v = views[name]
        py, jl = v["python"], v["julia"]
        assert py["shape"] == [5, 4, 3] and py["strides_bytes"] == list(np.empty((5, 4, 3), "<i2").strides)
        assert py["chunk_index"] == [1, 0, 1] and py["chunk_key"] == "1.0.1"
        assert jl["source"] == "PolyZarr.jl (julia_view)", out.get("julia_unavailable")
        assert jl["size"] == ([3, 4, 5] if order == "C" else [5, 4, 3])
        assert jl["index"] == ([3, 2, 4] if order == "C" else [4, 2, 3])  # x[3,1,2] in Julia's indexing
        assert jl["chunk_key"] == "1.0.1" and jl["agrees_with_layout_py"] is True
        assert jl["dimension_names"] == (["x", "y", "t"] if order == "C" else ["t", "y", "x"])
        assert jl["eltype"] == "Int16"
    text = run("inspect", str(root), "--both").stdout
    assert "C order: Julia sees the axes reversed" in text and "F order: Julia sees numpy's axes" in text


def test_inspect_both_index_outside(two_arrays):
    root, _ = two_arrays
    p = run("inspect", str(root), "--both", "--index", "9,9,9")
    assert p.returncode != 0 and "outside shape" in p.stderr


EXPLAIN_SPECS = ["|b1", "|i1", "<i2", ">u4", "<i8", "<f2", ">f4", "<f8", "<c8", ">c16", "<M8[ns]", ">M8[10s]", "<m8[3h]",
                 "|S7", "<U5", ">U5", "|V6", '[["a", "<i4"], ["b", ">f8", [2]]]', "float64", "uint16", "r24",
                 '{"name": "numpy.datetime64", "configuration": {"unit": "ms", "scale_factor": 5}}',
                 '{"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}}']


def type_name(t: str) -> str:
    """A Julia type's name without the printing differences between Julia versions (spaces; NTuple{2, T} is
    printed Tuple{T,T} by 1.5)."""
    import re

    t = t.replace(" ", "")
    return re.sub(r"NTuple\{(\d+),([^{}]+)\}", lambda m: "Tuple{" + ",".join([m.group(2)] * int(m.group(1))) + "}", t)


def test_python_and_julia_explain_alike(julia_worker_bridge):
    """The two dtype tables agree: Julia's own parse of each spec gives the Julia type, size and byte order the
    Python table promises."""
    julia = julia_worker_bridge.batch([("explain", {"dtype": s}) for s in EXPLAIN_SPECS])
    for spec, jl in zip(EXPLAIN_SPECS, julia):
        assert not isinstance(jl, Exception), f"Julia cannot parse {spec}: {jl}"
        py = json.loads(run("explain", spec, "--json").stdout)
        assert (type_name(jl["julia"]), jl["itemsize"]) == (type_name(py["julia"]), py["itemsize"]), f"{spec}: Julia {jl}, Python {py}"
        if not py["byteorder"].startswith("from the bytes codec"):
            assert jl["byteorder"] == py["byteorder"], f"{spec}: Julia {jl}, Python {py}"


def test_julia_cli_explain():
    p = run("explain", "--impl", "julia", ">M8[10s]", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["julia"] == "Datetime64{:s,10}"
    bad = run("explain", "--impl", "julia", "<i9")
    assert bad.returncode == 1 and "DtypeError" in bad.stderr + bad.stdout
