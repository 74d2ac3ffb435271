"""The golden datasets (``interop_tests/golden/``): ``make golden`` regenerates them; tests check them.

Layout::

    cases.json                     the declarative case list (edited by hand)
    expected/<slug>.npy            what every reader must return (numpy C order, exact dtype)
    stores/<writer>/<slug>/        the case written by polyzarr (python), PolyZarr.jl (julia), zarr-python
    manifest.json                  sha256 of each expected array's canonical bytes, a digest of every store,
                                   and, per case, whether the Python and Julia stores are byte-identical (why not)
    negative/<name>[.zip]          stores every implementation must reject (negative.json: category, key)
    stores/zarr2/, zarr2.json      the v2 cases as zarr-python 2.x wrote them (scripts/golden-zarr2.sh)

Stored bytes are compared chunk by chunk; metadata documents are compared as JSON values (formatting is free).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import metadata as md
from ..codecs import ChunkSpec, CodecPipeline
from ..metadata_v3 import ZARR_JSON, ArrayMetadataV3
from . import negative
from .cases import Case, default_golden_dir, expected_values, load_cases
from .impls import IMPLS
from .jsonfmt import dumps

METADATA_NAMES = (md.ZARRAY, md.ZATTRS, md.ZGROUP, md.ZMETADATA, ZARR_JSON)

# Codecs whose output is not a pure function of the input and settings, or not the same across the two
# languages' codec libraries. Anything else that differs between Python and Julia is a bug.
NONDETERMINISTIC = {
    "gzip": "the gzip header holds the write time (MTIME, bytes 4-7): stores differ between runs, data does not",
}
LIBRARY_DIFFERENCES = {
    ("gzip", None): "the gzip header's MTIME (bytes 4-7) is the write time in numcodecs and 0 in PolyZarr.jl; "
    "everything else is identical",
    (
        "blosc",
        "zstd",
    ): "numcodecs bundles zstd 1.5.6 inside blosc, the system libblosc uses libzstd 1.5.4: other bytes, same data",
    ("zstd", "level>3"): "zstd levels above 3 compress differently in numcodecs' zstd 1.5.6 and the system's 1.5.4",
    (
        "blosc",
        "lz4hc",
    ): "lz4hc in numcodecs' bundled lz4 1.10 and the system liblz4 1.9.4 produce other bytes (same data)",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_bytes(a: np.ndarray) -> bytes:
    """The bytes the manifest hashes: numpy C-order values in the array's own dtype."""
    return np.ascontiguousarray(a).tobytes()


def store_files(root: Path) -> dict[str, bytes]:
    """Every file of a store directory: key → bytes (keys with '/')."""
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def is_metadata(key: str) -> bool:
    return key.rsplit("/", 1)[-1] in METADATA_NAMES


def store_digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for k in sorted(files):
        h.update(k.encode() + b"\0" + sha256(files[k]).encode() + b"\n")
    return h.hexdigest()


def _compressors(case: Case) -> list[dict]:
    """The case's bytes→bytes codecs as {"id", ...settings} (v2's compressor; v3's, inside shards too)."""
    if case.zarr_format == 2:
        return [case.compressor] if case.compressor else []
    out = []

    def walk(codecs: list) -> None:
        for c in codecs:
            cfg = c.get("configuration") or {}
            if c["name"] == "sharding_indexed":
                walk(cfg.get("codecs", []))
            elif c["name"] in ("gzip", "zstd", "blosc"):
                out.append({"id": c["name"], **cfg})

    walk(case.codecs or [])
    return out


def known_difference(case: Case) -> str | None:
    """Why Python- and Julia-written chunks may legitimately differ byte for byte (None: they must not)."""
    for c in _compressors(case):
        cid = c["id"]
        if cid == "blosc" and ("blosc", c.get("cname")) in LIBRARY_DIFFERENCES:
            return LIBRARY_DIFFERENCES[("blosc", c.get("cname"))]
        if cid == "zstd" and c.get("level", 0) > 3:
            return LIBRARY_DIFFERENCES[("zstd", "level>3")]
        if (cid, None) in LIBRARY_DIFFERENCES:
            return LIBRARY_DIFFERENCES[(cid, None)]
    return None


# ---------------------------------------------------------------------------------------------------------
# Comparing two stores of one case


@dataclass
class StoreComparison:
    metadata_equal: bool = True
    same_keys: bool = True
    decoded_equal: bool = True
    bytes_identical: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def equivalent(self) -> bool:
        """Same metadata (as JSON), same chunk keys, same decoded chunks."""
        return self.metadata_equal and self.same_keys and self.decoded_equal


def _json_docs(files: dict[str, bytes]) -> dict[str, Any]:
    docs = {k: json.loads(v) for k, v in files.items() if is_metadata(k)}
    docs.setdefault(md.ZATTRS, {})  # an absent .zattrs and an empty one say the same
    return docs


def compare_stores(
    a: dict[str, bytes],
    b: dict[str, bytes],
    case: Case,
    names: tuple[str, str] = ("a", "b"),
    ignore_gzip_mtime: bool = False,
) -> StoreComparison:
    out = StoreComparison()
    da, db = _json_docs(a), _json_docs(b)
    if da != db:
        out.metadata_equal = False
        for k in sorted(set(da) | set(db)):
            x, y = da.get(k), db.get(k)
            if x == y:
                continue
            if isinstance(x, dict) and isinstance(y, dict):
                for f in sorted(set(x) | set(y)):
                    if x.get(f, "(absent)") != y.get(f, "(absent)"):
                        out.problems.append(
                            f"{k}:{f}: {names[0]} {json.dumps(x.get(f, '(absent)'), sort_keys=True)}, "
                            f"{names[1]} {json.dumps(y.get(f, '(absent)'), sort_keys=True)}"
                        )
            else:
                out.problems.append(
                    f"{k}: {names[0]} {json.dumps(x, sort_keys=True)}, {names[1]} {json.dumps(y, sort_keys=True)}"
                )
    ca = {k for k in a if not is_metadata(k)}
    cb = {k for k in b if not is_metadata(k)}
    if ca != cb:
        out.same_keys = False
        out.problems.append(
            f"chunk keys differ: only in {names[0]}: {sorted(ca - cb)[:5]}, only in {names[1]}: {sorted(cb - ca)[:5]}"
        )
    meta: Any = None
    pipeline = None
    if ZARR_JSON in a:
        meta = ArrayMetadataV3.from_json(a[ZARR_JSON], ZARR_JSON)
        pipeline = CodecPipeline.from_v3(meta.codecs, meta.dtype, meta.chunks, "codecs", meta.object_type)
        fill = getattr(pipeline.array_bytes, "fill_value", "absent")
        if fill is None:  # a sharding codec: empty inner chunks decode as the fill value
            pipeline.array_bytes.fill_value = meta.fill_value  # type: ignore[attr-defined]
    elif md.ZARRAY in a:
        meta = md.ArrayMetadataV2.from_json(a[md.ZARRAY], md.ZARRAY)
        pipeline = CodecPipeline.from_v2(meta.order, meta.filters, meta.compressor)
    for k in sorted(ca & cb):
        if a[k] == b[k]:
            continue
        if ignore_gzip_mtime and _same_but_gzip_mtime(a[k], b[k]):
            continue
        out.bytes_identical = False
        if pipeline is not None and meta is not None:
            spec = ChunkSpec(meta.chunks, meta.dtype)
            if getattr(meta, "grid", None) is not None:  # rectilinear: this chunk's own shape and pipeline
                spec = ChunkSpec(_rectilinear_chunk_shape(meta, k), meta.dtype)
                pipeline = CodecPipeline.from_v3(meta.codecs, meta.dtype, spec.shape, "codecs", meta.object_type)
                if getattr(pipeline.array_bytes, "fill_value", "absent") is None:
                    pipeline.array_bytes.fill_value = meta.fill_value  # type: ignore[attr-defined]
            xa, xb = pipeline.decode(a[k], spec, k), pipeline.decode(b[k], spec, k)
            same = (
                list(xa.flat) == list(xb.flat) if xa.dtype.kind == "O" else canonical_bytes(xa) == canonical_bytes(xb)
            )
            if not same:
                out.decoded_equal = False
                out.problems.append(f"chunk {k}: decoded values differ")
    return out


def _rectilinear_chunk_shape(meta: Any, key: str) -> tuple[int, ...]:
    """The shape of the chunk stored under ``key`` in a rectilinear grid (its index read back from the key)."""
    from ..layout import chunk_shape_at

    cke = meta.chunk_key_encoding
    sep = cke.separator
    body = key[2:] if cke.name == "default" else key
    index = tuple(int(x) for x in body.split(sep)) if body else ()
    return chunk_shape_at(index, meta.grid_chunks)


def _same_but_gzip_mtime(x: bytes, y: bytes) -> bool:
    """Equal once every gzip member's MTIME (bytes 4-7 after the 1f 8b 08 magic) is blanked: a chunk, or a shard
    holding gzip-compressed inner chunks."""
    return len(x) == len(y) and b"\x1f\x8b\x08" in x and _blank_mtimes(x) == _blank_mtimes(y)


def _blank_mtimes(b: bytes) -> bytes:
    out = bytearray(b)
    i = b.find(b"\x1f\x8b\x08")
    while i >= 0:
        out[i + 4 : i + 8] = b"\0\0\0\0"
        i = b.find(b"\x1f\x8b\x08", i + 3)
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------
# Generation (make golden)


def generate(
    golden_dir: Path | None = None,
    writers: Iterable[str] = IMPLS,
    bridge_factory: Callable | None = None,
    log: Callable[[str], None] = print,
    only_missing: bool = False,
) -> dict:
    """Rewrite expected/, stores/ and manifest.json from cases.json; returns the manifest. With ``only_missing``,
    write only the cases manifest.json does not have yet and add them: every committed file stays as it is (the
    new entries record the versions that wrote them)."""
    from .run import Matrix

    golden_dir = Path(golden_dir or default_golden_dir())
    cases = load_cases(golden_dir / "cases.json")
    writers = list(writers)
    old_manifest: dict | None = None
    if only_missing:
        old_manifest = json.loads((golden_dir / "manifest.json").read_text())
        cases = [c for c in cases if c.slug not in old_manifest["cases"]]
        log(f"[golden] --only-missing: {len(cases)} new cases")
    work = Path(tempfile.mkdtemp(prefix="polyzarr-golden-"))
    t0 = time.perf_counter()
    m = Matrix(golden_dir=golden_dir, workdir=work, bridge_factory=bridge_factory)
    try:
        exp_dir = work / "expected"
        exp_dir.mkdir()
        for c in cases:
            np.save(exp_dir / f"{c.slug}.npy", expected_values(c, m.values(c)), allow_pickle=False)
        m._expected.clear()
        write_errors: dict[str, dict[str, str]] = {}
        for w in writers:
            log(f"[golden] {w} writes {len(cases)} cases")
            errs = m.ensure_written(w, "local", cases)
            for slug, e in errs.items():
                if e is not None:
                    write_errors.setdefault(slug, {})[w] = str(e)
                    shutil.rmtree(work / "local" / w / slug, ignore_errors=True)  # whatever a failed writer left
        versions = _versions(m, writers)
        manifest = build_manifest(cases, exp_dir, work / "local", writers, write_errors, versions)
        if old_manifest is not None:
            for entry in manifest["cases"].values():
                entry["versions"] = versions
            old_manifest["cases"].update(manifest["cases"])
            order = [c.slug for c in load_cases(golden_dir / "cases.json")]
            old_manifest["cases"] = {k: old_manifest["cases"][k] for k in order if k in old_manifest["cases"]}
            for f in exp_dir.iterdir():
                shutil.copy2(f, golden_dir / "expected" / f.name)
            for w in writers:
                for d in sorted((work / "local" / w).iterdir()) if (work / "local" / w).is_dir() else []:
                    shutil.copytree(d, golden_dir / "stores" / w / d.name)
            (golden_dir / "manifest.json").write_text(dumps(old_manifest))
            log(f"[golden] added {len(cases)} cases ({time.perf_counter() - t0:.0f} s)")
            return old_manifest
        for sub in ("expected", "stores"):
            shutil.rmtree(golden_dir / sub, ignore_errors=True)
        shutil.copytree(exp_dir, golden_dir / "expected")
        shutil.copytree(work / "local", golden_dir / "stores")
        (golden_dir / "manifest.json").write_text(dumps(manifest))
        negative.write_all(golden_dir / "negative")
    finally:
        m.close()
        shutil.rmtree(work, ignore_errors=True)
    n_files = sum(1 for _ in (golden_dir / "stores").rglob("*") if _.is_file())
    size = sum(p.stat().st_size for p in golden_dir.rglob("*") if p.is_file())
    log(
        f"[golden] {len(cases)} cases, {n_files} store files, {size / 2**20:.1f} MiB in {golden_dir} "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return manifest


def _versions(m: Any, writers: list[str]) -> dict:
    import numcodecs

    from .. import __version__

    v = {"polyzarr": __version__, "numpy": np.__version__, "numcodecs": numcodecs.__version__}
    if "zarr-python" in writers:
        v["zarr-python"] = m.impl("zarr-python").version
    if "julia" in writers:
        v["julia"] = m.bridge().ping().get("julia")
    return v


def build_manifest(
    cases: list[Case],
    exp_dir: Path,
    stores_dir: Path,
    writers: list[str],
    write_errors: dict[str, dict[str, str]],
    versions: dict,
) -> dict:
    out: dict[str, Any] = {
        "about": "Written by `make golden` (python -m polyzarr.interop.golden): do not edit. sha256 is over each "
        "expected array's canonical bytes (numpy C order, its own dtype); each store's digest is the sha256 "
        "of its sorted key/sha256 list. python_vs_julia says whether the two languages' stores are "
        "byte-identical, and why not where they may not be.",
        "versions": versions,
        "nondeterministic": NONDETERMINISTIC,
        "cases": {},
    }
    for c in cases:
        exp = np.load(exp_dir / f"{c.slug}.npy", allow_pickle=False)
        entry: dict[str, Any] = {
            "id": c.id,
            "dtype": md.encode_dtype(exp.dtype),
            "shape": list(exp.shape),
            "sha256": sha256(canonical_bytes(exp)),
            "stores": {},
        }
        files: dict[str, dict[str, bytes]] = {}
        for w in writers:
            if w in write_errors.get(c.slug, {}):
                entry["stores"][w] = {"error": write_errors[c.slug][w]}
                continue
            files[w] = store_files(stores_dir / w / c.slug)
            entry["stores"][w] = {"digest": store_digest(files[w]), "files": len(files[w])}
        if "python" in files and "julia" in files:
            entry["python_vs_julia"] = cross_language_verdict(files["python"], files["julia"], c)
        if "python" in files and "zarr-python" in files:
            cmp = compare_stores(
                files["python"], files["zarr-python"], c, ("python", "zarr-python"), ignore_gzip_mtime=True
            )
            entry["python_vs_zarr_python"] = (
                "same metadata, byte-identical chunks"
                if cmp.equivalent and cmp.bytes_identical
                else "; ".join(cmp.problems) or "same metadata and decoded chunks, other bytes"
            )
        out["cases"][c.slug] = entry
    return out


def cross_language_verdict(py: dict[str, bytes], jl: dict[str, bytes], case: Case) -> str:
    """How the Python- and Julia-written stores of a case relate; raises when they are not equivalent, or differ
    byte for byte where both languages use the same codec library (a codec bug in one of them)."""
    cmp = compare_stores(py, jl, case, ("python", "julia"))
    if not cmp.equivalent:
        raise RuntimeError(f"golden case {case.id}: Python and Julia stores are not equivalent: {cmp.problems}")
    if cmp.bytes_identical:
        return "byte-identical chunks"
    if compare_stores(py, jl, case, ("python", "julia"), ignore_gzip_mtime=True).bytes_identical:
        return f"byte-identical except: {LIBRARY_DIFFERENCES[('gzip', None)]}"
    why = known_difference(case)
    if why is None:
        raise RuntimeError(
            f"golden case {case.id}: Python and Julia chunk bytes differ with no known reason "
            f"(codec {case.compressor}): a codec bug in one of them?"
        )
    return f"same metadata and decoded chunks; stored bytes differ: {why}"


def generate_zarr2(golden_dir: Path | None = None, log: Callable[[str], None] = print) -> dict:
    """Rewrite stores/zarr2/ (every v2 case, written by the zarr-python 2.x running this) and zarr2.json (its
    version and each store's digest). Run by scripts/golden-zarr2.sh in a venv that has zarr 2.x."""
    from .impls import Place, ZarrPythonImpl

    golden_dir = Path(golden_dir or default_golden_dir())
    impl = ZarrPythonImpl()
    if impl.major != 2:
        raise SystemExit(
            f"the zarr2 golden stores need zarr-python 2.x; this is zarr-python {impl.version} "
            "(scripts/golden-zarr2.sh makes a venv with zarr<3)"
        )
    cases = [c for c in load_cases(golden_dir / "cases.json") if c.zarr_format == 2]
    work = Path(tempfile.mkdtemp(prefix="polyzarr-golden-zarr2-"))
    place = Place("local", str(work))
    out: dict[str, Any] = {
        "about": "Stores written by zarr-python 2.x (its own v2 API) for every v2 case: "
        "scripts/golden-zarr2.sh. Digests as in manifest.json.",
        "versions": {
            "zarr-python": impl.version,
            "numcodecs": __import__("numcodecs").__version__,
            "numpy": np.__version__,
        },
        "cases": {},
    }
    try:
        for c in cases:
            url = place.url("zarr2", c)
            try:
                impl.write(c, c.generate(), place, url)
                files = store_files(Path(url))
                out["cases"][c.slug] = {"digest": store_digest(files), "files": len(files)}
            except Exception as e:
                shutil.rmtree(url, ignore_errors=True)
                out["cases"][c.slug] = {"error": f"{type(e).__name__}: {e}"}
        shutil.rmtree(golden_dir / "stores" / "zarr2", ignore_errors=True)
        shutil.copytree(work / "zarr2", golden_dir / "stores" / "zarr2")
        (golden_dir / "zarr2.json").write_text(dumps(out))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(
        f"[golden] zarr-python {impl.version} wrote {sum('digest' in v for v in out['cases'].values())} of {len(cases)} v2 cases"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m polyzarr.interop.golden", description="Regenerate the golden datasets."
    )
    ap.add_argument("--golden-dir", type=Path, default=None, help="default: interop_tests/golden of this checkout")
    ap.add_argument("--writers", default=",".join(IMPLS), help="comma-separated subset of python,julia,zarr-python")
    ap.add_argument("--zarr2", action="store_true", help="only the zarr 2.x stores (run with zarr<3 installed)")
    ap.add_argument(
        "--only-missing",
        action="store_true",
        help="write only the cases manifest.json lacks and add them (committed stores stay byte-identical)",
    )
    args = ap.parse_args(argv)
    if args.zarr2:
        generate_zarr2(args.golden_dir)
    else:
        generate(args.golden_dir, [w for w in args.writers.split(",") if w], only_missing=args.only_missing)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
