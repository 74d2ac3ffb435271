"""Where Julia and PolyZarr.jl are: the project's Julia wrapper, the package sources, the scripts in julia/bin."""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path


def repo_root() -> Path:
    """The polyzarr checkout (the package is installed editable from it), or $POLYZARR_ROOT."""
    env = os.environ.get("POLYZARR_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[3]


def julia_package_dir() -> Path:
    """The PolyZarr.jl package (julia/, with its Project.toml and src/)."""
    return repo_root() / "julia"


def julia_executable() -> str | None:
    """$JULIA, else the project's wrapper (scripts/install-julia.sh), else `julia` on PATH."""
    wrapper = repo_root() / ".cache" / "julia" / "bin" / "julia"
    for cand in (os.environ.get("JULIA"), str(wrapper) if wrapper.exists() else None, shutil.which("julia")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


@functools.lru_cache(maxsize=8)
def julia_version(exe: str | None = None) -> tuple[int, int, int] | None:
    """The version of ``exe`` (default: ``julia_executable()``), or None when it does not run."""
    exe = exe or julia_executable()
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None  # type: ignore[return-value]


def julia_script(name: str) -> Path:
    return julia_package_dir() / "bin" / name


def julia_command(script: str) -> list[str]:
    """argv prefix that runs one of julia/bin/*.jl; RuntimeError saying what to install when impossible."""
    exe = julia_executable()
    if exe is None:
        raise RuntimeError("no Julia found: run scripts/install-julia.sh (or `make setup`), or set JULIA=/path/to/julia")
    path = julia_script(script)
    if not path.exists():
        raise RuntimeError(f"the Julia side is not available in this checkout ({path} is missing)")
    return [exe, "--startup-file=no", "--history-file=no", str(path)]


def core_count() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def julia_env(base: dict | None = None) -> dict:
    """The environment for a Julia process: ``base`` (default ``os.environ``) with ``JULIA_NUM_THREADS`` set to
    the core count unless it is already set (to anything, even empty). A number, not ``auto``: Julia 1.5 reads
    ``JULIA_NUM_THREADS=auto`` as one thread; every version takes a number."""
    env = dict(os.environ if base is None else base)
    if "JULIA_NUM_THREADS" not in env:
        env["JULIA_NUM_THREADS"] = str(core_count())
    return env
