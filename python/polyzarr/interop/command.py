"""``polyzarr matrix``: run the whole interop matrix with a live progress bar, print the summary, write reports.

Starts its own moto S3 server (unless ``--s3-endpoint`` names one) and the Julia bridge; exit status 0 when every
cell passes (known zarr-python gaps included), 1 otherwise.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cases import load_cases
from .impls import ALL_IMPLS, PEERS
from .report import Report
from .run import STORES, Matrix, all_cells


def add_arguments(p: Any) -> None:
    p.add_argument(
        "--writers",
        default=",".join(ALL_IMPLS),
        help=f"comma-separated, from {','.join(ALL_IMPLS)} (zarr2: zarr-python 2.18, its own venv)",
    )
    p.add_argument("--readers", default=",".join(ALL_IMPLS), help=f"comma-separated, from {','.join(ALL_IMPLS)}")
    p.add_argument("--stores", default=",".join(STORES), help=f"comma-separated, from {','.join(STORES)}")
    p.add_argument(
        "--case", action="append", default=[], metavar="TEXT", help="only cases whose id contains TEXT (repeatable)"
    )
    p.add_argument("--case-id", action="append", default=[], metavar="ID", help="only the case with exactly this id")
    p.add_argument("--quick", action="store_true", help="one case per feature group (the quick matrix)")
    p.add_argument(
        "--probe",
        action="store_true",
        help="also run cells outside the declared capability tables (a pass is 'works': widen the table)",
    )
    p.add_argument(
        "--s3-cases",
        choices=("sample", "all"),
        default="sample",
        help="S3 cells: a sample of each group (default; every fifth case for pairs with a peer, every second for "
        "the own three) or every case (all)",
    )
    p.add_argument("--jobs", type=int, default=1, help="run writer/store lanes in N threads (default 1)")
    p.add_argument(
        "--out", default="reports", help="directory for matrix.json/html/png and junit.xml (default reports)"
    )
    p.add_argument("--s3-endpoint", default=None, help="use this S3 endpoint instead of starting moto_server")
    p.add_argument("--golden-dir", default=None, help="default: interop_tests/golden of this checkout")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar (plain log lines)")


def quick_cases(cases: list) -> list:
    """One case per feature group: the first of each group (file order)."""
    seen: set[str] = set()
    out = []
    for c in cases:
        if c.group not in seen:
            seen.add(c.group)
            out.append(c)
    return out


def _split(text: str, allowed: Sequence[str], what: str) -> list[str]:
    out = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in out if x not in allowed]
    if bad or not out:
        raise SystemExit(f"polyzarr matrix: unknown {what} {bad or text!r} (choose from {', '.join(allowed)})")
    return out


def versions(m: Matrix, writers: list[str], readers: list[str]) -> dict:
    import numcodecs
    import numpy as np

    from .. import __version__

    v: dict[str, Any] = {
        "polyzarr": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numcodecs": numcodecs.__version__,
    }
    if "zarr-python" in writers + readers:
        v["zarr-python"] = m.impl("zarr-python").version
    for name in PEERS:
        if name in writers + readers:
            why = m.unavailable(name)
            v[name] = why or m.impl(name).version
    if "julia" in writers + readers:
        try:
            b = m.bridge()
            v["julia"] = b.ping().get("julia")
            v["julia bridge"] = b.name
        except Exception as e:
            v["julia"] = f"unavailable: {e}"
    return v


def run(args: Any, argv: Sequence[str]) -> int:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # logs (CI, make matrix | tee): wide enough for the whole table
        console = Console(width=max(console.width, 150))
    writers = _split(args.writers, ALL_IMPLS, "writer")
    readers = _split(args.readers, ALL_IMPLS, "reader")
    stores = _split(args.stores, STORES, "store")
    cases = load_cases(Path(args.golden_dir) / "cases.json" if args.golden_dir else None)
    if args.case:
        cases = [c for c in cases if any(t in c.id for t in args.case)]
    if args.case_id:
        cases = [c for c in cases if c.id in args.case_id]
    if args.quick:
        cases = quick_cases(cases)
    cells = all_cells(cases, writers, readers, stores, s3_sample=args.s3_cases == "sample" and not args.quick)
    if not cells:
        console.print("polyzarr matrix: no cells selected")
        return 2
    server = None
    endpoint = args.s3_endpoint
    if "s3" in stores and not endpoint:
        from ..testing import MotoServer

        server = MotoServer().start()
        os.environ.update(server.environ())
        endpoint = server.endpoint
    elif endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        _wait_for(endpoint, console)
    kw = {"golden_dir": Path(args.golden_dir)} if args.golden_dir else {}
    m = Matrix(s3_endpoint=endpoint, probe=args.probe, **kw)
    try:
        t0 = time.perf_counter()
        v = versions(m, writers, readers)
        console.print(
            f"[bold]polyzarr matrix[/]: {len(cells)} cells = {len(cases)} cases × {len(writers)} writers × "
            f"{len(readers)} readers × {len(stores)} stores ({', '.join(f'{k} {x}' for k, x in v.items())})"
        )
        results = _run_with_progress(m, cells, console, args.no_progress or not console.is_terminal, args.jobs)
        elapsed = time.perf_counter() - t0
        report = Report(
            results, elapsed, v, "polyzarr matrix " + " ".join(shlex.quote(a) for a in argv), dict(m.timings)
        )
        for table in [*report.pair_tables(), *report.rich_tables(), report.impl_table()]:
            console.print(table)
        console.print(report.headline())
        console.print(
            "by store: " + ", ".join(f"{s} {report.by_store[s].ok}/{report.by_store[s].total}" for s in report.stores)
        )
        for c, o in results:
            if o.status in ("fail", "fixed", "works"):
                console.print(
                    f"[red]FAIL[/] {c.id}: {o.message.splitlines()[0] if o.message else o.status}", soft_wrap=True
                )
        paths = report.write(Path(args.out))
        console.print(
            f"{len(cells)} cells in {elapsed:.1f} s ({report.cells_per_second:.0f} cells/s); reports: "
            + ", ".join(str(p) for p in paths.values())
        )
        return 0 if report.ok else 1
    finally:
        m.close()
        if server is not None:
            server.stop()


def _wait_for(endpoint: str, console: Any, seconds: float = 60.0) -> None:
    """An S3 service started next to us (compose) may take a moment: wait until it answers at all."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered (S3 says 403/404 to an anonymous GET /)
        except OSError as e:
            if time.monotonic() > deadline:
                raise SystemExit(f"polyzarr matrix: no S3 service at {endpoint} after {seconds:.0f} s ({e})") from None
            console.print(f"waiting for S3 at {endpoint} …")
            time.sleep(2)


def _run_with_progress(m: Matrix, cells: list, console: Any, plain: bool, jobs: int) -> list:
    done = {"n": 0, "bad": 0}
    if plain:
        step = max(1, len(cells) // 20)

        def progress(cell: Any, outcome: Any) -> None:
            done["n"] += 1
            done["bad"] += outcome.status in ("fail", "fixed", "works")
            if done["n"] % step == 0 or done["n"] == len(cells):
                console.print(
                    f"  {done['n']}/{len(cells)} cells, {done['bad']} failing ({cell.writer}→{cell.reader} {cell.store})"
                )

        return m.run(cells, progress, jobs=jobs)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[lane]}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("cells", total=len(cells), lane="")

        def progress(cell: Any, outcome: Any) -> None:
            done["bad"] += outcome.status in ("fail", "fixed", "works")
            bar.update(
                task,
                advance=1,
                lane=f"{cell.writer}→{cell.reader} {cell.store}"
                + (f"  [red]{done['bad']} failing[/]" if done["bad"] else ""),
            )

        return m.run(cells, progress, jobs=jobs)


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main

    sys.exit(main(["matrix", *sys.argv[1:]]))
