"""polyzarr's Zarr v3 against zarr-python 3 (the oracle) and against the spec's byte layouts.

zarr-python writes → polyzarr reads equal, polyzarr writes → zarr-python reads equal, for every data type × both
byte orders, every transpose of rank 2 and 3, sharding (index at start/end, transpose inside, empty inner chunks),
crc32c, blosc/gzip/zstd, both chunk key encodings, dimension names, fill encodings; partial reads of a shard touch
only the inner chunks they need; bad v3 metadata is rejected naming key and path.
"""
from __future__ import annotations

import itertools
import json
import struct
import warnings

import numpy as np
import pytest
import zarr

import polyzarr as pz
from polyzarr.arrays import create_array, open_array
from polyzarr.errors import ChunkError, CodecError, DtypeError, MetadataError, PathError
from polyzarr.metadata_v3 import crc32c_of
from polyzarr.stores import open_store
from polyzarr.testing import assert_same, make_objects, make_values

warnings.filterwarnings("ignore")
ZARR_BEFORE_34 = tuple(int(p) for p in zarr.__version__.split(".")[:2]) < (3, 4)

DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<u2", ">u2", "<u4", ">u4", "<u8", ">u8",
          "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16", "<M8[ns]", ">M8[ns]", "<M8[10s]",
          "<m8[ms]", ">m8[us]", "|S7", "<U5", ">U5", "|V6", [["a", "<i4"], ["b", "<f8"]]]
SHAPE, CHUNKS = (5, 4, 3), (2, 3, 2)


def did(d) -> str:
    return d if isinstance(d, str) else "struct"


def zarr_read(path: str) -> np.ndarray:
    return np.asarray(zarr.open_array(path, mode="r")[...])


def logical(a: np.ndarray) -> np.ndarray:
    """Values in native byte order (a v3 data type has none)."""
    from polyzarr.interop.run import native_order

    return native_order(np.asarray(a))


@pytest.mark.parametrize("dtype", DTYPES, ids=did)
def test_dtype_zarr_python_writes_polyzarr_reads(tmp_path, dtype):
    x = make_values(dtype, SHAPE, seed=1)
    endian = "big" if x.dtype.str.startswith(">") or (x.dtype.fields and ">" in str(x.dtype)) else "little"
    codecs = [{"name": "bytes", "configuration": {"endian": endian}} if x.dtype.itemsize > 1 and x.dtype.kind not in "SVb" and x.dtype.fields is None
              else {"name": "bytes"}, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}]
    z = zarr.create(store=str(tmp_path / "a"), shape=SHAPE, chunks=CHUNKS, dtype=x.dtype, codecs=codecs, zarr_format=3)
    z[...] = x
    got = pz.open(str(tmp_path / "a"))[...]
    assert_same(logical(got), logical(x), f"polyzarr reading zarr-python's v3 {did(dtype)}")
    if x.dtype.kind not in "bSV" and x.dtype.itemsize > 1 and x.dtype.fields is None:
        assert got.dtype.byteorder == (">" if endian == "big" else "<"), "the bytes codec's endian is the dtype's byte order"


@pytest.mark.parametrize("dtype", DTYPES, ids=did)
def test_dtype_polyzarr_writes_zarr_python_reads(tmp_path, dtype):
    if not isinstance(dtype, str) and ZARR_BEFORE_34:
        pytest.skip(f"polyzarr writes zarr-python 3.4's struct data type, which zarr-python {zarr.__version__} cannot read")
    x = make_values(dtype, SHAPE, seed=2)
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", SHAPE, x.dtype, chunks=CHUNKS, zarr_format=3)
    a[...] = x
    meta = json.loads((tmp_path / "a" / "zarr.json").read_text())
    assert meta["zarr_format"] == 3 and meta["node_type"] == "array"
    assert_same(logical(zarr_read(str(tmp_path / "a"))), logical(x), f"zarr-python reading polyzarr's v3 {did(dtype)}")
    assert_same(pz.open(str(tmp_path / "a"))[...], x, "polyzarr reading its own v3")


@pytest.mark.parametrize("kind", ["str", "bytes"])
def test_vlen_both_directions(tmp_path, kind):
    x = make_objects(kind, (6, 5), seed=3)
    a = create_array(open_store(str(tmp_path / "p"), "w"), "", x.shape, object, chunks=(4, 2), zarr_format=3,
                     object_codec="vlen-utf8" if kind == "str" else "vlen-bytes")
    a[...] = x
    assert json.loads((tmp_path / "p" / "zarr.json").read_text())["data_type"] == ("string" if kind == "str" else "variable_length_bytes")
    assert zarr.open_array(str(tmp_path / "p"), mode="r")[...].tolist() == x.tolist()
    z = zarr.create_array(store=str(tmp_path / "z"), shape=x.shape, chunks=(4, 2),
                          dtype=str if kind == "str" else zarr.dtype.VariableLengthBytes())
    z[...] = x
    assert pz.open(str(tmp_path / "z"))[...].tolist() == x.tolist()


PERMS = [p for n in (2, 3) for p in itertools.permutations(range(n))] + [(1, 2, 3, 0), (3, 1, 0, 2), (2, 3, 0, 1)]


@pytest.mark.parametrize("perm", PERMS, ids=lambda p: "".join(map(str, p)))
def test_transpose_every_permutation(tmp_path, perm):
    shape = {2: (5, 4), 3: (5, 4, 3), 4: (3, 2, 4, 5)}[len(perm)]
    chunks = {2: (2, 3), 3: (2, 3, 2), 4: (2, 1, 3, 2)}[len(perm)]
    x = make_values(">f8", shape, seed=4)
    codecs = [{"name": "transpose", "configuration": {"order": list(perm)}}, {"name": "bytes", "configuration": {"endian": "big"}},
              {"name": "gzip", "configuration": {"level": 5}}]
    z = zarr.create(store=str(tmp_path / "z"), shape=shape, chunks=chunks, dtype=x.dtype, codecs=codecs, zarr_format=3)
    z[...] = x
    assert_same(pz.open(str(tmp_path / "z"))[...], x, f"polyzarr reading zarr-python's transpose {perm}")
    a = create_array(open_store(str(tmp_path / "p"), "w"), "", shape, x.dtype, chunks=chunks, zarr_format=3, codecs=codecs)
    a[...] = x
    assert_same(logical(zarr_read(str(tmp_path / "p"))), logical(x), f"zarr-python reading polyzarr's transpose {perm}")
    for key in sorted(p.relative_to(tmp_path / "z").as_posix() for p in (tmp_path / "z").rglob("*") if p.is_file() and p.name != "zarr.json"):
        assert (tmp_path / "p" / key).read_bytes()[10:] == (tmp_path / "z" / key).read_bytes()[10:], f"chunk {key}"  # gzip header aside
    # the encoded chunk 0 is x's first chunk transposed: check it by hand
    raw = np.frombuffer(__import__("gzip").decompress((tmp_path / "p" / "c" / "/".join("0" * len(shape))).read_bytes()), ">f8")
    block = x[tuple(slice(0, c) for c in chunks)]
    assert np.array_equal(raw, block.transpose(perm).ravel(), equal_nan=True)


@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("inner_transpose", [None, (2, 0, 1)])
def test_sharding_both_directions(tmp_path, location, inner_transpose):
    shape, shard, inner = (9, 8, 6), (4, 4, 6), (2, 2, 3)
    x = make_values("<i4", shape, seed=5)
    x[0:2, 0:2, 0:3] = 0  # an empty inner chunk (fill value 0)
    inner_codecs = ([{"name": "transpose", "configuration": {"order": list(inner_transpose)}}] if inner_transpose else []) + \
        [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}]
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(inner), "codecs": inner_codecs,
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}], "index_location": location}}]
    z = zarr.create(store=str(tmp_path / "z"), shape=shape, chunks=shard, dtype="<i4", codecs=codecs, zarr_format=3, fill_value=0)
    z[...] = x
    assert_same(pz.open(str(tmp_path / "z"))[...], x, "polyzarr reading zarr-python's shards")
    assert_same(pz.open(str(tmp_path / "z"))[1:7, 3:8, 2:5], x[1:7, 3:8, 2:5], "a region across shards")
    a = create_array(open_store(str(tmp_path / "p"), "w"), "", shape, "<i4", chunks=shard, zarr_format=3, codecs=codecs)
    a[...] = x
    assert_same(zarr_read(str(tmp_path / "p")), x, "zarr-python reading polyzarr's shards")
    # the shard index by hand: (offset, nbytes) pairs, C order of the inner grid, crc32c, at the chosen end
    blob = (tmp_path / "p" / "c" / "0" / "0" / "0").read_bytes()
    n = 2 * 2 * 2
    idx = blob[: 16 * n + 4] if location == "start" else blob[-(16 * n + 4):]
    assert struct.unpack("<I", idx[-4:])[0] == crc32c_of(idx[:-4])
    pairs = np.frombuffer(idx[:-4], "<u8").reshape(2, 2, 2, 2)
    assert pairs[0, 0, 0].tolist() == [2**64 - 1, 2**64 - 1], "the all-fill inner chunk is empty"
    off, nb = (int(v) for v in pairs[1, 0, 0])
    import numcodecs

    sub = np.frombuffer(numcodecs.Zstd().decode(blob[off: off + nb]), "<i4")
    expect = x[2:4, 0:2, 0:3]
    assert np.array_equal(sub, (expect.transpose(inner_transpose) if inner_transpose else expect).ravel())


class CountingStore:
    """Wraps a store and counts whole-key and byte-range reads."""

    def __init__(self, inner):
        self.inner, self.gets, self.ranges = inner, [], []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get(self, key):
        self.gets.append(key)
        return self.inner.get(key)

    def get_range(self, key, start, length):
        self.ranges.append((key, start, length))
        return self.inner.get_range(key, start, length)


def test_partial_shard_read_touches_only_needed_inner_chunks(tmp_path):
    shape, shard, inner = (8, 8), (8, 8), (2, 2)
    x = np.arange(64, dtype="<f8").reshape(shape)
    store = open_store(str(tmp_path / "s"), "w")
    a = create_array(store, "", shape, x.dtype, chunks=inner, shards=shard, zarr_format=3)
    a[...] = x
    counting = CountingStore(open_store(str(tmp_path / "s")))
    arr = open_array(counting, "")
    got = arr[3:5, 1:2]  # inner chunks (1,0) and (2,0)
    assert np.array_equal(got, x[3:5, 1:2])
    shard_gets = [k for k in counting.gets if k not in ("zarr.json", ".polyzarr-incomplete")]  # the marker check is a metadata read
    assert shard_gets == [], f"the shard was read whole: {shard_gets}"
    assert len(counting.ranges) == 1 + 2, counting.ranges  # the index, then two inner chunks
    assert counting.ranges[0][1] == -(16 * 16 + 4)  # a suffix read of the index


@pytest.mark.s3
def test_partial_shard_read_on_s3_uses_ranges(s3_bucket):
    x = np.arange(36, dtype="<i2").reshape(6, 6)
    store = open_store(f"{s3_bucket}/sh.zarr", "w")
    create_array(store, "", x.shape, x.dtype, chunks=(2, 3), shards=(6, 6), zarr_format=3)[...] = x
    counting = CountingStore(open_store(f"{s3_bucket}/sh.zarr"))
    assert np.array_equal(open_array(counting, "")[0:2, 3:6], x[0:2, 3:6])
    assert len(counting.ranges) == 2 and all(k == "c/0/0" for k, _, _ in counting.ranges)


def test_crc32c_detects_damage(tmp_path):
    x = np.arange(20, dtype="<f4")
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", x.shape, x.dtype, chunks=(10,), zarr_format=3, codecs=codecs)
    a[...] = x
    f = tmp_path / "a" / "c" / "1"
    b = bytearray(f.read_bytes())
    assert struct.unpack("<I", bytes(b[-4:]))[0] == crc32c_of(bytes(b[:-4])) and b[:-4] == x[10:].tobytes()
    b[3] ^= 0xFF
    f.write_bytes(bytes(b))
    with pytest.raises(ChunkError) as e:
        pz.open(str(tmp_path / "a"))[...]
    assert "c/1" in str(e.value) and "crc32c" in str(e.value)


@pytest.mark.parametrize("name,sep,key", [("default", "/", "c/1/0"), ("default", ".", "c.1.0"), ("v2", ".", "1.0"), ("v2", "/", "1/0")])
def test_chunk_key_encodings(tmp_path, name, sep, key):
    x = make_values("<f4", (4, 4), seed=6)
    cke = {"name": name, "configuration": {"separator": sep}}
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", x.shape, x.dtype, chunks=(2, 2), zarr_format=3, chunk_key_encoding=cke)
    a[...] = x
    assert (tmp_path / "a" / key).is_file()
    assert_same(zarr_read(str(tmp_path / "a")), x, f"zarr-python reading {name} {sep!r} keys")


def test_zero_d_keys(tmp_path):
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", (), "<f8", zarr_format=3)
    a[...] = 2.5
    assert (tmp_path / "a" / "c").is_file()
    assert float(zarr_read(str(tmp_path / "a"))) == 2.5


@pytest.mark.parametrize("dtype,fill,json_fill", [
    ("<f4", np.array(0x7FC00001, "<u4").view("<f4")[()], "0x7fc00001"),
    ("<f8", np.nan, "NaN"), (">f8", -np.inf, "-Infinity"), ("<c16", complex(np.nan, 1.0), ["NaN", 1.0]),
    ("<M8[s]", np.datetime64("NaT", "s"), -9223372036854775808), ("|S3", b"abc", "YWJj"), ("<U3", "xé", "xé"),
    ("|V4", np.frombuffer(b"\x01\x02\x03\x04", "|V4")[0], "AQIDBA=="), ("|b1", True, True), ("<i4", -7, -7),
])
def test_fill_encodings(tmp_path, dtype, fill, json_fill):
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", (4,), dtype, chunks=(2,), zarr_format=3, fill_value=np.asarray(fill, dtype)[()])
    assert json.loads((tmp_path / "a" / "zarr.json").read_text())["fill_value"] == json_fill
    got = pz.open(str(tmp_path / "a"))[...]  # no chunks: all fill, bit for bit
    assert np.asarray(got).tobytes() == np.full(4, fill, dtype=dtype).tobytes()


def test_raw_bits_r16(tmp_path):
    """The spec's r16 (zarr-python 3.1 cannot read it; polyzarr reads and writes it)."""
    x = np.frombuffer(bytes(range(12)), "|V2").reshape(2, 3)
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", x.shape, x.dtype, chunks=(1, 3), zarr_format=3, data_type="r16",
                     fill_value=[1, 2])
    a[...] = x
    meta = json.loads((tmp_path / "a" / "zarr.json").read_text())
    assert meta["data_type"] == "r16" and meta["fill_value"] == [1, 2]
    assert pz.open(str(tmp_path / "a"))[...].tobytes() == x.tobytes()


def test_dimension_names_and_groups(tmp_path):
    store = open_store(str(tmp_path / "d.zarr"), "w")
    pz.create_group(store, "g", {"title": "t"}, zarr_format=3)
    a = create_array(store, "g/temp", (3, 4), "<f4", chunks=(3, 2), zarr_format=3, dimension_names=["lat", "lon"],
                     attributes={"units": "K"})
    a[...] = np.ones((3, 4), "<f4")
    pz.consolidate_metadata(store)
    root = json.loads((tmp_path / "d.zarr" / "zarr.json").read_text())
    assert root["consolidated_metadata"]["metadata"]["g/temp"]["dimension_names"] == ["lat", "lon"]
    z = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")
    assert z["g/temp"].metadata.dimension_names == ("lat", "lon") and z["g"].attrs["title"] == "t"
    b = pz.open(str(tmp_path / "d.zarr") + "/g/temp")
    assert b.dimension_names == ["lat", "lon"] and b.attrs == {"units": "K"}


# ---------------------------------------------------------------------------------------------------------
# Bad v3 input: the category, the key and the JSON path


GOOD = {"shape": [4, 4], "data_type": "float64", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "fill_value": 0.0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}], "attributes": {}, "zarr_format": 3,
        "node_type": "array"}


def doc(**kw):
    d = json.loads(json.dumps(GOOD))
    for k, v in kw.items():
        if v is ...:
            d.pop(k)
        else:
            d[k] = v
    return d


BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
BAD = [
    ("unknown-codec", doc(codecs=[BYTES, {"name": "nosuch"}]), CodecError, "a/zarr.json:codecs[1]"),
    ("two-array-bytes", doc(codecs=[BYTES, BYTES]), MetadataError, "a/zarr.json:codecs[1]"),
    ("no-array-bytes", doc(codecs=[{"name": "gzip", "configuration": {"level": 1}}]), MetadataError, "a/zarr.json:codecs"),
    ("transpose-after-bytes", doc(codecs=[BYTES, {"name": "transpose", "configuration": {"order": [1, 0]}}]), MetadataError, "a/zarr.json:codecs[1]"),
    ("bad-permutation", doc(codecs=[{"name": "transpose", "configuration": {"order": [0, 0]}}, BYTES]), CodecError, "a/zarr.json:codecs[0]"),
    ("permutation-rank", doc(codecs=[{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, BYTES]), CodecError, "a/zarr.json:codecs[0]"),
    ("bad-endian", doc(codecs=[{"name": "bytes", "configuration": {"endian": "middle"}}]), CodecError, "a/zarr.json:codecs[0]"),
    ("storage-transformers", doc(storage_transformers=[{"name": "x"}]), MetadataError, "a/zarr.json:storage_transformers"),
    ("unknown-field", doc(surprise=1), MetadataError, "a/zarr.json:surprise"),
    ("unknown-data-type", doc(data_type="float128"), DtypeError, "a/zarr.json:data_type"),
    ("raw-bits-not-byte", doc(data_type="r12"), DtypeError, "a/zarr.json:data_type"),
    ("bad-hex-fill", doc(fill_value="0x7fc0"), MetadataError, "a/zarr.json:fill_value"),
    ("null-fill", doc(fill_value=None), MetadataError, "a/zarr.json:fill_value"),
    ("bad-chunk-key-encoding", doc(chunk_key_encoding={"name": "v4"}), MetadataError, "a/zarr.json:chunk_key_encoding"),
    ("bad-separator", doc(chunk_key_encoding={"name": "default", "configuration": {"separator": "-"}}), MetadataError, "a/zarr.json:chunk_key_encoding"),
    ("bad-grid", doc(chunk_grid={"name": "rectilinear"}), MetadataError, "a/zarr.json:chunk_grid"),
    ("missing-codecs", doc(codecs=...), MetadataError, "a/zarr.json:codecs"),
    ("dimension-names-length", doc(dimension_names=["x"]), MetadataError, "a/zarr.json:dimension_names"),
    ("shard-not-dividing", doc(codecs=[{"name": "sharding_indexed", "configuration": {"chunk_shape": [3, 2], "codecs": [BYTES]}}]),
     CodecError, "a/zarr.json:codecs[0].configuration.chunk_shape"),
    ("shard-index-codec", doc(codecs=[{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 1], "codecs": [BYTES],
                                                                                         "index_codecs": [BYTES, {"name": "gzip"}]}}]),
     CodecError, "a/zarr.json:codecs[0].configuration.index_codecs[1]"),
    ("blosc-bad-shuffle", doc(codecs=[BYTES, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": 1, "typesize": 8}}]),
     CodecError, "a/zarr.json:codecs[1]"),
    ("consolidated-dotdot", None, PathError, "../x"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_v3_metadata(tmp_path, case):
    name, d, err, where = case
    if name == "consolidated-dotdot":
        (tmp_path / "s").mkdir()
        (tmp_path / "s" / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "consolidated_metadata": {
            "kind": "inline", "must_understand": False, "metadata": {"../x": GOOD}}}))
        with pytest.raises(err) as e:
            list(pz.walk(open_store(str(tmp_path / "s"))))
    else:
        (tmp_path / "s" / "a").mkdir(parents=True)
        (tmp_path / "s" / "a" / "zarr.json").write_text(json.dumps(d))
        with pytest.raises(err) as e:
            open_array(open_store(str(tmp_path / "s")), "a")
    assert where in str(e.value), str(e.value)


def test_unknown_codec_that_may_be_skipped(tmp_path):
    (tmp_path / "a").mkdir()
    d = doc(codecs=[BYTES, {"name": "someday", "must_understand": False}])
    (tmp_path / "a" / "zarr.json").write_text(json.dumps(d))
    assert pz.open(str(tmp_path / "a"))[...].shape == (4, 4)


def test_shard_index_out_of_range(tmp_path):
    x = np.arange(16, dtype="<f8").reshape(4, 4)
    a = create_array(open_store(str(tmp_path / "a"), "w"), "", x.shape, x.dtype, chunks=(2, 2), shards=(4, 4), zarr_format=3)
    a[...] = x
    f = tmp_path / "a" / "c" / "0" / "0"
    blob = bytearray(f.read_bytes())
    index = np.frombuffer(bytes(blob[-68:-4]), "<u8").copy()
    index[0] = 10_000  # offset past the end
    raw = index.tobytes()
    blob[-68:] = raw + struct.pack("<I", crc32c_of(raw))
    f.write_bytes(bytes(blob))
    with pytest.raises(ChunkError) as e:
        pz.open(str(tmp_path / "a"))[...]
    assert "c/0/0" in str(e.value) and "outside the shard" in str(e.value)
