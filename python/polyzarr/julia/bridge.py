"""One interface to PolyZarr.jl, two backends: a persistent worker process (JSON lines; works with any Julia
≥ 1.5, the backend tested here) and juliacall (in-process, needs Julia ≥ 1.10.3 and PythonCall).

Select with ``POLYZARR_JULIA=worker|juliacall|auto`` (default ``auto``). ``auto`` never downloads anything and
never hangs: it picks juliacall only when juliacall is installed, its Julia is new enough and PythonCall is
already in the Julia project; otherwise it picks the worker and says why (``Selection.reason``).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

JULIACALL_MIN_JULIA = (1, 10, 3)


class JuliaBridge(ABC):
    """What the Python side can ask of PolyZarr.jl. Arrays cross in numpy's logical (C) order; store URLs and
    options mean what they mean for the ``polyzarr`` CLI (docs/CONTRACT.md)."""

    name: str = ""

    @abstractmethod
    def ping(self) -> dict: ...

    @abstractmethod
    def export(self, src: str, outdir: str, endpoint_url: str | None = None) -> dict:
        """Every array under ``src`` → ``outdir/<path>.npy``; ``{"exported": [...], "failed": [...]}``."""

    @abstractmethod
    def import_npy(self, npy: str, dest: str, **opts: Any) -> dict:
        """A .npy file → a Zarr array at ``dest`` (options as ``polyzarr import``; ``convention`` is Julia-only)."""

    @abstractmethod
    def inspect(self, src: str, endpoint_url: str | None = None) -> dict: ...

    @abstractmethod
    def julia_view(self, src: str, endpoint_url: str | None = None, index: list[int] | None = None) -> dict:
        """How Julia sees one array: ``{"size", "eltype", "order", "strides", "dimnames", "chunks", "grid"}``; with a
        Julia (1-based) ``index``, also the chunk index and key Julia reads that element from."""

    @abstractmethod
    def read(self, src: str, endpoint_url: str | None = None) -> np.ndarray:
        """One array, read by Julia, in numpy logical order with its exact dtype."""

    @abstractmethod
    def write(self, dest: str, values: np.ndarray, **opts: Any) -> dict:
        """``values`` (numpy logical order) written by Julia to ``dest`` (options as ``import_npy``)."""

    @abstractmethod
    def handoff(self, values: np.ndarray, probes: Sequence[Sequence[int]] = (), write: dict | None = None) -> dict:
        """The in-memory handoff: ``values`` becomes a Julia array with the *same indices* (size == shape, Julia
        ``A[i+1, j+1]`` is ``values[i, j]``: what PythonCall gives a Julia function), not the reversed on-disk
        view. Returns ``{"size", "eltype", "probes": [A[p...] for p in probes], "back": ndarray}`` where ``back``
        is ``A`` handed back to Python; with ``write={"dest", "convention", ...}`` Julia also writes ``A``."""

    def close(self) -> None:  # noqa: B027 - optional
        pass

    def __enter__(self) -> "JuliaBridge":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------------------
# Backend selection (pure: everything it consults can be passed in, so it is unit-tested without Julia)


@dataclass(frozen=True)
class Selection:
    backend: str  # "worker" | "juliacall"
    reason: str


def juliacall_project(env: Mapping[str, str] = os.environ) -> Path:
    """The Julia project juliacall would use: $PYTHON_JULIACALL_PROJECT, else juliapkg's per-venv default."""
    p = env.get("PYTHON_JULIACALL_PROJECT")
    return Path(p) if p else Path(sys.prefix) / "julia_env"


def juliacall_problem(env: Mapping[str, str] = os.environ,
                      has_module: Callable[[str], bool] | None = None,
                      julia_version: Callable[[str | None], tuple[int, int, int] | None] | None = None,
                      julia_exe: str | None = None) -> str | None:
    """Why juliacall cannot run here without downloading anything, or None when it can."""
    from .locate import julia_executable, julia_version as _jv

    has_module = has_module or (lambda m: importlib.util.find_spec(m) is not None)
    julia_version = julia_version or _jv
    if not has_module("juliacall"):
        return "juliacall is not installed (pip install juliacall)"
    exe = env.get("PYTHON_JULIACALL_EXE") or julia_exe or julia_executable()
    if exe is None:
        return "no Julia found for juliacall (set PYTHON_JULIACALL_EXE or JULIA, or run `make setup`)"
    v = julia_version(exe)
    if v is None:
        return f"the Julia at {exe} does not run"
    if v < JULIACALL_MIN_JULIA:
        need = ".".join(map(str, JULIACALL_MIN_JULIA))
        return (f"juliacall needs Julia ≥ {need}; {exe} is Julia {'.'.join(map(str, v))} "
                f"(point PYTHON_JULIACALL_EXE or JULIA at a newer Julia)")
    project = juliacall_project(env)
    manifest = next((project / m for m in ("Manifest.toml", "JuliaManifest.toml") if (project / m).exists()), None)
    if manifest is None or "PythonCall" not in manifest.read_text(errors="replace"):
        return (f"PythonCall.jl is not installed in the Julia project {project}; installing it needs the General "
                "registry (online: python -c 'import juliacall'), which polyzarr never triggers")
    return None


def select_backend(env: Mapping[str, str] = os.environ, problem: Callable[[], str | None] | None = None) -> Selection:
    """The backend ``POLYZARR_JULIA`` asks for; ``auto`` falls back to the worker with the reason."""
    want = env.get("POLYZARR_JULIA", "auto").strip().lower() or "auto"
    if want not in ("auto", "worker", "juliacall"):
        raise ValueError(f"POLYZARR_JULIA must be worker, juliacall or auto, got {want!r}")
    if want == "worker":
        return Selection("worker", "POLYZARR_JULIA=worker")
    why = (problem or (lambda: juliacall_problem(env)))()
    if want == "juliacall":
        if why:
            raise RuntimeError(f"POLYZARR_JULIA=juliacall, but {why}")
        return Selection("juliacall", "POLYZARR_JULIA=juliacall")
    if why:
        return Selection("worker", f"auto: worker, because {why}")
    return Selection("juliacall", "auto: juliacall is installed and ready")


def get_bridge(env: Mapping[str, str] = os.environ, **worker_options: Any) -> JuliaBridge:
    """A ready bridge of the selected backend (``bridge.selection`` tells which and why)."""
    sel = select_backend(env)
    if sel.backend == "juliacall":
        from .juliacall_backend import JuliaCallBridge

        bridge: JuliaBridge = JuliaCallBridge()
    else:
        from .worker import WorkerBridge

        bridge = WorkerBridge(**worker_options)
    bridge.selection = sel  # type: ignore[attr-defined]
    return bridge
