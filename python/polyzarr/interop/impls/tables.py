"""The declared capability table of every implementation (what it writes and reads), measured here and checked
by the suite: a cell outside the table is *unsupported* (with the reason); a declared cell that fails is a failure;
an undeclared cell that works is reported (``works``) so the table is widened. Versions measured: tensorstore
0.1.86, zarrs 0.2.3 (on zarr-python 3.4.2), zarrita.js 0.7.5 (Node 20), zarr-python 2.18.7."""

from __future__ import annotations

from .capabilities import EVERYTHING, Capabilities, Limit, Support, fs

NUMERIC = fs(
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
)  # fmt: skip
V3_CORE_CODECS = fs("bytes", "transpose", "gzip", "zstd", "blosc", "crc32c", "sharding_indexed")

TS_V2_DTYPES = NUMERIC | fs("raw_bytes")
TS_V3_DTYPES = NUMERIC | fs("raw_bytes")
TS_CODECS = fs("blosc", "zlib", "gzip", "bz2", "zstd") | V3_CORE_CODECS
TENSORSTORE = Capabilities(
    write=Support(stores=fs("local", "s3"), dtypes=TS_V2_DTYPES, codecs=TS_CODECS),
    read=Support(dtypes=TS_V2_DTYPES, codecs=TS_CODECS),
    limits=(
        Limit(
            "tensorstore's zarr3 driver has no such data type",
            format=3,
            dtypes=fs("struct", "null_terminated_bytes"),
        ),
        Limit(
            "tensorstore holds raw bytes as an extra byte dimension (the adapter maps only v3 writes)",
            op="read",
            dtypes=fs("raw_bytes"),
        ),
        Limit("tensorstore's zarr3 driver has only the regular chunk grid", flags=fs("rectilinear")),
    ),
    notes=(
        "drivers zarr (v2) and zarr3 (v3); kvstores file and s3 (endpoint + region, environment credentials)",
        "v2: no filters, no object / <U / datetime64 / timedelta64 dtypes, no lz4 or lzma compressor; structs and |S "
        "only field by field or as an extra char dimension (not mapped by the adapter)",
        "v3: numeric data types and raw bytes (as an extra byte dimension); opens structs only one field at a time",
        "runs in a worker process: a failed internal check aborts the whole process",
    ),
)

ZARRS_CODECS = V3_CORE_CODECS | fs("zlib", "gzip", "bz2", "vlen-utf8", "vlen-bytes", "shuffle",
                                   "fixedscaleoffset", "pcodec")  # fmt: skip
# zarr-python 3.4's numcodecs.* v3 names that zarrs-python runs (measured with --probe)
ZARRS_CODECS |= fs("numcodecs.zlib", "numcodecs.bz2", "numcodecs.shuffle", "numcodecs.fixedscaleoffset",
                   "numcodecs.pcodec")  # fmt: skip
ZARRS_DTYPES = NUMERIC | fs("string", "variable_length_bytes", "struct")
ZARRS = Capabilities(
    write=Support(stores=fs("local", "s3"), dtypes=ZARRS_DTYPES, codecs=ZARRS_CODECS),
    read=Support(dtypes=ZARRS_DTYPES, codecs=ZARRS_CODECS),
    limits=(
        # zarrs writes v2 order F and big-endian arrays right (read back by the others) but cannot read them
        Limit(
            "zarrs reads no v2 order 'F' array (ValueError: input array must be a C contiguous array)",
            op="read",
            format=2,
            flags=fs("order_F"),
        ),
        Limit(
            "zarrs reads no big-endian v2 array (RuntimeError: Non-native byte order not supported)",
            op="read",
            format=2,
            flags=fs("big_endian"),
        ),
        Limit(
            "zarrs cannot create a v2 0-d array with order F (UnsupportedMetadataError)",
            op="write",
            format=2,
            flags=fs("0d", "order_F"),
        ),
        Limit(
            "zarrs cannot create a big-endian v2 structured array (UnsupportedMetadataError)",
            op="write",
            format=2,
            dtypes=fs("struct"),
            flags=fs("big_endian"),
        ),
        Limit(
            "zarrs has no v2 vlen/object data types", format=2, dtypes=fs("string", "variable_length_bytes", "object")
        ),
        Limit("zarr-python cannot represent sub-array or nested struct fields", flags=fs("struct_nested")),
        Limit(
            "zarrs 0.2.3 has only numeric v3 data types (UnsupportedDataTypeError / UnsupportedMetadataError)",
            format=3,
            dtypes=fs("string", "variable_length_bytes", "fixed_length_utf32", "null_terminated_bytes", "struct"),
        ),
    ),
    notes=(
        "zarr-python 3.4 with codec_pipeline.path = zarrs.ZarrsCodecPipeline and codec_pipeline.strict (no fallback "
        "to zarr-python's own pipeline), in a worker process of its own",
        "no datetime64 / timedelta64 / raw bytes data types (UnsupportedMetadataError / UnsupportedDataTypeError)",
    ),
)

ZARR2 = Capabilities(
    write=Support(formats=fs(2), stores=fs("local", "s3", "golden")),
    read=Support(formats=fs(2)),
    limits=(
        Limit(
            "zarr 2.18's venv (Python 3.11) has no zfpy: the only cp311 wheel, zfpy 1.0.1.post0, breaks numcodecs' "
            "import (UnknownCodecError: codec not available: 'zfpy')",
            codecs=fs("zfpy"),
        ),
    ),
    notes=("zarr-python 2.18 in .cache/zarr2-venv (Python 3.11), in a worker process: Zarr v2 only",),
)

ZARRITA_DTYPES = fs(
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
    "string", "fixed_length_utf32", "null_terminated_bytes",
)  # fmt: skip
ZARRITA = Capabilities(
    write=Support(
        formats=fs(3),
        stores=fs("local"),
        dtypes=fs(
            "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"
        ),
        codecs=fs("bytes", "transpose", "zstd", "blosc", "vlen-utf8")
        | fs("numcodecs.blosc", "numcodecs.delta", "numcodecs.lz4", "numcodecs.shuffle", "numcodecs.zstd"),
        flags=fs("big_endian", "fill_nan", "chunk_key_v2", "0d", "fill_null"),
    ),
    read=Support(
        stores=fs("local", "golden"),
        dtypes=ZARRITA_DTYPES,
        codecs=fs(
            "bytes",
            "transpose",
            "gzip",
            "zlib",
            "zstd",
            "blosc",
            "lz4",
            "crc32c",
            "vlen-utf8",
            "sharding_indexed",
            "delta",
            "shuffle",
            "fixedscaleoffset",
            # zarr-extensions and zarr-python 3.4's numcodecs.* names (measured with --probe)
            "bitround",
            "cast_value",
            "scale_offset",
            "numcodecs.bitround",
            "numcodecs.blosc",
            "numcodecs.delta",
            "numcodecs.gzip",
            "numcodecs.lz4",
            "numcodecs.shuffle",
            "numcodecs.zlib",
            "numcodecs.zstd",
        ),
    ),
    limits=(
        Limit(
            "zarrita.js has no v3 fixed_length_utf32 / null_terminated_bytes (v2 <U / |S only)",
            format=3,
            dtypes=fs("fixed_length_utf32", "null_terminated_bytes"),
        ),
        Limit("zarrita.js has only the regular chunk grid", flags=fs("rectilinear")),
    ),
    notes=(
        "zarrita.js 0.7.5 on Node 20 through interop/node/worker.mjs",
        "int64/uint64 come back as BigInt64Array/BigUint64Array",
        "no Float16Array on Node 20: float16 is unsupported; no complex, datetime, struct or raw types",
        "sharded arrays are read-only; writes are Zarr v3 only and no gzip/crc32c encode; no S3 store (FetchStore "
        "cannot sign requests)",
        "writing strings fails in the vlen-utf8 encoder (from a JS Array of strings): string is read-only here",
    ),
)

CAPABILITIES: dict[str, Capabilities] = {
    "python": EVERYTHING,
    "julia": EVERYTHING,
    "zarr-python": EVERYTHING,
    "zarr2": ZARR2,
    "tensorstore": TENSORSTORE,
    "zarrs": ZARRS,
    "zarrita": ZARRITA,
}
