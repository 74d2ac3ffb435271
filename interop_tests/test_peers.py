"""The peer adapters (tensorstore, zarrs, zarr-python 2.18, zarrita.js) and what the matrix builds on them: the
declared capability tables, gap rules with signatures, the JSON-lines workers, and the setup that installs them."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from polyzarr.diagnose import diagnose
from polyzarr.interop.cases import load_cases
from polyzarr.interop.gaps import GapRule, gap_outcome, peer_gap_rules
from polyzarr.interop.impls import CAPABILITIES, PEERS, Place, PythonImpl, ReadFailure, features, make_peer
from polyzarr.interop.impls.worker import WorkerProcess
from polyzarr.interop.run import Cell, Matrix, Outcome, all_cells, native_order

ROOT = Path(__file__).resolve().parents[1]
CASES = {c.id: c for c in load_cases()}


def case(cid: str):
    return CASES[cid]


# -- capability tables ----------------------------------------------------------------------------------------

def test_features_of_cases():
    f = features(case(">i2-F-zstd"))
    assert f["format"] == 2 and f["dtype"] == "int16" and f["codecs"] == {"zstd"}
    assert {"order_F", "big_endian"} <= f["flags"]
    f3 = features(case("v3-<f4-shard_end"))
    assert f3["format"] == 3 and "sharding_indexed" in f3["codecs"] and "sharded" in f3["flags"]
    assert features(case("|O-C-zstd+vlen-utf8"))["dtype"] == "string"


@pytest.mark.parametrize(("writer", "reader", "store", "cid", "want"), [
    ("zarrita", "python", "local", "<f8-C-zstd", "zarrita writes no Zarr v2"),
    ("zarrita", "python", "s3", "v3-<f4-zstd", "zarrita writes no s3 store"),
    ("python", "zarrita", "local", "v3-<f2-zstd", "zarrita reads no data type float16"),
    ("tensorstore", "python", "local", "<i8-C-zlib1+delta", "tensorstore writes no codec delta"),
    ("zarr2", "python", "local", "v3-<f4-zstd", "zarr2 writes no Zarr v3"),
    ("python", "zarrs", "local", "<i2-F-zstd", "zarrs reads no v2 order 'F' array"),
    ("zarrs", "python", "local", "<i2-F-zstd", None),  # zarrs writes order F right (measured with --probe)
    ("python", "julia", "local", "<i2-F-zstd", None),
])
def test_declared_capabilities(writer, reader, store, cid, want):
    why = Cell(writer, reader, store, case(cid)).unsupported
    assert (why is None) if want is None else (want in (why or "")), why


def test_every_implementation_declares_a_table():
    for name in ("python", "julia", "zarr-python", *PEERS):
        j = CAPABILITIES[name].to_json()
        assert set(j) == {"write", "read", "limits", "notes"}


def test_cells_cover_every_pair():
    cells = all_cells([case("<f8-C-zstd"), case("v3-<f4-zstd")])
    pairs = {(c.writer, c.reader) for c in cells}
    assert len({w for w, _ in pairs}) == 7 and len({r for _, r in pairs}) == 7 and len(pairs) == 49
    # the golden store only for writers with committed stores, zarr 2.18 only for v2
    assert not [c for c in cells if c.store == "golden" and c.writer in ("tensorstore", "zarrs", "zarrita")]
    assert not [c for c in cells if c.store == "golden" and c.writer == "zarr2" and c.case.zarr_format == 3]


# -- gap rules --------------------------------------------------------------------------------------------------

def test_gap_signature_decides():
    rule = GapRule("tensorstore", "read", "why", {"stage": "read", "pattern": "extra members"})
    assert gap_outcome(rule, Outcome("pass")).status == "fixed"
    got = gap_outcome(rule, Outcome("fail", 'Object includes extra members: "checksum"', "read"))
    assert got.status == "gap" and got.expected == rule.expect and got.observed["stage"] == "read"
    other = gap_outcome(rule, Outcome("fail", "values: 3 of 60 elements differ", "compare"))
    assert other.status == "fail" and "failed differently" in other.message


def test_peer_gap_rules_match_cells_and_state_their_failure():
    rules = peer_gap_rules()
    assert rules and all(r.expect for r in rules)
    ts = Cell("python", "tensorstore", "local", case("<f8-C-zstd"))
    assert ts.gap_rule is not None and ts.gap_rule.impl == "tensorstore"
    assert Cell("zarr-python", "tensorstore", "local", case("<f8-C-zstd")).gap_rule is None  # no checksum member


def test_zarr_python_gap_rules_keep_working():
    c = next(c for c in CASES.values() if c.zarr_python.get("read"))
    rule = Cell("python", "zarr-python", "local", c).gap_rule
    assert rule is not None and rule.impl == "zarr-python" and rule.op == "read"


# -- the workers ------------------------------------------------------------------------------------------------

def test_worker_survives_a_bad_request():
    w = WorkerProcess([str(ROOT / ".venv/bin/python"), "-m", "polyzarr.interop.impls.worker", "zarr-python"], "t")
    try:
        with pytest.raises(ReadFailure, match="unknown op"):
            w.request("nonsense")
        assert w.request("init", cases=str(ROOT / "interop_tests/golden/cases.json"))["version"].startswith("3.")
    finally:
        w.close()


def _peer(name: str):
    try:
        return make_peer(name, ROOT / "interop_tests/golden/cases.json")
    except Exception as e:
        pytest.skip(f"{name} is not available: {e}")


ROUND_TRIP = {
    "tensorstore": ["<i4-C-zstd", "v3-<f4-zstd", ">u2-F-blosc_lz4", "v3-<f4-shard_end"],
    "zarrs": ["<f8-C-blosc_lz4", "v3-<f4-shard_end", "v3-<i4-zstd+t120"],
    "zarr2": ["<f8-F-zstd", "|O-C-zstd+vlen-utf8"],
    "zarrita": ["v3-<i8-zstd", "v3-|b1-zstd", "v3->i2-zstd-0d", "v3-<i4-zstd+t120"],
}


@pytest.mark.parametrize("name", PEERS)
def test_peer_round_trip(name, tmp_path, request):
    request.applymarker(getattr(pytest.mark, f"w_{name}"))
    impl = _peer(name)
    try:
        assert impl.version
        place = Place("local", str(tmp_path))
        cases = [case(i) for i in ROUND_TRIP[name]]
        for c in cases:  # the round trip uses declared capabilities only
            assert Cell(name, name, "local", c).unsupported is None, c.id
        for c in cases:
            impl.write(c, c.generate(), place, place.url(name, c))
        for reader in (impl, PythonImpl()):
            got = reader.read_all(cases, place, name, tmp_path)
            for c in cases:
                g = got[c.slug]
                assert not isinstance(g, Exception), f"{reader} on {c.id}: {g}"
                exp = Matrix(workdir=tmp_path / "m").expected(c)
                if c.zarr_format == 3:
                    g, exp = native_order(g), native_order(exp)
                d = diagnose(g, exp, chunks=c.chunks, order=c.order)
                assert d.equal, f"{name} / {c.id}: {d}"
    finally:
        impl.close()


def test_zarrita_worker_speaks_the_protocol():
    impl = _peer("zarrita")
    try:
        g = ROOT / "interop_tests/golden/stores/python"
        r = impl.worker.request("read", path=str(g / "v3-le_i8-zstd"), out="/dev/null")
        assert r["array_type"] == "BigInt64Array" and r["data_type"] == "int64"  # int64 as BigInt
        with pytest.raises(ReadFailure, match="float16"):  # no Float16Array on Node 20
            impl.worker.request("read", path=str(g / "v3-le_f2-zstd"), out="/dev/null")
        with pytest.raises(ReadFailure):  # a bad request is an error reply, never the end of the worker
            impl.worker.request("nonsense")
        assert impl.worker.request("ping")["zarrita"] == impl.version
    finally:
        impl.close()


# -- setup ------------------------------------------------------------------------------------------------------

def test_setup_peers_is_idempotent():
    t0 = time.perf_counter()
    r = subprocess.run([str(ROOT / "scripts/setup-peers.sh")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    t1 = time.perf_counter()
    r2 = subprocess.run([str(ROOT / "scripts/setup-peers.sh")], capture_output=True, text=True, timeout=60)
    assert r2.returncode == 0 and r2.stderr.strip() == "", r2.stderr
    assert time.perf_counter() - t1 < 5, f"second run took {time.perf_counter() - t1:.1f}s (first {t1 - t0:.1f}s)"
    lock = json.loads((ROOT / "interop/node/package-lock.json").read_text())
    assert lock["packages"]["node_modules/zarrita"]["version"] == "0.7.5"


def test_probe_reports_an_undeclared_cell_that_works(monkeypatch, tmp_path):
    from polyzarr.interop import run
    from polyzarr.interop.impls.capabilities import Capabilities, Support, fs

    narrow = Capabilities(write=Support(formats=fs(2)), read=Support(formats=fs(2), codecs=fs("blosc")))
    monkeypatch.setitem(CAPABILITIES, "zarr2", narrow)
    run.unsupported_reason.cache_clear()
    run.hard_unsupported.cache_clear()
    cell = Cell("python", "zarr2", "golden", case("<f8-C-zstd"))
    try:
        m = Matrix(workdir=tmp_path, probe=False)
        assert m.outcome(cell).status == "unsupported"
        m.probe = True
        if m.unavailable("zarr2"):
            pytest.skip(m.unavailable("zarr2"))
        out = m.outcome(cell)
        assert out.status == "works" and "widen the capability table" in out.message
        m.close()
    finally:
        run.unsupported_reason.cache_clear()
        run.hard_unsupported.cache_clear()
