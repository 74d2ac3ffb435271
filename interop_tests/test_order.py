"""C/F order and Julia's axis reversal, checked explicitly.

- On disk: a C-order Zarr array of shape S is a Julia array of size reverse(S); an F-order one has size S; a v3
  array (whatever its transpose codecs) has size reverse(S) (julia_view on every golden case), and xarray's
  _ARRAY_DIMENSIONS / v3 dimension_names come out reversed where the size is.
- Julia's two write conventions: `reverse` (declare C, shape reverse(size(A))) gives Python the .npy array
  back; `F` (declare F, shape size(A)) gives Python its full transpose: the .npy bytes are the same Julia array.
- In memory (the bridge's handoff, as PythonCall presents a numpy array): the Julia array keeps numpy's indices
  (size == shape), so there the conventions swap: `F` gives Python the array, `reverse` its transpose. The
  classic order bug is to mix these two worlds up.
"""
from __future__ import annotations

import numpy as np
import pytest
import zarr

import polyzarr as pz
from polyzarr.interop.cases import default_golden_dir, expected_unsupported_error, unsupported_rule
from polyzarr.testing import assert_same, make_values

GOLDEN = default_golden_dir()
SHAPES = [(5,), (4, 3), (4, 3, 2), (3, 2, 4, 2)]
DTYPES = ["<f8", ">i4", "|u1", "<U3", ">c8", [["a", "<i2"], ["b", ">f4"]]]


def _julia_json(v) -> object:
    """A numpy scalar as the worker reports a Julia value (non-finite floats as Julia prints them)."""
    if isinstance(v, np.floating):
        return float(v) if np.isfinite(v) else {"nan": "NaN", "inf": "Inf", "-inf": "-Inf"}[str(float(v))]
    return int(v)


def dtype_id(d) -> str:
    return d if isinstance(d, str) else "struct"


@pytest.fixture(scope="session")
def julia_views(julia_bridge, session_cases):
    """How Julia sees every golden case (python-written): one batch request."""
    reqs = [("julia_view", {"src": str(GOLDEN / "stores" / "python" / c.slug)}) for c in session_cases]
    return dict(zip((c.slug for c in session_cases), julia_bridge.batch(reqs)))


def test_julia_sees_reversed_size_for_C(case, julia_views):
    v = julia_views[case.slug]
    rule = unsupported_rule(case, "julia", "read")
    if rule is not None:  # cases.json "unsupported": Julia must fail to open it with the expected error
        assert isinstance(v, Exception) and expected_unsupported_error(rule, v), \
            f"{case.id}: expected Julia to fail with {rule['error']}, got {v!r}"
        pytest.skip(f"unsupported: julia cannot read {case.id}: {rule['reason']}")
    assert not isinstance(v, Exception), f"Julia cannot open {case.id}: {v}"
    want = list(reversed(case.shape)) if case.order == "C" else list(case.shape)
    assert v["size"] == want, (f"{case.id}: Julia size {v['size']} for Zarr shape {list(case.shape)} order {case.order}; "
                               f"expected {'reverse(shape)' if case.order == 'C' else 'shape'} = {want}")
    assert v["order"] == case.order
    names = case.dimension_names or (case.attrs or {}).get("_ARRAY_DIMENSIONS")
    if names:  # v3 dimension_names or xarray's attribute, in Julia's axis order
        assert v["dimnames"] == (list(reversed(names)) if case.order == "C" else names)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("convention", ["reverse", "F"])
def test_julia_write_conventions(tmp_path, julia_bridge, convention, dtype, shape):
    """The .npy bytes as the Julia array, written with each convention: Python sees x (reverse) or x.T (F)."""
    x = make_values(dtype, shape, seed=len(shape))
    np.save(tmp_path / "x.npy", x)
    dest = tmp_path / "j.zarr"
    julia_bridge.import_npy(str(tmp_path / "x.npy"), str(dest), chunks=[2] * len(shape), convention=convention)
    expected = x if convention == "reverse" else x.T
    a = pz.open(str(dest))
    assert a.order == ("C" if convention == "reverse" else "F")
    assert_same(a[...], expected, f"polyzarr reading Julia's {convention} write")
    if isinstance(dtype, str):
        assert_same(np.asarray(zarr.open_array(str(dest), mode="r")[...]), expected, f"zarr-python reading Julia's {convention} write")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_handoff_keeps_numpy_indices(julia_bridge, dtype, shape):
    """In memory Julia gets size == shape and A[i+1, j+1, ...] == x[i, j, ...]; handed back, it is x again."""
    x = make_values(dtype, shape, seed=7)
    probes = [tuple(s - 1 for s in shape), tuple(min(1, s - 1) for s in shape), (0,) * len(shape)]
    r = julia_bridge.handoff(x, probes=[[i + 1 for i in p] for p in probes])
    assert r["size"] == list(shape), f"Julia got size {r['size']} for numpy shape {list(shape)} (reversed: the on-disk view leaked in)"
    if isinstance(dtype, str) and x.dtype.kind in "fiu":
        for p, got in zip(probes, r["probes"]):
            assert got == _julia_json(x[p]), f"Julia A{[i + 1 for i in p]} = {got!r}, numpy x{list(p)} = {x[p]!r}"
    assert_same(r["back"], x, "the array handed back from Julia")


@pytest.mark.parametrize("shape", SHAPES[1:], ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("convention", ["F", "reverse"])
def test_handoff_then_write(tmp_path, julia_bridge, convention, shape):
    """Written from memory: F gives Python x (same indices), reverse gives x.T: the opposite of the .npy case."""
    x = make_values("<f4", shape, seed=3)
    dest = tmp_path / "h.zarr"
    julia_bridge.handoff(x, write={"dest": str(dest), "convention": convention, "chunks": [2] * len(shape)})
    expected = x if convention == "F" else x.T
    assert_same(pz.open(str(dest))[...], expected, f"Python reading the handed-off array written with {convention}")
