"""The interop suite: golden cases × writer × reader × store, plus golden, order, bridge and negative checks.

Selecting: markers ``w_<impl>`` / ``r_<impl>`` for writer / reader, impl one of ``python julia zarr_python zarr2
tensorstore zarrs zarrita`` (``peer``: a cell with a peer on either side),
``store_local store_s3 store_golden``, ``fast`` (a small representative subset, local only); ``--pz-case TEXT``
keeps the cases whose id contains TEXT (ids hold ``<``, ``|`` and ``[``, which ``-k`` cannot express).
Examples::

    pytest interop_tests -m "w_julia and r_python and store_s3"
    pytest interop_tests -m fast
    pytest interop_tests --pz-case "<f8-F"
"""
from __future__ import annotations

from collections import defaultdict

import pytest

from polyzarr.interop.cases import codec_names, load_cases
from polyzarr.interop.command import quick_cases
from polyzarr.interop.impls import IMPLS, PEERS
from polyzarr.interop.run import STORES, Cell, Matrix, all_cells
from polyzarr.testing import need

ALL_CASES = load_cases()


def pytest_addoption(parser):
    parser.addoption("--pz-case", action="append", default=[], metavar="TEXT",
                     help="interop suite: only cases whose id contains TEXT (repeatable)")


def selected_cases(config) -> list:
    wanted = config.getoption("--pz-case")
    return [c for c in ALL_CASES if not wanted or any(w in c.id for w in wanted)]


def fast_cases() -> set[str]:
    """A representative subset: every fifth case of each group (both orders, every group)."""
    out, seen = set(), defaultdict(int)
    for c in ALL_CASES:
        if seen[c.group] % 5 == 0:
            out.add(c.id)
        seen[c.group] += 1
    return out


FAST = fast_cases()


def _mark(prefix: str, name: str):
    return getattr(pytest.mark, f"{prefix}_{name.replace('-', '_')}")


# Optional PyPI codec packages (scripts/setup-python.sh installs them where it can): without one, numcodecs (so
# polyzarr and zarr-python) cannot run the codec, and its cases skip with the reason.
OPTIONAL_CODEC_PACKAGES = {"pcodec": "pcodec", "numcodecs.pcodec": "pcodec", "zfpy": "zfpy", "numcodecs.zfpy": "zfpy"}


def missing_codec_package(case) -> str | None:
    import importlib.util

    names = codec_names(case.codecs or []) if case.zarr_format == 3 else \
        {f.get("id") for f in [case.compressor or {}, *case.filters]}
    for n in sorted(n for n in names if n in OPTIONAL_CODEC_PACKAGES):
        if importlib.util.find_spec(OPTIONAL_CODEC_PACKAGES[n]) is None:
            return f"the PyPI package {OPTIONAL_CODEC_PACKAGES[n]!r} ({n}) is not installed (scripts/setup-python.sh)"
    return None


def cell_param(cell: Cell):
    """Known gaps are checked in test_cell (they must fail the way their rule expects); cells outside a declared
    capability table are skipped with the reason."""
    marks = [_mark("w", cell.writer), _mark("r", cell.reader), _mark("store", cell.store)]
    missing = missing_codec_package(cell.case)
    if missing:
        marks.append(pytest.mark.skip(reason=missing))
    if cell.writer in PEERS or cell.reader in PEERS:
        marks.append(pytest.mark.peer)
    if cell.store == "local" and cell.case.id in FAST:
        marks.append(pytest.mark.fast)
    why = cell.unsupported
    if why:
        marks.append(pytest.mark.skip(reason=f"unsupported: {why}"))
    return pytest.param(cell, id=cell.id, marks=marks)


def suite_cells(cases: list) -> list[Cell]:
    """The own three × the own three on every case and store; zarr-python 2.18's golden v2 stores read by the own
    three; every pair with a peer on one case per feature group (the quick set): a representative subset."""
    own = all_cells(cases, writers=IMPLS, readers=IMPLS, stores=STORES)
    zarr2 = all_cells(cases, writers=("zarr2",), readers=IMPLS, stores=("golden",))
    peers = [c for c in all_cells(quick_cases(cases), stores=STORES) if c.writer in PEERS or c.reader in PEERS]
    return own + zarr2 + [c for c in peers if c.writer != "zarr2" or c.reader in PEERS or c.store != "golden"]


def pytest_generate_tests(metafunc):
    if "cell" in metafunc.fixturenames:
        cells = suite_cells(selected_cases(metafunc.config))
        metafunc.parametrize("cell", [cell_param(c) for c in cells])
    elif "case" in metafunc.fixturenames:
        cases = selected_cases(metafunc.config)
        metafunc.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.fast] if c.id in FAST else [])
                                      for c in cases])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Remember, per (writer, reader, store), the cases selected, so each group is written and read once."""
    batches: dict[tuple, list] = defaultdict(list)
    for item in items:
        cell = getattr(item, "callspec", None) and item.callspec.params.get("cell")
        if isinstance(cell, Cell):
            batches[(cell.writer, cell.reader, cell.store)].append(cell.case)
            batches[("write", cell.writer, cell.store)].append(cell.case)
    config._pz_batches = batches


@pytest.fixture(scope="session")
def julia_bridge(request):
    """The Julia bridge of the session (POLYZARR_JULIA=worker|juliacall|auto; auto picks the worker here)."""
    from polyzarr.julia import get_bridge, julia_executable

    if julia_executable() is None:
        need("Julia", "run `make setup` (scripts/install-julia.sh) or set JULIA=/path/to/julia")
    request.getfixturevalue("moto_server")  # the worker inherits the S3 endpoint and credentials
    bridge = get_bridge()
    print(f"\n[interop] Julia bridge: {bridge.name} ({bridge.selection.reason})")
    yield bridge
    bridge.close()


@pytest.fixture(scope="session")
def matrix(request, tmp_path_factory):
    """The session's matrix: writes and reads are shared by all cells (and by the golden checks)."""
    m = Matrix(workdir=tmp_path_factory.mktemp("matrix"),
               bridge_factory=lambda: request.getfixturevalue("julia_bridge"))
    if any(k[-1] == "s3" for k in getattr(request.config, "_pz_batches", {})):
        m.s3_endpoint = request.getfixturevalue("moto_server").endpoint
    request.config._pz_matrix = m
    yield m
    m.close()


@pytest.fixture(scope="session")
def session_cases(request):
    """The cases this session covers (after --pz-case), for batching per-case tests."""
    return selected_cases(request.config)


@pytest.fixture
def batch(request):
    """The cases to write/read together with this item's cell."""
    cell = request.getfixturevalue("cell")
    return request.config._pz_batches.get((cell.writer, cell.reader, cell.store), [cell.case])


def timing_report(m: Matrix) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in sorted(m.timings.items(), key=lambda kv: -kv[1]))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    gaps: dict[str, int] = defaultdict(int)
    for rep in terminalreporter.stats.get("xfailed", []):
        gaps[getattr(rep, "wasxfail", "") or "?"] += 1
    if gaps:
        terminalreporter.write_line(f"[interop] known gaps reproduced as their rules expect ({sum(gaps.values())} cells, xfail):")
        for reason, n in sorted(gaps.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"  {n:4d} × {reason}")
    unsupported: dict[str, int] = defaultdict(int)
    for rep in terminalreporter.stats.get("skipped", []):
        msg = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else ""
        if "unsupported: " in msg:
            unsupported[msg.split("unsupported: ", 1)[1].split(" (", 1)[0]] += 1
    if unsupported:
        terminalreporter.write_line(f"[interop] unsupported cells, failing with the expected error "
                                    f"({sum(unsupported.values())} cells, skipped):")
        for reason, n in sorted(unsupported.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"  {n:4d} × {reason}")
    m = getattr(config, "_pz_matrix", None)
    if m is not None and m.timings:
        terminalreporter.write_line(f"[interop] time by stage: {timing_report(m)}")
        w = getattr(m._bridge, "worker", None)
        if w is not None and w.startup_seconds:
            terminalreporter.write_line(f"[interop] Julia worker start-up: {', '.join(f'{s:.1f}s' for s in w.startup_seconds)}")

