"""zarr-python (the oracle; a test dependency) as a matrix implementation, in this process. The same class runs
zarr-python 2.18 and zarrs-python in their own worker processes (``worker.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..cases import Case
from .base import Place, _failure, normalize


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
        with self._rectilinear_config(case):
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

    def _rectilinear_config(self, case: Case) -> Any:
        """zarr-python 3.4 reads and writes rectilinear grids only behind a config flag; zarr 2 has no config."""
        if not case.rectilinear:
            return contextlib.nullcontext()
        return self.zarr.config.set({"array.rectilinear_chunks": True})

    def _rectilinear_ok(self) -> bool:
        version = str(self.zarr.__version__)  # zarrs runs on a zarr-python: its own version is not that one
        return tuple(int(x) for x in version.split(".")[:2] if x.isdigit()) >= (3, 4)

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
                with self._rectilinear_config(case):
                    a = self.zarr.open_array(store=self._store(place, place.url(writer, case), True), mode="r")
                    out[case.slug] = normalize(a[...])
            except Exception as e:
                out[case.slug] = _failure(e)
        return out
