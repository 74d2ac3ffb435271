"""The matrix report: a terminal table, ``matrix.json``, a self-contained ``matrix.html``, ``junit.xml`` and a
heatmap ``matrix.png``, all from one list of (cell, outcome).

Rows are writer → reader pairs, columns feature groups (the case list's groups); a cell counts pass/total over
its cases and stores. Known zarr-python gaps count as passing cells of their own kind (``gap``); ``fixed`` (a gap
that no longer reproduces) and ``fail`` make the run fail.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import shlex
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .impls import ALL_IMPLS, CAPABILITIES
from .run import Cell, Outcome

# unsupported: outside a declared capability table (not run, never a failure); works: declared unsupported but it
# passed (widen the table: counts as failing, like a fixed gap)
STATUSES = ("pass", "gap", "fail", "fixed", "unsupported", "works")
ARROW = "→"


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    def add(self, status: str) -> None:
        self.counts[status] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> int:
        return self.counts["pass"] + self.counts["gap"]

    @property
    def failed(self) -> int:
        return self.counts["fail"] + self.counts["fixed"] + self.counts["works"]

    @property
    def ran(self) -> int:
        """Cells that ran (everything but unsupported)."""
        return self.total - self.counts["unsupported"]

    @property
    def rate(self) -> float:
        return self.ok / self.ran if self.ran else 1.0


def row_key(cell: Cell) -> str:
    return f"{cell.writer}{ARROW}{cell.reader}"


def column_key(cell: Cell) -> str:
    """The feature group (v3 groups are named v3_*: the format version is a dimension of the columns)."""
    return cell.case.group


def repro(cell: Cell) -> str:
    """The command that reruns just this cell (``--case-id``: exactly this case, not every id containing it)."""
    return (
        f"polyzarr matrix --writers {cell.writer} --readers {cell.reader} --stores {cell.store} "
        f"--case-id {shlex.quote(cell.case.id)}"
    )


def pytest_repro(cell: Cell) -> str:
    marks = f"w_{cell.writer.replace('-', '_')} and r_{cell.reader.replace('-', '_')} and store_{cell.store}"
    return f"make test PYTEST_ARGS=\"interop_tests/test_matrix.py -m '{marks}' --pz-case '{cell.case.id}'\""


@dataclass
class Report:
    results: list[tuple[Cell, Outcome]]
    elapsed: float = 0.0
    versions: dict = field(default_factory=dict)
    command: str = ""
    timings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = sorted({row_key(c) for c, _ in self.results})
        self.columns = sorted({column_key(c) for c, _ in self.results})
        self.stores = sorted({c.store for c, _ in self.results})
        self.column_format = {column_key(c): c.case.zarr_format for c, _ in self.results}
        self.grid: dict[tuple[str, str], Tally] = defaultdict(Tally)
        self.by_row: dict[str, Tally] = defaultdict(Tally)
        self.by_store: dict[str, Tally] = defaultdict(Tally)
        self.total = Tally()
        self.impls = [i for i in ALL_IMPLS if any(i in (c.writer, c.reader) for c, _ in self.results)]
        self.pairs: dict[tuple[int, str, str], Tally] = defaultdict(Tally)  # (format, writer, reader)
        self.as_writer: dict[str, Tally] = defaultdict(Tally)
        self.as_reader: dict[str, Tally] = defaultdict(Tally)
        self.impl_groups: dict[tuple[str, str, str], Tally] = defaultdict(Tally)  # (impl, "write"|"read", group)
        for c, o in self.results:
            for t in (
                self.grid[(row_key(c), column_key(c))],
                self.by_row[row_key(c)],
                self.by_store[c.store],
                self.total,
                self.pairs[(c.case.zarr_format, c.writer, c.reader)],
                self.as_writer[c.writer],
                self.as_reader[c.reader],
                self.impl_groups[(c.writer, "write", c.case.group)],
                self.impl_groups[(c.reader, "read", c.case.group)],
            ):
                t.add(o.status)

    @property
    def ok(self) -> bool:
        return self.total.failed == 0

    @property
    def cells_per_second(self) -> float:
        return len(self.results) / self.elapsed if self.elapsed else 0.0

    # -- JSON ------------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": self.command,
            "elapsed_s": round(self.elapsed, 3),
            "cells_per_second": round(self.cells_per_second, 1),
            "versions": self.versions,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "counts": {**self.total.counts, "total": self.total.total},
            "implementations": self.implementations_json(),
            "pairs": {
                f"v{f}": {f"{w}{ARROW}{r}": t.counts for (ff, w, r), t in sorted(self.pairs.items()) if ff == f}
                for f in sorted({k[0] for k in self.pairs})
            },
            "rows": self.rows,
            "columns": self.columns,
            "summary": {
                r: {col: self.grid[(r, col)].counts for col in self.columns if self.grid[(r, col)].total}
                for r in self.rows
            },
            "cells": [self._cell_json(c, o) for c, o in self.results],
        }

    @staticmethod
    def _cell_json(c: Cell, o: Outcome) -> dict:
        d = {
            "id": c.id,
            "writer": c.writer,
            "reader": c.reader,
            "store": c.store,
            "case": c.case.id,
            "group": c.case.group,
            "zarr_format": c.case.zarr_format,
            "status": o.status,
        }
        if o.status != "pass":
            d.update({"stage": o.stage, "message": o.message, "repro": repro(c), "pytest": pytest_repro(c)})
            if o.diagnosis is not None:
                d["diagnosis"] = o.diagnosis.to_json()
        if o.expected is not None:  # a gap cell: the failure its rule expects and the one seen
            d["expected"] = o.expected
            d["observed"] = o.observed
        return d

    def implementations_json(self) -> dict:
        """Per implementation: its version, declared capability table, and what it measured as writer and reader
        (counts per status, and per feature group)."""
        out = {}
        for i in self.impls:
            key = {"python": "polyzarr", "julia": "julia"}.get(i, i)
            out[i] = {
                "version": self.versions.get(key) or self.versions.get(i),
                "declared": CAPABILITIES[i].to_json() if i in CAPABILITIES else None,
                "as_writer": self.as_writer[i].counts,
                "as_reader": self.as_reader[i].counts,
                "groups": {
                    op: {g: t.counts for (ii, oo, g), t in sorted(self.impl_groups.items()) if ii == i and oo == op}
                    for op in ("write", "read")
                },
            }
        return out

    def pair_tables(self) -> list[Any]:
        """Implementation × implementation (writer rows, reader columns), one table per format version."""
        from rich.table import Table
        from rich.text import Text

        tables = []
        for fmt in sorted({k[0] for k in self.pairs}):
            t = Table(title=f"Zarr v{fmt}: writer (rows) {ARROW} reader (columns); ok/ran, +n unsupported")
            t.add_column("writer", style="bold", no_wrap=True)
            readers = [r for r in self.impls if any(k[0] == fmt and k[2] == r for k in self.pairs)]
            for r in readers:
                t.add_column(r, justify="center", no_wrap=True)
            for w in self.impls:
                if not any(k[0] == fmt and k[1] == w for k in self.pairs):
                    continue
                t.add_row(w, *(_rich_cell(self.pairs.get((fmt, w, r), Tally()), Text) for r in readers))
            tables.append(t)
        return tables

    def impl_table(self) -> Any:
        from rich.table import Table

        t = Table(title="implementations (measured: as writer / as reader)")
        for h in ("implementation", "version", "write pass/fail/gap/unsupported", "read pass/fail/gap/unsupported"):
            t.add_column(h, no_wrap=True)
        for i in self.impls:
            w, r = self.as_writer[i].counts, self.as_reader[i].counts
            key = {"python": "polyzarr"}.get(i, i)

            def f(c: dict) -> str:
                return f"{c['pass']}/{c['fail'] + c['fixed'] + c['works']}/{c['gap']}/{c['unsupported']}"

            t.add_row(i, str(self.versions.get(key, "")), f(w), f(r))
        return t

    # -- terminal ----------------------------------------------------------------------------------------------
    def rich_tables(self) -> list[Any]:
        """One table per format version: a row per writer → reader, a column per feature group.

        Splitting by format keeps each table narrow enough for a log (about 125 columns) without truncating
        the writer → reader labels, which are what a reader scans first."""
        from rich.table import Table
        from rich.text import Text

        tables = []
        for fmt in sorted(set(self.column_format.values())):
            cols = [c for c in self.columns if self.column_format[c] == fmt]
            rows = [r for r in self.rows if any(self.grid[(r, c)].total for c in cols)]
            t = Table(title=f"Zarr v{fmt}", title_justify="left")
            t.add_column(f"writer {ARROW} reader", style="bold", no_wrap=True)
            for col in cols:
                t.add_column(col.removeprefix(f"v{fmt}_"), justify="center", no_wrap=True)
            t.add_column("all", justify="center", style="bold", no_wrap=True)
            for r in rows:
                row_total = Tally()
                for col in cols:
                    for k, v in self.grid[(r, col)].counts.items():
                        row_total.counts[k] += v
                t.add_row(r, *(_rich_cell(self.grid[(r, col)], Text) for col in cols), _rich_cell(row_total, Text))
            tables.append(t)
        return tables

    def headline(self) -> str:
        c = self.total.counts
        return (
            f"polyzarr interop matrix: {self.total.total} cells: {c['pass']} pass, {self.total.failed} fail"
            + (f" ({c['fixed']} fixed gaps, {c['works']} undeclared that work)" if c["fixed"] + c["works"] else "")
            + f", {c['unsupported']} unsupported, {c['gap']} known gaps; {len(self.impls)} implementations "
            f"in {self.elapsed:.1f} s"
        )

    def text_lines(self) -> list[str]:
        """The same table as plain text (for logs without colour)."""
        w = max(len(r) for r in self.rows) if self.rows else 10
        cols = [max(len(c), 9) for c in self.columns]
        lines = [" " * w + "  " + "  ".join(c.center(n) for c, n in zip(self.columns, cols)) + "  all"]
        for r in self.rows:
            parts = []
            for c, n in zip(self.columns, cols):
                tl = self.grid[(r, c)]
                parts.append((f"{tl.ok}/{tl.total}" if tl.total else "-").center(n))
            lines.append(r.ljust(w) + "  " + "  ".join(parts) + f"  {self.by_row[r].ok}/{self.by_row[r].total}")
        lines.append(
            "by store: " + ", ".join(f"{s} {self.by_store[s].ok}/{self.by_store[s].total}" for s in self.stores)
        )
        return lines

    # -- files -------------------------------------------------------------------------------------------------
    def write(self, outdir: Path) -> dict[str, Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        paths = {
            "json": outdir / "matrix.json",
            "html": outdir / "matrix.html",
            "junit": outdir / "junit.xml",
            "png": outdir / "matrix.png",
            "png_pairs": outdir / "matrix-pairs.png",
        }
        paths["json"].write_text(json.dumps(self.to_json(), indent=1))
        paths["html"].write_text(self.to_html(), encoding="utf-8")
        paths["junit"].write_bytes(self.to_junit())
        self.to_png(paths["png"])
        return paths

    def to_junit(self) -> bytes:
        suite = ET.Element(
            "testsuite",
            name="polyzarr-matrix",
            tests=str(self.total.total),
            failures=str(self.total.failed),
            skipped=str(self.total.counts["gap"] + self.total.counts["unsupported"]),
            time=f"{self.elapsed:.3f}",
        )
        for c, o in self.results:
            tc = ET.SubElement(suite, "testcase", classname=f"matrix.{c.writer}.{c.reader}.{c.store}", name=c.case.id)
            if o.status in ("fail", "fixed", "works"):
                f = ET.SubElement(tc, "failure", message=o.message.splitlines()[0][:500] if o.message else o.status)
                f.text = f"{o.message}\n\nrepro: {repro(c)}"
            elif o.status in ("gap", "unsupported"):
                ET.SubElement(tc, "skipped", message=o.message[:500])
        return ET.tostring(ET.ElementTree(suite).getroot(), encoding="utf-8", xml_declaration=True)

    def to_png(self, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        self._png_pairs(path.with_name(path.stem + "-pairs.png"), plt, np)

        cols = [(col, s) for col in self.columns for s in self.stores]
        data = np.full((len(self.rows), len(cols)), np.nan)
        per: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
        for c, o in self.results:
            per[(row_key(c), column_key(c), c.store)].add(o.status)
        for i, r in enumerate(self.rows):
            for j, (col, s) in enumerate(cols):
                t = per.get((r, col, s))
                if t is not None and t.ran:
                    data[i, j] = t.rate
        fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(cols) + 3), 0.45 * len(self.rows) + 2.2))
        im = ax.imshow(data, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(cols)), [f"{col}\n{s}" for col, s in cols], rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(self.rows)), self.rows, fontsize=8)
        for i in range(len(self.rows)):
            for j in range(len(cols)):
                if not np.isnan(data[i, j]):
                    ax.text(j, i, f"{100 * data[i, j]:.0f}", ha="center", va="center", fontsize=6)
        ax.set_title(
            f"polyzarr interop matrix: pass rate (%) by writer→reader × group/store\n"
            f"{self.total.ok}/{self.total.total} cells ok in {self.elapsed:.0f} s",
            fontsize=9,
        )
        fig.colorbar(im, ax=ax, fraction=0.03)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def _png_pairs(self, path: Path, plt: Any, np: Any) -> None:
        """implementation × implementation pass rate (writer rows, reader columns), a panel per format."""
        fmts = sorted({k[0] for k in self.pairs})
        n = len(self.impls)
        fig, axes = plt.subplots(1, len(fmts), figsize=(4.2 * len(fmts) + 1, 0.45 * n + 2), squeeze=False)
        for ax, fmt in zip(axes[0], fmts):
            data = np.full((n, n), np.nan)
            for i, w in enumerate(self.impls):
                for j, r in enumerate(self.impls):
                    t = self.pairs.get((fmt, w, r))
                    if t is not None and t.ran:
                        data[i, j] = t.rate
                        ax.text(j, i, f"{t.ok}/{t.ran}", ha="center", va="center", fontsize=6)
            ax.imshow(data, cmap="RdYlGn", vmin=0, vmax=1)
            ax.set_xticks(range(n), self.impls, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(n), self.impls, fontsize=7)
            ax.set_title(f"Zarr v{fmt}: writer (rows) → reader (columns)", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def to_html(self) -> str:
        data = json.dumps(self.to_json(), separators=(",", ":")).replace("</", "<\\/")
        return HTML_TEMPLATE.replace("__DATA__", data).replace(
            "__TITLE__", html.escape(f"polyzarr interop matrix: {self.total.ok}/{self.total.total} ok")
        )


def _rich_cell(t: Tally, Text: Any) -> Any:
    if not t.total:
        return Text("-", style="dim")
    if not t.ran:
        return Text(f"({t.total} unsup.)", style="dim")
    style = "green" if t.failed == 0 else ("yellow" if t.rate >= 0.9 else "red")
    label = f"{t.ok}/{t.ran}" + (f" +{t.counts['unsupported']}u" if t.counts["unsupported"] else "")
    return Text(label, style=style)


def summarize(results: Iterable[tuple[Cell, Outcome]]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for _, o in results:
        out[o.status] += 1
    return out


# The page renders itself from the embedded JSON: a summary table (sortable by any column; `#sort=N` or
# `#sort=-N` in the URL sorts on load), every failing or gap cell as an expandable entry with its error and repro
# command, and a filterable table of all cells.
HTML_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px} .meta{color:#666;margin-bottom:16px}
table{border-collapse:collapse;margin:8px 0 20px} th,td{border:1px solid #ccc;padding:4px 8px;text-align:center}
th{background:#f3f3f3;cursor:pointer;user-select:none} th.sorted-asc:after{content:" \\25B2"} th.sorted-desc:after{content:" \\25BC"}
td.name{text-align:left;font-weight:600} td.ok{background:#d7f5d7} td.warn{background:#fff1c2} td.bad{background:#f8c9c9}
td.none{color:#aaa} details{margin:4px 0;padding:4px 8px;border-left:4px solid #d33} details.gap{border-color:#e0a800}
summary{cursor:pointer;font-family:ui-monospace,monospace} pre{white-space:pre-wrap;background:#f7f7f7;padding:8px;margin:6px 0}
#cells td{font-family:ui-monospace,monospace;font-size:12px;text-align:left} input{padding:4px;width:320px}
.pill{display:inline-block;padding:1px 6px;border-radius:8px;font-size:12px} .pass{background:#d7f5d7} .fail{background:#f8c9c9}
.gap{background:#fff1c2} .unsupported{background:#e3e3f8} .fixed{background:#f8c9c9}
</style></head><body>
<h1 id="title"></h1><div class="meta" id="meta"></div>
<h2>Implementation &times; implementation (writer rows, reader columns)</h2><div id="pairs"></div>
<h2>Implementations</h2><table id="impls"><thead><tr><th>implementation</th><th>version</th><th>as writer</th><th>as reader</th><th>declared limits</th></tr></thead><tbody></tbody></table>
<h2>Summary (writer &rarr; reader &times; feature group)</h2>
<table id="summary"><thead></thead><tbody></tbody></table>
<h2 id="problems-title">Failures and known gaps</h2><div id="problems"></div>
<h2>All cells</h2><input id="filter" placeholder="filter: text in id or status, e.g. W-julia_R-python or fail">
<table id="cells"><thead><tr><th>id</th><th>status</th><th>store</th><th>group</th></tr></thead><tbody></tbody></table>
<script id="data" type="application/json">__DATA__</script>
<script>
const D = JSON.parse(document.getElementById('data').textContent);
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const C = D.counts;
document.getElementById('title').textContent = `polyzarr interop matrix: ${C.pass} pass, ${C.fail + C.fixed + C.works} fail, ${C.unsupported} unsupported, ${C.gap} gap`;
document.getElementById('meta').textContent = `${C.total} cells; ${C.fixed} fixed gaps, ${C.works} undeclared cells that work; ` +
  `${D.elapsed_s} s (${D.cells_per_second} cells/s); ` +
  Object.entries(D.versions).map(([k, v]) => `${k} ${v}`).join(', ') + `; ${D.generated}`;
// implementation x implementation per format
const fmtCounts = t => { const n = t.pass + t.gap + t.fail + t.fixed + t.works; return [t.pass + t.gap, n, t.unsupported]; };
const impls = Object.keys(D.implementations);
document.getElementById('pairs').innerHTML = Object.entries(D.pairs).map(([fmt, P]) => {
  let h = `<table><caption>Zarr ${fmt}</caption><tr><th>writer \\ reader</th>` + impls.map(r => `<th>${esc(r)}</th>`).join('') + '</tr>';
  for (const w of impls) {
    if (!impls.some(r => P[w + '→' + r])) continue;
    h += `<tr><td class="name">${esc(w)}</td>` + impls.map(r => { const t = P[w + '→' + r]; if (!t) return '<td class="none">-</td>';
      const [ok, n, u] = fmtCounts(t); if (!n) return `<td class="none">(${u} u)</td>`;
      return `<td class="${ok === n ? 'ok' : ok / n >= 0.9 ? 'warn' : 'bad'}">${ok}/${n}${u ? ' +' + u + 'u' : ''}</td>`; }).join('') + '</tr>';
  }
  return h + '</table>';
}).join('');
document.querySelector('#impls tbody').innerHTML = impls.map(i => { const I = D.implementations[i]; const f = c => `${c.pass} pass, ${c.fail + c.fixed + c.works} fail, ${c.gap} gap, ${c.unsupported} unsupported`;
  const lim = I.declared ? [...I.declared.limits.map(l => l.reason), ...I.declared.notes].join('; ') : '';
  return `<tr><td class="name">${esc(i)}</td><td>${esc(I.version || '')}</td><td>${f(I.as_writer)}</td><td>${f(I.as_reader)}</td><td style="text-align:left">${esc(lim)}</td></tr>`; }).join('');
// summary
const head = document.querySelector('#summary thead'), body = document.querySelector('#summary tbody');
head.innerHTML = '<tr><th>writer → reader</th>' + D.columns.map(c => `<th>${esc(c)}</th>`).join('') + '<th>all</th></tr>';
for (const r of D.rows) {
  let ok = 0, tot = 0, tds = '';
  for (const c of D.columns) {
    const t = (D.summary[r] || {})[c];
    if (!t) { tds += '<td class="none" data-v="-1">-</td>'; continue; }
    const n = t.pass + t.gap + t.fail + t.fixed + t.works, good = t.pass + t.gap; ok += good; tot += n;
    if (!n) { tds += `<td class="none" data-v="-1">(${t.unsupported} u)</td>`; continue; }
    const cls = good === n ? 'ok' : (good / n >= 0.9 ? 'warn' : 'bad');
    tds += `<td class="${cls}" data-v="${good / n}">${good}/${n}${t.unsupported ? ' +' + t.unsupported + 'u' : ''}</td>`;
  }
  const cls = ok === tot ? 'ok' : (ok / (tot || 1) >= 0.9 ? 'warn' : 'bad');
  body.insertAdjacentHTML('beforeend', `<tr><td class="name" data-v="${esc(r)}">${esc(r)}</td>${tds}<td class="${cls}" data-v="${ok / tot}">${ok}/${tot}</td></tr>`);
}
function sortBy(i, desc) {
  const ths = head.querySelectorAll('th');
  if (!(i >= 0 && i < ths.length)) return;
  ths.forEach(t => t.classList.remove('sorted-asc', 'sorted-desc'));
  ths[i].classList.add(desc ? 'sorted-desc' : 'sorted-asc');
  const rows = [...body.querySelectorAll('tr')];
  const val = tr => { const v = tr.children[i].dataset.v; const n = parseFloat(v); return isNaN(n) ? v : n; };
  rows.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1); });
  rows.forEach(r => body.appendChild(r));
}
head.querySelectorAll('th').forEach((th, i) => th.addEventListener('click', () => sortBy(i, th.classList.contains('sorted-asc'))));
const m = location.hash.match(/sort=(-?)(\\d+)/); if (m) sortBy(parseInt(m[2]), m[1] === '-');
// problems
const probs = D.cells.filter(c => c.status !== 'pass' && c.status !== 'unsupported');
document.getElementById('problems-title').textContent = `Failures and known gaps (${probs.length})`;
document.getElementById('problems').innerHTML = probs.map(c =>
  `<details class="${c.status === 'gap' ? 'gap' : 'fail'}" data-id="${esc(c.id)}"><summary><span class="pill ${c.status}">${c.status}</span> ${esc(c.id)}</summary>` +
  `<pre>${esc(c.message || '')}</pre>` + (c.expected ? `<div>expected: <code>${esc(JSON.stringify(c.expected))}</code> observed: <code>${esc(JSON.stringify(c.observed))}</code></div>` : '') + `<div>repro: <code>${esc(c.repro)}</code></div><div>pytest: <code>${esc(c.pytest)}</code></div></details>`).join('');
// all cells
const cbody = document.querySelector('#cells tbody');
function renderCells(f) {
  const rows = D.cells.filter(c => !f || c.id.includes(f) || c.status === f);
  cbody.innerHTML = rows.slice(0, 20000).map(c => `<tr><td>${esc(c.id)}</td><td><span class="pill ${c.status}">${c.status}</span></td><td>${c.store}</td><td>${esc(c.group)}</td></tr>`).join('');
}
renderCells('');
document.getElementById('filter').addEventListener('input', e => renderCells(e.target.value.trim()));
</script></body></html>
"""
