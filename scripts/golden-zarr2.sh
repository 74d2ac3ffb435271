#!/usr/bin/env bash
# The golden stores written by zarr-python 2.x (interop_tests/golden/stores/zarr2, zarr2.json): zarr 2 cannot live
# beside zarr 3 in the project venv, so this makes its own (.cache/zarr2-venv) and runs the writer there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/zarr2-venv"
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "[golden-zarr2] creating $venv with zarr<3" >&2
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q "zarr>=2.18,<3" numcodecs fsspec s3fs rich numpy >&2
  "$venv/bin/python" -m pip install -q --no-deps -e "$root" >&2
fi
exec "$venv/bin/python" -m polyzarr.interop.golden --zarr2 "$@"
