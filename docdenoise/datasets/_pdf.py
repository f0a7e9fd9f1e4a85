"""Read the pages of a PDF file as grey images, one page at a time, with pypdfium2.

* A page that is one upright image covering the page (what scanners and
  OCRmyPDF write; an invisible OCR text layer may lie over it) gives that image's
  pixels exactly as stored, in grey (colour by ITU-R 601-2 luma, as for image
  files), turned as the page is shown, at the image's own resolution.
* Any other page is rendered whole (images, vector drawings, visible text,
  annotations) in PDFium's grey mode: at the resolution of its finest image when
  an image covers at least half of the page (a scan with a stamp drawn over it),
  otherwise at ``dpi``. Rendering resamples the images a little.

A document in which no page holds an image at all is refused: it is born-digital
text, not a scan, and turning it into pictures would only lose its text.

pypdfium2 (a wheel that bundles PDFium; no system package) is an optional
dependency: ``pip install "docdenoise[pdf]"``. PDFium is not thread-safe, so every
call into it holds one lock; pages are still read lazily, one at a time. When
PDFium cannot open a file, pikepdf (installed with the same extra) tells why:
encrypted, damaged, or without pages.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ImageFileError
from ._io import _check_file, check_pixel_count

__all__ = ["PDF_HINT", "count_pdf_pages", "iter_pdf_pages"]

PDF_HINT = 'install the PDF extra with: pip install "docdenoise[pdf]"'

#: A page counts as scanned when one image covers at least this share of it.
_SCAN_COVERAGE = 0.5

#: PDFium is not thread-safe: one lock for every call into it.
_PDFIUM_LOCK = threading.RLock()


def _pdfium() -> Any:
    try:
        import pypdfium2
    except ImportError:
        return None
    return pypdfium2


def _why_unreadable(path: Path, pdfium_message: str) -> str:
    """The reason PDFium could not open ``path``, in words (asks pikepdf)."""
    name = str(path)
    try:
        import pikepdf
    except ImportError:
        return f"{name!r} cannot be read as a PDF ({pdfium_message})."
    try:
        with pikepdf.open(path) as pdf:
            n_pages = len(pdf.pages)
    except pikepdf.PasswordError:
        return (
            f"{name!r} is an encrypted (password-protected) PDF; decrypt it first, e.g. "
            f"qpdf --decrypt --password=PASSWORD {name} decrypted.pdf"
        )
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        return f"{name!r} is a damaged PDF or not a PDF at all: {exc}"
    if n_pages == 0:
        return f"{name!r} is a PDF with no pages; there is nothing to clean."
    return f"{name!r} cannot be read as a PDF ({pdfium_message})."


def _open(path: Path) -> Any:
    pdfium = _pdfium()
    if pdfium is None:
        raise ImageFileError(
            f"{str(path)!r} is a PDF; reading PDF files needs pypdfium2: {PDF_HINT}."
        )
    _check_file(path, "PDF file")
    try:
        with _PDFIUM_LOCK:
            return pdfium.PdfDocument(path)
    except PermissionError:
        raise ImageFileError(f"PDF file {str(path)!r} cannot be read: permission denied.") from None
    except pdfium.PdfiumError as exc:
        message = str(exc).removeprefix("Failed to load document ").strip("().")
        raise ImageFileError(_why_unreadable(path, message)) from None


def _open_document(path: Path) -> tuple[Any, int]:
    """Open a PDF that has pages and at least one image; (document, page count)."""
    name = str(path)
    doc = _open(path)
    try:
        with _PDFIUM_LOCK:
            n_pages = len(doc)
        if n_pages == 0:
            raise ImageFileError(f"{name!r} is a PDF with no pages; there is nothing to clean.")
        if not any(_has_image(doc, i) for i in range(n_pages)):
            raise ImageFileError(
                f"{name!r} holds no scanned images on any of its {n_pages} page(s): it "
                "is vector text or drawings (a born-digital PDF), which needs no "
                "cleaning. To clean it anyway, turn it into images first, e.g. "
                f"pdftoppm -r 300 -gray -tiff {name} page"
            )
    except BaseException:
        with _PDFIUM_LOCK:
            doc.close()
        raise
    return doc, n_pages


def count_pdf_pages(path: str | Path) -> int:
    """Number of pages of a scanned PDF file, after checking that it can be read.

    Parameters
    ----------
    path : str or path-like
        The PDF file.

    Returns
    -------
    n_pages : int
        At least 1.

    Raises
    ------
    ImageFileError
        The file is missing, encrypted, damaged, has no pages or no image on any
        page (born-digital), or pypdfium2 is not installed.
    """
    doc, n_pages = _open_document(Path(path))
    with _PDFIUM_LOCK:
        doc.close()
    return n_pages


def _scan_resolution(page: Any, page_area: float) -> float:
    """The finest dpi of the images covering at least half of ``page``; 0 if none does.

    Images inside form XObjects count too, with their position as PDFium reports it.
    """
    import pypdfium2.raw as pdfium_c

    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        width_px, height_px = obj.get_px_size()
        m = obj.get_matrix()  # maps the unit square to the image's place on the page
        span_x, span_y = math.hypot(m.a, m.b), math.hypot(m.c, m.d)  # in points
        left, bottom, right, top = obj.get_bounds()
        if (
            min(span_x, span_y, width_px, height_px) > 0
            and (right - left) * (top - bottom) >= _SCAN_COVERAGE * page_area
        ):
            best = max(best, 72.0 * width_px / span_x, 72.0 * height_px / span_y)
    return best


def iter_pdf_pages(
    path: str | Path,
    *,
    dpi: float = 300.0,
    max_pixels: int | None = None,
) -> Iterator[tuple[np.ndarray, tuple[float, float], int]]:
    """Render the pages of a PDF file one at a time, as 8-bit grey images.

    Parameters
    ----------
    path : str or path-like
        The PDF file.
    dpi : float, default=300
        Resolution for pages that are not scans (see the module docstring).
    max_pixels : int or None, default=None
        Refuse a page that would have more pixels than this, before rendering it.

    Yields
    ------
    image : ndarray of uint8, shape (H, W)
        The page.
    dpi : (float, float)
        Its horizontal and vertical resolution: the page's width in inches is
        ``W / dpi[0]``, exactly.
    n_pages : int
        The number of pages in the file.

    Raises
    ------
    ImageFileError
        The file cannot be opened (encrypted, damaged, no pages), holds no images
        on any page, or a page cannot be rendered or is too large. The message
        names the file and, where it applies, the page (counted from 1).
    """
    path = Path(path)
    doc, n_pages = _open_document(path)
    try:
        for index in range(n_pages):
            where = f"{str(path)!r}, page {index + 1} of {n_pages}"
            with _PDFIUM_LOCK:
                image, page_dpi = _render(doc, index, dpi, max_pixels, where)
            yield image, page_dpi, n_pages
    finally:
        with _PDFIUM_LOCK:
            doc.close()


def _has_image(doc: Any, index: int) -> bool:
    """Whether page ``index`` draws at least one image (a damaged page counts as one:
    its error is reported when it is rendered)."""
    import pypdfium2.raw as pdfium_c

    with _PDFIUM_LOCK:
        try:
            page = doc[index]
        except _pdfium().PdfiumError:
            return True
        try:
            return next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]), None) is not None
        finally:
            page.close()


def _lone_scan(page: Any) -> Any:
    """The image of a page that is one upright image covering it, else None.

    Invisible text (an OCR layer) is allowed beside it; anything else visible
    (drawings, visible text, annotations, a second image) means the page must be
    rendered as a whole.
    """
    import pypdfium2.raw as pdfium_c

    if pdfium_c.FPDFPage_GetAnnotCount(page.raw):
        return None
    images = []
    for obj in page.get_objects():
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            images.append(obj)
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) != (
                pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
            ):
                return None
        elif obj.type != pdfium_c.FPDF_PAGEOBJ_FORM:
            return None
    if len(images) != 1 or images[0].level != 0:
        return None
    image = images[0]
    m = image.get_matrix()
    width_px, height_px = image.get_px_size()
    if m.b or m.c or m.a <= 0 or m.d <= 0 or width_px < 1 or height_px < 1:
        return None
    left, bottom, right, top = page.get_cropbox()
    half_x, half_y = 0.5 * m.a / width_px, 0.5 * m.d / height_px  # half a pixel, in points
    if (
        abs(m.e - left) > half_x
        or abs(m.e + m.a - right) > half_x
        or abs(m.f - bottom) > half_y
        or abs(m.f + m.d - top) > half_y
    ):
        return None
    return image


def _extract(page: Any, image: Any, max_pixels: int | None, where: str) -> Any:
    """The pixels of a lone scan as stored (grey levels), turned as the page is shown.

    None when PDFium hands the image over in a form other than grey or colour
    without alpha (the page is then rendered instead).
    """
    import pypdfium2.raw as pdfium_c
    from PIL import Image

    width_px, height_px = image.get_px_size()
    check_pixel_count(where, width_px, height_px, max_pixels, verb="would be")
    bitmap = image.get_bitmap(render=False)
    array = bitmap.to_numpy()
    if bitmap.format == pdfium_c.FPDFBitmap_Gray:
        grey = np.array(array.reshape(array.shape[:2]), dtype=np.uint8)
    elif bitmap.format in (pdfium_c.FPDFBitmap_BGR, pdfium_c.FPDFBitmap_BGRx):
        rgb = np.ascontiguousarray(
            array[..., 2::-1] if not bitmap.rev_byteorder else array[..., :3]
        )
        grey = np.asarray(Image.fromarray(rgb, mode="RGB").convert("L"))  # ITU-R 601-2 luma
    else:
        return None
    m = image.get_matrix()
    dpi = (72.0 * width_px / m.a, 72.0 * height_px / m.d)
    turns = (page.get_rotation() // 90) % 4  # the page is shown turned clockwise
    if turns:
        grey = np.ascontiguousarray(np.rot90(grey, k=-turns))
        if turns % 2:
            dpi = (dpi[1], dpi[0])
    return grey, dpi


def _render(
    doc: Any, index: int, dpi: float, max_pixels: int | None, where: str
) -> tuple[np.ndarray, tuple[float, float]]:
    pdfium = _pdfium()
    try:
        page = doc[index]
    except pdfium.PdfiumError as exc:
        raise ImageFileError(f"{where} cannot be read: {exc}") from None
    try:
        scan = _lone_scan(page)
        if scan is not None:
            extracted = _extract(page, scan, max_pixels, where)
            if extracted is not None:
                return extracted
        width_pt, height_pt = page.get_size()  # after the page's /Rotate
        if not (width_pt > 0 and height_pt > 0):
            raise ImageFileError(f"{where} has no area ({width_pt} x {height_pt} points).")
        render_dpi = _scan_resolution(page, width_pt * height_pt) or float(dpi)
        width = max(1, round(width_pt * render_dpi / 72.0))
        height = max(1, round(height_pt * render_dpi / 72.0))
        at, fix = f" at {render_dpi:.0f} dpi", ""
        if render_dpi == dpi:  # not a scan's own resolution
            fix = " or a lower dpi (--dpi)"
        check_pixel_count(where, width, height, max_pixels, verb="would be", at=at, fix=fix)
        try:
            bitmap = page.render(scale=render_dpi / 72.0, grayscale=True)
            array = bitmap.to_numpy()
        except (pdfium.PdfiumError, MemoryError, ValueError) as exc:
            raise ImageFileError(f"{where} cannot be rendered: {exc}") from None
        # PDFium rounds the bitmap size up; keep the page's own rounded size.
        array = np.array(array.reshape(array.shape[:2])[:height, :width], dtype=np.uint8)
    finally:
        page.close()
    page_dpi = (72.0 * array.shape[1] / width_pt, 72.0 * array.shape[0] / height_pt)
    return array, page_dpi
