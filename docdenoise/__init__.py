"""docdenoise: clean scanned documents before people and OCR read them."""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
