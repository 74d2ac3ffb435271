"""Assertions that fail with the reason, not just "not equal"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..diagnose import diagnose


def assert_same(
    got: Any,
    expected: Any,
    what: str = "",
    fill_value: Any = None,
    chunks: Sequence[int] | None = None,
    order: str = "C",
) -> None:
    """Same dtype (byte order included), shape and bits (object arrays: same elements); on failure the message
    says what differs: reversed shape, an axis permutation, byte swap, another dtype, fill where values were
    expected, or the first differing element."""
    d = diagnose(np.asarray(got), np.asarray(expected), fill_value=fill_value, chunks=chunks, order=order)
    if not d.equal:
        raise AssertionError(f"{what}: {d.kind}: {d}" if what else f"{d.kind}: {d}")
