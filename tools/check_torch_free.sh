#!/usr/bin/env bash
# Clean pages without torch: build the wheel, install it into a fresh virtual
# environment with its core dependencies only (numpy, Pillow, scikit-learn,
# scikit-image, onnxruntime; no torch), then check that the command line and the
# library clean pages with the shipped model and with a saved ONNX model, that
# training says it needs torch (tests/test_torch_free.py, run against the installed
# wheel), and that --help and info answer without importing anything heavy.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
py=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/docdenoise-*.whl)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$wheel" pytest 2> >(grep -v "is ignored" >&2)
if "$work/venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "torch was installed by 'pip install docdenoise'; it must stay optional"; exit 1
fi
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "torch-free environment: $(du -sm "$site" | cut -f1) MiB in site-packages"
cd "$work"  # away from the source tree, so the installed wheel is what gets imported
"$work/venv/bin/docdenoise" --help >/dev/null
"$work/venv/bin/docdenoise" info
"$work/venv/bin/python" - <<'PY'
from docdenoise.datasets import make_dirty_documents, save_images

noisy, _ = make_dirty_documents(3, shape=(120, 160), random_state=0)
save_images(list(noisy), "scans", names=["a", "b", "c"])
PY
"$work/venv/bin/docdenoise" denoise scans/ -o out/
test "$(ls out | wc -l)" -eq 3
DOCDENOISE_INSTALLED_WHEEL=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
  -o addopts="" --rootdir "$work" "$repo/tests/test_torch_free.py"
echo "torch-free OK"
