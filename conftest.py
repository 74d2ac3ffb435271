"""Fixtures shared by python/tests and interop_tests: one real moto S3 server per session."""
from __future__ import annotations

import os
import sys

import pytest

from polyzarr.testing import MotoServer, need
from polyzarr.testing.moto import moto_executable


def pytest_report_header(config):
    """The oracle's versions on pytest's header: what "green" was checked against."""
    try:
        import zarr

        zarr_version = zarr.__version__
    except Exception as exc:  # the header must not stop the run
        zarr_version = f"not importable ({type(exc).__name__}: {exc})"
    try:
        import numcodecs

        numcodecs_version = numcodecs.__version__
    except Exception as exc:
        numcodecs_version = f"not importable ({type(exc).__name__}: {exc})"
    python_version = ".".join(map(str, sys.version_info[:3]))
    return f"oracle: zarr-python {zarr_version}, numcodecs {numcodecs_version}, Python {python_version}"


@pytest.fixture(scope="session")
def moto_server():
    """A `moto_server` process on 127.0.0.1 (free port); the AWS variables point both languages at it."""
    if moto_executable() is None:
        need("moto_server", "pip install 'moto[server]' (make test installs it)")
    server = MotoServer().start()
    saved = {k: os.environ.get(k) for k in server.environ()}
    os.environ.update(server.environ())
    yield server
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto_server):
    return moto_server.endpoint


@pytest.fixture
def s3_bucket(moto_server):
    """A fresh bucket; returns its s3:// URL."""
    return moto_server.create_bucket()


@pytest.fixture(scope="session")
def _fault_proxy_server(moto_server):
    from polyzarr.testing.faultproxy import FaultProxy

    proxy = FaultProxy(moto_server.endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def fault_proxy(_fault_proxy_server):
    """polyzarr.testing.faultproxy.FaultProxy in front of the session's moto server, with no rules: add them per test
    (`fault_proxy.add("slowdown", method="GET", path=..., nth=[1])`). Point either language's S3 client at
    `fault_proxy.url` (Python `endpoint_url=` / `AWS_ENDPOINT_URL`, Julia `--endpoint-url`)."""
    _fault_proxy_server.clear()
    yield _fault_proxy_server
    _fault_proxy_server.clear()
