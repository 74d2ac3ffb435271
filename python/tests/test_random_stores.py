"""Random stores written by zarr-python (v2 and v3), read by both polyzarr implementations, and random imports
by both implementations, read by zarr-python.

The golden cases are chosen by hand; these are drawn at random (fixed seed, so a failure reproduces) over what
zarr-python writes: rank 0-4, shapes with partial edge chunks and zero-length axes, C/F order, every v2
compressor, delta/shuffle filters, v3 endianness, transposes, shards, key encodings, fills, partly written
arrays and variable-length strings. The expected values are zarr-python's own reads. Every store is exported
by Python in-process and by Julia in one worker request.

    POLYZARR_FUZZ_SEED=7 POLYZARR_FUZZ_N=200 make test PYTEST_ARGS=python/tests/test_random_stores.py
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, TransposeCodec, ZstdCodec

import polyzarr
from polyzarr.npy import to_npy_array

SEED = int(os.environ.get("POLYZARR_FUZZ_SEED", "0"))
N = int(os.environ.get("POLYZARR_FUZZ_N", "48"))

V2_DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f4", "<f8", ">f8", "<c8",
             ">c16", "<M8[ns]", ">M8[D]", "<m8[s]", "|S5", "<U3", ">U2", "str"]
V3_DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16",
             "float32", "float64", "complex64", "complex128", "<M8[ms]", "<m8[us]", "<U4", "|S3", "str", "bytes"]


@dataclass
class Drawn:
    name: str
    description: str
    expected: np.ndarray  # zarr-python's read, as .npy would hold it


def _values(rng: random.Random, dt: str, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    g = np.random.default_rng(rng.randrange(1 << 30))
    if dt in ("str", "bytes"):
        if dt == "str":
            items = ["".join(chr(c) for c in g.integers(0x20, 0x3000, g.integers(0, 6))) for _ in range(n)]
        else:
            items = [bytes(g.integers(0, 256, g.integers(0, 6)).astype(np.uint8)) for _ in range(n)]
        out = np.empty(n, dtype=object)
        out[:] = items
        return out.reshape(shape)
    d = np.dtype(dt)
    if d.kind == "b":
        a = g.integers(0, 2, n).astype(bool)
    elif d.kind in "iu":
        info = np.iinfo(d)
        a = g.integers(info.min // 2, info.max // 2, n, dtype=d.newbyteorder("="))
    elif d.kind == "f":
        a = g.normal(size=n) * 100
    elif d.kind == "c":
        a = g.normal(size=n) + 1j * g.normal(size=n)
    elif d.kind in "Mm":
        a = g.integers(-10**6, 10**6, n)
    elif d.kind == "S":
        a = np.array([bytes(g.integers(97, 122, g.integers(0, d.itemsize + 1)).astype(np.uint8)) for _ in range(n)])
    else:
        a = np.array(["".join(chr(c) for c in g.integers(0x41, 0x3000, g.integers(0, d.itemsize // 4 + 1))) for _ in range(n)])
    return np.asarray(a).astype(d).reshape(shape)


def _zarr_dtype(dt: str):
    if dt == "str":
        return zarr.dtype.VariableLengthUTF8()
    if dt == "bytes":
        return zarr.dtype.VariableLengthBytes()
    return dt


def _draw(rng: random.Random, root: Path, i: int) -> Drawn:
    fmt = rng.choice([2, 3])
    rank = rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])
    shape = tuple(rng.choice([0, 1, 3, 7]) if rng.random() < 0.12 else rng.randint(1, 9) for _ in range(rank))
    chunks = tuple(rng.randint(1, max(1, s)) for s in shape)
    kw: dict = {}
    if fmt == 2:
        dt = rng.choice(V2_DTYPES)
        kw["compressors"] = rng.choice([
            None, numcodecs.Zstd(level=rng.randint(0, 5)), numcodecs.Zlib(level=rng.randint(1, 9)), numcodecs.GZip(),
            numcodecs.BZ2(), numcodecs.LZMA(), numcodecs.LZ4(),
            numcodecs.Blosc(cname=rng.choice(["lz4", "lz4hc", "zstd", "zlib", "blosclz"]), shuffle=rng.choice([0, 1, 2]))])
        kw["order"] = rng.choice("CF")
        kw["chunk_key_encoding"] = {"name": "v2", "separator": rng.choice("./")}
        d = np.dtype(dt) if dt != "str" else None
        if d is not None and d.kind in "iu" and d.itemsize > 1 and rng.random() < 0.3:
            kw["filters"] = [numcodecs.Delta(dtype=dt)]
        elif d is not None and d.kind in "fiu" and rng.random() < 0.2:
            kw["filters"] = [numcodecs.Shuffle(elementsize=d.itemsize)]
    else:
        dt = rng.choice(V3_DTYPES)
        kw["chunk_key_encoding"] = {"name": rng.choice(["default", "v2"]), "separator": rng.choice("./")}
        if dt not in ("str", "bytes"):
            d = np.dtype(dt)
            if d.itemsize > 1 and d.kind not in "US":
                kw["serializer"] = BytesCodec(endian=rng.choice(["little", "big"]))
            comp = rng.choice([None, ZstdCodec(level=rng.randint(0, 3), checksum=rng.random() < 0.5), GzipCodec(level=5),
                               BloscCodec(cname="lz4", clevel=3)])
            kw["compressors"] = [comp] if comp else None
            if rank > 1 and rng.random() < 0.4:
                perm = list(range(rank))
                rng.shuffle(perm)
                kw["filters"] = [TransposeCodec(order=perm)]
        if rank and all(s > 0 for s in shape) and rng.random() < 0.3:
            kw["shards"] = tuple(c * rng.randint(1, 3) for c in chunks)
        if rank and rng.random() < 0.3:
            kw["dimension_names"] = [f"d{k}" for k in range(rank)]
    values = _values(rng, dt, shape)
    fill = values.flat[0] if values.size and dt not in ("str", "bytes") and rng.random() < 0.5 else None
    path = root / f"a{i}"
    z = zarr.create_array(str(path), shape=shape, chunks=chunks, dtype=_zarr_dtype(dt), zarr_format=fmt,
                          fill_value=fill, **kw)
    if rank and values.size and rng.random() < 0.4:  # part written: the rest is missing chunks or fill
        region = tuple(slice(rng.randint(0, s - 1), s) for s in shape)
        z[region] = values[region]
    elif rank == 0 and dt == "bytes":
        # zarr-python 3.4 cannot store a bytes scalar (test_julia_side.test_zarr_python_vlen_bytes_scalar_gap):
        # the chunk is written with the array's own codecs, the bytes zarr-python 3.1 wrote (no draw consumed)
        from test_julia_side import _write_chunk_as_zarr_python

        _write_chunk_as_zarr_python(path, (), values)
        assert zarr.open_array(str(path), mode="r")[()] == values[()]
    else:
        z[...] = values
    got = np.asarray(zarr.open_array(str(path), mode="r")[...])
    if got.dtype.kind in "OT":
        flat = np.empty(got.size, dtype=object)
        flat[:] = list(got.flat)
        got = to_npy_array(flat.reshape(got.shape), str if dt == "str" else bytes)
    desc = f"a{i}: v{fmt} {dt} shape={shape} chunks={chunks} " + " ".join(f"{k}={v}" for k, v in kw.items())
    return Drawn(f"a{i}", desc, got)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> tuple[Path, list[Drawn]]:
    root = tmp_path_factory.mktemp("random-stores")
    rng = random.Random(SEED)
    return root, [_draw(rng, root, i) for i in range(N)]


def _same(got: np.ndarray, d: Drawn, who: str) -> None:
    e = d.expected
    if got.dtype != e.dtype and got.dtype.fields is None and got.dtype.kind == e.dtype.kind \
            and got.dtype.itemsize == e.dtype.itemsize:
        # zarr-python hands out native-endian values for big-endian data (README: interop notes)
        got = got.astype(e.dtype)
    if e.dtype.kind in "SU":
        ok = got.shape == e.shape and got.dtype.kind == e.dtype.kind and np.array_equal(got, e)
    else:
        ok = got.shape == e.shape and got.dtype == e.dtype and got.tobytes() == e.tobytes()
    assert ok, (f"{who} differs from zarr-python on {d.description} (POLYZARR_FUZZ_SEED={SEED}): "
                f"{got.dtype} {got.shape} vs {e.dtype} {e.shape}")


def test_python_reads_random_zarr_python_stores(drawn):
    root, cases = drawn
    for d in cases:
        a = polyzarr.open(str(root / d.name))
        got = to_npy_array(a[...], a.object_type)
        _same(np.asarray(got), d, "polyzarr (Python)")


@pytest.mark.julia
def test_julia_reads_random_zarr_python_stores(drawn, tmp_path):
    from test_julia_side import _need_julia

    from polyzarr.julia import JuliaWorker

    _need_julia()
    root, cases = drawn
    with JuliaWorker() as w:
        r = w.request("export", src=str(root), outdir=str(tmp_path))
    assert r["failed"] == [], r["failed"]
    for d in cases:
        _same(np.load(tmp_path / f"{d.name}.npy"), d, "PolyZarr.jl")


# ---- the other direction: random imports by both implementations, read by zarr-python ------------------

IMPORT_DTYPES = ["|b1", "|i1", "<i2", ">i2", "<u4", ">i8", "<f2", ">f4", "<f8", ">c16", "<M8[ns]", "<m8[s]", "|S5", "<U3"]
V2_COMPRESSORS = [None, {"id": "zlib", "level": 1}, {"id": "zstd", "level": 3}, {"id": "gzip", "level": 5},
                  {"id": "bz2", "level": 1}, {"id": "lz4", "acceleration": 1},
                  {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2, "blocksize": 0}]


def _draw_import(rng: random.Random) -> tuple[np.ndarray, dict]:
    """Values and import options (the worker's keywords; the CLI flags are derived from them)."""
    from polyzarr.testing import make_values

    rank = rng.choice([0, 1, 2, 3, 4])
    shape = tuple(rng.randint(1, 7) for _ in range(rank))
    values = make_values(rng.choice(IMPORT_DTYPES), shape, seed=rng.randrange(1 << 20))
    opts: dict = {"zarr_format": rng.choice([2, 3])}
    if rank:
        opts["chunks"] = [rng.randint(1, s) for s in shape]
    if opts["zarr_format"] == 2:
        opts["order"] = rng.choice("CF")
        opts["compressor"] = rng.choice(V2_COMPRESSORS)
        opts["dimension_separator"] = rng.choice("./")
    else:
        if rank > 1 and rng.random() < 0.5:
            perm = list(range(rank))
            rng.shuffle(perm)
            opts["transpose"] = perm
        if rank and rng.random() < 0.3:
            opts["shards"] = [c * rng.randint(1, 2) for c in opts["chunks"]]
        if rank and rng.random() < 0.4:
            opts["dimension_names"] = [f"d{k}" for k in range(rank)]
        opts["chunk_key_encoding"] = rng.choice(["default", "v2"])
    return values, opts


def _cli_flags(opts: dict) -> list[str]:
    import json

    flags = []
    for k, v in opts.items():
        flag = "--" + k.replace("_", "-")
        if k == "compressor":
            flags += [flag, "none" if v is None else json.dumps(v)]
        elif isinstance(v, list):
            flags += [flag, ",".join(map(str, v))]
        else:
            flags += [flag, str(v)]
    return flags


@pytest.mark.julia
def test_random_imports_by_both_read_by_zarr_python(tmp_path):
    from test_julia_side import _need_julia

    from polyzarr.cli import main as cli_main
    from polyzarr.julia import JuliaWorker

    _need_julia()
    rng = random.Random(SEED + 1)
    drawn = [_draw_import(rng) for _ in range(max(8, N // 2))]
    for i, (values, _) in enumerate(drawn):
        np.save(tmp_path / f"v{i}.npy", values)
    with JuliaWorker() as w:
        for i, (_, opts) in enumerate(drawn):
            w.request("import", npy=str(tmp_path / f"v{i}.npy"), dest=str(tmp_path / "julia.zarr" / f"a{i}"), **opts)
    for i, (values, opts) in enumerate(drawn):
        assert cli_main(["import", str(tmp_path / f"v{i}.npy"), str(tmp_path / "python.zarr" / f"a{i}"),
                         *_cli_flags(opts)]) == 0
        for who in ("python", "julia"):
            got = np.asarray(zarr.open_array(str(tmp_path / f"{who}.zarr" / f"a{i}"), mode="r")[...])
            same_kind = got.dtype.kind == values.dtype.kind
            if got.dtype != values.dtype and same_kind and (got.dtype.itemsize == values.dtype.itemsize or got.ndim == 0):
                # zarr-python's native-endian reads, and its 0-d reads as a scalar (README: interop notes)
                got = got.astype(values.dtype)
            assert got.shape == values.shape and got.dtype == values.dtype and got.tobytes() == values.tobytes(), \
                f"zarr-python reads {who}'s import a{i} {values.dtype} {values.shape} {opts} differently (seed {SEED})"
