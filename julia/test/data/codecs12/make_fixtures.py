"""Fixtures for julia/test/test_codecs_issue12.jl: bytes written by numcodecs / zarr-python 3.4.

Run with a Python that has zarr >= 3.4, numcodecs >= 0.16, zfpy and cast-value-rs, e.g.
    python julia/test/data/codecs12/make_fixtures.py
Writes, per case, <name>.in.npy (the input array), <name>.enc.bin (the encoded bytes) and
<name>.out.npy (what numcodecs / zarr-python decodes them to), and manifest.json listing the
cases with their v2 config (numcodecs get_config()) and v3 codec JSON (zarr-python's to_dict()).
"""
import importlib.metadata as _md

_version = _md.version
# zfpy 1.0.1.post0's version string breaks numcodecs' parser ("post0" is not an int)
_md.version = lambda n: "1.0.1" if n == "zfpy" else _version(n)

import json
import os
import sys

import numpy as np
import numcodecs
import zarr

HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def save(name, kind, arr, enc, dec, v2=None, v3=None, deterministic=True, **extra):
    np.save(os.path.join(HERE, name + ".in.npy"), arr)
    with open(os.path.join(HERE, name + ".enc.bin"), "wb") as f:
        f.write(bytes(enc))
    np.save(os.path.join(HERE, name + ".out.npy"), dec)
    c = dict(name=name, kind=kind, v2=v2, v3=v3, deterministic=deterministic,
             dtype=arr.dtype.str, shape=list(arr.shape))
    c.update(extra)
    cases.append(c)


def v3_json(codec):
    import numcodecs.zarr3 as nz  # noqa: F401
    return codec.to_dict()


# ---- checksums: bytes -> bytes on a small int32 array's bytes (and an odd-length buffer)
import numcodecs.zarr3 as nz

data = np.arange(-7, 29, dtype="<i4")
odd = np.frombuffer(b"polyzarr-odd", dtype="u1")[:11].copy()
empty = np.zeros(0, dtype="u1")
long = ((np.arange(200, dtype="<u8") * 2654435761) % 2**32).astype("<u4")   # > 360 words for fletcher
for cid, mk, v3mk in [
    ("crc32", lambda: numcodecs.CRC32(), lambda: nz.CRC32()),
    ("crc32_end", lambda: numcodecs.CRC32(location="end"), lambda: nz.CRC32(location="end")),
    ("adler32", lambda: numcodecs.Adler32(), lambda: nz.Adler32()),
    ("adler32_end", lambda: numcodecs.Adler32(location="end"), lambda: nz.Adler32(location="end")),
    ("fletcher32", lambda: numcodecs.Fletcher32(), lambda: nz.Fletcher32()),
    ("jenkins_lookup3", lambda: numcodecs.JenkinsLookup3(), lambda: nz.JenkinsLookup3()),
    ("jenkins_lookup3_seed", lambda: numcodecs.JenkinsLookup3(initval=1234567), lambda: nz.JenkinsLookup3(initval=1234567)),
]:
    for suffix, arr in [("", data), ("_odd", odd), ("_empty", empty), ("_long", long)]:
        if cid == "fletcher32" and suffix == "_empty":
            continue                                   # numcodecs fails on an empty buffer
        codec = mk()
        enc = codec.encode(arr)
        dec = np.frombuffer(bytes(codec.decode(enc)), dtype=arr.dtype)
        cfg = codec.get_config()
        save(cid + suffix, "bytes_bytes", arr, enc, dec, v2=cfg, v3=v3_json(v3mk()))

# jenkins with a prefix (numcodecs takes bytes; config JSON cannot hold them: Julia takes a byte list)
codec = numcodecs.JenkinsLookup3(initval=7, prefix=b"zarr")
enc = codec.encode(data)
save("jenkins_lookup3_prefix", "bytes_bytes", data, enc, np.frombuffer(bytes(codec.decode(enc)), dtype=data.dtype),
     v2={"id": "jenkins_lookup3", "initval": 7, "prefix": list(b"zarr")}, v3=None)

# ---- bitround: float16/32/64, several keepbits, specials
for t, kbs in [("<f2", [0, 3, 10]), ("<f4", [0, 1, 7, 23]), ("<f8", [0, 12, 52]), (">f4", [5])]:
    vals = np.array([0.0, -0.0, 1.0, -1.0, np.pi, -np.e, 1e-3, 12345.678, 0.1, 2.5, np.inf, -np.inf, np.nan,
                     65504.0, 6e-8], dtype="<f8")
    arr = vals.astype(t)
    for kb in kbs:
        if t.startswith(">"):
            # numcodecs' BitRound does not accept big-endian dtypes ("max_bits[str(dtype)]"); round the
            # native values and store them big-endian
            enc = numcodecs.BitRound(keepbits=kb).encode(arr.astype("<f4")).view("<f4").astype(t)
        else:
            enc = numcodecs.BitRound(keepbits=kb).encode(arr)
        enc = np.asarray(enc).view(t)
        save(f"bitround_{t[1:]}{'_be' if t[0] == '>' else ''}_k{kb}", "array_array", arr, enc.tobytes(), enc,
             v2={"id": "bitround", "keepbits": kb}, v3=v3_json(nz.BitRound(keepbits=kb)))

# ---- quantize (exists in codecs.jl; checked here against numcodecs for every float type)
qv = np.array([0.0, 1 / 3, -2 / 3, np.pi, -np.e * 100, 1234.5678, 0.05, np.nan, np.inf, 2.5 / 1024])
for t, digits, ast in [("<f2", 1, None), ("<f2", 2, None), ("<f4", 3, None), ("<f4", 0, None), ("<f8", 5, None),
                       ("<f8", 2, "<f4"), ("<f8", -1, None), (">f8", 3, None)]:
    arr = qv.astype(t)
    codec = numcodecs.Quantize(digits=digits, dtype=t, astype=ast)
    enc = np.asarray(codec.encode(arr))
    dec = codec.decode(enc)
    save(f"quantize_{t[1:]}{'_be' if t[0] == '>' else ''}_d{digits}{'_as' + ast[1:] if ast else ''}", "quantize", arr,
         enc.tobytes(), np.asarray(dec), v2=codec.get_config(), v3=v3_json(nz.Quantize(digits=digits, dtype=t, astype=ast) if ast else nz.Quantize(digits=digits, dtype=t)))

# ---- zfpy: numcodecs' ZFPY (zfp header + stream), modes accuracy / rate / precision / reversible
import zfpy

rng = np.random.default_rng(12)
f32 = np.cumsum(rng.standard_normal((5, 7)), axis=1).astype("<f4")
f64_3d = np.sin(np.arange(2 * 3 * 9).reshape(2, 3, 9) / 5.0).astype("<f8")
i32 = (np.arange(20).reshape(4, 5) * 37 - 300).astype("<i4")
i64 = np.arange(-6, 6, dtype="<i8") * 1000003
f64_1d = np.linspace(-3, 3, 13)
f32_4d = np.arange(2 * 2 * 3 * 4, dtype="<f4").reshape(2, 2, 3, 4) / 7
for name, arr, kw in [
    ("zfpy_accuracy_f32", f32, dict(mode=zfpy.mode_fixed_accuracy, tolerance=0.01)),
    ("zfpy_rate_f64_3d", f64_3d, dict(mode=zfpy.mode_fixed_rate, rate=12)),
    ("zfpy_precision_f32", f32, dict(mode=zfpy.mode_fixed_precision, precision=14)),
    ("zfpy_precision_i32", i32, dict(mode=zfpy.mode_fixed_precision, precision=20)),
    ("zfpy_accuracy_f64_1d", f64_1d, dict(mode=zfpy.mode_fixed_accuracy, tolerance=1e-6)),
    ("zfpy_rate_i64", i64, dict(mode=zfpy.mode_fixed_rate, rate=32)),
    ("zfpy_accuracy_f32_4d", f32_4d, dict(mode=zfpy.mode_fixed_accuracy, tolerance=0.001)),
]:
    codec = numcodecs.ZFPY(**kw)
    enc = codec.encode(arr)
    dec = codec.decode(enc)
    save(name, "zfpy", arr, enc, dec, v2=codec.get_config(), v3=v3_json(nz.ZFPY(**kw)))
# reversible (lossless): zfpy's compress_numpy with no tolerance/rate/precision
enc = zfpy.compress_numpy(f64_3d, write_header=True)
save("zfpy_reversible_f64_3d", "zfpy", f64_3d, enc, zfpy.decompress_numpy(enc), v2={"id": "zfpy", "mode": 5}, v3=None)

# ---- cast_value and scale_offset: zarr-python 3.4 arrays (one chunk, no compressor) in memory
from zarr.codecs import CastValue, ScaleOffset
from zarr.storage import MemoryStore


def zarr_roundtrip(name, kind, arr, codec, fill=0, **extra):
    """Write `arr` through `codec` with zarr-python; record the stored chunk and the read-back,
    or, when zarr-python refuses to write, the error (Julia must refuse too)."""
    store = MemoryStore()
    z = zarr.create_array(store, shape=arr.shape, chunks=arr.shape, dtype=arr.dtype, filters=[codec],
                          compressors=None, fill_value=fill, zarr_format=3)
    meta = json.loads(store._store_dict["zarr.json"].to_bytes())
    try:
        z[...] = arr
    except Exception as e:  # noqa: BLE001
        cases.append(dict(name=name, kind=kind, v2=None, v3=meta["codecs"][0], dtype=arr.dtype.str,
                          data_type=meta["data_type"], shape=list(arr.shape), error=f"{type(e).__name__}: {e}", **extra))
        np.save(os.path.join(HERE, name + ".in.npy"), arr)
        return
    enc = store._store_dict["c/0"].to_bytes()
    try:
        dec = z[...]
        derr = None
    except Exception as e:  # noqa: BLE001
        dec, derr = np.zeros(0, dtype=arr.dtype), f"{type(e).__name__}: {e}"
    save(name, kind, arr, enc, dec, v3=meta["codecs"][0], data_type=meta["data_type"], decode_error=derr,
         fill_value=meta["fill_value"], **extra)


MODES = ["nearest-even", "towards-zero", "towards-positive", "towards-negative", "nearest-away"]
halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 2.7, -2.7, 126.6, 127.4, 127.6, 300.2, -129.0,
                   -128.6, 255.5, 1e20, 2.0**70 + 3 * 2.0**20])
for m in MODES:
    for oor in ["clamp", "wrap"]:
        zarr_roundtrip(f"cast_f8_i1_{m}_{oor}", "cast_value", halves, CastValue(data_type="int8", rounding=m, out_of_range=oor))
u8vals = np.array([-1.0, 256.0, 257.4, -0.4, -0.6, 3.5, 1.9e3])
for oor in ["clamp", "wrap"]:
    zarr_roundtrip(f"cast_f8_u1_{oor}", "cast_value", u8vals, CastValue(data_type="uint8", out_of_range=oor))
big = np.array([9.3e18, -9.3e18, 2.0**63 - 1024, 2.0**63, 2.0**64 + 4096, -2.0**63 - 4096, 1e30, 1.9e19, -5.0, 12.5])
for tgt in ["int64", "uint64"]:
    for oor in ["clamp", "wrap"]:
        zarr_roundtrip(f"cast_f8_{tgt}_{oor}", "cast_value", big, CastValue(data_type=tgt, out_of_range=oor))
specials = np.array([1e300, -1e300, 3.4028235e38, 3.4028236e38, 3.40282357e38, -3.4028236e38, 1.0000000596046448,
                     1.0000000894069672, 1.0000000298023224, -1.0000000298023224, np.nan, np.inf, -np.inf, 1e-46,
                     -1e-46, 7e-46, 0.1, -0.0, 1 + 2.0**-11 + 2.0**-40])
f16vals = np.array([65504.0, 65519.0, 65520.0, 70000.0, -65520.0, 1e-8, -1e-8, 0.1, 1 + 2.0**-11, 1 + 2.0**-11 + 2.0**-40,
                    1 + 3 * 2.0**-11, 2.0**-25, 3 * 2.0**-26, np.nan, -np.inf, 1 + 2.0**-40, 1 - 2.0**-40,
                    65519.99999999, 65520 - 2.0**-37, -(1 + 2.0**-11 + 2.0**-40)])
for m in MODES:
    zarr_roundtrip(f"cast_f8_f4_{m}", "cast_value", specials, CastValue(data_type="float32", rounding=m, out_of_range="clamp"))
    zarr_roundtrip(f"cast_f8_f2_{m}", "cast_value", f16vals, CastValue(data_type="float16", rounding=m, out_of_range="clamp"))
    zarr_roundtrip(f"cast_f4_f2_{m}", "cast_value", f16vals.astype("<f4"), CastValue(data_type="float16", rounding=m, out_of_range="clamp"))
ints = np.array([-200, -129, -128, 127, 128, 255, 256, 1000, 0, -1], dtype="<i4")
for tgt in ["int8", "uint8"]:
    for oor in ["clamp", "wrap"]:
        zarr_roundtrip(f"cast_i4_{tgt}_{oor}", "cast_value", ints, CastValue(data_type=tgt, out_of_range=oor))
i64 = np.array([2**53 + 1, 2**53 + 3, 16777217, 16777219, -16777217, -16777219, 2**62 + 2**38 + 1, 2**63 - 1, -2**63, 5],
               dtype="<i8")
for m in MODES:
    zarr_roundtrip(f"cast_i8_f4_{m}", "cast_value", i64, CastValue(data_type="float32", rounding=m))
    zarr_roundtrip(f"cast_i8_f8_{m}", "cast_value", i64, CastValue(data_type="float64", rounding=m))
zarr_roundtrip("cast_u8_i8_wrap", "cast_value", np.array([2**64 - 1, 2**63, 5], dtype="<u8"), CastValue(data_type="int64", out_of_range="wrap"))
zarr_roundtrip("cast_f4_f8", "cast_value", np.array([0.1, np.nan, -np.inf, 3.5], dtype="<f4"), CastValue(data_type="float64"))
zarr_roundtrip("cast_i2_f2", "cast_value", np.array([2049, 2051, -4097, 30000, 7], dtype="<i2"),
               CastValue(data_type="float16", rounding="towards-zero"))
sm = {"encode": [("NaN", -1), ("Infinity", 32767), ("-Infinity", -32768)], "decode": [(-1, "NaN")]}
zarr_roundtrip("cast_f8_i2_scalar_map", "cast_value", np.array([np.nan, 1.25, np.inf, -np.inf, -3.5, 1000.5]),
               CastValue(data_type="int16", scalar_map=sm))
zarr_roundtrip("cast_f8_u1_scalar_map_exact", "cast_value", np.array([1.0, 2.0, 3.5, 2.0]),
               CastValue(data_type="uint8", scalar_map={"encode": [(2.0, 99)], "decode": [(99, 2.5)]}))
# zarr-python refuses these (the default out_of_range is an error; NaN/Inf never cast to ints)
zarr_roundtrip("cast_err_range", "cast_value", np.array([1.0, 127.6]), CastValue(data_type="int8"))
zarr_roundtrip("cast_err_nan", "cast_value", np.array([1.0, np.nan]), CastValue(data_type="int8", out_of_range="clamp"))
zarr_roundtrip("cast_err_inf", "cast_value", np.array([np.inf]), CastValue(data_type="int16", out_of_range="wrap"))
zarr_roundtrip("cast_err_f4", "cast_value", np.array([1.0, 1e300]), CastValue(data_type="float32"))
zarr_roundtrip("cast_err_f2", "cast_value", np.array([65520.0]), CastValue(data_type="float16", rounding="nearest-even"))
zarr_roundtrip("cast_err_i4_i1", "cast_value", np.array([5, -129], dtype="<i4"), CastValue(data_type="int8"))

zarr_roundtrip("so_f4", "scale_offset", np.array([10.0, 10.25, 11.5, -3.1, np.nan, np.inf], dtype="<f4"), ScaleOffset(offset=10.0, scale=4.0))
zarr_roundtrip("so_f8", "scale_offset", np.array([0.1, 0.2, 0.3, 1e300, -7.75]), ScaleOffset(offset=0.1, scale=3))
zarr_roundtrip("so_f2", "scale_offset", np.array([1.5, 2.0, 3.1, 100.7, -4.2], dtype="<f2"), ScaleOffset(offset=1.5, scale=3))
zarr_roundtrip("so_f8_defaults", "scale_offset", np.array([1.0, 2.5]), ScaleOffset())
zarr_roundtrip("so_f8_strings", "scale_offset", np.array([1.0, 2.5, -1.0]), ScaleOffset(offset="-Infinity", scale=2.0))
zarr_roundtrip("so_i2", "scale_offset", np.array([100, 103, 0, -1000, 10000], dtype="<i2"), ScaleOffset(offset=100, scale=3))
zarr_roundtrip("so_i1_neg_scale", "scale_offset", np.array([1, 2, -3, 20], dtype="|i1"), ScaleOffset(offset=-2, scale=-4))
zarr_roundtrip("so_u8_big", "scale_offset", np.array([0, 2**62, 2**63 - 1, 10], dtype="<u8"), ScaleOffset(offset=0, scale=2))
zarr_roundtrip("so_i8_big", "scale_offset", np.array([-2**62, 2**62 - 2, 7], dtype="<i8"), ScaleOffset(offset=-1, scale=2))
# int64 results outside int64 wrap silently in zarr-python 3.4 (2**62 - 1 + 1 → 2**63 → -2**63)
zarr_roundtrip("so_i8_wraps", "scale_offset", np.array([2**62 - 1, 5], dtype="<i8"), ScaleOffset(offset=-1, scale=2))
zarr_roundtrip("so_err_i2_overflow", "scale_offset", np.array([100, 30000], dtype="<i2"), ScaleOffset(offset=100, scale=3))
zarr_roundtrip("so_err_u1_underflow", "scale_offset", np.array([12, 5], dtype="|u1"), ScaleOffset(offset=10, scale=2), fill=12)
zarr_roundtrip("so_err_u8_overflow", "scale_offset", np.array([2**63 + 1], dtype="<u8"), ScaleOffset(offset=0, scale=2))

# decode-side errors: stored integers that are not multiples of scale (zarr-python raises on read)
from zarr.codecs.scale_offset import _decode as so_decode

bad = np.array([3, 7, 9], dtype="<i4")
try:
    so_decode(bad, np.int32(0), np.int32(3), scale_repr=3)
    raise SystemExit("zarr-python decoded a non-multiple: fixture assumption broken")
except ValueError as e:
    np.save(os.path.join(HERE, "so_err_decode_inexact.in.npy"), bad)
    cases.append(dict(name="so_err_decode_inexact", kind="scale_offset_decode_error", v2=None,
                      v3={"name": "scale_offset", "configuration": {"scale": 3}}, dtype="<i4", data_type="int32",
                      shape=[3], error=f"ValueError: {e}"))

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump({"zarr": zarr.__version__, "numcodecs": numcodecs.__version__, "cases": cases}, f, indent=1)
print(f"{len(cases)} cases, zarr {zarr.__version__}, numcodecs {numcodecs.__version__}", file=sys.stderr)
