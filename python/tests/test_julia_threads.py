"""The Julia processes polyzarr starts (the worker, ``polyzarr --impl julia``) run on every core unless
``JULIA_NUM_THREADS`` says otherwise (issue 16); julia/test/test_threads.jl on two threads."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

import polyzarr.julia as pj
from polyzarr.julia import JuliaWorker, core_count, julia_env, julia_executable, repo_root


def _need_julia() -> None:
    if julia_executable() is None or not (repo_root() / "julia" / "bin" / "worker.jl").exists():
        msg = "Julia not found: run `make setup` (scripts/install-julia.sh) or set JULIA=/path/to/julia"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def test_julia_env_defaults_to_the_core_count(monkeypatch):
    monkeypatch.delenv("JULIA_NUM_THREADS", raising=False)
    assert julia_env()["JULIA_NUM_THREADS"] == str(core_count())
    assert core_count() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("JULIA_NUM_THREADS", "1")
    assert julia_env()["JULIA_NUM_THREADS"] == "1"
    assert julia_env({"JULIA_NUM_THREADS": "3"})["JULIA_NUM_THREADS"] == "3"
    assert julia_env({})["JULIA_NUM_THREADS"] == str(core_count())


def test_cli_passes_the_thread_count(monkeypatch):
    seen = {}

    def call(cmd, env=None):
        seen["cmd"], seen["env"] = cmd, env
        return 0

    monkeypatch.setattr(pj, "julia_command", lambda script: ["julia", script])
    monkeypatch.setattr(pj.subprocess, "call", call)
    monkeypatch.delenv("JULIA_NUM_THREADS", raising=False)
    assert pj.run_julia_cli(["--impl", "julia", "inspect", "x.zarr"]) == 0
    assert seen["cmd"] == ["julia", "polyzarr.jl", "inspect", "x.zarr"]
    assert seen["env"]["JULIA_NUM_THREADS"] == str(core_count())
    monkeypatch.setenv("JULIA_NUM_THREADS", "1")
    pj.run_julia_cli(["inspect", "x.zarr"])
    assert seen["env"]["JULIA_NUM_THREADS"] == "1"


def test_worker_threads(monkeypatch):
    _need_julia()
    monkeypatch.delenv("JULIA_NUM_THREADS", raising=False)
    with JuliaWorker() as w:
        assert w.request("ping")["threads"] == core_count()
        assert w.info["threads"] == core_count()          # the ready line says it too
    with JuliaWorker(env={"JULIA_NUM_THREADS": "1"}) as w:
        assert w.request("ping")["threads"] == 1
    monkeypatch.setenv("JULIA_NUM_THREADS", "2")
    with JuliaWorker() as w:
        assert w.request("ping")["threads"] == 2


def test_julia_thread_tests_on_two_threads():
    """julia/test/test_threads.jl under `julia -t 2`: threaded writes byte for byte, threaded sharded reads,
    errors from one task."""
    _need_julia()
    julia = repo_root() / "julia"
    test = julia / "test" / "test_threads.jl"
    code = (f"pushfirst!(LOAD_PATH, {json.dumps(str(julia))}); using PolyZarr, Test; "
            f"@testset \"threads\" begin include({json.dumps(str(test))}) end")
    p = subprocess.run([julia_executable(), "--startup-file=no", "--history-file=no", "-t", "2", "-e", code],
                       capture_output=True, text=True, timeout=1200, cwd=repo_root())
    assert p.returncode == 0, p.stdout[-6000:] + "\n" + p.stderr[-6000:]
