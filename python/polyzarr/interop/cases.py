"""The golden case list (``interop_tests/golden/cases.json``): load, expand, and make each case's values.

A case is one array: dtype, shape, chunks, order, codec, filters, fill value, separator, format, attributes and
a value generator. Its id reads ``<dtype>-<order>-<codec>[+filters][-variant]`` (``<f8-F-blosc_lz4``); its slug is
the same id made safe for file names (``le_f8-F-blosc_lz4``).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np

from .. import metadata as md
from ..dtypes import parse_dtype
from ..testing.values import make_objects, make_values, sparse

FIELDS = (
    "zarr_format",
    "dtype",
    "shape",
    "chunks",
    "order",
    "codec",
    "filters",
    "fill_value",
    "dimension_separator",
    "values",
    "attrs",
    "variant",
    "label",
    "zarr_python",
    # v3 only
    "codecs",
    "chunk_key_encoding",
    "dimension_names",
    "data_type",
    "transpose",
    "inner_chunks",
    "inner_transpose",
    "about",
)


def default_golden_dir() -> Path:
    from ..julia import repo_root

    return repo_root() / "interop_tests" / "golden"


@dataclass(frozen=True, eq=False)
class Case:
    """One golden case; identified by its id (equal ids are the same case)."""

    id: str
    slug: str
    group: str
    zarr_format: int
    dtype: Any  # the .zarray "dtype" JSON value
    label: str  # short dtype label used in the id
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    order: str
    codec: str  # name in the codec table
    compressor: dict | None
    filter_names: tuple[str, ...]
    filters: tuple[dict, ...]
    fill_json: Any  # the fill value's .zarray JSON encoding ("zero" already resolved)
    dimension_separator: str
    values: dict
    attrs: dict | None = None
    zarr_python: dict = field(default_factory=dict)  # {"write"|"read": why not} (the installed zarr-python)
    # the write gaps of the zarr-python that wrote the committed golden stores (manifest "versions")
    zarr_python_golden: dict = field(default_factory=dict)
    # v3: the full codec list, chunk key encoding, dimension names, an explicit data_type (e.g. "r16")
    codecs: list | None = None
    chunk_key_encoding: dict | None = None
    dimension_names: list | None = None
    data_type: Any = None
    # rules of cases.json's "unsupported" list that match this case: {impl, what, reason, error}
    unsupported: tuple = ()

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Case) and other.id == self.id

    @property
    def np_dtype(self) -> np.dtype:
        return parse_dtype(self.dtype)

    @property
    def rectilinear(self) -> bool:
        """Is the chunk grid rectilinear (per axis a list of chunk edge lengths)?"""
        return any(isinstance(c, (list, tuple)) for c in self.chunks)

    @property
    def object_codec(self) -> str | None:
        """The object codec among the filters (vlen-utf8, vlen-bytes), when the dtype is ``|O``."""
        for f in self.filters:
            if f["id"] in ("vlen-utf8", "vlen-bytes", "json2"):
                return f["id"]
        return None

    @property
    def v3_data_type(self) -> Any:
        """The v3 ``data_type`` this case stores (explicit, or the dtype's zarr-python spelling)."""
        from ..dtypes import encode_v3_dtype

        if self.data_type is not None:
            return self.data_type
        return encode_v3_dtype(self.np_dtype, {"objects_str": str, "objects_bytes": bytes}.get(self.values.get("gen")))

    @property
    def stored_dtype(self) -> np.dtype:
        """The dtype a reader returns: v2 the case's own; v3 the data type in the bytes codec's byte order."""
        if self.zarr_format == 2:
            return self.np_dtype
        from ..dtypes import parse_v3_dtype
        from ..metadata_v3 import byte_order_of

        return parse_v3_dtype(self.v3_data_type, byte_order_of(self.codecs or []))

    @property
    def fill_scalar(self) -> Any:
        """The fill value as a numpy scalar of the dtype (None for a null fill)."""
        if self.zarr_format == 3:
            from ..metadata_v3 import decode_fill_value as decode_v3

            return decode_v3(self.fill_json, self.stored_dtype, self.v3_data_type, f"{self.id}:fill_value")
        return md.decode_fill_value(self.fill_json, self.np_dtype, f"{self.id}:fill_value")

    def generate(self) -> np.ndarray:
        """The values every writer writes (numpy C order)."""
        return generate_values(self)

    def to_json(self) -> dict:
        d = {
            "id": self.id,
            "slug": self.slug,
            "group": self.group,
            "zarr_format": self.zarr_format,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "order": self.order,
            "codec": self.codec,
            "compressor": self.compressor,
            "filters": list(self.filters),
            "fill_value": self.fill_json,
            "dimension_separator": self.dimension_separator,
            "attrs": self.attrs,
            "zarr_python": self.zarr_python,
        }
        if self.zarr_format == 3:
            d.update(
                {
                    "codecs": self.codecs,
                    "chunk_key_encoding": self.chunk_key_encoding,
                    "dimension_names": self.dimension_names,
                    "data_type": self.v3_data_type,
                }
            )
        return d


_SAFE = {"<": "le_", ">": "be_", "|": "na_", "[": "_", "]": "", "/": "_", " ": "_", ":": "_"}


def slugify(text: str) -> str:
    return re.sub(r"[<>|\[\]/ :]", lambda m: _SAFE[m.group()], text)


def _expand_group(group: dict, defaults: dict) -> list[dict]:
    base = {**copy.deepcopy(defaults), **copy.deepcopy(group.get("settings", {}))}
    rows = [dict(c) for c in group.get("cases", [{}])]
    product = group.get("product", {})
    names = list(product)
    out = []
    for row in rows:
        for combo in itertools.product(*[product[n] for n in names]):
            spec = {**base, **copy.deepcopy(row), **dict(zip(names, copy.deepcopy(combo)))}
            if isinstance(spec["dtype"], dict):  # {"label": ..., "dtype": ...}
                spec["label"], spec["dtype"] = spec["dtype"]["label"], spec["dtype"]["dtype"]
            out.append(spec)
    return out


def _label(spec: dict) -> str:
    if spec.get("label"):
        return spec["label"]
    return spec["dtype"] if isinstance(spec["dtype"], str) else "struct"


def load_cases(path: str | Path | None = None) -> list[Case]:
    """Every case of the case list, in file order; ids are unique (a duplicate is an error in the list)."""
    path = Path(path) if path else default_golden_dir() / "cases.json"
    doc = json.loads(Path(path).read_text())
    defaults, codecs, filters = doc["defaults"], doc["codecs"], doc["filters"]
    v3_codecs = doc.get("v3_codecs", {})
    gaps = doc.get("zarr_python_gaps", {}).get("rules", [])
    manifest = Path(path).parent / "manifest.json"
    golden_version = (
        json.loads(manifest.read_text()).get("versions", {}).get("zarr-python") if manifest.exists() else None
    ) or zarr_python_version()
    unsupported_rules = doc.get("unsupported", {}).get("rules", [])
    cases: list[Case] = []
    seen: set[str] = set()
    for group in doc["groups"]:
        for spec in _expand_group(group, defaults):
            unknown = set(spec) - set(FIELDS)
            if unknown:
                raise ValueError(f"{path}: group {group['name']}: unknown case fields {sorted(unknown)}")
            label = _label(spec)
            dt = parse_dtype(spec["dtype"])
            v3 = spec["zarr_format"] == 3
            if v3:
                codec_label = spec["codec"] + (f"+t{''.join(map(str, spec['transpose']))}" if spec["transpose"] else "")
                cid = f"v3-{label}-{codec_label}" + (f"-{spec['variant']}" if spec["variant"] else "")
            else:
                codec_label = "+".join([spec["codec"], *spec["filters"]])
                cid = f"{label}-{spec['order']}-{codec_label}" + (f"-{spec['variant']}" if spec["variant"] else "")
            if cid in seen:
                raise ValueError(f"{path}: duplicate case id {cid!r}")
            seen.add(cid)
            fill = spec["fill_value"]
            v3_list = _v3_codec_list(spec, dt, v3_codecs) if v3 else None
            if v3 and isinstance(fill, str) and fill == "zero":
                from ..dtypes import encode_v3_dtype, parse_v3_dtype
                from ..metadata_v3 import byte_order_of, default_fill_value, encode_fill_value

                data_type = spec["data_type"] or encode_v3_dtype(
                    dt, {"objects_str": str, "objects_bytes": bytes}.get(spec["values"].get("gen"))
                )
                sdt = parse_v3_dtype(data_type, byte_order_of(v3_list))
                fill = encode_fill_value(default_fill_value(sdt, data_type), sdt, data_type)
            elif isinstance(fill, str) and fill == "zero":
                fill = md.encode_fill_value(md.default_fill_value(dt), dt)
            zp, zp_golden = (
                _gaps_of(spec, label, gaps, version) for version in (zarr_python_version(), golden_version)
            )
            cases.append(
                Case(
                    id=cid,
                    slug=slugify(cid),
                    group=group["name"],
                    zarr_format=spec["zarr_format"],
                    dtype=spec["dtype"],
                    label=label,
                    shape=tuple(spec["shape"]),
                    chunks=tuple(spec["chunks"]),
                    order=spec["order"],
                    codec=spec["codec"],
                    compressor=None if v3 else codecs[spec["codec"]],
                    filter_names=tuple(spec["filters"]),
                    filters=tuple(filters[f] for f in spec["filters"]),
                    fill_json=fill,
                    dimension_separator=spec["dimension_separator"],
                    values=spec["values"],
                    attrs=spec["attrs"],
                    zarr_python=zp,
                    zarr_python_golden=zp_golden,
                    codecs=v3_list,
                    chunk_key_encoding=(
                        spec["chunk_key_encoding"] or {"name": "default", "configuration": {"separator": "/"}}
                    )
                    if v3
                    else None,
                    dimension_names=spec["dimension_names"],
                    data_type=spec["data_type"],
                    unsupported=_unsupported_rules(
                        unsupported_rules, v3_list, None if v3 else codecs[spec["codec"]], spec["filters"], filters
                    ),
                )
            )
    return cases


def _gaps_of(spec: dict, label: str, rules: list, version: str | None) -> dict:
    """The case's known zarr-python gaps ({"write"|"read"|"writers": ...}) for one zarr-python version."""
    zp = dict(spec.get("zarr_python") or {})
    for rule in (r for r in rules if _version_matches(r.get("zarr_versions"), version)):
        if (
            rule.get("label") in (None, label)
            and set(rule.get("filters", [])) <= set(spec["filters"])
            and rule.get("variant") in (None, spec["variant"])
            and rule.get("order") in (None, spec["order"])
            and rule.get("codec") in (None, spec["codec"])
            and rule.get("zarr_format") in (None, spec["zarr_format"])
        ):
            for k in ("write", "read", "writers", "expect"):
                if k in rule:
                    zp.setdefault(k, rule[k])
    return zp


def _unsupported_rules(rules: list, v3_list: list | None, compressor: dict | None, filter_names: list, filters: dict):
    """The "unsupported" rules whose codecs the case uses (v3 names, nested in shards too; v2 ids)."""
    if v3_list is not None:
        used = codec_names(v3_list)
    else:
        used = {f["id"] for f in [compressor or {}, *(filters[n] for n in filter_names)] if "id" in f}
    return tuple(r for r in rules if used & set(r["codecs"]))


def unsupported_rule(case: Case, impl: str, what: str) -> dict | None:
    """The rule saying ``impl`` cannot ``what`` ("write" | "read") this case, or None."""
    return next((r for r in case.unsupported if r["impl"] == impl and what in r["what"]), None)


def expected_unsupported_error(rule: dict, err: BaseException) -> bool:
    """Is ``err`` the failure the rule expects (its category, and a message containing its text)?"""
    want = rule.get("error", {})
    category = getattr(err, "category", type(err).__name__)
    return category == want.get("category", category) and want.get("match", "") in str(err)


def _v3_codec_list(spec: dict, dt: np.dtype, templates: dict) -> list:
    """A case's full v3 codec list from its template: the bytes codec gets the dtype's byte order, blosc its
    typesize, vlen the object kind, INNER/TRANSPOSE the case's inner chunks and inner permutation; an outer
    ``transpose`` goes in front."""
    from ..dtypes import v3_byte_order

    if spec["codec"] not in templates:
        raise ValueError(f"case {spec}: unknown v3 codec chain {spec['codec']!r}")
    order = v3_byte_order(dt)
    vlen = "vlen-utf8" if spec["values"].get("gen") == "objects_str" else "vlen-bytes"

    def fill(x: Any) -> Any:
        if isinstance(x, list):
            return [fill(v) for v in x]
        if x == "INNER":
            return list(spec["inner_chunks"])
        if x == "TRANSPOSE":
            return list(spec["inner_transpose"])
        if not isinstance(x, dict):
            return x
        out = {k: fill(v) for k, v in x.items()}
        if out.get("name") == "bytes" and "configuration" not in out and order is not None:
            out["configuration"] = {"endian": order}
        if out.get("name") == "VLEN":
            out = {"name": vlen, "configuration": {}}
        if out.get("name") == "blosc" and "typesize" not in out.get("configuration", {}):
            out["configuration"] = {"typesize": max(dt.itemsize, 1), **out["configuration"]}
        return out

    codecs = fill(copy.deepcopy(templates[spec["codec"]]))
    if spec["transpose"]:
        codecs.insert(0, {"name": "transpose", "configuration": {"order": list(spec["transpose"])}})
    return codecs


def zarr_python_version() -> str | None:
    """The installed zarr-python's version (without importing it), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zarr")
    except PackageNotFoundError:
        return None


def _version_matches(spec: str | None, version: str | None = None) -> bool:
    """A gap rule's ``zarr_versions`` (">=3", "<3", "2.18", or all of several: ">=3,<3.4") against a zarr-python
    version (default: the installed one)."""
    if spec is None:
        return True
    v = version or zarr_python_version()
    if v is None:
        return False
    have = tuple(int(x) for x in v.split(".")[:2] if x.isdigit())

    def one(part: str) -> bool:
        for op in (">=", "<=", ">", "<", "=="):
            if part.startswith(op):
                want = tuple(int(x) for x in part[len(op) :].split("."))
                h = have[: len(want)]
                return {">=": h >= want, "<=": h <= want, ">": h > want, "<": h < want, "==": h == want}[op]
        return v.startswith(part)

    return all(one(part.strip()) for part in spec.split(","))


# ---------------------------------------------------------------------------------------------------------
# Values


def generate_values(case: Case) -> np.ndarray:
    spec = case.values
    gen, seed = spec.get("gen", "random"), spec.get("seed", 0)
    dt, shape = case.np_dtype, case.shape
    n = int(np.prod(shape))
    if gen == "random":
        v = make_values(dt, shape, seed)
    elif gen == "ramp":
        v = (np.arange(n) * 3 - 40).astype(dt).reshape(shape)
    elif gen == "scaled":
        v = ((np.arange(n) * 0.25 - 3) * spec.get("scale", 1)).astype(dt).reshape(shape)
    elif gen in ("objects_str", "objects_bytes"):
        v = make_objects("str" if gen == "objects_str" else "bytes", shape, seed)
    elif gen == "labels":
        labels = next(f["labels"] for f in case.filters if f["id"] == "categorize")
        rng = np.random.default_rng(seed)
        picks = [([""] + list(labels))[i] for i in rng.integers(0, len(labels) + 1, n)]
        v = np.empty(n, dtype=object) if dt.kind == "O" else np.empty(n, dtype=dt)
        v[:] = picks
        v = v.reshape(shape)
    else:
        raise ValueError(f"case {case.id}: unknown value generator {gen!r}")
    if spec.get("sparse") is not None:
        if case.fill_json is None:
            raise ValueError(f"case {case.id}: sparse values need a fill value")
        v = sparse(v, case.fill_scalar, keep=spec["sparse"], seed=seed)
    return v


def expected_values(case: Case, values: np.ndarray) -> np.ndarray:
    """What every reader must return for ``values`` written with ``case``'s codecs: the values themselves after the
    lossy filters (quantize, fixedscaleoffset, astype), applied by numcodecs itself; object arrays as fixed-width
    ``<U``/``|S`` (the .npy form)."""
    from ..npy import to_npy_array

    if _lossy_per_chunk(case):
        return zarr_python_roundtrip(case, values)
    out = values
    for cfg in case.filters:
        codec = numcodecs.get_codec(dict(cfg))
        if cfg["id"] in ("quantize", "fixedscaleoffset", "astype", "bitround"):
            out = np.asarray(codec.decode(codec.encode(out))).astype(case.np_dtype).reshape(case.shape)
    if case.zarr_format == 3 and out.dtype.kind != "O":
        out = out.astype(case.stored_dtype)  # v3: one byte order, the bytes codec's (a mixed-endian struct converts)
    return to_npy_array(out)


# v3 codecs whose decode is not their input (lossy, or a cast whose rounding zarr-python defines), and v2
# compressors that are lossy per chunk: their expected values are zarr-python's own read of what it writes.
LOSSY_V3 = frozenset(
    {
        "numcodecs.fixedscaleoffset",
        "numcodecs.quantize",
        "numcodecs.bitround",
        "numcodecs.astype",
        "numcodecs.zfpy",
        "cast_value",
        "scale_offset",
    }
)
LOSSY_V2 = frozenset({"zfpy"})


def codec_names(codecs: list) -> set[str]:
    out: set[str] = set()
    for c in codecs:
        out.add(c.get("name", ""))
        cfg = c.get("configuration") or {}
        if c.get("name") == "sharding_indexed":
            out |= codec_names(cfg.get("codecs", []))
    return out


def _lossy_per_chunk(case: Case) -> bool:
    if case.zarr_format == 3:
        return bool(codec_names(case.codecs or []) & LOSSY_V3)
    comp = case.compressor or {}
    reversible = comp.get("id") == "zfpy" and comp.get("mode") == 4 and comp.get("tolerance", -1) < 0
    return comp.get("id") in LOSSY_V2 and not reversible


def zarr_python_roundtrip(case: Case, values: np.ndarray) -> np.ndarray:
    """zarr-python's read of ``values`` as zarr-python writes them with the case's codecs (in .npy form): the
    expected values of a case whose codecs are lossy chunk by chunk (zfpy's fixed rate) or whose casts zarr-python
    defines (cast_value's rounding, scale_offset's arithmetic)."""
    import tempfile

    from .impls import Place, ZarrPythonImpl

    impl = ZarrPythonImpl()
    with tempfile.TemporaryDirectory(prefix="polyzarr-expected-") as d:
        place = Place("local", d)
        impl.write(case, values, place, place.url("expected", case))
        got = impl.read_all([case], place, "expected", Path(d))[case.slug]
    if isinstance(got, Exception):
        raise ValueError(f"case {case.id}: zarr-python cannot read back what it wrote: {got}")
    return got.astype(case.stored_dtype) if case.zarr_format == 3 and got.dtype.kind != "O" else got
