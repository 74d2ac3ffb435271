#!/usr/bin/env bash
# Debian codec libraries the Julia side ccalls (numcodecs bundles its own for Python), and Chromium for the
# report test (POLYZARR_NO_CHROMIUM=1 skips it).
# Quick when everything is there: one ldconfig lookup, no apt.
set -euo pipefail
need=()
check() { # soname package
  ldconfig -p 2>/dev/null | grep -q "$1" || need+=("$2")
}
check 'libz\.so\.1 '      zlib1g
check 'libblosc\.so\.1 '  libblosc1
check 'libzstd\.so\.1 '   libzstd1
check 'liblz4\.so\.1 '    liblz4-1
check 'libbz2\.so\.1\.0 ' libbz2-1.0
check 'liblzma\.so\.5 '   liblzma5
check 'libzfp\.so\.1 '    libzfp1
# Headless Chromium renders the matrix report in a test (python/tests/test_report.py); not needed to run the matrix.
if [ "${POLYZARR_NO_CHROMIUM:-0}" != "1" ] && ! command -v chromium >/dev/null; then
  need+=(chromium)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "[install-debs] ok: codec libraries (and chromium) present" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "[install-debs] missing ${need[*]} and no apt-get: install them, or point POLYZARR_LIB* at the libraries" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "[install-debs] installing ${need[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
