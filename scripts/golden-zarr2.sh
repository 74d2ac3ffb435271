#!/usr/bin/env bash
# The golden stores written by zarr-python 2.x (interop_tests/golden/stores/zarr2, zarr2.json): zarr 2 cannot live
# beside zarr 3 in the project venv, so scripts/setup-peers.sh makes its own (.cache/zarr2-venv) and this runs the writer there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/zarr2-venv"
"$root/scripts/setup-peers.sh" zarr2  # the venv (and its stamp) is shared with the live zarr2 peer of the matrix
[ -x "$venv/bin/python" ] || { echo "[golden-zarr2] no zarr 2 venv (see above)" >&2; exit 1; }
exec "$venv/bin/python" -m polyzarr.interop.golden --zarr2 "$@"
