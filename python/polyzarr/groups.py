"""Hierarchies: finding arrays and groups under a prefix, creating parents, attributes, consolidation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from . import metadata as md
from .arrays import Array, open_array
from .errors import MetadataError, PolyZarrError
from .stores import Store, join


@dataclass
class Node:
    """One array or group found in a store."""

    path: str  # relative to the store root
    kind: str  # "array" | "group"
    metadata: dict = field(default_factory=dict)  # the parsed JSON document
    attributes: dict = field(default_factory=dict)
    error: PolyZarrError | None = None


def _consolidated(store: Store, prefix: str) -> dict[str, Any] | None:
    key = join(prefix, md.ZMETADATA)
    data = store.get(key)
    return None if data is None else md.parse_consolidated(data, key)


def walk(store: Store, prefix: str = "", use_consolidated: bool = True) -> Iterator[Node]:
    """Every array and group under ``prefix``, through groups and plain directories, sorted by path.

    Consolidated metadata at ``prefix`` is used when present (one request instead of a listing).
    Nodes whose documents are broken are yielded with ``error`` set, so callers can report and go on.
    """
    docs: dict[str, bytes | Any] = {}
    cons = _consolidated(store, prefix) if use_consolidated else None
    if cons is not None:
        for k, doc in cons.items():
            docs[join(prefix, k)] = doc
    else:
        for k in store.list(prefix):
            name = k.rsplit("/", 1)[-1]
            if name in (md.ZARRAY, md.ZGROUP, md.ZATTRS):
                docs[k] = None  # read lazily below
    paths: dict[str, str] = {}
    for k in docs:
        node, _, name = k.rpartition("/") if "/" in k else ("", "", k)
        if name == md.ZARRAY:
            paths[node] = "array"
        elif name == md.ZGROUP:
            paths.setdefault(node, "group")
    for path in sorted(paths):
        kind = paths[path]
        mkey = join(path, md.ZARRAY if kind == "array" else md.ZGROUP)
        akey = join(path, md.ZATTRS)
        try:
            raw = docs[mkey]
            meta = raw if raw is not None else md.loads_object(store.get(mkey), mkey)
            if not isinstance(meta, dict):
                raise MetadataError(mkey, "must be a JSON object")
            araw = docs.get(akey)
            attrs = araw if araw is not None else md.parse_attrs(store.get(akey), akey)
            yield Node(path, kind, meta, attrs)
        except PolyZarrError as e:
            yield Node(path, kind, error=e)


def open_node_array(store: Store, node: Node) -> Array:
    """An Array for a walked node (reusing its already-read metadata)."""
    if node.error is not None:
        raise node.error
    meta = md.ArrayMetadataV2.from_dict(node.metadata, join(node.path, md.ZARRAY))
    arr = open_array(store, node.path, meta)
    arr._attrs = node.attributes
    return arr


def ensure_groups(store: Store, path: str) -> None:
    """Make ``path`` and each of its ancestors up to the store root a group, where none is there yet."""
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts) + 1):
        g = "/".join(parts[:i])
        if store.get(join(g, md.ZARRAY)) is not None:
            raise MetadataError(join(g, md.ZARRAY), f"cannot create group {path!r}: {g or '/'} is an array")
        if store.get(join(g, md.ZGROUP)) is None:
            store.set(join(g, md.ZGROUP), md.group_metadata_json())


def create_group(store: Store, path: str = "", attributes: dict | None = None) -> None:
    ensure_groups(store, path)
    if attributes:
        store.set(join(path, md.ZATTRS), md.dumps(attributes))


def write_attrs(store: Store, path: str, attributes: dict) -> None:
    store.set(join(path, md.ZATTRS), md.dumps(attributes))


def consolidate_metadata(store: Store, prefix: str = "") -> dict[str, Any]:
    """Write ``.zmetadata`` at ``prefix`` holding every metadata document below it, as zarr-python does."""
    meta: dict[str, Any] = {}
    for k in store.list(prefix):
        name = k.rsplit("/", 1)[-1]
        if name in (md.ZARRAY, md.ZGROUP, md.ZATTRS):
            rel = k[len(prefix) + 1:] if prefix else k
            meta[rel] = md.loads(store.get(k), k)
    store.set(join(prefix, md.ZMETADATA), md.consolidated_json(meta))
    return meta
