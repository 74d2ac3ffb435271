"""Fixtures for julia/test/test_v3_ecosystem.jl: small stores written by zarr-python 3.4 (numcodecs.*
codecs, cast_value, scale_offset, the 22 data types, rectilinear grids, v2 with the new codecs, a node with
both zarr.json and .zarray, v3 consolidated metadata) and what zarr-python reads from each.

Run with zarr-python >= 3.4 (Python >= 3.12, numcodecs >= 0.17, pcodec, zfpy, cast-value-rs):
    python julia/test/data/zarr34/make_fixtures.py
Writes stores/<name>.zarr, expected/<name>.npy (or .json for object arrays) and manifest.json.
"""
from __future__ import annotations

import base64
import json
import shutil
import warnings
from pathlib import Path

import numcodecs
import numpy as np
import zarr
import zarr.codecs.numcodecs as nc
from zarr.codecs import CastValue, ScaleOffset

warnings.filterwarnings("ignore")
zarr.config.set({"array.rectilinear_chunks": True})
HERE = Path(__file__).parent
STORES, EXPECTED = HERE / "stores", HERE / "expected"
cases: list[dict] = []

F8 = np.linspace(-3, 7, 12).reshape(4, 3)
I4 = np.arange(12, dtype="<i4").reshape(4, 3)


def save_expected(name: str, b: np.ndarray) -> str:
    b = np.ascontiguousarray(b)
    if b.dtype.kind in "OT":
        vals = [base64.b64encode(x).decode() if isinstance(x, bytes) else x for x in b.ravel().tolist()]
        (EXPECTED / f"{name}.json").write_text(json.dumps({"shape": list(b.shape), "values": vals}))
        return f"{name}.json"
    np.save(EXPECTED / f"{name}.npy", b)
    return f"{name}.npy"


def mk(name: str, data: np.ndarray, group: str = "", zarr_format: int = 3, **kw) -> None:
    p = STORES / f"{name}.zarr"
    a = zarr.create_array(p, shape=data.shape, dtype=kw.pop("dtype", data.dtype), chunks=kw.pop("chunks", (2, 3)),
                          zarr_format=zarr_format, **kw)
    a[...] = data
    b = zarr.open_array(p)[...]
    cases.append({"name": name, "group": group, "zarr_format": zarr_format, "expected": save_expected(name, b),
                  "dtype": b.dtype.str if b.dtype.names is None else b.dtype.descr})


def unsupported(name: str, data: np.ndarray, codec: str, zarr_format: int = 3, **kw) -> None:
    p = STORES / f"{name}.zarr"
    a = zarr.create_array(p, shape=data.shape, dtype=data.dtype, chunks=(2, 3), zarr_format=zarr_format, **kw)
    a[...] = data
    cases.append({"name": name, "group": "unsupported", "zarr_format": zarr_format, "unsupported": codec})


def main() -> None:
    shutil.rmtree(STORES, ignore_errors=True)
    shutil.rmtree(EXPECTED, ignore_errors=True)
    STORES.mkdir()
    EXPECTED.mkdir()
    # numcodecs.* v3 codecs (zarr-python 3.4 names them numcodecs.<id>)
    for nm, c in [("zlib", nc.Zlib(level=1)), ("gzip", nc.GZip(level=5)), ("bz2", nc.BZ2(level=9)),
                  ("lzma", nc.LZMA()), ("lz4", nc.LZ4()), ("zstd", nc.Zstd(level=3)),
                  ("blosc", nc.Blosc(cname="lz4", clevel=5, shuffle=1)), ("crc32", nc.CRC32()),
                  ("crc32c", nc.CRC32C()), ("adler32", nc.Adler32()), ("fletcher32", nc.Fletcher32()),
                  ("jenkins_lookup3", nc.JenkinsLookup3()), ("shuffle", nc.Shuffle(elementsize=8))]:
        mk(f"nc_{nm}", F8, "numcodecs", compressors=[c])
    for nm, f, d in [("delta", nc.Delta(dtype="<i4"), I4),
                     ("fixedscaleoffset", nc.FixedScaleOffset(offset=1, scale=10, dtype="<f8", astype="<i4"), F8),
                     ("quantize", nc.Quantize(digits=2, dtype="<f8"), F8), ("bitround", nc.BitRound(keepbits=6), F8),
                     ("astype", nc.AsType(encode_dtype="<f4", decode_dtype="<f8"), F8)]:
        mk(f"nc_{nm}", d, "numcodecs", filters=[f])
    mk("nc_packbits", np.arange(12).reshape(4, 3) % 3 == 0, "numcodecs", filters=[nc.PackBits()])
    mk("nc_zfpy", F8, "numcodecs", serializer=nc.ZFPY(mode=4, tolerance=-1, rate=-1, precision=-1), compressors=None)
    unsupported("nc_pcodec", F8, "pcodec", serializer=nc.PCodec(), compressors=None)
    # cast_value / scale_offset
    mk("cast_int16", F8 * 100, "cast_scale", filters=[CastValue(data_type="int16")])
    mk("cast_uint8_clamp", F8 * 100, "cast_scale",
       filters=[CastValue(data_type="uint8", rounding="towards-zero", out_of_range="clamp")])
    x = F8.copy()
    x[0, 0] = np.nan
    mk("cast_scalar_map", x, "cast_scale",
       filters=[CastValue(data_type="int16", scalar_map={"encode": [["NaN", -1]], "decode": [[-1, "NaN"]]})])
    mk("scale_offset", F8, "cast_scale", filters=[ScaleOffset(offset=10.0, scale=4.0)])
    mk("scale_offset_int", I4, "cast_scale", filters=[ScaleOffset(offset=2, scale=3)])
    mk("scale_offset_cast", F8, "cast_scale", filters=[ScaleOffset(offset=10.0, scale=4.0), CastValue(data_type="int16")])
    # the 22 data types
    for t in ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
              "float64", "complex64", "complex128"]:
        mk(f"dt_{t}", (np.arange(12).reshape(4, 3) * 7 % 5).astype(t), "dtypes")
    mk("dt_datetime64", np.arange(12).astype("M8[10s]").reshape(4, 3), "dtypes")
    mk("dt_timedelta64", np.arange(12).astype("m8[ms]").reshape(4, 3), "dtypes")
    mk("dt_fixed_length_utf32", np.array(list("abcdefghijkl")).astype("<U3").reshape(4, 3), "dtypes")
    mk("dt_null_terminated_bytes", np.array([b"ab", b"c", b""] * 4).reshape(4, 3), "dtypes")
    mk("dt_raw_bytes", np.frombuffer(bytes(range(36)), "V3").reshape(4, 3), "dtypes")
    st = np.zeros(12, [("a", "<i4"), ("b", "<f8"), ("c", "S3")]).reshape(4, 3)
    st["a"] = I4
    st["b"] = F8
    st["c"] = b"xy"
    mk("dt_struct", st, "dtypes")
    mk("dt_struct_fill", st, "dtypes", fill_value=(7, 1.5, b"q"))
    mk("dt_string", np.array(list("abcdefghijkl"), dtype=object).reshape(4, 3), "dtypes", dtype=str)
    mk("dt_variable_length_bytes", np.array([b"x" * i for i in range(12)], dtype=object).reshape(4, 3), "dtypes",
       dtype=zarr.dtype.VariableLengthBytes())
    # zarr-python 3.1's struct JSON: [name, data_type] pairs and a base64 fill (same chunks)
    shutil.copytree(STORES / "dt_struct_fill.zarr", STORES / "dt_struct_old.zarr")
    zj = STORES / "dt_struct_old.zarr" / "zarr.json"
    d = json.loads(zj.read_text())
    d["data_type"] = {"name": "structured", "configuration": {"fields": [
        ["a", "int32"], ["b", "float64"], ["c", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}]]}}
    d["fill_value"] = base64.b64encode(np.array([(7, 1.5, b"q")], st.dtype).tobytes()).decode()
    zj.write_text(json.dumps(d, indent=2))
    cases.append(dict(cases[-3], name="dt_struct_old", expected=cases[-3]["expected"]))
    # rectilinear chunk grids
    r = np.arange(70).reshape(10, 7)
    mk("rect", r, "rectilinear", chunks=[[3, 3, 4], [2, 5]])
    mk("rect_sharded", r, "rectilinear", chunks=(2, 1), shards=[[2, 4, 4], [2, 5]])
    # v2 with the new codecs
    for nm, c in [("crc32", numcodecs.CRC32()), ("adler32", numcodecs.Adler32()), ("fletcher32", numcodecs.Fletcher32()),
                  ("jenkins_lookup3", numcodecs.JenkinsLookup3()), ("zfpy", numcodecs.ZFPY(mode=4, tolerance=-1)),
                  ("lz4", numcodecs.LZ4())]:
        mk(f"v2_{nm}", F8, "v2", zarr_format=2, compressors=c)
    for nm, f, d in [("bitround", numcodecs.BitRound(keepbits=5), F8),
                     ("bitround_f4", numcodecs.BitRound(keepbits=3), F8.astype("f4")),
                     ("quantize_f4", numcodecs.Quantize(digits=1, dtype="<f4"), F8.astype("f4")),
                     ("crc32_filter", numcodecs.CRC32(), F8)]:
        mk(f"v2_{nm}", d, "v2", zarr_format=2, filters=[f])
    mk("v2_F_adler32", F8, "v2", zarr_format=2, order="F", compressors=numcodecs.Adler32())
    unsupported("v2_pcodec", F8, "pcodec", zarr_format=2, compressors=numcodecs.PCodec())
    # both zarr.json and .zarray at one node: zarr-python reads the zarr.json
    mk("both_documents", I4, "documents")
    (STORES / "both_documents.zarr" / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "|u1", "compressor": None, "filters": None,
        "fill_value": 0, "order": "C"}))
    # v3 consolidated metadata
    g = zarr.open_group(STORES / "consolidated.zarr", mode="w", zarr_format=3)
    g.create_array("a", shape=(4, 3), chunks=(2, 3), dtype="i4")[...] = I4
    g.create_group("sub").create_array("b", shape=(3,), chunks=(2,), dtype="f8")[...] = [1.5, 2.5, 3.5]
    zarr.consolidate_metadata(STORES / "consolidated.zarr")
    np.save(EXPECTED / "consolidated_a.npy", I4)
    np.save(EXPECTED / "consolidated_sub_b.npy", np.array([1.5, 2.5, 3.5]))
    (HERE / "manifest.json").write_text(json.dumps({"zarr": zarr.__version__, "numcodecs": numcodecs.__version__,
                                                   "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
