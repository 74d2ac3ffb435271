"""The Julia implementation (PolyZarr.jl) against zarr-python, driven from Python.

- zarr-python writes every dtype × C/F × codec case; ONE `polyzarr export --impl julia` run exports them all
  (the CLI entry point, end to end); each case's .npy must equal zarr-python's values and dtype exactly.
- Julia imports each case through the persistent worker with `--order C` and `F` (zarr-python must read the
  .npy array back in both), and with the two Julia conventions: `reverse` (Python sees the array) and `F`
  (Python sees its full transpose).
- Julia's own test suite (julia/test/runtests.jl) runs as one test item, with the moto server and Python.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr

from polyzarr.julia import JuliaWorker, julia_command, julia_executable, repo_root

from polyzarr.testing import assert_same, make_objects, make_values
from test_bad_input import METADATA_CASES
from test_zarr_python_interop import COMPRESSORS, DTYPES, FILTER_CASES, _filter_values, dtype_id, np_dtype, zarr_write_v2

pytestmark = pytest.mark.julia

SHAPE, CHUNKS = (7, 5, 3), (3, 2, 2)
ZARR_34 = tuple(int(x) for x in re.findall(r"\d+", zarr.__version__)[:2]) >= (3, 4)


def _need_julia() -> None:
    if julia_executable() is None or not (repo_root() / "julia" / "bin" / "worker.jl").exists():
        msg = "Julia not found: run `make setup` (scripts/install-julia.sh) or set JULIA=/path/to/julia"
        if os.environ.get("CI"):
            pytest.fail(msg)  # CI must exercise the Julia side
        pytest.skip(msg)


def safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: {"<": "le", ">": "be", "|": "na", "[": "_", "]": ""}.get(m.group(), "_"), s)


def _cases():
    """(case id, dtype, order, compressor name, filters)."""
    out = []
    for d in DTYPES:
        for order in ("C", "F"):
            for codec in ("none", "zstd", "blosc_lz4_1"):
                out.append((f"{safe(dtype_id(d))}-{order}-{codec}", d, order, codec, None))
    for codec in COMPRESSORS:
        for order in ("C", "F"):
            out.append((f"codec-{codec}-{order}", "<f8", order, codec, None))
    for name, (d, filters) in FILTER_CASES.items():
        for order in ("C", "F"):
            out.append((f"{safe(d)}-{order}-zlib1-{name}", d, order, "zlib1", name))
    return out


CASES = _cases()
NESTED = "struct-nested"


@pytest.fixture(scope="session")
def worker(moto_endpoint):
    """One Julia worker for the session (started after the S3 fixture so it inherits the AWS variables)."""
    _need_julia()
    w = JuliaWorker()
    w.start()
    yield w
    w.stop()


@pytest.fixture(scope="session")
def zarr_written(tmp_path_factory):
    """Every case written by zarr-python (v2), plus its expected values as read by zarr-python."""
    root = tmp_path_factory.mktemp("zp")
    expected = {}
    for cid, d, order, codec, fname in CASES:
        if dtype_id(d) == NESTED:
            continue  # zarr-python cannot read these back (README interop notes); covered by the hand-built tests
        if fname is None:
            values = make_values(np_dtype(d), SHAPE, seed=len(cid))
            z = zarr_write_v2(str(root / cid), values, CHUNKS, order, COMPRESSORS[codec])
        else:
            d, filters = FILTER_CASES[fname]
            z = zarr_write_v2(str(root / cid), _filter_values(d, fname), CHUNKS, order, COMPRESSORS[codec], filters=filters)
        expected[cid] = np.asarray(z[...])
    for kind in ("str", "bytes"):
        for order in ("C", "F"):
            cid = f"vlen_{kind}-{order}"
            values = make_objects(kind, (6, 5), seed=3)
            za = zarr.create_array(store=str(root / cid), shape=values.shape, chunks=(4, 2),
                                   dtype=str if kind == "str" else zarr.dtype.VariableLengthBytes(), zarr_format=2,
                                   order=order, compressors=numcodecs.Zstd(level=0))
            za[...] = values
            width = max(len(v) for v in values.flat)
            expected[cid] = values.astype(f"<U{width}" if kind == "str" else f"|S{width}")
    return root, expected


@pytest.fixture(scope="session")
def julia_export(zarr_written, tmp_path_factory):
    """One `polyzarr export --impl julia` over the whole tree (the installed entry point, end to end)."""
    _need_julia()
    root, _ = zarr_written
    out = tmp_path_factory.mktemp("jl-export")
    exe = shutil.which("polyzarr") or str(Path(sys.executable).parent / "polyzarr")
    p = subprocess.run([exe, "export", "--impl", "julia", str(root), str(out)], capture_output=True, text=True, timeout=1800)
    return out, p


@pytest.mark.parametrize("cid", sorted({c[0] for c in CASES if dtype_id(c[1]) != NESTED} | {f"vlen_{k}-{o}" for k in ("str", "bytes") for o in "CF"}))
def test_julia_exports_zarr_python_values(cid, zarr_written, julia_export):
    _, expected = zarr_written
    out, p = julia_export
    f = out / f"{cid}.npy"
    assert f.exists(), f"Julia did not export {cid}:\n" + "\n".join(l for l in (p.stdout + p.stderr).splitlines() if cid in l)[:2000]
    assert f"exported {cid} " in p.stdout
    assert_same(np.load(f), expected[cid], f"Julia export of {cid}")


def test_julia_export_exit_status(julia_export):
    out, p = julia_export
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


IMPORT_DTYPES = [d for d in DTYPES if dtype_id(d) != NESTED] + [[["id", "<u4"], ["xy", ">f8", [2, 3]], ["tag", "|S2"]]]


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("codec", ["zstd", "blosc_lz4_1", "zlib1", "none"])
@pytest.mark.parametrize("dtype", IMPORT_DTYPES, ids=dtype_id)
def test_julia_imports_read_by_zarr_python(tmp_path, worker, dtype, order, codec):
    values = make_values(np_dtype(dtype), SHAPE, seed=7)
    np.save(tmp_path / "x.npy", values)
    dest = tmp_path / "j.zarr" / "g" / "a"
    r = worker.request("import", npy=str(tmp_path / "x.npy"), dest=str(dest), chunks=list(CHUNKS), order=order,
                       compressor=COMPRESSORS[codec])
    assert r["shape"] == list(SHAPE)
    meta = json.loads((dest / ".zarray").read_text())
    assert meta["order"] == order and meta["shape"] == list(SHAPE)
    assert json.loads((tmp_path / "j.zarr" / "g" / ".zgroup").read_text()) == {"zarr_format": 2}
    if isinstance(dtype, list) and any(len(f) == 3 for f in dtype):
        from test_zarr_python_interop import raw_oracle_read
        got = raw_oracle_read(str(dest))  # sub-array fields: zarr-python 3 cannot read them
    else:
        got = np.asarray(zarr.open_array(str(dest), mode="r")[...])
    assert_same(got, values, "zarr-python reading Julia's import")


@pytest.mark.parametrize("name", list(FILTER_CASES))
@pytest.mark.parametrize("order", ["C", "F"])
def test_julia_imports_with_filters_equal_zarr_python_chunks(tmp_path, worker, name, order):
    d, filters = FILTER_CASES[name]
    values = _filter_values(d, name)
    z = zarr_write_v2(str(tmp_path / "z"), values, CHUNKS, order, COMPRESSORS["zlib1"], filters=filters)
    np.save(tmp_path / "x.npy", values)
    worker.request("import", npy=str(tmp_path / "x.npy"), dest=str(tmp_path / "j"), chunks=list(CHUNKS), order=order,
                   compressor=COMPRESSORS["zlib1"], filters=filters)
    assert_same(np.asarray(zarr.open_array(str(tmp_path / "j"), mode="r")[...]), z[...], f"zarr-python reading Julia's {name}")
    for f in sorted(p.name for p in (tmp_path / "z").iterdir() if not p.name.startswith(".")):
        assert (tmp_path / "j" / f).read_bytes() == (tmp_path / "z" / f).read_bytes(), f"chunk {f} differs from zarr-python's"


@pytest.mark.parametrize("dtype", ["<f8", ">i4", "<U3"])
def test_julia_conventions_reverse_and_F(tmp_path, worker, dtype):
    """`reverse` declares C with reversed shape (Python sees the array); `F` declares F (Python sees the transpose)."""
    x = make_values(np.dtype(dtype), (4, 3, 2), seed=9)
    np.save(tmp_path / "x.npy", x)
    for conv, expected, order in (("reverse", x, "C"), ("F", x.T, "F")):
        dest = tmp_path / f"{conv}.zarr"
        worker.request("import", npy=str(tmp_path / "x.npy"), dest=str(dest), chunks=[2, 2, 2], convention=conv)
        meta = json.loads((dest / ".zarray").read_text())
        assert meta["order"] == order and meta["shape"] == list(expected.shape), f"{conv}: {meta}"
        assert_same(np.asarray(zarr.open_array(str(dest), mode="r")[...]), expected, f"convention {conv}")


@pytest.mark.parametrize("order", ["C", "F"])
def test_julia_view_sizes(tmp_path, worker, order):
    z = zarr.create_array(store=str(tmp_path / "a"), shape=(4, 3, 2), chunks=(2, 2, 2), dtype="<i4", zarr_format=2, order=order)
    z[...] = np.arange(24).reshape(4, 3, 2)
    v = worker.request("julia_view", src=str(tmp_path / "a"))
    assert v["size"] == ([2, 3, 4] if order == "C" else [4, 3, 2])
    assert v["order"] == order and v["eltype"] == "Int32"


@pytest.mark.parametrize("dtype", ["<M8[ns]", ">m8[s]", "<i4", ">f8", "|S3", "<U2", "|b1"])
def test_null_fill_missing_chunks_read_as_zarr_python_reads_them(tmp_path, worker, dtype):
    """A v2 ``fill_value: null`` array with unwritten chunks: zarr-python 3 reads datetimes/timedeltas there as
    NaT and everything else as zero bits; both polyzarr readers must give the same values."""
    import polyzarr

    z = zarr.create_array(store=str(tmp_path / "s" / "a"), shape=(5, 4), chunks=(2, 3), dtype=dtype, zarr_format=2,
                          fill_value=None, compressors=None)
    assert json.loads((tmp_path / "s" / "a" / ".zarray").read_text())["fill_value"] is None
    part = make_values(np.dtype(dtype), (2, 3), seed=7)
    z[:2, :3] = part  # one chunk of six written, the others missing
    expected = zarr.open_array(str(tmp_path / "s" / "a"), mode="r")[...]
    assert_same(polyzarr.open(str(tmp_path / "s" / "a"))[...], expected)
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["failed"] == []
    assert_same(np.load(tmp_path / "o" / "a.npy"), expected)
    if np.dtype(dtype).kind in "Mm":
        assert np.isnat(expected[4, 3])  # the expectation is zarr-python's, and it is NaT


@pytest.mark.parametrize("stored", ["logical", "reversed"])
def test_julia_reads_json2_F_lists_as_python_does(tmp_path, worker, stored):
    from test_arrays import JSON2_LOGICAL, json2_F_store

    json2_F_store(tmp_path / "s" / "j", stored)
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["failed"] == []
    assert np.load(tmp_path / "o" / "j.npy").tolist() == JSON2_LOGICAL + [["g", "h", "i"]]


_V3_BYTES_BYTES = {  # zarr-python's v3 bytes->bytes codecs are these numcodecs classes underneath
    "zstd": lambda c: numcodecs.Zstd(level=c.get("level", 0), checksum=c.get("checksum", False)),
    "gzip": lambda c: numcodecs.GZip(level=c.get("level", 5)),
    "blosc": lambda c: numcodecs.Blosc(cname=c["cname"], clevel=c["clevel"], blocksize=c.get("blocksize", 0),
                                       shuffle={"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[c["shuffle"]]),
}


def _write_chunk_as_zarr_python(array_dir: Path, chunk_coords: tuple[int, ...], chunk: np.ndarray) -> None:
    """Encode one chunk of an object (vlen) array with the codecs its metadata names (numcodecs, as zarr-python
    does) and store it under zarr-python's key for `chunk_coords`: the bytes zarr-python 3.1 wrote for a write
    zarr-python 3.4 refuses. v2: filters then compressor; v3: vlen-bytes / vlen-utf8 then the bytes->bytes codecs
    (anything else raises: this writes only what it can write exactly)."""
    key = zarr.open_array(str(array_dir), mode="r").metadata.encode_chunk_key(chunk_coords)
    data = chunk
    if (array_dir / "zarr.json").exists():
        codecs = json.loads((array_dir / "zarr.json").read_text())["codecs"]
        serializer = {"vlen-bytes": numcodecs.VLenBytes, "vlen-utf8": numcodecs.VLenUTF8}[codecs[0]["name"]]
        data = serializer().encode(data)
        for c in codecs[1:]:
            data = _V3_BYTES_BYTES[c["name"]](c.get("configuration", {})).encode(data)
    else:
        meta = json.loads((array_dir / ".zarray").read_text())
        for f in meta.get("filters") or []:
            data = numcodecs.get_codec(f).encode(data)
        if meta.get("compressor"):
            data = numcodecs.get_codec(meta["compressor"]).encode(data)
    (array_dir / key).parent.mkdir(parents=True, exist_ok=True)
    (array_dir / key).write_bytes(bytes(data))


@pytest.mark.xfail(ZARR_34, strict=True, raises=TypeError,
                   reason="zarr-python 3.4 stores a bytes scalar as a 0-d ndarray element (README: Interop notes)")
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_python_vlen_bytes_scalar_gap(zarr_format):
    """zarr-python 3.4.2: `z[()] = b"ab"` on a 0-d variable_length_bytes array (or `z[0] = b"ab"` on a 1-d one)
    fails in numcodecs' VLenBytes with "Expected bytes, got numpy.ndarray" (3.1 stored it). Strict: when zarr-python
    fixes it this fails, and the workaround in the test above can go."""
    z = zarr.create_array(store={}, shape=(2,), chunks=(2,), dtype=zarr.dtype.VariableLengthBytes(), zarr_format=zarr_format)
    z[0] = b"ab"
    assert z[0] == b"ab"


def test_zero_d_and_empty_object_arrays_both_languages(tmp_path, worker):
    """0-d vlen-utf8 / vlen-bytes arrays written by zarr-python export one element (not an array inside an
    array); an empty vlen-bytes array exports as bytes."""
    import polyzarr

    for name, dt, v in (("s", str, "héllo"), ("b", zarr.dtype.VariableLengthBytes(), b"a\x00b")):
        z = zarr.create_array(store=str(tmp_path / "s" / name), shape=(), chunks=(), dtype=dt, zarr_format=2)
        if name == "b":  # zarr-python 3.4 cannot store a bytes scalar (test_zarr_python_vlen_bytes_scalar_gap)
            _write_chunk_as_zarr_python(tmp_path / "s" / name, (), np.array(v, dtype=object))
        else:
            z[()] = v
        assert zarr.open_array(str(tmp_path / "s" / name), mode="r")[()] == v
        assert polyzarr.open(str(tmp_path / "s" / name))[()] == v
    zarr.create_array(store=str(tmp_path / "s" / "e"), shape=(2, 0), chunks=(1, 1), dtype=zarr.dtype.VariableLengthBytes(),
                      zarr_format=2)  # empty: the codec, not an element, says bytes
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["failed"] == []
    assert np.load(tmp_path / "o" / "s.npy")[()] == "héllo" and np.load(tmp_path / "o" / "s.npy").shape == ()
    assert np.load(tmp_path / "o" / "b.npy")[()] == b"a\x00b" and np.load(tmp_path / "o" / "b.npy").dtype == "|S3"
    assert subprocess.run([sys.executable, "-m", "polyzarr", "export", str(tmp_path / "s"), str(tmp_path / "p")],
                          capture_output=True).returncode == 0
    assert np.load(tmp_path / "p" / "s.npy")[()] == "héllo" and np.load(tmp_path / "p" / "b.npy").dtype == "|S3"
    for out in ("o", "p"):
        e = np.load(tmp_path / out / "e.npy")
        assert e.shape == (2, 0) and e.dtype == "|S1", (out, e.dtype)


@pytest.mark.parametrize("kind,fill", [("str", 0), ("str", 2.5), ("str", "x"), ("str", None), ("bytes", "YWI="),
                                       ("bytes", None), ("bytes", 0)])
def test_object_fill_values_as_zarr_python_reads_them(tmp_path, worker, kind, fill):
    """zarr 2.x stored its default fill 0 for object arrays too. Missing elements of a vlen array read as
    zarr-python 3 reads them (a number fill of a string array as its text; a bytes fill as base64), where it can;
    where it refuses (a number or null for bytes), as empty bytes."""
    import polyzarr

    dt = str if kind == "str" else zarr.dtype.VariableLengthBytes()
    z = zarr.create_array(store=str(tmp_path / "s" / "a"), shape=(3, 2), chunks=(2, 2), dtype=dt, zarr_format=2)
    z[:2] = np.array([["p", "q"], ["r", "s"]] if kind == "str" else [[b"p", b"q"], [b"r", b"s"]], dtype=object)
    meta_path = tmp_path / "s" / "a" / ".zarray"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "fill_value": fill}))  # as zarr 2.x wrote it
    try:
        expected = zarr.open_array(str(tmp_path / "s" / "a"), mode="r")[...]
        expected = np.array(expected.tolist(), dtype=object)
    except TypeError:  # zarr-python 3 refuses a non-base64 fill for bytes
        assert kind == "bytes"
        expected = np.array([[b"p", b"q"], [b"r", b"s"], [b"", b""]], dtype=object)
    got = polyzarr.open(str(tmp_path / "s" / "a"))[...]
    assert got.tolist() == expected.tolist()
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["failed"] == []
    assert np.load(tmp_path / "o" / "a.npy").tolist() == expected.tolist()


def test_objects_without_npy_form_are_a_dtype_error_in_both(tmp_path, worker):
    """json2 values that are not all strings (or all bytes) have no exact .npy form: both languages fail that
    array with a DtypeError naming its metadata key, and export the others."""
    js = numcodecs.JSON()
    a = tmp_path / "s" / "mixed"
    a.mkdir(parents=True)
    (a / ".zarray").write_text(json.dumps({"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "|O", "order": "C",
                                           "compressor": None, "fill_value": None, "filters": [js.get_config()]}))
    (a / "0").write_bytes(js.encode(np.array([1.5, "x"], dtype=object)))
    zarr.create_array(store=str(tmp_path / "s" / "ok"), shape=(2,), chunks=(2,), dtype="<i2", zarr_format=2)[...] = [1, 2]
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert [e["path"] for e in r["exported"]] == ["ok"]
    assert [(f["path"], f["category"]) for f in r["failed"]] == [("mixed", "DtypeError")]
    assert "mixed/.zarray" in r["failed"][0]["message"]
    p = subprocess.run([sys.executable, "-m", "polyzarr", "export", str(tmp_path / "s"), str(tmp_path / "p")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and (tmp_path / "p" / "ok.npy").exists()
    assert "FAILED mixed: DtypeError: mixed/.zarray: object values" in p.stdout + p.stderr


def test_inspect_text_is_the_same_in_both_languages(tmp_path, worker):
    """`polyzarr inspect` prints the same lines for --impl python and --impl julia, on a tree zarr-python wrote
    (v2 and v3 groups, codec configs in zarr-python's key order, sharding, struct and extension data types)."""
    from zarr.codecs import BytesCodec, ShardingCodec, ZstdCodec

    root = tmp_path / "t.zarr"
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    g.attrs["title"] = "é"
    g.create_array("b", shape=(5, 4), chunks=(2, 3), dtype=">f4", compressors=numcodecs.Blosc(cname="zstd", shuffle=2),
                   filters=[numcodecs.Delta(dtype=">f4")], order="F")
    g.create_array("s", shape=(3,), chunks=(2,), dtype=[("a", "<i4"), ("b", ">f8")])
    g3 = zarr.open_group(str(root / "v3"), mode="w", zarr_format=3)
    g3.create_array("sh", shape=(9, 8), chunks=(4, 6), dtype="int16", fill_value=-1, dimension_names=["y", None],
                    serializer=ShardingCodec(chunk_shape=(2, 3), codecs=[BytesCodec(endian="big"), ZstdCodec(level=2)],
                                             index_location="start"))
    g3.create_array("t", shape=(4,), chunks=(3,), dtype="M8[s]", chunk_key_encoding={"name": "v2", "separator": "."})
    g3.create_array("u", shape=(2,), chunks=(2,), dtype=str)
    out = {impl: subprocess.run([sys.executable, "-m", "polyzarr", "inspect", "--impl", impl, str(root)],
                                capture_output=True, text=True) for impl in ("python", "julia")}
    assert out["python"].returncode == 0 and out["julia"].returncode == 0, out["julia"].stderr
    assert out["julia"].stdout.splitlines() == out["python"].stdout.splitlines()
    assert "compressor=blosc(blocksize=0,clevel=5,cname=zstd,shuffle=2)" in out["python"].stdout
    assert "sharding_indexed(chunk_shape=[2, 3],index=start,codecs=bytes(endian=big)+zstd(checksum=False,level=2))" \
        in out["python"].stdout


@pytest.mark.parametrize("declared", [None, ".", "/"])
def test_nested_keys_without_a_declared_separator(tmp_path, worker, declared):
    """zarr < 2.8's NestedDirectoryStore wrote "/" chunk keys under a .zarray without dimension_separator (OME-Zarr
    0.2 data, for one); zarr-python 3 reads such arrays as all fill. Both polyzarr readers find the nested keys,
    also when the first chunk is missing; a declared separator is trusted as it stands."""
    import polyzarr

    values = np.arange(20, dtype="<i4").reshape(5, 4)
    a = tmp_path / "s" / "a"
    a.mkdir(parents=True)
    meta = {"zarr_format": 2, "shape": [5, 4], "chunks": [2, 3], "dtype": "<i4", "order": "C", "compressor": None,
            "fill_value": -1, "filters": None}
    if declared is not None:
        meta["dimension_separator"] = declared
    (a / ".zarray").write_text(json.dumps(meta))
    for i in range(3):
        for j in range(2):
            if (i, j) == (0, 0):
                continue  # missing: the first chunk a reader tries
            block = np.full((2, 3), -1, dtype="<i4")
            part = values[2 * i:2 * i + 2, 3 * j:3 * j + 3]
            block[:part.shape[0], :part.shape[1]] = part
            (a / str(i)).mkdir(exist_ok=True)
            (a / str(i) / str(j)).write_bytes(block.tobytes())
    expected = values.copy()
    expected[:2, :3] = -1
    if declared == ".":
        expected[...] = -1  # "." declared: the nested files are not chunks of this array
    assert_same(polyzarr.open(str(a))[...], expected)
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["failed"] == []
    assert_same(np.load(tmp_path / "o" / "a.npy"), expected)


@pytest.mark.parametrize("case", METADATA_CASES, ids=[c[0] for c in METADATA_CASES])
def test_julia_rejects_bad_metadata_with_same_category(tmp_path, worker, case):
    _, doc, err, _ = case
    (tmp_path / "s" / "a").mkdir(parents=True)
    (tmp_path / "s" / "a" / ".zarray").write_bytes(doc)
    r = worker.request("export", src=str(tmp_path / "s"), outdir=str(tmp_path / "o"))
    assert r["exported"] == [], f"Julia accepted bad metadata {case[0]}"
    assert [f["category"] for f in r["failed"]] == [err.__name__], r["failed"]
    assert "a/.zarray" in r["failed"][0]["message"]


@pytest.mark.s3
def test_julia_s3_both_directions(tmp_path, worker, s3_bucket, moto_endpoint):
    import polyzarr as pz
    from polyzarr.stores import open_store

    x = make_values(np.dtype(">f4"), (6, 5), seed=4)
    np.save(tmp_path / "x.npy", x)
    worker.request("import", npy=str(tmp_path / "x.npy"), dest=f"{s3_bucket}/j.zarr/g/a", chunks=[4, 2], order="F",
                   compressor=COMPRESSORS["blosc_lz4_1"], endpoint_url=moto_endpoint)
    assert_same(pz.open(f"{s3_bucket}/j.zarr/g/a")[...], x, "Python reading Julia's S3 write")
    w = open_store(f"{s3_bucket}/p.zarr", "w")
    a = pz.create_array(w, "b", x.shape, x.dtype, chunks=(4, 2), dimension_separator="/")
    a[...] = x
    r = worker.request("export", src=f"{s3_bucket}/p.zarr", outdir=str(tmp_path / "o"), endpoint_url=moto_endpoint)
    assert r["failed"] == []
    assert_same(np.load(tmp_path / "o" / "b.npy"), x, "Julia reading Python's S3 write")


def test_julia_unit_tests(moto_endpoint):
    """julia/test/runtests.jl (Test stdlib) with Python and the moto server available to it."""
    _need_julia()
    cmd = julia_command("polyzarr.jl")[:-1] + [str(repo_root() / "julia" / "test" / "runtests.jl")]
    env = dict(os.environ, POLYZARR_PYTHON=sys.executable, POLYZARR_TEST_S3_ENDPOINT=moto_endpoint)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=2400, cwd=repo_root())
    summary = [l for l in p.stdout.splitlines() if "Test Summary" in l or re.search(r"\|\s+\d+", l)]
    print("\n".join(summary[-40:]))
    assert p.returncode == 0, (p.stdout[-6000:] + "\n" + p.stderr[-6000:])
