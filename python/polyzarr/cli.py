"""The ``polyzarr`` command: export, import, inspect — same verbs and flags for both languages.

This module only parses arguments and calls the verbs (verbs.py, diff.py, explain.py). See docs/CONTRACT.md. ``--impl julia`` runs the same command with PolyZarr.jl.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import PolyZarrError
from .npy import to_npy_array
from .verbs import export_tree, format_inspect, import_npy, inspect_both, inspect_tree

# ---------------------------------------------------------------------------------------------------------
# Codec specs: "zlib:level=1", "blosc:cname=lz4,clevel=5,shuffle=1", or JSON


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_codec_spec(spec: str) -> dict | None:
    """``id[:key=value[,key=value...]]`` or a JSON object → numcodecs config; ``none`` → None."""
    spec = spec.strip()
    if spec.lower() in ("none", "null", ""):
        return None
    if spec.startswith("{"):
        doc = json.loads(spec)
        if not isinstance(doc, dict) or ("id" not in doc and "name" not in doc):
            raise ValueError(f"codec JSON must be an object with an 'id' (v2) or a 'name' (v3): {spec}")
        return doc
    cid, _, rest = spec.partition(":")
    cfg: dict[str, Any] = {"id": cid.strip()}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        k, eq, v = item.partition("=")
        if not eq:
            raise ValueError(f"codec parameter {item!r} in {spec!r} is not key=value")
        cfg[k.strip()] = _value(v.strip())
    return cfg


def _spec_params(spec: str, rest: str) -> dict[str, Any]:
    """``k=v,k=v``; items without ``=`` continue the previous value as a list (``order=1,2,0``)."""
    params: dict[str, Any] = {}
    last = None
    for item in (p.strip() for p in rest.split(",")):
        if not item:
            continue
        k, eq, v = item.partition("=")
        if eq:
            last = k.strip()
            params[last] = _value(v.strip())
        elif last is not None:
            prev = params[last]
            params[last] = (prev if isinstance(prev, list) else [prev]) + [_value(item)]
        else:
            raise ValueError(f"codec parameter {item!r} in {spec!r} is not key=value")
    return params


def parse_v3_codecs(text: str) -> list[dict]:
    """``--codecs``: a JSON list of v3 codec objects, or ``name[:k=v,...];name...``
    (``transpose:order=1,2,0;bytes:endian=big;gzip:level=5``)."""
    text = text.strip()
    if text.startswith("["):
        codecs = json.loads(text)
        if not isinstance(codecs, list):
            raise ValueError("--codecs JSON must be a list of codec objects")
        return codecs
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, rest = part.partition(":")
        c: dict[str, Any] = {"name": name.strip()}
        params = _spec_params(part, rest)
        if params:
            c["configuration"] = params
        out.append(c)
    return out


def parse_filters(values: Sequence[str] | None) -> list[dict] | None:
    out: list[dict] = []
    for v in values or []:
        v = v.strip()
        if v.startswith("["):
            out += json.loads(v)
            continue
        for part in filter(None, (p.strip() for p in v.split(";"))):
            cfg = parse_codec_spec(part)
            if cfg is not None:
                out.append(cfg)
    return out or None


def parse_ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def parse_chunks(text: str) -> tuple:
    """``3,2,2`` (a chunk shape); a rectilinear grid: an axis as its edge lengths joined by ``+`` (``3+3+4,2+5``;
    a plain number is regular along that axis) or a JSON list of per-axis lists (``[[3,3,4],[2,5]]``, runs
    ``[size, count]`` expanded)."""
    t = text.strip()
    if t.startswith("["):
        axes = json.loads(t)
        if not isinstance(axes, list):
            raise ValueError(f"--chunks: expected a JSON list, got {text!r}")
        out: list = []
        for ax in axes:
            if isinstance(ax, list):
                edges: list[int] = []
                for e in ax:
                    edges.extend([int(e[0])] * int(e[1]) if isinstance(e, list) else [int(e)])
                out.append(edges)
            else:
                out.append(int(ax))
        return tuple(out)
    if "+" in t:
        return tuple([int(y) for y in x.split("+")] if "+" in x else int(x) for x in t.split(",") if x.strip())
    return parse_ints(t)


# ---------------------------------------------------------------------------------------------------------
# Entry point


def _julia_bridge() -> Any:
    from .julia import get_bridge

    return get_bridge()


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--impl", choices=("python", "julia"), default="python", help="which implementation runs the command"
    )
    common.add_argument("--endpoint-url", default=None, help="S3 endpoint (default: $AWS_ENDPOINT_URL)")
    common.add_argument(
        "--anon", action="store_true", help="S3: unsigned requests (public buckets), even with credentials set"
    )
    p = argparse.ArgumentParser(prog="polyzarr", description="Zarr interop tools (Python and Julia implementations).")
    p.add_argument("--version", action="version", version=f"polyzarr {__version__}")
    sub = p.add_subparsers(dest="verb", required=True)

    e = sub.add_parser("export", parents=[common], help="every array under SRC → OUTDIR/<path>.npy")
    e.add_argument("src", help="a store URL (dir, .zip, memory://, s3://bucket/prefix) or a directory of stores")
    e.add_argument("outdir", help="where the .npy files go (created)")
    e.add_argument(
        "--cf", action="store_true", help="CF-decoded dataset variables (Python: through xarray), see docs/CONTRACT.md"
    )

    i = sub.add_parser("import", parents=[common], help="a .npy file → a Zarr array at DEST")
    i.add_argument("npy", help="the .npy file (its dtype, byte order included, becomes the array's)")
    i.add_argument("dest", help="the array's URL, e.g. out.zarr/a or s3://bucket/p/a (parent groups are created)")
    i.add_argument("--zarr-format", type=int, default=2, choices=(2, 3), help="Zarr format version (default: 2)")
    i.add_argument(
        "--chunks",
        type=parse_chunks,
        default=None,
        help="e.g. 3,2,2 (default: one chunk); v3 rectilinear: 3+3+4,2+5 (an axis's chunk edge lengths)",
    )
    i.add_argument("--order", choices=("C", "F"), default="C", help="v2 memory order of each chunk (default: C)")
    i.add_argument("--compressor", default="default", help="id:key=value,... | JSON | none (default: zstd level 0)")
    i.add_argument("--filters", action="append", default=None, help="id:key=value,...; repeat or separate with ';'")
    i.add_argument(
        "--fill-value",
        default=None,
        help='JSON encoding as in .zarray (0, NaN, "base64", [re, im], null); default: the dtype\'s zero',
    )
    i.add_argument(
        "--dimension-separator",
        choices=(".", "/"),
        default=None,
        help="v2: '.' (default) or '/'; v3: the chunk key separator ('/' for default keys, '.' for v2 keys)",
    )
    i.add_argument(
        "--codecs",
        default=None,
        help="v3: JSON list of codec objects, or name:k=v,...;name... "
        "(transpose:order=1,2,0;bytes:endian=big;gzip:level=5)",
    )
    i.add_argument(
        "--shards",
        type=parse_chunks,
        default=None,
        help="v3: shard shape (then --chunks is the inner chunk shape); rectilinear: 2+4+4,2+5",
    )
    i.add_argument("--transpose", type=parse_ints, default=None, help="v3: a transpose permutation, e.g. 1,2,0")
    i.add_argument("--dimension-names", default=None, help="v3: comma-separated names, e.g. time,lat,lon")
    i.add_argument(
        "--chunk-key-encoding", choices=("default", "v2"), default=None, help="v3 chunk keys (default: c/0/1)"
    )
    i.add_argument(
        "--object-codec",
        choices=("vlen-utf8", "vlen-bytes", "json2"),
        default=None,
        help="store a <U/|S .npy as a variable-length object array with this codec",
    )
    i.add_argument("--attrs", default=None, help="JSON object of attributes")
    i.add_argument("--overwrite", action="store_true", help="replace an array already at DEST (default: refuse)")

    s = sub.add_parser("inspect", parents=[common], help="the tree under SRC with each node's metadata")
    s.add_argument("src", help="a store URL or a directory of stores")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument(
        "--both", action="store_true", help="each array as numpy and as Julia see it (Julia's answer when it runs)"
    )
    s.add_argument(
        "--index", type=parse_ints, default=None, help="with --both: a numpy (0-based) index to locate, e.g. 3,1,0"
    )

    d = sub.add_parser("diff", parents=[common], help="compare two arrays (store URLs or .npy) and say why they differ")
    d.add_argument("a", help="an array URL or a .npy file")
    d.add_argument("b", help="an array URL or a .npy file")
    d.add_argument("--json", action="store_true", help="machine-readable output")

    x = sub.add_parser(
        "explain", parents=[common], help="a dtype (typestring or structured JSON) in numpy and Julia terms"
    )
    x.add_argument("dtype", help="a numpy typestring (<i4, >M8[10s]), structured JSON, or a v3 data_type")
    x.add_argument("--json", action="store_true", help="machine-readable output")

    from .interop.command import add_arguments

    m = sub.add_parser("matrix", help="run the interop matrix (writers × readers × cases × stores) and write reports")
    add_arguments(m)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if getattr(args, "anon", False):
        os.environ["POLYZARR_ANON"] = "1"  # stores.s3_options (and PolyZarr.jl, for --impl julia) read it
    if args.verb == "matrix":
        from .interop.command import run

        return run(args, argv[1:])
    if (args.impl == "julia" and args.verb in ("export", "import", "explain")) or (
        args.impl == "julia" and args.verb == "inspect" and not args.both
    ):
        from .julia import run_julia_cli

        return run_julia_cli(argv)
    try:
        if args.verb == "diff":
            from .diff import run as run_diff

            return run_diff(args.a, args.b, args.json, args.endpoint_url, impl=args.impl, bridge_factory=_julia_bridge)
        if args.verb == "explain":
            from .explain import explain_dtype, format_explain

            info = explain_dtype(args.dtype)
            print(json.dumps(info, indent=2) if args.json else format_explain(info))
            return 0
        if args.verb == "inspect" and args.both:
            return inspect_both(args.src, args.index, args.json, args.endpoint_url, _julia_bridge)
        if args.verb == "export":
            if args.cf:
                from .cfexport import export_cf

                _, failed = export_cf(args.src, args.outdir, args.endpoint_url)
                return 1 if failed else 0
            _, failed = export_tree(args.src, args.outdir, args.endpoint_url)
            return 1 if failed else 0
        if args.verb == "import":
            fill: Any = "default" if args.fill_value is None else _value(args.fill_value)
            attrs = json.loads(args.attrs) if args.attrs else None
            v3: dict[str, Any] = {}
            if args.codecs is not None:
                v3["codecs"] = parse_v3_codecs(args.codecs)
            if args.shards is not None:
                v3["shards"] = args.shards
            if args.transpose is not None:
                v3["transpose"] = args.transpose
            if args.dimension_names is not None:
                v3["dimension_names"] = [n or None for n in args.dimension_names.split(",")]
            if args.chunk_key_encoding is not None:
                v3["chunk_key_encoding"] = args.chunk_key_encoding
            if v3 and args.zarr_format != 3:
                raise ValueError(f"{', '.join('--' + k.replace('_', '-') for k in v3)} need --zarr-format 3")
            compressor = parse_codec_spec(args.compressor) if args.compressor != "default" else "default"
            r = import_npy(
                args.npy,
                args.dest,
                args.zarr_format,
                args.chunks,
                args.order,
                compressor,
                parse_filters(args.filters),
                fill,
                args.dimension_separator,
                args.object_codec,
                attrs,
                args.overwrite,
                args.endpoint_url,
                **v3,
            )
            print(f"imported {args.npy} → {r['path']} {tuple(r['shape'])} {r['dtype']}")
            return 0
        if args.verb == "inspect":
            tree = inspect_tree(args.src, args.endpoint_url)
            print(json.dumps(tree, indent=2, sort_keys=True) if args.json else format_inspect(tree))
            return 1 if any("error" in n for n in tree["nodes"]) else 0
    except PolyZarrError as e:
        print(e.describe(), file=sys.stderr)
        return 1
    except (ValueError, OSError, IndexError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug, never a traceback: said as Julia's worker says it
        print(f"InternalError: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = [
    "build_parser",
    "export_tree",
    "import_npy",
    "inspect_tree",
    "main",
    "parse_codec_spec",
    "parse_filters",
    "parse_ints",
    "parse_v3_codecs",
    "to_npy_array",
]
