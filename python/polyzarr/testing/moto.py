"""A real ``moto_server`` process on 127.0.0.1 (a free port), for both languages' S3 clients."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_executable() -> str | None:
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    return exe if os.path.exists(exe) else None


class MotoServer:
    """Start with ``start()`` (or as a context manager); ``endpoint`` is its URL; ``environ()`` the AWS variables
    both the Python and the Julia side read (endpoint and credentials)."""

    def __init__(
        self,
        startup_timeout: float = 30.0,
        ssl_cert: str | None = None,
        ssl_key: str | None = None,
        ca_bundle: str | None = None,
    ):
        """With ``ssl_cert``/``ssl_key`` (PEM files, e.g. from ``trustme``) the server speaks https only;
        ``ca_bundle`` is the CA that signed the certificate (for the readiness check and ``create_bucket``)."""
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""
        self.ssl_cert, self.ssl_key, self.ca_bundle = ssl_cert, ssl_key, ca_bundle

    def start(self) -> MotoServer:
        exe = moto_executable()
        if exe is None:
            raise RuntimeError("moto_server is not installed: pip install 'moto[server]' (make test installs it)")
        port = _free_port()
        tls = self.ssl_cert is not None
        self.endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        cmd = [exe, "-H", "127.0.0.1", "-p", str(port)]
        if tls:
            cmd += ["--ssl-cert", str(self.ssl_cert), "--ssl-key", str(self.ssl_key)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = None
        if tls:
            import ssl

            ctx = ssl.create_default_context(cafile=self.ca_bundle)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1, context=ctx)
                return self
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start on {self.endpoint}") from None
                time.sleep(0.05)

    def environ(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def create_bucket(self, name: str | None = None) -> str:
        """A new bucket; returns its ``s3://`` URL."""
        import boto3

        name = name or f"pz-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=self.ca_bundle if self.ca_bundle else None,
        ).create_bucket(Bucket=name)
        return f"s3://{name}"

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
