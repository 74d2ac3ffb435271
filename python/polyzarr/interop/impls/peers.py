"""The ecosystem's implementations as matrix peers (issue 13): tensorstore (in this process), zarrs-python and
zarr-python 2.18 (each in a worker process of its own, ``worker.py``) and zarrita.js (a Node worker,
``interop/node/worker.mjs``). Each adapter has the contract of the three own ones: ``name``, ``version``,
``write(case, values, place, url)`` and ``read_all(cases, place, writer, scratch) -> slug → values | ReadFailure``;
its declared capability table lives in ``tables.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..cases import Case
from .base import Place, ReadFailure, _failure, normalize
from .worker import WorkerProcess


def repo_root() -> Path:
    return Path(__file__).resolve().parents[4]


def as_stored(case: Case, got: np.ndarray) -> np.ndarray:
    """A peer whose API hands out native-endian arrays (tensorstore, zarrita.js): the values in the case's stored
    byte order, when kind and size are the same (the byte order of the result is the API's choice, not the
    store's; values are still compared bit for bit)."""
    want = case.stored_dtype
    if got.dtype != want and got.dtype.fields is None and want.fields is None and want.kind not in "OV":
        if got.dtype.newbyteorder("=") == want.newbyteorder("="):
            return got.astype(want)
    return got


def _split_s3(url: str) -> tuple[str, str]:
    bucket, _, path = url[len("s3://") :].partition("/")
    return bucket, path


# ---------------------------------------------------------------------------------------------------------
# tensorstore


def _raw_bytes(case: Case) -> bool:
    return case.np_dtype.kind == "V" and case.np_dtype.fields is None


class TensorstoreImpl:
    """tensorstore's ``zarr`` (v2) and ``zarr3`` drivers, ``file`` and ``s3`` kvstores (the S3 endpoint given)."""

    name = "tensorstore"

    def __init__(self) -> None:
        import importlib.metadata

        import tensorstore

        self.ts = tensorstore
        self.version = importlib.metadata.version("tensorstore")
        self._ctx = tensorstore.Context()

    def kvstore(self, place: Place, url: str) -> dict:
        if place.kind == "s3":
            bucket, path = _split_s3(url)
            kv: dict[str, Any] = {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/"}
            if place.endpoint_url:
                kv.update(endpoint=place.endpoint_url, aws_region="us-east-1")
            return kv
        return {"driver": "file", "path": url.rstrip("/") + "/"}

    def spec(self, case: Case, place: Place, url: str) -> dict:
        if case.zarr_format == 3:
            meta: dict[str, Any] = {
                "shape": list(case.shape),
                "data_type": case.v3_data_type,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(case.chunks)}},
                "chunk_key_encoding": case.chunk_key_encoding,
                "codecs": case.codecs,
                "fill_value": case.fill_json,
            }
            if case.dimension_names is not None:
                meta["dimension_names"] = case.dimension_names
            if case.attrs:
                meta["attributes"] = case.attrs
            return {"driver": "zarr3", "kvstore": self.kvstore(place, url), "metadata": meta}
        comp = case.compressor
        if comp is not None and comp.get("id") == "zstd" and comp.get("checksum") is False:
            comp = {k: v for k, v in comp.items() if k != "checksum"}  # as a tensorstore user writes it (the default)
        meta = {
            "shape": list(case.shape),
            "chunks": list(case.chunks),
            "dtype": case.dtype,
            "compressor": comp,
            "filters": list(case.filters) or None,
            "order": case.order,
            "fill_value": case.fill_json,
            "dimension_separator": case.dimension_separator,
        }
        return {"driver": "zarr", "kvstore": self.kvstore(place, url), "metadata": meta}

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        ts = self.ts
        a = ts.open(self.spec(case, place, url), create=True, delete_existing=True, context=self._ctx).result()
        if _raw_bytes(case):  # tensorstore holds |Vn as an extra innermost dimension of n bytes
            values = np.ascontiguousarray(values).view(np.uint8).reshape((*case.shape, case.np_dtype.itemsize))
        a.write(values).result()
        if case.attrs and case.zarr_format == 2:  # the zarr driver writes no .zattrs
            key = ".zattrs"
            kv = ts.KvStore.open(self.kvstore(place, url), context=self._ctx).result()
            kv.write(key, json.dumps(case.attrs).encode()).result()

    def read_url(self, case: Case, place: Place, url: str) -> np.ndarray:
        driver = "zarr3" if case.zarr_format == 3 else "zarr"
        a = self.ts.open({"driver": driver, "kvstore": self.kvstore(place, url)}, open=True, context=self._ctx).result()
        got = np.asarray(a.read().result())
        if _raw_bytes(case) and got.ndim == len(case.shape) + 1:  # the extra byte dimension, back to |Vn
            got = np.ascontiguousarray(got).view(np.uint8).view(f"|V{got.shape[-1]}").reshape(case.shape)
        return as_stored(case, normalize(got))

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for case in cases:
            try:
                out[case.slug] = self.read_url(case, place, place.url(writer, case))
            except Exception as e:
                out[case.slug] = _failure(e)
        return out


# ---------------------------------------------------------------------------------------------------------
# zarr-python 2.18 and zarrs-python: ZarrPythonImpl in a worker process of their own


class WorkerImpl:
    """A zarr-python flavour in its own process (``python -m polyzarr.interop.impls.worker <flavour>``)."""

    def __init__(self, name: str, python: str, flavour: str, cases_path: Path):
        self.name = name
        self.worker = WorkerProcess([python, "-m", "polyzarr.interop.impls.worker", flavour], name)
        info = self.worker.request("init", cases=str(cases_path))
        self.version = info["version"]
        self.python = info["python"]
        self._values_dir = Path(tempfile.mkdtemp(prefix=f"polyzarr-{name}-values-"))

    @staticmethod
    def _place(place: Place) -> dict:
        return {"kind": place.kind, "root": place.root, "endpoint_url": place.endpoint_url}

    def _npy(self, case: Case, values: np.ndarray) -> str:
        path = self._values_dir / f"{case.slug}.npy"
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self._values_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, normalize(values), allow_pickle=False)
            os.replace(tmp, path)
        return str(path)

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        self.worker.request("write", case=case.id, npy=self._npy(case, values), url=url, place=self._place(place))

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for case in cases:
            f = scratch / f"{self.name}-{case.slug}.npy"
            try:
                r = self.worker.request("read", case=case.id, writer=writer, place=self._place(place), out=str(f))
                out[case.slug] = np.load(r["file"], allow_pickle=False)
            except ReadFailure as e:
                out[case.slug] = e
            except Exception as e:
                out[case.slug] = _failure(e)
        return out

    def close(self) -> None:
        import shutil

        self.worker.close()
        shutil.rmtree(self._values_dir, ignore_errors=True)


def zarrs_impl(cases_path: Path) -> WorkerImpl:
    return WorkerImpl("zarrs", sys.executable, "zarrs", cases_path)


def tensorstore_impl(cases_path: Path) -> WorkerImpl:
    """tensorstore in a worker of its own: a failed internal check aborts the whole process (see README)."""
    return WorkerImpl("tensorstore", sys.executable, "tensorstore", cases_path)


def zarr2_python() -> Path:
    return repo_root() / ".cache" / "zarr2-venv" / "bin" / "python"


def zarr2_impl(cases_path: Path) -> WorkerImpl:
    py = zarr2_python()
    if not py.exists():
        raise RuntimeError(f"no zarr-python 2 venv at {py.parent.parent} (run scripts/setup-peers.sh zarr2)")
    return WorkerImpl("zarr2", str(py), "zarr2", cases_path)


# ---------------------------------------------------------------------------------------------------------
# zarrita.js (Node)

# zarrita's data types → numpy (typed arrays hold native, little-endian values)
_ZARRITA_DTYPES = {
    "bool": "|b1",
    "int8": "|i1",
    "uint8": "|u1",
    "int16": "<i2",
    "uint16": "<u2",
    "int32": "<i4",
    "uint32": "<u4",
    "int64": "<i8",
    "uint64": "<u8",
    "float32": "<f4",
    "float64": "<f8",
}


def _zarrita_dtype(dt: str) -> np.dtype | None:
    if dt.startswith("v2:U"):
        return np.dtype(f"<U{dt[4:]}")
    if dt.startswith("v2:S"):
        return np.dtype(f"|S{dt[4:]}")
    return np.dtype(_ZARRITA_DTYPES[dt]) if dt in _ZARRITA_DTYPES else None


def node_dir() -> Path:
    return repo_root() / "interop" / "node"


class ZarritaImpl:
    """zarrita.js 0.7 through ``interop/node/worker.mjs``: local directories only, writes Zarr v3 only."""

    name = "zarrita"

    def __init__(self) -> None:
        import shutil

        node = shutil.which("node")
        if node is None:
            raise RuntimeError("no node on PATH (zarrita.js needs Node >= 20)")
        if not (node_dir() / "node_modules" / "zarrita").is_dir():
            raise RuntimeError("zarrita.js is not installed (run scripts/setup-peers.sh npm)")
        self.worker = WorkerProcess([node, str(node_dir() / "worker.mjs")], "zarrita", cwd=str(node_dir()))
        info = self.worker.request("ping")
        self.version = info["zarrita"]
        self.node = info["node"]
        self._values_dir = Path(tempfile.mkdtemp(prefix="polyzarr-zarrita-values-"))

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        if case.zarr_format != 3 or place.kind != "local":
            raise RuntimeError("the zarrita adapter writes Zarr v3 to local directories only")
        cke = case.chunk_key_encoding or {}
        meta = {
            "shape": list(case.shape),
            "data_type": case.v3_data_type,
            "chunk_shape": list(case.chunks),
            "separator": (cke.get("configuration") or {}).get("separator", "/"),
            "codecs": case.codecs,
            "fill_value": case.fill_json,
            "dimension_names": case.dimension_names,
            "attributes": case.attrs or {},
        }
        args: dict[str, Any] = {"path": url, "meta": meta}
        if values.dtype.kind == "O":
            args["strings"] = [str(x) for x in values.ravel()]
        else:
            f = self._values_dir / f"{case.slug}.bin"
            native = values.astype(values.dtype.newbyteorder("<")) if values.dtype.byteorder == ">" else values
            f.write_bytes(np.ascontiguousarray(native).tobytes())
            args["data"] = str(f)
        self.worker.request("write", **args)

    def read_url(self, case: Case, url: str, out: Path) -> np.ndarray:
        r = self.worker.request("read", path=url, out=str(out))
        shape = tuple(r["shape"])
        if "scalar" in r:  # a 0-d array: zarrita's get returns the element itself
            return as_stored(case, normalize(np.array(r["scalar"], dtype=_zarrita_dtype(r["data_type"]))))
        if "strings" in r:
            items = [x if isinstance(x, str) else __import__("base64").b64decode(x["b64"]) for x in r["strings"]]
            flat = np.empty(len(items), dtype=object)
            flat[:] = items
            return normalize(flat.reshape(shape))
        dt = r["data_type"]
        npdt = _zarrita_dtype(dt)
        if npdt is None:
            raise ReadFailure("Unsupported", f"zarrita returned data type {dt!r} the adapter does not map")
        raw = np.frombuffer(Path(r["file"]).read_bytes(), dtype=npdt)
        if not shape:
            return as_stored(case, raw.reshape(()))
        strides = tuple(s * npdt.itemsize for s in r["stride"])
        got = np.lib.stride_tricks.as_strided(raw, shape=shape, strides=strides)
        return as_stored(case, np.ascontiguousarray(got))

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for case in cases:
            try:
                if place.kind != "local":
                    raise ReadFailure("Unsupported", "the zarrita adapter reads local directories only")
                out[case.slug] = self.read_url(case, place.url(writer, case), scratch / f"zarrita-{case.slug}.bin")
            except ReadFailure as e:
                out[case.slug] = e
            except Exception as e:
                out[case.slug] = _failure(e)
        return out

    def close(self) -> None:
        import shutil

        self.worker.close()
        shutil.rmtree(self._values_dir, ignore_errors=True)
