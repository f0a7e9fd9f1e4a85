"""Scanned PDF in, cleaned and searchable PDF out: OCRmyPDF with the docdenoise plugin.

:func:`make_searchable_pdf` is what ``docdenoise ocr`` runs. OCRmyPDF does the
PDF work (rasterizing, Tesseract, the invisible text layer, PDF/A); the plugin
:mod:`docdenoise.ocrmypdf_plugin` cleans each page before Tesseract reads it. This
module checks the input first (so an encrypted, damaged, empty or born-digital
PDF gets docdenoise's clear message), has OCRmyPDF write to a temporary file next
to the output, moves it into place only on success, and turns OCRmyPDF's errors
into docdenoise's exceptions, each naming the file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ._atomic import atomic_path
from ._params import OCR_GAMMA_RANGE
from ._paths import path_problem
from .datasets._page_writer import check_destination
from .datasets._pages import count_pages
from .exceptions import DocDenoiseError, ImageFileError, OCRNotAvailableError

__all__ = ["PLUGIN", "make_searchable_pdf"]

#: The plugin module, as OCRmyPDF's ``--plugin`` names it.
PLUGIN = "docdenoise.ocrmypdf_plugin"

#: The plugin's default ``--docdenoise-ocr-gamma``: on the cleaned real pages,
#: Tesseract misread fewest characters with 1.15 to 1.5 (``docs/scanned_pdfs.rst``).
OCR_GAMMA = 1.25

_INSTALL_HINT = (
    'install the PDF extra with pip install "docdenoise[pdf]" (OCRmyPDF needs Python '
    ">= 3.11) and the Tesseract and Ghostscript programs (Debian/Ubuntu: apt-get install "
    "tesseract-ocr ghostscript; macOS: brew install tesseract ghostscript)"
)


def _ocrmypdf() -> Any:
    """The ocrmypdf package, or a clear error naming what to install."""
    if sys.version_info < (3, 11):
        raise OCRNotAvailableError(
            "Making searchable PDFs needs OCRmyPDF, which needs Python >= 3.11 "
            f"(this is {sys.version_info.major}.{sys.version_info.minor}); "
            "docdenoise itself runs on 3.10."
        )
    try:
        import ocrmypdf
    except ImportError:
        raise OCRNotAvailableError(
            f"Making searchable PDFs needs OCRmyPDF; {_INSTALL_HINT}."
        ) from None
    return ocrmypdf


def _translate(exc: Exception, src: Path) -> Exception:
    """OCRmyPDF's exception -> docdenoise's, with the file's name."""
    from ocrmypdf import exceptions as ox

    name = str(src)
    text = " ".join(str(exc).split())
    if isinstance(exc, ox.EncryptedPdfError):
        return ImageFileError(
            f"{name!r} is an encrypted (password-protected) PDF; decrypt it first, e.g. "
            f"qpdf --decrypt --password=PASSWORD {name} decrypted.pdf"
        )
    if isinstance(exc, ox.PriorOcrFoundError):
        return ImageFileError(
            f"{name!r} already has text; pass force_ocr=True (--force-ocr) to "
            "rasterize its pages and read them again, or skip_text=True (--skip-text) to "
            "leave those pages alone."
        )
    if isinstance(exc, (ox.InputFileError, ox.UnsupportedImageFormatError, ox.DpiError)):
        return ImageFileError(f"{name!r}: {text or type(exc).__name__}")
    if isinstance(exc, ox.MissingDependencyError):
        return OCRNotAvailableError(f"{text} ({_INSTALL_HINT}).")
    if isinstance(exc, ox.BadArgsError):
        return ValueError(text)
    return DocDenoiseError(f"OCRmyPDF failed on {name!r}: {text or type(exc).__name__}")


def make_searchable_pdf(
    input_file: str | os.PathLike,
    output_file: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    final: bool = False,
    language: str = "eng",
    tta: int | None = None,
    device: str = "auto",
    threads: int | None = None,
    ocr_gamma: float = OCR_GAMMA,
    jobs: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
    **ocrmypdf_options: Any,
) -> Path:
    """Clean the pages of a scan with docdenoise and make it a searchable PDF.

    Runs OCRmyPDF with the :mod:`docdenoise.ocrmypdf_plugin` plugin: each page is
    cleaned before Tesseract reads it, and the text Tesseract finds is laid over
    the page as an invisible, searchable and selectable layer.

    Parameters
    ----------
    input_file : str or path-like
        A scanned PDF, or an image file (PNG, JPEG, TIFF with its dpi).
    output_file : str or path-like
        The PDF to write (PDF/A when Ghostscript can make one). Its folder must
        exist.
    model : str or path-like, default=None
        A model file saved by :meth:`DocumentDenoiser.save`; None for the shipped
        pretrained model.
    final : bool, default=False
        Also put the cleaned pages into the PDF (grey); otherwise it keeps the
        original page images and only the text comes from the cleaned ones.
    language : str, default="eng"
        Tesseract language(s), e.g. ``"deu"`` or ``"eng+fra"``.
    tta : int, default=None
        Test-time augmentation of the model (see :class:`DocumentDenoiser`);
        None keeps the model's setting.
    device : str, default="auto"
        Where the network runs.
    threads : int, default=None
        CPU threads for the network.
    ocr_gamma : float, default=1.25
        Darkens the grey edges of the strokes in the image Tesseract reads (not
        the pages of the PDF): grey levels from 0 to 1 are raised to this power,
        between 0.1 and 10. With 1.25 Tesseract misread fewer characters of real
        scans than with 1, which leaves the cleaned page as it is.
    jobs : int, default=None
        Pages OCRmyPDF works on at once (default: one per CPU core).
    overwrite : bool, default=False
        Replace ``output_file`` if it exists.
    progress : bool, default=False
        Show OCRmyPDF's progress bar.
    **ocrmypdf_options
        Any other option of :func:`ocrmypdf.ocr`, e.g. ``force_ocr=True``,
        ``output_type="pdf"``, ``image_dpi=300``, ``deskew=True``.

    Returns
    -------
    path : pathlib.Path
        ``output_file``.

    Raises
    ------
    OCRNotAvailableError
        OCRmyPDF, Tesseract or Ghostscript is missing (the message says what to
        install), or Python is older than 3.11.
    ImageFileError
        The input is missing, encrypted, damaged, has no pages, holds no scanned
        image (born-digital), already has text (see ``force_ocr``), or the output
        exists and ``overwrite`` is False. Names the file.
    ValueError
        ``ocr_gamma`` is outside 0.1 to 10, the output would replace the input, or
        OCRmyPDF refused an option.
    DocDenoiseError
        OCRmyPDF failed otherwise.

    See Also
    --------
    docdenoise.ocrmypdf_plugin : The plugin, for use with ``ocrmypdf`` directly.

    Examples
    --------
    >>> from docdenoise import make_searchable_pdf
    >>> make_searchable_pdf("scan.pdf", "searchable.pdf")  # doctest: +SKIP
    PosixPath('searchable.pdf')
    """
    OCR_GAMMA_RANGE.check("ocr_gamma", ocr_gamma)
    ocrmypdf = _ocrmypdf()
    src, dest = Path(input_file), Path(output_file)
    if not src.is_file():
        raise ImageFileError(f"Input file {str(src)!r} {path_problem(src)}.")
    if dest.exists() and dest.resolve() == src.resolve():
        raise ValueError(f"The output {str(dest)!r} would replace the input; choose another name.")
    check_destination(dest, overwrite)
    count_pages(src)  # docdenoise's own message for a bad PDF, before OCRmyPDF starts
    plugins = [PLUGIN, *ocrmypdf_options.pop("plugins", [])]
    options = {
        "language": language.split("+"),
        "jobs": jobs,
        "progress_bar": progress,
        "docdenoise_model": None if model is None else str(model),
        "docdenoise_final": final,
        "docdenoise_tta": tta,
        "docdenoise_device": device,
        "docdenoise_threads": threads,
        "docdenoise_ocr_gamma": ocr_gamma,
        **ocrmypdf_options,
    }
    try:
        with atomic_path(dest, overwrite=overwrite) as tmp:
            streams = sys.stdout, sys.stderr
            try:
                code = ocrmypdf.ocr(src, tmp, plugins=plugins, **options)
            except ocrmypdf.exceptions.ExitCodeException as exc:
                raise _translate(exc, src) from None
            finally:
                # pikepdf 10.18's check_linearization, which OCRmyPDF calls on
                # every output, leaves sys.stderr pointing at a StringIO when
                # the PDF is not linearized: later messages would vanish.
                sys.stdout, sys.stderr = streams
            if code not in (ocrmypdf.ExitCode.ok, ocrmypdf.ExitCode.pdfa_conversion_failed):
                raise DocDenoiseError(f"OCRmyPDF failed on {str(src)!r} with exit code {code!r}.")
    except FileExistsError:  # it appeared while OCRmyPDF worked
        raise ImageFileError(
            f"{str(dest)!r} already exists; pass overwrite=True to replace it."
        ) from None
    return dest
