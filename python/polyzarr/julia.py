"""Running PolyZarr.jl from Python: locating Julia and the package, and the one-shot CLI.

The persistent worker and juliacall backends build on ``julia_command()``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence


def repo_root() -> Path:
    """The polyzarr checkout (the package is installed editable from it), or $POLYZARR_ROOT."""
    env = os.environ.get("POLYZARR_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def julia_executable() -> str | None:
    """The project's Julia wrapper (scripts/install-julia.sh), else $JULIA, else `julia` on PATH."""
    wrapper = repo_root() / ".cache" / "julia" / "bin" / "julia"
    for cand in (os.environ.get("JULIA"), str(wrapper) if wrapper.exists() else None, shutil.which("julia")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def julia_script(name: str) -> Path:
    return repo_root() / "julia" / "bin" / name


def julia_command(script: str) -> list[str]:
    """argv prefix that runs one of julia/bin/*.jl; RuntimeError saying what to install when impossible."""
    exe = julia_executable()
    if exe is None:
        raise RuntimeError("no Julia found: run scripts/install-julia.sh (or `make setup`), or set JULIA=/path/to/julia")
    path = julia_script(script)
    if not path.exists():
        raise RuntimeError(f"the Julia side is not available in this checkout ({path} is missing)")
    return [exe, "--startup-file=no", "--history-file=no", str(path)]


def run_julia_cli(argv: Sequence[str]) -> int:
    """Run ``polyzarr ARGV`` with the Julia implementation, passing output through."""
    try:
        cmd = julia_command("polyzarr.jl")
    except RuntimeError as e:
        print(f"polyzarr --impl julia: {e}", file=sys.stderr)
        return 2
    args = [a for a in argv if not a.startswith("--impl")]
    if "--impl" in argv:  # "--impl julia" given as two words
        i = list(argv).index("--impl")
        args = list(argv[:i]) + list(argv[i + 2:])
    return subprocess.call(cmd + args)
