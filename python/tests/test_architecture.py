"""The shape of the code (docs/ARCHITECTURE.md): axis order only in layout.py, core modules that never load the CLI,
the interop matrix or the Julia bridge, and a pairs table that matches the tree on both sides."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "python" / "polyzarr"
JL = ROOT / "julia" / "src"
ARCH = ROOT / "docs" / "ARCHITECTURE.md"

# Axis reversal and C/F branching, in code (comments and string contents are not looked at, except the literal
# "C"/"F" strings themselves).
AXIS_WORDS = r"(shape|index|idx|range|perm|names|dims|size|chunk|axes|order|jl|grid|key|selection)"
REVERSAL = [
    (r"\[::-1\]", "[::-1]"),
    (rf"\breversed\((?=[^)]*{AXIS_WORDS})", "reversed( on shapes/indices"),
    (r"\.reverse\(\)", ".reverse()"),
    (r"\.T\b", ".T (the full axis reversal)"),
    (r"[\w)\]]\s*-\s*1\s*-\s*\w", "n - 1 - i index arithmetic"),
    (r"(==|!=)\s*\"[CF]\"|\"[CF]\"\s*(==|!=)", "a C/F branch"),
    (r"\border\s*=\s*(\"F\"|self\.order\b)", "a numpy memory order chosen here"),
]

# Where code *detects* reversal (it compares against reversed forms to diagnose a mix-up); nothing here lays out
# data. Each entry: (file, a substring of the line, why). Stale entries fail the test too.
ALLOWED = [
    ("diagnose.py", "rev = tuple(reversed(range(n)))", "detection: is the got array the expected one transposed?"),
    ("diagnose.py", 'reshape(-1, order="C").reshape(want, order="F")', "detection: chunks relaid in the other order"),
    ("diagnose.py", 'reshape(-1, order="F").reshape(want, order="C")', "detection: chunks relaid in the other order"),
    ("diagnose.py", 'g.reshape(-1, order="C").reshape(tuple(chunks), order="F"),', "detection: a chunk in the other order"),
    ("diagnose.py", 'g.reshape(-1, order="F").reshape(tuple(chunks), order="C"),', "detection: a chunk in the other order"),
    ("diagnose.py", 'out[sel] = a[sel].reshape(-1, order="C")', "detection: a whole chunk in the other memory order"),
    ("diagnose.py", "expected.shape[::-1]", "detection: says '(reversed)' when the shapes are each other's reverse"),
    ("diff.py", "ka_.split(sa)[::-1] == kb_.split(sb)", "detection: chunk keys written in the other axis order"),
    ("interop/impls/capabilities.py", 'if case.zarr_format == 2 and case.order == "F":', "a capability flag: the case "
     "declares order F (what a peer's table may exclude); nothing is laid out"),
]


def _code_lines(path: Path) -> dict[int, str]:
    """Line number → the line's code with comments dropped and strings blanked (except "C" and "F")."""
    out: dict[int, list[str]] = {}
    toks = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for tok in toks:
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            continue
        text = tok.string
        if tok.type == tokenize.STRING:
            text = '"C"' if text in ('"C"', "'C'") else '"F"' if text in ('"F"', "'F'") else '""'
        out.setdefault(tok.start[0], []).append(text)
    return {n: " ".join(parts).replace(" . ", ".").replace(" ( ", "(").replace(" [", "[") for n, parts in out.items()}


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def reversal_findings(pkg: Path = PKG) -> list[str]:
    findings = []
    used = set()
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg).as_posix()
        if rel == "layout.py":
            continue
        raw = path.read_text(encoding="utf-8").splitlines()
        for n, code in _code_lines(path).items():
            squashed = _squash(code)
            for pattern, what in REVERSAL:
                if re.search(pattern, code) or re.search(pattern, squashed):
                    allowed = [a for a in ALLOWED if a[0] == rel and _squash(a[1]) in _squash(raw[n - 1])]
                    if allowed:
                        used.update(allowed)
                        continue
                    findings.append(f"{rel}:{n}: {what}: {raw[n - 1].strip()}")
    if pkg == PKG:
        findings += [f"stale allow-list entry {a}" for a in ALLOWED if a not in used]
    return findings


def test_axis_order_only_in_layout():
    findings = reversal_findings()
    assert not findings, "axis reversal outside layout.py (ask layout.py instead):\n" + "\n".join(findings)


def test_reversal_scan_catches_a_new_reversal(tmp_path):
    (tmp_path / "arrays.py").write_text(
        "def f(shape, arr, order):\n"
        "    a = tuple(reversed(shape))\n"
        "    b = shape[::-1]\n"
        "    c = arr.T\n"
        "    if order == 'F':\n"
        "        pass\n"
        "    return [shape[len(shape) - 1 - i] for i in range(3)]\n"
        "# reversed(shape) in a comment is fine\n"
        "x = 'shape[::-1] in a string is fine'\n"
    )
    (tmp_path / "layout.py").write_text("def g(shape):\n    return tuple(reversed(shape))\n")
    findings = reversal_findings(tmp_path)
    assert [f.split(":")[1] for f in findings] == ["2", "3", "4", "5", "7"], findings


CORE = [
    "errors", "dtypes", "metadata", "metadata_v3", "layout", "codecs", "stores", "arrays", "groups", "npy", "verbs",
    "explain", "diagnose", "diff",
] + [f"codecs.{p.stem}" for p in sorted((PKG / "codecs").glob("*.py")) if p.stem != "__init__"]


_PROBE = """
import json, os, sys
import numpy, numcodecs, fsspec  # third-party imports first, so each forked child only pays for polyzarr
results = {}
for module in sys.argv[1:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child with no polyzarr module loaded yet
        os.close(r)
        try:
            import importlib
            importlib.import_module('polyzarr.' + module)
            bad = sorted(m for m in sys.modules
                         if m == 'polyzarr.cli' or m.startswith(('polyzarr.interop', 'polyzarr.julia')))
            out = ','.join(bad)
        except Exception as e:
            out = 'IMPORT FAILED: %r' % (e,)
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        results[module] = f.read()
    os.waitpid(pid, 0)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def loaded_by_core():
    r = subprocess.run([sys.executable, "-c", _PROBE, *CORE], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    import json

    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", CORE)
def test_core_module_loads_no_cli_interop_or_bridge(module, loaded_by_core):
    """Each core module imported in a fresh interpreter (a fork of one that has loaded no polyzarr module)."""
    assert loaded_by_core[module] == "", f"importing polyzarr.{module} loaded {loaded_by_core[module]}"


def _tables() -> tuple[list[tuple[str, list[str], list[str]]], list[tuple[str, str]]]:
    pairs, only = [], []
    section = ""
    for line in ARCH.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        files = [re.findall(r"`([^`]+\.(?:py|jl))`", c) for c in cells]
        if section == "Pairs" and len(cells) == 3 and (files[1] or files[2]):
            pairs.append((cells[0], files[1], files[2]))
        elif section.startswith("Language-only") and len(cells) == 3 and files[1]:
            only.append((cells[0], files[1][0]))
    return pairs, only


def test_architecture_table_lists_pairs():
    pairs, only = _tables()
    assert len(pairs) >= 30 and len(only) >= 10
    for concept, py, jl in pairs:
        assert py and jl, f"{concept}: a pair needs a file on each side"
        assert [Path(p).with_suffix("").as_posix() for p in py] == [Path(j).with_suffix("").as_posix() for j in jl], concept


def test_architecture_table_python_side_exists():
    pairs, only = _tables()
    missing = [p for _, py, _ in pairs for p in py if not (PKG / p).is_file()]
    missing += [f for side, f in only if side == "Python" and not (PKG / f).is_file()]
    assert not missing, f"docs/ARCHITECTURE.md lists Python files that do not exist: {missing}"


def test_architecture_table_julia_side_exists():
    pairs, only = _tables()
    missing = [j for _, _, jl in pairs for j in jl if not (JL / j).is_file()]
    missing += [f for side, f in only if side == "Julia" and not (JL / f).is_file()]
    assert not missing, f"docs/ARCHITECTURE.md lists Julia files that do not exist: {missing}"


def test_every_python_module_is_in_the_table():
    """A new module means a new row (a pair, or a language-only file with its reason)."""
    pairs, only = _tables()
    listed = {p for _, py, _ in pairs for p in py} | {f for side, f in only if side == "Python"}
    listed_dirs = {Path(f).parent.as_posix() for f in listed if "/" in f and Path(f).name in ("__init__.py", "run.py")}
    unlisted = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel in listed or rel == "codecs/__init__.py" or Path(rel).parent.as_posix() in listed_dirs:
            continue
        unlisted.append(rel)
    assert not unlisted, f"modules missing from docs/ARCHITECTURE.md: {unlisted}"
