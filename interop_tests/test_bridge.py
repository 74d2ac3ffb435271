"""The Julia bridge: backend selection (never a download, never a hang), the worker's life cycle, juliacall's
pure layout rules, and errors crossing the language boundary in the shared vocabulary."""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest

from polyzarr.errors import CodecError, MetadataError
from polyzarr.julia import JuliaWorkerError, WorkerBridge, juliacall_problem, select_backend
from polyzarr.julia.bridge import JULIACALL_MIN_JULIA
from polyzarr.julia.juliacall_backend import configure_environment, from_julia_layout, to_julia_layout
from polyzarr.testing import make_values

# ---------------------------------------------------------------------------------------------------------
# Selection (pure)


@pytest.fixture
def project(tmp_path):
    def make(text: str | None):
        d = tmp_path / f"julia_env{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        if text is not None:
            (d / "Manifest.toml").write_text(text)
        return {"PYTHON_JULIACALL_PROJECT": str(d)}
    return make


def test_juliacall_problem_names_what_is_missing(project):
    ok_env = project('[[deps.PythonCall]]\nuuid = "6099a3de"\n')
    assert juliacall_problem(ok_env, lambda m: False, lambda e: (1, 11, 0), "/j") == "juliacall is not installed (pip install juliacall)"
    old = juliacall_problem(ok_env, lambda m: True, lambda e: (1, 5, 3), "/j")
    assert "1.10.3" in old and "1.5.3" in old and "PYTHON_JULIACALL_EXE" in old
    assert "does not run" in juliacall_problem(ok_env, lambda m: True, lambda e: None, "/j")
    assert juliacall_problem(ok_env, lambda m: True, lambda e: (1, 10, 3), "/j") is None
    missing = juliacall_problem(project(None), lambda m: True, lambda e: (1, 12, 1), "/j")
    assert "PythonCall.jl is not installed" in juliacall_problem(project('[[deps.Other]]'), lambda m: True, lambda e: (1, 12, 1), "/j")
    assert "registry" in missing


def test_select_backend_rules():
    assert select_backend({"POLYZARR_JULIA": "worker"}).backend == "worker"
    s = select_backend({"POLYZARR_JULIA": "auto"}, problem=lambda: "juliacall is not installed (pip install juliacall)")
    assert s.backend == "worker" and "juliacall is not installed" in s.reason
    assert select_backend({}, problem=lambda: None).backend == "juliacall"
    assert select_backend({"POLYZARR_JULIA": "juliacall"}, problem=lambda: None).backend == "juliacall"
    with pytest.raises(RuntimeError, match="POLYZARR_JULIA=juliacall, but needs"):
        select_backend({"POLYZARR_JULIA": "juliacall"}, problem=lambda: "needs Julia ≥ 1.10.3")
    with pytest.raises(ValueError, match="worker, juliacall or auto"):
        select_backend({"POLYZARR_JULIA": "pycall"})


def test_auto_here_picks_the_worker_without_importing_juliacall():
    before = set(sys.modules)
    s = select_backend({"POLYZARR_JULIA": "auto", **{k: v for k, v in os.environ.items() if k.startswith("PYTHON_JULIA")}})
    if s.backend == "worker":
        assert s.reason.startswith("auto: worker, because ")
    assert "juliacall" not in set(sys.modules) - before, "selection imported juliacall (which may download)"


def test_min_julia_for_juliacall():
    assert JULIACALL_MIN_JULIA == (1, 10, 3)


# ---------------------------------------------------------------------------------------------------------
# juliacall backend: pure parts, and the real thing where it can run


@pytest.mark.parametrize("shape", [(5,), (4, 3), (4, 3, 2)])
def test_juliacall_layout_is_a_view(shape):
    """numpy shape S → the F-contiguous reversed-shape view PythonCall shows as a Julia array of size reverse(S)."""
    x = np.arange(int(np.prod(shape)), dtype="<i4").reshape(shape)
    j = to_julia_layout(x)
    assert j.shape == shape[::-1] and j.flags.f_contiguous and np.shares_memory(j, x)
    # column-major order of the Julia view walks x's memory in order: the same bytes, no copy
    assert j.ravel(order="F").tolist() == x.ravel(order="C").tolist()
    back = from_julia_layout(j)
    assert back.shape == shape and np.shares_memory(back, x) and np.array_equal(back, x)


def test_juliacall_environment_forbids_downloads(tmp_path):
    env = {"PYTHON_JULIACALL_PROJECT": str(tmp_path)}
    configure_environment(env)
    assert env["PYTHON_JULIAPKG_OFFLINE"] == "yes"
    assert env["PYTHON_JULIACALL_PROJECT"] == str(tmp_path)
    assert "PYTHON_JULIACALL_EXE" in env


def test_juliacall_backend_reads_and_writes(tmp_path):
    why = juliacall_problem()
    if why:
        pytest.skip(f"juliacall backend cannot run here: {why}")
    from polyzarr.julia.juliacall_backend import JuliaCallBridge  # noqa: PLC0415

    import polyzarr as pz  # noqa: PLC0415

    x = make_values("<f8", (4, 3), seed=1)
    with JuliaCallBridge() as b:
        b.write(str(tmp_path / "a.zarr"), x, chunks=[2, 2])
        np.testing.assert_array_equal(b.read(str(tmp_path / "a.zarr")), x)
        np.testing.assert_array_equal(pz.open(str(tmp_path / "a.zarr"))[...], x)
        assert b.handoff(x)["size"] == [4, 3]


# ---------------------------------------------------------------------------------------------------------
# The worker: life cycle and errors


def test_worker_restarts_after_dying(julia_bridge):
    if not isinstance(julia_bridge, WorkerBridge):
        pytest.skip("worker-only behaviour")
    w = julia_bridge.worker
    pid = w.request("ping")["pid"]
    starts = w.starts
    w.proc.kill()
    w.proc.wait()
    r = w.request("ping")
    assert r["pong"] and r["pid"] != pid and w.starts == starts + 1


def test_worker_request_timeout_kills_and_recovers(tmp_path):
    b = WorkerBridge(request_timeout=300)
    try:
        b.ping()
        t = time.monotonic()
        with pytest.raises(JuliaWorkerError, match="no reply to ping within 1 s") as e:
            b.worker.request("ping", timeout=1, delay=30)
        assert e.value.category == "Timeout" and time.monotonic() - t < 15
        assert not b.worker.alive()
        assert b.ping()["pong"]  # restarted
    finally:
        b.close()


def test_worker_survives_bad_requests(julia_bridge):
    if not isinstance(julia_bridge, WorkerBridge):
        pytest.skip("worker-only behaviour")
    w = julia_bridge.worker
    w.request("ping")
    w.proc.stdin.write("this is not json\n{\"id\": 5, \"op\": \"nope\"}\n")
    w.proc.stdin.flush()
    replies = [w._next_line(60, "bad"), w._next_line(60, "bad")]
    assert replies[0]["ok"] is False and replies[0]["error"]["category"] == "ProtocolError" and replies[0]["id"] is None
    assert replies[1] == {"id": 5, "ok": False, "error": {"category": "ProtocolError", "message": 'unknown op "nope"'}}
    assert w.request("ping")["pong"]


def test_errors_cross_in_the_shared_vocabulary(tmp_path, julia_bridge):
    np.save(tmp_path / "x.npy", np.arange(4.0))
    with pytest.raises(CodecError) as e:
        julia_bridge.import_npy(str(tmp_path / "x.npy"), str(tmp_path / "a.zarr"), compressor={"id": "nosuchcodec"})
    assert "nosuchcodec" in str(e.value)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / ".zarray").write_text("{broken")
    with pytest.raises(MetadataError) as e:
        julia_bridge.read(str(tmp_path / "b"))
    assert ".zarray" in str(e.value) and "JSON" in str(e.value)


def test_batch_replies_per_item(tmp_path, julia_bridge):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / ".zarray").write_text(json.dumps([1]))
    out = julia_bridge.batch([("ping", {}), ("julia_view", {"src": str(tmp_path / "b")}), ("nope", {})])
    assert out[0]["pong"] is True
    assert isinstance(out[1], MetadataError)
    assert isinstance(out[2], JuliaWorkerError) and out[2].category == "ProtocolError"
