"""Telling people what a thing is in both languages: ``polyzarr explain DTYPE`` and ``polyzarr inspect --both``.

``explain`` turns a typestring (or structured spec) into its numpy dtype, Julia type, size, byte order and
fill-value encoding. ``both_views`` shows one array as numpy and Julia see it: shape vs size, strides, chunk grid,
where one element lives (its index in each language and the chunk key), dimension names in each order. The
Julia column comes from Julia itself (through the bridge) when it can run, else from ``layout`` (and says so).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import layout
from . import metadata as md
from .dtypes import describe, julia_type, parse_dtype


def explain_dtype(spec_text: str) -> dict[str, Any]:
    """``spec_text`` is a v2 typestring (``<M8[10s]``), a JSON structured spec (``[["a", "<i4"]]``), or a v3
    data_type (``float64``, ``r16``, ``{"name": "numpy.datetime64", "configuration": {...}}``)."""
    from .dtypes import encode_v3_dtype, parse_v3_dtype
    from .errors import DtypeError

    text = spec_text.strip()
    spec: Any = text
    if text.startswith(("[", "{")):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as e:
            raise DtypeError(
                text,
                f"not a typestring, and not valid JSON for a structured dtype or v3 data type: "
                f"{e.msg} at character {e.pos}",
            ) from None
    if isinstance(spec, dict) or (isinstance(spec, str) and spec[:1] not in "<>|="):
        dt = parse_v3_dtype(spec, "little", key=text)  # a v3 data type: little-endian unless a bytes codec says big
        if dt.kind == "O":
            return {
                "v3_data_type": spec,
                "numpy": "object",
                "julia": "String" if spec == "string" else "Vector{UInt8}",
                "codec": "vlen-utf8" if spec == "string" else "vlen-bytes",
                "fill_value": md.fill_value_rule(dt),
            }
        info = {"v3_data_type": spec, **describe(md.encode_dtype(dt))}
        info["byteorder"] = (
            "from the bytes codec's endian (little shown)"
            if dt.itemsize > 1 and dt.kind not in "SVb"
            else "not applicable"
        )
        info["fill_value"] = (
            md.fill_value_rule(dt)
            .replace("; or null", "")
            .replace(" (null: no fill value; missing chunks read as zeros)", "")
            + ('; in v3 also "0x…" hex bit patterns' if dt.kind in "fc" else "")
            + ('; or "NaT"' if dt.kind in "Mm" else "")
        )
        if isinstance(spec, str) and spec.startswith("r") and spec[1:].isdigit():
            info["fill_value"] = f"a list of {dt.itemsize} byte values, each 0..255"
        return info
    info = describe(spec)
    dt = parse_dtype(spec)
    try:
        info["v3_data_type"] = encode_v3_dtype(dt)
    except DtypeError:
        pass
    info["fill_value"] = md.fill_value_rule(dt)
    info["default_fill"] = md.encode_fill_value(md.default_fill_value(dt), dt)
    if dt.fields is not None:
        info["fields"] = [
            {
                "name": n,
                "typestr": dt.fields[n][0].base.str,
                "shape": list(dt.fields[n][0].shape),
                "offset": dt.fields[n][1],
                "julia": julia_type(dt.fields[n][0].base),
            }
            for n in dt.names
        ]
    return info


def format_explain(info: dict[str, Any]) -> str:
    lines = [f"{k:12s} {v if isinstance(v, str) else json.dumps(v)}" for k, v in info.items() if k != "fields"]
    for f in info.get("fields", []):
        lines.append(
            f"  field {f['name']!r}: {f['typestr']}{' ' + str(f['shape']) if f['shape'] else ''} at byte "
            f"{f['offset']} → Julia {f['julia']}"
        )
    return "\n".join(lines)


def both_views(arr: Any, index: Sequence[int] | None = None, julia: dict | None = None) -> dict[str, Any]:
    """One array as numpy and as Julia see it. ``index`` is a numpy (0-based) index, default the last element;
    ``julia`` is Julia's own ``julia_view`` answer (for that index) when Julia ran."""
    meta = arr.meta
    shape, chunks, order = meta.shape, meta.chunks, meta.order
    dt = meta.dtype
    if index is None:
        index = tuple(max(s - 1, 0) for s in shape)
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or any(not 0 <= i < max(s, 1) for i, s in zip(index, shape)):
        raise IndexError(f"index {list(index)} is outside shape {list(shape)}")
    grid = layout.grid_shape(shape, chunks)
    cidx = tuple(i // c for i, c in zip(index, chunks))
    names = arr.attrs.get("_ARRAY_DIMENSIONS")
    py = {
        "shape": list(shape),
        "dtype": dt.str if dt.fields is None else md.encode_dtype(dt),
        "numpy": repr(dt),
        "strides_bytes": list(np.empty(shape, dtype=dt).strides) if math.prod(shape) < 2**24 else None,
        "order": f"logical C order; each chunk stored in {order} memory order",
        "chunks": list(chunks),
        "grid": list(grid),
        "index": list(index),
        "chunk_index": list(cidx),
        "chunk_key": layout.chunk_key(cidx, meta.dimension_separator),
        "dimension_names": names,
    }
    jl_index = list(layout.julia_index(index, order))
    computed = {
        "size": list(layout.julia_size(shape, order)),
        "eltype": julia_type(dt),
        "strides_elements": list(layout.julia_strides(shape, order)),
        "chunks": list(layout.julia_size(chunks, order)),
        "grid": list(layout.julia_size(grid, order)),
        "index": jl_index,
        "chunk_index": [c + 1 for c in layout.julia_size(cidx, order)],
        "chunk_key": layout.chunk_key(cidx, meta.dimension_separator),
        "dimension_names": layout.julia_dimension_names(names, order),
    }
    jl: dict[str, Any] = dict(computed)
    jl["source"] = "layout.py (Julia was not run)"
    if julia is not None:
        jl = {
            "size": julia["size"],
            "eltype": julia["eltype"],
            "strides_elements": julia["strides"],
            "chunks": julia.get("chunks"),
            "grid": julia.get("grid"),
            "index": julia.get("index", jl_index),
            "chunk_index": julia.get("chunk_index"),
            "chunk_key": julia.get("chunk_key"),
            "dimension_names": julia.get("dimnames"),
            "source": "PolyZarr.jl (julia_view)",
        }
        mismatches = [k for k in computed if k in jl and jl[k] != computed[k] and k != "eltype"]
        jl["agrees_with_layout_py"] = not mismatches
        if mismatches:
            jl["disagreements"] = {k: {"julia": jl[k], "layout.py": computed[k]} for k in mismatches}
    return {"path": arr.path, "zarr_order": order, "python": py, "julia": jl}


def format_both(v: dict[str, Any]) -> str:
    py, jl = v["python"], v["julia"]
    rows = [
        ("shape / size", py["shape"], jl["size"]),
        ("element type", f"{py['dtype']}  {py['numpy']}", jl["eltype"]),
        ("strides", f"{py['strides_bytes']} bytes (C order)", f"{jl['strides_elements']} elements (column-major)"),
        ("chunk shape", py["chunks"], jl["chunks"]),
        ("chunk grid", py["grid"], jl["grid"]),
        ("one element", f"x{py['index']}  (0-based)", f"A{jl['index']}  (1-based)"),
        (
            "its chunk",
            f"{py['chunk_index']} → key {py['chunk_key']!r}",
            f"{jl['chunk_index']} → key {jl['chunk_key']!r}",
        ),
        ("dimension names", py["dimension_names"], jl["dimension_names"]),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(str(r[1])) for r in rows)
    out = [
        f"{v['path'] or '/'}  (Zarr order {v['zarr_order']})",
        f"{'':{w0}}  {'numpy (polyzarr)':{w1}}  Julia ({jl['source']})",
    ]
    out += [f"{a:{w0}}  {b!s:{w1}}  {c}" for a, b, c in rows]
    if "agrees_with_layout_py" in jl:
        out.append(
            "Julia's answer agrees with layout.py"
            if jl["agrees_with_layout_py"]
            else f"DISAGREEMENT between Julia and layout.py: {jl['disagreements']}"
        )
    out.append(layout.julia_view_note(v["zarr_order"]))
    return "\n".join(out)
