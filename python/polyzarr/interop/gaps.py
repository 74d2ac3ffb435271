"""Known gaps with signatures: a rule names the implementation at fault, the operation (write | read), why, and
the failure it expects (``expect``: ``stage`` write | read | compare, a regular expression ``pattern`` searched in
the failure message and/or the diagnosis ``kind``). A gap cell that fails that way is ``gap``; one that fails
another way is a failure (the rule no longer describes it); one that passes is ``fixed``.

zarr-python's rules stay in ``cases.json`` (``zarr_python_gaps``, each with its ``expect``: ``{"write": {...},
"read": {...}}``); the peers' rules are in ``interop_tests/golden/peer_gaps.json``, matched on the cell: writer
or reader (the implementation at fault), the other side (``writers`` / ``readers``), ``stores``, and the case
(``zarr_format``, ``label``, ``variant``, ``order``, ``dtype`` token, a ``codec`` it uses, ``filters``, ``case``
= a text its id contains).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Cell, Outcome


@dataclass(frozen=True)
class GapRule:
    impl: str
    op: str  # "write" | "read"
    why: str
    expect: dict | None = None
    when: dict = field(default_factory=dict)

    @classmethod
    def from_zarr_python(cls, zp: dict, op: str) -> GapRule:
        """A ``zarr_python_gaps`` rule of cases.json; its ``expect`` is ``{"write": {...}, "read": {...}}``. A rule
        without one expects the failure where its text puts it: in that operation, or at the comparison (data
        written or read silently wrong)."""
        exp = zp.get("expect") or {}
        mine = exp.get(op) if isinstance(exp, dict) else None
        return cls("zarr-python", op, zp[op], mine or {"stage_in": [op, "compare"]})

    @classmethod
    def from_json(cls, d: dict) -> GapRule:
        keys = ("impl", "op", "why", "expect", "about", "repro")
        return cls(d["impl"], d["op"], d["why"], d.get("expect"), {k: v for k, v in d.items() if k not in keys})

    def describe(self) -> str:
        verb = "cannot write" if self.op == "write" else "cannot read"
        return f"{self.impl} {verb} this: {self.why}"

    def matches(self, cell: Cell) -> bool:
        from .impls.capabilities import codec_names, dtype_token

        if (cell.writer if self.op == "write" else cell.reader) != self.impl:
            return False
        w, c = self.when, cell.case
        checks: list[tuple[str, Any]] = [
            ("writers", lambda v: cell.writer in v),
            ("readers", lambda v: cell.reader in v),
            ("stores", lambda v: cell.store in v),
            ("zarr_format", lambda v: c.zarr_format == v),
            ("label", lambda v: c.label == v),
            ("variant", lambda v: c.id.endswith(f"-{v}")),
            ("order", lambda v: c.order == v),
            ("dtype", lambda v: dtype_token(c) in (v if isinstance(v, list) else [v])),
            ("codec", lambda v: bool(codec_names(c) & set(v if isinstance(v, list) else [v]))),
            ("filters", lambda v: set(v) <= set(c.filter_names)),
            ("case", lambda v: any(t in c.id for t in (v if isinstance(v, list) else [v]))),
            ("not_case", lambda v: not any(t in c.id for t in (v if isinstance(v, list) else [v]))),
            ("shape_rank", lambda v: len(c.shape) in (v if isinstance(v, list) else [v])),
        ]
        return all(test(w[k]) for k, test in checks if k in w)

    def expects(self, out: Outcome) -> bool:
        e = self.expect
        if not e:
            return True
        if e.get("stage") and out.stage != e["stage"]:
            return False
        if e.get("stage_in") and out.stage not in e["stage_in"]:
            return False
        if e.get("pattern") and not re.search(e["pattern"], out.message or "", re.S):
            return False
        kind = out.diagnosis.kind if out.diagnosis is not None else None
        return not (e.get("diagnosis") and kind != e["diagnosis"])


def observed(out: Outcome) -> dict:
    return {
        "stage": out.stage,
        "message": (out.message or "")[:400],
        "diagnosis": out.diagnosis.kind if out.diagnosis is not None and not out.diagnosis.equal else None,
    }


def gap_outcome(rule: GapRule, out: Outcome) -> Outcome:
    """A gap cell's verdict from its run: gap (failed as expected), fail (failed otherwise), fixed (passed)."""
    from .run import Outcome

    exp = rule.expect or {"stage": "any", "pattern": ".*"}
    if out.status == "pass":
        return Outcome(
            "fixed",
            f"{rule.describe()} -- but it now works: remove the rule",
            "compare",
            expected=exp,
            observed={"stage": "pass"},
        )
    obs = observed(out)
    if rule.expects(out):
        return Outcome("gap", f"{rule.describe()} ({out.message})", out.stage, out.diagnosis, exp, obs)
    return Outcome(
        "fail",
        f"{rule.describe()} -- but it failed differently: expected {json.dumps(exp)}, observed {out.stage}: "
        f"{out.message}",
        out.stage,
        out.diagnosis,
        exp,
        obs,
    )


def peer_gaps_path() -> Path:
    from .cases import default_golden_dir

    return default_golden_dir() / "peer_gaps.json"


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[GapRule, ...]:
    p = Path(path)
    if not p.exists():
        return ()
    return tuple(GapRule.from_json(d) for d in json.loads(p.read_text())["rules"])


def peer_gap_rules() -> tuple[GapRule, ...]:
    return _load(str(peer_gaps_path()))
