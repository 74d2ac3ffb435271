"""Every golden case × writer {python, julia, zarr-python} × reader {same} × store {local, s3, golden}.

Each writer writes the case's values (fresh, on disk and on a moto S3; the golden store is the committed one),
each reader reads them back, and the result must equal the golden expected values bit for bit, dtype and byte
order included. A failure says why (reversed shape, a permutation, byte swap, another dtype, fill where values
were expected, the first differing element). Known gaps (zarr-python's in cases.json, the peers' in
golden/peer_gaps.json) are xfails when they fail the way their rule expects and failures otherwise; a gap that
passes fails the test ("fixed": remove the rule). Peers (zarr 2.18, tensorstore, zarrs, zarrita.js) cross every
implementation on one case per feature group; cells outside a declared capability table are skipped with the
reason, and cells an implementation knowingly cannot do (cases.json "unsupported") skip once they fail with the
expected error.
"""
from __future__ import annotations

import pytest


def test_cell(cell, matrix, batch):
    out = matrix.outcome(cell, batch)
    if out.status == "gap":  # failed exactly as its rule expects
        pytest.xfail(cell.gap or out.message)
    if out.status == "unsupported":  # cases.json "unsupported", failing as expected; or a peer not installed here
        pytest.skip(f"unsupported: {out.message}")
    if out.status != "pass":  # fail, fixed (a gap that now works), works (declared unsupported, but it works)
        pytest.fail(f"{out.status}: {out.message}", pytrace=False)
