#!/usr/bin/env bash
# The matrix's peer implementations, each where it can live (issue 13). Idempotent: each part has a stamp and a
# second run with nothing changed does nothing. Parts (default: all; or name them: pypi npm zarr2):
#   pypi   tensorstore and zarrs (zarrs-python) into .venv, from pyproject.toml's `peers` extra
#          (stamp .venv/.polyzarr-peers = hash of that list)
#   npm    zarrita + @zarrita/storage into interop/node/node_modules from the committed package-lock.json
#          (`npm ci`; stamp interop/node/node_modules/.polyzarr-stamp = hash of the lock file)
#   zarr2  zarr-python 2.18 in its own venv .cache/zarr2-venv (Python <= 3.11: zarr 2 cannot live beside zarr 3;
#          polyzarr installed editable with no deps so its worker can run there; stamp .cache/zarr2-venv/.polyzarr-zarr2)
# A part that cannot be installed (no Node, no Python <= 3.11) prints why and is skipped: the matrix then shows
# that implementation's cells as unsupported with the same reason.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
log() { echo "[setup-peers] $*" >&2; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(pypi npm zarr2)

setup_pypi() {
  [ -x "$venv/bin/python" ] || { log "no .venv: run scripts/setup-python.sh first"; return 1; }
  local reqs stamp="$venv/.polyzarr-peers" key
  reqs=$("$venv/bin/python" -c 'import tomllib,sys; print("\n".join(tomllib.load(open(sys.argv[1],"rb"))["project"]["optional-dependencies"]["peers"]))' "$root/pyproject.toml")
  key=$(printf '%s' "$reqs" | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then return 0; fi
  log "installing into .venv: $(echo $reqs)"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q $reqs >&2
  "$venv/bin/python" -c 'import importlib.metadata as m; print("[setup-peers] tensorstore", m.version("tensorstore"), "zarrs", m.version("zarrs"))' >&2
  echo "$key" > "$stamp"
}

setup_npm() {
  local dir="$root/interop/node" stamp key
  stamp="$dir/node_modules/.polyzarr-stamp"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "skipping zarrita.js: no node/npm on PATH (install Node >= 20)"; return 0
  fi
  key=$(hash_of "$dir/package.json" "$dir/package-lock.json")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then return 0; fi
  log "installing zarrita.js into interop/node/node_modules (npm ci, node $(node --version))"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$key" > "$stamp"
}

find_py311() {  # zarr 2.18 supports Python <= 3.11 (numcodecs 0.15 wheels): $PYTHON_ZARR2, then PATH, then pyenv
  local c
  for c in ${PYTHON_ZARR2:-} python3.11 python3.10 "$(pyenv root 2>/dev/null)"/versions/3.11*/bin/python3 \
           "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3 python3; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 11)))' >/dev/null 2>&1; then
      command -v "$c" 2>/dev/null || echo "$c"; return 0
    fi
  done
  return 1
}

setup_zarr2() {
  local z="$root/.cache/zarr2-venv" stamp key py
  stamp="$z/.polyzarr-zarr2"
  key="zarr>=2.18,<3 pcodec $(hash_of "$root/pyproject.toml")"
  if [ -x "$z/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then return 0; fi
  if [ ! -x "$z/bin/python" ]; then
    py=$(find_py311) || { log "skipping zarr-python 2.18: no Python 3.10/3.11 found (set PYTHON_ZARR2)"; return 0; }
    log "creating .cache/zarr2-venv with $py ($("$py" --version 2>&1)) and zarr<3"
    "$py" -m venv "$z"
  fi
  "$z/bin/python" -m pip install -q "zarr>=2.18,<3" numcodecs fsspec s3fs rich numpy zstandard >&2
  # numcodecs' pcodec codec needs the pcodec package; zfpy has no cp311 wheel that numcodecs can import (tables.py)
  "$z/bin/python" -m pip install -q pcodec >&2 || log "warning: no pcodec for zarr 2.18: its pcodec cells will fail"
  "$z/bin/python" -m pip install -q --no-deps -e "$root" >&2
  log "zarr-python $("$z/bin/python" -c 'import zarr; print(zarr.__version__)') in .cache/zarr2-venv"
  echo "$key" > "$stamp"
}

for p in "${parts[@]}"; do
  case $p in
    pypi) setup_pypi ;;
    npm) setup_npm ;;
    zarr2) setup_zarr2 ;;
    *) log "unknown part $p (pypi npm zarr2)"; exit 2 ;;
  esac
done
