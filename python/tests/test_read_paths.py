"""The fast read paths (issue 16): chunks decoded straight into the result, per-thread scratch buffers, sharded
reads by inner chunk with a cached shard index. Every result is compared with zarr-python's own read of the same
store, and every damaged chunk must still be a categorised error naming its key."""

from __future__ import annotations

import os
import time

import numcodecs
import numpy as np
import pytest

import polyzarr as pz
from polyzarr import ChunkError, CodecError, PolyZarrError
from polyzarr.arrays import create_array, open_array
from polyzarr.stores import open_store

zarr = pytest.importorskip("zarr")

ZSTD = {"id": "zstd", "level": 1}
BLOSC = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
LZ4 = {"id": "lz4", "acceleration": 1}


def values(shape, dtype="<f8"):
    k = np.arange(int(np.prod(shape)), dtype="<f8").reshape(shape)
    return np.round(np.sin(k / 7) * 100, 2).astype(dtype)


def zarr_read(path, sel=Ellipsis):
    return zarr.open_array(str(path), mode="r")[sel]


SELECTIONS = [
    Ellipsis,
    (slice(0, 8), slice(0, 6)),  # exactly the first chunk
    (slice(3, 17), slice(2, 13)),  # crossing chunks
    (slice(16, 19), slice(0, 13)),  # the edge (partial) chunks only
    (5, slice(None)),
    (slice(None), 12),
    (18, 12),
    (slice(1, 19, 3), slice(0, 13, 2)),
]


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("compressor", [ZSTD, BLOSC, LZ4, None], ids=["zstd", "blosc", "lz4", "raw"])
def test_v2_reads_equal_zarr_python(tmp_path, order, compressor):
    x = values((19, 13))  # chunks (8, 6): edge chunks on both axes
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), order=order, compressor=compressor)[
        ...
    ] = x
    a = pz.open(str(p))
    for sel in SELECTIONS:
        got = a[sel]
        assert np.array_equal(got, zarr_read(p, sel)), sel
        assert np.array_equal(got, x[sel]), sel


@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_result_layout_follows_the_order(tmp_path, order):
    """A v2 order "F" array reads as a Fortran-ordered result (as zarr-python 3 returns it); "C" as C."""
    x = values((16, 12))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), order=order, compressor=ZSTD)[...] = x
    got = pz.open(str(p))[...]
    assert got.flags["F_CONTIGUOUS" if order == "F" else "C_CONTIGUOUS"]
    assert zarr_read(p).flags["F_CONTIGUOUS" if order == "F" else "C_CONTIGUOUS"]


def test_v2_big_endian_and_3d(tmp_path):
    x = values((5, 7, 9), ">i4")
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(2, 3, 4), compressor=ZSTD)[...] = x
    got = pz.open(str(p))[1:5, 2:7, 3:9]
    assert got.dtype == np.dtype(">i4") and np.array_equal(got, zarr_read(p, (slice(1, 5), slice(2, 7), slice(3, 9))))


@pytest.mark.parametrize("transpose", [None, (1, 0)])
def test_v3_reads_equal_zarr_python(tmp_path, transpose):
    x = values((19, 13))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), zarr_format=3, transpose=transpose)[
        ...
    ] = x
    a = pz.open(str(p))
    for sel in SELECTIONS:
        assert np.array_equal(a[sel], zarr_read(p, sel)), sel


def sharded(tmp_path, x, chunks=(4, 3), shards=(8, 6), **kw):
    p = tmp_path / "s"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=chunks, shards=shards, zarr_format=3, **kw)[
        ...
    ] = x
    return p


@pytest.mark.parametrize("transpose", [None, (1, 0)])
def test_sharded_whole_region_and_point_reads_equal_zarr_python(tmp_path, transpose):
    x = values((19, 13))  # shards (8, 6), inner chunks (4, 3): edge shards hold inner chunks past the array
    p = sharded(tmp_path, x, transpose=transpose)
    a = pz.open(str(p))
    for sel in SELECTIONS:
        assert np.array_equal(a[sel], zarr_read(p, sel)), sel
    for i, j in [(0, 0), (18, 12), (-1, -1), (7, 5), (8, 6), (16, 11)]:
        got = a[i, j]
        assert got.shape == () and got == x[i, j], (i, j)
    with pytest.raises(IndexError):
        a[19, 0]


def test_sharded_reads_with_few_and_many_shards(tmp_path):
    """Fewer shards than threads: the inner chunks are the parallel tasks; many shards: a shard a task."""
    x = values((64, 16))
    one = sharded(tmp_path / "one", x, chunks=(4, 4), shards=(64, 16))
    many = sharded(tmp_path / "many", x, chunks=(4, 4), shards=(8, 8))
    for p in (one, many):
        a = pz.open(str(p))
        assert np.array_equal(a[...], x) and np.array_equal(a[3:61, 1:15], x[3:61, 1:15])


def test_missing_chunks_and_inner_chunks_read_as_fill(tmp_path):
    x = values((16, 12))
    p = tmp_path / "a"
    a = create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), compressor=ZSTD, fill_value=-1.5)
    a[0:8, 0:6] = x[0:8, 0:6]
    got = pz.open(str(p))[...]
    assert np.array_equal(got, zarr_read(p)) and np.all(got[8:, :] == -1.5) and np.all(got[:, 6:] == -1.5)
    s = tmp_path / "s"
    b = create_array(
        open_store(str(s), "w"), "", x.shape, x.dtype, chunks=(4, 3), shards=(8, 6), zarr_format=3, fill_value=7.0
    )
    b[0:4, 0:3] = x[0:4, 0:3]  # one inner chunk of one shard; the other shards are missing
    c = pz.open(str(s))
    assert np.array_equal(c[...], zarr_read(s))
    assert c[5, 5] == 7.0 and c[15, 11] == 7.0 and c[1, 1] == x[1, 1]
    assert np.array_equal(c[2:10, 1:8], zarr_read(s, (slice(2, 10), slice(1, 8))))


def damage(path, how):
    b = bytearray(path.read_bytes())
    if how == "truncate":
        b = b[: len(b) // 2]
    elif how == "garbage":
        b = bytearray(os.urandom(len(b)))
    path.write_bytes(bytes(b))


@pytest.mark.parametrize("compressor", [ZSTD, BLOSC, LZ4, None], ids=["zstd", "blosc", "lz4", "raw"])
@pytest.mark.parametrize("how", ["truncate", "garbage"])
def test_damaged_chunk_in_the_fast_path_names_the_key(tmp_path, compressor, how):
    if compressor is None and how == "garbage":
        pytest.skip("raw bytes of the right length are values")
    x = values((16, 12))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), compressor=compressor)[...] = x
    damage(p / "1.0", how)
    a = pz.open(str(p))
    for sel in (Ellipsis, (slice(9, 11), slice(1, 3))):
        with pytest.raises((ChunkError, CodecError)) as e:
            a[sel]
        assert e.value.key == "1.0", e.value
    assert np.array_equal(a[0:8, :], x[0:8, :])  # the other chunks still read


def test_chunk_of_the_wrong_size_is_a_chunk_error(tmp_path):
    """A well-formed frame that decodes to fewer (or more) bytes than the chunk holds."""
    x = values((16, 12))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), compressor=ZSTD)[...] = x
    for n in (8 * 6 * 8 - 8, 8 * 6 * 8 + 8):
        (p / "0.1").write_bytes(numcodecs.Zstd(level=1).encode(np.zeros(n, np.uint8)))
        with pytest.raises(ChunkError) as e:
            pz.open(str(p))[...]
        assert e.value.key == "0.1"
    (p / "0.1").write_bytes(numcodecs.Blosc().encode(np.zeros(8 * 6 * 8 - 8, np.uint8)))  # zstd array, blosc bytes
    with pytest.raises(PolyZarrError) as e2:
        pz.open(str(p))[...]
    assert e2.value.key == "0.1"


@pytest.mark.parametrize("where", ["whole", "region", "point"])
def test_damaged_inner_chunk_names_the_shard(tmp_path, where):
    x = values((16, 12))
    p = sharded(tmp_path, x)
    shard = p / "c" / "0" / "0"
    a = pz.open(str(p))
    index = a.sharding.index_of(shard.read_bytes(), "k")
    off, n = (int(v) for v in index[0, 0])
    b = bytearray(shard.read_bytes())
    b[off : off + n] = os.urandom(n)
    shard.write_bytes(bytes(b))
    sel = {"whole": Ellipsis, "region": (slice(0, 3), slice(0, 2)), "point": (1, 1)}[where]
    with pytest.raises((ChunkError, CodecError)) as e:
        pz.open(str(p))[sel]
    assert e.value.key == "c/0/0"


def test_truncated_shard_is_a_chunk_error(tmp_path):
    x = values((16, 12))
    p = sharded(tmp_path, x)
    shard = p / "c" / "1" / "1"
    shard.write_bytes(shard.read_bytes()[:10])
    for sel in (Ellipsis, (slice(9, 11), slice(7, 9)), (9, 7)):
        with pytest.raises(ChunkError) as e:
            pz.open(str(p))[sel]
        assert e.value.key == "c/1/1"


def test_shard_index_cache_is_never_stale(tmp_path):
    x = values((16, 12))
    p = sharded(tmp_path, x)
    reader = pz.open(str(p))  # read-only
    writer = pz.open(str(p), mode="r+")
    assert reader[1, 1] == x[1, 1] and np.array_equal(reader[0:3, 0:5], x[0:3, 0:5])
    assert reader._index_cache  # the partial reads cached the shard index
    # another Array object rewrites the shard with different inner chunk sizes (so offsets move)
    y = x.copy()
    y[0:8, 0:6] = np.arange(48, dtype="<f8").reshape(8, 6) * 1e9 + 0.123
    y[4:8, 3:6] = 0.0  # one inner chunk becomes empty (fill)
    writer[0:8, 0:6] = y[0:8, 0:6]
    for i, j in [(1, 1), (5, 4), (7, 0), (2, 5)]:
        assert reader[i, j] == y[i, j], (i, j)
    assert np.array_equal(reader[0:8, 0:6], y[0:8, 0:6])
    # a write through the same Array drops its cached index
    z = y.copy()
    z[0:4, 0:3] = -3.25
    writer[0:4, 0:3] = z[0:4, 0:3]  # a partial shard write: read-modify-write of shard c/0/0
    assert writer[1, 1] == -3.25 and reader[1, 1] == -3.25
    assert np.array_equal(writer[0:8, 0:6], z[0:8, 0:6]) and np.array_equal(reader[...], z)
    # the shard deleted (every inner chunk fill): fill, not the cached index
    writer[0:8, 0:6] = 0.0
    assert not (p / "c" / "0" / "0").exists()
    assert reader[1, 1] == 0.0 and writer[1, 1] == 0.0


def test_shard_index_cache_sees_a_same_size_rewrite(tmp_path):
    """A rewrite of the same size within the same clock tick still renames a new file over the old one."""
    x = values((8, 6))
    p = sharded(tmp_path, x, chunks=(4, 3), shards=(8, 6), codecs=None)
    a = pz.open(str(p))
    assert a[0, 0] == x[0, 0]
    b = pz.open(str(p), mode="r+")
    b[...] = x[::-1].copy()
    t = time.time()
    assert a[0, 0] == x[-1, 0] and np.array_equal(a[0:8, 0:3], x[::-1, 0:3]), time.time() - t


def test_sharded_write_skips_fill_inner_chunks_and_reads_back(tmp_path):
    x = values((16, 12))
    x[0:4, 0:3] = 0.0  # an all-fill inner chunk: not stored
    x[4:8, 3:6] = np.nan
    p = tmp_path / "s"
    a = create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(4, 3), shards=(8, 6), zarr_format=3)
    a[...] = x
    index = a.sharding.index_of((p / "c" / "0" / "0").read_bytes(), "k")
    assert int(index[0, 0, 0]) == 2**64 - 1 and int(index[1, 1, 0]) != 2**64 - 1
    assert np.array_equal(pz.open(str(p))[...], x, equal_nan=True)
    assert np.array_equal(zarr_read(p), x, equal_nan=True)


def test_sharded_read_on_a_non_local_store_uses_ranges(tmp_path):
    """Partial reads through any store: the index and the touched inner chunks by range reads, nothing cached."""
    x = values((16, 12))
    p = sharded(tmp_path, x)
    store = open_store(f"memory://rp-{os.getpid()}-{time.time_ns()}", "w")
    for k in ("zarr.json", "c/0/0", "c/0/1", "c/1/0", "c/1/1"):
        store.set(k, (p / k).read_bytes())
    a = open_array(store, "")
    assert np.array_equal(a[...], x) and np.array_equal(a[3:11, 2:9], x[3:11, 2:9]) and a[9, 7] == x[9, 7]
    assert not a._index_cache


# -- zstd through python-zstandard (the fast path's decoder; numcodecs still writes) -----------------------------


def zstd_frames():
    """Frames numcodecs writes (levels, checksums), two frames back to back, a frame without its content size and
    one behind a skippable frame: each with the values it must decode to (numcodecs' own decode, or the input)."""
    import zstandard

    x = values((40, 30))
    raw = x.tobytes()
    out = {
        f"level{lv}-checksum{cs}": numcodecs.Zstd(level=lv, checksum=cs).encode(x)
        for lv in (-1, 1, 5)
        for cs in (False, True)
    }
    out["two-frames"] = numcodecs.Zstd().encode(raw[:4000]) + numcodecs.Zstd().encode(raw[4000:])
    out["no-content-size"] = zstandard.ZstdCompressor(write_content_size=False).compress(raw)
    out["skippable-first"] = (
        (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc" + out["level1-checksumFalse"]
    )
    return x, out


def test_zstd_fast_decoder_equals_numcodecs():
    from polyzarr.codecs.zstd import decode_into, direct_check

    x, frames = zstd_frames()
    for name, frame in frames.items():
        target = np.empty_like(x)
        assert direct_check(frame, x.nbytes), name
        decode_into(numcodecs.Zstd(), frame, target)
        assert np.array_equal(target, x), name
        if name != "no-content-size":  # numcodecs cannot size that one without being told
            assert np.array_equal(np.frombuffer(numcodecs.Zstd().decode(frame), "<f8").reshape(x.shape), x), name


def test_zstd_fast_decoder_refuses_a_wrong_size_or_checksum():
    from polyzarr.codecs.zstd import decode_into

    x, frames = zstd_frames()
    for n in (x.size - 1, x.size + 1):  # the frames decode to more, or fewer, bytes than the target holds
        with pytest.raises(Exception, match="zstd frames decode to"):
            decode_into(numcodecs.Zstd(), frames["no-content-size"], np.empty(n))
    bad = bytearray(frames["level1-checksumTrue"])
    bad[-1] ^= 0xFF  # the content checksum
    with pytest.raises(Exception, match="checksum"):
        decode_into(numcodecs.Zstd(), bytes(bad), np.empty_like(x))


@pytest.mark.parametrize("fast", ["zstandard", "numcodecs-only", "zstandard-refuses"])
def test_zstd_reads_equal_zarr_python_whichever_decoder(tmp_path, monkeypatch, fast):
    """Whole, region and point reads of v2, v3 and sharded zstd arrays equal zarr-python's: with zstandard, without
    it (numcodecs decodes), and when zstandard refuses every frame (each chunk falls back to the full pipeline)."""
    import zstandard

    import polyzarr.codecs.zstd as zmod

    used = []
    if fast == "zstandard":

        class Counting:  # zstandard itself, counting the contexts the fast path makes (one per thread)
            ZstdError = zstandard.ZstdError

            def ZstdDecompressor(self):  # noqa: N802 - zstandard's name
                used.append(1)
                return zstandard.ZstdDecompressor()

        monkeypatch.setattr(zmod, "zstandard", Counting())
    elif fast == "numcodecs-only":
        monkeypatch.setattr(zmod, "zstandard", None)
    elif fast == "zstandard-refuses":

        class Refusing:  # a decoder that refuses every frame, as zstandard does frames it cannot take
            calls = 0

            def ZstdDecompressor(self):  # noqa: N802 - zstandard's name
                return self

            def stream_reader(self, data, **kw):
                Refusing.calls += 1
                raise zstandard.ZstdError("refused")

        monkeypatch.setattr(zmod, "zstandard", Refusing())
    monkeypatch.setattr(zmod, "_contexts", __import__("threading").local())
    x = values((40, 30))
    v2, v3, sh = tmp_path / "v2", tmp_path / "v3", tmp_path / "sh"
    zc = {"name": "zstd", "configuration": {"level": 1, "checksum": True}}
    create_array(open_store(str(v2), "w"), "", x.shape, x.dtype, chunks=(16, 12), compressor=ZSTD)[...] = x
    create_array(open_store(str(v3), "w"), "", x.shape, x.dtype, chunks=(16, 12), zarr_format=3, compressor=zc)[...] = x
    create_array(
        open_store(str(sh), "w"), "", x.shape, x.dtype, chunks=(4, 6), shards=(16, 12), zarr_format=3, compressor=zc
    )[...] = x
    for p in (v2, v3, sh):
        a = pz.open(str(p))
        for sel in (Ellipsis, (slice(3, 37), slice(5, 29)), (17, 13)):
            assert np.array_equal(a[sel], zarr_read(p, sel)), (p.name, sel)
            assert np.array_equal(a[sel], x[sel]), (p.name, sel)
    if fast == "zstandard-refuses":
        assert Refusing.calls > 0
    assert bool(used) == (fast == "zstandard")


def test_zstd_fast_path_damaged_checksum_is_a_codec_error(tmp_path):
    """A chunk whose content checksum is wrong: the fast decoder refuses it, the full pipeline names the key."""
    x = values((16, 12))
    p = tmp_path / "a"
    zc = {"name": "zstd", "configuration": {"level": 1, "checksum": True}}
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), zarr_format=3, compressor=zc)[...] = x
    chunk = p / "c" / "1" / "0"
    b = bytearray(chunk.read_bytes())
    b[-1] ^= 0xFF
    chunk.write_bytes(bytes(b))
    for sel in (Ellipsis, (slice(9, 11), slice(1, 3))):
        with pytest.raises(CodecError) as e:
            pz.open(str(p))[sel]
        assert e.value.key == "c/1/0"
    assert np.array_equal(pz.open(str(p))[0:8, :], x[0:8, :])


# -- a region's chunk that ends early in memory order: only that prefix of its zstd frame is decoded -------------


def counting_prefix_decodes(monkeypatch, granule=None):
    """The zstd prefix decoder, recording the size of every prefix it decodes (and with another granule)."""
    from polyzarr.codecs import pipeline

    real = pipeline.PREFIX_DECODERS[numcodecs.Zstd]
    prefixes = []

    def counting(codec, data, prefix, nbytes):
        prefixes.append(prefix.nbytes)
        real.decode(codec, data, prefix, nbytes)

    monkeypatch.setitem(
        pipeline.PREFIX_DECODERS, numcodecs.Zstd, pipeline.PrefixDecoder(counting, granule or real.granule)
    )
    return prefixes


def test_zstd_prefix_decodes_only_when_they_skip_whole_blocks(tmp_path, monkeypatch):
    """libzstd decodes whole 128 KiB blocks: a chunk of 600 KiB (5 blocks) is decoded part way for a region in its
    first block, whole for one that needs most of it; a 1.5 KiB inner chunk (one block) is always decoded whole."""
    prefixes = counting_prefix_decodes(monkeypatch)
    x = values((512, 300))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(256, 300), compressor=ZSTD)[...] = x
    a = pz.open(str(p))
    assert np.array_equal(a[0:20, 0:10], x[0:20, 0:10]) and np.array_equal(a[260:270, 5:9], x[260:270, 5:9])
    assert prefixes == [(19 * 300 + 9 + 1) * 8, (13 * 300 + 8 + 1) * 8]  # local (19, 9) and (13, 8)
    prefixes.clear()
    assert np.array_equal(a[0:200, :], x[0:200, :]) and prefixes == []  # 469 of the chunk's 600 KiB: 4 blocks of 5
    sh = tmp_path / "sh"
    zc = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
    create_array(
        open_store(str(sh), "w"), "", x.shape, x.dtype, chunks=(4, 6), shards=(16, 12), zarr_format=3, compressor=zc
    )[...] = x
    assert pz.open(str(sh))[5, 3] == x[5, 3] and prefixes == []


@pytest.mark.parametrize("order", ["C", "F"])
def test_zstd_region_reads_decode_only_the_prefix_they_need(tmp_path, monkeypatch, order):
    """Regions whose part of a chunk ends early in the chunk's memory order decode only that prefix (its length
    computed here by hand from the chunk's layout); whatever is decoded, the values equal zarr-python's."""
    from polyzarr.codecs import pipeline

    prefixes = counting_prefix_decodes(monkeypatch, granule=8)  # tiny chunks: any prefix counts
    x = values((40, 30))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(16, 12), order=order, compressor=ZSTD)[...] = x
    a = pz.open(str(p))

    def prefix_of(rows, cols):  # bytes up to the region's last element in chunk (0, 0), in memory order
        last = (rows - 1) * 12 + cols - 1 if order == "C" else (cols - 1) * 16 + rows - 1
        return (last + 1) * 8

    for sel, expected in [
        ((slice(0, 4), slice(0, 5)), [prefix_of(4, 5)]),
        ((slice(1, 3), slice(2, 4)), [prefix_of(3, 4)]),
        ((5, 3), [prefix_of(6, 4)]),
        ((slice(0, 16), slice(0, 12)), []),  # the whole chunk
        ((slice(0, 15), slice(0, 12)), []),  # 15 of 16 rows: not worth a prefix (> 3/4)
    ]:
        prefixes.clear()
        got = a[sel]
        assert np.array_equal(got, zarr_read(p, sel)) and np.array_equal(got, x[sel]), sel
        assert prefixes == expected, (sel, prefixes, expected)
    prefixes.clear()
    got = a[3:37, 5:29]  # crossing chunks: every chunk read, some by a prefix
    assert np.array_equal(got, zarr_read(p, (slice(3, 37), slice(5, 29))))
    assert prefixes and all(n < 16 * 12 * 8 for n in prefixes)
    # a shard's inner chunk too: element (5, 3) is (1, 3) of inner chunk (1, 0), 4 × 6 elements in C order
    sh = tmp_path / "sh"
    zc = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
    create_array(
        open_store(str(sh), "w"), "", x.shape, x.dtype, chunks=(4, 6), shards=(16, 12), zarr_format=3, compressor=zc
    )[...] = x
    prefixes.clear()
    assert pz.open(str(sh))[5, 3] == x[5, 3] == zarr_read(sh, (5, 3))
    assert prefixes == [(1 * 6 + 3 + 1) * 8]


def test_zstd_prefix_decoder_refuses_checksums_and_short_frames():
    """A frame with a content checksum is never decoded part way (only the end checks it); frames that end before
    the prefix asked for are refused; a prefix decode equals the start of the whole decode."""
    from polyzarr.codecs.zstd import decode_prefix

    x, frames = zstd_frames()
    flat = x.reshape(-1)
    for name, frame in frames.items():
        prefix = np.empty(100)
        if "checksumTrue" in name:
            with pytest.raises(ValueError, match="checksum"):
                decode_prefix(numcodecs.Zstd(), frame, prefix, x.nbytes)
            continue
        decode_prefix(numcodecs.Zstd(), frame, prefix, x.nbytes)
        assert np.array_equal(prefix, flat[:100]), name
        with pytest.raises(ValueError, match="not zstd frames of"):  # the headers say another size, or truncated
            decode_prefix(numcodecs.Zstd(), frame if name != "no-content-size" else frame[:-9], prefix, x.nbytes + 8)
    with pytest.raises(ValueError, match="end after"):  # the frame declares no size and holds less than asked for
        decode_prefix(numcodecs.Zstd(), frames["no-content-size"], np.empty(x.size + 1), x.nbytes + 8)


@pytest.mark.parametrize("how", ["truncate", "garbage"])
def test_zstd_region_of_a_damaged_chunk_is_still_an_error(tmp_path, how):
    """A region that needs only the start of a truncated or garbled chunk still gets the chunk's error: the frame
    is checked whole (headers and size) before any prefix is decoded."""
    x = values((16, 12))
    p = tmp_path / "a"
    create_array(open_store(str(p), "w"), "", x.shape, x.dtype, chunks=(8, 6), compressor=ZSTD)[...] = x
    damage(p / "1.0", how)
    with pytest.raises((ChunkError, CodecError)) as e:
        pz.open(str(p))[8:9, 0:2]
    assert e.value.key == "1.0"


# -- region reads of shards: each inner chunk read by its job ---------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_sharded_region_reads_close_their_files_even_when_a_job_fails(tmp_path):
    crc32c = pytest.importorskip("google_crc32c")  # zarr-python's crc32c
    x = values((32, 24))
    p = sharded(tmp_path, x, chunks=(4, 6), shards=(16, 12))
    a = pz.open(str(p))
    before = open_fds()
    for _ in range(3):
        assert np.array_equal(a[2:30, 1:23], x[2:30, 1:23])
    assert open_fds() == before
    # inner chunk [2, 1] of shard c/1/1 made to point past the shard's end (its index and crc32c rewritten): the
    # job that reads it fails, naming the shard; the other jobs' files are closed all the same
    shard = p / "c" / "1" / "1"
    data = bytearray(shard.read_bytes())
    n = a.sharding.index_nbytes
    table = np.frombuffer(bytes(data[-n:-4]), "<u8").copy().reshape(4, 2, 2)
    table[2, 1] = (len(data) - n - 8, 4096)
    raw = table.tobytes()
    data[-n:] = raw + crc32c.value(raw).to_bytes(4, "little")
    shard.write_bytes(bytes(data))
    b = pz.open(str(p))
    with pytest.raises(ChunkError) as e:
        b[17:31, 13:23]
    assert e.value.key == "c/1/1" and "inner chunk [2, 1]" in str(e.value)
    assert open_fds() == before
    assert np.array_equal(b[0:16, :], x[0:16, :])
