"""polyzarr against zarr-python 3.4's stores: every codec it writes (numcodecs.* v3 names, cast_value, scale_offset,
pcodec, zfpy, the v2 checksums), its data types (struct in the new JSON), the rectilinear chunk grid, 3.4's
consolidated metadata and a node with both .zarray and zarr.json.

The stores come from python/tests/data/zarr34/ (written by zarr-python 3.4.2 with make_fixtures.py, so the reads are
tested on any zarr-python) and, when the installed zarr-python is >= 3.4, are also written afresh by it. Each read
equals zarr-python's own read (values; dtype too for v2); what polyzarr writes with the same metadata reads back equal
in polyzarr and (zarr-python >= 3.4) in zarr-python, and for zstd-ended v3 chains the chunks' bytes after zstd equal
zarr-python's (cast_value and scale_offset compute the same values). Bad input names the JSON path.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr

import polyzarr as pz
from polyzarr.cli import main as cli_main
from polyzarr.arrays import create_array, open_array
from polyzarr.errors import CodecError, DtypeError, MetadataError
from polyzarr.interop.run import native_order
from polyzarr.metadata_v3 import ArrayMetadataV3
from polyzarr.stores import open_store
from polyzarr.testing import assert_same

warnings.filterwarnings("ignore")

DATA = Path(__file__).parent / "data" / "zarr34"
ZARR_34 = tuple(int(p) for p in zarr.__version__.split(".")[:2]) >= (3, 4)
SPECIAL = ("consolidated", "both")
FIXTURES = sorted(p.name[:-5] for p in DATA.glob("*.zarr") if p.name[:-5] not in SPECIAL)
NEEDS = {"pcodec": "pcodec", "zfpy": "zfpy", "cast": "cast_value_rs", "shard_cast": "cast_value_rs"}
NO_34 = f"zarr-python {zarr.__version__} is older than 3.4: it cannot write (or read) these stores"


def _need(name: str) -> None:
    for part, module in NEEDS.items():
        if part in name and importlib.util.find_spec(module) is None:
            pytest.skip(f"{name} needs the PyPI package {module.replace('_', '-')}")


def _v3(store: Path) -> bool:
    return (store / "zarr.json").exists()


LOSSY = ("zfpy_rate",)  # compressing zarr-python's (already lossy) values again changes them a little


def _same(got: np.ndarray, expected: np.ndarray, what: str, v2: bool, lossy: bool = False) -> None:
    if lossy:
        assert got.dtype == expected.dtype and np.allclose(got, expected, rtol=0, atol=1e-3), what
    elif v2:
        assert_same(got, expected, what)
    elif got.dtype.kind == "O" or expected.dtype.kind == "O":
        assert got.shape == expected.shape and got.tolist() == expected.tolist(), what
    else:
        assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
        assert_same(native_order(got), native_order(expected.astype(got.dtype) if got.dtype.names else expected), what)


def _zarr_read(path: Path) -> np.ndarray:
    with zarr.config.set({"array.rectilinear_chunks": True}):
        return np.asarray(zarr.open_array(str(path), mode="r")[...])


def _expected(dir_: Path, name: str) -> np.ndarray:
    return np.load(dir_ / f"{name}.npy", allow_pickle=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """The cases written by the installed zarr-python (>= 3.4)."""
    if not ZARR_34:
        pytest.skip(NO_34)
    sys.path.insert(0, str(DATA))
    try:
        import make_fixtures
    finally:
        sys.path.pop(0)
    out = tmp_path_factory.mktemp("zarr34")
    failed = make_fixtures.make_all(str(out))
    assert not failed, f"zarr-python {zarr.__version__} failed to write: {failed}"
    return out


# ----------------------------------------------------------------------------------------------------------
# reading


@pytest.mark.parametrize("name", FIXTURES)
def test_read_committed(name):
    _need(name)
    got = pz.open(str(DATA / f"{name}.zarr"))[...]
    _same(got, _expected(DATA, name), f"polyzarr reading zarr-python 3.4's {name}", not _v3(DATA / f"{name}.zarr"))


@pytest.mark.parametrize("name", FIXTURES)
def test_read_fresh(fresh, name):
    _need(name)
    got = pz.open(str(fresh / f"{name}.zarr"))[...]
    _same(
        got,
        _expected(fresh, name),
        f"polyzarr reading zarr-python {zarr.__version__}'s {name}",
        not _v3(fresh / f"{name}.zarr"),
    )


def test_fixture_count():
    assert len(FIXTURES) >= 70, FIXTURES


def test_consolidated_34():
    store = open_store(str(DATA / "consolidated.zarr"), "r")
    nodes = {n.path: n for n in pz.groups.walk(store)}
    assert set(nodes) == {"", "sub", "x", "x/y"}
    assert nodes["sub"].attributes == {"k": 1} and nodes[""].attributes == {"title": "c"}
    arr = pz.groups.open_node_array(store, nodes["x/y"])
    assert_same(arr[...], np.load(DATA / "consolidated.npy"), "x/y through 3.4's consolidated metadata")


def test_zarr_json_wins_over_zarray(tmp_path):
    got = pz.open(str(DATA / "both.zarr"))[...]
    assert_same(got, np.load(DATA / "both.npy"), "zarr.json chosen over .zarray, as zarr-python")
    nodes = list(pz.groups.walk(open_store(str(DATA / "both.zarr"), "r")))
    assert [(n.path, n.zarr_format) for n in nodes] == [("", 3)]
    out = tmp_path / "out"
    assert cli_main(["export", str(DATA / "both.zarr"), str(out)]) == 0
    (npy,) = out.glob("*.npy")
    assert np.load(npy).dtype == np.dtype("<i2")


# ----------------------------------------------------------------------------------------------------------
# writing: the same metadata through polyzarr, read by polyzarr and zarr-python


def _write_like(src: Path, dest: Path, values: np.ndarray):
    store = open_store(str(dest), "w")
    if _v3(src):
        doc = json.loads((src / "zarr.json").read_text())
        grid = doc["chunk_grid"]
        chunks = grid["configuration"]["chunk_shape"] if grid["name"] == "regular" else _sizes(grid)
        a = create_array(
            store,
            "",
            doc["shape"],
            values.dtype,
            chunks=chunks,
            codecs=doc["codecs"],
            data_type=doc["data_type"],
            fill_value=doc["fill_value"],
            chunk_key_encoding=doc["chunk_key_encoding"],
            zarr_format=3,
        )
    else:
        doc = json.loads((src / ".zarray").read_text())
        a = create_array(
            store,
            "",
            doc["shape"],
            doc["dtype"],
            chunks=doc["chunks"],
            order=doc["order"],
            compressor=doc["compressor"],
            filters=doc["filters"],
            fill_value=doc["fill_value"],
            dimension_separator=doc.get("dimension_separator"),
        )
    a[...] = values
    return a


def _sizes(grid: dict) -> list[list[int]]:
    out = []
    for axis in grid["configuration"]["chunk_shapes"]:
        sizes: list[int] = []
        for s in axis:
            sizes.extend([s[0]] * s[1] if isinstance(s, list) else [s])
        out.append(sizes)
    return out


@pytest.mark.parametrize("name", FIXTURES)
def test_write_like_zarr_python(tmp_path, name):
    _need(name)
    src = DATA / f"{name}.zarr"
    values = _expected(DATA, name)
    _write_like(src, tmp_path / "a", values)
    v2 = not _v3(src)
    lossy = any(k in name for k in LOSSY)
    _same(pz.open(str(tmp_path / "a"))[...], values, f"polyzarr reading its own {name}", v2, lossy)
    if ZARR_34 or not any(k in name for k in ("cast", "scale", "rect", "struct", "pcodec", "zfpy")):
        try:
            theirs = _zarr_read(tmp_path / "a")
        except Exception as e:
            if ZARR_34:
                raise
            pytest.skip(f"zarr-python {zarr.__version__} cannot read {name}: {type(e).__name__}")
        _same(
            theirs if theirs.dtype.kind != "O" else theirs.astype(object),
            values,
            f"zarr-python reading polyzarr's {name}",
            v2,
            lossy,
        )
    if not v2:
        doc = json.loads((src / "zarr.json").read_text())
        mine = json.loads((tmp_path / "a" / "zarr.json").read_text())
        for k in ("data_type", "fill_value", "codecs", "chunk_grid", "chunk_key_encoding", "shape"):
            assert mine[k] == doc[k], f"{name}: zarr.json {k} differs from zarr-python's"
        if doc["codecs"][-1]["name"] == "zstd":
            _same_chunk_bytes(src, tmp_path / "a", name)


def _same_chunk_bytes(theirs: Path, mine: Path, name: str) -> None:
    z = numcodecs.Zstd()
    keys = sorted(p.relative_to(theirs).as_posix() for p in (theirs / "c").rglob("*") if p.is_file())
    mkeys = sorted(p.relative_to(mine).as_posix() for p in (mine / "c").rglob("*") if p.is_file())
    assert keys == mkeys, f"{name}: chunk keys differ"
    for k in keys:
        assert bytes(z.decode((theirs / k).read_bytes())) == bytes(z.decode((mine / k).read_bytes())), (
            f"{name}: chunk {k} differs from zarr-python's before zstd"
        )


@pytest.mark.parametrize(
    "name", ["cast_i2", "scale_offset_cast", "dt_struct", "nc_delta_astype", "nc_packbits", "rect", "rect_shard"]
)
def test_write_read_by_zarr_34(tmp_path, fresh, name):
    """polyzarr's store read by the installed zarr-python >= 3.4 (the oracle) equal to the values."""
    _need(name)
    values = _expected(fresh, name)
    _write_like(fresh / f"{name}.zarr", tmp_path / "a", values)
    theirs = _zarr_read(tmp_path / "a")
    _same(theirs, values, f"zarr-python {zarr.__version__} reading polyzarr's {name}", False)


# ----------------------------------------------------------------------------------------------------------
# the struct data type's two JSON forms


def test_struct_new_form_written(tmp_path):
    dt = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S3")])
    a = create_array(
        open_store(str(tmp_path / "s"), "w"), "", (3,), dt, zarr_format=3, fill_value={"a": 1, "b": 0.5, "c": "eHk="}
    )
    doc = json.loads((tmp_path / "s" / "zarr.json").read_text())
    assert doc["data_type"] == {
        "name": "struct",
        "configuration": {
            "fields": [
                {"name": "a", "data_type": "int32"},
                {"name": "b", "data_type": "float64"},
                {"name": "c", "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}},
            ]
        },
    }
    assert doc["fill_value"] == {"a": 1, "b": 0.5, "c": "eHk="}
    assert a[...].tolist() == [(1, 0.5, b"xy")] * 3


def test_struct_old_form_read(tmp_path):
    dt = np.dtype([("a", "<i4"), ("b", "<f8")])
    a = create_array(
        open_store(str(tmp_path / "s"), "w"),
        "",
        (2,),
        dt,
        zarr_format=3,
        data_type={"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}},
        fill_value="AQAAAAAAAAAAAOA/",
    )
    assert a[...].tolist() == [(1, 0.5)] * 2
    doc = json.loads((tmp_path / "s" / "zarr.json").read_text())
    assert doc["fill_value"] == "AQAAAAAAAAAAAOA/"


def _doc(**over) -> dict:
    doc = json.loads((DATA / "dt_struct.zarr" / "zarr.json").read_text())
    doc.update(over)
    return doc


def test_struct_fill_missing_field():
    with pytest.raises(MetadataError, match=r"zarr.json:fill_value\.c: missing"):
        ArrayMetadataV3.from_dict(_doc(fill_value={"a": 0, "b": 0.0}), "zarr.json")


def test_struct_fill_extra_field():
    with pytest.raises(MetadataError, match=r"zarr.json:fill_value\.d: not a field"):
        ArrayMetadataV3.from_dict(_doc(fill_value={"a": 0, "b": 0.0, "c": "", "d": 1}), "zarr.json")


def test_struct_bad_field():
    dt = {"name": "struct", "configuration": {"fields": [{"name": "a"}]}}
    with pytest.raises(DtypeError, match=r"zarr.json:data_type\.configuration\.fields\[0\]"):
        ArrayMetadataV3.from_dict(_doc(data_type=dt), "zarr.json")


# ----------------------------------------------------------------------------------------------------------
# codec settings and missing packages


def _v3_doc(codecs: list, dtype: str = "float64") -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [4],
        "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": 0,
        "codecs": codecs,
    }


BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


@pytest.mark.parametrize(
    "codec,match",
    [
        ({"name": "cast_value", "configuration": {"data_type": "int16", "rounding": "up"}}, r"codecs\[0\]\.rounding"),
        (
            {"name": "cast_value", "configuration": {"data_type": "float32", "out_of_range": "wrap"}},
            r"codecs\[0\]\.out_of_range",
        ),
        (
            {"name": "cast_value", "configuration": {"data_type": "bfloat16"}},
            r"codecs\[0\]\.data_type: .*not supported",
        ),
        ({"name": "cast_value", "configuration": {}}, r"codecs\[0\]\.data_type"),
        (
            {"name": "cast_value", "configuration": {"data_type": "int8", "scalar_map": {"encode": [["NaN", 300]]}}},
            r"scalar_map\.encode\[0\]",
        ),
        ({"name": "scale_offset", "configuration": {"scale": 0}}, r"codecs\[0\]\.scale"),
        ({"name": "scale_offset", "configuration": {"shift": 1}}, r"codecs\[0\]: scale_offset: unknown"),
        ({"name": "numcodecs.delta", "configuration": {"dtype": "<f8", "id": "zlib"}}, r"codecs\[0\]"),
    ],
)
def test_bad_codec_settings(tmp_path, codec, match):
    s = open_store(str(tmp_path / "a"), "w")
    s.set("zarr.json", json.dumps(_v3_doc([codec, BYTES])).encode())
    with pytest.raises(CodecError, match=match):
        open_array(s, "")


def test_missing_pcodec_named(tmp_path, monkeypatch):
    monkeypatch.delitem(numcodecs.registry.codec_registry, "pcodec", raising=False)
    s = open_store(str(tmp_path / "a"), "w")
    s.set("zarr.json", json.dumps(_v3_doc([{"name": "numcodecs.pcodec", "configuration": {}}])).encode())
    with pytest.raises(CodecError, match=r"codecs\[0\]: codec 'pcodec' needs the PyPI package 'pcodec'"):
        open_array(s, "")
    with pytest.raises(CodecError, match=r"compressor: codec 'pcodec' needs the PyPI package 'pcodec'"):
        create_array(open_store(str(tmp_path / "b"), "w"), "", (4,), "<f8", compressor={"id": "pcodec"})


def test_missing_cast_value_rs_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cast_value_rs", None)
    a = create_array(
        open_store(str(tmp_path / "a"), "w"),
        "",
        (4,),
        "<f8",
        zarr_format=3,
        codecs=[{"name": "cast_value", "configuration": {"data_type": "int16"}}, BYTES],
    )
    with pytest.raises(CodecError, match="needs the PyPI package 'cast-value-rs'"):
        a[...] = np.arange(4.0)


def test_cast_value_out_of_range_is_an_error(tmp_path):
    _need("cast")
    a = create_array(
        open_store(str(tmp_path / "a"), "w"),
        "",
        (4,),
        "<f8",
        zarr_format=3,
        codecs=[{"name": "cast_value", "configuration": {"data_type": "int8"}}, BYTES],
    )
    with pytest.raises(CodecError, match="cast_value encode"):
        a[...] = np.array([1.0, 2.0, 300.0, np.nan])


def test_numcodecs_names_registered():
    from polyzarr.codecs import registry

    for n in (
        "zlib",
        "gzip",
        "bz2",
        "lzma",
        "lz4",
        "zstd",
        "blosc",
        "shuffle",
        "delta",
        "fixedscaleoffset",
        "quantize",
        "bitround",
        "packbits",
        "astype",
        "crc32",
        "crc32c",
        "adler32",
        "fletcher32",
        "jenkins_lookup3",
        "pcodec",
        "zfpy",
    ):
        assert registry.by_v3_name(f"numcodecs.{n}") is not None, n
        assert registry.by_v2_id(n) is not None, n
    for n in ("gzip", "zstd", "blosc", "crc32c", "cast_value", "scale_offset"):
        assert registry.by_v3_name(n) is not None, n


# ----------------------------------------------------------------------------------------------------------
# the rectilinear chunk grid


def _rect_doc(chunk_shapes, kind="inline", shape=(10, 7)) -> dict:
    doc = _v3_doc([BYTES], "int64")
    doc["shape"] = list(shape)
    doc["chunk_grid"] = {"name": "rectilinear", "configuration": {"kind": kind, "chunk_shapes": chunk_shapes}}
    return doc


@pytest.mark.parametrize(
    "chunk_shapes,kind,match",
    [
        ([[3, 3, 4], [2, 5]], "file", r"zarr.json:chunk_grid\.configuration\.kind: unknown rectilinear kind 'file'"),
        ([[[3, 2], 3], [2, 5]], "inline", r"chunk_grid\.configuration\.chunk_shapes\[0\]: the chunk edges sum to 9"),
        ([[3, 3, 4], [2, 4]], "inline", r"chunk_shapes\[1\]: the chunk edges sum to 6, less than axis 1's extent 7"),
        ([[[3, 2, 1], 4], [2, 5]], "inline", r"chunk_shapes\[0\]\[0\]: a run is \[size, count\]"),
        ([[[3, 0], 4], [2, 5]], "inline", r"chunk_shapes\[0\]\[0\]\[1\]: a chunk edge length must be a positive"),
        ([[3, 3, 4]], "inline", r"chunk_shapes: must be a list of 2 axes"),
        ([[], [7]], "inline", r"chunk_shapes\[0\]: an axis needs at least one chunk edge"),
    ],
)
def test_bad_rectilinear(chunk_shapes, kind, match):
    with pytest.raises(MetadataError, match=match):
        ArrayMetadataV3.from_dict(_rect_doc(chunk_shapes, kind), "zarr.json")


def test_rectilinear_api_and_partial_io(tmp_path):
    x = np.arange(70).reshape(10, 7)
    a = create_array(open_store(str(tmp_path / "r"), "w"), "", x.shape, x.dtype, chunks=[[3, 3, 4], 3], zarr_format=3)
    a[...] = x
    doc = json.loads((tmp_path / "r" / "zarr.json").read_text())
    assert doc["chunk_grid"] == {
        "name": "rectilinear",
        "configuration": {"kind": "inline", "chunk_shapes": [[[3, 2], 4], 3]},
    }
    assert sorted(p.name for p in (tmp_path / "r" / "c").iterdir()) == ["0", "1", "2"]
    assert sorted(p.name for p in (tmp_path / "r" / "c" / "2").iterdir()) == ["0", "1", "2"]
    b = pz.open(str(tmp_path / "r"))
    assert_same(b[...], x, "rectilinear read")
    assert_same(b[2:8, 1:6], x[2:8, 1:6], "a region across irregular boundaries")
    a[4:7, 2:5] = -1
    x[4:7, 2:5] = -1
    assert_same(pz.open(str(tmp_path / "r"))[...], x, "after a partial write")


def test_rectilinear_shards_api(tmp_path):
    x = np.arange(70, dtype="<f4").reshape(10, 7)
    a = create_array(
        open_store(str(tmp_path / "r"), "w"),
        "",
        x.shape,
        x.dtype,
        chunks=(2, 1),
        shards=[[2, 4, 4], [2, 5]],
        zarr_format=3,
    )
    a[...] = x
    doc = json.loads((tmp_path / "r" / "zarr.json").read_text())
    assert doc["chunk_grid"]["configuration"]["chunk_shapes"] == [[2, [4, 2]], [2, 5]]
    assert doc["codecs"][0]["configuration"]["chunk_shape"] == [2, 1]
    b = pz.open(str(tmp_path / "r"))
    assert_same(b[...], x, "rectilinear shards")
    assert_same(b[3:9, 1:6], x[3:9, 1:6], "a region of rectilinear shards")


def test_rectilinear_cli(tmp_path):
    x = np.arange(70).reshape(10, 7)
    np.save(tmp_path / "x.npy", x)
    assert (
        cli_main(
            ["import", str(tmp_path / "x.npy"), f"{tmp_path}/o.zarr/a", "--zarr-format", "3", "--chunks", "3+3+4,2+5"]
        )
        == 0
    )
    doc = json.loads((tmp_path / "o.zarr" / "a" / "zarr.json").read_text())
    assert doc["chunk_grid"]["configuration"]["chunk_shapes"] == [[[3, 2], 4], [2, 5]]
    assert_same(pz.open(f"{tmp_path}/o.zarr/a")[...], x, "CLI rectilinear import")


# ----------------------------------------------------------------------------------------------------------
# CLI parity (the Julia comparison is test_import_parity.py): v3 --order F is a transpose, not dropped


@pytest.mark.parametrize("shape,perm", [((4, 6), [1, 0]), ((4, 3, 2), [2, 1, 0]), ((5,), None)])
def test_v3_order_f_writes_transpose(tmp_path, shape, perm):
    x = np.arange(np.prod(shape), dtype="<i4").reshape(shape)
    np.save(tmp_path / "x.npy", x)
    argv = ["import", str(tmp_path / "x.npy"), f"{tmp_path}/o.zarr/a", "--zarr-format", "3", "--order", "F"]
    assert cli_main(argv) == 0
    codecs = json.loads((tmp_path / "o.zarr" / "a" / "zarr.json").read_text())["codecs"]
    if perm is None:  # 1-d: the reversal is the identity, no transpose
        assert codecs[0]["name"] == "bytes"
    else:
        assert codecs[0] == {"name": "transpose", "configuration": {"order": perm}}
    assert_same(pz.open(f"{tmp_path}/o.zarr/a")[...], x, "v3 order F import")


def test_v3_compressor_without_v3_name(tmp_path):
    x = np.arange(6.0)
    np.save(tmp_path / "x.npy", x)
    assert (
        cli_main(
            ["import", str(tmp_path / "x.npy"), f"{tmp_path}/o.zarr/a", "--zarr-format", "3", "--compressor", "lz4"]
        )
        == 0
    )
    codecs = json.loads((tmp_path / "o.zarr" / "a" / "zarr.json").read_text())["codecs"]
    assert codecs[1] == {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}
    assert_same(pz.open(f"{tmp_path}/o.zarr/a")[...], x, "numcodecs.lz4")
