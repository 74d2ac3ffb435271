"""Peers in a process of their own, speaking the Julia worker's protocol: one JSON object per line each way, every
request has an ``id``, replies carry ``ok`` and either ``result`` or ``error: {category, message}``; the worker
never exits on a bad request. One process per implementation serves the whole run (batched: start-up is paid once).

Requests (a case is named by its id in ``cases``, the case list the worker loads once):
    {"id", "op": "init", "cases": "<path of cases.json>"}
    {"id", "op": "write", "case": id, "npy": path of the values, "url", "place": {kind, root, endpoint_url}}
    {"id", "op": "read", "case": id, "writer", "place": {...}, "out": path for the .npy it reads}

Server side: ``python -m polyzarr.interop.impls.worker zarrs|zarr2`` (zarrs: zarr-python with zarrs' codec
pipeline, strict, so nothing falls back to zarr-python's own; zarr2: the zarr-python 2.x of the venv running it).
Client side: ``WorkerProcess`` (also used for the Node worker of zarrita.js).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .base import ReadFailure


class WorkerProcess:
    """A JSON-lines worker process; ``request`` sends one request and waits for its reply (thread-safe)."""

    def __init__(self, argv: list[str], name: str, env: dict | None = None, cwd: str | None = None):
        self.argv, self.name = argv, name
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._n = 0
        self._stderr: list[str] = []
        self._init: dict | None = None  # the init request, sent again to a restarted worker
        self.restarts = 0

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                env=self.env,
                cwd=self.cwd,
            )
            err = self._proc.stderr
            threading.Thread(target=lambda: self._stderr.extend(err or ()), daemon=True).start()
            if self._init is not None:
                self.restarts += 1
                self._send(self._proc, self._init)
        return self._proc

    def _send(self, p: subprocess.Popen, req: dict) -> str:
        try:
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(json.dumps(req) + "\n")
            p.stdin.flush()
            return p.stdout.readline()
        except (BrokenPipeError, OSError) as e:
            self._stderr.append(str(e))
            return ""

    def request(self, op: str, **args: Any) -> Any:
        """The result, or raises ReadFailure(category, message) for an error reply or a dead worker."""
        with self._lock:
            p = self._start()
            self._n += 1
            req = {"id": self._n, "op": op, **args}
            if op == "init":
                self._init = req
            line = self._send(p, req)
            if not line:
                tail = "".join(self._stderr[-20:]).strip()
                self._proc = None
                raise ReadFailure("WorkerDied", f"the {self.name} worker died ({' '.join(self.argv)}): {tail[-800:]}")
            rep = json.loads(line)
        if rep.get("ok"):
            return rep.get("result")
        e = rep.get("error") or {}
        raise ReadFailure(e.get("category", "Error"), e.get("message", ""))

    def close(self) -> None:
        p, self._proc = self._proc, None
        if p is not None and p.poll() is None:
            try:
                assert p.stdin is not None
                p.stdin.close()
                p.wait(timeout=10)
            except Exception:
                p.kill()


# ---------------------------------------------------------------------------------------------------------
# the server (runs in the peer's interpreter)


def _impl(name: str) -> Any:
    if name == "tensorstore":
        from .peers import TensorstoreImpl

        return TensorstoreImpl()
    import zarr

    if name == "zarrs":
        zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True})
    from .zarr_python import ZarrPythonImpl

    impl = ZarrPythonImpl()
    if name == "zarrs":
        import importlib.metadata

        impl.version = f"{importlib.metadata.version('zarrs')} (zarr-python {impl.version})"
    return impl


def serve(name: str) -> None:
    import numpy as np

    from ..cases import load_cases
    from .base import Place, _failure

    impl = _impl(name)
    cases: dict[str, Any] = {}
    places: dict[tuple, Place] = {}
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the protocol stream
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            op = req["op"]
            if op == "init":
                cases = {c.id: c for c in load_cases(req["cases"])}
                result: Any = {"version": impl.version, "python": sys.version.split()[0]}
            elif op in ("write", "read"):
                case = cases[req["case"]]
                p = req["place"]
                key = (p["kind"], p["root"], p.get("endpoint_url"))
                place = places.setdefault(key, Place(p["kind"], p["root"], p.get("endpoint_url")))
                if op == "write":
                    values = np.load(req["npy"], allow_pickle=False)
                    if case.np_dtype.kind == "O":
                        values = values.astype(object)
                    impl.write(case, values, place, req["url"])
                    result = None
                else:
                    got = impl.read_all([case], place, req["writer"], Path(req["out"]).parent)[case.slug]
                    if isinstance(got, Exception):
                        raise got
                    np.save(req["out"], got, allow_pickle=False)
                    result = {"file": req["out"]}
            else:
                raise ValueError(f"unknown op {op!r}")
            rep = {"id": rid, "ok": True, "result": result}
        except Exception as e:
            f = e if isinstance(e, ReadFailure) else _failure(e)
            rep = {"id": rid, "ok": False, "error": {"category": f.category, "message": f.message}}
        out.write(json.dumps(rep) + "\n")
        out.flush()


def python_of_venv(venv: Path) -> Path:
    return venv / "bin" / "python"


if __name__ == "__main__":  # pragma: no cover
    serve(sys.argv[1])
