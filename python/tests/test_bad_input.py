"""Bad input gets a polyzarr error that names the key (or JSON path) and the problem; nothing stored is lost."""
from __future__ import annotations

import json

import numcodecs
import numpy as np
import pytest

import polyzarr as pz
from polyzarr.errors import ChunkError, CodecError, DtypeError, MetadataError, PathError, PolyZarrError, StoreError
from polyzarr.stores import check_key, open_store

GOOD = {"zarr_format": 2, "shape": [4, 4], "chunks": [2, 2], "dtype": "<f8", "compressor": None,
        "fill_value": 0.0, "order": "C", "filters": None}


def with_(**kw):
    d = dict(GOOD)
    for k, v in kw.items():
        if v is ...:
            d.pop(k)
        else:
            d[k] = v
    return json.dumps(d).encode()


# (id, .zarray bytes, expected error, words the message must contain)
METADATA_CASES = [
    ("truncated-json", b'{"zarr_format": 2, "shape": [4', MetadataError, ["a/.zarray", "invalid JSON at byte"]),
    ("not-an-object", b"[1, 2]", MetadataError, ["a/.zarray", "JSON object"]),
    ("not-utf8", b'{"shape": "\xff\xfe"}', MetadataError, ["a/.zarray", "UTF-8"]),
    ("empty", b"", MetadataError, ["a/.zarray", "invalid JSON"]),
    ("missing-shape", with_(shape=...), MetadataError, ["a/.zarray:shape", "missing"]),
    ("missing-dtype", with_(dtype=...), MetadataError, ["a/.zarray:dtype", "missing"]),
    ("missing-compressor", with_(compressor=...), MetadataError, ["a/.zarray:compressor", "missing"]),
    ("format-3", with_(zarr_format=3), MetadataError, ["a/.zarray:zarr_format", "expected 2"]),
    ("negative-shape", with_(shape=[4, -1]), MetadataError, ["a/.zarray:shape[1]", "non-negative"]),
    ("string-shape", with_(shape="4,4"), MetadataError, ["a/.zarray:shape", "list of integers"]),
    ("float-shape", with_(shape=[4.0, 4]), MetadataError, ["a/.zarray:shape", "list of integers"]),
    ("zero-chunk", with_(chunks=[0, 2]), MetadataError, ["a/.zarray:chunks[0]", "positive"]),
    ("chunk-rank", with_(chunks=[2]), MetadataError, ["a/.zarray:chunks", "1 dimensions, shape has 2"]),
    ("bad-order", with_(order="X"), MetadataError, ["a/.zarray:order", "'C' or 'F'"]),
    ("bad-separator", with_(dimension_separator="-"), MetadataError, ["a/.zarray:dimension_separator"]),
    ("unknown-dtype", with_(dtype="<x4"), DtypeError, ["a/.zarray:dtype", "'<x4'"]),
    ("no-byteorder-f4", with_(dtype="|f4"), DtypeError, ["a/.zarray:dtype", "'|f4'", "byte order"]),
    ("bad-int-size", with_(dtype="<i9"), DtypeError, ["a/.zarray:dtype", "'<i9'"]),
    ("datetime-no-unit", with_(dtype="<M8"), DtypeError, ["a/.zarray:dtype", "unit"]),
    ("string-no-size", with_(dtype="<S"), DtypeError, ["a/.zarray:dtype", "'<S'"]),
    ("bad-struct-field", with_(dtype=[["a", "<i4"], ["b"]]), DtypeError, ["a/.zarray:dtype[1]"]),
    ("float-fill-word", with_(fill_value="abc"), MetadataError, ["a/.zarray:fill_value", "'abc'"]),
    ("int-fill-overflow", with_(dtype="|u1", fill_value=300), MetadataError, ["a/.zarray:fill_value", "does not fit"]),
    ("int-fill-string", with_(dtype="<i4", fill_value="1"), MetadataError, ["a/.zarray:fill_value", "integer"]),
    ("bool-fill-string", with_(dtype="|b1", fill_value="yes"), MetadataError, ["a/.zarray:fill_value", "true or false"]),
    ("bytes-fill-bad-base64", with_(dtype="|S4", fill_value="***"), MetadataError, ["a/.zarray:fill_value", "base64"]),
    ("bytes-fill-too-long", with_(dtype="|S2", fill_value="YWJjZA=="), MetadataError, ["a/.zarray:fill_value", "holds 2"]),
    ("void-fill-wrong-size", with_(dtype="|V4", fill_value="AAA="), MetadataError, ["a/.zarray:fill_value", "needs 4"]),
    ("complex-fill-3", with_(dtype="<c16", fill_value=[1, 2, 3]), MetadataError, ["a/.zarray:fill_value", "[real, imag]"]),
    ("unicode-fill-too-long", with_(dtype="<U2", fill_value="abc"), MetadataError, ["a/.zarray:fill_value", "longer"]),
    ("datetime-fill-float", with_(dtype="<M8[s]", fill_value=1.5), MetadataError, ["a/.zarray:fill_value", "64-bit integer"]),
    ("unknown-compressor", with_(compressor={"id": "nosuchcodec"}), CodecError, ["a/.zarray:compressor", "nosuchcodec"]),
    ("unknown-filter", with_(filters=[{"id": "zlib"}, {"id": "bogus"}]), CodecError, ["a/.zarray:filters[1]", "bogus"]),
    ("compressor-no-id", with_(compressor={"level": 1}), MetadataError, ["a/.zarray:compressor", "'id'"]),
    ("filters-not-list", with_(filters={"id": "zlib"}), MetadataError, ["a/.zarray:filters", "list"]),
    ("object-without-codec", with_(dtype="|O", fill_value=None), MetadataError, ["a/.zarray:filters", "object codec"]),
    ("shape-overflow", with_(shape=[2**40, 2**40], chunks=[1, 1]), MetadataError, ["a/.zarray:shape", "2^63"]),
    ("absurd-chunk", with_(shape=[10**6, 10**6], chunks=[10**6, 10**6]), MetadataError, ["a/.zarray:chunks", "exceeds the limit"]),
    ("huge-int-shape", with_(shape=[2**70]), MetadataError, ["a/.zarray:shape[0]", "64-bit"]),
]


@pytest.mark.parametrize("case", METADATA_CASES, ids=[c[0] for c in METADATA_CASES])
def test_bad_metadata(tmp_path, case):
    _, doc, err, words = case
    store = open_store(str(tmp_path), "w")
    store.set("a/.zarray", doc)
    with pytest.raises(err) as e:
        pz.open_array(store, "a")
    msg = str(e.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert isinstance(e.value, PolyZarrError) and e.value.category == err.__name__


def _array_with_chunk(tmp_path, chunk: bytes, compressor=None, dtype="<f8", key="0.0"):
    store = open_store(str(tmp_path), "w")
    store.set("a/.zarray", with_(compressor=compressor, dtype=dtype))
    store.set(f"a/{key}", chunk)
    return pz.open_array(store, "a")


CHUNK_CASES = [
    ("raw-too-short", lambda: bytes(31), None, ChunkError, ["a/0.0", "31 bytes, expected 32"]),
    ("raw-too-long", lambda: bytes(40), None, ChunkError, ["a/0.0", "40 bytes, expected 32"]),
    ("zlib-wrong-size", lambda: numcodecs.Zlib(1).encode(bytes(24)), {"id": "zlib", "level": 1}, ChunkError, ["a/0.0", "24 bytes"]),
    ("zlib-corrupt", lambda: b"\x78\x9c garbage garbage", {"id": "zlib", "level": 1}, CodecError, ["a/0.0", "zlib decode failed"]),
    ("zstd-truncated", lambda: numcodecs.Zstd(0).encode(np.arange(4.0).tobytes() * 2)[:-3], {"id": "zstd", "level": 0}, CodecError, ["a/0.0", "zstd"]),  # truncated: before its 64-byte header is compared
    ("blosc-garbage", lambda: b"\x02\x01\x21\x08" + bytes(12), {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}, ChunkError, ["a/0.0", "blosc header says 0 compressed bytes, the chunk has 16"]),
    ("lz4-absurd-header", lambda: b"\xff\xff\xff\x7f" + b"\x00" * 8, {"id": "lz4", "acceleration": 1}, ChunkError, ["a/0.0", "lz4 size prefix says 2147483647 bytes"]),
    ("bz2-corrupt", lambda: b"BZh9" + bytes(20), {"id": "bz2", "level": 1}, CodecError, ["a/0.0", "bz2"]),
    ("lzma-truncated", lambda: numcodecs.LZMA().encode(bytes(32))[:10], {"id": "lzma"}, CodecError, ["a/0.0", "lzma"]),
]


@pytest.mark.parametrize("case", CHUNK_CASES, ids=[c[0] for c in CHUNK_CASES])
def test_bad_chunks(tmp_path, case):
    _, make, comp, err, words = case
    arr = _array_with_chunk(tmp_path, make(), comp)
    with pytest.raises(err) as e:
        arr[...]
    for w in words:
        assert w in str(e.value), f"{w!r} not in {str(e.value)!r}"


@pytest.mark.parametrize("key", ["../x", "a/../../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "a\x00b", "", "a/"])
def test_bad_keys(tmp_path, key):
    store = open_store(str(tmp_path), "w")
    with pytest.raises(PathError) as e:
        store.set(key, b"x")
    assert repr(key) in repr(e.value.key) or e.value.key == key
    with pytest.raises(PathError):
        store.get(key)
    assert list(tmp_path.iterdir()) == []


def test_array_path_traversal_rejected(tmp_path):
    with pytest.raises(PathError):
        pz.create_array(open_store(str(tmp_path / "s"), "w"), "../escape", (2,), "<i4")
    assert not (tmp_path / "escape").exists()


def test_read_larger_than_limit_refused_before_allocating(tmp_path, monkeypatch):
    store = open_store(str(tmp_path), "w")
    store.set("a/.zarray", with_(shape=[10**9, 10**6], chunks=[1000, 1000]))
    arr = pz.open_array(store, "a")
    with pytest.raises(MetadataError) as e:
        arr[...]
    assert "a/.zarray" in str(e.value) and "POLYZARR_MAX_BYTES" in str(e.value)
    monkeypatch.setenv("POLYZARR_MAX_BYTES", "100")
    with pytest.raises(MetadataError):
        arr[0:4, 0:4]  # 128 bytes > 100
    assert arr[0:3, 0:4].shape == (3, 4)  # 96 bytes is fine, all fill


def test_missing_array(tmp_path):
    with pytest.raises(MetadataError) as e:
        pz.open_array(open_store(str(tmp_path)), "nope")
    assert "nope/.zarray" in str(e.value) and "missing" in str(e.value)


@pytest.mark.parametrize("name,doc,words", [
    ("attrs", b"{not json", ["a/.zattrs", "invalid JSON"]),
    ("attrs-list", b"[]", ["a/.zattrs", "JSON object"]),
])
def test_bad_attributes(tmp_path, name, doc, words):
    store = open_store(str(tmp_path), "w")
    store.set("a/.zarray", with_())
    store.set("a/.zattrs", doc)
    with pytest.raises(MetadataError) as e:
        pz.open_array(store, "a").attrs
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("doc,words", [
    (b'{"metadata": {}, "zarr_consolidated_format": 2}', [".zmetadata:zarr_consolidated_format", "expected 1"]),
    (b'{"metadata": [], "zarr_consolidated_format": 1}', [".zmetadata:metadata"]),
    (b'{"metadata"', [".zmetadata", "invalid JSON"]),
])
def test_bad_consolidated(tmp_path, doc, words):
    store = open_store(str(tmp_path), "w")
    store.set(".zmetadata", doc)
    with pytest.raises(MetadataError) as e:
        list(pz.walk(store))
    for w in words:
        assert w in str(e.value)


def test_existing_array_not_overwritten(tmp_path):
    store = open_store(str(tmp_path), "w")
    a = pz.create_array(store, "a", (4,), "<i4", chunks=(2,))
    a[...] = [1, 2, 3, 4]
    before = {k: store.get(k) for k in store.list()}
    with pytest.raises(StoreError) as e:
        pz.create_array(store, "a", (8,), "<f8")
    assert "a/.zarray" in str(e.value) and "overwrite" in str(e.value)
    assert {k: store.get(k) for k in store.list()} == before


def test_failed_write_keeps_stored_data(tmp_path):
    store = open_store(str(tmp_path), "w")
    a = pz.create_array(store, "a", (4,), "<i4", chunks=(2,))
    a[...] = [1, 2, 3, 4]
    with pytest.raises(ValueError):
        a[...] = np.arange(5)  # wrong shape: refused before touching the store
    with pytest.raises((ValueError, OverflowError)):
        a[0:2] = ["x", "y"]
    assert a[...].tolist() == [1, 2, 3, 4]
    assert not any(k.endswith(".partial") for k in store.list())


def test_read_only_store(tmp_path):
    pz.create_array(open_store(str(tmp_path), "w"), "a", (2,), "<i4")
    ro = open_store(str(tmp_path), "r")
    with pytest.raises(StoreError) as e:
        pz.open_array(ro, "a")[...] = [1, 2]
    assert "read-only" in str(e.value) and "a/0" in str(e.value)


@pytest.mark.s3
def test_s3_access_denied(s3_bucket, moto_endpoint):
    import fsspec

    from polyzarr.stores import FsspecStore

    w = open_store(f"{s3_bucket}/x.zarr", "w")
    pz.create_array(w, "a", (2,), "<i4")
    anon = FsspecStore(fsspec.filesystem("s3", anon=True, client_kwargs={"endpoint_url": moto_endpoint}, skip_instance_cache=True),
                       f"{s3_bucket[5:]}/x.zarr", f"{s3_bucket}/x.zarr", read_only=True)
    with pytest.raises(StoreError) as e:
        anon.get("a/.zarray")
    assert "a/.zarray" in str(e.value) and "denied" in str(e.value)


@pytest.mark.s3
def test_s3_unreachable_endpoint(monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_store("s3://bucket/x.zarr", "r", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StoreError) as e:
        store.get("a/.zarray")
    assert "a/.zarray" in str(e.value)


def test_check_key_accepts_normal_keys():
    for k in ["a", ".zarray", "g/a/0.1", "g/a/0/1/2", "name with spaces/x", "ünï/ç"]:
        assert check_key(k) == k
