"""The committed fuzzer (polyzarr.testing.fuzz) in the suite: seeded cases of mutated metadata documents and
chunk bytes (v2 and v3), and hypothesis choosing seeds; every case must end ok or in the error vocabulary —
no crash, hang, blow-up or silent wrong value."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyzarr.testing import fuzz


@pytest.fixture(scope="module", autouse=True)
def _seeds():
    mp = pytest.MonkeyPatch()
    mp.setenv("POLYZARR_MAX_BYTES", str(fuzz.READ_LIMIT))  # as the fuzzer runs: huge mutated shapes are refused
    fuzz.seeds()
    for kind in ("zstd", "lz4", "blosc", "zlib", "gzip"):
        fuzz.bomb(kind)  # made once, before any case measures its peak memory
    yield
    mp.undo()


def _check(case):
    res = fuzz.run_case(case)
    assert res.outcome in ("ok", "vocab-error"), f"[{case.seed.name}] {case.what}: {res.outcome}: {res.detail}"
    return res


@pytest.mark.parametrize("kind", ["meta", "chunk"])
def test_seeded_sweep(kind):
    """1,500 cases per kind from a fixed seed (the same cases every run)."""
    report = fuzz.fuzz(1500, seed=15, kind=kind)
    assert not any(report.counts.get(b) for b in fuzz.BAD), report.table()
    assert report.counts["vocab-error"] > 300 and report.counts["ok"] > 100, report.table()  # it does damage


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**63), st.sampled_from(["meta", "chunk"]))
def test_hypothesis_cases(seed, kind):
    rng = random.Random(seed)
    for _ in range(2):
        _check(fuzz.generate(rng, kind))


def test_the_fuzzer_sees_what_it_must():
    """Its classifier is not blind: a truncated blosc frame decoded as if whole would be WRONG, a crash CRASH."""
    seed = next(s for s in fuzz.seeds() if s.name == "v2-blosc")
    files = dict(seed.files)
    key = next(k for k in sorted(files) if k.startswith("a/") and not k.endswith((".zarray", ".zattrs")))
    files[key] = files[key][:-1]
    case = fuzz.Case(seed, files, "truncate", visible=True)
    assert fuzz.run_case(case).outcome == "vocab-error"
    original = fuzz.exercise
    try:
        fuzz.exercise = lambda store: [seed.values * 2]
        assert fuzz.run_case(case).outcome == "WRONG"
        fuzz.exercise = lambda store: [][1]
        assert fuzz.run_case(case).outcome == "CRASH"
    finally:
        fuzz.exercise = original
