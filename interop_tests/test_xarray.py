"""Datasets written by xarray (v2 and v3, consolidated; CF-packed int16 with scale_factor/_FillValue, time as
integer days) read by Julia: dimension names in Julia's order, raw values equal to xarray's raw values
(decode_cf=False), and by polyzarr (Python) the same."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import polyzarr as pz
from polyzarr.interop.run import native_order
from polyzarr.testing import assert_same

xr = pytest.importorskip("xarray", reason="xarray is not installed: pip install xarray (a test extra)")
pd = pytest.importorskip("pandas")
warnings.filterwarnings("ignore")

DIMS = ["time", "lat", "lon"]
VARIABLES = ["temperature", "time", "lat", "lon"]


@pytest.fixture(scope="module", params=[2, 3], ids=["v2", "v3"])
def dataset(request, tmp_path_factory):
    fmt = request.param
    temp = 15 + 8 * np.random.default_rng(0).standard_normal((5, 3, 4))
    temp[0, 0, 0] = np.nan  # packed as _FillValue
    ds = xr.Dataset({"temperature": (DIMS, temp)},
                    coords={"time": pd.date_range("2000-01-01", periods=5, freq="D"), "lat": [10.0, 20.0, 30.0],
                            "lon": [0.0, 1.0, 2.0, 3.0]})
    enc = {"temperature": {"dtype": "int16", "scale_factor": 0.1, "add_offset": 10.0, "_FillValue": -9999,
                           "chunks": (2, 3, 2)},
           "time": {"units": "days since 2000-01-01", "dtype": "int32"}}
    path = tmp_path_factory.mktemp(f"xarray-v{fmt}") / "ds.zarr"
    ds.to_zarr(str(path), zarr_format=fmt, consolidated=True, encoding=enc, mode="w")
    raw = xr.open_zarr(str(path), decode_cf=False, consolidated=True)
    return fmt, path, {v: np.asarray(raw[v].values) for v in VARIABLES}


def test_julia_reads_raw_values(dataset, julia_bridge, tmp_path):
    fmt, path, raw = dataset
    r = julia_bridge.export(str(path), str(tmp_path / "out"))
    assert r["failed"] == [], r["failed"]
    got = {e["path"]: np.load(e["file"]) for e in r["exported"]}
    for v in VARIABLES:
        assert_same(native_order(got[v]), native_order(raw[v]), f"Julia's {v} (v{fmt}) against xarray's raw values")
    assert raw["temperature"].dtype == np.int16 and (raw["temperature"] == -9999).sum() == 1


def test_julia_dimension_names_reversed(dataset, julia_bridge):
    fmt, path, _ = dataset
    v = julia_bridge.julia_view(str(path / "temperature"))
    assert v["size"] == [4, 3, 5] and v["dimnames"] == list(reversed(DIMS)), v


def test_python_reads_raw_values_and_dims(dataset):
    fmt, path, raw = dataset
    a = pz.open(str(path / "temperature"))
    assert a.dimension_names == DIMS
    assert_same(native_order(a[...]), native_order(raw["temperature"]), f"polyzarr's temperature (v{fmt})")
    assert a.attrs["scale_factor"] == 0.1 and a.attrs["add_offset"] == 10.0
