"""``polyzarr export --cf``: the variables of an xarray dataset (a Zarr group), CF-decoded, as .npy files.

Python decodes through xarray (``xr.open_zarr(..., decode_cf=True)``, xarray's defaults), which is a dependency of
this path only (imported lazily); PolyZarr.jl decodes with its own datasets.jl (``cfexport.jl``). Both write the same
files with the same dtypes (docs/CONTRACT.md "export --cf"):

- every variable (data variables and coordinates) → ``OUTDIR/<name>.npy``, numpy axis order;
- floats as decoded (masked values NaN), integers and bools as decoded;
- standard / gregorian / proleptic_gregorian times → ``datetime64[ns]`` (masked: NaT), time deltas →
  ``timedelta64[ns]``;
- times xarray leaves as cftime objects (calendars noleap, 360_day, all_leap, julian, …, and standard times
  before 1582-10-15 or beyond datetime64[ns]'s range) → ``<U`` ISO 8601 strings (``2000-02-30T12:00:00``,
  ``.ffffff`` only when not zero), masked: ``"NaT"``;
- masked integers → float as xarray promotes them; masked bools → ``<f8`` (1, 0, NaN);
- strings → ``<U{n}`` (n = the longest, at least 1; masked: ``""``); bytes → ``|S{n}``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PolyZarrError, StoreError
from .npy import write_npy
from .stores import ca_bundle, s3_options

NAT_TEXT = "NaT"


def _xarray() -> Any:
    try:
        import xarray as xr
    except ImportError as e:
        raise PolyZarrError("--cf", f"export --cf needs xarray (pip install xarray): {e}") from None
    return xr


def _open(src: str, endpoint_url: str | None) -> Any:
    xr = _xarray()
    kw: dict[str, Any] = {"decode_cf": True, "consolidated": None, "chunks": None}
    if src.startswith("s3://"):
        opts = s3_options(endpoint_url)
        opts.pop("skip_instance_cache", None)
        kw["storage_options"] = opts
    elif src.startswith("https://"):
        import ssl

        ca = ca_bundle()
        kw["storage_options"] = {"ssl": ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()}
    elif src.startswith("file://"):
        src = src[len("file://") :]
    elif "://" not in src and not os.path.exists(src):
        raise StoreError(src, "no such file or directory")
    try:
        return xr.open_zarr(src, **kw)
    except (FileNotFoundError, KeyError) as e:
        raise StoreError(src, f"xarray found no Zarr group here: {type(e).__name__}: {e}") from None


def _masked(x: Any) -> bool:
    return x is None or (isinstance(x, float) and np.isnan(x))


def _iso(t: Any) -> str:
    if _masked(t):
        return NAT_TEXT
    s = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return s + (f".{t.microsecond:06d}" if getattr(t, "microsecond", 0) else "")


def cf_values(values: np.ndarray) -> np.ndarray:
    """xarray's decoded values in the contract's .npy form."""
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]")
    if values.dtype.kind == "m":
        return values.astype("timedelta64[ns]")
    if values.dtype.kind == "T":  # numpy 2's StringDType
        values = values.astype(object)
    if values.dtype.kind != "O":
        return values
    flat = values.ravel()
    if flat.size and all(isinstance(x, (bool, int, float, np.number, np.bool_)) for x in flat):
        return np.asarray([float(x) for x in flat], dtype="<f8").reshape(values.shape)  # masked bools: 1, 0, NaN
    if all(isinstance(x, str) or _masked(x) for x in flat):
        text = ["" if _masked(x) else x for x in flat]
        n = max([len(x) for x in text] + [1])
        return np.array(text, dtype=f"<U{n}").reshape(values.shape)
    if all(isinstance(x, bytes) for x in flat):
        n = max([len(x) for x in flat] + [1])
        return values.astype(f"|S{n}")
    if all(_masked(x) or hasattr(x, "calendar") for x in flat):
        text = [_iso(x) for x in flat]
        n = max([len(x) for x in text] + [1])
        return np.array(text, dtype=f"<U{n}").reshape(values.shape)
    raise PolyZarrError(
        "--cf", f"decoded object values of types {sorted({type(x).__name__ for x in flat})} have no .npy form"
    )


def export_cf(
    src: str, outdir: str, endpoint_url: str | None = None, log: Any = print
) -> tuple[list[dict], list[dict]]:
    """Every variable of the dataset at ``src``, decoded by xarray, to ``outdir/<name>.npy``; (exported, failed)."""
    ds = _open(src, endpoint_url)
    out = Path(outdir)
    exported: list[dict] = []
    failed: list[dict] = []
    try:
        for name in sorted(map(str, ds.variables)):
            try:
                values = cf_values(np.asarray(ds[name].values))
                target = out / f"{name}.npy"
                write_npy(target, values)
            except (PolyZarrError, TypeError, ValueError, OSError) as e:
                cat = e.category if isinstance(e, PolyZarrError) else type(e).__name__
                failed.append({"path": name, "category": cat, "message": str(e)})
                log(f"FAILED {name}: {cat}: {e}")
                continue
            exported.append({"path": name, "shape": list(values.shape), "dtype": values.dtype.str, "file": str(target)})
            log(f"exported {name} {tuple(values.shape)} {values.dtype.str}")
    finally:
        ds.close()
    return exported, failed
