"""`polyzarr matrix` reports: the terminal table, matrix.json, junit.xml, matrix.png and matrix.html (rendered in
headless Chromium: the summary table is there, sorts, and failing cells expand to their error and repro)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from polyzarr.interop.cases import default_golden_dir, load_cases
from polyzarr.interop.report import Report
from polyzarr.interop.run import Cell, Outcome
from polyzarr.testing import need

POLYZARR = str(Path(sys.executable).parent / "polyzarr")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def synthetic() -> Report:
    cases = load_cases()[:3]
    results = []
    for i, c in enumerate(cases):
        for w in ("python", "julia"):
            status = "fail" if (i, w) == (1, "julia") else ("gap" if (i, w) == (2, "python") else "pass")
            results.append((Cell(w, "python", "local", c), Outcome(status, f"why {i}{w}" if status != "pass" else "", "compare")))
    return Report(results, elapsed=2.0, versions={"polyzarr": "x"})


def test_report_counts_and_files(tmp_path):
    r = synthetic()
    assert not r.ok and r.total.counts == {"pass": 4, "gap": 1, "fail": 1, "fixed": 0, "unsupported": 0, "works": 0}
    paths = r.write(tmp_path)
    doc = json.loads(paths["json"].read_text())
    assert doc["counts"]["total"] == 6 and doc["counts"]["fail"] == 1
    failing = [c for c in doc["cells"] if c["status"] == "fail"]
    assert failing[0]["repro"].startswith("polyzarr matrix --writers julia --readers python --stores local --case-id ")
    suite = ET.parse(paths["junit"]).getroot()
    assert suite.get("tests") == "6" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert len(suite.findall("testcase/failure")) == 1
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "why 1julia" in paths["html"].read_text()
    lines = r.text_lines()
    assert lines[1].startswith("julia→python") and "2/3" in lines[1]


def test_terminal_tables_keep_labels_whole_in_a_log_width():
    """The full matrix (12 writer → reader rows, v2 and v3 groups) printed 150 columns wide: one table per
    format, every row label whole, v3 headers without their prefix, per-row totals of that format only."""
    import io

    from rich.console import Console

    every = load_cases()
    v2 = [c for c in every if c.zarr_format == 2]
    v3 = [c for c in every if c.zarr_format == 3]
    picked = {c.group: c for c in v2 + v3}  # one case per group
    pairs = [(w, r) for w in ("python", "julia", "zarr-python") for r in ("python", "julia", "zarr-python")]
    results = [(Cell(w, r, "local", c), Outcome("pass", "", "compare")) for w, r in pairs for c in picked.values()]
    failing = [c for c in picked.values() if c.zarr_format == 3][0]
    results.append((Cell("zarr2", "julia", "golden", v2[0]), Outcome("pass", "", "compare")))
    results.append((Cell("julia", "python", "s3", failing), Outcome("fail", "boom", "compare")))
    r = Report(results, elapsed=1.0)
    out = io.StringIO()
    console = Console(file=out, width=150, color_system=None)
    tables = r.rich_tables()
    assert [t.title for t in tables] == ["Zarr v2", "Zarr v3"]
    for t in tables:
        console.print(t)
    text = out.getvalue()
    v2_text, v3_text = text.split("Zarr v3")
    for w, rd in pairs:
        assert re.search(rf"\b{re.escape(w)}→{re.escape(rd)}\s", v2_text), (w, rd)
        assert re.search(rf"\b{re.escape(w)}→{re.escape(rd)}\s", v3_text), (w, rd)
    assert "zarr2→julia" in v2_text and "zarr2" not in v3_text  # an archived v2 writer has no v3 row
    assert "v3_" not in text and failing.group.removeprefix("v3_") in v3_text
    n_v3 = sum(1 for c in picked.values() if c.zarr_format == 3)
    julia_python_v3 = [ln for ln in v3_text.splitlines() if "julia→python" in ln][0]
    assert f"{n_v3}/{n_v3 + 1}" in julia_python_v3  # the failing cell counts in its own format only
    assert max(len(ln) for ln in text.splitlines()) <= 150 and "…" not in text


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        need("chromium", "apt-get install chromium (make test installs it)")
    return exe


def render(html: Path, tmp_path: Path, fragment: str = "") -> tuple[str, Path]:
    """The page's DOM after its script ran, and a screenshot of it."""
    exe = chromium()
    url = html.resolve().as_uri() + fragment
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"]
    shot = tmp_path / "shot.png"
    subprocess.run(common + [f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=120, check=True).stdout
    return dom, shot


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    """A real `polyzarr matrix` on a few cases (every writer and reader, local and golden stores)."""
    out = tmp_path_factory.mktemp("reports")
    p = subprocess.run([POLYZARR, "matrix", "--case", "<i2-C", "--case", "struct_subarray-F-zstd", "--stores", "local,golden",
                        "--writers", "python,julia,zarr-python,zarr2", "--readers", "python,julia,zarr-python",
                        "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=900)
    return out, p


def test_matrix_command_writes_all_outputs(matrix_run):
    out, p = matrix_run
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "writer → reader" in p.stdout and "python→julia" in p.stdout
    for name in ("matrix.json", "matrix.html", "junit.xml", "matrix.png"):
        assert (out / name).stat().st_size > 0, name
    doc = json.loads((out / "matrix.json").read_text())
    cases = [c for c in load_cases() if "<i2-C" in c.id or "struct_subarray-F-zstd" in c.id]
    v2 = [c for c in cases if c.zarr_format == 2]
    # 3 writers × 3 readers × 2 stores, plus zarr 2.18 (live on local; its golden stores: v2 cases) read by the 3
    # readers; zarr 2.18's v3 cells are unsupported (declared: it writes no Zarr v3)
    assert doc["counts"]["total"] == len(cases) * 9 * 2 + len(v2) * 3 + len(cases) * 3
    assert doc["counts"]["unsupported"] == (len(cases) - len(v2)) * 3
    assert doc["counts"]["fail"] == 0 and doc["counts"]["gap"] > 0  # the sub-array zarr-python gaps
    writers = ("python", "julia", "zarr-python", "zarr2")
    assert set(doc["rows"]) == {f"{w}→{r}" for w in writers for r in ("python", "julia", "zarr-python")}


def test_matrix_html_renders_in_chromium(matrix_run, tmp_path):
    out, _ = matrix_run
    doc = json.loads((out / "matrix.json").read_text())
    last = len(doc["columns"]) + 1  # the "all" column
    dom, shot = render(out / "matrix.html", tmp_path, f"#sort=-{last}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    summary = dom.split('<table id="summary">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<td class="name" data-v="([^"]+)">', summary)
    assert len(rows) == 12 and set(rows) == set(doc["rows"])
    assert 'class="sorted-desc"' in summary  # the #sort fragment was applied by the page's script
    assert "Failures and known gaps (" in dom and "<details" in dom and "repro:" in dom
    cells = dom.split('<table id="cells">', 1)[1].split("</table>", 1)[0]
    assert cells.count("<tr>") == doc["counts"]["total"] + 1


def test_matrix_fails_loudly(tmp_path):
    """A golden expected value that no reader returns: exit 1, the cell's diagnosis in the report."""
    golden = tmp_path / "golden"
    shutil.copytree(default_golden_dir(), golden, ignore=shutil.ignore_patterns("stores", "negative"))
    case = next(c for c in load_cases() if c.id == "<i4-C-zstd")
    f = golden / "expected" / f"{case.slug}.npy"
    np.save(f, np.load(f).T.copy())  # expectations transposed
    p = subprocess.run([POLYZARR, "matrix", "--golden-dir", str(golden), "--case", "<i4-C-zstd", "--stores", "local",
                        "--writers", "python", "--readers", "python,zarr-python", "--out", str(tmp_path / "r"),
                        "--no-progress"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stdout
    assert "FAIL W-python_R-python-<i4-C-zstd-local" in p.stdout
    doc = json.loads((tmp_path / "r" / "matrix.json").read_text())
    bad = [c for c in doc["cells"] if c["status"] == "fail"]
    assert len(bad) == 2 and all(c["diagnosis"]["kind"] == "reversed" for c in bad)
