"""Generate the zarr-python-written fixtures the Julia tests read.

    .venv/bin/python julia/test/data/make_fixtures.py

Writes (deterministically, seed 42) next to this script:
  fixtures.zarr/<dtype>/<order>_<codec>   zarr-python 3 (v2 format) arrays, shape (5, 4), chunks (2, 3);
                                          the last chunk equals the fill value, so it is not written
  fixtures.zarr/filters/<name>            arrays with numcodecs filters
  fixtures.zarr/shapes/<name>             0-d, 1-d, 3-d (C and F, "/" separator), zero-length axis
  fixtures.zarr/zarr2/<name>              written by hand as zarr 2.x did (no dimension_separator key):
                                          structured dtypes with sub-arrays and nesting, which zarr 3
                                          cannot create
  consolidated.zarr                       a small hierarchy with .zmetadata
  fixtures.zip                            a zip store (STORED), as zarr.storage.ZipStore writes
  expected/<name>.npy                     the values every array above must read as (numpy order)
  manifest.json                           array path -> expected file, dtype, order, fill
"""
import json
import os
import shutil
import sys
import warnings
import zipfile

import numpy as np
import numcodecs
import zarr

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(42)
SHAPE, CHUNKS = (5, 4), (2, 3)

DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<u2", ">u2", "<u4", "<u8", ">u8",
          "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
          "<M8[ns]", ">M8[ns]", "<M8[D]", "<M8[10s]", "<m8[ms]", ">m8[us]",
          "|S5", "<U4", ">U4", "|V3"]
STRUCTS = {
    "struct_simple": [("a", "<i4"), ("b", ">f8")],
    "struct_mixed": [("x", "<u2"), ("y", "|S3"), ("z", ">i8"), ("w", "<c8")],
}


def safe(dt):
    return dt.replace("<", "le_").replace(">", "be_").replace("|", "").replace("[", "_").replace("]", "")


def values(dt, shape=SHAPE):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    k = dt.kind
    if k == "b":
        v = rng.random(n) > 0.5
    elif k in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder("=")if dt.byteorder != "|" else dt, endpoint=True)
        v[:2] = [info.min, info.max]
    elif k == "f":
        v = (rng.standard_normal(n) * 100).astype(dt)
        v[1], v[2], v[3] = np.nan, np.inf, -np.inf
    elif k == "c":
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
        v[1] = complex(np.nan, 1.0)
    elif k in "Mm":
        v = rng.integers(-10**6, 10**6, n).astype("<i8").view(dt.newbyteorder("<")).astype(dt)
        v[1] = np.array("NaT", dtype=dt)
    elif k == "S":
        alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype="u1")
        v = np.array([bytes(rng.choice(alphabet, rng.integers(0, dt.itemsize + 1))) for _ in range(n)], dtype=dt)
    elif k == "U":
        chars = list("abcxyzé中😀ß")
        m = dt.itemsize // 4
        v = np.array(["".join(rng.choice(chars, rng.integers(0, m + 1))) for _ in range(n)], dtype=dt)
    elif k == "V":
        v = np.frombuffer(rng.integers(0, 256, n * dt.itemsize, dtype="u1").tobytes(), dtype=dt)
    else:
        raise ValueError(dt)
    v = np.asarray(v, dtype=dt).reshape(shape)
    return v


def struct_values(descr, shape=SHAPE):
    dt = np.dtype(descr)
    v = np.zeros(shape, dtype=dt)
    for name in dt.names:
        sub = dt.fields[name][0]
        base = sub.base if sub.subdtype else sub
        if base.names:
            v[name] = struct_values(base.descr, shape + sub.shape)
        else:
            v[name] = values(base, shape + sub.shape)
    return v


def fill_last_chunk(v, fill):
    v = v.copy()
    v[4, 3] = fill   # the (2, 1) chunk holds only this element: equal to fill -> not written
    return v


manifest = {}


def save_expected(name, v):
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    np.save(os.path.join(HERE, "expected", name + ".npy"), np.asarray(v).copy(order="C"))


def record(path, expected, arr_order, note=""):
    manifest[path] = {"expected": expected, "order": arr_order, "note": note}


def zarr_write(root, path, v, chunks=CHUNKS, order="C", compressor=None, filters=None, fill_value=None,
               separator=".", dtype=None):
    kw = {}
    if fill_value is not None:
        kw["fill_value"] = fill_value
    a = zarr.create_array(store=root, name=path, shape=v.shape, chunks=chunks, dtype=dtype or v.dtype, order=order,
                          zarr_format=2, compressors=compressor, filters=filters, overwrite=True,
                          chunk_key_encoding={"name": "v2", "separator": separator}, **kw)
    a[...] = v
    return a


COMPRESSORS = {
    "none": None,
    "zlib": numcodecs.Zlib(level=1),
    "zstd": numcodecs.Zstd(level=0),
    "blosc": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "gzip": numcodecs.GZip(level=5),
    "bz2": numcodecs.BZ2(level=9),
    "lz4": numcodecs.LZ4(),
    "lzma": numcodecs.LZMA(),
    "bloscbit": numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE),
}


def main():
    store = os.path.join(HERE, "fixtures.zarr")
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(os.path.join(HERE, "expected"), ignore_errors=True)
    root = zarr.open_group(store, mode="w", zarr_format=2)
    root.attrs["title"] = "polyzarr fixtures"

    # --- every dtype x (C, zstd), (F, zlib), (C, none), (F, blosc) ---
    for dt in DTYPES:
        name = safe(dt)
        v = values(dt)
        fill = np.zeros((), dtype=v.dtype)[()]
        if np.dtype(dt).kind in "Mm":
            fill = np.array("NaT", dtype=dt)[()]
        v = fill_last_chunk(v, fill)
        save_expected(name, v)
        combos = [("C", "zstd"), ("F", "zlib"), ("C", "none"), ("F", "blosc")]
        if dt in ("<f8", "<i4", ">u8"):
            combos += [("C", c) for c in ("gzip", "bz2", "lz4", "lzma", "bloscbit", "blosc", "zlib")] + [("F", "zstd")]
        for order, comp in combos:
            path = f"{name}/{order}_{comp}"
            zarr_write(store, path, v, order=order, compressor=COMPRESSORS[comp])
            record(path, name, order)
    for name, descr in STRUCTS.items():
        v = struct_values(descr)
        v = fill_last_chunk(v, np.zeros((), dtype=v.dtype)[()])
        save_expected(name, v)
        for order, comp in [("C", "zstd"), ("F", "none")]:
            zarr_write(store, f"{name}/{order}_{comp}", v, order=order, compressor=COMPRESSORS[comp])
            record(f"{name}/{order}_{comp}", name, order)

    # --- explicit fill values (missing chunk reads as fill) ---
    for dt, fv, tag in [("<f8", -1.5, "f8_m15"), ("<f4", float("nan"), "f4_nan"), ("<i4", 42, "i4_42"),
                        ("|S5", b"zz", "S5_zz"), ("<U4", "é!", "U4_e"), ("<c16", complex(1, -2), "c16_1m2"),
                        ("|b1", True, "b1_true"), ("<f8", float("-inf"), "f8_minf")]:
        v = fill_last_chunk(values(dt), np.array(fv, dtype=dt)[()])
        save_expected("fill_" + tag, v)
        for order in ("C", "F"):
            zarr_write(store, f"fill/{tag}_{order}", v, order=order, compressor=COMPRESSORS["zstd"], fill_value=fv)
            record(f"fill/{tag}_{order}", "fill_" + tag, order)

    # --- filters ---
    filt = {
        "delta_i8": ("<i8", [numcodecs.Delta(dtype="<i8")], np.cumsum(rng.integers(-5, 5, SHAPE), axis=1).astype("<i8")),
        "delta_i4_astype_i2": ("<i4", [numcodecs.Delta(dtype="<i4", astype="<i2")],
                               np.arange(20, dtype="<i4").reshape(SHAPE) * 3),
        "fixedscaleoffset": ("<f8", [numcodecs.FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="|u1")],
                             np.round(1000 + rng.random(SHAPE) * 20, 1)),
        "fso_f4_i2": ("<f4", [numcodecs.FixedScaleOffset(offset=-3.5, scale=100.0, dtype="<f4", astype="<i2")],
                      (rng.random(SHAPE) * 100 - 50).astype("<f4")),
        "quantize_f8": ("<f8", [numcodecs.Quantize(digits=2, dtype="<f8")], rng.standard_normal(SHAPE) * 10),
        "quantize_f4": ("<f4", [numcodecs.Quantize(digits=3, dtype="<f4")],
                        (rng.standard_normal(SHAPE) * 10).astype("<f4")),
        "astype_f8_f4": ("<f8", [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")],
                         rng.standard_normal(SHAPE)),
        "packbits": ("|b1", [numcodecs.PackBits()], rng.random(SHAPE) > 0.5),
        "categorize": ("<U5", [numcodecs.Categorize(labels=["red", "green", "blue"], dtype="<U5")],
                       rng.choice(np.array(["red", "green", "blue", "other"]), SHAPE)),
        "shuffle_i4": ("<i4", [numcodecs.Shuffle(elementsize=4)], rng.integers(-1000, 1000, SHAPE).astype("<i4")),
        "delta_then_zlib_filter": ("<i8", [numcodecs.Delta(dtype="<i8"), numcodecs.Zlib(level=3)],
                                   np.arange(20, dtype="<i8").reshape(SHAPE) ** 2),
    }
    for name, (dt, filters, v) in filt.items():
        v = np.asarray(v, dtype=dt)
        codec = filters[0]
        for order in ("C", "F"):
            path = f"filters/{name}_{order}"
            a = zarr_write(store, path, v, order=order, compressor=COMPRESSORS["zlib"], filters=filters,
                           fill_value=None)
            # lossy filters: expected values are what zarr-python reads back
            got = a[...]
            save_expected(f"filters_{name}", got if name != "categorize" else np.where(np.isin(v, ["red", "green", "blue"]), v, ""))
            record(path, f"filters_{name}", order)

    # object arrays (vlen-utf8, vlen-bytes)
    strs = np.array(["", "a", "héllo", "😀x", "longer string here"] * 4, dtype=object).reshape(SHAPE)
    save_expected("vlen_utf8", strs.astype("U"))
    byts = np.array([b"", b"\x00\x01", b"abc", b"\xff" * 7, b"z"] * 4, dtype=object).reshape(SHAPE)
    save_expected("vlen_bytes", byts.astype("S"))
    for order in ("C", "F"):
        zarr_write(store, f"object/vlen_utf8_{order}", strs, order=order, compressor=COMPRESSORS["zstd"], dtype=str,
                   filters=[numcodecs.VLenUTF8()])
        record(f"object/vlen_utf8_{order}", "vlen_utf8", order)
        try:
            zarr_write(store, f"object/vlen_bytes_{order}", byts, order=order, compressor=COMPRESSORS["zstd"],
                       dtype=bytes, filters=[numcodecs.VLenBytes()])
            record(f"object/vlen_bytes_{order}", "vlen_bytes", order)
        except Exception as e:  # not every zarr 3 release writes vlen-bytes for v2
            print("skip vlen-bytes:", e, file=sys.stderr)

    # --- shapes ---
    v0 = np.array(7.25, dtype="<f8")
    save_expected("shape_0d", v0)
    zarr_write(store, "shapes/zero_d", v0, chunks=(), compressor=COMPRESSORS["zstd"])
    record("shapes/zero_d", "shape_0d", "C")
    v1 = np.arange(17, dtype="<i2")
    save_expected("shape_1d", v1)
    zarr_write(store, "shapes/one_d", v1, chunks=(5,), compressor=COMPRESSORS["zlib"])
    record("shapes/one_d", "shape_1d", "C")
    v3 = rng.integers(0, 1000, (4, 5, 6)).astype(">u4")
    save_expected("shape_3d", v3)
    for order in ("C", "F"):
        zarr_write(store, f"shapes/three_d_{order}", v3, chunks=(3, 2, 4), order=order,
                   compressor=COMPRESSORS["zstd"], separator="/")
        record(f"shapes/three_d_{order}", "shape_3d", order)
    vz = np.zeros((3, 0, 2), dtype="<f4")
    save_expected("shape_empty", vz)
    zarr_write(store, "shapes/empty", vz, chunks=(2, 1, 2), compressor=COMPRESSORS["zstd"])
    record("shapes/empty", "shape_empty", "C")
    va = np.arange(12, dtype="<i4").reshape(3, 4)
    a = zarr_write(store, "shapes/with_dims", va, chunks=(2, 2), compressor=None)
    a.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]
    a.attrs["units"] = "m"
    record("shapes/with_dims", "shape_with_dims", "C")
    save_expected("shape_with_dims", va)

    # --- zarr 2.x-style stores written by hand ---
    hand = {
        "struct_subarray": [("a", "<i4"), ("b", ">f8", (2, 3)), ("c", [("x", "|u1"), ("y", "<f4", (2,))])],
        "struct_nested": [("p", [("q", ">i2"), ("r", [("s", "<u8")])]), ("t", "|b1")],
        "struct_padding": None,
    }
    for name, descr in hand.items():
        if descr is None:
            dt = np.dtype({"names": ["a", "b"], "formats": ["<i2", "<f8"], "offsets": [0, 4], "itemsize": 16})
            v = np.zeros(SHAPE, dtype=dt)
            v["a"] = values("<i2")
            v["b"] = values("<f8")
        else:
            v = struct_values(descr)
            dt = v.dtype
        save_expected(name, v)
        for order, comp in [("C", None), ("F", numcodecs.Zlib(level=1))]:
            write_by_hand(os.path.join(store, "zarr2", f"{name}_{order}"), v, CHUNKS, order, comp)
            record(f"zarr2/{name}_{order}", name, order)
    # a zarr 2.x store with blosc defaults and no dimension_separator
    v = values("<f8")
    save_expected("zarr2_f8", v)
    write_by_hand(os.path.join(store, "zarr2", "f8_blosc"), v, CHUNKS, "C",
                  numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1))
    record("zarr2/f8_blosc", "zarr2_f8", "C")
    # object arrays with the json2 codec (numcodecs.JSON), as zarr 2.x wrote them
    jv = np.array(["x", "yy", "", "zéz", "w"] * 4, dtype=object).reshape(SHAPE)
    save_expected("json2", jv.astype("U"))
    for order in ("C", "F"):
        write_by_hand(os.path.join(store, "zarr2", f"json2_{order}"), jv, CHUNKS, order, numcodecs.Zlib(level=1),
                      filters=[numcodecs.JSON()])
        record(f"zarr2/json2_{order}", "json2", order)
    with open(os.path.join(store, "zarr2", ".zgroup"), "w") as f:
        json.dump({"zarr_format": 2}, f, indent=4, sort_keys=True)

    # --- consolidated hierarchy ---
    cons = os.path.join(HERE, "consolidated.zarr")
    shutil.rmtree(cons, ignore_errors=True)
    g = zarr.open_group(cons, mode="w", zarr_format=2)
    g.attrs["level"] = 0
    sub = g.create_group("sub")
    sub.attrs["level"] = 1
    zarr_write(cons, "sub/arr", np.arange(6, dtype="<i8").reshape(2, 3), chunks=(1, 3), compressor=COMPRESSORS["zlib"])
    zarr_write(cons, "top", np.array([1.5, 2.5], dtype=">f4"), chunks=(1,), compressor=None)
    zarr.consolidate_metadata(cons)
    # only the consolidated metadata knows this attribute: proves it is used
    md = json.load(open(os.path.join(cons, ".zmetadata")))
    md["metadata"]["sub/arr/.zattrs"] = {"from": "zmetadata"}
    with open(os.path.join(cons, ".zmetadata"), "w") as f:
        json.dump(md, f, indent=4, sort_keys=True)
    save_expected("cons_sub_arr", np.arange(6, dtype="<i8").reshape(2, 3))
    save_expected("cons_top", np.array([1.5, 2.5], dtype=">f4"))

    # --- a zip store (ZIP_STORED, as zarr.storage.ZipStore writes) ---
    zp = os.path.join(HERE, "fixtures.zip")
    if os.path.exists(zp):
        os.remove(zp)
    zs = zarr.storage.ZipStore(zp, mode="w")
    zg = zarr.open_group(zs, mode="w", zarr_format=2)
    a = zg.create_array("inner/arr", shape=(5, 4), chunks=(2, 3), dtype="<i4", compressors=numcodecs.Zstd(level=0),
                        zarr_format=2) if False else zarr.create_array(store=zs, name="inner/arr", shape=(5, 4),
                                                                      chunks=(2, 3), dtype="<i4", zarr_format=2,
                                                                      compressors=numcodecs.Zstd(level=0))
    a[...] = np.arange(20, dtype="<i4").reshape(5, 4)
    zs.close()
    save_expected("zip_arr", np.arange(20, dtype="<i4").reshape(5, 4))
    # the same entries, DEFLATE-compressed (zarr can read these; writers rarely make them)
    zd = os.path.join(HERE, "fixtures_deflate.zip")
    with zipfile.ZipFile(zp) as src, zipfile.ZipFile(zd, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"{len(manifest)} arrays")


def write_by_hand(path, v, chunks, order, compressor, filters=None):
    """A v2 array as zarr 2.x wrote it: sorted keys, indent 4, no dimension_separator."""
    os.makedirs(path, exist_ok=True)
    fill = np.zeros((), dtype=v.dtype) if v.dtype != object else np.array(None, dtype=object)
    meta = {"zarr_format": 2, "shape": list(v.shape), "chunks": list(chunks), "dtype": v.dtype.descr
            if v.dtype.names else v.dtype.str, "compressor": compressor.get_config() if compressor else None,
            "filters": [f.get_config() for f in filters] if filters else None,
            "fill_value": __import__("base64").b64encode(fill.tobytes()).decode()
            if v.dtype.names else (None if v.dtype == object else 0.0), "order": order}
    if v.dtype.names:
        meta["dtype"] = [list(f) if len(f) == 2 else [f[0], f[1], list(f[2])] for f in _jsonable(v.dtype.descr)]
    with open(os.path.join(path, ".zarray"), "w") as f:
        json.dump(meta, f, indent=4, sort_keys=True)
    grid = [-(-s // c) for s, c in zip(v.shape, chunks)]
    for idx in np.ndindex(*grid):
        sl = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, v.shape))
        block = np.full(chunks, fill, dtype=v.dtype)
        block[tuple(slice(0, s.stop - s.start) for s in sl)] = v[sl]
        if filters:          # zarr 2.x hands the filters the chunk array in its own order
            data = np.asarray(block, order=order)
            for f in filters:
                data = f.encode(data)
        else:
            data = block.tobytes(order=order)
        if compressor:
            data = compressor.encode(data)
        with open(os.path.join(path, ".".join(map(str, idx))), "wb") as f:
            f.write(data)


def _jsonable(descr):
    out = []
    for f in descr:
        name, t = f[0], f[1]
        if isinstance(t, list):
            t = [list(x) if len(x) == 2 else [x[0], x[1], list(x[2])] for x in _jsonable(t)]
        out.append((name, t) + ((list(f[2]),) if len(f) == 3 else ()))
    return out


if __name__ == "__main__":
    main()
