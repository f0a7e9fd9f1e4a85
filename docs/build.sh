#!/usr/bin/env bash
# Build the HTML documentation the way CI does: warnings are errors, and the
# gallery examples (examples/plot_*.py) are executed. No network access is needed.
#
#   bash docs/build.sh            # build into docs/_build/html
#   bash docs/build.sh --install  # first install the docs extra (pip install -e ".[docs]")
#
# Set DOCS_CLEAN=1 to start from scratch (removes docs/_build, docs/generated and
# docs/auto_examples), which is what CI should do. The Python used is $PYTHON, else
# .venv/bin/python when it exists, else python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi

if [[ "${1:-}" == "--install" ]]; then
    "$PYTHON" -m pip install -e ".[docs]"
fi
if [[ "${DOCS_CLEAN:-0}" == "1" ]]; then
    rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
fi

export MPLBACKEND=Agg
start=$(date +%s)
"$PYTHON" -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs built in $(( $(date +%s) - start )) s: docs/_build/html/index.html"
