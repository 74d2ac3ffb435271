"""A fault-injecting HTTP proxy for the S3/HTTP robustness tests (docs/CONTRACT.md "S3 and HTTP robustness").

It listens on 127.0.0.1 (a free port) and forwards every request to ``upstream`` (a moto server, or
``httpserver.HTTPTestServer``), one connection per request (``Connection: close``). Clients use ``proxy.url`` as their
endpoint (Python: ``AWS_ENDPOINT_URL``; Julia: ``--endpoint-url``). A scenario is a list of rules, added per test:

    proxy.add("slowdown", method="GET", path=r"/a/0\\.0$", nth=[1, 2])

A rule matches by method, a regex on the path (``search``, on the unquoted path without the query) and a regex on the
query string; it counts the requests it matches (``per_path=True``: counted per distinct path, so ``nth=[1]`` is "the
first request of every key") and fires on the ``nth`` ones (1-based; None: every match). The first rule that fires
decides. Kinds:

- ``status``: answer ``status`` (default 500) with an S3 XML error body (``code``);
- ``slowdown``: 503 with S3's ``SlowDown`` XML error;
- ``notfound``: 404 ``NoSuchKey`` (a chunk the listing said exists);
- ``reset``: close the connection with a TCP reset, no reply;
- ``truncate``: the upstream reply with its full ``Content-Length`` but only ``keep`` body bytes, then close;
- ``cut``: the upstream reply cut to ``keep`` bytes with a matching ``Content-Length`` (a well-formed HTTP reply whose
  body, e.g. a listing's XML, is cut short);
- ``stall``: sleep ``seconds`` before replying (``after`` > 0: after sending the headers and ``after`` body bytes);
- ``trickle``: the upstream reply's headers, then its body one byte every ``seconds`` (never idle for long, ever slow);
- ``truncate_upload``: forward the request with its body cut to ``keep`` bytes (``Content-Length`` adjusted), so the
  upstream stores a truncated object and answers 200.

``keep`` is a byte count (int) or a fraction of the body (float < 1). ``log`` holds ``(method, path, query, kind or
None, status, "reset" or "stall")`` for every request (a stall is logged when it starts); ``count(method, path_regex)`` counts them.
"""

from __future__ import annotations

import http.client
import http.server
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

KINDS = ("status", "slowdown", "notfound", "reset", "truncate", "cut", "stall", "trickle", "truncate_upload")


@dataclass
class Rule:
    kind: str
    method: str | None = None
    path: str | None = None
    query: str | None = None
    nth: frozenset[int] | None = None
    per_path: bool = False
    status: int = 500
    code: str = "InternalError"
    keep: float = 0.5
    seconds: float = 0.0
    after: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    fired: int = 0

    def fires(self, method: str, path: str, query: str) -> bool:
        """Count a matching request; True when this one is among ``nth``."""
        if self.method is not None and method != self.method:
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        if self.query is not None and not re.search(self.query, query):
            return False
        k = path if self.per_path else ""
        self.seen[k] = n = self.seen.get(k, 0) + 1
        if self.nth is not None and n not in self.nth:
            return False
        self.fired += 1
        return True


def _kept(n: int, keep: float) -> int:
    return int(n * keep) if isinstance(keep, float) and keep < 1 else min(n, int(keep))


def _s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"<RequestId>faultproxy</RequestId></Error>"
    ).encode()


_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "content-length"}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _record(self, kind: str | None, status: int | str) -> None:
        with self.server.lock:
            self.server.log.append((self.command, self._path, self._query, kind, status))

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a RST instead of a FIN
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _send(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        length: int | None = None,
        stall_after: int | None = None,
        stall: float = 0.0,
    ) -> None:
        self.send_response_only(status)
        for k, v in headers:
            if k.lower() not in _HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        if stall_after is not None:
            self.wfile.write(body[:stall_after])
            self.wfile.flush()
            time.sleep(stall)
            body = body[stall_after:]
        self.wfile.write(body)
        self.wfile.flush()

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        up = self.server.upstream
        conn_cls = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(up.hostname, up.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            return r.status, list(r.getheaders()), data
        finally:
            conn.close()

    def _serve(self) -> None:
        split = urlsplit(self.path)
        self._path, self._query = unquote(split.path), split.query
        body = self._read_body()
        rule = None
        with self.server.lock:
            for r in self.server.rules:
                if r.fires(self.command, self._path, self._query):
                    rule = r
                    break
        kind = None if rule is None else rule.kind
        try:
            if rule is None:
                status, headers, data = self._forward(body)
                self._record(None, status)
                self._send(status, headers, data)
            elif kind in ("status", "slowdown", "notfound"):
                status, code, msg = {
                    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
                    "notfound": (404, "NoSuchKey", "The specified key does not exist."),
                }.get(kind, (rule.status, rule.code, "injected by faultproxy"))
                self._record(kind, status)
                self._send(status, [("Content-Type", "application/xml")], _s3_error(code, msg))
            elif kind == "reset":
                self._record(kind, "reset")
                self._reset()
            elif kind == "stall":  # logged when it starts: the client gives up long before it ends
                self._record(kind, "stall")
                if rule.after <= 0:
                    time.sleep(rule.seconds)
                status, headers, data = self._forward(body)
                if rule.after <= 0:
                    self._send(status, headers, data)
                else:
                    self._send(status, headers, data, stall_after=min(rule.after, len(data)), stall=rule.seconds)
            elif kind == "trickle":
                self._record(kind, "trickle")
                status, headers, data = self._forward(body)
                self._send(status, headers, data[:1], length=len(data))
                for i in range(1, len(data)):
                    time.sleep(rule.seconds)
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
            elif kind == "truncate_upload":
                status, headers, data = self._forward(body[: _kept(len(body), rule.keep)])
                self._record(kind, status)
                self._send(status, headers, data)
            else:  # truncate, cut
                status, headers, data = self._forward(body)
                self._record(kind, status)
                if kind == "cut":
                    self._send(status, headers, data[: _kept(len(data), rule.keep)])
                else:
                    self._send(status, headers, data[: _kept(len(data), rule.keep)], length=len(data))
        except (TimeoutError, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (its timeout): nothing to tell it

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # 16+ clients connect at once: the default backlog (5) drops SYNs (1 s retransmits)
    upstream: SplitResult
    lock: threading.Lock
    rules: list[Rule]
    log: list

    def handle_error(self, request: object, client_address: object) -> None:  # quiet: clients time out on purpose
        pass


class FaultProxy:
    """``FaultProxy(upstream_url).start()``; ``url`` is the proxy's endpoint; ``add(kind, ...)`` adds a rule;
    ``clear()`` drops the rules and the log; ``stop()``."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> FaultProxy:
        srv = _Server(("127.0.0.1", 0), _Handler)
        srv.upstream = urlsplit(self.upstream)
        srv.lock = threading.Lock()
        srv.rules = []
        srv.log = []
        self._server = srv
        self.url = f"http://127.0.0.1:{srv.server_address[1]}"
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def add(self, kind: str, *, nth: list[int] | None = None, **kw: object) -> Rule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        assert self._server is not None
        rule = Rule(kind, nth=None if nth is None else frozenset(nth), **kw)  # type: ignore[arg-type]
        with self._server.lock:
            self._server.rules.append(rule)
        return rule

    def clear(self) -> None:
        assert self._server is not None
        with self._server.lock:
            self._server.rules.clear()
            self._server.log.clear()

    @property
    def log(self) -> list:
        assert self._server is not None
        with self._server.lock:
            return list(self._server.log)

    def count(self, method: str | None = None, path: str | None = None, kind: str | bool | None = False) -> int:
        """Requests seen with this method / path regex (and fault kind, when given: None = forwarded untouched)."""
        return sum(
            1
            for (m, p, _q, k, _s) in self.log
            if (method is None or m == method) and (path is None or re.search(path, p)) and (kind is False or k == kind)
        )

    def stop(self) -> None:
        srv, self._server = self._server, None
        if srv is not None:
            srv.shutdown()
            srv.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
