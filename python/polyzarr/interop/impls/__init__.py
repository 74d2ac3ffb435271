"""The implementations the matrix crosses, one module each, behind one contract:

- ``name``, ``version``;
- ``write(case, values, place, url)`` (or ``write_many`` for a batch), ``read_all(cases, place, writer, scratch)``
  → slug → values (numpy, logical order, the exact dtype; object arrays in ``.npy`` form) or a ``ReadFailure``;
- a declared capability table (``tables.CAPABILITIES``, ``capabilities.py``).

Own: polyzarr (``python``), PolyZarr.jl (``julia``, through the bridge), zarr-python 3.4 (``zarr-python``, the
oracle). Peers (``peers.py``): zarr-python 2.18 (``zarr2``), ``tensorstore``, ``zarrs`` (zarrs-python) and
``zarrita`` (zarrita.js).
"""

from __future__ import annotations

from .base import Place, ReadFailure, _failure, env_flag, fill_for_zarr_python, normalize
from .capabilities import Capabilities, Limit, Support, features
from .julia import JuliaImpl
from .python import PythonImpl
from .tables import CAPABILITIES
from .zarr_python import ZarrPythonImpl

IMPLS = ("python", "julia", "zarr-python")  # the own three: they write the golden stores (make golden)
PEERS = ("zarr2", "tensorstore", "zarrs", "zarrita")
ALL_IMPLS = IMPLS + PEERS
# Writers with committed golden stores (golden/stores/<writer>): the own three, and zarr 2.18's v2 stores
GOLDEN_WRITERS = (*IMPLS, "zarr2")
# Writers whose stores exist only in the golden set (none since zarr 2.18 is a live peer); kept for callers
ARCHIVED_WRITERS: dict[str, str] = {}

__all__ = [
    "ALL_IMPLS",
    "ARCHIVED_WRITERS",
    "CAPABILITIES",
    "GOLDEN_WRITERS",
    "IMPLS",
    "PEERS",
    "Capabilities",
    "JuliaImpl",
    "Limit",
    "Place",
    "PythonImpl",
    "ReadFailure",
    "Support",
    "ZarrPythonImpl",
    "_failure",
    "env_flag",
    "features",
    "fill_for_zarr_python",
    "make_peer",
    "normalize",
]


def make_peer(name: str, cases_path: object) -> object:
    """A peer's adapter (raises with the reason when it is not installed)."""
    from pathlib import Path

    from . import peers

    if name == "tensorstore":
        return peers.tensorstore_impl(Path(str(cases_path)))
    if name == "zarrs":
        return peers.zarrs_impl(Path(str(cases_path)))
    if name == "zarr2":
        return peers.zarr2_impl(Path(str(cases_path)))
    if name == "zarrita":
        return peers.ZarritaImpl()
    raise ValueError(f"unknown peer {name!r}")
