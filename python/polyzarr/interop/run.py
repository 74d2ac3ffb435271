"""The interop matrix: cells ``writer × reader × case × store`` and their verdicts.

Work is shared between cells: each (writer, store) writes its cases once, each (writer, reader, store) reads
them once (Julia in one batch/export round trip), and every cell then compares one array with the golden
expected values (``diagnose`` says what differs). Used by the pytest suite (interop_tests/) and by
``polyzarr matrix``.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..diagnose import Diagnosis, diagnose
from .cases import Case, default_golden_dir, expected_unsupported_error, expected_values, unsupported_rule
from .gaps import GapRule, gap_outcome, peer_gap_rules
from .impls import (
    ALL_IMPLS,
    ARCHIVED_WRITERS,
    CAPABILITIES,
    GOLDEN_WRITERS,
    PEERS,
    JuliaImpl,
    Place,
    PythonImpl,
    ReadFailure,
    ZarrPythonImpl,
    _failure,
    make_peer,
)


def native_order(a: np.ndarray) -> np.ndarray:
    """``a`` with every field in native byte order (values unchanged)."""

    def native(dt: np.dtype) -> np.dtype:
        if dt.fields is not None:
            return np.dtype(
                {
                    "names": list(dt.names),
                    "formats": [native(dt.fields[n][0]) for n in dt.names],
                    "offsets": [dt.fields[n][1] for n in dt.names],
                    "itemsize": dt.itemsize,
                }
            )
        if dt.subdtype is not None:
            return np.dtype((native(dt.subdtype[0]), dt.subdtype[1]))
        return dt.newbyteorder("=") if dt.byteorder in "<>" else dt

    return a if a.dtype.kind == "O" else a.astype(native(a.dtype))


@dataclass(frozen=True)
class Cell:
    writer: str
    reader: str
    store: str
    case: Case

    @property
    def id(self) -> str:
        return f"W-{self.writer}_R-{self.reader}-{self.case.id}-{self.store}"

    @property
    def gap(self) -> str | None:
        """Why this cell is a known zarr-python failure (from the case list), or None."""
        zp = self.case.zarr_python
        # the golden stores are what the zarr-python named in the manifest wrote, not the installed one
        written = self.case.zarr_python_golden if self.store == "golden" else zp
        if self.writer == "zarr-python" and written.get("write"):
            return f"zarr-python cannot write this: {written['write']}"
        if self.reader == "zarr-python" and zp.get("read") and self.writer in zp.get("writers", (self.writer,)):
            return f"zarr-python cannot read this: {zp['read']}"
        rule = self.peer_gap
        return rule.describe() if rule else None

    @property
    def gap_rule(self) -> GapRule | None:
        """The known-gap rule of this cell with the failure it expects (zarr-python rules and peer rules)."""
        rules = self.gap_rules
        return rules[0] if rules else None

    @property
    def gap_rules(self) -> list[GapRule]:
        """Every rule that applies: the writer's (op write) first, then the reader's (op read)."""
        zp = self.case.zarr_python
        # the golden stores are what the zarr-python named in the manifest wrote, not the installed one
        written = self.case.zarr_python_golden if self.store == "golden" else zp
        out = []
        if self.writer == "zarr-python" and written.get("write"):
            out.append(GapRule.from_zarr_python(written, "write"))
        if self.reader == "zarr-python" and zp.get("read") and self.writer in zp.get("writers", (self.writer,)):
            out.append(GapRule.from_zarr_python(zp, "read"))
        out += [r for r in peer_gap_rules() if r.matches(self)]
        return sorted(out, key=lambda r: r.op != "write")

    def rule_for(self, out: Outcome) -> GapRule | None:
        """The rule that judges ``out``: a failed write is the writer's, anything later the reader's (or, for data
        a writer got silently wrong, the writer's)."""
        rules = self.gap_rules
        if not rules:
            return None
        if out.stage == "write":
            return next((r for r in rules if r.op == "write"), None)
        return next((r for r in rules if r.op == "read"), rules[0])

    @property
    def unsupported(self) -> str | None:
        """Why this cell is outside the writer's or the reader's declared capabilities, or None."""
        return unsupported_reason(self.writer, self.reader, self.store, self.case)

    @property
    def peer_gap(self) -> GapRule | None:
        return peer_gap_for(self)

    def unsupported_rule(self, stage: str) -> dict | None:
        """The cases.json "unsupported" rule for this cell's writer ("write") or reader ("read"), or None: the
        cell runs and must fail with the rule's error (unlike a capability table's cells, which do not run)."""
        return unsupported_rule(self.case, self.writer if stage == "write" else self.reader, stage)


@functools.cache
def unsupported_reason(writer: str, reader: str, store: str, case: Case) -> str | None:
    why = CAPABILITIES[writer].check(case, "write", store) if writer in CAPABILITIES else None
    if why:
        return f"{writer} {why}"
    why = CAPABILITIES[reader].check(case, "read", store) if reader in CAPABILITIES else None
    return f"{reader} {why}" if why else None


@functools.cache
def hard_unsupported(writer: str, reader: str, store: str, case: Case) -> bool:
    """Outside a table for a reason no probe can test (another format or store, not a writer)."""
    return (writer in CAPABILITIES and CAPABILITIES[writer].hard(case, "write", store)) or (
        reader in CAPABILITIES and CAPABILITIES[reader].hard(case, "read", store)
    )


@functools.cache
def peer_gap_for(cell: Cell) -> GapRule | None:
    return next((r for r in peer_gap_rules() if r.matches(cell)), None)


@dataclass
class Outcome:
    # "pass" | "fail" | "gap" (known gap, reproduced as expected) | "fixed" (gap no longer reproduces) |
    # "unsupported" (outside a declared capability table, not run; or a cases.json "unsupported" rule, run and
    # failing with the expected error) | "works" (declared unsupported, but it works)
    status: str
    message: str = ""
    stage: str = ""  # "write" | "read" | "compare"
    diagnosis: Diagnosis | None = None
    expected: dict | None = None  # gap cells: the failure the rule expects
    observed: dict | None = None  # gap cells: the failure seen

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "gap", "unsupported")


STORES = ("local", "s3", "golden")  # fresh writes on disk, fresh writes on S3, the committed golden stores


def sample_cases(cases: Iterable[Case], every: int = 5) -> set[str]:
    """A representative subset: every ``every``-th case of each feature group (the suite's ``fast`` set)."""
    out, seen = set(), {}
    for c in cases:
        if seen.get(c.group, 0) % every == 0:
            out.add(c.id)
        seen[c.group] = seen.get(c.group, 0) + 1
    return out


def all_cells(
    cases: Iterable[Case],
    writers: Sequence[str] = ALL_IMPLS,
    readers: Sequence[str] = ALL_IMPLS,
    stores: Sequence[str] = STORES,
    s3_sample: bool = False,
) -> list[Cell]:
    """Every combination; the golden store only for writers with committed stores (zarr 2.18: its v2 cases that
    existed when its stores were written; scripts/golden-zarr2.sh writes the rest).

    With ``s3_sample``, S3 runs a sample of each feature group (``sample_cases``): S3 checks the transport, which
    the sample covers, and moto is the bottleneck. A pair with a peer runs every fifth case, the own three every
    second (``make test`` runs every case of the own three on S3; ``--s3-cases all`` here)."""
    cases = list(cases)
    sample = sample_cases(cases) if s3_sample else set()
    own_sample = sample_cases(cases, every=2) if s3_sample else set()
    zarr2_golden = _archived("zarr2") if "zarr2" in writers else set()
    return [
        Cell(w, r, s, c)
        for c in cases
        for s in stores
        for w in writers
        for r in readers
        if (w not in ARCHIVED_WRITERS or (s == "golden" and c.zarr_format == 2))
        and (s != "golden" or (w in GOLDEN_WRITERS and (w != "zarr2" or c.slug in zarr2_golden)))
        and (not s3_sample or s != "s3" or c.id in (sample if w in PEERS or r in PEERS else own_sample))
    ]


def _archived(writer: str) -> set[str]:
    """The slugs a writer's archived golden stores cover (golden/<writer>.json: zarr 2.18's v2 stores)."""
    import json

    f = default_golden_dir() / f"{writer}.json"
    return set(json.loads(f.read_text())["cases"]) if f.exists() else set()


@dataclass
class Matrix:
    """Runs cells; ``bridge_factory`` makes the Julia bridge on first use, ``s3_endpoint`` is a running S3."""

    golden_dir: Path = field(default_factory=default_golden_dir)
    workdir: Path | None = None
    bridge_factory: Callable[[], Any] | None = None
    s3_endpoint: str | None = None
    s3_bucket: str | None = None  # s3://name; created on first use when None
    timings: dict = field(default_factory=dict)
    probe: bool = False  # run cells outside a declared table too: "works" when they pass (the table is too narrow)

    def __post_init__(self) -> None:
        self._own_workdir = self.workdir is None
        self.workdir = Path(self.workdir or tempfile.mkdtemp(prefix="polyzarr-matrix-"))
        self._impls: dict[str, Any] = {}
        self._places: dict[str, Place] = {}
        self._values: dict[str, np.ndarray] = {}
        self._expected: dict[str, np.ndarray] = {}
        self._written: dict[tuple[str, str], dict[str, Exception | None]] = {}
        self._read: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._bridge: Any = None
        self._golden_errors: dict[tuple[str, str], str] | None = None
        self._unavailable: dict[str, str] = {}
        self._lock = threading.RLock()  # guards the shared caches when lanes run in threads

    # -- resources ------------------------------------------------------------------------------------------
    def bridge(self) -> Any:
        with self._lock:
            return self._make_bridge()

    def _make_bridge(self) -> Any:
        if self._bridge is None:
            if self.bridge_factory is None:
                from ..julia import get_bridge

                self.bridge_factory = get_bridge
            self._bridge = self.bridge_factory()
        return self._bridge

    def impl(self, name: str) -> Any:
        with self._lock:
            return self._make_impl(name)

    def _make_impl(self, name: str) -> Any:
        if name not in self._impls:
            if name in PEERS:
                try:
                    self._impls[name] = make_peer(name, self.golden_dir / "cases.json")
                except Exception as e:  # not installed: its cells fail at the write/read with this reason
                    self._unavailable[name] = f"{name} is not available: {e}"
                    raise
                return self._impls[name]
            self._impls[name] = (
                {"python": PythonImpl, "zarr-python": ZarrPythonImpl}[name]()
                if name != "julia"
                else JuliaImpl(self.bridge())
            )
        return self._impls[name]

    def unavailable(self, name: str) -> str | None:
        """Why a peer cannot run here (not installed), or None; tries to start it once."""
        if name not in PEERS:
            return None
        with self._lock:
            if name not in self._impls and name not in self._unavailable:
                try:
                    self._make_impl(name)
                except Exception:
                    pass
            return self._unavailable.get(name)

    def place(self, store: str) -> Place:
        with self._lock:
            return self._make_place(store)

    def _make_place(self, store: str) -> Place:
        if store not in self._places:
            if store == "local":
                self._places[store] = Place("local", str(self.workdir / "local"))
            elif store == "golden":  # the committed stores: read, never written
                self._places[store] = Place("local", str(self.golden_dir / "stores"))
            elif store == "s3":
                if not self.s3_endpoint:
                    raise RuntimeError("the s3 store needs a running S3 endpoint (moto_server)")
                if not self.s3_bucket:
                    import boto3

                    name = f"pz-matrix-{int(time.time() * 1000) % 10**9}"
                    boto3.client(
                        "s3",
                        endpoint_url=self.s3_endpoint,
                        region_name="us-east-1",
                        aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                    ).create_bucket(Bucket=name)
                    self.s3_bucket = f"s3://{name}"
                self._places[store] = Place("s3", self.s3_bucket, self.s3_endpoint)
            else:
                raise ValueError(f"unknown store {store!r} (one of {', '.join(STORES)})")
        return self._places[store]

    def values(self, case: Case) -> np.ndarray:
        if case.slug not in self._values:
            self._values[case.slug] = case.generate()
        return self._values[case.slug]

    def expected(self, case: Case) -> np.ndarray:
        """The golden expected values (interop_tests/golden/expected/<slug>.npy), or computed when absent."""
        if case.slug not in self._expected:
            f = self.golden_dir / "expected" / f"{case.slug}.npy"
            self._expected[case.slug] = (
                np.load(f, allow_pickle=False) if f.exists() else expected_values(case, self.values(case))
            )
        return self._expected[case.slug]

    def _clock(self, what: str, t0: float) -> None:
        with self._lock:
            self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - t0

    # -- the work -------------------------------------------------------------------------------------------
    def ensure_written(self, writer: str, store: str, cases: Iterable[Case]) -> dict[str, Exception | None]:
        done = self._written.setdefault((writer, store), {})
        todo = [c for c in cases if c.slug not in done]
        if not todo:
            return done
        t0 = time.perf_counter()
        place = self.place(store)
        if store == "golden":
            recorded = self._manifest_errors()
            for c in todo:
                there = (Path(place.root) / writer / c.slug).is_dir()
                why = recorded.get((c.slug, writer))
                done[c.slug] = (
                    None
                    if there
                    else ReadFailure(*why.split(": ", 1))
                    if why and ": " in why
                    else ReadFailure(
                        "Missing", f"{writer}'s store of {c.id} is not in the golden set (run `make golden`)"
                    )
                )
            return done
        if writer in ARCHIVED_WRITERS:
            for c in todo:
                done[c.slug] = ReadFailure("Missing", f"{ARCHIVED_WRITERS[writer]} wrote only the golden stores")
            return done
        impl = self.impl(writer)
        if hasattr(impl, "write_many"):
            wrote = impl.write_many([(c, self.values(c), place.url(writer, c)) for c in todo], place)
            done.update({slug: None if e is None else _failure(e) for slug, e in wrote.items()})
        else:
            for c in todo:
                try:
                    impl.write(c, self.values(c), place, place.url(writer, c))
                    done[c.slug] = None
                except Exception as e:
                    done[c.slug] = _failure(e)
        self._clock(f"write {writer} {store}", t0)
        return done

    def _manifest_errors(self) -> dict[tuple[str, str], str]:
        """(slug, writer) → the write error manifest.json records for a golden store that was not written."""
        if self._golden_errors is None:
            import json

            f = self.golden_dir / "manifest.json"
            doc = json.loads(f.read_text()) if f.exists() else {"cases": {}}
            self._golden_errors = {
                (slug, w): e["error"]
                for slug, entry in doc["cases"].items()
                for w, e in entry.get("stores", {}).items()
                if "error" in e
            }
        return self._golden_errors

    def ensure_read(self, writer: str, reader: str, store: str, cases: Iterable[Case]) -> dict[str, Any]:
        cases = list(cases)
        written = self.ensure_written(writer, store, cases)
        done = self._read.setdefault((writer, reader, store), {})
        todo = [c for c in cases if c.slug not in done and written.get(c.slug) is None]
        if todo:
            t0 = time.perf_counter()
            scratch = self.workdir / "scratch" / f"{writer}-{reader}-{store}"
            scratch.mkdir(parents=True, exist_ok=True)
            done.update(self.impl(reader).read_all(todo, self.place(store), writer, scratch))
            self._clock(f"read {reader} {store}", t0)
        return done

    def outcome(self, cell: Cell, cases: Iterable[Case] | None = None) -> Outcome:
        """The verdict for one cell; ``cases`` is the batch to write/read with it (default: just its case).

        A cell outside the declared capabilities is ``unsupported`` (not run); a known gap must fail the way its
        rule expects (``gap``), otherwise it is a failure; a gap that passes is ``fixed``."""
        for name in (cell.writer, cell.reader):
            why = self.unavailable(name)
            if why:
                return Outcome("unsupported", why, "setup")
        why = cell.unsupported
        if why and (not self.probe or hard_unsupported(cell.writer, cell.reader, cell.store, cell.case)):
            return Outcome("unsupported", why, "capabilities")
        skip = hard_unsupported if self.probe else unsupported_reason
        batch = [
            c
            for c in (cases if cases is not None else [cell.case])
            if not skip(cell.writer, cell.reader, cell.store, c)
        ]
        if cell.case not in batch:
            batch.append(cell.case)
        out = self._run_cell(cell, batch)
        if why:  # a probe of a cell outside the table
            if out.status == "pass":
                return Outcome("works", f"declared unsupported ({why}) but it works: widen the capability table")
            return Outcome("unsupported", f"{why} (probed: {out.message.splitlines()[0][:200]})", "capabilities")
        if out.status in ("unsupported", "fixed"):  # judged by a cases.json "unsupported" rule
            return out
        rule = cell.rule_for(out)
        if rule is not None:
            return gap_outcome(rule, out)
        return out

    def _run_cell(self, cell: Cell, batch: list[Case]) -> Outcome:
        write_err = self.ensure_written(cell.writer, cell.store, batch).get(cell.case.slug)
        got: Any = None
        if write_err is not None:
            out = Outcome("fail", f"{cell.writer} failed to write: {write_err}", "write")
        else:
            got = self.ensure_read(cell.writer, cell.reader, cell.store, batch).get(cell.case.slug)
            if isinstance(got, ReadFailure):
                out = Outcome("fail", f"{cell.reader} failed to read {cell.writer}'s store: {got}", "read")
            elif got is None:
                out = Outcome("fail", f"{cell.reader} returned nothing", "read")
            else:
                expected = self.expected(cell.case)
                if cell.case.zarr_format == 3:  # a v3 data type has no byte order: compare the values
                    got, expected = native_order(got), native_order(expected)
                d = diagnose(
                    got,
                    expected,
                    fill_value=cell.case.fill_scalar
                    if cell.case.fill_json is not None and cell.case.np_dtype.kind != "O"
                    else None,
                    chunks=None if cell.case.rectilinear else cell.case.chunks,
                    order=cell.case.order,
                )
                out = Outcome("pass", "", "compare", d) if d.equal else Outcome("fail", f"{d.kind}: {d}", "compare", d)
        for stage in ("write", "read"):
            rule = cell.unsupported_rule(stage)
            if rule is None:
                continue
            who = cell.writer if stage == "write" else cell.reader
            err = write_err if stage == "write" else (got if isinstance(got, ReadFailure) else None)
            if stage == "read" and write_err is not None:
                continue  # the write failed first: judged above (or a plain failure)
            if err is not None and out.stage == stage and expected_unsupported_error(rule, err):
                return Outcome("unsupported", f"{who} cannot {stage} this: {rule['reason']} ({err})", stage)
            if out.status == "pass":
                return Outcome(
                    "fixed", f"unsupported cell works - remove the rule ({who} {stage}: {rule['reason']})", stage
                )
            return Outcome("fail", f"{out.message} (expected {who} to fail with {rule['error']})", out.stage)
        return out

    def run(
        self, cells: Sequence[Cell], progress: Callable[[Cell, Outcome], None] | None = None, jobs: int = 1
    ) -> list[tuple[Cell, Outcome]]:
        """Every cell, grouped so writes and reads are batched; ``progress`` is called after each cell.

        With ``jobs`` > 1, lanes (one writer on one store, then each reader) run in that many threads: lanes share
        nothing but the Julia bridge (which serialises its requests) and the caches (guarded)."""
        lanes: dict[tuple[str, str], dict[str, list[Cell]]] = {}
        for c in cells:
            lanes.setdefault((c.writer, c.store), {}).setdefault(c.reader, []).append(c)
        results: dict[Cell, Outcome] = {}

        def lane(key: tuple[str, str]) -> None:
            for reader in sorted(lanes[key]):
                group = lanes[key][reader]
                batch = [c.case for c in group]
                for c in group:
                    results[c] = self.outcome(c, batch)
                    if progress:
                        with self._lock:
                            progress(c, results[c])

        order = sorted(lanes, key=lambda k: (k[1] != "s3", k[0] != "julia", k))  # slow lanes first
        if jobs <= 1:
            for key in order:
                lane(key)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="polyzarr-matrix") as pool:
                for f in [pool.submit(lane, key) for key in order]:
                    f.result()
        return [(c, results[c]) for c in cells]

    def close(self) -> None:
        for place in self._places.values():
            place.close()
        for impl in self._impls.values():
            if hasattr(impl, "close"):
                impl.close()
        if self._bridge is not None:
            self._bridge.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
