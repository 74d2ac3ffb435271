"""HTTP(S) stores and TLS S3, both languages, against real servers on 127.0.0.1.

Servers: polyzarr.testing.httpserver.HTTPTestServer (a threaded http.server with Range support, fault injection and
a request log) over http and over https with a throwaway CA made by trustme; moto_server processes over https with
a trustme certificate. Python reads through the API (open_store / walk / arrays); PolyZarr.jl through
`polyzarr export --impl julia` (and one script for partial reads).
"""
from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from polyzarr.errors import StoreError
from polyzarr.groups import open_node_array, walk
from polyzarr.stores import HTTP_RETRIES, open_store
from polyzarr.testing import need
from polyzarr.testing.httpserver import HTTPTestServer
from polyzarr.verbs import export_tree

zarr = pytest.importorskip("zarr")
trustme = pytest.importorskip("trustme")

REPO = Path(__file__).resolve().parents[2]

A = np.arange(30, dtype="<i4").reshape(6, 5)
F = np.array([1.5, 2.5, 3.5, -9.5, -9.5, -9.5, -9.5])  # only the first chunk is written: the rest is the fill
SH = (np.arange(48, dtype="<i4").reshape(8, 6) * 7) % 23
G = np.array([0.25, 0.5, 0, 0, 0, 0], dtype="<f4")


def _julia():
    from polyzarr.julia import julia_executable

    exe = julia_executable()
    if exe is None:
        need("Julia", "scripts/install-julia.sh")
    return exe


def _quiet_write(fn):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The served directory: v2 consolidated (v2c.zarr), v2 without .zmetadata (v2n.zarr), v3 sharded + consolidated
    (v3.zarr)."""
    root = tmp_path_factory.mktemp("www")

    def build():
        g = zarr.open_group(str(root / "v2c.zarr"), mode="w", zarr_format=2)
        g.create_array("a", shape=A.shape, chunks=(4, 2), dtype=A.dtype)[:] = A
        f = g.create_array("f", shape=F.shape, chunks=(3,), dtype="<f8", fill_value=-9.5)
        f[:3] = F[:3]
        g.attrs["title"] = "served"
        zarr.consolidate_metadata(str(root / "v2c.zarr"))
        shutil.copytree(root / "v2c.zarr", root / "v2n.zarr")
        (root / "v2n.zarr" / ".zmetadata").unlink()
        g3 = zarr.open_group(str(root / "v3.zarr"), mode="w", zarr_format=3)
        g3.create_array("sh", shape=SH.shape, chunks=(2, 3), shards=(4, 6), dtype=SH.dtype)[:] = SH
        gg = g3.create_array("g", shape=G.shape, chunks=(2,), dtype=G.dtype, fill_value=0)
        gg[:2] = G[:2]
        zarr.consolidate_metadata(str(root / "v3.zarr"))

    _quiet_write(build)
    return root


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("ca")
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": d / "ca.pem", "cert": d / "cert.pem", "key": d / "key.pem", "other": d / "other-ca.pem"}
    authority.cert_pem.write_to_path(str(paths["ca"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    trustme.CA().cert_pem.write_to_path(str(paths["other"]))  # a CA that signed nothing here
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    return {k: str(v) for k, v in paths.items()} | {"server_ctx": ctx}


@pytest.fixture(scope="module")
def http_server(served):
    with HTTPTestServer(served) as srv:
        yield srv


@pytest.fixture(scope="module")
def https_server(served, ca):
    with HTTPTestServer(served, ssl_context=ca["server_ctx"]) as srv:
        yield srv


@pytest.fixture
def server(request, http_server, https_server, ca, monkeypatch):
    """http or https (with CURL_CA_BUNDLE / SSL_CERT_FILE pointing at the test CA), faults and log cleared."""
    for v in ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(v, raising=False)
    srv = https_server if request.param == "https" else http_server
    if request.param == "https":
        monkeypatch.setenv("CURL_CA_BUNDLE", ca["ca"])
    srv.clear()
    yield srv
    srv.clear()


def _expected(name):
    return {
        "v2c.zarr": {"a": A, "f": F},
        "v2n.zarr/a": {"a": A},
        "v3.zarr": {"sh": SH, "g": G},
    }[name]


def _check_out(out: Path, want: dict):
    got = sorted(p.stem for p in out.glob("*.npy"))
    assert got == sorted(want)
    for k, v in want.items():
        x = np.load(out / f"{k}.npy")
        assert x.dtype == v.dtype, k
        np.testing.assert_array_equal(x, v)


def _cli(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "polyzarr", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=REPO,
    )


# ---------------------------------------------------------------------------------------------------------------
# Python


@pytest.mark.parametrize("server", ["http", "https"], indirect=True)
@pytest.mark.parametrize("name", ["v2c.zarr", "v2n.zarr/a", "v3.zarr"])
def test_http_python_reads(server, name, tmp_path):
    exported, failed = export_tree(f"{server.url}/{name}", str(tmp_path), log=lambda *a: None)
    assert not failed
    _check_out(tmp_path, _expected(name))
    # listing-free: only GETs of named keys, never a directory
    assert all(m == "GET" and not p.endswith("/") for (m, p, _, _) in server.requests)


@pytest.mark.parametrize("server", ["http"], indirect=True)
def test_http_python_missing_chunk_is_fill_and_sharded_ranges(server):
    store = open_store(f"{server.url}/v3.zarr")
    nodes = {n.path: n for n in walk(store)}
    g = open_node_array(store, nodes["g"]).read()
    np.testing.assert_array_equal(g, G)
    assert server.count("/v3.zarr/g/c/2", 404) == 1  # a 404 on a chunk key is a missing chunk
    server.clear()
    sh = open_node_array(store, nodes["sh"])
    np.testing.assert_array_equal(sh[0:2, 0:3], SH[0:2, 0:3])
    ranges = [r for (_, p, r, s) in server.requests if p.endswith("/sh/c/0/0")]
    assert ranges and all(r is not None and r.startswith("bytes=") for r in ranges), server.requests
    assert all(s == 206 for (_, p, _, s) in server.requests if p.endswith("/sh/c/0/0"))
    server.ignore_ranges()  # a server without Range support: the whole shard comes back, sliced locally
    np.testing.assert_array_equal(sh[2:4, 3:6], SH[2:4, 3:6])
    np.testing.assert_array_equal(sh[5, 1:2], SH[5, 1:2])


@pytest.mark.parametrize("server", ["http"], indirect=True)
def test_http_python_retries_5xx_and_resets(server, tmp_path):
    server.inject("/v2c.zarr/a/0.0", "503", 2)
    server.inject("/v2c.zarr/a/1.1", "reset", 1)
    server.inject("/v2c.zarr/.zmetadata", "500", 1)
    exported, failed = export_tree(f"{server.url}/v2c.zarr", str(tmp_path), log=lambda *a: None)
    assert not failed
    _check_out(tmp_path, _expected("v2c.zarr"))
    assert server.count("/v2c.zarr/a/0.0") == 3 and server.count("/v2c.zarr/a/0.0", 503) == 2
    assert server.count("/v2c.zarr/a/1.1") == 2 and server.count("/v2c.zarr/a/1.1", "reset") == 1
    assert server.count("/v2c.zarr/.zmetadata") == 2


@pytest.mark.parametrize("server", ["http"], indirect=True)
def test_http_python_retries_are_bounded(server):
    server.inject("/v2c.zarr/a/0.0", "503", None)
    store = open_store(f"{server.url}/v2c.zarr")
    t0 = time.monotonic()
    with pytest.raises(StoreError) as e:
        store.get("a/0.0")
    assert time.monotonic() - t0 < 5
    assert server.count("/v2c.zarr/a/0.0") == HTTP_RETRIES + 1
    assert f"{server.url}/v2c.zarr/a/0.0" in str(e.value) and "503" in str(e.value)
    assert f"{HTTP_RETRIES + 1} attempts" in str(e.value)


@pytest.mark.parametrize("server", ["http", "https"], indirect=True)
def test_http_python_403_404_are_store_errors(server, tmp_path):
    server.inject("/v2c.zarr/a/0.0", "403", None)
    # export records the array as failed, with the StoreError naming the chunk's URL
    exported, failed = export_tree(f"{server.url}/v2c.zarr/a", str(tmp_path), log=lambda *a: None)
    assert [f["category"] for f in failed] == ["StoreError"]
    assert f"{server.url}/v2c.zarr/a/0.0" in failed[0]["message"] and "403" in failed[0]["message"]
    store = open_store(f"{server.url}/v2c.zarr")
    with pytest.raises(StoreError) as e:
        store.get("a/0.0")
    assert f"{server.url}/v2c.zarr/a/0.0" in str(e.value) and "403" in str(e.value)
    assert server.count("/v2c.zarr/a/0.0", 403) == 2  # no retries on 403: one request per read above
    with pytest.raises(StoreError) as e:
        list(walk(open_store(f"{server.url}/nothere.zarr")))
    assert f"{server.url}/nothere.zarr" in str(e.value) and "404" in str(e.value)


@pytest.mark.parametrize("server", ["http"], indirect=True)
def test_http_python_group_without_consolidated_metadata(server, tmp_path):
    with pytest.raises(StoreError) as e:
        export_tree(f"{server.url}/v2n.zarr", str(tmp_path), log=lambda *a: None)
    assert f"{server.url}/v2n.zarr" in str(e.value) and "no listing" in str(e.value)


def test_https_python_untrusted_certificate(https_server, ca, monkeypatch, tmp_path):
    for v in ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", ca["other"])  # a bundle that does not sign the server's certificate
    https_server.clear()
    with pytest.raises(StoreError) as e:
        list(walk(open_store(f"{https_server.url}/v3.zarr")))
    msg = str(e.value)
    assert https_server.url in msg and "not trusted" in msg
    monkeypatch.setenv("SSL_CERT_FILE", ca["ca"])  # SSL_CERT_FILE is honoured too
    export_tree(f"{https_server.url}/v3.zarr", str(tmp_path), log=lambda *a: None)
    _check_out(tmp_path, _expected("v3.zarr"))


# ---------------------------------------------------------------------------------------------------------------
# Julia (polyzarr export --impl julia)


@pytest.mark.julia
@pytest.mark.parametrize(
    "server,name", [("https", "v3.zarr")], indirect=["server"]  # more exports in the one-process test below
)
def test_http_julia_export(server, name, tmp_path):
    _julia()
    r = _cli("export", "--impl", "julia", f"{server.url}/{name}", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    _check_out(tmp_path, _expected(name))
    assert all(m == "GET" for (m, _, _, _) in server.requests)


def _julia_script(body: str) -> str:
    """A PolyZarr.jl script; `cli(args...)` runs the CLI in-process (PolyZarr.cli_main, what `polyzarr --impl julia`
    runs) and prints `CLI <code> <output on one line>`: one Julia start for several commands."""
    return f"""
    pushfirst!(LOAD_PATH, {json.dumps(str(REPO / 'julia'))}); using PolyZarr
    function cli(args...)
        io = IOBuffer()
        code = PolyZarr.cli_main(collect(String, args); out=io, err=io)
        println("CLI ", code, " ", replace(String(take!(io)), "\\n" => " | "))
    end
    {body}
    """


def _run_julia(exe, body, env=None):
    r = subprocess.run(
        [exe, "--startup-file=no", "-e", _julia_script(body)], capture_output=True, text=True, timeout=180,
        env={**os.environ, **(env or {})},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.julia
def test_http_julia_retries_ranges_errors(http_server, https_server, ca, tmp_path):
    """One Julia process: retries (5xx, resets) observed by the server's counter and bounded; sharded partial reads
    as Range requests; a 403, a 404 on metadata, a group without consolidated metadata and an untrusted certificate
    each a StoreError naming the URL (through the CLI's own entry point)."""
    exe = _julia()
    srv = http_server
    srv.clear()
    https_server.clear()
    srv.inject("/v2c.zarr/a/0.0", "503", 2)
    srv.inject("/v2c.zarr/a/1.1", "reset", 1)
    srv.inject("/v3.zarr/g/c/0", "502", None)  # never recovers: bounded
    srv.inject("/v2c.zarr/f/.zarray", "403", None)
    q = json.dumps
    plain = HTTPTestServer(srv.root).start()  # a server without Range support
    plain.ignore_ranges()
    body = f"""
    s2 = open_array({q(plain.url + '/v3.zarr/sh')})
    println("SH2 ", join(vec(s2[4:6, 3:4]), ","))          # numpy [2:4, 3:6]: whole shard sent, sliced locally
    a = open_array({q(srv.url + '/v2c.zarr/a')})
    println("A ", join(vec(read_numpy_order(a)), ","))
    s = open_array({q(srv.url + '/v3.zarr/sh')})
    println("SH ", join(vec(s[1:3, 1:2]), ","))           # Julia axes are reversed: numpy [0:2, 0:3]
    try
        open_array({q(srv.url + '/v3.zarr/g')})[1:2]
    catch e
        println("G ", sprint(showerror, e))
    end
    cli("export", {q(srv.url + '/v2c.zarr')}, {q(str(tmp_path / 'v2c'))})
    cli("export", {q(srv.url + '/v2c.zarr/f')}, {q(str(tmp_path / 'o1'))})
    cli("export", {q(srv.url + '/nothere.zarr')}, {q(str(tmp_path / 'o2'))})
    cli("export", {q(srv.url + '/v2n.zarr')}, {q(str(tmp_path / 'o3'))})
    ENV["CURL_CA_BUNDLE"] = {q(ca['other'])}     # a CA that signed nothing here
    cli("export", {q(https_server.url + '/v3.zarr')}, {q(str(tmp_path / 'o4'))})
    ENV["CURL_CA_BUNDLE"] = {q(ca['ca'])}
    cli("export", {q(https_server.url + '/v3.zarr/g')}, {q(str(tmp_path / 'o5'))})
    cli("export", {q(https_server.url + '/v2n.zarr/a')}, {q(str(tmp_path / 'v2n'))})
    """
    t0 = time.monotonic()
    try:
        out = _run_julia(exe, body, env={"CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""})
    finally:
        plain.stop()
    lines = [line.split(" ", 1) for line in out.splitlines() if line[:2] in ("A ", "SH", "G ", "CL")]
    first = {k: v for k, v in lines if k != "CLI"}
    clis = [v for k, v in lines if k == "CLI"]
    assert first["A"] == ",".join(map(str, A.ravel()))
    assert first["SH"] == ",".join(map(str, SH[0:2, 0:3].ravel()))
    assert first["SH2"] == ",".join(map(str, SH[2:4, 3:6].ravel()))
    # the first read: 2 × 503 then 200, reset then 200; the tree export reads each once more
    assert srv.count("/v2c.zarr/a/0.0") == 3 + 1 and srv.count("/v2c.zarr/a/0.0", 503) == 2
    assert srv.count("/v2c.zarr/a/1.1") == 2 + 1 and srv.count("/v2c.zarr/a/1.1", "reset") == 1
    ranges = [rg for (_, p, rg, _) in srv.requests if p.endswith("/sh/c/0/0")]
    assert ranges and all(rg and rg.startswith("bytes=") for rg in ranges)
    assert srv.count("/v3.zarr/g/c/0") == 5  # 1 + 4 retries, then a StoreError naming the URL
    assert f"{srv.url}/v3.zarr/g/c/0" in first["G"] and "502" in first["G"] and "StoreError" in first["G"]
    want = [
        ["0 ", "exported a", "exported f"],
        ["1 ", "StoreError", f"{srv.url}/v2c.zarr/f/.zarray", "403"],
        ["1 ", "StoreError", f"{srv.url}/nothere.zarr", "404"],
        ["1 ", "StoreError", f"{srv.url}/v2n.zarr", "no listing"],
        ["1 ", "StoreError", https_server.url, "not trusted"],
        ["0 ", "exported g"],
        ["0 ", "exported a"],
    ]
    assert len(clis) == len(want), out
    for got, w in zip(clis, want):
        assert got.startswith(w[0]) and all(x in got for x in w[1:]), (got, w)
    np.testing.assert_array_equal(np.load(tmp_path / "o5" / "g.npy"), G)
    _check_out(tmp_path / "v2c", _expected("v2c.zarr"))
    _check_out(tmp_path / "v2n", _expected("v2n.zarr/a"))
    assert time.monotonic() - t0 < 60


# ---------------------------------------------------------------------------------------------------------------
# S3 over TLS (moto_server with a trustme certificate), CA bundles, --anon


@pytest.fixture(scope="module")
def tls_moto(ca):
    from polyzarr.testing.moto import moto_executable

    if moto_executable() is None:
        need("moto_server", "pip install 'moto[server]'")
    from polyzarr.testing import MotoServer

    with MotoServer(ssl_cert=ca["cert"], ssl_key=ca["key"], ca_bundle=ca["ca"]) as srv:
        yield srv


@pytest.fixture
def tls_env(tls_moto, ca, monkeypatch):
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": tls_moto.endpoint,
        "AWS_CA_BUNDLE": ca["ca"],
        "CURL_CA_BUNDLE": "",
        "SSL_CERT_FILE": "",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("POLYZARR_ANON", raising=False)
    return env


@pytest.mark.s3
@pytest.mark.julia
def test_s3_tls_both_languages_and_untrusted_certificate(tls_moto, tls_env, ca, monkeypatch, tmp_path):
    """S3 over https with the test CA in AWS_CA_BUNDLE: Python writes, Julia reads, Julia writes (v3), Python reads;
    with a CA bundle that does not sign moto's certificate, both languages give a StoreError saying so."""
    exe = _julia()
    from polyzarr.verbs import import_npy

    assert tls_moto.endpoint.startswith("https://")
    bucket = tls_moto.create_bucket()
    np.save(tmp_path / "a.npy", A)
    import_npy(str(tmp_path / "a.npy"), f"{bucket}/py.zarr/a", chunks=(4, 2))
    q = json.dumps
    body = f"""
    cli("import", {q(str(tmp_path / 'a.npy'))}, {q(bucket + '/jl.zarr/a')}, "--chunks", "3,3", "--zarr-format", "3")
    cli("export", {q(bucket + '/py.zarr/a')}, {q(str(tmp_path / 'jl-out'))})
    ENV["AWS_CA_BUNDLE"] = {q(ca['other'])}
    cli("export", {q(bucket + '/py.zarr/a')}, {q(str(tmp_path / 'jl-bad'))})
    """
    out = _run_julia(exe, body)
    clis = [line[4:] for line in out.splitlines() if line.startswith("CLI ")]
    assert len(clis) == 3, out
    assert clis[0].startswith("0 ") and clis[1].startswith("0 "), out
    _check_out(tmp_path / "jl-out", {"a": A})
    assert clis[2].startswith("1 ") and "StoreError" in clis[2] and tls_moto.endpoint in clis[2], clis[2]
    assert "not trusted" in clis[2], clis[2]
    exported, failed = export_tree(f"{bucket}/jl.zarr/a", str(tmp_path / "py-out"), log=lambda *a: None)
    assert not failed
    _check_out(tmp_path / "py-out", {"a": A})
    monkeypatch.setenv("AWS_CA_BUNDLE", ca["other"])
    with pytest.raises(StoreError) as e:
        export_tree(f"{bucket}/py.zarr/a", str(tmp_path / "py-bad"), log=lambda *a: None)
    assert tls_moto.endpoint in str(e.value) and "not trusted" in str(e.value)


@pytest.mark.s3
@pytest.mark.julia
def test_s3_anon(tls_moto, tls_env, monkeypatch, tmp_path):
    """--anon: unsigned requests. A public-read object is read by both languages; a private one is a 403 StoreError."""
    exe = _julia()
    import boto3

    from polyzarr.verbs import import_npy

    bucket = tls_moto.create_bucket()
    np.save(tmp_path / "a.npy", A)
    for name in ("pub.zarr/a", "priv.zarr/a"):
        import_npy(str(tmp_path / "a.npy"), f"{bucket}/{name}", chunks=(4, 2))
    s3 = boto3.client(
        "s3", endpoint_url=tls_moto.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name="us-east-1", verify=tls_env["AWS_CA_BUNDLE"],
    )
    b = bucket[len("s3://"):]
    for obj in s3.list_objects_v2(Bucket=b, Prefix="pub.zarr/")["Contents"]:
        s3.put_object_acl(Bucket=b, Key=obj["Key"], ACL="public-read")
    q = json.dumps
    body = f"""
    cli("export", "--anon", {q(bucket + '/pub.zarr/a')}, {q(str(tmp_path / 'jl-pub'))})
    cli("export", "--anon", {q(bucket + '/priv.zarr/a')}, {q(str(tmp_path / 'jl-priv'))})
    """
    out = _run_julia(exe, body)
    clis = [line[4:] for line in out.splitlines() if line.startswith("CLI ")]
    assert len(clis) == 2 and clis[0].startswith("0 "), out
    _check_out(tmp_path / "jl-pub", {"a": A})
    assert clis[1].startswith("1 ") and "StoreError" in clis[1] and "403" in clis[1], clis[1]
    r = _cli("export", "--anon", f"{bucket}/pub.zarr/a", str(tmp_path / "py-pub"))
    assert r.returncode == 0, r.stdout + r.stderr
    _check_out(tmp_path / "py-pub", {"a": A})
    monkeypatch.setenv("POLYZARR_ANON", "1")
    try:
        exported, failed = export_tree(f"{bucket}/priv.zarr/a", str(tmp_path / "py-priv"), log=lambda *a: None)
        assert not exported and failed
        msg = failed[0]["category"] + ": " + failed[0]["message"]
    except StoreError as e:
        msg = "StoreError: " + str(e)
    assert msg.startswith("StoreError") and "403" in msg and bucket in msg, msg
