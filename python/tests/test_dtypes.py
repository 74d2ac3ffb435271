"""The typestring table against numpy's own parser, and the malformed strings it must reject."""
from __future__ import annotations

import numpy as np
import pytest

from polyzarr.dtypes import describe, encode_dtype, julia_type, parse_dtype
from polyzarr.errors import DtypeError

UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]
VALID = (
    ["|b1", "|i1", "|u1", "<i1", "|S1", "|S255", "<U1", ">U40", "|V1", "|V16", "|O"]
    + [f"{o}{k}{n}" for o in "<>" for k, ns in (("i", (2, 4, 8)), ("u", (2, 4, 8)), ("f", (2, 4, 8)), ("c", (8, 16))) for n in ns]
    + [f"{o}{k}8[{u}]" for o in "<>" for k in "Mm" for u in UNITS]
    + ["<M8[10s]", "<m8[25ms]", ">M8[3D]"]
)


@pytest.mark.parametrize("s", VALID)
def test_valid_typestrings_match_numpy(s):
    dt = parse_dtype(s)
    assert dt == np.dtype(s)
    assert dt.str == np.dtype(s).str  # byte order included
    assert parse_dtype(encode_dtype(dt)) == dt


@pytest.mark.parametrize("s", ["|f4", "<i9", "<M8", "<S", "|U5", "=i4", "|S0", "<f16", "<b2", "i4", "<x4", "<M8[xs]", "<i4[ns]", "", "<M8[0s]", ">c4", "|V0", "<u3"])
def test_malformed_typestrings_rejected(s):
    with pytest.raises(DtypeError) as e:
        parse_dtype(s)
    assert repr(s) in str(e.value) or s in str(e.value)


STRUCTURED = [
    [("a", "<i4"), ("b", ">f8")],
    [("a", "<i4"), ("b", "<f8", (2, 3))],
    [("x", "<u2"), ("y", [("p", ">i4"), ("q", "|S3")])],
    [("t", "<M8[ns]"), ("s", "<U3"), ("v", "|V2"), ("m", ">i2", (4,))],
]


@pytest.mark.parametrize("descr", STRUCTURED, ids=range(len(STRUCTURED)))
def test_structured_round_trip(descr):
    expected = np.dtype(descr)
    js = encode_dtype(expected)
    assert isinstance(js, list)
    assert parse_dtype(js) == expected


def test_padding_fields_are_padding_not_fields():
    """numpy's descr writes offset gaps as ('', '|Vn'); reading must restore the same layout, not new fields."""
    dt = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<f8"], "offsets": [0, 8], "itemsize": 24})
    back = parse_dtype(encode_dtype(dt))
    assert back == dt and back.names == ("a", "b") and back.itemsize == 24


@pytest.mark.parametrize("bad", [[], [["a"]], [["a", "<i4"], ["a", "<f8"]], [[1, "<i4"]], [["a", "|f4"]], [["a", "<i4", [-1]]], 5, None])
def test_bad_structured_rejected(bad):
    with pytest.raises(DtypeError):
        parse_dtype(bad)


@pytest.mark.parametrize("s,julia", [
    ("|b1", "Bool"), ("|i1", "Int8"), (">u8", "UInt64"), ("<f2", "Float16"), ("<c8", "ComplexF32"), (">c16", "ComplexF64"),
    ("<M8[ns]", "Datetime64{:ns,1}"), ("<m8[10s]", "Timedelta64{:s,10}"), ("|S7", "FixedBytesString{7}"),
    ("<U5", "FixedUTF32String{5}"), ("|V8", "RawBytes{8}"),
    ([["a", "<i4"], ["b", ">f8", [2]]], "NamedTuple{(:a, :b), Tuple{Int32, NTuple{2, Float64}}}"),
])
def test_julia_type_names(s, julia):
    assert julia_type(parse_dtype(s)) == julia


def test_describe():
    d = describe(">i4")
    assert d == {"typestr": ">i4", "numpy": "dtype('>i4')", "julia": "Int32", "itemsize": 4, "byteorder": "big", "kind": "signed integer"}
    assert describe([["a", "<i4"]])["kind"] == "structured"
