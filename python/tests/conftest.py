"""python/tests: the shared fixtures live in the root conftest.py and polyzarr.testing."""
from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", module="zarr")
