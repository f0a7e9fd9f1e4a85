"""Write pages as one PDF, one multi-page TIFF or one PNG, atomically.

The kind of file follows the destination's suffix. Pages are written as they
arrive from the iterable, so a long document is never decoded in memory at once:
a TIFF receives each page as it comes; a PDF keeps each page compressed (PNG or
CCITT G4, a few hundred kB for a cleaned A4 page) until the file is assembled by
img2pdf, losslessly. Each page keeps its physical size: a PDF page is the image's
size in pixels divided by its dpi; PNG and TIFF files store the dpi.

Everything goes to a temporary file next to the destination, which is moved into
place only when the last page is written: an error on page 7 (a damaged input
page, a full disk, Ctrl-C) leaves no half-written file behind.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, TiffImagePlugin

from .._atomic import atomic_write
from .._params import BIT_DEPTH, DPI
from .._validation import check_images
from ..exceptions import ImageFileError
from ._io import grey_levels
from ._pages import Page
from ._pdf import PDF_HINT

__all__ = ["OUTPUT_SUFFIXES", "save_pages"]

#: Destination suffixes :func:`save_pages` writes, and the kind of file each gives.
OUTPUT_SUFFIXES = {".pdf": "PDF", ".tif": "TIFF", ".tiff": "TIFF", ".png": "PNG"}

#: Resolution given to pages that do not say theirs, when the file needs one.
DEFAULT_DPI = 300.0

#: The smallest PDF page side (in points) that PDF readers accept.
_MIN_PDF_POINTS = 3.0


def check_destination(dest: Path, overwrite: bool) -> None:
    """Refuse, before any work, a destination that is a folder, exists, or has no folder."""
    if dest.is_dir():
        raise ImageFileError(f"{str(dest)!r} is a folder; expected a file path.")
    if dest.exists() and not overwrite:
        raise ImageFileError(f"{str(dest)!r} already exists; pass overwrite=True to replace it.")
    if not dest.parent.is_dir():
        raise ImageFileError(
            f"Cannot write {str(dest)!r}: folder {str(dest.parent)!r} does not exist."
        )


def _check_dpi(dpi: Any) -> tuple[float, float] | None:
    """None, one resolution or an (x, y) pair -> None or an (x, y) pair."""
    if dpi is None:
        return None
    pair = (dpi, dpi) if not isinstance(dpi, (tuple, list)) else tuple(dpi)
    if len(pair) != 2:
        raise ValueError(f"dpi must be a number or an (x, y) pair of numbers, got {dpi!r}.")
    x, y = (float(DPI.check("dpi", v)) for v in pair)
    if not np.isfinite([x, y]).all():
        raise ValueError(f"dpi must be finite, got {dpi!r}.")
    return x, y


def _as_pil(image: Any, bilevel: bool, bit_depth: int, name: str) -> Image.Image:
    """A checked 2-D page -> an 8-bit or 16-bit grey (or 1-bit) Pillow image."""
    (page,) = check_images([image], name=name).images
    if bilevel:
        im = Image.fromarray(grey_levels(page, 8))
        return im.point(lambda v: 255 if v >= 128 else 0, mode="1")
    return Image.fromarray(grey_levels(page, bit_depth))


def _pages(
    pages: Any, dpi: tuple[float, float] | None, bilevel: bool, bit_depth: int
) -> Iterator[tuple[Image.Image, tuple[float, float] | None]]:
    if isinstance(pages, (np.ndarray, Page)):
        pages = [pages]
    if not isinstance(pages, Iterable):
        raise TypeError(
            f"pages must be an iterable of 2-D images or Page objects, got {type(pages).__name__}."
        )
    for i, item in enumerate(pages):
        if isinstance(item, Page):
            image, page_dpi = item.image, item.dpi or dpi
        else:
            image, page_dpi = item, dpi
        yield _as_pil(image, bilevel, bit_depth, f"pages[{i}]"), page_dpi


def _write_tiff(fh: IO[bytes], pages: Iterator[Any], bilevel: bool) -> int:
    n = 0
    compression = "group4" if bilevel else "tiff_adobe_deflate"
    with TiffImagePlugin.AppendingTiffWriter(fh, new=True) as tiff:
        for im, page_dpi in pages:
            extra = {} if page_dpi is None else {"dpi": page_dpi}
            im.save(tiff, format="TIFF", compression=compression, **extra)
            tiff.newFrame()
            n += 1
    return n


def _write_png(fh: IO[bytes], pages: Iterator[Any], dest: Path) -> int:
    n = 0
    for im, page_dpi in pages:
        if n:
            raise ValueError(
                f"{str(dest)!r} is a PNG file, which holds one page; got more. Write "
                "several pages to a .pdf or .tif file, or one PNG per page."
            )
        im.save(fh, format="PNG", **({} if page_dpi is None else {"dpi": page_dpi}))
        n += 1
    return n


def _write_pdf(fh: IO[bytes], pages: Iterator[Any]) -> int:
    try:
        import img2pdf
    except ImportError:
        raise ImportError(f"Writing PDF files needs img2pdf: {PDF_HINT}.") from None
    encoded: list[bytes] = []
    sizes: list[tuple[float, float]] = []  # page sizes in points
    for im, page_dpi in pages:
        buf = io.BytesIO()
        if im.mode == "1":
            im.save(buf, format="TIFF", compression="group4")
        else:
            im.save(buf, format="PNG")
        encoded.append(buf.getvalue())
        x_dpi, y_dpi = page_dpi or (DEFAULT_DPI, DEFAULT_DPI)
        width, height = 72.0 * im.width / x_dpi, 72.0 * im.height / y_dpi
        if min(width, height) < _MIN_PDF_POINTS:
            raise ValueError(
                f"Page {len(sizes) + 1} ({im.width} x {im.height} pixels at {x_dpi:g} x "
                f"{y_dpi:g} dpi) would be {width:.2f} x {height:.2f} points; PDF pages must "
                f"be at least {_MIN_PDF_POINTS:g} points (1/24 inch) on each side. Give it "
                "a lower dpi, or write a TIFF or PNG."
            )
        sizes.append((width, height))
    if not encoded:
        return 0
    order = iter(sizes)

    def layout(width_px: int, height_px: int, ndpi: Any) -> tuple[float, float, float, float]:
        width, height = next(order)
        return width, height, width, height

    img2pdf.convert(encoded, outputstream=fh, layout_fun=layout, nodate=True)
    return len(encoded)


def save_pages(pages, path, *, overwrite=False, bilevel=False, dpi=None, bit_depth=8):
    """Write pages into one PDF, multi-page TIFF or PNG file, atomically.

    The suffix of ``path`` picks the kind of file: ``.pdf`` (one page per image,
    each page the physical size of its image at its dpi; needs the ``pdf``
    extra), ``.tif``/``.tiff`` (one page per image, dpi stored) or ``.png`` (a
    single page). Pages are consumed lazily from ``pages``, and the file appears
    under its name only when every page is written: if reading, cleaning or
    writing a page fails, no file is left behind and the error is raised.

    Parameters
    ----------
    pages : iterable of Page or 2-D arrays
        The pages, e.g. a generator; floats must lie in ``[0, 1]``, uint8 and
        uint16 are scaled by their range, as everywhere in docdenoise. A
        :class:`~docdenoise.datasets.Page` brings its own dpi.
    path : str or path-like
        The file to write. Its folder must exist.
    overwrite : bool, default=False
        Replace ``path`` if it exists; otherwise an existing file is an error
        (checked again at the end, so a file that appeared meanwhile is kept).
    bilevel : bool, default=False
        Write black and white (1-bit, threshold at 0.5: CCITT G4 in PDF and TIFF),
        much smaller than grey; good for cleaned pages headed for archives.
    dpi : float or (float, float), default=None
        Resolution of pages that do not bring their own (arrays, or pages read
        from files without one). A PDF needs one and uses 300 when it has none.
    bit_depth : {8, 16}, default=8
        Bits per grey level of PNG and TIFF pages: 8, or 16 to keep the precision
        of 16-bit scans. PDF pages have 8 (pages read from PDFs have no more, and
        16-bit PDF images gain nothing for viewers and OCR); ``bilevel`` pages 1.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ImageFileError
        ``path`` exists and ``overwrite`` is False, or it is a folder.
    ValueError
        The suffix is not one of ``.pdf``, ``.tif``, ``.tiff``, ``.png``; there
        are no pages; more than one page goes to a PNG; a bad ``dpi`` or
        ``bit_depth``; ``bit_depth=16`` for a PDF or with ``bilevel``.
    InvalidImageError
        A page is not a valid 2-D grey image.
    ImportError
        A PDF is asked for and img2pdf is not installed.

    See Also
    --------
    iter_pages : Read the pages of PDFs and image files, with their dpi.
    save_images : One PNG file per image.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import iter_pages, save_pages
    >>> path = Path(tempfile.mkdtemp()) / "two.tif"
    >>> save_pages([np.ones((4, 8)), np.zeros((4, 8))], path, dpi=200).name
    'two.tif'
    >>> [(page.number, page.dpi) for page in iter_pages(path)]
    [(1, (200.0, 200.0)), (2, (200.0, 200.0))]
    """
    dest = Path(path)
    kind = OUTPUT_SUFFIXES.get(dest.suffix.lower())
    if kind is None:
        raise ValueError(
            f"Cannot write {str(dest)!r}: expected a file name ending in "
            f"{', '.join(OUTPUT_SUFFIXES)}."
        )
    dpi = _check_dpi(dpi)
    BIT_DEPTH.check("bit_depth", bit_depth)
    if bit_depth == 16 and (kind == "PDF" or bilevel):
        why = "PDF pages are written with 8 bits" if kind == "PDF" else "bilevel pages have 1 bit"
        raise ValueError(f"Cannot write {str(dest)!r} with bit_depth=16: {why} per pixel.")
    check_destination(dest, overwrite)
    stream = _pages(pages, dpi, bilevel, bit_depth)

    def write(fh: IO[bytes]) -> None:
        if kind == "PDF":
            n = _write_pdf(fh, stream)
        elif kind == "TIFF":
            n = _write_tiff(fh, stream, bilevel)
        else:
            n = _write_png(fh, stream, dest)
        if n == 0:
            raise ValueError(f"No pages to write to {str(dest)!r}.")

    try:
        atomic_write(dest, write, overwrite=overwrite)
    except FileExistsError:  # it appeared while the pages were written
        raise ImageFileError(
            f"{str(dest)!r} already exists; pass overwrite=True to replace it."
        ) from None
    return dest
