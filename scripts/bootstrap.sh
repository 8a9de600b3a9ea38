#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with a Python >= 3.12.
# Looks for an interpreter on PATH first, then under pyenv; says clearly when none exists.
# Re-installs only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

ok_python() {  # $1: candidate interpreter; succeeds when it runs and is >= 3.12
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  if [ -n "${BAYESMIXED_PYTHON:-}" ] && ok_python "$BAYESMIXED_PYTHON"; then
    echo "$BAYESMIXED_PYTHON"; return 0
  fi
  local c
  for c in python3.12 python3.13 python3.14 python3 python; do
    if command -v "$c" >/dev/null 2>&1 && ok_python "$(command -v "$c")"; then
      command -v "$c"; return 0
    fi
  done
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root 2>/dev/null)"); fi
  roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
  local r
  for r in "${roots[@]}"; do
    [ -d "$r/versions" ] || continue
    # prefer 3.12 (what PyMC 6 and the project are tested with), then newer ones
    for c in $(ls -d "$r"/versions/3.12* 2>/dev/null | sort -t. -k3,3nr) \
             $(ls -d "$r"/versions/3.1[3-9]* 2>/dev/null | sort -t. -k2,2n -k3,3nr); do
      for exe in "$c/bin/python3" "$c/bin/python"; do
        if [ -x "$exe" ] && ok_python "$exe"; then echo "$exe"; return 0; fi
      done
    done
  done
  return 1
}

VENV=.venv
if [ ! -x "$VENV/bin/python" ] || ! ok_python "$VENV/bin/python"; then
  if ! PY=$(find_python); then
    echo "bayesmixed needs Python >= 3.12 (PyMC 6 requires it), and none was found." >&2
    echo "Looked on PATH (python3.12, python3.13, python3.14, python3, python) and under pyenv's versions/." >&2
    echo "Install one (for example 'pyenv install 3.12') or point BAYESMIXED_PYTHON at it." >&2
    exit 1
  fi
  echo "bootstrap: creating $VENV with $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.bootstrap-stamp"
WANT=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "bootstrap: installing bayesmixed and its dependencies into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[dev]"
  echo "$WANT" > "$STAMP"
fi
