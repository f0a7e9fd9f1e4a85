"""Shared pytest configuration for the docdenoise tests."""

from __future__ import annotations

import os
import runpy
import shutil
import sys
from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=1)
def _pdf_problem() -> str | None:
    """Why PDF files cannot be read and written here (the ``pdf`` extra), or None."""
    for module in ("pypdfium2", "img2pdf", "pikepdf"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed (pip install docdenoise[pdf])"
    return None


@lru_cache(maxsize=1)
def _ocrmypdf_problem() -> str | None:
    """Why OCRmyPDF with Tesseract cannot run here, or None when it can."""
    problem = _pdf_problem()
    if problem is not None:
        return problem
    try:
        import ocrmypdf  # noqa: F401
    except ImportError:
        return "the Python package ocrmypdf is not installed (Python >= 3.11)"
    if shutil.which("tesseract") is None:
        return "the tesseract program is not installed"
    return None


@lru_cache(maxsize=1)
def _web_problem() -> str | None:
    """Why the web page cannot be served and tested here (the ``web`` extra), or None."""
    for module in ("starlette", "uvicorn", "httpx2"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed (pip install -e '.[dev]')"
    return None


#: The browser the browser tests drive: Debian's chromium and chromium-driver.
CHROMIUM = ("chromium", "chromedriver")
#: The Debian packages that bring them.
DEBIAN = ("chromium", "chromium-driver")


@lru_cache(maxsize=1)
def _browser_problem() -> str | None:
    """Why a headless Chromium cannot be driven here, or None when it can."""
    problem = _web_problem()
    if problem is not None:
        return problem
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed"
    for program in CHROMIUM:
        if shutil.which(program) is None:
            return f"the {program} program is not installed (apt-get install {' '.join(DEBIAN)})"
    return None


def pytest_configure(config: pytest.Config) -> None:
    """An unexpected device fallback fails the test (tests that expect it use pytest.warns)."""
    config.addinivalue_line("filterwarnings", "error::docdenoise.exceptions.DeviceWarning")


#: marker -> (what it needs, why it cannot run, the variable that makes a skip a failure)
_NEEDS = {
    "ocr": ("Tesseract OCR", _tesseract_problem, "DOCDENOISE_REQUIRE_TESSERACT"),
    "pdf": ("the pdf extra", _pdf_problem, "DOCDENOISE_REQUIRE_PDF"),
    "ocrmypdf": ("OCRmyPDF and Tesseract", _ocrmypdf_problem, "DOCDENOISE_REQUIRE_PDF"),
    "web": ("the web extra", _web_problem, "DOCDENOISE_REQUIRE_WEB"),
    "browser": ("a headless Chromium", _browser_problem, "DOCDENOISE_REQUIRE_WEB"),
}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip tests marked ``ocr``, ``pdf``, ``ocrmypdf``, ``web`` or ``browser`` when what
    they need is missing.

    Set ``DOCDENOISE_REQUIRE_TESSERACT=1``, ``DOCDENOISE_REQUIRE_PDF=1`` and
    ``DOCDENOISE_REQUIRE_WEB=1`` (as CI does) to turn the skips into failures, so
    that a broken setup cannot pass unnoticed.
    """
    for marker, (what, problem_of, variable) in _NEEDS.items():
        if item.get_closest_marker(marker) is None:
            continue
        problem = problem_of()
        if problem is None:
            continue
        if os.environ.get(variable) == "1":
            pytest.fail(f"{variable}=1 but {problem}.", pytrace=False)
        pytest.skip(f"needs {what}: {problem}")


# --------------------------------------------------------------------------- PDF files


class PdfMaker:
    """Writes the PDF files the tests need: scans, born-digital text, broken files.

    Uses img2pdf and pikepdf (the ``pdf`` extra); only for tests marked ``pdf``.
    """

    def __init__(self, folder) -> None:
        self.folder = folder

    def scan(self, name, pages, dpi=150):
        """A scanned PDF: one page per 2-D uint8 array, each at ``dpi``."""
        import io

        import img2pdf
        from PIL import Image

        encoded = []
        for page in pages:
            buf = io.BytesIO()
            Image.fromarray(page).save(buf, format="PNG", dpi=(dpi, dpi))
            encoded.append(buf.getvalue())
        path = self.folder / name
        path.write_bytes(img2pdf.convert(encoded))
        return path

    def text(self, name, n_pages=1, size=(612, 792)):
        """A born-digital PDF: a line of vector text on each page, no image."""
        import pikepdf

        pdf = pikepdf.new()
        font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type1,
                BaseFont=pikepdf.Name.Helvetica,
            )
        )
        for _ in range(n_pages):
            page = pdf.add_blank_page(page_size=size)
            page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            page.Contents = pdf.make_stream(b"BT /F1 24 Tf 10 20 Td (Hello world) Tj ET")
        path = self.folder / name
        pdf.save(path)
        return path

    def append_text_page(self, path, size=(612, 792)):
        """Add a born-digital page of ``size`` points to an existing PDF."""
        import pikepdf

        text = self.text("_text_page.pdf", size=size)
        with pikepdf.open(path, allow_overwriting_input=True) as pdf, pikepdf.open(text) as src:
            pdf.pages.append(src.pages[0])
            pdf.save(path)
        return path

    def encrypted(self, name, source):
        """``source`` encrypted with a user password."""
        import pikepdf

        path = self.folder / name
        with pikepdf.open(source) as pdf:
            pdf.save(path, encryption=pikepdf.Encryption(owner="owner", user="secret"))
        return path

    def empty(self, name):
        """A valid PDF with no pages."""
        import pikepdf

        path = self.folder / name
        pikepdf.new().save(path)
        return path

    def damaged(self, name, source):
        """The first half of ``source``."""
        data = source.read_bytes()
        path = self.folder / name
        path.write_bytes(data[: len(data) // 2])
        return path


def _write_tiff(path, pages, dpi=(300, 300)):
    """A (multi-page) TIFF with one page per 2-D uint8 array."""
    from PIL import Image

    frames = [Image.fromarray(page) for page in pages]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=dpi)
    return path


@pytest.fixture
def write_tiff():
    """``write_tiff(path, pages, dpi=(300, 300))`` writes a multi-page TIFF."""
    return _write_tiff


@pytest.fixture
def pdfs(tmp_path):
    """A :class:`PdfMaker` writing into a fresh folder."""
    folder = tmp_path / "pdfs"
    folder.mkdir()
    return PdfMaker(folder)


@pytest.fixture(scope="session")
def text_page():
    """A 150-dpi page (uint8) with two lines of large print that Tesseract reads."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (900, 260), 235)
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=40)
    draw.text((40, 50), "THE QUICK BROWN FOX", fill=20, font=font)
    draw.text((40, 150), "JUMPS OVER THE DOG", fill=20, font=font)
    return np.asarray(im)


@pytest.fixture(scope="session")
def white_model(tmp_path_factory):
    """A model file that turns every page white: what it cleans has no text left."""
    import numpy as np

    from docdenoise import DocumentDenoiser
    from docdenoise.datasets import make_dirty_documents

    noisy, _ = make_dirty_documents(4, shape=(32, 48), random_state=0)
    den = DocumentDenoiser(epochs=3, lr=0.05, random_state=0, device="cpu")
    path = tmp_path_factory.mktemp("white") / "white.safetensors"
    den.fit(noisy, np.ones_like(noisy)).save(path)
    return path


@pytest.fixture(scope="session")
def benchmark_script():
    """``load(name)``: the globals of ``benchmarks/<name>`` run as a module, not as main.

    The benchmarks import their siblings (``benchmarks/_models.py``), so the folder
    is on ``sys.path`` while the script loads.
    """
    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str) -> dict:
        sys.path.insert(0, str(folder))
        try:
            return runpy.run_path(str(folder / name))
        finally:
            sys.path.remove(str(folder))

    return load
