#!/usr/bin/env bash
# Clean pages without torch: build the wheel, install it into a fresh virtual
# environment with its core dependencies only (numpy, Pillow, scikit-learn,
# scikit-image, onnxruntime; no torch), then check that the command line and the
# library clean pages with the shipped model and with a saved ONNX model, that
# training says it needs torch (tests/test_torch_free.py, run against the installed
# wheel), that --help and info answer without importing anything heavy, and that
# 'docdenoise serve' says how to install the web extra, then, with it, serves its
# page from the wheel, cleans an uploaded page and deletes its temporary folder.
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
# Without the web extra, 'docdenoise serve' says how to install it.
if "$work/venv/bin/docdenoise" serve --port 0 2>"$work/serve.err"; then
  echo "docdenoise serve ran without the web extra"; exit 1
fi
grep -q 'pip install "docdenoise\[web\]"' "$work/serve.err" || { cat "$work/serve.err"; exit 1; }
# With it (still no torch), the page comes from the wheel and cleans a page.
"$work/venv/bin/pip" install -q "${wheel}[web]" 2> >(grep -v "is ignored" >&2)
mkdir "$work/tmp"
TMPDIR="$work/tmp" "$work/venv/bin/python" - "$work/venv/bin/docdenoise" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.request

server = subprocess.Popen([sys.argv[1], "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline()
    url = line.split()[4]
    for path, expected in [("", "<title>docdenoise"), ("static/app.js", "/api/jobs")]:
        with urllib.request.urlopen(url + path, timeout=30) as answer:
            assert expected in answer.read().decode(), path
    with open("scans/a.png", "rb") as fh:
        upload = urllib.request.Request(url + "api/jobs?name=a.png", fh.read(), method="POST")
    with urllib.request.urlopen(upload, timeout=30) as answer:
        job = json.load(answer)
    for _ in range(300):
        with urllib.request.urlopen(f"{url}api/jobs/{job['id']}", timeout=30) as answer:
            job = json.load(answer)
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["state"] == "done", job
    assert any(n.startswith("docdenoise-serve-") for n in os.listdir(os.environ["TMPDIR"]))
finally:
    server.send_signal(signal.SIGINT)
    server.wait(timeout=60)
assert server.returncode == 0, server.returncode
# (onnxruntime keeps a session file, .ses, in the temporary directory when imported)
left = [n for n in os.listdir(os.environ["TMPDIR"]) if n != ".ses"]
assert not left, left
assert "torch" not in subprocess.run(
    [sys.executable, "-m", "pip", "list"], capture_output=True, text=True
).stdout.split()
print("web page without torch OK:", line.strip())
PY
echo "torch-free OK"
