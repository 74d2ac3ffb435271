"""polyzarr (Python) as a matrix implementation (in this process)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..cases import Case
from .base import Place, _failure, normalize


def _polyzarr_store(place: Place, url: str, mode: str) -> Any:
    from ...stores import FsspecStore, open_store

    if place.kind == "s3":
        return FsspecStore(place.s3fs(), url[len("s3://") :], url, read_only=mode == "r")
    return open_store(url, mode)


class PythonImpl:
    name = "python"

    def write(self, case: Case, values: np.ndarray, place: Place, url: str) -> None:
        from ...arrays import create_array

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
        from ...arrays import open_array

        out: dict[str, Any] = {}
        for case in cases:
            try:
                out[case.slug] = normalize(open_array(_polyzarr_store(place, place.url(writer, case), "r"), "").read())
            except Exception as e:
                out[case.slug] = _failure(e)
        return out
