"""Shared pytest configuration for the docdenoise tests."""

from __future__ import annotations

import os
from functools import lru_cache

import pytest


@lru_cache(maxsize=1)
def _tesseract_problem() -> str | None:
    """Why Tesseract OCR cannot run here, or None when it can."""
    try:
        import pytesseract
    except ImportError:
        return "the Python package pytesseract is not installed"
    try:
        pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        return f"the tesseract program is not usable ({type(exc).__name__})"
    return None


def pytest_configure(config: pytest.Config) -> None:
    """An unexpected device fallback fails the test (tests that expect it use pytest.warns)."""
    config.addinivalue_line("filterwarnings", "error::docdenoise.exceptions.DeviceWarning")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``@pytest.mark.ocr`` tests without Tesseract; fail if it is required.

    Set ``DOCDENOISE_REQUIRE_TESSERACT=1`` (as CI does) to turn the skip into a
    failure, so that a broken OCR setup cannot pass unnoticed.
    """
    if item.get_closest_marker("ocr") is None:
        return
    problem = _tesseract_problem()
    if problem is None:
        return
    if os.environ.get("DOCDENOISE_REQUIRE_TESSERACT") == "1":
        pytest.fail(f"DOCDENOISE_REQUIRE_TESSERACT=1 but {problem}.", pytrace=False)
    pytest.skip(f"needs Tesseract OCR: {problem}")
