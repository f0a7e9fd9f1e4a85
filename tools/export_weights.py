"""Regenerate the ONNX twin of every shipped model: weights/NAME.safetensors -> NAME.onnx.

The shipped models are trained and saved with torch (``.safetensors``); the onnx
engine, which cleans pages without torch, runs ``NAME.onnx`` beside each. After new
weights land, run (needs the export extra: torch, onnx, onnxscript)::

    .venv/bin/python tools/export_weights.py

and commit the ``.onnx`` files with the weights. ``--check`` writes nothing and
exits 1 when an ``.onnx`` is missing or was exported from other weights (the test
suite runs the same check: ``tests/test_engines.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docdenoise import DocumentDenoiser
from docdenoise._onnx_engine import OnnxNetwork, read_onnx_file
from docdenoise._serialization import read_model_file
from docdenoise.exceptions import ModelFileError

WEIGHTS = Path(__file__).resolve().parents[1] / "docdenoise" / "weights"


def stale(weights: Path) -> str | None:
    """Why ``weights``' ``.onnx`` twin must be regenerated, or None when it is current."""
    twin = weights.with_suffix(".onnx")
    if not twin.is_file():
        return f"{twin.name} is missing"
    _, meta = read_model_file(weights)
    try:
        exported = OnnxNetwork(read_onnx_file(twin), name=str(twin)).meta
    except ModelFileError as exc:
        return str(exc)
    if exported.get("weights_sha256") != meta["weights_sha256"]:
        return f"{twin.name} was exported from other weights than {weights.name}"
    saved, carried = meta.get("params") or {}, exported.get("params") or {}
    # (device is where a loaded model runs, set by load(); not a setting of the model)
    if any(carried.get(k) != v for k, v in saved.items() if k != "device"):
        return f"{twin.name} carries other parameters than {weights.name}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args()
    status = 0
    for weights in sorted(WEIGHTS.glob("*.safetensors")):
        why = stale(weights)
        if why is None:
            print(f"{weights.with_suffix('.onnx').name}: current")
        elif args.check:
            print(f"{weights.with_suffix('.onnx').name}: STALE ({why})")
            status = 1
        else:
            DocumentDenoiser.load(weights, device="cpu").export_onnx(weights.with_suffix(".onnx"))
            print(f"{weights.with_suffix('.onnx').name}: exported ({why})")
    return status


if __name__ == "__main__":
    sys.exit(main())
