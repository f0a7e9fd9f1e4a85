"""docdenoise: clean scanned documents before people and OCR read them.

The main entry point is :class:`DocumentDenoiser`, a scikit-learn transformer that
learns from noisy/clean image pairs. Data helpers live in :mod:`docdenoise.datasets`,
networks in :mod:`docdenoise.models`.
"""

from __future__ import annotations

import os as _os
import sys as _sys

# Before torch is imported: let torch's OpenMP threads sleep while they wait, not
# spin. Spinning threads slowed torch 3-100x on a machine where another process
# competes for the cores (benchmarks/bench_busy.py, docs: performance). libgomp
# reads the variable once, when torch loads it, so it is set only when torch is
# not imported yet, and never over the user's own choice (as scikit-learn sets
# KMP_* variables).
if "torch" not in _sys.modules:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import baselines, datasets, evaluation, metrics, models, ocr, scorers
from ._denoiser import DocumentDenoiser, pretrained_models
from ._devices import available_devices, resolve_device
from ._searchable import make_searchable_pdf
from ._version import __version__
from .baselines import ClassicalDenoiser
from .exceptions import (
    DeviceError,
    DeviceWarning,
    DivergenceError,
    DocDenoiseError,
    ImageFileError,
    InvalidImageError,
    ModelFileError,
    NotFittedError,
    OCRNotAvailableError,
    TrainingInterruptedWarning,
)
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
