"""Read the pages of image files and PDFs, one page at a time.

Every page is a :class:`Page`: its grey image plus where it came from (the file,
the page number counted from 1, the number of pages in that file) and its
resolution. Files are read lazily, page by page, so a 500-page PDF or TIFF never
sits in memory at once.

==========================  =========================================================
File                        Pages
==========================  =========================================================
PDF (``.pdf``)              every page, rendered by PDFium (see below); needs the
                            ``pdf`` extra
TIFF (``.tif``, ``.tiff``)  every page (image file directory)
PNG, JPEG, BMP, WebP        one page (the first frame of an animation)
==========================  =========================================================

A PDF page that is a scan comes back at its scan's own resolution; other PDF pages
are rendered at ``dpi`` (300 by default), and a PDF without any image is refused
(it is born-digital text, which needs no cleaning). Image files give the
resolution stored in them, or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._params import DPI
from .._validation import to_float_image
from ..exceptions import ImageFileError
from ._io import (
    MAX_IMAGE_PIXELS,
    PAGE_EXTENSIONS,
    TooManyPixelsError,
    _check_file,
    _open_checked,
    _resolve_paths,
    _to_grayscale_array,
    check_pixel_count,
    within_pixel_limit,
)
from ._pdf import count_pdf_pages, iter_pdf_pages

__all__ = ["Page", "count_pages", "is_pdf", "iter_pages", "load_images"]


@dataclass(frozen=True, eq=False)
class Page:
    """One page of a scanned document, with where it came from.

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        The grey page: float32 in ``[0, 1]``, or the stored levels when read with
        ``as_float=False``.
    source : pathlib.Path
        The file the page was read from.
    number : int
        The page's number in that file, counted from 1.
    page_count : int
        How many pages that file holds.
    dpi : (float, float) or None
        Horizontal and vertical resolution in dots per inch, or None when the
        file does not say.

    Examples
    --------
    >>> import numpy as np
    >>> page = Page(np.ones((2, 3)), Path("scan.pdf"), 1, 4, (300.0, 300.0))
    >>> page
    Page(scan.pdf, page 1 of 4, 3x2 px, 300x300 dpi)
    """

    image: np.ndarray
    source: Path
    number: int
    page_count: int
    dpi: tuple[float, float] | None

    def __repr__(self) -> str:
        height, width = self.image.shape[:2]
        dpi = "unknown dpi" if self.dpi is None else "{:g}x{:g} dpi".format(*self.dpi)
        return (
            f"Page({self.source.name}, page {self.number} of {self.page_count}, "
            f"{width}x{height} px, {dpi})"
        )


def is_pdf(path: str | Path) -> bool:
    """Whether ``path`` is a PDF file: named ``.pdf``, or starting as PDFs do.

    Parameters
    ----------
    path : str or path-like
        Any file name; the file need not exist.

    Returns
    -------
    pdf : bool
        True when the name ends in ``.pdf`` (any case) or the file starts with
        ``%PDF-``.

    Examples
    --------
    >>> is_pdf("scan.PDF"), is_pdf("missing.png")
    (True, False)
    """
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


def _is_tiff(im: Image.Image) -> bool:
    return im.format == "TIFF"


def _file_dpi(im: Image.Image) -> tuple[float, float] | None:
    """The dpi stored in an image file, or None.

    PNG stores pixels per metre, so 300 dpi comes back as 299.9994: values within
    that rounding (0.0127 dpi) of a whole number are taken as that number.
    """
    dpi = im.info.get("dpi")
    try:
        values = [float(v) for v in dpi]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if len(values) != 2 or not all(v > 0 and np.isfinite(v) for v in values):
        return None
    x, y = (float(round(v)) if abs(v - round(v)) < 0.013 else v for v in values)
    return x, y


def count_pages(path: str | Path) -> int:
    """Number of pages in an image or PDF file, read without decoding the pages.

    Parameters
    ----------
    path : str or path-like
        A PDF, TIFF or other image file.

    Returns
    -------
    n_pages : int
        The pages of a PDF or TIFF; 1 for other image files.

    Raises
    ------
    ImageFileError
        The file cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> path = Path(tempfile.mkdtemp()) / "three.tif"
    >>> pages = [Image.new("L", (8, 4), 255) for _ in range(3)]
    >>> pages[0].save(path, save_all=True, append_images=pages[1:])
    >>> count_pages(path)
    3
    """
    path = Path(path)
    if is_pdf(path):
        return count_pdf_pages(path)
    _check_file(path)

    def count() -> int:
        with Image.open(path) as im:  # reads the header, not the pixels
            return _frame_count(im, path)

    try:  # nothing is decoded: the pixel limit applies when the pages are read
        return within_pixel_limit(count)
    except ImageFileError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError) as exc:
        raise ImageFileError(f"{str(path)!r} cannot be read as an image: {exc}") from None


def _frame_count(im: Image.Image, path: Path) -> int:
    if not _is_tiff(im):
        return 1
    try:
        return int(getattr(im, "n_frames", 1))
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        raise ImageFileError(
            f"TIFF file {str(path)!r} has a damaged list of pages: {exc}"
        ) from None


def _image_pages(
    path: Path, *, as_float: bool, max_pixels: int | None
) -> Iterator[tuple[np.ndarray, int, int, tuple[float, float] | None]]:
    """(grey levels, page number, page count, dpi) for each page of an image file."""
    im = _open_checked(path, max_pixels)
    try:
        n_pages = _frame_count(im, path)
        for index in range(n_pages):
            where = f"{str(path)!r}, page {index + 1} of {n_pages}"
            if index:
                _load_frame(im, index, max_pixels, where)
            if im.format == "JPEG" or "exif" in im.info:
                frame = ImageOps.exif_transpose(im)
            else:
                frame = im
            arr = _to_grayscale_array(frame, path if n_pages == 1 else Path(where))
            if as_float:
                arr = to_float_image(arr, name=str(path) if n_pages == 1 else where)
            yield arr, index + 1, n_pages, _file_dpi(im)
    finally:
        im.close()


def _load_frame(im: Image.Image, index: int, max_pixels: int | None, where: str) -> None:
    def decode() -> None:
        im.seek(index)
        check_pixel_count(where, *im.size, max_pixels)
        im.load()

    try:
        within_pixel_limit(decode)
    except TooManyPixelsError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageFileError(f"{where} is truncated or corrupt: {exc}") from None


def iter_pages(
    paths_or_dir,
    *,
    pattern=None,
    as_float=True,
    dpi=300,
    max_pixels=MAX_IMAGE_PIXELS,
):
    """Read the pages of image files and PDFs lazily, one :class:`Page` at a time.

    Only the page being handed out (and, for a PDF, the open document) is in
    memory, so long documents can be cleaned page by page. Pages come in file
    order, and in page order within a file.

    Parameters
    ----------
    paths_or_dir : str, path-like or list of them
        A folder (its ``.pdf``, ``.png``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff``,
        ``.bmp`` and ``.webp`` files, not recursive, hidden files skipped, in
        natural order), one file, or a list of files (kept in the given order).
    pattern : str, default=None
        Shell-style pattern that file names in a folder must match.
    as_float : bool, default=True
        Return float32 pages in ``[0, 1]``; if False, the stored grey levels
        (uint8 for PDF pages and 8-bit files, see :func:`load_images`).
    dpi : float, default=300
        Resolution at which PDF pages that are not scans are rendered. Scanned
        PDF pages keep their scan's own resolution.
    max_pixels : int or None, default=MAX_IMAGE_PIXELS
        Refuse pages with more than this many pixels (``2**28``), before decoding
        or rendering them (a PDF page at the resolution it would be rendered at).
        ``None`` turns the check off. It is the one limit: Pillow's own guard does
        not refuse first (see :func:`load_images`).

    Yields
    ------
    page : Page
        The image, its file, its page number and the file's page count, and its
        resolution.

    Raises
    ------
    ImageFileError
        A file is missing, unreadable, encrypted, damaged, has no pages or no
        scanned image (a born-digital PDF), or a page is corrupt or too large.
        The message names the file and, for a file of several pages, the page.
        Pages before the bad one have been handed out already.

    See Also
    --------
    load_images : All pages at once, as a list of arrays.
    count_pages : The number of pages of a file.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> from docdenoise.datasets import iter_pages
    >>> path = Path(tempfile.mkdtemp()) / "two.tif"
    >>> first, second = Image.new("L", (8, 4), 255), Image.new("L", (6, 3), 0)
    >>> first.save(path, save_all=True, append_images=[second], dpi=(300, 300))
    >>> [(p.number, p.image.shape, p.dpi) for p in iter_pages(path)]
    [(1, (4, 8), (300.0, 300.0)), (2, (3, 6), (300.0, 300.0))]
    """
    DPI.check("dpi", dpi)
    for path in _resolve_paths(paths_or_dir, pattern, PAGE_EXTENSIONS):
        yield from _file_pages(path, as_float=as_float, dpi=dpi, max_pixels=max_pixels)


def _file_pages(
    path: Path, *, as_float: bool, dpi: float, max_pixels: int | None
) -> Iterator[Page]:
    if is_pdf(path):
        pdf_pages = iter_pdf_pages(path, dpi=dpi, max_pixels=max_pixels)
        for number, (levels, page_dpi, n_pages) in enumerate(pdf_pages, start=1):
            image = to_float_image(levels) if as_float else levels
            yield Page(image, path, number, n_pages, page_dpi)
        return
    for image, number, n_pages, file_dpi in _image_pages(
        path, as_float=as_float, max_pixels=max_pixels
    ):
        yield Page(image, path, number, n_pages, file_dpi)


def load_images(
    paths_or_dir,
    *,
    pattern=None,
    as_float=True,
    return_paths=False,
    max_pixels=MAX_IMAGE_PIXELS,
    dpi=300,
):
    """Load grayscale pages from a folder, a file, or a list of files.

    Every page of every file becomes one image: a PNG, JPEG, BMP or WebP file
    gives one, a TIFF or PDF file gives one per page. Colour, alpha, palette,
    1-bit and 16-bit files are turned into grayscale by the rule in
    :ref:`the data guide <reading-images>` (ITU-R 601-2 luma, transparency
    composited onto white, 16-bit divided by 65535); PDF pages are rendered in
    grey by PDFium (see :func:`iter_pages`).

    Parameters
    ----------
    paths_or_dir : str, path-like or list of them
        A folder (its ``.pdf``, ``.png``, ``.jpg``, ``.jpeg``, ``.tif``,
        ``.tiff``, ``.bmp`` and ``.webp`` files, not recursive, hidden files
        skipped, natural sort by name so that ``2.png`` comes before ``10.png``),
        a single file, or a list of files (kept in the given order).
    pattern : str, default=None
        Shell-style pattern (``"*.png"``) that file names in a folder must match.
        Ignored for explicit files.
    as_float : bool, default=True
        If True, return float32 arrays in ``[0, 1]``. If False, return the grey
        levels as stored: uint8 for 8-bit and 1-bit files (0/255) and PDF pages,
        uint16 for 16-bit files, float32 for floating-point TIFF.
    return_paths : bool, default=False
        Also return the file of each image.
    max_pixels : int or None, default=MAX_IMAGE_PIXELS
        Refuse pages with more than this many pixels (``2**28``, checked from the
        file header, or for a PDF page from its size and resolution, before
        anything is decoded or rendered). ``None`` turns the check off. This is
        the one limit: Pillow's own decompression-bomb guard
        (``PIL.Image.MAX_IMAGE_PIXELS``, which refuses above about 179 Mpx) is
        lifted for the files and TIFF pages that ``max_pixels`` allows.
    dpi : float, default=300
        Resolution for PDF pages that are not scans (scans keep their own).

    Returns
    -------
    images : list of ndarray of shape (H, W)
        One 2-D array per page.
    paths : list of pathlib.Path
        Only when ``return_paths=True``: the file of each image (repeated for the
        pages of one file).

    Raises
    ------
    ImageFileError
        A file is missing, empty, not an image or PDF, truncated, corrupt,
        encrypted, too large; or a folder holds no such files. The message names
        the file (and the page).

    See Also
    --------
    iter_pages : The same pages one at a time, with their page numbers and dpi.
    save_images : Write images as 8-bit grayscale PNG.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import load_images, save_images
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_images([np.zeros((4, 6)), np.ones((5, 3))], folder, names=["2", "10"])
    >>> images, paths = load_images(folder, return_paths=True)
    >>> [p.name for p in paths], images[0].shape, images[0].dtype
    (['2.png', '10.png'], (4, 6), dtype('float32'))
    """
    pages = list(
        iter_pages(paths_or_dir, pattern=pattern, as_float=as_float, dpi=dpi, max_pixels=max_pixels)
    )
    images = [page.image for page in pages]
    if return_paths:
        return images, [page.source for page in pages]
    return images
