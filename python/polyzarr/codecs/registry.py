"""The codec registry: canonical name → kind, v2 id, v3 names, constructor from the JSON configuration, to_json.

Every codec module (``codecs/<name>.py``) calls ``register`` once per codec it implements; ``codecs/__init__.py``
imports them all, so importing ``polyzarr.codecs`` fills the registry. Metadata validation (the v3 chain order,
known names) and the pipeline ask this module; no other module lists codec names.

The kinds follow the v3 spec: ``array_array`` (transpose, v2 filters like delta), ``array_bytes`` (bytes, vlen-*,
sharding_indexed, v2 object codecs), ``bytes_bytes`` (compressors, checksums).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numcodecs
import numpy as np
from numcodecs.abc import Codec

from ..errors import CodecError

Kind = Literal["array_array", "array_bytes", "bytes_bytes"]
ARRAY_ARRAY: Kind = "array_array"
ARRAY_BYTES: Kind = "array_bytes"
BYTES_BYTES: Kind = "bytes_bytes"


@dataclass(frozen=True)
class CodecContext:
    """What a v3 codec's constructor may need besides its configuration: the decoded side of its chunks."""

    dtype: np.dtype  # the decoded side's dtype (after earlier array→array codecs: their encoded dtype)
    chunk_shape: tuple[int, ...]
    object_type: type | None = None  # str / bytes for vlen arrays
    name: str = ""  # the v3 name the codec was given by (plain "blosc" or "numcodecs.blosc")


V3Constructor = Callable[[dict, CodecContext, str], Any]  # (configuration, context, JSON path) → a pipeline step
V2Check = Callable[[dict, str], None]  # (numcodecs config, JSON path) → raises CodecError


@dataclass(frozen=True)
class CodecEntry:
    name: str  # canonical name (the module's name, or one of its family)
    kind: Kind
    v2_id: str | None = None  # numcodecs id in .zarray filters / compressor
    v3_names: tuple[str, ...] = ()  # names in zarr.json "codecs"
    from_v3: V3Constructor | None = None
    check_v2: V2Check | None = None  # settings numcodecs accepts on construction but misuses on encode
    object_codec: bool = False  # v2: an object array's codec (the chunk is Python objects)
    object_type: type | None = None  # what an object codec's elements are (str, bytes), when it says
    requires: str | None = None  # the PyPI package numcodecs needs for it (pcodec, zfpy), named when missing

    def to_json_v2(self, config: dict, where: str = "") -> dict:
        """A v2 config → the full numcodecs config zarr-python stores (defaults filled in)."""
        return v2_json(config, where)

    def to_json_v3(self, configuration: dict | None) -> dict:
        return (
            {"name": self.v3_names[0], "configuration": dict(configuration)}
            if configuration
            else {"name": self.v3_names[0]}
        )


_ENTRIES: dict[str, CodecEntry] = {}
_BY_V2: dict[str, CodecEntry] = {}
_BY_V3: dict[str, CodecEntry] = {}


def register(entry: CodecEntry) -> CodecEntry:
    for table, keys in (
        (_ENTRIES, (entry.name,)),
        (_BY_V2, (entry.v2_id,) if entry.v2_id else ()),
        (_BY_V3, entry.v3_names),
    ):
        for k in keys:
            if k in table:
                raise ValueError(f"codec {k!r} registered twice")
            table[k] = entry
    return entry


def entries() -> list[CodecEntry]:
    return list(_ENTRIES.values())


def by_name(name: str) -> CodecEntry | None:
    return _ENTRIES.get(name)


def by_v2_id(codec_id: str) -> CodecEntry | None:
    return _BY_V2.get(codec_id)


def by_v3_name(name: str) -> CodecEntry | None:
    return _BY_V3.get(name)


def v3_kind(name: str) -> Kind | None:
    """The kind of a v3 codec name, None when no registered codec has it."""
    entry = _BY_V3.get(name)
    return entry.kind if entry is not None else None


def v3_names(kind: Kind | None = None) -> tuple[str, ...]:
    """Every known v3 codec name (of one kind), in registration order."""
    return tuple(n for n, e in _BY_V3.items() if kind is None or e.kind == kind)


def v2_object_type(codec_id: str) -> tuple[bool, type | None]:
    """(is an object codec, its element type) for a v2 filter id."""
    entry = _BY_V2.get(codec_id)
    return (entry.object_codec, entry.object_type) if entry is not None else (False, None)


def allowed_settings(table: dict[str, tuple]) -> V2Check:
    """A v2 check: each named setting, when present, must be one of the listed values."""

    def check(config: dict, where: str) -> None:
        for name, allowed in table.items():
            if name in config and config[name] not in allowed:
                raise CodecError(
                    where, f"codec {config['id']!r}: {name} {config[name]!r} is not one of {list(allowed)}"
                )

    return check


def numcodecs_codec(config: Any, where: str = "") -> Codec:
    """numcodecs config (``{"id": "zlib", "level": 1}``) → codec; unknown ids and bad settings → CodecError.

    Ids the registry does not list still go to numcodecs (any numcodecs codec works in v2 filters)."""
    if not isinstance(config, dict) or not isinstance(config.get("id"), str):
        raise CodecError(where, f"a codec config must be an object with a string 'id', got {config!r}")
    entry = _BY_V2.get(config["id"])
    if entry is not None and entry.check_v2 is not None:
        entry.check_v2(config, where)
    try:
        return numcodecs.get_codec(dict(config))
    except ValueError as e:
        if "codec not available" in str(e):
            if entry is not None and entry.requires:
                raise CodecError(where, missing_package(config["id"], entry.requires)) from None
            raise CodecError(where, f"unknown codec id {config['id']!r}") from None
        raise CodecError(where, f"bad configuration for codec {config['id']!r}: {e}") from None
    except (TypeError, KeyError, RuntimeError) as e:
        raise CodecError(where, f"bad configuration for codec {config['id']!r}: {e}") from None


def missing_package(codec: str, package: str) -> str:
    return f"codec {codec!r} needs the PyPI package {package!r}, which is not installed (pip install {package})"


NUMCODECS_PREFIX = "numcodecs."


def numcodecs_v3_codec(cfg: dict, ctx: CodecContext, where: str) -> Codec:
    """A ``numcodecs.<id>`` v3 codec: its configuration is the numcodecs config without ``id`` (zarr-python 3's
    numcodecs wrappers), so numcodecs builds it."""
    codec_id = ctx.name.removeprefix(NUMCODECS_PREFIX)
    if "id" in cfg and cfg["id"] != codec_id:
        raise CodecError(where, f"configuration id {cfg['id']!r} does not match the codec name {ctx.name!r}")
    return numcodecs_codec({**cfg, "id": codec_id}, where)


def cfg_int(cfg: dict, name: str, where: str, lo: int, hi: int, default: Any = None) -> int:
    """An integer setting of a v3 configuration, in ``lo..hi``."""
    v = cfg.get(name, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise CodecError(where, f"{name} must be an integer in {lo}..{hi}, got {v!r}")
    return v


def v2_json(config: Any, where: str = "") -> dict:
    """A v2 codec config (checked) → the full numcodecs config zarr-python stores, defaults filled in."""
    return dict(numcodecs_codec(config, where).get_config())
