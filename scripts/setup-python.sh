#!/usr/bin/env bash
# The project venv (.venv) with polyzarr installed editable and its test extras. Idempotent: a stamp records
# the pyproject.toml it was built from, so a second run does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.polyzarr-installed"
want=$(sha256sum "$root/pyproject.toml" | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "[setup-python] ok: $venv" >&2
  exit 0
fi
py=${PYTHON:-}
if [ -z "$py" ]; then
  for cand in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      py=$cand; break
    fi
  done
fi
[ -n "$py" ] || { echo "[setup-python] need Python >= 3.10 (set PYTHON=...)" >&2; exit 1; }
echo "[setup-python] creating $venv with $($py --version)" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
"$venv/bin/python" -m pip install -q -e "$root[test]" >&2
echo "$want" > "$stamp"
echo "[setup-python] ok: $venv" >&2
