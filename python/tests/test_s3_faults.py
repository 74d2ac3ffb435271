"""S3 and HTTP faults through polyzarr.testing.faultproxy, both languages (docs/CONTRACT.md "S3 and HTTP robustness").

A moto server holds the data (written straight to it, not through the proxy); the fault proxy sits in front of it and
each scenario's rules match only that scenario's keys (``s.zarr/<lang>/<scenario>/...``), so one Julia process runs
every Julia scenario (PolyZarr.cli_main in-process, as test_http_stores.py does). Python runs through the API
(export_tree / import_npy) and the CLI. Short timeouts through the documented variables keep the file quick:
POLYZARR_HTTP_TIMEOUT=1 (connect, and idle while reading), POLYZARR_HTTP_RETRY_BUDGET=4.

Each scenario asserts values (against the numpy array written) or the exact error category and key, and the
requests the proxy saw (attempt counts, retries bounded).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from polyzarr.errors import StoreError
from polyzarr.testing import need
from polyzarr.testing.faultproxy import FaultProxy
from polyzarr.testing.httpserver import HTTPTestServer
from polyzarr.verbs import export_tree, import_npy

pytestmark = pytest.mark.s3

REPO = Path(__file__).resolve().parents[2]
A = (np.arange(30, dtype="<i4").reshape(6, 5) * 7) % 101  # chunks (2, 5): keys 0.0, 1.0, 2.0
B = np.arange(32, dtype="<f8").reshape(16, 2) / 4  # chunks (1, 2): 16 chunks, for the stall scenarios
FAST = {"POLYZARR_HTTP_TIMEOUT": "1", "POLYZARR_HTTP_RETRY_BUDGET": "4", "POLYZARR_HTTP_RETRIES": "4"}
T, BUDGET = 1.0, 4.0
LANGS = ("py", "jl")
N_MANY = 30  # arrays in the tree whose listing is cut (Julia exported 15 of them with exit 0 before)

# scenario → (array, rules); a rule is (kind, method, key regex relative to the array, options). "LIST" matches the
# listing of the array's prefix.
READS = {
    "burst500": ("A", [("status", "GET", r"1\.0$", {"status": 500, "nth": [1, 2, 3]})]),
    "slowdown": ("A", [("slowdown", "GET", r"0\.0$", {"nth": [1, 2]})]),
    "reset": ("A", [("reset", "GET", r"2\.0$", {"nth": [1]})]),
    "truncget": ("A", [("truncate", "GET", r"1\.0$", {"keep": 5, "nth": [1]})]),
    "truncget_always": ("A", [("truncate", "GET", r"1\.0$", {"keep": 5})]),
    "cutlist": ("A", [("cut", "LIST", "", {"keep": 0.6, "nth": [1]})]),
    "cutlist_always": ("A", [("cut", "LIST", "", {"keep": 0.6})]),
    "trunclist_always": ("A", [("truncate", "LIST", "", {"keep": 0.5})]),
    "slowlist": ("A", [("slowdown", "LIST", "", {"nth": [1]})]),
    "stall_first": ("B", [("stall", "GET", r"\d+\.0$", {"seconds": 3.0, "nth": [1], "per_path": True})]),
    "stall_always": ("A", [("stall", "GET", r"0\.0$", {"seconds": 8.0})]),
    "midstall": ("A", [("stall", "GET", r"0\.0$", {"seconds": 3.0, "after": 4, "nth": [1]})]),
    "trickle": ("A", [("trickle", "GET", r"0\.0$", {"seconds": 0.3, "nth": [1]})]),
    "notfound_listed": ("A", [("notfound", "GET", r"2\.0$", {})]),
    "notfound_once": ("A", [("notfound", "GET", r"2\.0$", {"nth": [1]})]),
    "persist503": ("A", [("status", "GET", r"0\.0$", {"status": 503})]),
    "denied": ("A", [("status", "GET", r"1\.0$", {"status": 403, "code": "AccessDenied"})]),
}
WRITES = {
    "truncput_once": [("truncate_upload", "PUT", r"1\.0$", {"keep": 0.5, "nth": [1]})],
    "truncput_always": [("truncate_upload", "PUT", r"1\.0$", {"keep": 0.5})],
    "put503": [("status", "PUT", r"0\.0$", {"status": 503, "nth": [1, 2]})],
    "putstall": [("stall", "PUT", r"2\.0$", {"seconds": 3.0, "nth": [1]})],
}
FAILING = {"truncget_always", "cutlist_always", "trunclist_always", "stall_always", "notfound_listed",
           "persist503", "denied", "truncput_always"}


def _julia():
    from polyzarr.julia import julia_executable

    exe = julia_executable()
    if exe is None:
        need("Julia", "scripts/install-julia.sh")
    return exe


def _path(lang: str, name: str) -> str:
    return f"s.zarr/{lang}/{name}"


def _add_rules(proxy: FaultProxy, bucket: str, lang: str, name: str, rules: list) -> None:
    b = bucket[len("s3://"):]
    for kind, method, key, opts in rules:
        if method == "LIST":
            prefix = _path(lang, name).replace("/", "%2F") + "%2F"
            proxy.add(kind, method="GET", path=f"^/{b}/?$", query=f"prefix={prefix}(&|$)", **opts)
        else:
            proxy.add(kind, method=method, path=f"^/{b}/{_path(lang, name)}/{key}", **opts)


def _gets(proxy: FaultProxy, bucket: str, lang: str, name: str, key: str) -> int:
    return proxy.count("GET", f"^/{bucket[5:]}/{_path(lang, name)}/{key}")


def _lists(proxy: FaultProxy, lang: str, name: str) -> int:
    prefix = _path(lang, name).replace("/", "%2F") + "%2F"
    return sum(1 for (m, _p, q, _k, _s) in proxy.log if m == "GET" and f"prefix={prefix}" in q)


@pytest.fixture(scope="module")
def data(moto_server, tmp_path_factory):
    """The bucket: s.zarr/<lang>/<scenario> for every read scenario (A or B), many-<lang>.zarr (N_MANY arrays)."""
    import boto3

    tmp = tmp_path_factory.mktemp("s3faults")
    bucket = moto_server.create_bucket()
    src = {}
    for arr, name, chunks in ((A, "A", (2, 5)), (B, "B", (1, 2)), (A, "M", (3, 5))):
        np.save(tmp / f"{name}.npy", arr)
        import_npy(str(tmp / f"{name}.npy"), str(tmp / f"{name}.zarr"), chunks=chunks)
        src[name] = {p.name: p.read_bytes() for p in (tmp / f"{name}.zarr").iterdir()}
    # the same files under every scenario's path, straight to moto (one PUT a file is quicker than an import each)
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    dests = [(_path(lang, scen), arr) for lang in LANGS for scen, (arr, _r) in READS.items()]
    dests += [(f"many-{lang}.zarr/g/a{i:02d}", "M") for lang in LANGS for i in range(N_MANY)]
    dests += [(f"many-{lang}.zarr", None) for lang in LANGS] + [(f"many-{lang}.zarr/g", None) for lang in LANGS]
    for path, arr in dests:
        files = src[arr] if arr else {".zgroup": b'{"zarr_format": 2}'}
        for name, blob in files.items():
            s3.put_object(Bucket=bucket[5:], Key=f"{path}/{name}", Body=blob)
    return {"bucket": bucket, "tmp": tmp}


def _check_values(out: Path, name: str, want: np.ndarray) -> None:
    got = np.load(out / f"{name}.npy")
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------------------------------
# Python (API and CLI)


def _py_export(src: str, out: Path, proxy: FaultProxy) -> tuple[list, list, float]:
    t0 = time.monotonic()
    try:
        exported, failed = export_tree(src, str(out), endpoint_url=proxy.url, log=lambda *a: None)
    except StoreError as e:
        return [], [{"category": "StoreError", "message": str(e), "key": e.key}], time.monotonic() - t0
    return exported, failed, time.monotonic() - t0


@pytest.mark.parametrize("scen", list(READS))
def test_python_reads_through_faults(scen, data, fault_proxy, monkeypatch, tmp_path):
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    bucket = data["bucket"]
    arr, rules = READS[scen]
    _add_rules(fault_proxy, bucket, "py", scen, rules)
    exported, failed, took = _py_export(f"{bucket}/{_path('py', scen)}", tmp_path, fault_proxy)
    print(f"python {scen}: {took:.3f} s")
    _check_read(scen, "py", exported, failed, took, tmp_path, fault_proxy, bucket)


def _check_read(scen, lang, exported, failed, took, out, proxy, bucket) -> None:
    """The expectation of each read scenario, the same for both languages."""
    msg = " | ".join(f"{f['category']}: {f['message']}" for f in failed)
    want = B if READS[scen][0] == "B" else A
    if scen not in FAILING:
        assert not failed, msg
        _check_values(out, scen, want)
    else:
        assert len(failed) == 1 and failed[0]["category"] == "StoreError", msg
        assert not list(out.glob("*.npy")), "no partial export"
    gets = lambda key: _gets(proxy, bucket, lang, scen, key)  # noqa: E731
    path = _path(lang, scen)
    if scen == "burst500":
        assert gets(r"1\.0$") == 4  # three 500s, then the value
    elif scen == "slowdown":
        assert gets(r"0\.0$") == 3
    elif scen in ("reset", "truncget", "notfound_once"):
        key = {"reset": r"2\.0$", "truncget": r"1\.0$", "notfound_once": r"2\.0$"}[scen]
        assert gets(key) == 2
    elif scen == "truncget_always":
        assert f"{path}/1.0" in msg and "attempts" in msg, msg
        assert gets(r"1\.0$") == 5
    elif scen in ("cutlist", "slowlist"):
        assert _lists(proxy, lang, scen) == 2
    elif scen in ("cutlist_always", "trunclist_always"):
        assert _lists(proxy, lang, scen) == 5, msg
        assert "listing" in msg or "List" in msg or "LIST" in msg, msg
        assert gets(r"\d\.\d$") == 0  # nothing read from a listing that was not trusted
    elif scen == "stall_first":
        # 16 chunks, each first GET stalled 3 s: every read times out once (T = 1 s) and is retried; the chunks go
        # out together (16 at a time), so the whole read takes about one timeout, not 16
        assert gets(r"\d+\.0$") == 32, proxy.log
        assert took < 8.0, took  # one after the other it would be 16 timeouts (16 s); Julia compiles on the way
    elif scen == "stall_always":
        assert f"{path}/0.0" in msg and "attempts" in msg, msg
        # no retry starts later than BUDGET; the last attempt ends within 2 T (connect + idle)
        assert took < BUDGET + 2 * T + 1.5, took
        assert 2 <= gets(r"0\.0$") <= 5
    elif scen in ("midstall", "trickle"):
        assert gets(r"0\.0$") == 2
        if scen == "trickle":  # a byte every 0.3 s never trips the idle timeout: the low-speed rule ends it
            assert took < 2 * T + 3.0, took
    elif scen == "notfound_listed":
        assert f"{path}/2.0" in msg and "404" in msg and "listing" in msg, msg
        assert gets(r"2\.0$") == 5
    elif scen == "persist503":
        assert f"{path}/0.0" in msg and "503" in msg and "5 attempts" in msg, msg
        assert gets(r"0\.0$") == 5
    elif scen == "denied":
        assert f"{path}/1.0" in msg and "403" in msg, msg
        assert gets(r"1\.0$") == 1  # never retried


def test_python_cli_cut_listing_of_a_tree(data, fault_proxy, tmp_path):
    """The CLI on a tree of 30 arrays whose every listing reply is cut short: exit 1, StoreError, nothing exported."""
    bucket = data["bucket"]
    b = bucket[5:]
    fault_proxy.add("cut", method="GET", path=f"^/{b}/?$", query="prefix=many-py", keep=0.5)
    r = subprocess.run(
        [sys.executable, "-m", "polyzarr", "export", f"{bucket}/many-py.zarr", str(tmp_path / "o"), "--endpoint-url",
         fault_proxy.url], capture_output=True, text=True, env={**os.environ, **FAST}, timeout=60, cwd=REPO,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "StoreError" in r.stderr + r.stdout and "listing" in r.stderr + r.stdout, r.stdout + r.stderr
    assert not list(tmp_path.rglob("*.npy"))
    # without faults the same command exports all 30
    fault_proxy.clear()
    r = subprocess.run(
        [sys.executable, "-m", "polyzarr", "export", f"{bucket}/many-py.zarr", str(tmp_path / "o"), "--endpoint-url",
         fault_proxy.url], capture_output=True, text=True, env={**os.environ, **FAST}, timeout=60, cwd=REPO,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list((tmp_path / "o" / "g").glob("*.npy"))) == N_MANY


@pytest.mark.parametrize("scen", list(WRITES))
def test_python_writes_through_faults(scen, data, fault_proxy, moto_server, monkeypatch, tmp_path):
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    bucket = data["bucket"]
    _add_rules(fault_proxy, bucket, "py", scen, WRITES[scen])
    dest = f"{bucket}/{_path('py', scen)}"
    try:
        import_npy(str(data["tmp"] / "A.npy"), dest, chunks=(2, 5), endpoint_url=fault_proxy.url)
        err = None
    except StoreError as e:
        err = e
    _check_write(scen, "py", err and f"StoreError: {err}", err and err.key, data, fault_proxy, moto_server, tmp_path)


def _check_write(scen, lang, err, key, data, proxy, moto_server, tmp_path) -> None:
    bucket = data["bucket"]
    path = _path(lang, scen)
    puts = proxy.count("PUT", f"^/{bucket[5:]}/{path}/1\\.0$")
    if scen == "truncput_always":
        assert err is not None and err.startswith("StoreError") and "upload integrity" in err, err
        assert key is not None and key.endswith("1.0"), key
        assert puts == 5
        # the truncated object the server kept was removed (best effort): nothing to mistake for the chunk
        from polyzarr.stores import open_store

        assert open_store(f"{bucket}/{path}", endpoint_url=moto_server.endpoint).get("1.0") is None
        return
    assert err is None, err
    if scen == "truncput_once":
        assert puts == 2
    exported, failed = export_tree(f"{bucket}/{path}", str(tmp_path / "back"), endpoint_url=moto_server.endpoint,
                                   log=lambda *a: None)
    assert not failed, failed
    _check_values(tmp_path / "back", scen, A)


def test_http_store_through_the_proxy(tmp_path, monkeypatch):
    """HTTP(S) stores share the rules: a body cut short (fewer bytes than Content-Length) and a stall beyond the
    timeout are retried (both languages); a 404 stays a missing chunk (HTTP has no listing, so no record says it
    exists: the fill value, docs/CONTRACT.md)."""
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    np.save(tmp_path / "A.npy", A)
    www = tmp_path / "www"
    import_npy(str(tmp_path / "A.npy"), str(www / "h.zarr" / "a"), chunks=(2, 5), fill_value=-1)
    srv = HTTPTestServer(www).start()
    proxy = FaultProxy(srv.url).start()
    want = A.copy()
    want[4:6] = -1  # chunk 2.0 answers 404
    try:
        proxy.add("truncate", method="GET", path=r"a/0\.0$", keep=3, nth=[1])
        proxy.add("stall", method="GET", path=r"a/1\.0$", seconds=3.0, nth=[1])
        proxy.add("notfound", method="GET", path=r"a/2\.0$")
        exported, failed = export_tree(f"{proxy.url}/h.zarr/a", str(tmp_path / "py"), log=lambda *a: None)
        assert not failed, failed
        np.testing.assert_array_equal(np.load(tmp_path / "py" / "a.npy"), want)
        assert proxy.count("GET", r"a/0\.0$") == 2 and proxy.count("GET", r"a/1\.0$") == 2
        proxy.clear()
        proxy.add("truncate", method="GET", path=r"a/0\.0$", keep=3, nth=[1])
        proxy.add("stall", method="GET", path=r"a/1\.0$", seconds=3.0, nth=[1])
        proxy.add("notfound", method="GET", path=r"a/2\.0$")
        exe = _julia()
        r = subprocess.run(
            [exe, "--startup-file=no", str(REPO / "julia" / "bin" / "polyzarr.jl"), "export", f"{proxy.url}/h.zarr/a",
             str(tmp_path / "jl")], capture_output=True, text=True, timeout=120,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        np.testing.assert_array_equal(np.load(tmp_path / "jl" / "a.npy"), want)
        assert proxy.count("GET", r"a/0\.0$") == 2 and proxy.count("GET", r"a/1\.0$") == 2
    finally:
        proxy.stop()
        srv.stop()


# ---------------------------------------------------------------------------------------------------------------
# Julia: every scenario in one process (PolyZarr.cli_main in-process), each with its own keys and rules


@pytest.mark.julia
def test_julia_through_faults(data, fault_proxy, moto_server, tmp_path):
    exe = _julia()
    bucket = data["bucket"]
    for scen, (_arr, rules) in READS.items():
        _add_rules(fault_proxy, bucket, "jl", scen, rules)
    for scen, rules in WRITES.items():
        _add_rules(fault_proxy, bucket, "jl", scen, rules)
    b = bucket[5:]
    fault_proxy.add("cut", method="GET", path=f"^/{b}/?$", query="prefix=many-jl", keep=0.5)
    q = json.dumps
    ep = fault_proxy.url
    lines = []
    for scen in READS:
        lines.append(f'run({q(scen)}, "export", {q(bucket + "/" + _path("jl", scen))}, {q(str(tmp_path / scen))}, '
                     f'"--endpoint-url", {q(ep)})')
    for scen in WRITES:
        lines.append(f'run({q(scen)}, "import", {q(str(data["tmp"] / "A.npy"))}, '
                     f'{q(bucket + "/" + _path("jl", scen))}, "--chunks", "2,5", "--endpoint-url", {q(ep)})')
    lines.append(f'run("many", "export", {q(bucket + "/many-jl.zarr")}, {q(str(tmp_path / "many"))}, '
                 f'"--endpoint-url", {q(ep)})')
    env_lines = "\n".join(f"ENV[{q(k)}] = {q(v)}" for k, v in FAST.items())
    script = f"""
    pushfirst!(LOAD_PATH, {q(str(REPO / 'julia'))}); using PolyZarr
    {env_lines}
    function run(name, args...)
        io = IOBuffer()
        t = @elapsed code = PolyZarr.cli_main(collect(String, args); out=io, err=io)
        println("RUN ", name, " ", code, " ", round(t, digits=3), " ", replace(String(take!(io)), "\\n" => " | "))
    end
    {chr(10).join(lines)}
    """
    r = subprocess.run([exe, "--startup-file=no", "-e", script], capture_output=True, text=True, timeout=240,
                       env={**os.environ, **FAST})
    assert r.returncode == 0, r.stdout + r.stderr
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("RUN "):
            _, name, code, took, text = line.split(" ", 4)
            results[name] = (int(code), float(took), text)
    assert set(results) == set(READS) | set(WRITES) | {"many"}, r.stdout + r.stderr
    print("julia times:", {k: v[1] for k, v in results.items()})
    for scen in READS:
        code, took, text = results[scen]
        failed = []
        if code != 0:
            cat = "StoreError" if "StoreError" in text else text
            failed = [{"category": cat, "message": text}]
        assert code == (1 if scen in FAILING else 0), (scen, text)
        _check_read(scen, "jl", [], failed, took, tmp_path / scen, fault_proxy, bucket)
    for scen in WRITES:
        code, took, text = results[scen]
        err = None if code == 0 else (text[text.index("StoreError"):] if "StoreError" in text else text)
        key = None
        if err is not None and scen == "truncput_always":
            assert f"{_path('jl', scen)}/1.0" in err, err
            key = "1.0"
        _check_write(scen, "jl", err, key, data, fault_proxy, moto_server, tmp_path / scen)
    code, took, text = results["many"]
    assert code == 1 and "StoreError" in text and "listing" in text, text
    assert not list((tmp_path / "many").rglob("*.npy")), "no partial export from a listing cut short"
