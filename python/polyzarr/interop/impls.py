"""The three implementations the matrix crosses: polyzarr (Python), PolyZarr.jl (through the bridge) and
zarr-python (the oracle). Each can write a case's values to a store URL and read every case back.

Every case is a store of its own (the array at the store's root): ``<place>/<writer>/<slug>``, where a place
is a local directory or an S3 prefix. Readers return numpy arrays in logical order with the exact dtype;
object arrays come back in their ``.npy`` form (``<U``/``|S`` of the longest element), as ``polyzarr export``
writes them. A failure is returned (not raised) as the exception, so one bad case never hides the others.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import metadata as md
from ..errors import PolyZarrError
from ..npy import to_npy_array
from .cases import Case

IMPLS = ("python", "julia", "zarr-python")
# Writers whose stores exist only in the committed golden set (v2 cases), read by every reader.
ARCHIVED_WRITERS = {"zarr2": "zarr-python 2.x (stores in golden/stores/zarr2; regenerate with scripts/golden-zarr2.sh)"}


@dataclass
class Place:
    """Where stores are written: a local directory or an ``s3://bucket/prefix`` (with its endpoint)."""

    kind: str  # "local" | "s3"
    root: str
    endpoint_url: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def url(self, writer: str, case: Case) -> str:
        return f"{self.writer_root(writer)}/{case.slug}"

    def writer_root(self, writer: str) -> str:
        return f"{self.root.rstrip('/')}/{writer}"

    def s3fs(self, asynchronous: bool = False) -> Any:
        """One s3fs filesystem per place (creating one per case costs more than the requests)."""
        key = ("s3fs", asynchronous)
        if key not in self._cache:
            import s3fs

            from ..stores import s3_options

            opts = s3_options(self.endpoint_url)
            self._cache[key] = s3fs.S3FileSystem(asynchronous=asynchronous, **opts)
        return self._cache[key]

    def close(self) -> None:
        """Close the async S3 session zarr-python used (it lives on zarr's own event loop)."""
        fs = self._cache.pop(("s3fs", True), None)
        client = getattr(fs, "_s3", None)
        if client is not None:
            try:
                from zarr.core.sync import sync

                sync(client.close())
            except Exception:
                pass


class ReadFailure(Exception):
    """A reader's failure for one case: the error category (shared vocabulary when it is one) and message."""

    def __init__(self, category: str, message: str):
        self.category = category
        self.message = message
        super().__init__(f"{category}: {message}")


def normalize(values: Any) -> np.ndarray:
    """A reader's result in .npy form: numpy array, object/StringDType → fixed-width <U / |S."""
    arr = np.asarray(values)
    if arr.dtype.kind == "T":  # numpy 2 StringDType (zarr-python 3 may return it for vlen-utf8)
        arr = arr.astype(object)
    return to_npy_array(arr)


def _failure(e: BaseException) -> ReadFailure:
    if isinstance(e, PolyZarrError):
        return ReadFailure(e.category, str(e))
    return ReadFailure(type(e).__name__, str(e))


# ---------------------------------------------------------------------------------------------------------
# polyzarr (Python)


def _polyzarr_store(place: Place, url: str, mode: str) -> Any:
    from ..stores import FsspecStore, open_store

    if place.kind == "s3":
        return FsspecStore(place.s3fs(), url[len("s3://") :], url, read_only=mode == "r")
    return open_store(url, mode)


class PythonImpl:
    name = "python"

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        from ..arrays import create_array

        store = _polyzarr_store(place, url, "w")
        if case.zarr_format == 3:
            arr = create_array(
                store,
                "",
                case.shape,
                case.np_dtype,
                chunks=case.chunks,
                zarr_format=3,
                codecs=case.codecs,
                data_type=case.v3_data_type,
                fill_value=case.fill_json,
                chunk_key_encoding=case.chunk_key_encoding,
                dimension_names=case.dimension_names,
                attributes=case.attrs,
                overwrite=True,
            )
            arr[...] = values
            return
        kw: dict[str, Any] = {}
        if case.np_dtype.kind == "O":
            kw["object_codec"] = None
        arr = create_array(
            store,
            "",
            case.shape,
            case.np_dtype,
            chunks=case.chunks,
            order=case.order,
            compressor=case.compressor,
            filters=list(case.filters) or None,
            fill_value=case.fill_json,
            dimension_separator=case.dimension_separator,
            attributes=case.attrs,
            overwrite=True,
            **kw,
        )
        arr[...] = values

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        from ..arrays import open_array

        out: dict[str, Any] = {}
        for case in cases:
            try:
                out[case.slug] = normalize(open_array(_polyzarr_store(place, place.url(writer, case), "r"), "").read())
            except Exception as e:
                out[case.slug] = _failure(e)
        return out


# ---------------------------------------------------------------------------------------------------------
# zarr-python (the oracle; a test dependency)


class ZarrPythonImpl:
    """zarr-python as a peer: version 3 (``create_array``, ``zarr_format=2``) or 2.x (its native v2 API)."""

    name = "zarr-python"

    def __init__(self) -> None:
        import warnings

        import zarr

        # zarr-python 3 warns on every v3 extension data type it writes; the matrix reports what matters
        warnings.filterwarnings("ignore", module="zarr")
        self.zarr = zarr
        self.version = zarr.__version__
        self.major = int(self.version.split(".")[0])

    def _store(self, place: Place, url: str, read_only: bool) -> Any:
        if place.kind != "s3":
            return url
        path = url[len("s3://") :]
        if self.major >= 3:
            return self.zarr.storage.FsspecStore(place.s3fs(asynchronous=True), path=path, read_only=read_only)
        return place.s3fs().get_mapper(path)

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        import numcodecs

        comp = None if case.compressor is None else numcodecs.get_codec(dict(case.compressor))
        fill = case.fill_scalar if case.fill_json is not None else None
        if case.zarr_format == 3:
            self._write_v3(case, values, place, url, fill)
            return
        if self.major < 3:
            self._write_v2_api(case, values, place, url, comp, fill)
            return
        zarr = self.zarr
        dt: Any = case.np_dtype
        filters = [f for f in case.filters if f["id"] not in ("vlen-utf8", "vlen-bytes")]
        if case.object_codec == "vlen-utf8":
            dt = str
        elif case.object_codec == "vlen-bytes":
            dt = zarr.dtype.VariableLengthBytes()
        a = zarr.create_array(
            store=self._store(place, url, False),
            shape=case.shape,
            chunks=case.chunks,
            dtype=dt,
            zarr_format=2,
            order=case.order,
            compressors=comp,
            **({"filters": [numcodecs.get_codec(dict(f)) for f in filters]} if filters else {}),
            fill_value=fill,
            chunk_key_encoding={"name": "v2", "separator": case.dimension_separator},
            attributes=case.attrs or None,
            overwrite=True,
        )
        a[...] = values

    def _write_v3(self, case: Case, values: np.ndarray, place: Place, url: str, fill: Any) -> None:
        """zarr-python 3's own v3 writer, with the case's codec list as given."""
        if self.major < 3:
            raise RuntimeError(f"zarr-python {self.version} cannot write Zarr v3")
        zarr = self.zarr
        dt: Any = case.np_dtype  # the user's numpy dtype, as a user would pass it
        if case.v3_data_type == "string":
            dt = str
        elif case.v3_data_type in ("variable_length_bytes", "bytes"):
            dt = zarr.dtype.VariableLengthBytes()
        rectilinear = case.rectilinear
        if rectilinear and not self._rectilinear_ok():
            raise RuntimeError(f"zarr-python {self.version} has no rectilinear chunk grid (3.4 added it)")
        with zarr.config.set({"array.rectilinear_chunks": True} if rectilinear else {}):
            a = zarr.create(
                store=self._store(place, url, False),
                shape=case.shape,
                chunks=[list(c) for c in case.chunks] if rectilinear else case.chunks,
                dtype=dt,
                codecs=case.codecs,
                zarr_format=3,
                fill_value=fill,
                chunk_key_encoding=case.chunk_key_encoding,
                dimension_names=case.dimension_names,
                attributes=case.attrs or None,
                overwrite=True,
            )
            a[...] = values

    def _rectilinear_ok(self) -> bool:
        return tuple(int(x) for x in self.version.split(".")[:2] if x.isdigit()) >= (3, 4)

    def _write_v2_api(self, case: Case, values: np.ndarray, place: Place, url: str, comp: Any, fill: Any) -> None:
        """zarr 2.x: object arrays name their object codec separately (or, as zarr 2 allowed, only in filters)."""
        import numcodecs

        filters = [numcodecs.get_codec(dict(f)) for f in case.filters]
        kw: dict[str, Any] = {}
        if case.object_codec is not None:
            kw["object_codec"] = next(f for f in filters if f.codec_id == case.object_codec)
            filters = [f for f in filters if f.codec_id != case.object_codec]
        a = self.zarr.open_array(
            self._store(place, url, False),
            mode="w",
            shape=case.shape,
            chunks=case.chunks or True,
            dtype=case.np_dtype,
            order=case.order,
            compressor=comp,
            filters=filters or None,
            fill_value=fill,
            dimension_separator=case.dimension_separator,
            **kw,
        )
        if case.attrs:
            a.attrs.update(case.attrs)
        a[...] = values

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for case in cases:
            try:
                with self.zarr.config.set({"array.rectilinear_chunks": True} if case.rectilinear else {}):
                    a = self.zarr.open_array(store=self._store(place, place.url(writer, case), True), mode="r")
                    out[case.slug] = normalize(a[...])
            except Exception as e:
                out[case.slug] = _failure(e)
        return out


# ---------------------------------------------------------------------------------------------------------
# PolyZarr.jl (through the bridge: one batch of imports per place, one export per writer directory)


class JuliaImpl:
    name = "julia"

    def __init__(self, bridge: Any):
        self.bridge = bridge
        self._values_dir = Path(tempfile.mkdtemp(prefix="polyzarr-jl-values-"))

    def import_args(self, case: Case, npy: str, url: str, place: Place) -> dict:
        if case.zarr_format == 3:
            cke = case.chunk_key_encoding or {}
            args3: dict[str, Any] = {
                "npy": npy,
                "dest": url,
                "zarr_format": 3,
                "chunks": list(case.chunks),
                "codecs": case.codecs,
                "fill_value": case.fill_json,
                "chunk_key_encoding": cke.get("name", "default"),
                "dimension_separator": (cke.get("configuration") or {}).get("separator", "/"),
                "overwrite": True,
            }
            if case.data_type is not None:
                args3["data_type"] = case.data_type
            if case.dimension_names is not None:
                args3["dimension_names"] = case.dimension_names
            if case.np_dtype.kind == "O":
                args3["object_codec"] = "vlen-utf8" if case.v3_data_type == "string" else "vlen-bytes"
            if case.attrs:
                args3["attrs"] = case.attrs
            if place.endpoint_url:
                args3["endpoint_url"] = place.endpoint_url
            return args3
        args: dict[str, Any] = {
            "npy": npy,
            "dest": url,
            "chunks": list(case.chunks),
            "order": case.order,
            "compressor": case.compressor,
            "filters": list(case.filters) or None,
            "fill_value": case.fill_json,
            "dimension_separator": case.dimension_separator,
            "overwrite": True,
        }
        if case.np_dtype.kind == "O":
            args["object_codec"] = next(f for f in case.filters if f["id"] in ("vlen-utf8", "vlen-bytes", "categorize"))
        if case.attrs:
            args["attrs"] = case.attrs
        if place.endpoint_url:
            args["endpoint_url"] = place.endpoint_url
        return args

    def _npy(self, case: Case, values: np.ndarray) -> str:
        path = self._values_dir / f"{case.slug}.npy"
        if not path.exists():  # written whole, then renamed: lanes in other threads may want it too
            tmp = path.with_suffix(f".{os.getpid()}-{id(values)}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, normalize(values), allow_pickle=False)
            os.replace(tmp, path)
        return str(path)

    def write_many(self, items: list[tuple[Case, np.ndarray, str]], place: Place) -> dict[str, Any]:
        """Write every (case, values, url) in one batch; returns slug → None or the exception."""
        reqs = [("import", self.import_args(c, self._npy(c, v), url, place)) for c, v, url in items]
        results = self.bridge.batch(reqs)
        return {c.slug: (r if isinstance(r, Exception) else None) for (c, _, _), r in zip(items, results)}

    def read_all(self, cases: Iterable[Case], place: Place, writer: str, scratch: Path) -> dict[str, Any]:
        cases = list(cases)
        outdir = scratch / "julia-export"
        shutil.rmtree(outdir, ignore_errors=True)
        out: dict[str, Any] = {}
        try:
            r = self.bridge.export(place.writer_root(writer), str(outdir), place.endpoint_url)
        except Exception as e:
            return {c.slug: _failure(e) for c in cases}
        files = {x["path"]: x["file"] for x in r["exported"]}
        failed = {x["path"]: x for x in r["failed"]}
        for c in cases:
            if c.slug in files:
                out[c.slug] = np.load(files[c.slug], allow_pickle=False)
            elif c.slug in failed:
                f = failed[c.slug]
                out[c.slug] = ReadFailure(f["category"], f["message"])
            else:
                out[c.slug] = ReadFailure(
                    "Missing", f"Julia's export of {place.writer_root(writer)} did not list {c.slug}"
                )
        return out

    def close(self) -> None:
        shutil.rmtree(self._values_dir, ignore_errors=True)


def fill_for_zarr_python(case: Case) -> Any:
    return md.decode_fill_value(case.fill_json, case.np_dtype, case.id)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
