"""PolyZarr.jl as a matrix implementation (through the bridge: one batch of imports per place, one export per
writer directory)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..cases import Case
from .base import Place, ReadFailure, _failure, normalize

SMALL_BATCH = 24  # up to this many cases Julia reads them one by one (an export walks the writer's whole directory)


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
        if len(cases) <= SMALL_BATCH:  # a few cases (--quick, a single cell): one read each, not a whole export
            return self._read_each(cases, place, writer)
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

    def _read_each(self, cases: list[Case], place: Place, writer: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in cases:
            try:
                out[c.slug] = normalize(self.bridge.read(place.url(writer, c), place.endpoint_url))
            except Exception as e:
                out[c.slug] = _failure(e)
        return out

    def close(self) -> None:
        shutil.rmtree(self._values_dir, ignore_errors=True)
