"""The verbs both languages offer (docs/CONTRACT.md): export (a tree → .npy files), import (a .npy → an array),
inspect (the tree and its metadata, in a text format shared with PolyZarr.jl). cli.py parses arguments and calls
these; they never touch the Julia bridge themselves (inspect_both takes a bridge factory from the caller)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import metadata as md
from .arrays import node_exists, write_new_array
from .codecs import blosc, registry
from .errors import PolyZarrError, StoreError
from .groups import ensure_groups, open_node_array, walk
from .npy import npy_bytes, read_npy, to_npy_array
from .stores import LocalStore, Store, open_store, split_url


def v3_compressor(spec: dict | str | None, itemsize: int = 1) -> Any:
    """``--compressor`` for v3: a v3 codec spec (``zstd:level=3``), or none; numcodecs-style ids map by name
    (blosc with every parameter, as PolyZarr.jl writes it: typesize the item size unless given)."""
    if spec is None or spec == "default":
        return spec
    if "name" in spec:
        return spec
    entry = registry.by_v2_id(spec["id"])
    if entry is not None and spec["id"] not in entry.v3_names and f"numcodecs.{spec['id']}" in entry.v3_names:
        # no v3 name of its own (zlib, lz4, crc32, ...): numcodecs.<id> with its full numcodecs configuration, as
        # zarr-python 3.4 (and PolyZarr.jl) write it
        full = registry.v2_json(spec, "compressor")
        return {"name": f"numcodecs.{spec['id']}", "configuration": {k: v for k, v in full.items() if k != "id"}}
    cfg = {k: v for k, v in spec.items() if k != "id"}
    if spec["id"] == "blosc":
        v2 = {k: blosc.SHUFFLE.get(v, v) if k == "shuffle" else v for k, v in cfg.items() if k != "typesize"}
        full = {k: v for k, v in registry.v2_json({"id": "blosc", **v2}, "compressor").items() if k != "id"}
        typesize = cfg.get("typesize", max(itemsize, 1))
        if full.get("shuffle") == -1:  # numcodecs' AUTOSHUFFLE: bit shuffle for 1-byte items
            full["shuffle"] = 2 if typesize == 1 else 1
        cfg = blosc.v2_to_v3_configuration({"typesize": typesize, **full})
    elif spec["id"] == "zstd":  # both settings, as zarr-python and PolyZarr.jl write them
        cfg = {"level": cfg.get("level", 0), "checksum": cfg.get("checksum", False), **cfg}
    return {"name": spec["id"], "configuration": cfg} if cfg else {"name": spec["id"]}


def export_tree(
    src: str, outdir: str, endpoint_url: str | None = None, log: Any = print
) -> tuple[list[dict], list[dict]]:
    """Export every array under ``src`` to ``outdir`` as .npy; returns (exported, failed)."""
    store = open_store(src, "r", endpoint_url)
    if store.missing_root():
        raise StoreError(src, "no such file or directory")
    exported: list[dict] = []
    failed: list[dict] = []
    out = LocalStore(outdir, outdir)  # confined: never writes through a link already in OUTDIR
    for node in walk(store):
        if node.kind != "array":
            if node.error is not None:
                failed.append({"path": node.path, "category": node.error.category, "message": str(node.error)})
                log(f"FAILED {node.path or '/'}: {node.error.describe()}")
            continue
        rel = node.path or _root_name(src)
        try:
            arr = open_node_array(store, node)
            values = to_npy_array(arr.read(), arr.object_type, arr.meta_key)
            out.set(f"{rel}.npy", npy_bytes(values))
            target = Path(outdir) / f"{rel}.npy"
        except Exception as e:  # one array's failure, whatever it is, never stops the others
            cat = e.category if isinstance(e, PolyZarrError) else type(e).__name__
            msg = str(e)
            failed.append({"path": rel, "category": cat, "message": msg})
            log(f"FAILED {rel}: {cat}: {msg}")
            continue
        exported.append(
            {"path": rel, "shape": list(values.shape), "dtype": md.encode_dtype(values.dtype), "file": str(target)}
        )
        log(f"exported {rel} {tuple(values.shape)} {md.encode_dtype(values.dtype)}")
    return exported, failed


def _root_name(src: str) -> str:
    name = src.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".zarr", ".zip"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name or "array"


def import_npy(
    npy: str,
    dest: str,
    zarr_format: int = 2,
    chunks: Sequence[int] | None = None,
    order: str = "C",
    compressor: dict | str | None = "default",
    filters: list[dict] | None = None,
    fill_value: Any = "default",
    dimension_separator: str = ".",
    object_codec: str | None = None,
    attrs: dict | None = None,
    overwrite: bool = False,
    endpoint_url: str | None = None,
    **v3: Any,
) -> dict:
    """Write a .npy file as a Zarr array at ``dest`` (an array URL); parent groups are created. With
    ``zarr_format=3``: ``codecs``, ``shards``, ``transpose``, ``dimension_names``, ``chunk_key_encoding``."""
    if zarr_format not in (2, 3):
        raise PolyZarrError("zarr_format", f"Zarr format {zarr_format} does not exist (2 or 3)")
    values = read_npy(npy)
    if values.dtype.kind == "U" and object_codec is not None:
        values = values.astype(object)
    if values.dtype.kind == "S" and object_codec == "vlen-bytes":
        values = values.astype(object)
    root, path = split_url(dest)
    store = open_store(root, "a", endpoint_url)
    if zarr_format == 3:
        create: dict[str, Any] = dict(compressor=v3_compressor(compressor, values.dtype.itemsize), zarr_format=3, **v3)
    else:
        create = dict(compressor=compressor, filters=filters, **v3)
    create.update(
        chunks=chunks,
        order=order,
        fill_value=fill_value,
        dimension_separator=dimension_separator if zarr_format == 3 else dimension_separator or ".",
        attributes=attrs,
        object_codec=object_codec,
    )
    try:
        if path:
            ensure_groups(store, path.rpartition("/")[0], zarr_format)
        if overwrite and isinstance(store, LocalStore) and node_exists(store, path):
            # built beside the old array and swapped in by rename: a crash leaves the old one or the new one
            with store.replacing(path) as fresh:
                write_new_array(fresh, "", values, **create)
        else:
            write_new_array(store, path, values, overwrite=overwrite, **create)
    finally:
        store.close()
    return {"path": dest, "shape": list(values.shape), "dtype": md.encode_dtype(values.dtype)}


def inspect_tree(src: str, endpoint_url: str | None = None) -> dict:
    store = open_store(src, "r", endpoint_url)
    if store.missing_root():
        raise StoreError(src, "no such file or directory")
    return inspect_store(store)


def inspect_store(store: Store) -> dict:
    """The ``inspect --json`` tree of an open store."""
    nodes = []
    for node in walk(store):
        d: dict[str, Any] = {
            "path": node.path,
            "kind": node.kind,
            "zarr_format": node.zarr_format,
            "metadata": node.metadata,
            "attributes": node.attributes,
        }
        if node.error is not None:
            d["error"] = {"category": node.error.category, "message": str(node.error)}
        nodes.append(d)
    return {"nodes": nodes}


def _codec_text(c: dict | None) -> str:
    """A codec in one line, parameters sorted by name (as PolyZarr.jl prints it: writers order keys differently)."""
    if c is None:
        return "-"
    if "name" in c:  # v3
        cfg = c.get("configuration") or {}
        if c["name"] == "sharding_indexed":
            inner = "+".join(_codec_text(x) for x in cfg.get("codecs", []))
            return f"sharding_indexed(chunk_shape={cfg.get('chunk_shape')},index={cfg.get('index_location', 'end')},codecs={inner})"
        params = ",".join(f"{k}={v}" for k, v in sorted(cfg.items()))
        return f"{c['name']}({params})" if params else c["name"]
    params = ",".join(f"{k}={v}" for k, v in sorted(c.items()) if k != "id")
    return f"{c['id']}({params})" if params else c["id"]


def format_inspect(tree: dict) -> str:
    lines = []
    for n in tree["nodes"]:
        name = n["path"] or "/"
        if "error" in n:
            lines.append(f"{name}  {n['kind']}  ERROR {n['error']['category']}: {n['error']['message']}")
            continue
        try:
            lines.extend(_format_node(name, n))
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:  # a document too broken to show
            lines.append(f"{name}  {n['kind']}  ERROR MetadataError: {name}: cannot show its metadata ({e!r})")
    return "\n".join(lines)


def _format_node(name: str, n: dict) -> list[str]:
    lines: list[str] = []
    if n["kind"] == "group":
        lines.append(f"{name}  group" + ("  (v3)" if n.get("zarr_format") == 3 else ""))
    elif n.get("zarr_format") == 3:
        m = n["metadata"]
        cke = m.get("chunk_key_encoding", {})
        sep = (cke.get("configuration") or {}).get("separator", "." if cke.get("name") == "v2" else "/")
        gcfg = m["chunk_grid"].get("configuration") or {}
        # a rectilinear grid: its chunk_shapes JSON (as PolyZarr.jl prints it)
        grid = tuple(gcfg["chunk_shape"]) if "chunk_shape" in gcfg else json.dumps(gcfg.get("chunk_shapes"))
        lines.append(
            f"{name}  array (v3)  shape={tuple(m['shape'])} chunks={grid} "
            f"data_type={json.dumps(m['data_type'], sort_keys=True)} fill={json.dumps(m['fill_value'])} "
            f"codecs={'+'.join(_codec_text(c) for c in m.get('codecs', []))} "
            f"keys={cke.get('name', 'default')}{sep}"
            + (f" dims={json.dumps(m['dimension_names'])}" if m.get("dimension_names") is not None else "")
        )
    else:
        m = n["metadata"]
        filters = "+".join(_codec_text(f) for f in m.get("filters") or []) or "-"
        lines.append(
            f"{name}  array  shape={tuple(m['shape'])} chunks={tuple(m['chunks'])} dtype={json.dumps(m['dtype'], sort_keys=True)} "
            f"order={m['order']} fill={json.dumps(m['fill_value'])} compressor={_codec_text(m.get('compressor'))} "
            f"filters={filters} sep={m.get('dimension_separator', '.')}"
        )
    if n["attributes"]:
        lines.append(f"    attrs: {json.dumps(n['attributes'], sort_keys=True)}")
    return lines


def inspect_both(
    src: str,
    index: Sequence[int] | None,
    as_json: bool,
    endpoint_url: str | None,
    bridge_factory: Callable[[], Any] | None = None,
) -> int:
    """Every array under SRC as numpy and as Julia see it; Julia's own answer when ``bridge_factory`` (the cli
    passes polyzarr.julia.get_bridge) gives a bridge."""
    from .explain import both_views, format_both

    store = open_store(src, "r", endpoint_url)
    bridge, why = None, ""
    try:
        if bridge_factory is None:
            raise RuntimeError("no Julia bridge was asked for")
        bridge = bridge_factory()
    except Exception as e:
        why = str(e)
    views = []
    try:
        for node in walk(store):
            if node.kind != "array" or node.error is not None:
                continue
            arr = open_node_array(store, node)
            v = both_views(arr, index)  # checks the index, computes the Python side
            jl = None
            if bridge is not None:
                url = src.rstrip("/") + (f"/{node.path}" if node.path else "")
                try:
                    jl = bridge.julia_view(url, endpoint_url, index=v["julia"]["index"])
                except Exception as e:
                    why = f"Julia could not open it: {e}"
            views.append(both_views(arr, index, jl))
    finally:
        if bridge is not None:
            bridge.close()
    if as_json:
        print(json.dumps({"arrays": views, "julia_unavailable": why or None}, indent=2))
    else:
        print("\n\n".join(format_both(v) for v in views) or f"no arrays under {src}")
        if why:
            print(f"(Julia column computed by layout.py: {why})")
    return 0 if views else 1
