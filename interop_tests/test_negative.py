"""Negative golden cases: both implementations reject every store in golden/negative/ with the same error
category, and the message names the key or JSON path at fault (negative.json says which)."""
from __future__ import annotations

import pytest

from polyzarr.verbs import export_tree
from polyzarr.errors import PolyZarrError
from polyzarr.interop.cases import default_golden_dir
from polyzarr.interop.negative import load_manifest
from polyzarr.julia import JuliaWorkerError

ROOT = default_golden_dir() / "negative"
CASES = load_manifest(ROOT)


def failures_of(result) -> list[tuple[str, str]]:
    """(category, message) of every failure an export produced, or of the error it raised."""
    if isinstance(result, PolyZarrError):
        return [(result.category, str(result))]
    if isinstance(result, JuliaWorkerError):
        return [(result.category, result.message)]
    if isinstance(result, Exception):
        return [(type(result).__name__, str(result))]
    return [(f["category"], f["message"]) for f in result["failed"]]


def python_export(src: str, out: str):
    try:
        exported, failed = export_tree(src, out, log=lambda *_: None)
        return {"exported": exported, "failed": failed}
    except Exception as e:  # noqa: BLE001 - the rejection is the result
        return e


@pytest.fixture(scope="session")
def julia_results(julia_bridge, tmp_path_factory):
    out = tmp_path_factory.mktemp("neg-julia")
    names = sorted(CASES)
    reqs = [("export", {"src": str(ROOT / CASES[n]["store"]), "outdir": str(out / n)}) for n in names]
    return dict(zip(names, julia_bridge.batch(reqs)))


def check(result, name: str, who: str) -> None:
    want = CASES[name]
    fails = failures_of(result)
    assert fails, f"{who} accepted the bad store {name} ({want['about']}): it must fail with {want['category']}"
    cats = sorted({c for c, _ in fails})
    assert cats == [want["category"]], (f"{who} rejected {name} ({want['about']}) with {cats}, expected "
                                        f"{want['category']}: {fails}")
    assert any(want["key"] in m for _, m in fails), f"{who}'s error for {name} does not name {want['key']!r}: {fails}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_rejects(name, tmp_path):
    check(python_export(str(ROOT / CASES[name]["store"]), str(tmp_path)), name, "polyzarr (Python)")


@pytest.mark.parametrize("name", sorted(CASES))
def test_julia_rejects(name, julia_results):
    check(julia_results[name], name, "PolyZarr.jl")


def test_enough_negative_cases():
    assert len(CASES) >= 60
    assert {c["category"] for c in CASES.values()} == {"MetadataError", "DtypeError", "CodecError", "ChunkError",
                                                       "StoreError", "PathError"}
