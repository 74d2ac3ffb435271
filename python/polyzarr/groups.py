"""Hierarchies: finding arrays and groups under a prefix, creating parents, attributes, consolidation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import metadata as md
from .arrays import INVALID, Array, incomplete_error, invalid_metadata, open_array, parse_array_document
from .errors import MetadataError, PathError, PolyZarrError
from .metadata_v3 import ZARR_JSON, consolidated_of, group_doc, parse_node
from .metadata_v3 import dumps as dumps_v3
from .stores import MARKER, Store, check_key, join


@dataclass
class Node:
    """One array or group found in a store."""

    path: str  # relative to the store root
    kind: str  # "array" | "group"
    metadata: dict = field(default_factory=dict)  # the parsed JSON document
    attributes: dict = field(default_factory=dict)
    error: PolyZarrError | None = None
    zarr_format: int = 2


def _consolidated(store: Store, prefix: str) -> dict[str, Any] | None:
    """Consolidated metadata at ``prefix`` as {key relative to the store: document}: v2 ``.zmetadata`` (keys are
    metadata keys) or v3 inline ``consolidated_metadata`` in the group's ``zarr.json`` (keys are node paths)."""
    k3 = join(prefix, ZARR_JSON)
    data = store.get(k3)
    if data is not None:
        doc = parse_node(data, k3)
        cons = consolidated_of(doc, k3) if doc["node_type"] == "group" else None
        if cons is None:
            return None
        out = {k3: doc}
        out.update({join(prefix, path, ZARR_JSON): d for path, d in cons.items()})
        return out
    key = join(prefix, md.ZMETADATA)
    data = store.get(key)
    return None if data is None else {join(prefix, k): v for k, v in md.parse_consolidated(data, key).items()}


def walk(store: Store, prefix: str = "", use_consolidated: bool = True) -> Iterator[Node]:
    """Every array and group under ``prefix`` (v2 and v3), through groups and plain directories, sorted by path.

    Consolidated metadata at ``prefix`` is used when present (one request instead of a listing).
    Nodes whose documents are broken are yielded with ``error`` set, so callers can report and go on.
    """
    docs: dict[str, Any] = {}
    bad: list[Node] = []
    cons = _consolidated(store, prefix) if use_consolidated else None
    if cons is not None:
        docs.update(cons)
    else:
        for k in store.list(prefix):
            name = k.rsplit("/", 1)[-1]
            if name in (md.ZARRAY, md.ZGROUP, md.ZATTRS, ZARR_JSON, MARKER):
                try:
                    check_key(k)
                except PathError as e:  # a listing (a zip's, say) with a name no key may have: said, not read
                    bad.append(Node(k.rpartition("/")[0], "array", error=e))
                    continue
                docs[k] = None  # read lazily below
    paths: dict[str, str] = {}
    for k in docs:
        node, _, name = k.rpartition("/") if "/" in k else ("", "", k)
        if name == ZARR_JSON:
            paths[node] = "v3"  # beside a .zarray / .zgroup, zarr.json wins (as zarr-python chooses)
        elif name == md.ZARRAY and paths.get(node) != "v3":
            paths[node] = "array"
        elif name == md.ZGROUP:
            paths.setdefault(node, "group")
    for k in docs:  # an unfinished write's marker: an incomplete array, whatever metadata it has
        node, _, name = k.rpartition("/") if "/" in k else ("", "", k)
        if name == MARKER and store.uses_marker:
            paths[node] = "incomplete"
    yield from bad
    # nothing inside an array is a node (a v3 array's chunk keys never end in zarr.json, but be safe)
    for path in sorted(paths):
        kind = paths[path]
        try:
            if kind == "incomplete":
                raise incomplete_error(store, path)
            if kind == "v3":
                key = join(path, ZARR_JSON)
                raw = docs[key]
                meta = raw if raw is not None else parse_node(store.get(key), key)
                if not isinstance(meta, dict):
                    raise MetadataError(key, "must be a JSON object")
                kind = meta.get("node_type", "array")
                yield Node(path, kind, meta, meta.get("attributes", {}) or {}, zarr_format=3)
                continue
            mkey = join(path, md.ZARRAY if kind == "array" else md.ZGROUP)
            akey = join(path, md.ZATTRS)
            raw = docs[mkey]
            meta = raw if raw is not None else md.loads_object(store.get(mkey), mkey)
            if not isinstance(meta, dict):
                raise MetadataError(mkey, "must be a JSON object")
            araw = docs.get(akey)
            attrs = araw if araw is not None else md.parse_attrs(store.get(akey), akey)
            yield Node(path, kind, meta, attrs)
        except PolyZarrError as e:
            failed = "array" if kind in ("v3", "incomplete") else kind
            yield Node(path, failed, error=e, zarr_format=3 if paths[path] == "v3" else 2)


def open_node_array(store: Store, node: Node) -> Array:
    """An Array for a walked node (reusing its already-read metadata)."""
    if node.error is not None:
        raise node.error
    try:
        meta = parse_array_document(node.metadata, node.path, node.zarr_format)
    except INVALID as e:
        raise invalid_metadata(store, node.path, e) from None
    arr = open_array(store, node.path, meta)
    arr._attrs = node.attributes
    return arr


def ensure_groups(store: Store, path: str, zarr_format: int = 2) -> None:
    """Make ``path`` and each of its ancestors up to the store root a group, where none is there yet."""
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts) + 1):
        g = "/".join(parts[:i])
        if store.get(join(g, md.ZARRAY)) is not None:
            raise MetadataError(join(g, md.ZARRAY), f"cannot create group {path!r}: {g or '/'} is an array")
        v3 = store.get(join(g, ZARR_JSON))
        if v3 is not None:
            if parse_node(v3, join(g, ZARR_JSON))["node_type"] == "array":
                raise MetadataError(join(g, ZARR_JSON), f"cannot create group {path!r}: {g or '/'} is an array")
            continue
        if zarr_format == 3:
            if store.get(join(g, md.ZGROUP)) is None:
                store.set(join(g, ZARR_JSON), dumps_v3(group_doc()))
        elif store.get(join(g, md.ZGROUP)) is None:
            store.set(join(g, md.ZGROUP), md.group_metadata_json())


def create_group(store: Store, path: str = "", attributes: dict | None = None, zarr_format: int = 2) -> None:
    ensure_groups(store, path, zarr_format)
    if attributes:
        if zarr_format == 3:
            store.set(join(path, ZARR_JSON), dumps_v3(group_doc(attributes)))
        else:
            store.set(join(path, md.ZATTRS), md.dumps(attributes))


def write_attrs(store: Store, path: str, attributes: dict) -> None:
    store.set(join(path, md.ZATTRS), md.dumps(attributes))


def consolidate_metadata(store: Store, prefix: str = "") -> dict[str, Any]:
    """Write ``.zmetadata`` at ``prefix`` holding every metadata document below it, as zarr-python does; for a v3
    group, the inline ``consolidated_metadata`` of its ``zarr.json`` instead."""
    k3 = join(prefix, ZARR_JSON)
    root = store.get(k3)
    if root is not None:
        doc = parse_node(root, k3)
        if doc["node_type"] != "group":
            raise MetadataError(k3, "only a group's metadata can be consolidated")
        inner: dict[str, Any] = {}
        for k in store.list(prefix):
            if k.rsplit("/", 1)[-1] == ZARR_JSON and k != k3:
                rel = k[len(prefix) + 1 :] if prefix else k
                inner[rel.rsplit("/", 1)[0]] = md.loads_object(store.get(k), k)
        store.set(k3, dumps_v3(group_doc(doc.get("attributes"), inner)))
        return inner
    meta: dict[str, Any] = {}
    for k in store.list(prefix):
        name = k.rsplit("/", 1)[-1]
        if name in (md.ZARRAY, md.ZGROUP, md.ZATTRS):
            rel = k[len(prefix) + 1 :] if prefix else k
            meta[rel] = md.loads(store.get(k), k)
    store.set(join(prefix, md.ZMETADATA), md.consolidated_json(meta))
    return meta
