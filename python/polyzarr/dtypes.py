"""Zarr v2 data types: numpy typestrings ⇄ numpy dtypes ⇄ Julia element types.

This module and ``metadata.py`` are the only places that know the spec's spellings. The table below is data:
one row per typestring kind, with the item sizes and byte orders it admits and the Julia type the Julia side
uses for it (``julia/src/dtypes.jl`` holds the mirror table).
"""

from __future__ import annotations

import base64
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DtypeError, MetadataError


@dataclass(frozen=True)
class Kind:
    """One row of the typestring table."""

    code: str  # numpy kind character in the typestring
    name: str  # human name
    sizes: tuple[int, ...] | None  # admitted sizes (the typestring's number); None = any positive
    julia: str  # Julia type; {n} = the typestring's number, {unit}/{count} for datetimes
    flexible: bool = False  # size given in the typestring is a length (S, U, V)


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("b", "bool", (1,), "Bool"),
        Kind("i", "signed integer", (1, 2, 4, 8), "Int{bits}"),
        Kind("u", "unsigned integer", (1, 2, 4, 8), "UInt{bits}"),
        Kind("f", "float", (2, 4, 8), "Float{bits}"),
        Kind("c", "complex", (8, 16), "ComplexF{halfbits}"),
        Kind("M", "datetime64", (8,), "Datetime64{{:{unit},{count}}}"),
        Kind("m", "timedelta64", (8,), "Timedelta64{{:{unit},{count}}}"),
        Kind("S", "fixed-width bytes (NUL-padded)", None, "FixedBytesString{{{n}}}", flexible=True),
        Kind("U", "fixed-width UTF-32 string", None, "FixedUTF32String{{{n}}}", flexible=True),
        Kind("V", "raw bytes", None, "RawBytes{{{n}}}", flexible=True),
        Kind("O", "object (needs an object codec)", (8,), "Any"),
    )
}

# numpy datetime units, coarsest first.
DATETIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")

_TYPESTR = re.compile(r"^(?P<order>[<>|=])(?P<kind>[A-Za-z])(?P<size>\d*)(?:\[(?P<count>\d*)(?P<unit>[A-Za-z]+)\])?$")


def _byteorder_ok(order: str, kind: Kind, size: int) -> str | None:
    """Return the problem with this byte-order character for this kind, or None."""
    if order == "=":
        return "native byte order '=' is machine-dependent; use '<' or '>'"
    one_byte = kind.code in "SVbO" or (kind.code in "iu" and size == 1)
    if not one_byte and order == "|":
        return f"kind '{kind.code}' with {size}-byte items needs an explicit byte order '<' or '>'"
    return None


def parse_typestr(s: str, key: str = "") -> np.dtype:
    """Parse one numpy typestring (not structured) strictly; raise DtypeError naming it."""
    where = key or s
    if not isinstance(s, str):
        raise DtypeError(where, f"dtype must be a typestring or a list of fields, got {s!r}")
    m = _TYPESTR.match(s)
    if not m:
        raise DtypeError(where, f"malformed typestring {s!r}")
    order, code, size_s = m["order"], m["kind"], m["size"]
    kind = KINDS.get(code)
    if kind is None:
        raise DtypeError(where, f"unknown kind {code!r} in typestring {s!r}")
    if code == "O" and size_s == "":
        size_s = "8"
    if size_s == "":
        raise DtypeError(where, f"typestring {s!r} has no size")
    size = int(size_s)
    if kind.sizes is not None and size not in kind.sizes:
        raise DtypeError(where, f"typestring {s!r}: {kind.name} cannot have size {size} (allowed: {kind.sizes})")
    if kind.flexible and size == 0:
        raise DtypeError(where, f"typestring {s!r}: zero-width {kind.name} is not allowed")
    problem = _byteorder_ok(order, kind, size)
    if problem:
        raise DtypeError(where, f"typestring {s!r}: {problem}")
    if code == "U" and order == "|":
        raise DtypeError(where, f"typestring {s!r}: UTF-32 strings need a byte order '<' or '>'")
    if code in "Mm":
        if m["unit"] is None:
            raise DtypeError(where, f"typestring {s!r}: {kind.name} needs a unit, e.g. {s}[ns]")
        if m["unit"] not in DATETIME_UNITS:
            raise DtypeError(
                where, f"typestring {s!r}: unknown time unit {m['unit']!r} (one of {', '.join(DATETIME_UNITS)})"
            )
        if m["count"] == "0":
            raise DtypeError(where, f"typestring {s!r}: unit multiple must be positive")
    elif m["unit"] is not None:
        raise DtypeError(where, f"typestring {s!r}: only M8/m8 take a [unit]")
    try:
        return np.dtype(s)
    except TypeError as e:  # pragma: no cover - the checks above should catch everything numpy rejects
        raise DtypeError(where, f"numpy rejects typestring {s!r}: {e}") from None


def _parse_shape(v: Any, where: str) -> tuple[int, ...]:
    if isinstance(v, int) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, (list, tuple)) or not all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v
    ):
        raise DtypeError(where, f"sub-array shape must be a list of non-negative integers, got {v!r}")
    if math.prod(v) > MAX_ITEMSIZE:
        raise DtypeError(where, f"sub-array shape {list(v)} has more than {MAX_ITEMSIZE} elements")
    return tuple(v)


MAX_ITEMSIZE = 2**31 - 1  # numpy's limit for one element (sub-arrays and structured types included)


def _guarded(parse: Any, spec: Any, key: str, *args: Any) -> np.dtype:
    """numpy's own failures on absurd types (huge sub-array shapes, overflowing item sizes) as a DtypeError."""
    try:
        dt = parse(spec, *args, key)
    except (TypeError, ValueError, OverflowError, MemoryError, RecursionError) as e:
        raise DtypeError(key, f"not a valid data type ({type(e).__name__}: {e})") from None
    if dt.itemsize > MAX_ITEMSIZE:
        raise DtypeError(key, f"an element of {dt.itemsize} bytes is larger than {MAX_ITEMSIZE}")
    return dt


def parse_dtype(spec: Any, key: str = "") -> np.dtype:
    """Parse a Zarr v2 ``dtype`` field: a typestring or a structured field list."""
    return _guarded(_parse_dtype, spec, key)


def _parse_dtype(spec: Any, key: str = "") -> np.dtype:
    if isinstance(spec, str):
        return parse_typestr(spec, key)
    if not isinstance(spec, list) or not spec:
        raise DtypeError(key, f"dtype must be a typestring or a non-empty list of fields, got {spec!r}")
    names: list[str] = []
    formats: list[Any] = []
    offsets: list[int] = []
    offset = 0
    for i, field in enumerate(spec):
        where = f"{key}[{i}]"
        if not isinstance(field, (list, tuple)) or len(field) not in (2, 3) or not isinstance(field[0], str):
            raise DtypeError(where, f"a structured field is [name, dtype] or [name, dtype, shape], got {field!r}")
        fdt = parse_dtype(field[1], where)
        if len(field) == 3:
            fdt = np.dtype((fdt, _parse_shape(field[2], where)))
        name = field[0]
        if name == "":  # padding, as numpy's descr writes it: occupies bytes, no field
            offset += fdt.itemsize
            continue
        if name in names:
            raise DtypeError(where, f"duplicate field name {name!r}")
        names.append(name)
        formats.append(fdt)
        offsets.append(offset)
        offset += fdt.itemsize
    if not names:
        raise DtypeError(key, "structured dtype has no named fields")
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": offset})


def encode_dtype(dt: np.dtype) -> str | list:
    """numpy dtype → Zarr v2 ``dtype`` JSON value (typestring, or descr-style list for structured)."""
    dt = np.dtype(dt)
    if dt.fields is None:
        if dt.subdtype is not None:
            raise DtypeError(str(dt), "a sub-array dtype is only allowed as a field of a structured dtype")
        return dt.str
    return [_field_json(f) for f in dt.descr]


def _field_json(f: tuple) -> list:
    name, sub = f[0], f[1]
    out: list[Any] = [name, [_field_json(g) for g in sub] if isinstance(sub, list) else sub]
    if len(f) == 3:
        out.append(list(f[2]))
    return out


def julia_type(dt: np.dtype) -> str:
    """The Julia element type PolyZarr uses for this dtype (see docs/CONTRACT.md)."""
    dt = np.dtype(dt)
    if dt.fields is not None:
        names = list(dt.names)
        types = []
        for n in names:
            fdt = dt.fields[n][0]
            if fdt.subdtype is not None:
                base, shape = fdt.subdtype
                types.append(f"NTuple{{{int(np.prod(shape))}, {julia_type(base)}}}")
            else:
                types.append(julia_type(fdt))
        syms = ", ".join(f":{n}" for n in names) + ("," if len(names) == 1 else "")
        return f"NamedTuple{{({syms}), Tuple{{{', '.join(types)}}}}}"
    kind = KINDS[dt.kind]
    if dt.kind in "Mm":
        unit, count = np.datetime_data(dt)
        return kind.julia.format(unit=unit, count=count)
    width = dt.itemsize // 4 if dt.kind == "U" else dt.itemsize
    return kind.julia.format(n=width, bits=8 * dt.itemsize, halfbits=4 * dt.itemsize)


def describe(spec: Any) -> dict[str, Any]:
    """Everything ``polyzarr explain`` shows about one dtype spec."""
    dt = parse_dtype(spec, key=str(spec))
    order = {"<": "little", ">": "big", "|": "not applicable", "=": "little"}[dt.byteorder]
    return {
        "typestr": encode_dtype(dt),
        "numpy": repr(dt),
        "julia": julia_type(dt),
        "itemsize": dt.itemsize,
        "byteorder": order,
        "kind": "structured" if dt.fields is not None else KINDS[dt.kind].name,
    }


# ---------------------------------------------------------------------------------------------------------
# Zarr v3 data types (docs/V3.md). Byte order is not part of a v3 data type: it comes from the bytes codec.

V3_CORE: dict[str, str] = {
    "bool": "b1",
    "int8": "i1",
    "int16": "i2",
    "int32": "i4",
    "int64": "i8",
    "uint8": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "float16": "f2",
    "float32": "f4",
    "float64": "f8",
    "complex64": "c8",
    "complex128": "c16",
}
V3_CORE_BY_CODE = {v: k for k, v in V3_CORE.items()}
V3_VLEN = {"string": str, "variable_length_bytes": bytes, "bytes": bytes}  # "bytes": zarr-python 3.0's name
_RAW_BITS = re.compile(r"^r(\d+)$")


def _order_char(dt: np.dtype, endian: str) -> np.dtype:
    """``dt`` with the bytes codec's byte order (1-byte and byte-string types have none)."""
    if dt.fields is not None:
        return np.dtype(
            {
                "names": list(dt.names),
                "formats": [_order_char(dt.fields[n][0], endian) for n in dt.names],
                "offsets": [dt.fields[n][1] for n in dt.names],
                "itemsize": dt.itemsize,
            }
        )
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return np.dtype((_order_char(base, endian), shape))
    if dt.kind in "SVbO" or dt.itemsize == 1:
        return dt
    return dt.newbyteorder("<" if endian == "little" else ">")


def parse_v3_dtype(spec: Any, endian: str = "little", key: str = "") -> np.dtype:
    """A v3 ``data_type`` (name or {name, configuration}) → numpy dtype in the given byte order.

    vlen ``string`` / ``variable_length_bytes`` are object dtypes (``|O``)."""
    return _guarded(_parse_v3_dtype, spec, key, endian)


def _parse_v3_dtype(spec: Any, endian: str = "little", key: str = "") -> np.dtype:
    where = key or "data_type"
    if isinstance(spec, str):
        if spec in V3_CORE:
            return _order_char(
                np.dtype(V3_CORE[spec] if spec in ("bool", "int8", "uint8") else "<" + V3_CORE[spec]), endian
            )
        if spec in V3_VLEN:
            return np.dtype(object)
        m = _RAW_BITS.match(spec)
        if m:
            bits = int(m.group(1))
            if bits == 0 or bits % 8:
                raise DtypeError(where, f"raw bits type {spec!r}: the size must be a positive multiple of 8")
            return np.dtype(f"|V{bits // 8}")
        raise DtypeError(where, f"unknown data type {spec!r}")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise DtypeError(where, f"a data type is a name or an object with a 'name', got {spec!r}")
    name, cfg = spec["name"], spec.get("configuration", {})
    if not isinstance(cfg, dict):
        raise DtypeError(f"{where}.configuration", f"must be an object, got {cfg!r}")
    if name in V3_CORE or name in V3_VLEN or _RAW_BITS.match(name):
        return parse_v3_dtype(name, endian, key)

    def length(unit: int) -> int:
        n = cfg.get("length_bytes")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0 or n % unit:
            raise DtypeError(
                f"{where}.configuration.length_bytes",
                f"{name} needs a positive length_bytes{' divisible by 4' if unit == 4 else ''}, got {n!r}",
            )
        return n // unit

    if name == "fixed_length_utf32":
        return _order_char(np.dtype(f"<U{length(4)}"), endian)
    if name == "null_terminated_bytes":
        return np.dtype(f"|S{length(1)}")
    if name == "raw_bytes":
        return np.dtype(f"|V{length(1)}")
    if name in ("numpy.datetime64", "numpy.timedelta64"):
        unit, scale = cfg.get("unit"), cfg.get("scale_factor", 1)
        if unit not in DATETIME_UNITS:
            raise DtypeError(
                f"{where}.configuration.unit", f"unknown time unit {unit!r} (one of {', '.join(DATETIME_UNITS)})"
            )
        if not isinstance(scale, int) or isinstance(scale, bool) or scale <= 0:
            raise DtypeError(f"{where}.configuration.scale_factor", f"must be a positive integer, got {scale!r}")
        code = "M8" if name == "numpy.datetime64" else "m8"
        return _order_char(np.dtype(f"<{code}[{scale if scale != 1 else ''}{unit}]"), endian)
    if name in ("structured", "struct"):
        fields = cfg.get("fields")
        if not isinstance(fields, list) or not fields:
            raise DtypeError(
                f"{where}.configuration.fields", f"must be a non-empty list of [name, data_type], got {fields!r}"
            )
        names, formats = [], []
        for i, f in enumerate(fields):
            fw = f"{where}.configuration.fields[{i}]"
            fname, ftype, fshape = _struct_field(f, fw)
            if fname in names:
                raise DtypeError(fw, f"duplicate field name {fname!r}")
            fdt = parse_v3_dtype(ftype, endian, fw)
            if fdt.kind == "O":
                raise DtypeError(fw, "variable-length fields are not allowed in a structured type")
            names.append(fname)
            formats.append(np.dtype((fdt, _parse_shape(fshape, fw))) if fshape is not None else fdt)
        return np.dtype({"names": names, "formats": formats})
    raise DtypeError(where, f"unknown data type {name!r}")


def _struct_field(f: Any, where: str) -> tuple[str, Any, Any]:
    """One field of a v3 struct: zarr-python 3.4's ``{"name", "data_type"}`` or 3.1's ``[name, data_type]`` (a third
    element, or a ``shape`` member, is a sub-array shape) → (name, data_type JSON, shape or None)."""
    if isinstance(f, dict) and isinstance(f.get("name"), str) and "data_type" in f:
        extra = set(f) - {"name", "data_type", "shape"}
        if extra:
            raise DtypeError(where, f"unknown field member(s) {sorted(extra)} (name, data_type)")
        return f["name"], f["data_type"], f.get("shape")
    if isinstance(f, list) and len(f) in (2, 3) and isinstance(f[0], str):
        return f[0], f[1], f[2] if len(f) == 3 else None
    raise DtypeError(where, f'a field is {{"name": ..., "data_type": ...}} or [name, data_type], got {f!r}')


def struct_field_types(data_type: Any) -> list[tuple[str, Any]]:
    """(name, data_type JSON) of each field of a v3 struct data type JSON (either form)."""
    fields = (data_type.get("configuration") or {}).get("fields") or [] if isinstance(data_type, dict) else []
    return [_struct_field(f, "")[:2] for f in fields]


def _is_plain_struct(dt: np.dtype) -> bool:
    """No sub-array fields at any depth: zarr-python 3.4's ``struct`` can say it."""
    return all(
        dt.fields[n][0].subdtype is None and (dt.fields[n][0].fields is None or _is_plain_struct(dt.fields[n][0]))
        for n in dt.names or ()
    )


def encode_v3_dtype(dt: np.dtype, object_type: type | None = None) -> Any:
    """numpy dtype → v3 ``data_type`` JSON (zarr-python 3.4's spellings: ``struct`` with field objects; a struct
    with sub-array fields, which 3.4 cannot express, in 3.1's ``structured`` form). Object arrays need
    ``object_type``."""
    dt = np.dtype(dt)
    if dt.fields is not None and _is_plain_struct(dt):
        return {
            "name": "struct",
            "configuration": {"fields": [{"name": n, "data_type": encode_v3_dtype(dt.fields[n][0])} for n in dt.names]},
        }
    if dt.fields is not None:
        fields = []
        for n in dt.names:
            fdt = dt.fields[n][0]
            if fdt.subdtype is not None:
                base, shape = fdt.subdtype
                fields.append([n, encode_v3_dtype(base), list(shape)])
            else:
                fields.append([n, encode_v3_dtype(fdt)])
        return {"name": "structured", "configuration": {"fields": fields}}
    k = dt.kind
    if k == "O":
        if object_type is str:
            return "string"
        if object_type is bytes:
            return "variable_length_bytes"
        raise DtypeError(dt.str, "an object array needs to say whether it holds str or bytes")
    if k == "U":
        return {"name": "fixed_length_utf32", "configuration": {"length_bytes": dt.itemsize}}
    if k == "S":
        return {"name": "null_terminated_bytes", "configuration": {"length_bytes": dt.itemsize}}
    if k == "V":
        return {"name": "raw_bytes", "configuration": {"length_bytes": dt.itemsize}}
    if k in "Mm":
        unit, count = np.datetime_data(dt)
        return {
            "name": "numpy.datetime64" if k == "M" else "numpy.timedelta64",
            "configuration": {"unit": unit, "scale_factor": count},
        }
    code = f"{k}{dt.itemsize}"
    if code not in V3_CORE_BY_CODE:
        raise DtypeError(dt.str, "no Zarr v3 data type for this dtype")
    return V3_CORE_BY_CODE[code]


def v3_byte_order(dt: np.dtype) -> str | None:
    """ "little"/"big" for the bytes codec, or None when the dtype has no byte order (1-byte, S, V, bool);
    mixed-endian structured dtypes report their first multi-byte field's order."""
    dt = np.dtype(dt)
    if dt.fields is not None:
        for n in dt.names:
            o = v3_byte_order(dt.fields[n][0].base)
            if o is not None:
                return o
        return None
    if dt.kind in "SVbO" or dt.itemsize == 1:
        return None
    return "big" if dt.byteorder == ">" or (dt.byteorder == "=" and sys.byteorder == "big") else "little"


# ---------------------------------------------------------------------------------------------------------
# Fill values: each data type kind owns its JSON, v2 (``zarr_format=2``) and v3 side by side. metadata.py and
# metadata_v3.py call decode_fill / encode_fill; nothing else spells a fill value.

_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_UINT_FOR_FLOAT = {2: "<u2", 4: "<u4", 8: "<u8"}
INT64_MAX = 2**63 - 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_raw_bits(data_type: Any) -> bool:
    """v3 ``r<N>`` (raw bits) data types, whose fill is a list of byte values."""
    return isinstance(data_type, str) and data_type.startswith("r") and data_type[1:].isdigit()


def decode_b64(v: Any, where: str) -> bytes:
    """A fill value's base64 string → its bytes (v2 structured/void/bytes fills, v3 raw and bytes fills)."""
    if not isinstance(v, str):
        raise MetadataError(where, f"fill value must be a base64 string for this dtype, got {v!r}")
    try:
        return base64.b64decode(v.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise MetadataError(where, f"fill value {v!r} is not valid base64") from None


def _decode_float_v2(v: Any, where: str) -> float:
    if isinstance(v, str):
        if v in _FLOAT_WORDS:
            return _FLOAT_WORDS[v]
        raise MetadataError(where, f"float fill value must be a number, 'NaN', 'Infinity' or '-Infinity', got {v!r}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise MetadataError(where, f"float fill value must be a number, got {v!r}")


def _decode_float_v3(v: Any, dt: np.dtype, where: str) -> Any:
    """A v3 float fill: number, NaN/Infinity words, or "0x…" with the IEEE bits (kept bit-exact)."""
    if isinstance(v, str):
        if v in _FLOAT_WORDS:
            return dt.type(_FLOAT_WORDS[v])
        if v.startswith("0x"):
            digits = v[2:]
            if len(digits) != 2 * dt.itemsize or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise MetadataError(where, f"hex fill value {v!r} must have {2 * dt.itemsize} hex digits for {dt.str}")
            bits = np.array(int(digits, 16), dtype=_UINT_FOR_FLOAT[dt.itemsize])
            return bits.view(dt.newbyteorder("<"))[()].astype(dt)
        raise MetadataError(
            where, f"float fill value must be a number, 'NaN', 'Infinity', '-Infinity' or '0x…', got {v!r}"
        )
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return dt.type(v)
    raise MetadataError(where, f"float fill value must be a number, got {v!r}")


def _encode_float_v2(x: float) -> Any:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return float(x)


def _encode_float_v3(x: Any) -> Any:
    """NaN with a payload other than the default quiet NaN is written as its bits ("0x7fc00001"), so it survives."""
    a = np.asarray(x)
    if math.isnan(float(a)):
        little = a.dtype.newbyteorder("<")
        bits = int(a.astype(little).view(_UINT_FOR_FLOAT[a.dtype.itemsize]))
        quiet = int(np.array(np.nan, little).view(_UINT_FOR_FLOAT[a.dtype.itemsize]))
        return "NaN" if bits == quiet else f"0x{bits:0{2 * a.dtype.itemsize}x}"
    if math.isinf(float(a)):
        return "Infinity" if float(a) > 0 else "-Infinity"
    return float(a)


# -- one pair (decode, encode) per kind; ``fmt`` is the Zarr format, ``data_type`` the v3 JSON name


def _fill_object(v: Any, dt: np.dtype, where: str, fmt: int, data_type: Any) -> Any:
    if fmt == 2:
        return v
    if data_type == "string":
        if not isinstance(v, str):
            raise MetadataError(where, f"a string array's fill value must be a string, got {v!r}")
        return v
    return decode_b64(v, where)


def _fill_object_json(v: Any, dt: np.dtype, fmt: int, data_type: Any) -> Any:
    if fmt == 2:
        return v
    return v if data_type == "string" else base64.b64encode(bytes(v)).decode("ascii")


def _fill_raw_bits(v: Any, dt: np.dtype, where: str, data_type: Any) -> Any:
    if not isinstance(v, list) or len(v) != dt.itemsize or not all(isinstance(b, int) and 0 <= b <= 255 for b in v):
        raise MetadataError(where, f"{data_type} fill value must be a list of {dt.itemsize} byte values, got {v!r}")
    return np.frombuffer(bytes(v), dtype=dt)[0]


def _fill_struct(v: Any, dt: np.dtype, where: str, fmt: int) -> Any:
    raw = decode_b64(v, where)
    if len(raw) != dt.itemsize:
        needs = "dtype needs" if fmt == 2 else "the data type needs"
        raise MetadataError(where, f"fill value has {len(raw)} bytes, {needs} {dt.itemsize}")
    return np.frombuffer(raw, dtype=dt)[0]


def _is_struct_object(data_type: Any) -> bool:
    """zarr-python 3.4's ``struct``, whose fill value is an object (3.1's ``structured`` has a base64 fill)."""
    return isinstance(data_type, dict) and data_type.get("name") == "struct"


def _fill_struct_object(v: dict, dt: np.dtype, where: str, data_type: Any) -> Any:
    """A struct fill as an object: one member per field, each in its field type's own JSON."""
    types = dict(struct_field_types(data_type))
    out = np.zeros((), dtype=dt)
    for n in dt.names:
        if n not in v:
            raise MetadataError(f"{where}.{n}", "missing: a struct fill value needs every field")
        fdt = dt.fields[n][0]
        if fdt.subdtype is not None:
            raise MetadataError(f"{where}.{n}", "a sub-array field's fill value as JSON is not supported")
        out[n] = decode_fill(v[n], fdt, f"{where}.{n}", 3, types.get(n))
    for k in v:
        if k not in dt.names:
            raise MetadataError(f"{where}.{k}", "not a field of the struct")
    return out[()]


def _fill_struct_object_json(v: Any, dt: np.dtype, data_type: Any) -> dict:
    types = dict(struct_field_types(data_type))
    x = np.asarray(v, dtype=dt)[()]
    return {n: encode_fill(x[n], dt.fields[n][0], 3, types.get(n)) for n in dt.names}


def _fill_bool(v: Any, dt: np.dtype, where: str, fmt: int) -> Any:
    if isinstance(v, bool) or (fmt == 2 and _is_int(v) and v in (0, 1)):
        return np.bool_(v)
    raise MetadataError(where, f"bool fill value must be true or false, got {v!r}")


def _fill_int(v: Any, dt: np.dtype, where: str, fmt: int) -> Any:
    if fmt == 2 and isinstance(v, float) and v.is_integer():
        v = int(v)
    if not _is_int(v):
        raise MetadataError(where, f"integer fill value must be an integer, got {v!r}")
    info = np.iinfo(dt)
    if not info.min <= v <= info.max:
        raise MetadataError(where, f"fill value {v} does not fit {dt.str} ({info.min}..{info.max})")
    return dt.type(v)


def _fill_float(v: Any, dt: np.dtype, where: str, fmt: int) -> Any:
    return dt.type(_decode_float_v2(v, where)) if fmt == 2 else _decode_float_v3(v, dt, where)


def _fill_complex(v: Any, dt: np.dtype, where: str, fmt: int) -> Any:
    if fmt == 2:
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise MetadataError(where, f"complex fill value must be [real, imag], got {v!r}")
            return dt.type(complex(_decode_float_v2(v[0], where), _decode_float_v2(v[1], where)))
        return dt.type(_decode_float_v2(v, where))
    if not isinstance(v, list) or len(v) != 2:
        raise MetadataError(where, f"complex fill value must be [real, imag], got {v!r}")
    part = np.dtype(f"{dt.byteorder if dt.byteorder in '<>' else '<'}f{dt.itemsize // 2}")
    re_, im = _decode_float_v3(v[0], part, where), _decode_float_v3(v[1], part, where)
    out = np.zeros((), dtype=dt)
    out.real, out.imag = re_, im  # keeps NaN bits and signed zeros
    return out[()]


def _fill_datetime(v: Any, dt: np.dtype, where: str) -> Any:
    if v == "NaT":
        return dt.type("NaT")
    if not _is_int(v) or not -(2**63) <= v <= INT64_MAX:
        raise MetadataError(where, f"{dt.str} fill value must be a 64-bit integer, got {v!r}")
    return np.array(v, dtype="<i8").view(dt.newbyteorder("<"))[()].astype(dt)


def _fill_bytes(v: Any, dt: np.dtype, where: str) -> Any:
    raw = decode_b64(v, where)
    if len(raw) > dt.itemsize:
        raise MetadataError(where, f"fill value has {len(raw)} bytes, {dt.str} holds {dt.itemsize}")
    return np.array(raw, dtype=dt)[()]


def _fill_text(v: Any, dt: np.dtype, where: str) -> Any:
    if not isinstance(v, str):
        raise MetadataError(where, f"{dt.str} fill value must be a string, got {v!r}")
    if len(v) > dt.itemsize // 4:
        raise MetadataError(where, f"fill value {v!r} is longer than {dt.str}")
    return np.array(v, dtype=dt)[()]


def decode_fill(v: Any, dt: np.dtype, where: str, fmt: int, data_type: Any = None) -> Any:
    """JSON fill value → numpy scalar of ``dt`` (a Python value for object dtypes; None for a v2 null)."""
    if v is None:
        if fmt == 2:
            return None
        raise MetadataError(where, "v3 fill_value cannot be null")
    k = dt.kind
    if fmt == 2 and (dt.fields is not None or k == "V"):
        return _fill_struct(v, dt, where, fmt)
    if k == "O":
        return _fill_object(v, dt, where, fmt, data_type)
    if fmt == 3 and _is_raw_bits(data_type):
        return _fill_raw_bits(v, dt, where, data_type)
    if dt.fields is not None and isinstance(v, dict):
        return _fill_struct_object(v, dt, where, data_type)
    if dt.fields is not None or k == "V":
        return _fill_struct(v, dt, where, fmt)
    if k == "b":
        return _fill_bool(v, dt, where, fmt)
    if k in "iu":
        return _fill_int(v, dt, where, fmt)
    if k == "f":
        return _fill_float(v, dt, where, fmt)
    if k == "c":
        return _fill_complex(v, dt, where, fmt)
    if k in "Mm":
        return _fill_datetime(v, dt, where)
    if k == "S":
        return _fill_bytes(v, dt, where)
    if k == "U":
        return _fill_text(v, dt, where)
    what = f"dtype {dt.str}" if fmt == 2 else dt.str
    raise MetadataError(where, f"no fill value encoding for {what}")  # pragma: no cover


def encode_fill(v: Any, dt: np.dtype, fmt: int, data_type: Any = None) -> Any:
    """numpy scalar (or Python value) → JSON fill value, as zarr-python writes it for that format."""
    if v is None and fmt == 2:
        return None
    k = dt.kind
    if fmt == 2 and (dt.fields is not None or k == "V"):
        return base64.b64encode(np.asarray(v, dtype=dt).tobytes()).decode("ascii")
    if k == "O":
        return _fill_object_json(v, dt, fmt, data_type)
    if fmt == 3 and _is_raw_bits(data_type):
        return list(np.asarray(v, dtype=dt).tobytes())
    if dt.fields is not None and _is_struct_object(data_type):
        return _fill_struct_object_json(v, dt, data_type)
    if dt.fields is not None or k == "V":
        return base64.b64encode(np.asarray(v, dtype=dt).tobytes()).decode("ascii")
    if k == "b":
        return bool(v)
    if k in "iu":
        return int(v)
    if k == "f":
        return _encode_float_v2(float(v)) if fmt == 2 else _encode_float_v3(np.asarray(v, dtype=dt)[()])
    if k == "c":
        if fmt == 2:
            c = complex(v)
            return [_encode_float_v2(c.real), _encode_float_v2(c.imag)]
        cv = np.asarray(v, dtype=dt)[()]
        return [_encode_float_v3(cv.real), _encode_float_v3(cv.imag)]
    if k in "Mm":
        return int(np.asarray(v, dtype=dt).astype(dt.newbyteorder("<")).view("<i8"))
    if k == "S":
        return base64.b64encode(bytes(np.asarray(v, dtype=dt)[()])).decode("ascii")
    if k == "U":
        return str(np.asarray(v, dtype=dt)[()])
    what = f"dtype {dt.str}" if fmt == 2 else dt.str
    raise MetadataError("fill_value", f"no fill value encoding for {what}")  # pragma: no cover
