"""The golden datasets are what `make golden` makes of cases.json, reproducibly, and the two polyzarr writers agree.

- every expected array equals the case's values through its codecs (recomputed now) and the manifest's sha256;
- every store this session writes (python, julia, zarr-python on a local directory) equals the committed golden
  store: same metadata as JSON values, same chunk keys, same bytes (gzip: all but the header's write time);
- the Python- and Julia-written golden stores have the same metadata and decoded chunks, and are byte-identical
  except where the manifest says why (codec libraries that differ between the two languages).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from polyzarr.interop.cases import (default_golden_dir, expected_unsupported_error, expected_values, load_cases,
                                    unsupported_rule, zarr_python_version)
from polyzarr.interop.golden import canonical_bytes, compare_stores, cross_language_verdict, is_metadata, sha256, store_digest, store_files
from polyzarr.interop.impls import IMPLS, ReadFailure
from polyzarr.testing import assert_same

GOLDEN = default_golden_dir()
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())


def test_manifest_covers_the_case_list():
    slugs = {c.slug for c in load_cases()}
    assert set(MANIFEST["cases"]) == slugs, "cases.json and manifest.json disagree: run `make golden`"
    assert {p.stem for p in (GOLDEN / "expected").glob("*.npy")} == slugs
    for w in IMPLS:
        stored = {p.name for p in (GOLDEN / "stores" / w).iterdir()}
        failed = {s for s, e in MANIFEST["cases"].items() if "error" in e["stores"][w]}
        assert stored == slugs - failed, f"golden stores of {w} do not match the manifest"


def test_golden_is_small():
    size = sum(p.stat().st_size for p in GOLDEN.rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"golden data is {size / 2**20:.1f} MiB (limit 20 MiB)"


def test_expected_values(case):
    """expected/<slug>.npy is the case's values through its codecs, and its canonical bytes hash to the manifest."""
    got = np.load(GOLDEN / "expected" / f"{case.slug}.npy", allow_pickle=False)
    assert_same(got, expected_values(case, case.generate()), f"golden expected values of {case.id}")
    assert sha256(canonical_bytes(got)) == MANIFEST["cases"][case.slug]["sha256"]


GOLDEN_ZARR_PYTHON = MANIFEST["versions"]["zarr-python"]


def _zarr_python_normalized(files: dict[str, bytes]) -> dict:
    """A store's metadata documents as JSON values, each v3 array document as the installed zarr-python parses
    and writes it again (its own reading of the document): what compares one zarr-python release's write with
    another release's. v2 documents stay as they are."""
    import zarr
    from zarr.core.metadata import ArrayV3Metadata

    out = {}
    for k, v in files.items():
        if is_metadata(k):
            doc = json.loads(v)
            if k.rsplit("/", 1)[-1] == "zarr.json" and doc.get("node_type") == "array":
                # rectilinear grids are behind a config flag in zarr-python 3.4
                with zarr.config.set({"array.rectilinear_chunks": True}):
                    doc = json.loads(json.dumps(ArrayV3Metadata.from_dict(doc).to_dict(), default=str))
            out[k] = doc
    out.setdefault(".zattrs", {})
    return out


@pytest.mark.parametrize("writer", IMPLS)
def test_regenerated_store_equals_golden(case, writer, matrix, session_cases):
    """This session's fresh write of the case equals the committed golden store (make golden is deterministic).

    The zarr-python golden stores are what the release in the manifest wrote (zarr-python 3.1); another installed
    release is held to the same data, not the same bytes: same chunk keys and decoded chunks, and the same
    metadata as that release itself parses both documents (3.4 writes the bytes codec's endian and the new struct
    JSON). Where either release has a known write gap for the case, the golden store is no reference for the other:
    the fresh write must then be what the installed release's gap rule says (the matrix checks its values)."""
    err = matrix.ensure_written(writer, "local", session_cases)[case.slug]
    golden = GOLDEN / "stores" / writer / case.slug
    other_release = writer == "zarr-python" and zarr_python_version() != GOLDEN_ZARR_PYTHON
    if other_release and (case.zarr_python.get("write") or case.zarr_python_golden.get("write")):
        if case.zarr_python.get("write") and err is None:
            return  # a silently wrong write (the matrix cell is the strict expected failure)
        assert err is None or case.zarr_python.get("write"), f"zarr-python failed to write {case.id} now ({err})"
        return
    if err is not None:
        assert not golden.exists(), f"{writer} failed to write {case.id} now ({err}) but the golden set has it"
        assert "error" in MANIFEST["cases"][case.slug]["stores"][writer]
        return
    fresh = Path(matrix.place("local").url(writer, case))
    golden_files, fresh_files = store_files(golden), store_files(fresh)
    cmp = compare_stores(golden_files, fresh_files, case, ("golden", "fresh"), ignore_gzip_mtime=True)
    problems = "; ".join(cmp.problems or ["chunk bytes differ"])
    if other_release:
        ng, nf = _zarr_python_normalized(golden_files), _zarr_python_normalized(fresh_files)
        assert ng == nf, f"zarr-python {zarr_python_version()} writes {case.id}'s metadata unlike {GOLDEN_ZARR_PYTHON} " \
                         f"(both as zarr-python {zarr_python_version()} reads them): {problems}"
        assert cmp.same_keys and cmp.decoded_equal, \
            f"zarr-python {zarr_python_version()} writes {case.id} unlike {GOLDEN_ZARR_PYTHON}: {problems}"
        return
    assert cmp.equivalent and cmp.bytes_identical, f"{writer} no longer writes {case.id} as the golden set has it: {problems}"


def test_python_and_julia_agree(case):
    """Same metadata and decoded chunks; byte-identical unless the manifest names the codec library difference."""
    for w in ("python", "julia"):
        rule = unsupported_rule(case, w, "write")
        if rule is not None:
            err = MANIFEST["cases"][case.slug]["stores"][w].get("error", "")
            assert err and expected_unsupported_error(rule, ReadFailure(*err.split(": ", 1))), err
            pytest.skip(f"unsupported: {w} cannot write {case.id}: {rule['reason']}")
    py, jl = store_files(GOLDEN / "stores" / "python" / case.slug), store_files(GOLDEN / "stores" / "julia" / case.slug)
    assert cross_language_verdict(py, jl, case) == MANIFEST["cases"][case.slug]["python_vs_julia"]


def test_zarr2_stores_match_their_manifest():
    """The stores zarr-python 2.x wrote (scripts/golden-zarr2.sh): one per v2 case, digests as recorded."""
    doc = json.loads((GOLDEN / "zarr2.json").read_text())
    assert doc["versions"]["zarr-python"].startswith("2.")
    v2 = {c.slug for c in load_cases() if c.zarr_format == 2}
    # cases added after these stores (issue 12's) have none yet: the matrix leaves zarr2 out of their cells
    assert set(doc["cases"]) <= v2, "cases.json lost v2 cases: run `make golden` (scripts/golden-zarr2.sh)"
    for slug, entry in doc["cases"].items():
        files = store_files(GOLDEN / "stores" / "zarr2" / slug)
        if "error" in entry:
            assert not files
        else:
            assert store_digest(files) == entry["digest"], f"zarr2 store {slug} changed since it was written"
