#!/usr/bin/env bash
# CI stage 2: the package as users get it. Build the wheel, install it with plain `pip install`
# (no dev extras, no editable install) into a new virtual environment outside the repository,
# and there run `bayesmixed models`, one small command-line fit and an import smoke test.
# Needs .venv (made by `make test` / scripts/bootstrap.sh) only for its base interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BASE=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "wheel: building from $REPO"
.venv/bin/python -m pip wheel -q --no-deps -w "$TMP/dist" "$REPO"
WHEEL=$(ls "$TMP"/dist/bayesmixed-*.whl)
.venv/bin/python - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
yamls = [n for n in names if n.startswith("bayesmixed/models/") and n.endswith(".yaml")]
assert len(yamls) >= 8, f"the wheel lacks the model library: {yamls}"
assert not any(n.startswith(("tests/", "benchmarks/")) for n in names), "tests leaked into the wheel"
print(f"wheel: {len(names)} files, {len(yamls)} library models")
PY
echo "wheel: installing $(basename "$WHEEL") into a new environment (plain pip install)"
"$BASE" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install -q "$WHEEL"
cd "$TMP"  # away from the source tree, so only the installed package can be imported
"$TMP/venv/bin/python" - <<'PY'
import pathlib, time
t = time.perf_counter()
import bayesmixed as bm
from bayesmixed import library
assert "site-packages" in bm.__file__, bm.__file__
assert library.models_dir().is_dir() and "site-packages" in str(library.models_dir())
assert len(library.names()) >= 8
print(f"import: bayesmixed {bm.__version__} from {pathlib.Path(bm.__file__).parent} "
      f"in {time.perf_counter() - t:.2f} s; {len(library.names())} library models")
PY
"$TMP/venv/bin/bayesmixed" models
"$TMP/venv/bin/bayesmixed" fit --model sleepstudy --chains 2 --draws 300 --tune 300 --seed 1 \
    --out "$TMP/run" --quiet
test -f "$TMP/run/manifest.json" && test -f "$TMP/run/report.html"
echo "wheel: installed package lists models, fits sleepstudy and writes a complete run folder"
