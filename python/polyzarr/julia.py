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


# ---------------------------------------------------------------------------------------------------------
# The persistent worker: one Julia process, JSON lines each way (docs/CONTRACT.md)

import itertools  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
from typing import Any  # noqa: E402

from .errors import CATEGORIES, PolyZarrError  # noqa: E402


class JuliaWorkerError(RuntimeError):
    """The worker failed outside the shared vocabulary (InternalError, ProtocolError), died, or timed out."""

    def __init__(self, category: str, message: str):
        self.category = category
        super().__init__(f"{category}: {message}")


class JuliaWorker:
    """A persistent ``julia julia/bin/worker.jl``: requests and replies as JSON lines.

    Restarted on the next request if it died; a request that exceeds its timeout kills the process (the next
    request starts a fresh one). Errors in the shared vocabulary are raised as the same Python classes.
    """

    def __init__(self, startup_timeout: float = 600.0, env: dict | None = None):
        self.startup_timeout = startup_timeout
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.info: dict = {}
        self.starts = 0

    def start(self) -> None:
        cmd = julia_command("worker.jl")
        env = dict(os.environ, **(self.env or {}))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr,
                                     text=True, encoding="utf-8", bufsize=1, env=env)
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self._lines), daemon=True).start()
        self.starts += 1
        ready = self._next_line(self.startup_timeout, "start")
        if not ready.get("ready"):
            self.stop()
            raise JuliaWorkerError("ProtocolError", f"worker did not announce itself: {ready!r}")
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
                self.stop()
                raise JuliaWorkerError("Timeout", f"Julia worker gave no reply to {what} within {timeout:.0f} s (killed; the next request restarts it)") from None
            if line is None:
                code = self.proc.wait() if self.proc else None
                self.proc = None
                raise JuliaWorkerError("WorkerDied", f"Julia worker exited (status {code}) during {what}")
            line = line.strip()
            if not line:
                continue
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                print(f"[julia worker stdout] {line}", file=sys.stderr)  # stray output: keep it visible

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, op: str, timeout: float = 300.0, **args: Any) -> Any:
        with self._lock:
            if not self.alive():
                self.start()
            rid = next(self._ids)
            assert self.proc is not None and self.proc.stdin is not None
            try:
                self.proc.stdin.write(json.dumps({"id": rid, "op": op, "args": args}) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.stop()
                raise JuliaWorkerError("WorkerDied", f"Julia worker gone before {op}") from None
            while True:
                reply = self._next_line(timeout, op)
                if reply.get("id") == rid:
                    break
        if reply.get("ok"):
            return reply.get("result")
        err = reply.get("error") or {}
        cat, msg = err.get("category", "InternalError"), err.get("message", repr(reply))
        if cat in CATEGORIES:
            key = err.get("key") or ""
            if key and msg.startswith(key + ": "):
                msg = msg[len(key) + 2:]
            raise CATEGORIES[cat](key, msg)
        raise JuliaWorkerError(cat, msg)

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

    def __enter__(self) -> "JuliaWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
