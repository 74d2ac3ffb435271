"""Every golden case × writer {python, julia, zarr-python} × reader {same} × store {local, s3, golden}.

Each writer writes the case's values (fresh, on disk and on a moto S3; the golden store is the committed one),
each reader reads them back, and the result must equal the golden expected values bit for bit, dtype and byte
order included. A failure says why (reversed shape, a permutation, byte swap, another dtype, fill where values
were expected, the first differing element). Known zarr-python gaps are strict xfails (cases.json); cells an
implementation knowingly cannot do (cases.json "unsupported") skip once they fail with the expected error.
"""
from __future__ import annotations

import pytest


def test_cell(cell, matrix, batch):
    out = matrix.outcome(cell, batch)
    if out.status == "unsupported":  # failed with exactly the error the case list's "unsupported" rule expects
        pytest.skip(f"unsupported: {out.message}")
    if out.status not in ("pass", "fixed"):
        pytest.fail(out.message, pytrace=False)
