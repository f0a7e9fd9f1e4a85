#!/usr/bin/env bash
# Build the wheel, install it with the torch extra into a fresh virtual environment
# (torch from the CPU build first, as the README says) and check that it carries what
# it needs at run time: the shipped weights load and clean a page, the console script
# works, the pdf extra and the OCRmyPDF plugin load, and the web page's files are in.
# tools/check_torch_free.sh checks the same wheel without torch (and serves the web
# page from it).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/docdenoise-*.whl)
echo "built $(basename "$wheel")"
"$py" -m zipfile -l "$wheel" | awk '{print $1}' | grep -E '^docdenoise/' | sort >"$work/contents.txt"
for needed in docdenoise/py.typed docdenoise/__init__.py docdenoise/models/cae.py \
  docdenoise/web/static/index.html docdenoise/web/static/app.js docdenoise/web/static/style.css; do
  grep -qx "$needed" "$work/contents.txt" || { echo "wheel lacks $needed"; exit 1; }
done
if ls docdenoise/weights/*.safetensors >/dev/null 2>&1; then
  for f in docdenoise/weights/*.safetensors docdenoise/weights/*.onnx docdenoise/weights/*.json; do
    grep -qx "$f" "$work/contents.txt" || { echo "wheel lacks $f"; exit 1; }
  done
fi
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q torch==2.13.0 2> >(grep -v "is ignored" >&2)
"$work/venv/bin/pip" install -q "$wheel[torch]" 2> >(grep -v "is ignored" >&2)
cd "$work"  # away from the source tree, so the installed wheel is what gets imported
"$work/venv/bin/python" - <<'PY'
import numpy as np
import docdenoise
from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents

assert "site-packages" in docdenoise.__file__, docdenoise.__file__
noisy, clean = make_dirty_documents(2, shape=(40, 56), random_state=0)
names = docdenoise.pretrained_models()
if names:
    den = DocumentDenoiser.pretrained()
    out = den.transform(noisy)
    assert out.shape == noisy.shape and np.isfinite(out).all()
    print("pretrained models in the wheel:", names)
den = DocumentDenoiser(epochs=1, random_state=0).fit(noisy, clean)
print("wheel OK: docdenoise", docdenoise.__version__, "score", round(den.score(noisy, clean), 4))
PY
"$work/venv/bin/docdenoise" --version
# The pdf extra installs (OCRmyPDF only where Python >= 3.11) and the plugin loads.
"$work/venv/bin/pip" install -q "${wheel}[pdf]" 2> >(grep -v "is ignored" >&2)
"$work/venv/bin/python" -c "import pypdfium2, img2pdf; print('pdf extra OK')"
if "$work/venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  "$work/venv/bin/python" -m ocrmypdf --plugin docdenoise.ocrmypdf_plugin --help \
    | grep -q -- "--docdenoise-final" || { echo "the OCRmyPDF plugin did not load"; exit 1; }
  echo "OCRmyPDF plugin OK"
fi
