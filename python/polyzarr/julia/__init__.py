"""Driving PolyZarr.jl from Python: locating Julia, the one-shot CLI, and the bridge (worker or juliacall)."""
from __future__ import annotations

import subprocess
import sys
from typing import Sequence

from .bridge import JuliaBridge, Selection, get_bridge, juliacall_problem, select_backend
from .locate import (
    core_count,
    julia_command,
    julia_env,
    julia_executable,
    julia_package_dir,
    julia_script,
    julia_version,
    repo_root,
)
from .worker import JuliaWorker, JuliaWorkerError, WorkerBridge


def run_julia_cli(argv: Sequence[str]) -> int:
    """Run ``polyzarr ARGV`` with the Julia implementation, passing output through; on as many threads as
    there are cores unless ``JULIA_NUM_THREADS`` is set."""
    try:
        cmd = julia_command("polyzarr.jl")
    except RuntimeError as e:
        print(f"polyzarr --impl julia: {e}", file=sys.stderr)
        return 2
    args, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--impl":
            skip = True
        elif not a.startswith("--impl="):
            args.append(a)
    return subprocess.call(cmd + args, env=julia_env())


__all__ = [
    "JuliaBridge", "JuliaWorker", "JuliaWorkerError", "Selection", "WorkerBridge", "core_count", "get_bridge",
    "juliacall_problem", "julia_command", "julia_env", "julia_executable", "julia_package_dir", "julia_script",
    "julia_version", "repo_root", "run_julia_cli", "select_backend",
]
