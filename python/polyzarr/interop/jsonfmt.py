"""Readable, stable JSON for the files people edit and diff (case lists, manifests): containers that fit on a
line stay on one line, longer ones break one item per line (lists of scalars pack several per line)."""

from __future__ import annotations

import json
from typing import Any


def dumps(x: Any, width: int = 118) -> str:
    return _fmt(x, 0, width) + "\n"


def _fmt(x: Any, ind: int, width: int) -> str:
    one = json.dumps(x, ensure_ascii=False)
    if not isinstance(x, (dict, list)) or len(one) + ind <= width or not x:
        return one
    pad = " " * (ind + 2)
    if isinstance(x, dict):
        items = []
        for k, v in x.items():
            head = f"{pad}{json.dumps(k, ensure_ascii=False)}: "
            body = json.dumps(v, ensure_ascii=False)
            items.append(
                head
                + (
                    body
                    if len(head) + len(body) <= width or not isinstance(v, (dict, list))
                    else _fmt(v, ind + 2, width)
                )
            )
        return "{\n" + ",\n".join(items) + "\n" + " " * ind + "}"
    if all(not isinstance(v, (dict, list)) for v in x):
        lines: list[str] = []
        cur: list[str] = []
        for v in x:
            s = json.dumps(v, ensure_ascii=False)
            if cur and len(pad) + sum(len(c) + 2 for c in cur) + len(s) > width:
                lines.append(", ".join(cur))
                cur = []
            cur.append(s)
        lines.append(", ".join(cur))
        return "[\n" + ",\n".join(pad + line for line in lines) + "\n" + " " * ind + "]"
    return "[\n" + ",\n".join(pad + _fmt(v, ind + 2, width) for v in x) + "\n" + " " * ind + "]"
