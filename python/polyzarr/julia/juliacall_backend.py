"""The juliacall backend: PolyZarr.jl loaded into this Python process (PythonCall).

Needs juliacall, Julia ≥ 1.10.3 and PythonCall already installed in the Julia project (``bridge.juliacall_problem``
says what is missing); it is configured so it never downloads anything. Requests go through the worker's own
request handler in-process (``PolyZarr.bridge_call``, JSON in and out), so both backends answer alike; arrays
of plain numbers cross without copying.

The layout rules are two small pure functions, tested without Julia: a numpy array of shape S crosses to Julia as
its transpose view (shape reversed(S), Fortran-contiguous, no copy), which PythonCall presents as a column-major
Julia array of size reversed(S) over the same bytes: PolyZarr's on-disk view of a C-order array. Coming back,
Julia's reversed-size result seen from numpy, transposed, is the numpy array again.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import layout
from .bridge import JuliaBridge, juliacall_problem, juliacall_project
from .locate import julia_executable, julia_package_dir
from .worker import error_from_reply


def to_julia_layout(values: np.ndarray) -> np.ndarray:
    """numpy (shape S, logical order) → the array PythonCall shows Julia as size reversed(S), column-major."""
    return layout.to_julia_view(values)


def from_julia_layout(arr: np.ndarray) -> np.ndarray:
    """A Julia array of size reversed(S) seen from numpy (shape reversed(S)) → numpy shape S, logical order."""
    return layout.from_julia_view(arr)


def configure_environment(env: Any = os.environ) -> None:
    """Point juliacall at our Julia and its project, and forbid downloads (before juliacall is imported)."""
    exe = env.get("PYTHON_JULIACALL_EXE") or julia_executable()
    if exe:
        env.setdefault("PYTHON_JULIACALL_EXE", exe)
    env.setdefault("PYTHON_JULIACALL_PROJECT", str(juliacall_project(env)))
    env["PYTHON_JULIAPKG_OFFLINE"] = "yes"


class JuliaCallBridge(JuliaBridge):
    name = "juliacall"

    def __init__(self) -> None:
        why = juliacall_problem()
        if why:
            raise RuntimeError(f"juliacall backend unavailable: {why}")
        configure_environment()
        import juliacall  # noqa: PLC0415 - imported only once the environment forbids downloads

        self.jc = juliacall  # juliacall.PythonCall and juliacall.Base: not names inside a fresh module
        self.jl = juliacall.newmodule("PolyZarrBridge")
        self.jl.seval(f"pushfirst!(LOAD_PATH, {json.dumps(str(julia_package_dir()))}); using PolyZarr")
        self.pz = self.jl.PolyZarr

    def call(self, op: str, **args: Any) -> Any:
        reply = json.loads(str(self.pz.bridge_call(json.dumps({"id": 0, "op": op, "args": args}))))
        if reply.get("ok"):
            return reply["result"]
        raise error_from_reply(reply.get("error") or {})

    def ping(self) -> dict:
        return self.call("ping")

    def batch(self, requests: list[tuple[str, dict]]) -> list[Any]:
        replies = self.call("batch", requests=[{"op": op, "args": a} for op, a in requests])
        return [r.get("result") if r.get("ok") else error_from_reply(r.get("error") or {}) for r in replies]

    def export(self, src: str, outdir: str, endpoint_url: str | None = None) -> dict:
        return self.call("export", src=src, outdir=outdir, **({"endpoint_url": endpoint_url} if endpoint_url else {}))

    def import_npy(self, npy: str, dest: str, **opts: Any) -> dict:
        return self.call("import", npy=npy, dest=dest, **opts)

    def inspect(self, src: str, endpoint_url: str | None = None) -> dict:
        return self.call("inspect", src=src, **({"endpoint_url": endpoint_url} if endpoint_url else {}))

    def julia_view(self, src: str, endpoint_url: str | None = None, index: list[int] | None = None) -> dict:
        opts = {k: v for k, v in (("endpoint_url", endpoint_url), ("index", index)) if v is not None}
        return self.call("julia_view", src=src, **opts)

    def read(self, src: str, endpoint_url: str | None = None) -> np.ndarray:
        kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
        a = self.pz.open_array(src, **kw)
        if bool(self.pz.isbits_eltype(a)):  # numbers: straight from Julia's memory
            return np.array(from_julia_layout(np.asarray(self.pz.read_numpy_order(a))))
        with tempfile.TemporaryDirectory() as d:  # strings, structs: through .npy for the exact dtype
            r = self.export(src, d, endpoint_url)
            if r["failed"]:
                raise error_from_reply(r["failed"][0])
            return np.load(r["exported"][0]["file"], allow_pickle=False)

    def write(self, dest: str, values: np.ndarray, **opts: Any) -> dict:
        with tempfile.TemporaryDirectory() as d:
            np.save(Path(d) / "v.npy", values, allow_pickle=False)
            return self.import_npy(str(Path(d) / "v.npy"), dest, **opts)

    def handoff(self, values: np.ndarray, probes: Sequence[Sequence[int]] = (), write: dict | None = None) -> dict:
        x = np.ascontiguousarray(values)
        A = self.jc.PythonCall.PyArray(x)  # numpy's indices, numpy's memory: no copy
        info = json.loads(str(self.pz.json_string(self.pz.handoff_info(A, [list(p) for p in probes]), indent=None)))
        if write:
            opts = {k: v for k, v in write.items() if k != "dest"}
            self.pz.handoff_write(A, write["dest"], json.dumps(opts))
        info["back"] = np.array(self.jc.Base.collect(A))  # a Julia Array of size S, back as numpy shape S
        return info
