#!/usr/bin/env bash
# The project venv (.venv) with polyzarr installed editable, its test extras and the newest zarr-python (3.4+,
# the test oracle; it needs Python >= 3.12) with numcodecs, cast-value-rs and, where installable, the optional
# numcodecs codec packages pcodec and zfpy.
#
# Interpreter, first that fits:
#   1. $PYTHON (a name on PATH or a path). If it is set and does not run, stop: it is never silently ignored.
#   2. interpreters on PATH that actually run (`cand -c 'import sys'`; pyenv shims of a version that is not
#      pyenv's global one refuse to) and are >= 3.12, newest first;
#   3. pyenv's versions, $(pyenv root)/versions/3.1[2-9]*/bin/python3, newest first (3.10/3.11 there only for
#      the fallback).
# Among 2 and 3 an interpreter for which PyPI has wheels of every binary package the suite and the peers need
# (tensorstore, zarrs, cast-value-rs, pcodec, zfpy; checked once with `pip download --no-deps`, cached in
# .cache/setup-python/) wins over a newer one without. Measured here (Dec 2026): 3.12.1 and 3.13.0 both have all
# of them (tensorstore 0.1.86, zarrs 0.2.3, cast-value-rs 0.5.1, pcodec 1.1.0, zfpy 1.0.1), so the newest, 3.13,
# is chosen; the check keeps that true when a newer Python (3.14) arrives before its wheels do.
# Only when nothing >= 3.12 runs does it fall back to Python 3.10/3.11, with a loud warning.
#
# Idempotent: the stamp .venv/.polyzarr-installed records the pyproject.toml hash and the interpreter (path and
# version); a second run with the same choice does nothing (~0.1 s). A venv built with another interpreter is
# removed and rebuilt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.polyzarr-installed"
cache="$root/.cache/setup-python"
log() { echo "[setup-python] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The binary wheels an interpreter must have to be preferred (suite + oracle codecs + the peers of issue 12).
wheel_pkgs=(tensorstore zarrs cast-value-rs pcodec "zfpy>=1.0.1,!=1.0.1.post0")
# Optional numcodecs codec packages zarr-python needs to write pcodec / zfpy stores; installed when possible.
# zfpy 1.0.1.post0 is excluded: numcodecs 0.17 parses zfpy's version with int() and then cannot even be imported.
optional_pkgs=(pcodec "zfpy>=1.0.1,!=1.0.1.post0")

runs() { "$1" -c 'import sys' >/dev/null 2>&1; }
version_of() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'; }
at_least() { "$1" -c "import sys; sys.exit(sys.version_info[:2] < ($2, $3))" >/dev/null 2>&1; }

# Does PyPI (through pip's configured index) have wheels of wheel_pkgs for interpreter $1? Cached per
# interpreter path + version; answers "ok" or the missing names.
wheels_for() {
  local py=$1 ver key file tmp missing="" p
  ver=$(version_of "$py")
  key=$(printf '%s %s %s' "$py" "$ver" "${wheel_pkgs[*]}" | sha256sum | cut -c1-16)
  file="$cache/wheels-$key"
  if [ -f "$file" ]; then cat "$file"; return; fi
  if ! "$py" -m pip --version >/dev/null 2>&1; then echo "unknown (no pip)"; return; fi
  tmp=$(mktemp -d)
  for p in "${wheel_pkgs[@]}"; do
    "$py" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$p" >/dev/null 2>&1 || missing="$missing ${p%%[<>=!]*}"
  done
  rm -rf "$tmp"
  mkdir -p "$cache"
  # not cached when nothing at all downloads (no index reachable): that says nothing about this interpreter
  if [ -z "$missing" ]; then echo ok > "$file"; cat "$file"
  elif [ "$missing" = "$(printf ' %s' "${wheel_pkgs[@]%%[<>=!]*}")" ]; then echo "unknown (no package downloads)"
  else echo "missing:$missing" > "$file"; cat "$file"; fi
}

# Candidates, newest first (PATH before pyenv among equal versions); duplicates removed by real path. One
# interpreter start each: "version<TAB>real path", or nothing when it does not run.
probe() { "$1" -I -S -c 'import sys, os; print("%d.%d.%d\t%s" % (sys.version_info[:3] + (os.path.realpath(sys.executable),)))' 2>/dev/null; }
lines=""
add() {
  local c line
  c=$(command -v "$1" 2>/dev/null) || return 0
  line=$(probe "$c") || return 0
  [ -n "$line" ] || return 0
  case "$lines" in *"	${line#*	}"$'\n'*) return 0 ;; esac
  lines="$lines$line"$'\n'
}
chosen=""
if [ -n "${PYTHON:-}" ]; then
  command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON: no such interpreter"
  runs "$PYTHON" || die "PYTHON=$PYTHON does not run (\`$PYTHON -c 'import sys'\` fails: $("$PYTHON" -c 'import sys' 2>&1 | head -1))"
  chosen=$("$PYTHON" -c 'import sys, os; print(os.path.realpath(sys.executable))')
else
  for c in python3.19 python3.18 python3.17 python3.16 python3.15 python3.14 python3.13 python3.12 python3 python; do
    add "$c"
  done
  pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for c in $(ls -d "$pyenv_root"/versions/3.1[0-9]*/bin/python3 2>/dev/null | sort -V -r); do
    add "$c"
  done
  new=()
  while IFS=$'\t' read -r v c; do
    case "$v" in 3.1[2-9]*|3.[2-9][0-9]*|[4-9].*) new+=("$c") ;; esac
  done < <(printf '%s' "$lines" | sort -s -t$'\t' -k1,1 -V -r)
  if [ ${#new[@]} -gt 0 ]; then
    for c in "${new[@]}"; do
      w=$(wheels_for "$c")
      if [ "$w" = ok ]; then chosen=$c; break; fi
      log "$c (Python $(version_of "$c")): PyPI wheels $w; trying the next interpreter"
    done
  fi
  if [ -z "$chosen" ] && [ ${#new[@]} -gt 0 ]; then
    chosen=${new[0]}
    log "WARNING: no Python >= 3.12 here has every wheel (${wheel_pkgs[*]}); using $chosen, some peers/codecs will be skipped"
  fi
  if [ -z "$chosen" ]; then
    while IFS=$'\t' read -r v c; do
      case "$v" in 3.1[01].*) chosen=$c; break ;; esac
    done < <(printf '%s' "$lines" | sort -s -t$'\t' -k1,1 -V -r)
    [ -n "$chosen" ] || die "need Python >= 3.12 (or at least 3.10); none on PATH or under pyenv runs. Set PYTHON=/path/to/python3.12"
  fi
fi

ver=$(version_of "$chosen")
if ! at_least "$chosen" 3 12; then
  cat >&2 <<EOF
[setup-python] ################################################################################
[setup-python] WARNING: building .venv with Python $ver ($chosen): no Python >= 3.12 runs here.
[setup-python] LOST with Python < 3.12:
[setup-python]   - zarr-python 3.4 as the test oracle: pip stops at zarr 3.1.x / numcodecs 0.16 (zarr 2.18 on 3.10),
[setup-python]     so the suite checks polyzarr against an older zarr-python than users have;
[setup-python]   - zarr-python 3.4's codecs (cast_value, scale_offset) and data-type JSON (the new struct layout),
[setup-python]     and every test or golden case that needs them (skipped, not checked);
[setup-python]   - cast-value-rs and the 3.4-era numcodecs codec tests.
[setup-python] Install Python >= 3.12 (or point PYTHON= at one) and rerun to get them back.
[setup-python] ################################################################################
EOF
fi

want=$(printf '%s\n%s\n%s\n' "$(sha256sum "$root/pyproject.toml" | cut -c1-16)" "$chosen" "$ver")
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ] \
   && [ "$(version_of "$venv/bin/python" 2>/dev/null)" = "$ver" ]; then
  log "ok: $venv (Python $ver, $chosen)"
  exit 0
fi

if [ -x "$venv/bin/python" ] && [ "$(sed -n 2p "$stamp" 2>/dev/null)" != "$chosen" -o "$(version_of "$venv/bin/python" 2>/dev/null || true)" != "$ver" ]; then
  log "rebuilding $venv: it was built with $(sed -n 2p "$stamp" 2>/dev/null || echo 'another interpreter') $("$venv/bin/python" --version 2>/dev/null || true), the choice is $chosen (Python $ver)"
  rm -rf "$venv"
elif [ -e "$venv" ] && [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
fi
log "creating $venv with Python $ver ($chosen)"
[ -x "$venv/bin/python" ] || "$chosen" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
# naming zarr and numcodecs with --upgrade takes their newest releases even into an existing venv
"$venv/bin/python" -m pip install -q --upgrade -e "$root[test]" zarr numcodecs >&2
if at_least "$chosen" 3 12; then
  for p in "${optional_pkgs[@]}"; do
    if ! "$venv/bin/python" -m pip install -q --upgrade "$p" >&2; then
      log "WARNING: could not install $p for Python $ver: zarr-python cannot write ${p%%[<>=!]*} stores; those cases skip"
      continue
    fi
    if ! "$venv/bin/python" -c 'import numcodecs, zarr' >/dev/null 2>&1; then
      log "WARNING: $p breaks 'import numcodecs, zarr'; uninstalling it (${p%%[<>=!]*} cases skip)"
      "$venv/bin/python" -m pip uninstall -q -y "${p%%[<>=!]*}" >&2
    fi
  done
fi
"$venv/bin/python" -c 'import zarr, numcodecs, numpy, sys; print("[setup-python] oracle: zarr-python %s, numcodecs %s, numpy %s, Python %s" % (zarr.__version__, numcodecs.__version__, numpy.__version__, sys.version.split()[0]))' >&2
echo "$want" > "$stamp"
log "ok: $venv"
