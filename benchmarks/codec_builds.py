"""The codec library builds behind `make bench`, side by side on the bench's own data (one thread, ms per MiB).

    python benchmarks/codec_builds.py [--rounds N]

Where polyzarr's time is its codec library's, this says how much of a gap to a peer is the library build:
  blosc decode   numcodecs' bundled c-blosc (the codec limit's, polyzarr-Python's) against the system libblosc
                 (what PolyZarr.jl calls), on the bench's blosc-lz4 chunks and on random doubles (shuffle only:
                 the byte unshuffle alone, lz4 finding nothing to expand)
  zstd decode    numcodecs' bundled libzstd against python-zstandard's (polyzarr-Python's read path) and the
                 system libzstd (PolyZarr.jl's), on 1 MiB chunks and 128 KiB inner chunks
  zstd encode    numcodecs (what polyzarr-Python and zarr-python write with) against python-zstandard with a
                 context reused (what a peer bundling a newer libzstd gets), and whether the bytes are the same
The data are the bench's values, round(sin(k/1000) * 100, 2), in its chunk shapes (128, 1024) and (16, 1024).
A benchmark, not a test: it prints and exits 0; a library that is not there is shown as n/a.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import time

import numcodecs
import numpy as np
from numcodecs import blosc

COLS = 1024


def values(rows: int, start_row: int = 0) -> np.ndarray:
    k = np.arange(start_row * COLS, (start_row + rows) * COLS, dtype="<f8")
    return np.round(np.sin(k / 1000) * 100, 2)


def chunks(rows: int, n: int) -> list[np.ndarray]:
    return [values(rows, i * rows * 37) for i in range(n)]  # spread over the array, as the bench's chunks are


def best_ms_per_mib(fn, nbytes: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best / (nbytes / 2**20) * 1e3


def system_lib(name: str):
    path = ctypes.util.find_library(name)
    if path is None:
        return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def row(what: str, cells: list[tuple[str, float | None]]) -> None:
    print(f"  {what:<34}" + "".join(f"  {n:>16} {'n/a' if v is None else f'{v:6.3f}':>6}" for n, v in cells))


def blosc_rows(rounds: int) -> None:
    blosc.set_nthreads(1)
    blosc.use_threads = False
    lib = system_lib("blosc")
    sysver = None
    if lib is not None:
        lib.blosc_get_version_string.restype = ctypes.c_char_p
        sysver = lib.blosc_get_version_string().decode()
        dec = lib.blosc_decompress_ctx
        dec.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    print(f"blosc decode, 1 MiB chunks (numcodecs' c-blosc {blosc.VERSION_STRING}, system libblosc {sysver or 'n/a'})")
    rng = np.random.default_rng(0)
    for what, data in (
        ("bench chunks, lz4 clevel 5 shuffle", chunks(128, 16)),
        ("random doubles, lz4 shuffle", [rng.random(128 * COLS) for _ in range(16)]),
    ):
        frames = [blosc.compress(x.tobytes(), b"lz4", 5, 1, 0, 8) for x in data]
        out = np.empty(128 * COLS * 8, np.uint8)
        nbytes = out.nbytes * len(frames)
        nc = best_ms_per_mib(lambda: [blosc.decompress(f, out) for f in frames], nbytes, rounds)
        sy = (
            None
            if lib is None
            else best_ms_per_mib(lambda: [dec(f, out.ctypes.data, out.nbytes, 1) for f in frames], nbytes, rounds)
        )
        row(what, [("numcodecs", nc), ("system", sy), ("system÷numcodecs", None if sy is None else sy / nc)])


def zstd_rows(rounds: int) -> None:
    import numcodecs.zstd as nz

    try:
        import zstandard
    except ImportError:
        zstandard = None
    lib = system_lib("zstd")
    if lib is not None:
        lib.ZSTD_decompress.restype = ctypes.c_size_t
        lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        lib.ZSTD_versionString.restype = ctypes.c_char_p
    ncver = ".".join(str(nz.VERSION_NUMBER // d % 100) for d in (10000, 100, 1))
    zsver = "n/a" if zstandard is None else ".".join(map(str, zstandard.ZSTD_VERSION))
    sysver = "n/a" if lib is None else lib.ZSTD_versionString().decode()
    print(f"zstd level 0 (numcodecs' libzstd {ncver}, python-zstandard's {zsver}, system {sysver})")
    for rows, label in ((128, "1 MiB chunks"), (16, "128 KiB inner chunks")):
        data = chunks(rows, 128 // rows * 16)
        nbytes = sum(x.nbytes for x in data)
        codec = numcodecs.Zstd(level=0)
        frames = [codec.encode(x) for x in data]
        out = np.empty(rows * COLS * 8, np.uint8)
        view = memoryview(out)
        nc = best_ms_per_mib(lambda: [nz.decompress(f, out) for f in frames], nbytes, rounds)
        zs = sy = None
        if zstandard is not None:
            d = zstandard.ZstdDecompressor()

            def zs_decode() -> None:
                for f in frames:
                    with d.stream_reader(f) as r:
                        r.readinto(view)

            zs = best_ms_per_mib(zs_decode, nbytes, rounds)
        if lib is not None:
            sy = best_ms_per_mib(
                lambda: [lib.ZSTD_decompress(out.ctypes.data, out.nbytes, f, len(f)) for f in frames], nbytes, rounds
            )
        row(f"decode, {label}", [("numcodecs", nc), ("zstandard", zs), ("system", sy)])
        enc = best_ms_per_mib(lambda: [codec.encode(x) for x in data], nbytes, rounds)
        zenc, same = None, "n/a"
        if zstandard is not None:
            c = zstandard.ZstdCompressor(level=3)  # numcodecs' level 0 is libzstd's default, 3
            zenc = best_ms_per_mib(lambda: [c.compress(x) for x in data], nbytes, rounds)
            same = "same bytes" if all(c.compress(x) == f for x, f in zip(data, frames)) else "other bytes"
        row(f"encode, {label}", [("numcodecs", enc), ("zstandard", zenc)])
        print(f"  {'':<34}  (python-zstandard's frames against numcodecs': {same})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7, help="best of this many (default 7)")
    args = ap.parse_args()
    print("ms per MiB of decoded data, one thread, best of", args.rounds)
    blosc_rows(args.rounds)
    zstd_rows(args.rounds)


if __name__ == "__main__":
    main()
