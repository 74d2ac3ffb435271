"""Helpers shared by the test suites, ``make golden`` and ``polyzarr matrix``: value generators, a moto S3
server, and array assertions that say *why* two arrays differ (see ``polyzarr.diagnose``)."""

from __future__ import annotations

from .compare import assert_same
from .moto import MotoServer
from .values import make_objects, make_values

__all__ = ["MotoServer", "assert_same", "make_objects", "make_values"]


def need(what: str, how: str) -> None:
    """In a test: skip saying what to install, except in CI (CI=true), where a missing tool is a failure."""
    import os

    import pytest

    msg = f"{what} is not available: {how}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)
