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

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump({"zarr": zarr.__version__, "numcodecs": numcodecs.__version__, "cases": cases}, f, indent=1)
print(f"{len(cases)} cases, zarr {zarr.__version__}, numcodecs {numcodecs.__version__}", file=sys.stderr)
