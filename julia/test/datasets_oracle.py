"""xarray as the oracle for julia/test/test_datasets.jl.

    python datasets_oracle.py make OUTDIR      write the fixture datasets (xarray + zarr-python), v2/v3,
                                              consolidated or not; print their names as JSON
    python datasets_oracle.py dump STORE...   open each with xarray (default decoding) and print, per store,
                                              what xarray decodes: dims, coords, attrs, and every variable's
                                              dtype, dims, attrs and values (C order, JSON-friendly)
    python datasets_oracle.py readme PATH     the dataset the README example reads

Values: floats as numbers (NaN → null), datetime64 / cftime → "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn",
timedelta64 → integer nanoseconds, bytes → list of ints, str → str, NaT → null.
"""
import base64
import json
import os
import struct
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
import zarr  # noqa: E402


def _basic():
    t = pd.date_range("2000-01-01", periods=5, freq="6h")
    temp = np.array([[1.5, np.nan, 3.25, -4.0], [4, 5, 6, 7], [7, 8, 9, 10], [10, 11, np.nan, 13], [0.1, 0.2, 0.3, 0.4]])
    ds = xr.Dataset(
        {"temp": (("time", "x"), temp, {"long_name": "air temperature", "units": "degC"}),
         "rain": (("time", "x"), temp * 2),
         "flag": (("x",), np.array([True, False, True, True])),
         "name": (("x",), np.array(["a", "bé", "", "dddd"], dtype=object)),
         "uname": (("x",), np.array(["a", "bé", "ccc", "d"])),
         "sname": (("x",), np.array([b"a", b"bb", b"", b"\xff"])),
         "dt": (("time",), pd.to_timedelta([1, 2, np.nan, 4, 5], unit="h")),
         "t2": (("time",), [t[0], pd.NaT, t[2], t[3], t[4]]),
         "small": (("x",), np.array([1, 2, 3, 4], dtype="f4")),
         "scalar": ((), 42.0),
         "chartext": (("x",), np.array(["ab", "c", "", "dé"], dtype=object)),
         },
        coords={"time": t, "x": [10, 20, 30, 40], "lat": (("x",), [1.0, 2.0, 3.0, 4.0])},
        attrs={"title": "basic", "history": "made by datasets_oracle.py", "version": 3})
    ds["temp"].encoding = {"dtype": "int16", "scale_factor": 0.1, "add_offset": 0.0, "_FillValue": -32768, "chunks": (2, 3)}
    ds["rain"].encoding = {"chunks": (3, 2)}
    ds["chartext"].encoding = {"dtype": "S1"}       # UTF-8 characters along a "string3" dimension
    return ds


def _v3_fill(v, dtype):
    return xr.backends.zarr.FillValueCoder.encode(v, np.dtype(dtype))


# (name, dims (numpy order), data, attrs, fill value (the _FillValue: v2 fill_value, v3 attribute) or None)
def _raw_vars():
    i64min = np.iinfo(np.int64).min
    return [
        ("t_noleap", ("t7",), np.arange(7, dtype="i4"), {"units": "days since 2000-02-25", "calendar": "noleap"}, None),
        ("t_365", ("t7",), np.arange(7, dtype="i4") * 24, {"units": "hours since 2001-02-27 06:00", "calendar": "365_day"}, None),
        ("t_360", ("t4",), np.array([0.0, 24 * 29.5, 24 * 30 * 11, 24 * 360 + 0.25], dtype="f8"),
         {"units": "hours since 2000-01-01 12:00:00", "calendar": "360_day"}, None),
        ("t_allleap", ("t4",), np.array([0, 1, 2, 366], dtype="i8"), {"units": "days since 1999-02-28", "calendar": "all_leap"}, None),
        ("t_366", ("t4",), np.array([0.5, 1.25, 59, 400], dtype="f4"), {"units": "days since 1999-01-01 00:00:00", "calendar": "366_day"}, None),
        ("t_tz", ("t4",), np.array([0, 30, 60, 1440], dtype="i4"), {"units": "minutes since 1990-01-01T00:00:00+01:00"}, None),
        ("t_tz2", ("t4",), np.array([0, 1, 2, 3], dtype="i4"), {"units": "hours since 1990-01-01 00:00 -0530", "calendar": "gregorian"}, None),
        ("t_sec", ("t4",), np.array([0, 86400, -86400, 1_000_000_000], dtype="i8"), {"units": "seconds since 1970-01-01", "calendar": "standard"}, None),
        ("t_ms", ("t4",), np.array([0, 1, 999, 86_400_123], dtype="i8"), {"units": "milliseconds since 2000-01-01 00:00:00.5"}, None),
        ("t_us", ("t4",), np.array([0, 1, 999_999, 1_234_567_890], dtype="i8"), {"units": "microseconds since 2000-01-01", "calendar": "proleptic_gregorian"}, None),
        ("t_ns", ("t4",), np.array([0, 1, 123_456_789, i64min], dtype="i8"), {"units": "nanoseconds since 2000-01-01"}, None),
        ("t_fdays", ("t4",), np.array([0.5, 1 / 3, np.nan, 10.041666666666666], dtype="f8"), {"units": "days since 2000-01-01"}, np.nan),
        ("t_fill", ("t4",), np.array([0, -1, 5, 10], dtype="i4"), {"units": "days since 2001-01-01", "calendar": "standard"}, -1),
        ("t_old", ("t4",), np.array([0, 365, 30000, 40000], dtype="i4"), {"units": "days since 1500-01-01", "calendar": "standard"}, None),
        ("t_packed", ("t4",), np.array([0, 10, 20, -32768], dtype="i2"),
         {"units": "hours since 2010-06-01", "scale_factor": 0.5, "add_offset": 1.0}, -32768),
        ("p_unsigned", ("x5",), np.array([-1, -128, 5, 127, 0], dtype="i1"), {"_Unsigned": "true", "scale_factor": 0.5}, -1),
        ("p_unsigned2", ("x5",), np.array([-1, -128, 5, 127, 0], dtype="i1"), {"_Unsigned": "true"}, None),
        ("p_signed", ("x5",), np.array([65535, 1, 32768, 7, 0], dtype="u2"), {"_Unsigned": "false"}, 7),
        ("p_both", ("x5",), np.array([0, 100, -32767, 32000, -5], dtype="i2"),
         {"scale_factor": 0.01, "add_offset": 273.15, "units": "K"}, -32767),
        ("p_offset", ("x5",), np.array([0, 100, -3, 32000, -5], dtype="i2"), {"add_offset": 10.0}, None),
        ("p_intscale", ("x5",), np.array([0, 100, -3, 32000, -5], dtype="i2"), {"scale_factor": 2}, None),
        ("p_i4", ("x5",), np.array([0, 100, -3, 2**31 - 1, -5], dtype="i4"), {"scale_factor": 0.001, "add_offset": 0.5}, -3),
        ("mv", ("x5",), np.array([1.5, 1e20, 3, np.nan, 1e20], dtype="f4"), {"missing_value": 1e20}, None),
        ("mv_fill", ("x5",), np.array([1.5, 1e20, -9999, 4, 5], dtype="f8"), {"missing_value": 1e20}, -9999.0),
        ("int_mask", ("x5",), np.array([1, -999, 3, 4, -999], dtype="i2"), {"missing_value": -999}, None),
        ("int_fill", ("x5",), np.array([1, 0, 3, 0, 5], dtype="i8"), {}, 0),
        ("b_enc", ("x5",), np.array([0, 1, 2, 0, 1], dtype="i1"), {"dtype": "bool"}, None),
        ("chars", ("x5", "nchar"), np.array([list(b"ab\0"), list("é".encode()) + [0], list(b"xyz"), [0, 0, 0], list(b"q\0\0")],
                                              dtype="u1").view("S1"), {"_Encoding": "utf-8"}, None),
        ("chars_raw", ("x5", "nchar"), np.array([list(b"ab\0"), list(b"cd\0"), list(b"xyz"), [0, 0, 0], list(b"q\0\0")],
                                                  dtype="u1").view("S1"), {}, None),
        ("s_enc", ("x5",), np.array([b"abc", "é".encode(), b"", b"hello", b"z"], dtype="S5"), {"_Encoding": "utf-8"}, None),
        ("td", ("x5",), np.array([0, 60, -1, i64min, 3600], dtype="i8"), {"units": "seconds", "dtype": "timedelta64[s]"}, None),
        ("td_ms", ("x5",), np.array([0, 1.5, -1, np.nan, 2], dtype="f8"), {"units": "hours", "dtype": "timedelta64[ms]"}, np.nan),
        ("td_plain", ("x5",), np.array([0, 60, -1, 5, 3600], dtype="i8"), {"units": "seconds"}, None),
        ("not_time", ("x5",), np.array([0, 1, 2, 3, 4], dtype="i4"), {"units": "days accumulated"}, None),
        ("cube", ("t4", "x5", "nz"), np.arange(40, dtype="i2").reshape(4, 5, 2),
         {"scale_factor": 0.25, "add_offset": -1.0, "coordinates": "label"}, 7),
        ("label", ("x5",), np.array(["a", "b", "c", "d", "e"]), {}, None),
        ("b_native", ("x5",), np.array([True, False, True, False, True]), {}, False),
        ("v2only_u_fill", ("x5",), np.array(["a", "", "c", "d", ""]), {}, ""),
        ("mv_list", ("x5",), np.array([1.0, 1e20, -1.0, 4.0, 5.0]), {"missing_value": [1e20, -1.0]}, None),
        ("both_fills", ("x5",), np.array([1, -9, 3, -8, 5], dtype="i4"), {"missing_value": -9, "scale_factor": 0.5}, -8),
        ("sf_list", ("x5",), np.array([1, 2, 3, 4, 5], dtype="i2"), {"scale_factor": [0.5]}, None),
        ("t_upper", ("t4",), np.array([0, 1, 2, 3], dtype="i4"), {"units": "Hours  since  2000-01-01T00:00:00Z", "calendar": "Gregorian"}, None),
        ("t_hour", ("t4",), np.array([0, 1, 2, 3], dtype="i4"), {"units": "hour since 2000-01-01"}, None),
        ("t_far", ("t4",), np.array([0, 200000, 1, 365000], dtype="i8"), {"units": "days since 1970-01-01"}, None),
        ("t_noleap_f", ("t4",), np.array([0.1, 59.5, 365.25, 1e-7], dtype="f8"), {"units": "days since 2000-01-01", "calendar": "NoLeap"}, None),
        ("td_days", ("x5",), np.array([0.5, 1, np.nan, 2, 3]), {"units": "days", "dtype": "timedelta64[ns]"}, np.nan),
    ]


def _write_raw(path, fmt, consolidated):
    g = zarr.open_group(path, mode="w", zarr_format=fmt, attributes={"title": "raw", "coordinates": "gc", "_NCProperties": "x"})
    for name, dims, data, attrs, fv in _raw_vars() + [("gc", ("x5",), np.array([1, 2, 3, 4, 5], dtype="i4"), {}, None)]:
        if name.startswith("v2only_"):
            if fmt != 2:
                continue
            name = name[len("v2only_"):]
        attrs = dict(attrs)
        kw = {}
        if fmt == 2:
            attrs["_ARRAY_DIMENSIONS"] = list(dims)
            kw["fill_value"] = fv
        else:
            kw["dimension_names"] = list(dims)
            if fv is not None:
                attrs["_FillValue"] = _v3_fill(fv, data.dtype)
        chunks = tuple(max(1, (s + 1) // 2) for s in data.shape)
        a = g.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks or None, attributes=attrs, **kw)
        a[...] = data
    # datetime64 stored natively (xarray passes it through): v3 numpy.datetime64, v2 <M8
    nat = np.array(["2000-01-01T00:00:00", "NaT", "1999-12-31T23:59:59", "2262-01-01"], dtype="M8[s]")
    a = g.create_array("native_dt", shape=(4,), dtype="M8[s]", chunks=(2,),
                       attributes={} if fmt == 3 else {"_ARRAY_DIMENSIONS": ["t4"]},
                       **({"dimension_names": ["t4"]} if fmt == 3 else {}))
    a[...] = nat
    natns = np.array(["2000-01-01T00:00:00.123456789", "NaT", "1970-01-01", "2000-01-01T00:00:00.001"], dtype="M8[ns]")
    a = g.create_array("native_ns", shape=(4,), dtype="M8[ns]", chunks=(4,),
                       attributes={} if fmt == 3 else {"_ARRAY_DIMENSIONS": ["t4"]},
                       **({"dimension_names": ["t4"]} if fmt == 3 else {}))
    a[...] = natns
    if consolidated:
        zarr.consolidate_metadata(path, zarr_format=fmt)


def make(out):
    names = []
    ds = _basic()
    for fmt in (2, 3):
        for cons in (True, False):
            p = os.path.join(out, f"basic_v{fmt}_{'c' if cons else 'u'}.zarr")
            ds.to_zarr(p, zarr_format=fmt, mode="w", consolidated=cons)
            names.append(p)
            if cons:       # a dataset in a group below the root (consolidated at the root)
                ds[["temp", "time", "x", "lat", "flag"]].to_zarr(p, group="g/sub", zarr_format=fmt, mode="a", consolidated=True)
                names.append(p + "/g/sub")
            p = os.path.join(out, f"raw_v{fmt}_{'c' if cons else 'u'}.zarr")
            _write_raw(p, fmt, cons)
            names.append(p)
    # a zip archive of one of them
    import shutil
    z = shutil.make_archive(os.path.join(out, "basic_zip"), "zip", os.path.join(out, "basic_v2_c.zarr"))
    names.append(z)
    readme(os.path.join(out, "weather.zarr"))
    print(json.dumps(names))


def _iso(x):
    if x is None:
        return None
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return None
        s = str(x.astype("M8[ns]"))
        return s if "." in s else s + ".000000000"
    # cftime
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09d" % (x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond * 1000)


def _value(x, kind):
    if kind == "M":
        return _iso(x)
    if kind == "m":
        return None if np.isnat(x) else int(x.astype("m8[ns]").astype("i8"))
    if kind == "f":
        return None if np.isnan(x) else float(x)
    if kind in "iu":
        return int(x)
    if kind == "b":
        return bool(x)
    if kind == "S":
        return list(bytes(x))
    if kind in "UT":
        return str(x)
    if kind == "O":
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return None
        if isinstance(x, bytes):
            return list(x)
        if isinstance(x, str):
            return x
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, (int, float, np.number)):
            return x.item() if isinstance(x, np.generic) else x
        return _iso(x)
    raise ValueError(kind)


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def dump_one(path):
    group = None
    if ".zarr/" in path:
        path, group = path.split(".zarr/", 1)
        path += ".zarr"
    if path.endswith(".zip"):
        ds = xr.open_zarr(zarr.storage.ZipStore(path, mode="r"), chunks=None)
    else:
        ds = xr.open_zarr(path, group=group, chunks=None)
    out = {"dims": {k: int(v) for k, v in ds.sizes.items()}, "coords": sorted(map(str, ds.coords)),
           "attrs": {k: _jsonable(v) for k, v in ds.attrs.items()}, "vars": {}}
    for name, v in ds.variables.items():
        vals = v.values
        kind = vals.dtype.kind
        flat = vals.ravel(order="C")
        first = next((x for x in flat if x is not None and not (isinstance(x, float) and np.isnan(x))), None) if kind == "O" else None
        out["vars"][str(name)] = {
            "dtype": str(vals.dtype), "pytype": type(first).__name__ if first is not None else "",
            "dims": list(map(str, v.dims)), "shape": list(vals.shape),
            "attrs": {k: _jsonable(x) for k, x in v.attrs.items()},
            "values": [_value(x, kind) for x in flat]}
    return out


def readme(path):
    t = pd.date_range("2000-01-01", periods=4, freq="D")
    ds = xr.Dataset({"temp": (("time", "x"), np.arange(12.0).reshape(4, 3) / 4, {"units": "degC"})},
                    coords={"time": t, "x": [10, 20, 30]}, attrs={"title": "weather"})
    ds["temp"][1, 2] = np.nan
    ds["temp"].encoding = {"dtype": "int16", "scale_factor": 0.25, "add_offset": 0.0, "_FillValue": -1}
    ds.to_zarr(path, mode="w", zarr_format=2, consolidated=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2])
    elif cmd == "dump":
        print(json.dumps({p: dump_one(p) for p in sys.argv[2:]}))
    elif cmd == "readme":
        readme(sys.argv[2])
