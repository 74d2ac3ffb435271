"""Issue 15: no silent wrong data, no escape from the store root, no crash, no blow-up (docs/CONTRACT.md "Write
guarantees", "Store-root confinement", "Bounded decoding", "Concurrent writers"). Real files: symbolic links,
FIFOs, sockets, truncated and bombed chunks, killed imports, two writing processes."""
from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numcodecs
import numpy as np
import pytest

import polyzarr as pz
from polyzarr.arrays import write_new_array
from polyzarr.errors import ChunkError, DtypeError, MetadataError, PathError, PolyZarrError, StoreError
from polyzarr.stores import MARKER, LocalStore, Store, open_store
from polyzarr.verbs import export_tree

PY = sys.executable


def cli(*args, timeout=60):
    return subprocess.run([PY, "-m", "polyzarr", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def make_array(root, path="a", x=None, **kw):
    x = np.arange(40, dtype="<i8").reshape(10, 4) if x is None else x
    store = open_store(str(root), "w")
    kw.setdefault("chunks", (3, 4))
    arr = pz.create_array(store, path, x.shape, x.dtype, **kw)
    arr[...] = x
    return x


# ---------------------------------------------------------------------------------------------------------
# Write protocol


class Recording(Store):
    """A dict store that records every set and delete, in order."""

    def __init__(self):
        self.files, self.ops, self.url = {}, [], "rec://"

    def get(self, key):
        return self.files.get(key)

    def set(self, key, value):
        self.ops.append(("set", key))
        self.files[key] = bytes(value)

    def delete(self, key):
        self.ops.append(("delete", key))
        self.files.pop(key, None)

    def list(self, prefix=""):
        return sorted(k for k in self.files if k.startswith(prefix))


@pytest.mark.parametrize("fmt", [2, 3])
def test_import_writes_marker_first_metadata_last(fmt):
    store = Recording()
    x = np.arange(30, dtype="<f4").reshape(6, 5)
    write_new_array(store, "g/a", x, chunks=(2, 5), attributes={"u": 1}, zarr_format=fmt)
    sets = [k for op, k in store.ops if op == "set"]
    meta = ["g/a/.zarray", "g/a/.zattrs"] if fmt == 2 else ["g/a/zarr.json"]
    assert sets[0] == f"g/a/{MARKER}"
    assert sets[-len(meta):] == meta  # after every chunk
    assert len(sets) == 1 + 3 + len(meta)
    assert store.ops[-1] == ("delete", f"g/a/{MARKER}")
    assert np.array_equal(pz.open_array(store, "g/a")[...], x)


def test_failed_import_deletes_what_it_wrote():
    class Failing(Recording):
        def set(self, key, value):
            if key.endswith("/2.0"):
                raise StoreError(key, "disk full")
            super().set(key, value)

    store = Failing()
    with pytest.raises(StoreError, match="disk full"):
        write_new_array(store, "a", np.arange(40.0).reshape(10, 4), chunks=(2, 4))
    assert store.files == {}  # chunks 0 and 1 and the marker removed again; no metadata ever written


def test_marker_makes_an_array_unreadable(tmp_path):
    make_array(tmp_path / "s.zarr")
    (tmp_path / "s.zarr/a" / MARKER).write_text(json.dumps({"writer": "polyzarr-python", "pid": 4242, "started": "T0"}))
    with pytest.raises(StoreError) as e:
        pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")
    assert e.value.key == f"a/{MARKER}" and "pid 4242" in str(e.value) and "did not finish" in str(e.value)
    r = cli("export", tmp_path / "s.zarr", tmp_path / "out")
    assert r.returncode == 1 and "FAILED a: StoreError" in r.stdout and "incomplete" in r.stdout
    assert not (tmp_path / "out/a.npy").exists()


def test_region_write_marker_is_removed(tmp_path):
    make_array(tmp_path / "s.zarr")
    arr = pz.open_array(open_store(str(tmp_path / "s.zarr"), "a"), "a")
    arr[2:5, 1] = [7, 8, 9]
    assert not (tmp_path / "s.zarr/a" / MARKER).exists()
    assert list(pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[2:5, 1]) == [7, 8, 9]


def test_overwrite_swaps_and_leaves_no_temporaries(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(12, dtype="<i4"))
    np.save(tmp_path / "y.npy", np.arange(5, dtype="<f8") / 2)
    assert cli("import", tmp_path / "x.npy", tmp_path / "s.zarr/g/a", "--chunks", "5").returncode == 0
    r = cli("import", tmp_path / "y.npy", tmp_path / "s.zarr/g/a", "--overwrite", "--zarr-format", "3")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "s.zarr/g")) == [".zgroup", "a"]
    assert sorted(os.listdir(tmp_path / "s.zarr/g/a")) == ["c", "zarr.json"]
    assert np.array_equal(pz.open_array(open_store(str(tmp_path / "s.zarr")), "g/a")[...], np.arange(5) / 2)


def test_overwrite_through_a_directory_link_is_refused(tmp_path):
    outside = tmp_path / "outside"
    make_array(outside, "a")
    (outside / "keep.txt").write_text("precious")
    before = sorted(os.listdir(outside / "a"))
    store = tmp_path / "st.zarr"
    store.mkdir()
    (store / "link").symlink_to(outside)
    np.save(tmp_path / "x.npy", np.zeros(3))
    r = cli("import", tmp_path / "x.npy", store / "link/a", "--overwrite")
    assert r.returncode == 1 and "PathError" in r.stderr and "symbolic link" in r.stderr
    assert sorted(os.listdir(outside / "a")) == before and (outside / "keep.txt").read_text() == "precious"


IMPORT_SLOWLY = textwrap.dedent("""
    import sys
    from polyzarr.verbs import import_npy
    npy, dest, overwrite, fmt = sys.argv[1:]
    import_npy(npy, dest, chunks=(1,), compressor={"id": "zlib", "level": 9}, overwrite=overwrite == "1",
               zarr_format=int(fmt))
""")


def _kill_mid_import(tmp_path, npy, overwrite, fmt, after):
    """Start an import of one chunk a row, kill -9 it once ``after`` files are in the store."""
    p = subprocess.Popen([PY, "-c", IMPORT_SLOWLY, str(npy), str(tmp_path / "s.zarr/a"), "1" if overwrite else "0", str(fmt)])
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and p.poll() is None:
        if sum(len(f) for _, _, f in os.walk(tmp_path / "s.zarr")) >= after:
            break
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.wait()


@pytest.mark.parametrize("fmt", [2, 3])
def test_kill_9_during_import_never_reads_as_complete(tmp_path, fmt):
    x = np.arange(1, 3001, dtype="<i8")  # 3000 chunks: the kill lands mid-way
    np.save(tmp_path / "x.npy", x)
    outcomes = set()
    for after in (3, 400, 1500):
        _kill_mid_import(tmp_path, tmp_path / "x.npy", False, fmt, after)
        exported, failed = export_tree(str(tmp_path / "s.zarr"), str(tmp_path / "out"), log=lambda s: None)
        if exported:  # the import finished before the kill: then it is complete
            assert np.array_equal(np.load(tmp_path / "out/a.npy"), x)
            outcomes.add("complete")
        else:  # otherwise an error naming the marker — never an array of fill values
            assert failed and all(f["category"] == "StoreError" and MARKER in f["message"] for f in failed), failed
            with pytest.raises(StoreError, match="incomplete"):
                pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")
            outcomes.add("incomplete")
        subprocess.run(["rm", "-rf", str(tmp_path / "s.zarr"), str(tmp_path / "out")], check=True)
    assert "incomplete" in outcomes  # at least one kill landed mid-way


def test_kill_9_during_local_overwrite_keeps_old_or_new(tmp_path):
    old = np.full(3000, 7, dtype="<i8")
    new = np.arange(3000, dtype="<i8")
    np.save(tmp_path / "old.npy", old)
    np.save(tmp_path / "new.npy", new)
    assert cli("import", tmp_path / "old.npy", tmp_path / "s.zarr/a", "--chunks", "100").returncode == 0
    _kill_mid_import(tmp_path, tmp_path / "new.npy", True, 2, 600)
    got = pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[...]
    assert np.array_equal(got, old) or np.array_equal(got, new)
    left = [n for n in os.listdir(tmp_path / "s.zarr") if n not in (".zgroup", "a")]
    assert all(n.startswith(".a.polyzarr-") for n in left), left  # only the unfinished sibling
    r = cli("export", tmp_path / "s.zarr", tmp_path / "out")
    assert r.returncode == 0 and r.stdout.count("exported") == 1


# ---------------------------------------------------------------------------------------------------------
# Store-root confinement


def test_chunk_symlinks_are_not_followed(tmp_path):
    make_array(tmp_path / "s.zarr")
    secret = tmp_path / "secret"
    np.arange(12, dtype="<i8").tofile(secret)
    os.remove(tmp_path / "s.zarr/a/0.0")
    os.symlink(secret, tmp_path / "s.zarr/a/0.0")
    os.remove(tmp_path / "s.zarr/a/1.0")
    os.symlink("/dev/zero", tmp_path / "s.zarr/a/1.0")
    arr = pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")
    for sel in (np.s_[0:3], np.s_[3:6]):
        with pytest.raises(PathError, match="symbolic link"):
            arr[sel]
    assert os.path.getsize(secret) == 96  # nothing written through either


def test_fifo_socket_and_directory_chunks_are_path_errors_without_hanging(tmp_path):
    make_array(tmp_path / "s.zarr")
    a = tmp_path / "s.zarr/a"
    for name in ("0.0", "1.0", "2.0"):
        os.remove(a / name)
    os.mkfifo(a / "0.0")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(a / "1.0"))
    os.mkdir(a / "2.0")
    arr = pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")
    t0 = time.monotonic()
    for sel, what in ((np.s_[0:3], "FIFO"), (np.s_[3:6], "socket"), (np.s_[6:9], "directory")):
        with pytest.raises(PathError, match=what):
            arr[sel]
    assert time.monotonic() - t0 < 5
    assert sorted(LocalStore(str(tmp_path / "s.zarr")).list("a")) == ["a/.zarray", "a/3.0"]  # specials skipped
    sock.close()
    r = cli("export", tmp_path / "s.zarr", tmp_path / "out", timeout=30)  # the CLI neither
    assert r.returncode == 1 and "FAILED a: PathError" in r.stdout


def test_listing_never_descends_into_linked_directories(tmp_path):
    make_array(tmp_path / "outside.zarr", "b")
    make_array(tmp_path / "s.zarr", "a")
    os.symlink(tmp_path / "outside.zarr", tmp_path / "s.zarr/link")
    r = cli("export", tmp_path / "s.zarr", tmp_path / "out")
    assert r.returncode == 0 and "exported a" in r.stdout and "link" not in r.stdout
    with pytest.raises(PathError, match="link is a symbolic link"):
        pz.open_array(open_store(str(tmp_path / "s.zarr")), "link/b")


def test_export_replaces_links_in_outdir_never_writes_through(tmp_path):
    make_array(tmp_path / "s.zarr", "a")
    make_array(tmp_path / "s.zarr", "g/b")
    out, victim, victim_dir = tmp_path / "out", tmp_path / "victim.txt", tmp_path / "victim_dir"
    out.mkdir()
    victim_dir.mkdir()
    victim.write_text("keep")
    os.symlink(victim, out / "a.npy")
    os.symlink(victim_dir, out / "g")
    r = cli("export", tmp_path / "s.zarr", out)
    assert r.returncode == 1 and "FAILED g/b: PathError" in r.stdout and "exported a" in r.stdout
    assert victim.read_text() == "keep" and os.listdir(victim_dir) == []
    assert not os.path.islink(out / "a.npy") and np.load(out / "a.npy").shape == (10, 4)


def _zip_of(tmp_path, skip=()):
    make_array(tmp_path / "s.zarr", "a")
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for root, _, files in os.walk(tmp_path / "s.zarr"):
            for f in files:
                p = os.path.join(root, f)
                if os.path.relpath(p, tmp_path / "s.zarr") not in skip:
                    zf.write(p, os.path.relpath(p, tmp_path / "s.zarr"))
    return z


@pytest.mark.parametrize("field", ["size", "count"])
def test_zip_with_a_bad_central_directory_is_a_store_error(tmp_path, field):
    z = _zip_of(tmp_path)
    data = bytearray(z.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    if field == "size":
        struct.pack_into("<I", data, end + 12, 0)
    else:
        struct.pack_into("<HH", data, end + 8, 1, 1)
    z.write_bytes(bytes(data))
    r = cli("export", z, tmp_path / "out")
    assert r.returncode == 1 and "StoreError" in r.stderr and "central directory" in r.stderr


def test_zip_symlink_member_is_refused(tmp_path):
    z = _zip_of(tmp_path, skip=("a/1.0",))
    with zipfile.ZipFile(z, "a") as zf:
        info = zipfile.ZipInfo("a/1.0")
        info.external_attr = 0o120777 << 16  # a symbolic link, by its Unix mode
        zf.writestr(info, "/etc/passwd")
    arr = pz.open_array(open_store(str(z)), "a")
    assert arr[0:3].shape == (3, 4)
    with pytest.raises(PathError, match="symbolic link"):
        arr[3:6]


# ---------------------------------------------------------------------------------------------------------
# Bounded decoding


def test_blosc_truncated_by_one_byte_is_a_chunk_error(tmp_path):
    x = np.random.default_rng(1).normal(size=(10, 4))
    make_array(tmp_path / "s.zarr", "a", x, compressor={"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1})
    p = tmp_path / "s.zarr/a/0.0"
    data = p.read_bytes()
    p.write_bytes(data[:-1])
    with pytest.raises(ChunkError) as e:
        pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[...]
    assert e.value.key == "a/0.0" and f"header says {len(data)} compressed bytes, the chunk has {len(data) - 1}" in str(e.value)


BOMBS = textwrap.dedent("""
    import bz2, json, lzma, resource, struct, sys, zlib
    import numpy as np
    import polyzarr as pz
    from polyzarr.errors import PolyZarrError
    from polyzarr.stores import open_store
    N = 256 * 2**20  # what each bomb decodes to
    def stream(c):
        piece = bytes(2**20)
        return b"".join([c.compress(piece) for _ in range(N // len(piece))] + [c.flush()])
    rle = ((128 * 1024) << 3 | 2).to_bytes(3, "little") + b"\\0"
    last = ((128 * 1024) << 3 | 3).to_bytes(3, "little") + b"\\0"
    bombs = {
        "zstd": (0xFD2FB528).to_bytes(4, "little") + b"\\x00\\x58" + rle * (N // 2**17 - 1) + last,
        "zlib": stream(zlib.compressobj(1)),
        "gzip": stream(zlib.compressobj(1, zlib.DEFLATED, 31)),
        "bz2": stream(bz2.BZ2Compressor(9)),
        "lzma": stream(lzma.LZMACompressor()),
        "lz4": N.to_bytes(4, "little") + b"\\x00",
        "blosc": bytes([2, 1, 1, 8]) + struct.pack("<III", N, 2**16, 16 + 16),
        "vlen": struct.pack("<I", 2**31 - 1) + bytes(16),
    }
    comp = {"zstd": {"id": "zstd", "level": 1}, "zlib": {"id": "zlib", "level": 1}, "gzip": {"id": "gzip", "level": 1},
            "bz2": {"id": "bz2", "level": 1}, "lzma": {"id": "lzma"}, "lz4": {"id": "lz4"},
            "blosc": {"id": "blosc"}, "vlen": None}
    root = sys.argv[1]
    results = {}
    for name, chunk in bombs.items():
        st = open_store(f"{root}/{name}.zarr", "w")
        if name == "vlen":
            pz.create_array(st, "a", (4,), object, chunks=(4,), compressor=None, object_codec="vlen-utf8")
        else:
            pz.create_array(st, "a", (4,), "<i8", chunks=(4,), compressor=comp[name])
        st.set("a/0", chunk)
    del bombs, chunk
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in comp:
        try:
            pz.open_array(open_store(f"{root}/{name}.zarr"), "a")[...]
            results[name] = "read"
        except PolyZarrError as e:
            results[name] = e.describe()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"grown_kib": grown, "results": results}))
""")


def test_decompression_bombs_are_refused_before_allocating(tmp_path):
    r = subprocess.run([PY, "-c", BOMBS, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for name, res in out["results"].items():
        assert res.startswith(("ChunkError: a/0:", "CodecError: a/0:")), (name, res)
    assert out["grown_kib"] < 64 * 1024, out  # 256 MiB per bomb; a few MiB of work at most


def test_a_huge_chunk_file_is_refused_before_reading(tmp_path):
    make_array(tmp_path / "s.zarr", "a", compressor={"id": "zlib", "level": 1})
    with open(tmp_path / "s.zarr/a/0.0", "r+b") as f:
        f.truncate(8 * 2**30)  # sparse: 8 GiB that reading would have to allocate
    t0 = time.monotonic()
    with pytest.raises(ChunkError, match="more than a chunk of this array can encode to"):
        pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[...]
    assert time.monotonic() - t0 < 2


def test_a_zip_member_bomb_is_refused_before_inflating(tmp_path):
    z = _zip_of(tmp_path, skip=("a/0.0",))
    with zipfile.ZipFile(z, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a/0.0", "w", force_zip64=True) as f:
            for _ in range(256):
                f.write(bytes(2**20))  # 256 MiB of zeros, a few hundred KiB in the archive
    with pytest.raises(ChunkError, match="268435456 bytes, more than"):
        pz.open_array(open_store(str(z)), "a")[0:3]


def test_shard_index_out_of_bounds_is_a_chunk_error(tmp_path):
    x = np.arange(24, dtype="<i4").reshape(4, 6)
    store = open_store(str(tmp_path / "s.zarr"), "w")
    pz.create_array(store, "a", x.shape, x.dtype, chunks=(2, 3), shards=(4, 6), zarr_format=3,
                    codecs=[{"name": "bytes", "configuration": {"endian": "little"}}])[...] = x
    p = tmp_path / "s.zarr/a/c/0/0"
    data = bytearray(p.read_bytes())
    idx = len(data) - (16 * 4 + 4)
    struct.pack_into("<QQ", data, idx, 2**40, 24)  # inner chunk 0 far beyond the shard
    data[-4:] = bytes(numcodecs.CRC32C().encode(bytes(data[idx: idx + 64])))[-4:]  # a valid index checksum
    p.write_bytes(bytes(data))
    arr = pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")
    for sel in (np.s_[...], np.s_[0:1, 0:1]):
        with pytest.raises(ChunkError, match="outside the shard|expected 24 bytes"):
            arr[sel]


# ---------------------------------------------------------------------------------------------------------
# Every failure in the vocabulary; one array's failure never stops the export


def _store_with(tmp_path, doc_key, text):
    make_array(tmp_path / "s.zarr", "good")
    make_array(tmp_path / "s.zarr", "bad")
    (tmp_path / "s.zarr" / doc_key).write_bytes(text)
    return cli("export", tmp_path / "s.zarr", tmp_path / "out")


@pytest.mark.parametrize("doc", [".zarray", ".zattrs"])
def test_5000_digit_integer_fails_one_array(tmp_path, doc):
    big = "9" * 5000
    if doc == ".zarray":
        text = '{"zarr_format": 2, "shape": [' + big + '], "chunks": [1], "dtype": "<i4", "compressor": null, "fill_value": 0, "order": "C", "filters": null}'
    else:
        text = '{"n": ' + big + "}"
    r = _store_with(tmp_path, f"bad/{doc}", text.encode())
    assert r.returncode == 1 and "exported good" in r.stdout and "Traceback" not in r.stderr
    assert f"FAILED bad: MetadataError: bad/{doc}: invalid JSON" in r.stdout and "4300 digits" in r.stdout


def test_lone_surrogate_fails_one_array(tmp_path):
    r = _store_with(tmp_path, "bad/.zattrs", b'{"name": "\\ud800x"}')
    assert r.returncode == 1 and "exported good" in r.stdout and "lone surrogate" in r.stdout
    assert "Traceback" not in r.stderr


def test_deep_json_is_a_metadata_error(tmp_path):
    r = _store_with(tmp_path, "bad/.zattrs", ('{"a": ' + "[" * 500 + "]" * 500 + "}").encode())
    assert r.returncode == 1 and "exported good" in r.stdout and "FAILED bad: MetadataError" in r.stdout


V3 = {"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32",
      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
      "chunk_key_encoding": {"name": "default"}, "fill_value": 0,
      "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
V2 = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<f8", "compressor": None, "fill_value": 0.0,
      "order": "C", "filters": None}


def _v(doc, **kw):
    d = json.loads(json.dumps(doc))
    d.update(kw)
    return d


BAD_DOCS = [
    ("grid-config-string", "zarr.json", _v(V3, chunk_grid={"name": "regular", "configuration": "chunk_shape"}), MetadataError),
    ("codec-config-list", "zarr.json", _v(V3, codecs=[{"name": "bytes", "configuration": [1]}]), MetadataError),
    ("huge-subarray", ".zarray", _v(V2, dtype=[["a", "<i4", [2**31, 2**31]]]), DtypeError),
    ("huge-subarray-3d", ".zarray", _v(V2, dtype=[["a", "<f8", [10**6, 10**6, 10**6]]]), DtypeError),
    ("scale-zero", ".zarray", _v(V2, filters=[{"id": "fixedscaleoffset", "offset": 0, "scale": 0, "dtype": "<f8", "astype": "<i4"}]), MetadataError),
    ("scale-nan", ".zarray", _v(V2, filters=[{"id": "fixedscaleoffset", "offset": 0, "scale": float("nan"), "dtype": "<f8"}]), MetadataError),
    ("vlen-as-bool", ".zarray", _v(V2, dtype="|b1", fill_value=False, filters=[{"id": "vlen-utf8"}]), MetadataError),
    ("vlen-as-compressor", ".zarray", _v(V2, compressor={"id": "vlen-utf8"}), MetadataError),
    ("json2-as-compressor", ".zarray", _v(V2, compressor={"id": "json2"}), MetadataError),
    ("v3-vlen-as-int", "zarr.json", _v(V3, codecs=[{"name": "vlen-utf8"}]), MetadataError),
    ("rectilinear-huge-run", "zarr.json", _v(V3, chunk_grid={"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [[[1, 2**40]]]}}), MetadataError),
    ("transpose-junk", "zarr.json", _v(V3, codecs=[{"name": "transpose", "configuration": {"order": [[0]]}}, V3["codecs"][0]]), PolyZarrError),
]


@pytest.mark.parametrize("case", BAD_DOCS, ids=[c[0] for c in BAD_DOCS])
def test_semantically_invalid_metadata(tmp_path, case):
    _, name, doc, err = case
    store = open_store(str(tmp_path / "s.zarr"), "w")
    store.set(f"a/{name}", json.dumps(doc).encode())
    with pytest.raises(err) as e:
        pz.open_array(store, "a")[...]
    assert e.value.key.startswith(f"a/{name}"), e.value.key


def test_vlen_relabelled_bool_never_reads_as_booleans(tmp_path):
    x = np.array(["", "yes", "no", ""], dtype=object)
    store = open_store(str(tmp_path / "s.zarr"), "w")
    pz.create_array(store, "a", x.shape, object, chunks=(4,), object_codec="vlen-utf8")[...] = x
    doc = json.loads((tmp_path / "s.zarr/a/.zarray").read_text())
    doc.update(dtype="|b1", fill_value=False)
    (tmp_path / "s.zarr/a/.zarray").write_text(json.dumps(doc))
    with pytest.raises(MetadataError, match="object codec"):
        pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[...]


def test_export_of_a_missing_src_is_an_error(tmp_path):
    r = cli("export", tmp_path / "nothing.zarr", tmp_path / "out")
    assert r.returncode == 1 and "StoreError" in r.stderr and "no such file" in r.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------------------
# Concurrent writers


WRITER = textwrap.dedent("""
    import os, sys, time, numpy as np
    import polyzarr as pz
    from polyzarr.stores import open_store
    arr = pz.open_array(open_store(sys.argv[1], "a"), "a")
    part, n = int(sys.argv[2]), 2
    open(sys.argv[1] + f".ready{part}", "w").close()
    while not all(os.path.exists(sys.argv[1] + f".ready{k}") for k in (0, 1)):  # start together
        time.sleep(0.001)
    for start in range(part * n, 3000, 2 * n):  # every other pair of rows: each chunk is shared
        arr[start:start + n] = np.full((n, 4), part + 1, dtype="<i4")
""")


def test_two_processes_writing_shared_chunks_lose_no_update(tmp_path):
    store = open_store(str(tmp_path / "s.zarr"), "w")
    pz.create_array(store, "a", (3000, 4), "<i4", chunks=(100, 4), compressor={"id": "zlib", "level": 1})
    procs = [subprocess.Popen([PY, "-c", WRITER, str(tmp_path / "s.zarr"), str(k)]) for k in (0, 1)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    got = pz.open_array(open_store(str(tmp_path / "s.zarr")), "a")[...]
    want = np.repeat(np.tile([1, 2], 750), 2)[:, None] * np.ones(4, dtype="<i4")
    assert int((got != want).any(axis=1).sum()) == 0, f"{int((got == 0).any(axis=1).sum())} rows lost"
    assert not (tmp_path / "s.zarr/a" / MARKER).exists()
