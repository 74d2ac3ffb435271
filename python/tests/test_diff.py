"""`polyzarr diff` diagnoses crafted mismatches: each kind, several ranks and dtypes.

Every case builds two arrays that differ in one known way (by hand: numpy transposes, byte swaps, views, edited
.zarray files, renamed or deleted chunk files) and checks the verdict names that way.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polyzarr as pz
from polyzarr.diff import diff, load_side
from polyzarr.stores import open_store
from polyzarr.testing import make_values


def write(path: Path, x: np.ndarray, chunks, order="C", sep=".", fill="default", compressor="default") -> Path:
    store = open_store(str(path), "w")
    a = pz.create_array(store, "", x.shape, x.dtype, chunks=chunks, order=order, dimension_separator=sep,
                        fill_value=fill, compressor={"id": "zlib", "level": 1} if compressor == "default" else compressor)
    a[...] = x
    return path


def npy(path: Path, x: np.ndarray) -> Path:
    np.save(path, x)
    return path


def verdict(tmp_path, a, b):
    r = diff(load_side(str(a), "A"), load_side(str(b), "B"))
    return r, r.text()


def edit_zarray(path: Path, **changes) -> None:
    meta = json.loads((path / ".zarray").read_text())
    meta.update(changes)
    (path / ".zarray").write_text(json.dumps(meta))


# ---------------------------------------------------------------------------------------------------------
# Value-level mismatches (.npy on both sides or one)


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 2), (2, 3, 4, 5), (2, 1, 3, 2, 2, 3)], ids=lambda s: f"{len(s)}d")
def test_full_transpose(tmp_path, shape):
    x = make_values("<i4", shape, seed=1)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.T.copy()))
    assert not r.equal and r.diagnosis.kind == "reversed", text
    assert "reversed" in text


@pytest.mark.parametrize("perm", [(1, 2, 0), (2, 0, 1), (0, 2, 1)])
def test_axis_permutation_rank3(tmp_path, perm):
    x = make_values(">f8", (2, 3, 4), seed=2)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.transpose(perm).copy()))
    assert r.diagnosis.kind == "permuted" and f"got = expected.transpose({list(perm)})" in text, text


def test_axis_permutation_rank6(tmp_path):
    x = make_values("<u2", (2, 3, 4, 5, 6, 7), seed=3)
    perm = (5, 0, 3, 1, 4, 2)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.transpose(perm).copy()))
    assert r.diagnosis.kind == "permuted" and str(list(perm)) in text, text


@pytest.mark.parametrize("dtype", ["<i4", ">f8", "<c8", "<u2"])
def test_byte_swapped_values(tmp_path, dtype):
    x = make_values(dtype, (5, 3), seed=4)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.byteswap()))
    assert r.diagnosis.kind == "byteswapped", text


def test_byte_order_ignored(tmp_path):
    """The big-endian bytes read as little-endian: Zarr.jl's v2 bug."""
    x = make_values(">i4", (6,), seed=5)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.view("<i4")))
    assert r.diagnosis.kind == "byteswapped" and "byte order was ignored" in text, text


def test_byte_order_lost_values_right(tmp_path):
    x = make_values(">f8", (3, 2), seed=6)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.astype("<f8")))
    assert r.diagnosis.kind == "dtype-byteorder", text


def test_same_bytes_other_dtype(tmp_path):
    x = make_values("<f4", (4, 4), seed=7)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.view("<i4")))
    assert r.diagnosis.kind == "reinterpreted" and "<i4 instead of <f4" in text, text


def test_wrong_width_strings(tmp_path):
    x = np.array([["ab", "c"], ["", "xyz"]], dtype="<U5")
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.astype("<U3")))
    assert r.diagnosis.kind == "width" and "<U3 instead of <U5" in text, text


def test_wrong_width_integers(tmp_path):
    x = np.arange(12, dtype="<i4").reshape(3, 4)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.reshape(-1).view("<i8")))
    assert r.diagnosis.kind.startswith("width"), text


def test_whole_array_memory_order(tmp_path):
    """F-ordered bytes read as C: same shape, scrambled values."""
    x = make_values("<i2", (3, 4, 5), seed=8)
    scrambled = np.frombuffer(np.asfortranarray(x).tobytes(order="A"), dtype="<i2").reshape(x.shape)
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", scrambled))
    assert r.diagnosis.kind == "layout" and "F-order bytes were read as C" in text, text


def test_first_differing_element(tmp_path):
    x = make_values("<f8", (4, 5, 6), seed=9)
    y = x.copy()
    y[2, 3, 1] = 42.0
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", y))
    assert r.diagnosis.kind == "values" and r.diagnosis.data["first_index"] == (2, 3, 1), text
    assert "Julia index [2, 4, 3]" in text


def test_nan_payload_and_signed_zero(tmp_path):
    x = np.array([0.0, np.nan, 1.0])
    y = np.array([-0.0, np.nan, 1.0])
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", y))
    assert r.diagnosis.kind == "bits", text


def test_struct_field_type(tmp_path):
    x = make_values([["a", "<i4"], ["b", ">f8"]], (5,), seed=10)
    y = x.view(np.dtype([("a", "<i4"), ("b", "<f8")]))
    r, text = verdict(tmp_path, npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", y))
    assert r.diagnosis.kind == "struct" and "field 'b'" in text, text


def test_equal_arrays_exit_zero(tmp_path):
    x = make_values("|S4", (3, 3), seed=11)
    a, b = npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.copy())
    r, _ = verdict(tmp_path, a, b)
    assert r.equal
    exe = Path(sys.executable).parent / "polyzarr"
    assert subprocess.run([str(exe), "diff", str(a), str(b)], capture_output=True).returncode == 0


# ---------------------------------------------------------------------------------------------------------
# Store-level mismatches


def test_order_metadata_only(tmp_path):
    """Same values, C vs F storage: equal, with the metadata difference noted."""
    x = make_values("<f4", (5, 4, 3), seed=12)
    r, text = verdict(tmp_path, write(tmp_path / "a", x, (2, 2, 2)), write(tmp_path / "b", x, (2, 2, 2), order="F"))
    assert r.equal and 'order: A "C", B "F"' in text, text


def test_chunk_bytes_in_the_other_memory_order(tmp_path):
    """F-order chunk bytes under a .zarray that says C: every chunk scrambled; the store check names it."""
    x = make_values("<i4", (4, 6), seed=13)
    a = write(tmp_path / "a", x, (2, 3), order="F")
    b = write(tmp_path / "b", x, (2, 3), order="F")
    edit_zarray(b, order="C")
    r, text = verdict(tmp_path, a, b)
    assert not r.equal and r.diagnosis.kind == "chunk-layout", text
    assert "same bytes are read in the other memory order" in text


def test_missing_chunk_reads_as_fill(tmp_path):
    x = make_values("<f8", (4, 4), seed=14)
    a = write(tmp_path / "a", x, (2, 2), fill="NaN")
    b = write(tmp_path / "b", x, (2, 2), fill="NaN")
    (b / "1.0").unlink()
    r, text = verdict(tmp_path, a, b)
    assert r.diagnosis.kind == "fill" and "(1, 0)" in text, text
    assert "chunks stored in A but not in B" in text and "1.0" in text


def test_fill_value_differs(tmp_path):
    """Missing chunks on both sides, other fill values: the metadata and the fill diagnosis say so."""
    x = np.zeros((4, 4), "<i4")
    x[0, 0] = 5
    a, b = write(tmp_path / "a", x, (2, 2), fill=0), write(tmp_path / "b", x, (2, 2), fill=0)
    edit_zarray(b, fill_value=-1)
    r, text = verdict(tmp_path, a, b)
    assert "fill_value: A 0, B -1" in text and r.diagnosis.kind == "fill", text


def test_separator_mixup(tmp_path):
    """Chunks stored under '/' keys while the .zarray says '.': everything reads as fill."""
    x = make_values("<u4", (4, 4), seed=15)
    a = write(tmp_path / "a", x, (2, 2))
    b = write(tmp_path / "b", x, (2, 2), sep="/")
    edit_zarray(b, dimension_separator=".")
    r, text = verdict(tmp_path, a, b)
    assert not r.equal and "chunk keys use '/'" in text and "declares dimension_separator '.'" in text, text


def test_chunk_keys_reversed(tmp_path):
    """A writer that forgot to reverse the chunk index: chunk (i, j) stored under key 'j.i'."""
    x = make_values("<i8", (4, 4), seed=16)
    a = write(tmp_path / "a", x, (2, 2))
    b = write(tmp_path / "b", x, (2, 2))
    (b / "0.1").rename(b / "tmp")
    (b / "1.0").rename(b / "0.1")
    (b / "tmp").rename(b / "1.0")
    r, text = verdict(tmp_path, a, b)
    assert not r.equal and "grid index is reversed in B's keys" in text, text


def test_chunk_key_named_in_first_difference(tmp_path):
    x = make_values("<f4", (6, 6), seed=17)
    y = x.copy()
    y[5, 4] = -1
    r, text = verdict(tmp_path, write(tmp_path / "a", x, (4, 3), sep="/"), write(tmp_path / "b", y, (4, 3), sep="/"))
    assert "chunk '1/1'" in text, text


def test_json_output(tmp_path):
    x = make_values("<i4", (3, 2), seed=18)
    a, b = npy(tmp_path / "a.npy", x), npy(tmp_path / "b.npy", x.T.copy())
    exe = Path(sys.executable).parent / "polyzarr"
    p = subprocess.run([str(exe), "diff", str(a), str(b), "--json"], capture_output=True, text=True)
    assert p.returncode == 1
    out = json.loads(p.stdout)
    assert out["equal"] is False and out["values"]["kind"] == "reversed"


def test_chunks_in_each_others_places_values_only(tmp_path):
    """Values alone (no store): whole chunks moved to the reversed grid position are recognised."""
    x = make_values("<i2", (4, 6, 6), seed=19)
    y = x.copy()
    c = (2, 3, 3)
    for idx in [(0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 0), (0, 1, 1), (1, 0, 1)]:
        rev = tuple(reversed(idx))
        y[tuple(slice(i * n, (i + 1) * n) for i, n in zip(idx, c))] = x[tuple(slice(i * n, (i + 1) * n) for i, n in zip(rev, c))] \
            if all(r < s // n for r, s, n in zip(rev, x.shape, c)) else y[tuple(slice(i * n, (i + 1) * n) for i, n in zip(idx, c))]
    from polyzarr.diagnose import diagnose

    d = diagnose(y, x, chunks=c)
    assert d.kind == "chunk-placement" and "reversed" in d.summary, str(d)


def test_each_chunk_in_the_other_memory_order_with_edge_chunks():
    """F-order chunk bytes read as C, with partial edge chunks: judged on the whole chunks."""
    from polyzarr.diagnose import diagnose

    x = make_values("<f4", (5, 7), seed=20)
    y = x.copy()
    for i in range(2):
        for j in range(2):
            sel = (slice(2 * i, 2 * i + 2), slice(3 * j, 3 * j + 3))
            y[sel] = x[sel].reshape(-1, order="F").reshape((2, 3), order="C")
    y[4, :] = -1  # the edge row is garbage anyway
    d = diagnose(y, x, chunks=(2, 3))
    assert d.kind == "chunk-layout", str(d)
