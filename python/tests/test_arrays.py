"""Regions, fill values and missing chunks, separators, 0-d, empty dimensions, consolidated metadata, and
v2 stores zarr-python 3 cannot write (built by hand from the spec)."""
from __future__ import annotations

import base64
import json
import math

import numcodecs
import numpy as np
import pytest
import zarr

import polyzarr as pz
from polyzarr.groups import consolidate_metadata, create_group, ensure_groups, walk
from polyzarr.stores import open_store

from polyzarr.testing import assert_same, make_values


def test_regions_match_numpy(tmp_path):
    x = make_values(np.dtype("<i4"), (9, 8, 7), seed=1)
    z = zarr.create_array(store=str(tmp_path / "a"), shape=x.shape, chunks=(4, 3, 5), dtype=x.dtype, zarr_format=2, order="F")
    z[...] = x
    a = pz.open(str(tmp_path / "a"))
    for sel in [(slice(None),), (1, slice(2, 7), slice(None)), (slice(3, 9), 2, 6), (Ellipsis, 3), (-1, -2, -3),
                (slice(0, 9, 2), slice(1, 8, 3), slice(None)), (slice(5, 5),), (slice(8, 100),)]:
        assert_same(a[sel], x[sel], f"selection {sel}")


def test_partial_writes_keep_other_values(tmp_path):
    store = open_store(str(tmp_path / "a"), "w")
    a = pz.create_array(store, "", (10, 10), "<f8", chunks=(3, 4), fill_value=-1.0, order="F")
    expected = np.full((10, 10), -1.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        r0, c0 = rng.integers(0, 10, 2)
        r1, c1 = r0 + rng.integers(1, 5), c0 + rng.integers(1, 5)
        v = rng.standard_normal((min(r1, 10) - r0, min(c1, 10) - c0))
        a[r0:r1, c0:c1] = v
        expected[r0:r1, c0:c1] = v
    assert_same(a[...], expected)
    assert_same(zarr.open_array(str(tmp_path / "a"), mode="r")[...], expected, "zarr-python")


@pytest.mark.parametrize("dtype,fill", [
    ("<f8", float("nan")), (">f4", float("-inf")), ("<i2", -7), ("|b1", True), ("<c16", complex(1, -2)),
    ("|S4", b"ab"), ("<U3", "zé"), ("<M8[s]", np.datetime64("NaT")), ("<m8[ms]", np.timedelta64(5, "ms")),
    ([["a", "<i4"], ["b", ">f8"]], (3, 2.5)),
])
def test_missing_chunks_read_as_fill_value(tmp_path, dtype, fill):
    dt = pz.dtypes.parse_dtype(dtype)
    fill_np = np.array(fill, dtype=dt)[()]
    z = zarr.create_array(store=str(tmp_path / "z"), shape=(5, 4), chunks=(2, 2), dtype=dt, zarr_format=2, fill_value=fill_np)
    x = make_values(dt, (2, 2), seed=2)
    z[0:2, 0:2] = x  # one chunk written, the rest missing
    expected = z[...]
    got = pz.open(str(tmp_path / "z"))[...]
    assert_same(got, expected, "missing chunks")
    # And polyzarr writes the same fill_value encoding zarr-python did
    store = open_store(str(tmp_path / "p"), "w")
    pz.create_array(store, "", (5, 4), dt, chunks=(2, 2), fill_value=fill_np)
    assert json.loads((tmp_path / "p" / ".zarray").read_text())["fill_value"] == json.loads((tmp_path / "z" / ".zarray").read_text())["fill_value"]


def test_null_fill_value_reads_zero(tmp_path):
    store = open_store(str(tmp_path / "p"), "w")
    a = pz.create_array(store, "", (4,), "<i4", chunks=(2,), fill_value=None)
    a[0:2] = [5, 6]
    assert json.loads((tmp_path / "p" / ".zarray").read_text())["fill_value"] is None
    assert a[...].tolist() == [5, 6, 0, 0]


def test_skipping_all_fill_chunks(tmp_path):
    store = open_store(str(tmp_path / "p"), "w")
    a = pz.create_array(store, "", (6,), "<f8", chunks=(2,), fill_value=float("nan"))
    a[...] = [1.0, 2.0, np.nan, np.nan, 3.0, np.nan]
    assert sorted(p.name for p in (tmp_path / "p").iterdir() if not p.name.startswith(".")) == ["0", "2"]
    b = pz.create_array(store, "b", (6,), "<f8", chunks=(2,), fill_value=0.0, write_empty_chunks=True)
    b[...] = 0.0
    assert sorted(p.name for p in (tmp_path / "p" / "b").iterdir() if not p.name.startswith(".")) == ["0", "1", "2"]
    a[0:2] = np.nan  # overwriting with fill deletes the stored chunk
    assert not (tmp_path / "p" / "0").exists()


@pytest.mark.parametrize("sep", [".", "/"])
@pytest.mark.parametrize("writer", ["zarr", "polyzarr"])
def test_dimension_separator(tmp_path, sep, writer):
    x = np.arange(24, dtype="<u2").reshape(2, 3, 4)
    if writer == "zarr":
        z = zarr.create_array(store=str(tmp_path / "a"), shape=x.shape, chunks=(1, 2, 3), dtype=x.dtype, zarr_format=2,
                              chunk_key_encoding={"name": "v2", "separator": sep})
        z[...] = x
        assert_same(pz.open(str(tmp_path / "a"))[...], x)
    else:
        a = pz.create_array(open_store(str(tmp_path / "a"), "w"), "", x.shape, x.dtype, chunks=(1, 2, 3), dimension_separator=sep)
        a[...] = x
        assert_same(zarr.open_array(str(tmp_path / "a"), mode="r")[...], x)
    expected_key = tmp_path / "a" / ("1/1/1" if sep == "/" else "1.1.1")
    assert expected_key.is_file()


@pytest.mark.parametrize("writer", ["zarr", "polyzarr"])
def test_zero_dimensional(tmp_path, writer):
    x = np.array(3.25, dtype=">f8")
    if writer == "zarr":
        z = zarr.create_array(store=str(tmp_path / "a"), shape=(), dtype=x.dtype, zarr_format=2)
        z[...] = x
    else:
        a = pz.create_array(open_store(str(tmp_path / "a"), "w"), "", (), x.dtype)
        a[...] = x
    assert (tmp_path / "a" / "0").is_file()
    assert_same(pz.open(str(tmp_path / "a"))[...], x)
    # zarr-python 3 returns a native-endian scalar for a 0-d read (byte order lost): compare value and stored bytes
    assert zarr.open_array(str(tmp_path / "a"), mode="r")[...] == 3.25
    raw = numcodecs.get_codec(json.loads((tmp_path / "a" / ".zarray").read_text())["compressor"]).decode((tmp_path / "a" / "0").read_bytes())
    assert bytes(raw) == x.tobytes()


@pytest.mark.parametrize("shape,chunks", [((0,), (1,)), ((3, 0), (2, 1)), ((0, 0, 5), (1, 1, 5))])
def test_zero_length_dimensions(tmp_path, shape, chunks):
    z = zarr.create_array(store=str(tmp_path / "z"), shape=shape, chunks=chunks, dtype="<i8", zarr_format=2)
    got = pz.open(str(tmp_path / "z"))[...]
    assert got.shape == shape and got.dtype == np.dtype("<i8")
    a = pz.create_array(open_store(str(tmp_path / "p"), "w"), "", shape, "<i8", chunks=chunks)
    a[...] = np.zeros(shape, "<i8")
    assert zarr.open_array(str(tmp_path / "p"), mode="r")[...].shape == shape


def test_consolidated_metadata_both_directions(tmp_path):
    root = zarr.open_group(str(tmp_path / "z.zarr"), mode="w", zarr_format=2)
    root.attrs["title"] = "t"
    g = root.create_group("g")
    a = g.create_array("a", shape=(4,), chunks=(2,), dtype="<i4")
    a[...] = [1, 2, 3, 4]
    a.attrs["_ARRAY_DIMENSIONS"] = ["x"]
    zarr.consolidate_metadata(str(tmp_path / "z.zarr"))
    (tmp_path / "z.zarr" / "g" / "a" / ".zarray").unlink()  # only the consolidated copy remains
    store = open_store(str(tmp_path / "z.zarr"))
    nodes = {n.path: n for n in walk(store)}
    assert nodes["g/a"].kind == "array" and nodes["g/a"].attributes == {"_ARRAY_DIMENSIONS": ["x"]}
    assert nodes[""].attributes == {"title": "t"}
    arr = pz.groups.open_node_array(store, nodes["g/a"])
    assert arr[...].tolist() == [1, 2, 3, 4]

    # polyzarr consolidates; zarr-python opens consolidated
    w = open_store(str(tmp_path / "p.zarr"), "w")
    create_group(w, "", {"title": "p"})
    ensure_groups(w, "g")
    b = pz.create_array(w, "g/b", (3,), "<f4", attributes={"units": "m"})
    b[...] = [1.5, 2.5, 3.5]
    meta = consolidate_metadata(w)
    assert set(meta) == {".zgroup", ".zattrs", "g/.zgroup", "g/b/.zarray", "g/b/.zattrs"}
    zg = zarr.open_consolidated(str(tmp_path / "p.zarr"), zarr_format=2)
    assert zg["g/b"][...].tolist() == [1.5, 2.5, 3.5] and dict(zg["g/b"].attrs) == {"units": "m"}
    assert dict(zg.attrs) == {"title": "p"}


# ---------------------------------------------------------------------------------------------------------
# Stores zarr 2.x wrote and zarr-python 3 cannot: built by hand from the v2 spec


def _hand_store(path, meta: dict, chunks: dict[str, bytes]) -> None:
    path.mkdir(parents=True)
    (path / ".zarray").write_text(json.dumps(meta))
    for k, v in chunks.items():
        (path / k).write_bytes(v)


@pytest.mark.parametrize("order", ["C", "F"])
def test_structured_with_subarray_fields(tmp_path, order):
    dt = np.dtype([("id", "<u4"), ("xy", ">f8", (2, 3)), ("tag", "|S2")])
    x = make_values(dt, (5,), seed=9)
    comp = numcodecs.Zlib(level=1)
    chunks = {}
    for i in range(3):  # chunks of 2 along the only axis, the last one padded
        part = np.zeros(2, dtype=dt)
        seg = x[2 * i: 2 * i + 2]
        part[: len(seg)] = seg
        chunks[str(i)] = comp.encode(part.tobytes(order=order))
    meta = {"zarr_format": 2, "shape": [5], "chunks": [2], "dtype": [["id", "<u4"], ["xy", ">f8", [2, 3]], ["tag", "|S2"]],
            "compressor": comp.get_config(), "fill_value": base64.b64encode(bytes(dt.itemsize)).decode(), "order": order, "filters": None}
    _hand_store(tmp_path / "a", meta, chunks)
    got = pz.open(str(tmp_path / "a"))[...]
    assert_same(got, x, "sub-array fields")
    assert got["xy"].shape == (5, 2, 3) and got.dtype["xy"].base.byteorder == ">"
    # polyzarr writes what zarr 2.x wrote: same metadata values, same chunk bytes
    a = pz.create_array(open_store(str(tmp_path / "p"), "w"), "", (5,), dt, chunks=(2,), order=order, compressor=comp.get_config(), fill_value=np.zeros((), dt)[()])
    a[...] = x
    assert json.loads((tmp_path / "p" / ".zarray").read_text())["dtype"] == meta["dtype"]
    for k, v in chunks.items():
        assert (tmp_path / "p" / k).read_bytes() == v


# zarr 2.18.7, order "F", json2: the chunk [["a","b","c"],["d","e","f"]] (written whole) is stored as
# '[["a","b","c"],["d","e","f"],"|O",[2,3]]': numcodecs' JSON lists the chunk in its logical shape. (zarr 2.x's
# reader takes the flattened lists as F memory order, so it cannot read its own F json2 arrays back.)
JSON2_LOGICAL = [["a", "b", "c"], ["d", "e", "f"]]


def json2_F_store(path, stored: str) -> None:
    js = numcodecs.JSON()
    chunk = np.array(JSON2_LOGICAL, dtype=object)
    lists = chunk if stored == "logical" else chunk.T.copy()  # reversed shape: F memory order, C-listed
    meta = {"zarr_format": 2, "shape": [3, 3], "chunks": [2, 3], "dtype": "|O", "compressor": None,
            "fill_value": None, "order": "F", "filters": [js.get_config()]}
    edge = np.array([["g", "h", "i"], [None, None, None]], dtype=object)
    _hand_store(path, meta, {"0.0": js.encode(lists), "1.0": js.encode(edge if stored == "logical" else edge.T.copy())})


@pytest.mark.parametrize("stored", ["logical", "reversed"])
def test_json2_F_order_lists_read_in_the_writers_order(tmp_path, stored):
    json2_F_store(tmp_path / "j", stored)
    got = pz.open(str(tmp_path / "j"))[...]
    assert got.tolist() == JSON2_LOGICAL + [["g", "h", "i"]]


def test_json2_F_order_written_as_zarr_2_writes_it(tmp_path):
    store = open_store(str(tmp_path / "p"), "w")
    arr = pz.create_array(store, "", (2, 3), "|O", chunks=(2, 3), order="F", compressor=None, object_codec="json2",
                          fill_value=None)
    arr[...] = np.array(JSON2_LOGICAL, dtype=object)
    assert (tmp_path / "p" / "0.0").read_bytes() == b'[["a","b","c"],["d","e","f"],"|O",[2,3]]'
    assert pz.open(str(tmp_path / "p"))[...].tolist() == JSON2_LOGICAL


def test_categorize_object_array(tmp_path):
    labels = ["female", "male", "unknown"]
    values = np.array(["male", "female", "unknown", "male", "male", "female", "x"], dtype=object)
    cat = numcodecs.Categorize(labels, dtype=object, astype="|u1")
    chunks = {}
    for i in range(2):
        part = np.array([""] * 4, dtype=object)
        seg = values[4 * i: 4 * i + 4]
        part[: len(seg)] = seg
        chunks[str(i)] = numcodecs.Zlib(1).encode(cat.encode(part))
    meta = {"zarr_format": 2, "shape": [7], "chunks": [4], "dtype": "|O", "compressor": {"id": "zlib", "level": 1},
            "fill_value": None, "order": "C", "filters": [cat.get_config()]}
    _hand_store(tmp_path / "c", meta, chunks)
    got = pz.open(str(tmp_path / "c"))[...]
    expected = np.array(["male", "female", "unknown", "male", "male", "female", ""], dtype=object)  # unknown labels → ""
    assert got.tolist() == expected.tolist()


def test_json2_object_array(tmp_path):
    values = np.empty(5, dtype=object)
    values[:] = [{"a": 1}, [1, 2], "s", 3.5, None]
    js = numcodecs.JSON()
    chunks = {"0": js.encode(values[:3]), "1": js.encode(np.array([values[3], values[4], None], dtype=object))}
    meta = {"zarr_format": 2, "shape": [5], "chunks": [3], "dtype": "|O", "compressor": None, "fill_value": None,
            "order": "C", "filters": [js.get_config()]}
    _hand_store(tmp_path / "j", meta, chunks)
    assert pz.open(str(tmp_path / "j"))[...].tolist() == values.tolist()


# ---------------------------------------------------------------------------------------------------------
# Stores


def _round_trip(url: str, reader_url: str | None = None):
    x = make_values(np.dtype(">i8"), (6, 5), seed=11)
    store = open_store(url, "w")
    ensure_groups(store, "g")
    a = pz.create_array(store, "g/a", x.shape, x.dtype, chunks=(4, 2), order="F", dimension_separator="/")
    a[...] = x
    store.close()
    back = pz.open_array(open_store(reader_url or url), "g/a")[...]
    assert_same(back, x)
    return x


def test_memory_store():
    _round_trip("memory://rt1")
    keys = open_store("memory://rt1").list()
    assert ".zgroup" in keys and "g/a/1/2" in keys


def test_zip_store_written_read_by_zarr(tmp_path):
    x = _round_trip(str(tmp_path / "d.zip"))
    zs = zarr.storage.ZipStore(str(tmp_path / "d.zip"), mode="r")
    assert_same(zarr.open_array(zs, path="g/a", mode="r", zarr_format=2)[...], x, "zarr-python reading polyzarr's zip")


def test_zip_store_written_by_zarr(tmp_path):
    x = make_values(np.dtype("<f4"), (5, 5), seed=12)
    zs = zarr.storage.ZipStore(str(tmp_path / "z.zip"), mode="w")
    g = zarr.open_group(zs, mode="w", zarr_format=2)
    a = g.create_array("inner", shape=x.shape, chunks=(2, 2), dtype=x.dtype)
    a[...] = x
    zs.close()
    assert_same(pz.open(str(tmp_path / "z.zip") + "/inner")[...], x)


@pytest.mark.s3
def test_s3_both_directions(s3_bucket, moto_endpoint):
    x = _round_trip(f"{s3_bucket}/data.zarr")
    opts = {"client_kwargs": {"endpoint_url": moto_endpoint}, "key": "testing", "secret": "testing"}
    zstore = zarr.storage.FsspecStore.from_url(f"{s3_bucket}/data.zarr", storage_options=opts, read_only=True)
    assert_same(zarr.open_array(zstore, path="g/a", mode="r", zarr_format=2)[...], x, "zarr-python reading S3")
    # zarr-python writes to S3, polyzarr reads
    y = make_values(np.dtype("<U4"), (3, 7), seed=13)
    wstore = zarr.storage.FsspecStore.from_url(f"{s3_bucket}/z.zarr", storage_options=opts)
    za = zarr.create_array(store=wstore, name="b", shape=y.shape, chunks=(2, 3), dtype=y.dtype, zarr_format=2, order="F")
    za[...] = y
    assert_same(pz.open(f"{s3_bucket}/z.zarr/b")[...], y, "polyzarr reading zarr-python's S3 array")


def test_implied_separator_settles_on_nested_keys_under_threads(tmp_path):
    """A .zarray without dimension_separator over nested "/" chunk files (zarr < 2.8's NestedDirectoryStore):
    400 chunks read on the I/O thread pool, every 7th missing, the first one too. Each read that misses a "." key
    while another thread settles on "/" must still find its nested chunk (an early version lost some)."""
    v = np.arange(1600, dtype="<i2").reshape(40, 40)
    expected = v.copy()
    for trial in range(5):
        d = tmp_path / f"t{trial}"
        d.mkdir()
        (d / ".zarray").write_text(json.dumps({"zarr_format": 2, "shape": [40, 40], "chunks": [2, 2], "dtype": "<i2",
                                               "order": "C", "compressor": None, "fill_value": -1, "filters": None}))
        for i in range(20):
            for j in range(20):
                if (i + j) % 7 == 0:
                    expected[2 * i:2 * i + 2, 2 * j:2 * j + 2] = -1
                    continue
                (d / str(i)).mkdir(exist_ok=True)
                (d / str(i) / str(j)).write_bytes(v[2 * i:2 * i + 2, 2 * j:2 * j + 2].tobytes())
        got = pz.open(str(d))[...]
        assert np.array_equal(got, expected), f"trial {trial}: {int((got != expected).sum())} elements differ"
