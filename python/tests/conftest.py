"""Shared fixtures: a real moto S3 server on 127.0.0.1, value generators, zarr-python helpers."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest

warnings.filterwarnings("ignore", module="zarr")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """A `moto_server` process on a random free port; credentials in the environment for both languages."""
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not os.path.exists(exe):
        pytest.skip("moto_server not installed: pip install 'moto[server]' (make test installs it)")
    port = _free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start on {url}")
            time.sleep(0.1)
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": url})
    yield url
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def s3_bucket(moto_endpoint):
    """A fresh bucket; returns its s3:// URL."""
    import boto3

    name = f"pz-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=name)
    return f"s3://{name}"


def make_values(dt: np.dtype | str | list, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Deterministic, varied values of any dtype, including edge values (NaN, NaT, extremes, non-ASCII)."""
    from polyzarr.dtypes import parse_dtype

    dt = parse_dtype(dt) if isinstance(dt, (str, list)) else np.dtype(dt)
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dt.fields is not None:
        out = np.zeros(n, dtype=dt)
        for i, name in enumerate(dt.names):
            fdt = dt.fields[name][0]
            base, sub = (fdt.subdtype if fdt.subdtype else (fdt, ()))
            vals = make_values(base, (n,) + tuple(sub), seed + i + 1)
            out[name] = vals
        return out.reshape(shape)
    k = dt.kind
    if k == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif k in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=np.int64 if k == "i" else np.uint64, endpoint=True)
        if n >= 2:
            v[0], v[-1] = info.min, info.max
    elif k == "f":
        v = rng.standard_normal(n) * 1000
        if n >= 4:
            v[1], v[2], v[3] = np.nan, np.inf, -0.0
    elif k == "c":
        v = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        if n >= 2:
            v[1] = complex(np.nan, 1.0)
    elif k in "Mm":
        v = rng.integers(-(10**12), 10**12, n).astype("<i8")
        if n >= 2:
            v[1] = np.iinfo(np.int64).min  # NaT
        return v.view(dt.newbyteorder("<")).astype(dt).reshape(shape)
    elif k == "S":
        w = dt.itemsize
        v = np.array([bytes(rng.integers(1, 256, rng.integers(0, w + 1)).astype(np.uint8)) for _ in range(n)], dtype=dt)
    elif k == "U":
        alphabet = "abcxyzé中😀 "
        w = dt.itemsize // 4
        v = np.array(["".join(rng.choice(list(alphabet), rng.integers(0, w + 1))) for _ in range(n)], dtype=dt)
    elif k == "V":
        v = np.frombuffer(rng.integers(0, 256, n * dt.itemsize).astype(np.uint8).tobytes(), dtype=dt)
    else:
        raise ValueError(dt)
    return np.asarray(v).astype(dt).reshape(shape)


def make_objects(kind: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    out = np.empty(n, dtype=object)
    for i in range(n):
        k = int(rng.integers(0, 12))
        if kind == "str":
            out[i] = "".join(rng.choice(list("abé中😀 xyz"), k))
        else:
            out[i] = bytes(rng.integers(0, 256, k).astype(np.uint8))
    return out.reshape(shape)


def assert_same(got: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Values, dtype (byte order included) and shape; NaN == NaN; says what differs."""
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype!r} ({getattr(got.dtype, 'str', '')}) != expected {expected.dtype!r}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != expected {expected.shape}" + (
        " (reversed!)" if got.shape == expected.shape[::-1] else "")
    if expected.dtype.kind == "O":
        assert list(got.flat) == list(expected.flat), f"{what}: object values differ"
        return
    a = np.ascontiguousarray(got).view(np.uint8) if got.size else got
    b = np.ascontiguousarray(expected).view(np.uint8) if expected.size else expected
    if got.dtype.kind in "fc":
        ok = np.array_equal(got, expected, equal_nan=True)
    else:
        ok = np.array_equal(a, b)
    if not ok:
        if got.dtype.fields is None and got.dtype.kind not in "SUV":
            diff = np.argwhere(~((got == expected) | ((got != got) & (expected != expected))))
            idx = tuple(diff[0]) if len(diff) else None
            raise AssertionError(f"{what}: {len(diff)} elements differ; first at {idx}: got {got[idx]!r}, expected {expected[idx]!r}")
        raise AssertionError(f"{what}: values differ (bytes)")
