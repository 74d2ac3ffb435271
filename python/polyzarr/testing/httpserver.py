"""A small HTTP(S) file server for the HTTP store tests: a real listening socket on 127.0.0.1 (a free port), run on
a thread of the test process, serving a directory read-only.

- ``GET`` / ``HEAD`` with HTTP/1.1 ``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (206 + ``Content-Range``;
  416 when unsatisfiable); no directory listings (a directory is a 404, as on a static web host or a bucket).
- Faults for the next N requests whose path matches: ``inject("c/0", "503", 2)`` answers 503 twice, then serves
  normally; kinds are any status (``"500"``, ``"403"``, ``"404"``) or ``"reset"`` (the connection is closed
  without a reply). ``count=None`` injects forever.
- ``requests``: every request seen, as ``(method, path, range header or None, status or "reset")``; ``count(...)``.
- ``ignore_ranges()``: answer 200 with the whole file to range requests, as a server without Range support does.
- TLS when given an ``ssl.SSLContext`` (e.g. from ``trustme``: ``ca.issue_cert("127.0.0.1").configure_cert(ctx)``).
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import ssl
import threading
from pathlib import Path

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Fault:
    def __init__(self, pattern: str, kind: str, count: int | None):
        self.pattern = pattern
        self.kind = kind
        self.count = count


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _record(self, status: int | str) -> None:
        with self.server.lock:
            self.server.log.append((self.command, self.path, self.headers.get("Range"), status))

    def _fault(self) -> str | None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            for f in self.server.faults:
                if f.pattern in path and (f.count is None or f.count > 0):
                    if f.count is not None:
                        f.count -= 1
                    return f.kind
        return None

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._record(status)  # before replying: a client that got its answer finds the request counted
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        fault = self._fault()
        if fault == "reset":
            self._record("reset")
            # close without a reply: the client sees a reset / empty reply
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            return
        if fault is not None:
            self._reply(int(fault), f"injected {fault}\n".encode())
            return
        rel = self.path.split("?", 1)[0].lstrip("/")
        from urllib.parse import unquote

        rel = unquote(rel)
        root = self.server.root
        target = (root / rel).resolve()
        if (root not in target.parents and target != root) or not target.is_file():
            self._reply(404, b"not found\n")
            return
        data = target.read_bytes()
        rng = self.headers.get("Range")
        if rng is None or self.server.ignore_ranges:
            self._reply(200, data, {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"})
            return
        m = _RANGE.match(rng.strip())
        n = len(data)
        if not m or (m.group(1) == "" and m.group(2) == ""):
            self._reply(416, b"", {"Content-Range": f"bytes */{n}"})
            return
        if m.group(1) == "":
            lo, hi = max(0, n - int(m.group(2))), n - 1
        else:
            lo = int(m.group(1))
            hi = min(n - 1, int(m.group(2))) if m.group(2) else n - 1
        if lo >= n or hi < lo:
            self._reply(416, b"", {"Content-Range": f"bytes */{n}"})
            return
        self._reply(
            206,
            data[lo : hi + 1],
            {"Content-Type": "application/octet-stream", "Content-Range": f"bytes {lo}-{hi}/{n}"},
        )

    do_GET = _serve
    do_HEAD = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # clients send 16 requests at once: the default backlog (5) drops SYNs (1 s retransmits)
    root: Path
    lock: threading.Lock
    log: list
    faults: list
    tls: ssl.SSLContext | None = None
    ignore_ranges = False  # answer 200 with the whole file, as some servers do

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = self.socket.accept()
        if self.tls is not None:
            # the handshake happens on the handler's thread (first read), not on the accepting one
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # refused handshakes and resets are what the tests provoke


class HTTPTestServer:
    """``with HTTPTestServer(root) as srv: srv.url`` → ``http://127.0.0.1:PORT`` (``https://`` with ``ssl_context``)."""

    def __init__(self, root: str | os.PathLike, ssl_context: ssl.SSLContext | None = None):
        self.root = Path(root).resolve()
        self.ssl_context = ssl_context
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> HTTPTestServer:
        srv = _Server(("127.0.0.1", 0), _Handler)
        srv.root = self.root
        srv.lock = threading.Lock()
        srv.log = []
        srv.faults = []
        srv.tls = self.ssl_context
        self._server = srv
        port = srv.server_address[1]
        self.url = f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def inject(self, pattern: str, kind: str, count: int | None = 1) -> None:
        assert self._server is not None
        with self._server.lock:
            self._server.faults.append(_Fault(pattern, kind, count))

    def clear(self) -> None:
        """Forget faults and the request log; honour Range headers again."""
        assert self._server is not None
        with self._server.lock:
            self._server.faults.clear()
            self._server.log.clear()
            self._server.ignore_ranges = False

    def ignore_ranges(self, ignore: bool = True) -> None:
        """Answer range requests with 200 and the whole file (a server without Range support)."""
        assert self._server is not None
        self._server.ignore_ranges = ignore

    @property
    def requests(self) -> list[tuple]:
        assert self._server is not None
        with self._server.lock:
            return list(self._server.log)

    def count(self, pattern: str = "", status: int | str | None = None) -> int:
        return sum(
            1 for (_, p, _, s) in self.requests if pattern in p.split("?", 1)[0] and (status is None or s == status)
        )

    def stop(self) -> None:
        srv, self._server = self._server, None
        if srv is not None:
            srv.shutdown()
            srv.server_close()

    def __enter__(self) -> HTTPTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
