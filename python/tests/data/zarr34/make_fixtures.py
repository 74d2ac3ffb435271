"""Write the zarr-python 3.4 fixtures under python/tests/data/zarr34/ (run with zarr-python >= 3.4, e.g.
``/path/to/py312-venv/bin/python python/tests/data/zarr34/make_fixtures.py python/tests/data/zarr34``).

Each case is ``<name>.zarr`` (written by zarr-python) and ``<name>.npy`` (zarr-python's own read of it), with codecs
zarr-python 3.4 can write (numcodecs.* v3 names, cast_value, scale_offset, v2 compressors/filters), its data types
(struct in the new JSON) and the rectilinear chunk grid. python/tests/test_zarr34.py reads them (on any zarr-python)
and, with zarr-python >= 3.4 installed, regenerates them into a temporary directory with ``make_all`` too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings

import numpy as np

F8 = np.linspace(-3, 7, 20).reshape(5, 4)
I4 = np.arange(20, dtype="<i4").reshape(5, 4)


def cases() -> list[tuple[str, np.ndarray, dict]]:
    """(name, values, zarr.create_array keywords) for every case; needs zarr-python >= 3.4 to build the codecs."""
    import numcodecs
    import zarr
    from numcodecs import zarr3 as nc3
    from zarr.codecs import CastValue, ScaleOffset

    out: list[tuple[str, np.ndarray, dict]] = []
    for nm, comp in [
        ("zlib", nc3.Zlib(level=1)),
        ("gzip", nc3.GZip(level=5)),
        ("bz2", nc3.BZ2(level=9)),
        ("lzma", nc3.LZMA()),
        ("lz4", nc3.LZ4()),
        ("zstd", nc3.Zstd(level=3)),
        ("blosc", nc3.Blosc(cname="lz4", clevel=5, shuffle=1)),
        ("crc32", nc3.CRC32()),
        ("crc32c", nc3.CRC32C()),
        ("adler32", nc3.Adler32()),
        ("fletcher32", nc3.Fletcher32()),
        ("jenkins_lookup3", nc3.JenkinsLookup3()),
        ("shuffle", nc3.Shuffle(elementsize=8)),
    ]:
        out.append((f"nc_{nm}", F8, {"compressors": [comp]}))
    out.append(("nc_shuffle_zlib", F8, {"compressors": [nc3.Shuffle(elementsize=8), nc3.Zlib(level=1)]}))
    for nm, flt, d in [
        ("delta", nc3.Delta(dtype="<i4"), I4),
        ("delta_astype", nc3.Delta(dtype="<i4", astype="<i2"), I4),
        ("fixedscaleoffset", nc3.FixedScaleOffset(offset=1, scale=10, dtype="<f8", astype="<i4"), F8),
        ("quantize", nc3.Quantize(digits=2, dtype="<f8"), F8),
        ("bitround", nc3.BitRound(keepbits=6), F8),
        ("astype", nc3.AsType(encode_dtype="<f4", decode_dtype="<f8"), F8),
    ]:
        out.append((f"nc_{nm}", d, {"filters": [flt]}))
    out.append(("nc_packbits", np.arange(20).reshape(5, 4) % 3 == 0, {"filters": [nc3.PackBits()]}))
    out.append(("nc_pcodec", F8, {"serializer": nc3.PCodec(), "compressors": None}))
    out.append(("nc_pcodec_i4", I4, {"serializer": nc3.PCodec(level=3), "compressors": None}))
    out.append(
        ("nc_zfpy", F8, {"serializer": nc3.ZFPY(mode=4, tolerance=-1, rate=-1, precision=-1), "compressors": None})
    )
    out.append(("nc_zfpy_rate", F8, {"serializer": nc3.ZFPY(mode=2, rate=16), "compressors": None}))
    # cast_value / scale_offset
    x = F8 * 100
    out.append(("cast_i2", x, {"filters": [CastValue(data_type="int16")]}))
    out.append(
        ("cast_u1_clamp", x, {"filters": [CastValue(data_type="uint8", rounding="towards-zero", out_of_range="clamp")]})
    )
    out.append(("cast_i1_wrap", x, {"filters": [CastValue(data_type="int8", out_of_range="wrap")]}))
    for r in ("towards-positive", "towards-negative", "nearest-away"):
        out.append((f"cast_i4_{r}", F8 * 3.5, {"filters": [CastValue(data_type="int32", rounding=r)]}))
    out.append(("cast_f4", F8 / 3, {"filters": [CastValue(data_type="float32")]}))
    out.append(("cast_f2_clamp", F8 * 30000, {"filters": [CastValue(data_type="float16", out_of_range="clamp")]}))
    nan = F8.copy()
    nan[0, 0] = np.nan
    out.append(
        (
            "cast_scalar_map",
            nan,
            {"filters": [CastValue(data_type="int16", scalar_map={"encode": [["NaN", -1]], "decode": [[-1, "NaN"]]})]},
        )
    )
    out.append(("cast_fill", x, {"filters": [CastValue(data_type="int16")], "fill_value": 7.0}))
    out.append(("cast_i4_to_u2", I4 * 3, {"filters": [CastValue(data_type="uint16")]}))
    out.append(("scale_offset", F8, {"filters": [ScaleOffset(offset=10.0, scale=4.0)]}))
    out.append(("scale_offset_i4", I4, {"filters": [ScaleOffset(offset=3, scale=2)]}))
    out.append(
        ("scale_offset_cast", F8, {"filters": [ScaleOffset(offset=10.0, scale=4.0), CastValue(data_type="int16")]})
    )
    out.append(
        (
            "shard_cast",
            np.arange(40, dtype="f8").reshape(8, 5),
            {"chunks": (2, 5), "shards": (4, 5), "filters": [CastValue(data_type="int16")], "fill_value": 3.0},
        )
    )
    # data types
    for nm, arr in [
        ("dt_M8_10s", np.arange(20).astype("M8[10s]").reshape(5, 4)),
        ("dt_m8_ms", np.arange(20).astype("m8[ms]").reshape(5, 4)),
        ("dt_U5", np.array(list("abcdefghijklmnopqrst")).astype("<U5").reshape(5, 4)),
        ("dt_S3", np.array([b"ab", b"c", b""] * 6 + [b"xyz", b"q"]).reshape(5, 4)),
        ("dt_V6", np.frombuffer(bytes(range(120)), "V6").reshape(5, 4)),
        ("dt_f2", F8.astype("f2")),
        ("dt_c8", (F8 + 1j * F8).astype("c8")),
        ("dt_c16", F8 + 1j),
        ("dt_bool", I4 % 2 == 0),
        ("dt_u8", I4.astype("u8") * 2**40),
        ("dt_i1", I4.astype("i1") - 5),
    ]:
        out.append((nm, arr, {}))
    st = np.zeros(20, [("a", "<i4"), ("b", "<f8"), ("c", "S3")]).reshape(5, 4)
    st["a"] = I4
    st["b"] = F8
    st["c"] = b"xy"
    out.append(("dt_struct", st, {}))
    out.append(("dt_struct_fill", st, {"fill_value": (5, 1.5, b"zz")}))
    nested = np.zeros(20, [("p", [("x", "<i2"), ("y", "<f4")]), ("q", "u1")]).reshape(5, 4)
    nested["q"] = I4
    nested["p"]["y"] = F8
    out.append(("dt_struct_nested", nested, {}))
    out.append(("dt_string", np.array(list("abcdefghijklmnopqrst"), dtype=object).reshape(5, 4), {"dtype": str}))
    out.append(
        (
            "dt_vbytes",
            np.array([b"x" * i for i in range(20)], dtype=object).reshape(5, 4),
            {"dtype": zarr.dtype.VariableLengthBytes()},
        )
    )
    # rectilinear chunk grids
    r = np.arange(70).reshape(10, 7)
    out.append(("rect", r, {"chunks": [[3, 3, 4], [2, 5]], "rectilinear": True}))
    out.append(("rect_shard", r, {"chunks": (2, 1), "shards": [[2, 4, 4], [2, 5]], "rectilinear": True}))
    # v2 with the new codecs
    for nm, c in [
        ("crc32", numcodecs.CRC32()),
        ("adler32", numcodecs.Adler32()),
        ("fletcher32", numcodecs.Fletcher32()),
        ("jenkins_lookup3", numcodecs.JenkinsLookup3()),
        ("pcodec", numcodecs.PCodec()),
        ("zfpy", numcodecs.ZFPY(mode=4, tolerance=-1)),
        ("zfpy_rate", numcodecs.ZFPY(mode=2, rate=16)),
        ("lz4", numcodecs.LZ4()),
        ("shuffle", numcodecs.Shuffle(elementsize=8)),
    ]:
        out.append((f"v2_{nm}", F8, {"compressors": c, "zarr_format": 2}))
    for nm, f, d in [
        ("bitround", numcodecs.BitRound(keepbits=5), F8),
        ("quantize_f4", numcodecs.Quantize(digits=1, dtype="<f4"), F8.astype("f4")),
        ("crc32_filter", numcodecs.CRC32(), F8),
        ("fixedscaleoffset_i2", numcodecs.FixedScaleOffset(offset=2, scale=100, dtype="<f8", astype="<i2"), F8),
    ]:
        out.append((f"v2_{nm}", d, {"filters": [f], "zarr_format": 2}))
    out.append(("v2_F_adler32", F8, {"order": "F", "compressors": numcodecs.Adler32(), "zarr_format": 2}))
    return out


def make_all(out: str, only: list[str] | None = None) -> dict[str, str]:
    """Write every case (or those named) into ``out``; returns {name: error} for cases zarr-python refused."""
    import zarr

    warnings.filterwarnings("ignore")
    os.makedirs(out, exist_ok=True)
    failed: dict[str, str] = {}
    for name, data, kw in cases():
        if only is not None and name not in only:
            continue
        kw = dict(kw)
        p = os.path.join(out, f"{name}.zarr")
        shutil.rmtree(p, ignore_errors=True)
        rect = kw.pop("rectilinear", False)
        try:
            with zarr.config.set({"array.rectilinear_chunks": rect}):
                a = zarr.create_array(
                    p, shape=data.shape, dtype=kw.pop("dtype", data.dtype), chunks=kw.pop("chunks", (3, 2)), **kw
                )
                a[...] = data
                got = zarr.open_array(p)[...]
            np.save(os.path.join(out, f"{name}.npy"), got, allow_pickle=True)
        except Exception as e:  # a case this zarr-python cannot write
            failed[name] = f"{type(e).__name__}: {e}"
            shutil.rmtree(p, ignore_errors=True)
    # consolidated metadata as zarr-python 3.4 writes it, and a node with both .zarray and zarr.json
    p = os.path.join(out, "consolidated.zarr")
    shutil.rmtree(p, ignore_errors=True)
    g = zarr.open_group(p, mode="w", zarr_format=3)
    g.attrs["title"] = "c"
    a = g.create_array("x/y", shape=(4, 3), dtype="i4", chunks=(2, 2))
    a[...] = np.arange(12).reshape(4, 3)
    g.create_group("sub").attrs["k"] = 1
    zarr.consolidate_metadata(p)
    np.save(os.path.join(out, "consolidated.npy"), zarr.open_array(p, path="x/y")[...])
    p = os.path.join(out, "both.zarr")
    shutil.rmtree(p, ignore_errors=True)
    zarr.create_array(p, shape=(3,), dtype="i2", chunks=(3,), zarr_format=3, fill_value=7)
    with open(os.path.join(p, ".zarray"), "w") as f:
        json.dump(
            {
                "zarr_format": 2,
                "shape": [5],
                "chunks": [5],
                "dtype": "<f8",
                "compressor": None,
                "filters": None,
                "fill_value": 1.0,
                "order": "C",
            },
            f,
        )
    np.save(os.path.join(out, "both.npy"), zarr.open_array(p)[...])
    return failed


if __name__ == "__main__":
    bad = make_all(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
    for k, v in bad.items():
        print(f"{k}: {v}")
