"""docdenoise: clean scanned documents before people and OCR read them.

The main entry point is :class:`DocumentDenoiser`, a scikit-learn transformer that
learns from noisy/clean image pairs. Data helpers live in :mod:`docdenoise.datasets`,
networks in :mod:`docdenoise.models`.

The public names are imported on first use (PEP 562), so ``import docdenoise`` and
the ``docdenoise`` command start fast, and nothing here imports torch: cleaning
pages with the onnx engine works where torch is not installed.
"""

from __future__ import annotations

import importlib
import os as _os
import sys as _sys
from typing import TYPE_CHECKING, Any

# Before torch is imported: let torch's OpenMP threads sleep while they wait, not
# spin. Spinning threads slowed torch 3-100x on a machine where another process
# competes for the cores (benchmarks/bench_busy.py, docs: performance). libgomp
# reads the variable once, when torch loads it, so it is set only when torch is
# not imported yet, and never over the user's own choice (as scikit-learn sets
# KMP_* variables).
if "torch" not in _sys.modules:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._version import __version__

if TYPE_CHECKING:
    from . import baselines, datasets, evaluation, metrics, models, ocr, scorers
    from ._denoiser import DocumentDenoiser
    from ._devices import available_devices, resolve_device
    from ._searchable import make_searchable_pdf
    from .baselines import ClassicalDenoiser
    from .exceptions import (
        DeviceError,
        DeviceWarning,
        DivergenceError,
        DocDenoiseError,
        ExportError,
        ImageFileError,
        InvalidImageError,
        ModelFileError,
        NotFittedError,
        OCRNotAvailableError,
        TrainingInterruptedWarning,
    )
    from .models._pretrained import pretrained_models
    from .ocr import TesseractOCR

__all__ = [
    "ClassicalDenoiser",
    "TesseractOCR",
    "baselines",
    "datasets",
    "evaluation",
    "metrics",
    "models",
    "ocr",
    "scorers",
    "DeviceError",
    "DeviceWarning",
    "DivergenceError",
    "DocDenoiseError",
    "DocumentDenoiser",
    "ExportError",
    "ImageFileError",
    "InvalidImageError",
    "ModelFileError",
    "NotFittedError",
    "OCRNotAvailableError",
    "TrainingInterruptedWarning",
    "__version__",
    "available_devices",
    "make_searchable_pdf",
    "pretrained_models",
    "resolve_device",
]

#: The module holding each public name that is not a submodule (or an exception).
_HOMES = {
    "ClassicalDenoiser": ".baselines",
    "TesseractOCR": ".ocr",
    "DocumentDenoiser": "._denoiser",
    "pretrained_models": ".models._pretrained",
    "available_devices": "._devices",
    "resolve_device": "._devices",
    "make_searchable_pdf": "._searchable",
}
_SUBMODULES = {"baselines", "datasets", "evaluation", "metrics", "models", "ocr", "scorers"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module("." + name, __name__)
    elif name in __all__:
        module = importlib.import_module(_HOMES.get(name, ".exceptions"), __name__)
        value = getattr(module, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
