"""Exceptions and warnings raised by docdenoise.

Every error a user can trigger with bad input derives from :class:`DocDenoiseError`
and from the matching built-in exception (``ValueError``, ``RuntimeError`` ...), so
``except ValueError`` keeps working for code written against scikit-learn.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "DeviceError",
    "DeviceWarning",
    "DivergenceError",
    "DocDenoiseError",
    "ExportError",
    "ImageFileError",
    "InvalidImageError",
    "ModelFileError",
    "NotFittedError",
    "OCRNotAvailableError",
    "TrainingInterruptedWarning",
]


class DocDenoiseError(Exception):
    """Base class of every exception raised on purpose by docdenoise."""


class NotFittedError(DocDenoiseError, _SklearnNotFittedError):
    """A method that needs a fitted estimator was called before ``fit``.

    Subclasses :class:`sklearn.exceptions.NotFittedError`, so scikit-learn's own
    ``check_is_fitted`` handling applies.
    """


class InvalidImageError(DocDenoiseError, ValueError):
    """Image data has the wrong type, shape, dtype or value range."""


class ImageFileError(DocDenoiseError, ValueError):
    """An image file is missing, unreadable, corrupt or too large. Names the file."""


class ModelFileError(DocDenoiseError, ValueError):
    """A model file is not a docdenoise model, is damaged, or is incompatible."""


class ExportError(DocDenoiseError, RuntimeError):
    """A network cannot be exported to ONNX, or its export does not reproduce it."""


class DeviceError(DocDenoiseError, RuntimeError):
    """The requested torch device is not available on this machine."""


class DivergenceError(DocDenoiseError, RuntimeError):
    """Training produced a non-finite loss (NaN or infinity)."""


class OCRNotAvailableError(DocDenoiseError, RuntimeError):
    """The Tesseract OCR engine or its Python binding is not installed."""


class DeviceWarning(UserWarning):
    """A device-related fallback happened (for example a GPU model loaded on the CPU)."""


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); ``fit`` kept the weights learned so far."""
