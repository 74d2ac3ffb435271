"""The worker backend: one persistent ``julia julia/bin/worker.jl``, JSON lines each way (docs/CONTRACT.md).

The process is started on first use, restarted on the next request if it died, and killed when a request
exceeds its timeout (the next request starts a fresh one). Errors in the shared vocabulary come back as the
same Python classes; anything else is a ``JuliaWorkerError``. Arrays cross through temporary ``.npy`` files.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import CATEGORIES
from .bridge import JuliaBridge
from .locate import julia_command, julia_env


class JuliaWorkerError(RuntimeError):
    """The worker failed outside the shared vocabulary (InternalError, ProtocolError), died, or timed out."""

    def __init__(self, category: str, message: str):
        self.category = category
        self.message = message
        super().__init__(f"{category}: {message}")


class JuliaWorker:
    """A persistent Julia worker process: ``request(op, **args)`` → result."""

    def __init__(self, startup_timeout: float = 600.0, request_timeout: float = 300.0, env: dict | None = None,
                 log: str | Path | None = None):
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.env = env
        self.log = Path(log) if log else None  # the worker's stderr (its progress lines and errors) goes here
        self._log_file: Any = None
        self.proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.info: dict = {}
        self.starts = 0
        self.startup_seconds: list[float] = []

    def start(self) -> None:
        cmd = julia_command("worker.jl")
        # threads: JULIA_NUM_THREADS from the caller's env or os.environ, else the core count
        env = julia_env(dict(os.environ, **(self.env or {})))
        t0 = time.perf_counter()
        if self.log is not None and self._log_file is None:
            self._log_file = open(self.log, "a", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log_file or sys.stderr, text=True, encoding="utf-8", bufsize=1, env=env)
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self._lines), daemon=True).start()
        self.starts += 1
        ready = self._next_line(self.startup_timeout, "start")
        if not ready.get("ready"):
            self.stop()
            raise JuliaWorkerError("ProtocolError", f"worker did not announce itself: {ready!r}")
        self.startup_seconds.append(time.perf_counter() - t0)
        self.info = ready

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def _next_line(self, timeout: float, what: str) -> dict:
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self._kill()
                raise JuliaWorkerError("Timeout", f"Julia worker gave no reply to {what} within {timeout:.0f} s "
                                       "(killed; the next request restarts it)") from None
            if line is None:
                code = self.proc.wait() if self.proc else None
                self.proc = None
                raise JuliaWorkerError("WorkerDied", f"Julia worker exited (status {code}) during {what}{self._log_tail()}")
            line = line.strip()
            if not line:
                continue
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                print(f"[julia worker stdout] {line}", file=sys.stderr)  # stray output: keep it visible

    def _log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return ""
        if self._log_file:
            self._log_file.flush()
        tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"; last lines of its log {self.log}:\n" + "\n".join(tail) if tail else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        with self._lock:
            if not self.alive():
                self.start()
            rid = next(self._ids)
            assert self.proc is not None and self.proc.stdin is not None
            try:
                self.proc.stdin.write(json.dumps({"id": rid, "op": op, "args": args}) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._kill()
                raise JuliaWorkerError("WorkerDied", f"Julia worker gone before {op}") from None
            while True:
                reply = self._next_line(timeout or self.request_timeout, op)
                if reply.get("id") == rid:
                    break
        if reply.get("ok"):
            return reply.get("result")
        raise error_from_reply(reply.get("error") or {"message": repr(reply)})

    def _kill(self) -> None:
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            if p.poll() is None and p.stdin:
                p.stdin.write(json.dumps({"id": 0, "op": "shutdown", "args": {}}) + "\n")
                p.stdin.flush()
                p.wait(5)
        except Exception:
            pass
        if p.poll() is None:
            p.kill()
            p.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "JuliaWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def error_from_reply(err: dict) -> Exception:
    """A worker's ``{"category", "message", "key"}`` → the same Python exception class (or JuliaWorkerError)."""
    cat, msg = err.get("category", "InternalError"), err.get("message", "")
    if cat in CATEGORIES:
        key = err.get("key") or ""
        if key and msg.startswith(key + ": "):
            msg = msg[len(key) + 2:]
        return CATEGORIES[cat](key, msg)
    return JuliaWorkerError(cat, msg)


class WorkerBridge(JuliaBridge):
    """The JuliaBridge over a JuliaWorker; arrays cross as .npy files in a private temporary directory."""

    name = "worker"

    def __init__(self, worker: JuliaWorker | None = None, **worker_options: Any):
        self._tmp = Path(tempfile.mkdtemp(prefix="polyzarr-bridge-"))
        worker_options.setdefault("log", self._tmp / "worker.log")
        self.worker = worker or JuliaWorker(**worker_options)
        self._n = itertools.count()

    def _scratch(self) -> Path:
        d = self._tmp / str(next(self._n))
        d.mkdir()
        return d

    def ping(self) -> dict:
        return self.worker.request("ping")

    def batch(self, requests: list[tuple[str, dict]]) -> list[Any]:
        """Several requests in one round trip; each item is its result or the exception it raised."""
        replies = self.worker.request("batch", requests=[{"op": op, "args": args} for op, args in requests])
        return [r.get("result") if r.get("ok") else error_from_reply(r.get("error") or {}) for r in replies]

    def export(self, src: str, outdir: str, endpoint_url: str | None = None) -> dict:
        return self.worker.request("export", src=src, outdir=outdir, **_opt(endpoint_url=endpoint_url))

    def import_npy(self, npy: str, dest: str, **opts: Any) -> dict:
        # passed as given: an explicit compressor=None means "no compressor", absent means the default
        return self.worker.request("import", npy=npy, dest=dest, **opts)

    def inspect(self, src: str, endpoint_url: str | None = None) -> dict:
        return self.worker.request("inspect", src=src, **_opt(endpoint_url=endpoint_url))

    def julia_view(self, src: str, endpoint_url: str | None = None, index: list[int] | None = None) -> dict:
        return self.worker.request("julia_view", src=src, **_opt(endpoint_url=endpoint_url, index=index))

    def read(self, src: str, endpoint_url: str | None = None) -> np.ndarray:
        d = self._scratch()
        try:
            r = self.export(src, str(d / "out"), endpoint_url)
            if r["failed"]:
                f = r["failed"][0]
                raise error_from_reply({"category": f["category"], "message": f["message"]})
            if len(r["exported"]) != 1:
                raise ValueError(f"{src} holds {len(r['exported'])} arrays; read() takes one array")
            return np.load(r["exported"][0]["file"], allow_pickle=False)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def write(self, dest: str, values: np.ndarray, **opts: Any) -> dict:
        d = self._scratch()
        try:
            np.save(d / "values.npy", _npy_form(values), allow_pickle=False)
            return self.import_npy(str(d / "values.npy"), dest, **opts)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def handoff(self, values: np.ndarray, probes: Sequence[Sequence[int]] = (), write: dict | None = None) -> dict:
        d = self._scratch()
        try:
            np.save(d / "in.npy", _npy_form(values), allow_pickle=False)
            r = self.worker.request("handoff", npy=str(d / "in.npy"), out=str(d / "back.npy"),
                                    probes=[list(p) for p in probes], **_opt(write=write))
            r["back"] = np.load(d / "back.npy", allow_pickle=False)
            return r
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        self.worker.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _opt(**kw: Any) -> dict:
    """Drop unset options (the worker treats absent as default)."""
    return {k: v for k, v in kw.items() if v is not None}


def _npy_form(values: np.ndarray) -> np.ndarray:
    from ..npy import to_npy_array

    return to_npy_array(np.asarray(values))
