"""The installed `polyzarr` entry point: export, import, inspect (the contract in docs/CONTRACT.md)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr

from polyzarr.testing import assert_same, make_objects, make_values

EXE = shutil.which("polyzarr") or str(Path(sys.executable).parent / "polyzarr")


def run(*args, check=True, env=None):
    p = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"polyzarr {' '.join(map(str, args))} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture
def tree(tmp_path):
    """A zarr-python-written hierarchy with a group, arrays of several dtypes/orders, a plain directory, and a broken array."""
    root = zarr.open_group(str(tmp_path / "src" / "d.zarr"), mode="w", zarr_format=2)
    vals = {}
    for name, dt, order in [("g/a", ">i4", "C"), ("g/b", "<f8", "F"), ("c", "<U3", "C"), ("deep/er/x", "|b1", "F")]:
        x = make_values(np.dtype(dt), (5, 4), seed=len(name))
        a = root.create_array(name, shape=x.shape, chunks=(2, 3), dtype=x.dtype, order=order)
        a[...] = x
        vals[name] = x
    s = root.create_array("s", shape=(4,), chunks=(3,), dtype=str)
    s[...] = np.array(["a", "bcd", "", "é😀"], dtype=object)
    vals["s"] = np.array(["a", "bcd", "", "é😀"], dtype="<U3")
    # a second store beside it, in a plain directory
    z = zarr.create_array(store=str(tmp_path / "src" / "plain" / "e.zarr"), shape=(3,), dtype="<u2", zarr_format=2)
    z[...] = [1, 2, 3]
    vals["plain/e.zarr"] = np.array([1, 2, 3], dtype="<u2")
    # a broken array
    (tmp_path / "src" / "broken").mkdir()
    (tmp_path / "src" / "broken" / ".zarray").write_text('{"zarr_format": 2, "shape": [3], "chunks"')
    return tmp_path / "src", vals


def test_export_everything_and_report_failures(tree, tmp_path):
    src, vals = tree
    p = run("export", src, tmp_path / "out", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAILED broken: MetadataError: broken/.zarray: invalid JSON" in p.stdout
    for name, x in vals.items():
        path = f"d.zarr/{name}" if not name.startswith("plain") else name
        got = np.load(tmp_path / "out" / f"{path}.npy")
        assert_same(got, x, name)
        assert f"exported {path} " in p.stdout


def test_export_single_array_names_file_after_it(tmp_path):
    z = zarr.create_array(store=str(tmp_path / "one.zarr"), shape=(2, 3), dtype=">f4", zarr_format=2, order="F")
    x = np.arange(6, dtype=">f4").reshape(2, 3)
    z[...] = x
    run("export", tmp_path / "one.zarr", tmp_path / "o")
    assert_same(np.load(tmp_path / "o" / "one.npy"), x)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">i2", "|S5", "<M8[us]", "struct"])
def test_import_read_by_zarr_python(tmp_path, dtype, order):
    dt = np.dtype([("a", "<i4"), ("b", ">f8", (2,))]) if dtype == "struct" else np.dtype(dtype)
    x = make_values(dt, (5, 6), seed=2)
    np.save(tmp_path / "x.npy", x)
    dest = tmp_path / "out.zarr" / "grp" / "arr"
    run("import", tmp_path / "x.npy", dest, "--chunks", "2,4", "--order", order, "--compressor", "blosc:cname=zstd,clevel=3,shuffle=2",
        "--dimension-separator", "/", "--attrs", '{"units": "K"}')
    assert json.loads((tmp_path / "out.zarr" / ".zgroup").read_text()) == {"zarr_format": 2}
    assert json.loads((tmp_path / "out.zarr" / "grp" / ".zgroup").read_text()) == {"zarr_format": 2}
    meta = json.loads((dest / ".zarray").read_text())
    assert meta["order"] == order and meta["chunks"] == [2, 4] and meta["compressor"]["cname"] == "zstd"
    assert (dest / "2" / "1").is_file()
    if dtype != "struct":
        z = zarr.open_array(str(dest), mode="r")
        assert_same(z[...], x, "zarr-python reading the import")
        assert z.attrs["units"] == "K"
    # and export gives the .npy back exactly
    run("export", dest, tmp_path / "back")
    assert_same(np.load(tmp_path / "back" / "arr.npy"), x)


def test_import_filters_fill_and_object_codec(tmp_path):
    x = (np.arange(30).reshape(5, 6) * 7).astype("<i8")
    np.save(tmp_path / "x.npy", x)
    run("import", tmp_path / "x.npy", tmp_path / "f.zarr" / "a", "--filters", "delta:dtype=<i8;shuffle:elementsize=8",
        "--compressor", "zlib:level=1", "--fill-value", "-1")
    meta = json.loads((tmp_path / "f.zarr" / "a" / ".zarray").read_text())
    assert [f["id"] for f in meta["filters"]] == ["delta", "shuffle"] and meta["fill_value"] == -1
    assert_same(zarr.open_array(str(tmp_path / "f.zarr" / "a"), mode="r")[...], x)

    s = np.array(["x", "yy", "zzz"], dtype="<U3")
    np.save(tmp_path / "s.npy", s)
    run("import", tmp_path / "s.npy", tmp_path / "f.zarr" / "s", "--object-codec", "vlen-utf8", "--fill-value", "null")
    meta = json.loads((tmp_path / "f.zarr" / "s" / ".zarray").read_text())
    assert meta["dtype"] == "|O" and meta["filters"] == [{"id": "vlen-utf8"}]
    assert zarr.open_array(str(tmp_path / "f.zarr" / "s"), mode="r")[...].tolist() == ["x", "yy", "zzz"]

    f = np.array([1.0, np.nan], dtype="<f4")
    np.save(tmp_path / "n.npy", f)
    run("import", tmp_path / "n.npy", tmp_path / "f.zarr" / "n", "--fill-value", "NaN", "--compressor", "none")
    meta = json.loads((tmp_path / "f.zarr" / "n" / ".zarray").read_text())
    assert meta["fill_value"] == "NaN" and meta["compressor"] is None


def test_import_refuses_to_overwrite(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(3))
    run("import", tmp_path / "x.npy", tmp_path / "o.zarr" / "a")
    p = run("import", tmp_path / "x.npy", tmp_path / "o.zarr" / "a", check=False)
    assert p.returncode == 1 and "StoreError: a/.zarray" in p.stderr and "--overwrite" in p.stderr
    run("import", tmp_path / "x.npy", tmp_path / "o.zarr" / "a", "--overwrite", "--chunks", "1")
    assert json.loads((tmp_path / "o.zarr" / "a" / ".zarray").read_text())["chunks"] == [1]


def test_inspect_text_and_json(tree):
    src, _ = tree
    p = run("inspect", src / "d.zarr")
    assert "g/a  array  shape=(5, 4) chunks=(2, 3) dtype=\">i4\" order=C" in p.stdout
    assert "g/b  array" in p.stdout and "order=F" in p.stdout and "g  group" in p.stdout
    j = json.loads(run("inspect", src / "d.zarr", "--json").stdout)
    nodes = {n["path"]: n for n in j["nodes"]}
    assert nodes["g/a"]["metadata"]["dtype"] == ">i4" and nodes["g"]["kind"] == "group" and nodes[""]["kind"] == "group"
    assert nodes["s"]["metadata"]["filters"] == [{"id": "vlen-utf8"}]
    bad = run("inspect", src, "--json", check=False)
    assert bad.returncode == 1
    assert any(n.get("error", {}).get("category") == "MetadataError" for n in json.loads(bad.stdout)["nodes"])


def test_usage_errors_exit_2(tmp_path):
    assert run("export", check=False).returncode == 2
    assert run("import", "x.npy", "d", "--order", "Q", check=False).returncode == 2
    assert run("frobnicate", check=False).returncode == 2


@pytest.mark.s3
def test_s3_import_export(tmp_path, s3_bucket, moto_endpoint):
    x = make_values(np.dtype("<c8"), (4, 5), seed=5)
    np.save(tmp_path / "x.npy", x)
    run("import", tmp_path / "x.npy", f"{s3_bucket}/s.zarr/g/a", "--chunks", "3,3", "--order", "F", "--endpoint-url", moto_endpoint)
    p = run("inspect", f"{s3_bucket}/s.zarr", "--endpoint-url", moto_endpoint)
    assert "g/a  array  shape=(4, 5)" in p.stdout
    run("export", f"{s3_bucket}/s.zarr", tmp_path / "o", "--endpoint-url", moto_endpoint)
    assert_same(np.load(tmp_path / "o" / "g" / "a.npy"), x)
