"""docdenoise: clean scanned documents before people and OCR read them.

The main entry point is :class:`DocumentDenoiser`, a scikit-learn transformer that
learns from noisy/clean image pairs. Data helpers live in :mod:`docdenoise.datasets`,
networks in :mod:`docdenoise.models`.
"""

from __future__ import annotations

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
