"""OCRmyPDF plugin: Tesseract reads each page after docdenoise has cleaned it.

Load it by name; OCRmyPDF then cleans the image it sends to Tesseract, so the text
layer is read from a clean page, while the PDF keeps the original page images::

    ocrmypdf --plugin docdenoise.ocrmypdf_plugin scan.pdf searchable.pdf

``--docdenoise-final`` also puts the cleaned pages into the output PDF, as
``--clean-final`` does for unpaper. OCRmyPDF replaces page images only when it
rasterizes the pages, so on a PDF whose pages hold no text yet the plugin asks for
``--force-ocr`` itself; on other PDFs add ``--force-ocr`` (pages that have text are
then rasterized too).

Options (after ``--plugin docdenoise.ocrmypdf_plugin``):

``--docdenoise-model FILE``
    A model saved by :meth:`DocumentDenoiser.save <docdenoise.DocumentDenoiser.save>`
    (default: the shipped pretrained model).
``--docdenoise-tta N``
    Average the network over N flips/rotations of each page (slower, cleaner).
``--docdenoise-device DEVICE``
    ``auto`` (default), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
``--docdenoise-threads N``
    CPU threads for the network.
``--docdenoise-ocr-gamma G``
    Darken the grey edges of the strokes in the image Tesseract reads: its grey
    levels, from 0 (black) to 1 (white), are raised to the power G (default
    1.25; 1 leaves the cleaned page as it is). Black and white stay as they are,
    and the pages in the PDF are never changed by it. Tesseract reads slightly
    darker strokes better (see *How much it helps* in the documentation).
``--docdenoise-final``
    Also put the cleaned pages into the output PDF.

From Python, pass the same options without the leading dashes::

    ocrmypdf.ocr("scan.pdf", "searchable.pdf",
                 plugins=["docdenoise.ocrmypdf_plugin"], docdenoise_final=True)

or use :func:`docdenoise.make_searchable_pdf`, which also writes atomically and
turns OCRmyPDF's errors into docdenoise's.

How it behaves inside OCRmyPDF:

* ``filter_ocr_image``: first lets the other plugins filter the image (OCRmyPDF's
  Tesseract plugin shrinks images larger than Tesseract accepts, and adjusts the
  dpi), then cleans it in grey, keeping its size and ``info["dpi"]``, so the text
  layer stays aligned with the page, and darkens it by ``--docdenoise-ocr-gamma``.
* ``filter_page_image`` (only with ``--docdenoise-final``): cleans the page image
  and writes it as a grey PNG next to it, with the same dpi. A page already
  cleaned for OCR (the same pixels) is not cleaned twice. It is not darkened.
* The model is loaded once per process (OCRmyPDF's worker threads share it; each
  worker process, with ``--no-use-threads``, loads its own) and checked before
  the first page, so a missing or damaged model file stops the run at once.
* docdenoise registers no OCRmyPDF entry point: installing it changes no other
  OCRmyPDF run. The plugin acts only when named with ``--plugin``.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ._params import OCR_GAMMA_RANGE
from ._searchable import OCR_GAMMA

_ocrmypdf_hookimpl: Any
try:  # imported by name: mypy then types it the same with and without OCRmyPDF
    _ocrmypdf_hookimpl = importlib.import_module("ocrmypdf").hookimpl
except ImportError:  # still importable (documentation); OCRmyPDF is what calls it
    _ocrmypdf_hookimpl = None


def hookimpl(function: Any) -> Any:
    """Mark ``function`` as an OCRmyPDF hook (plain function without OCRmyPDF)."""
    return function if _ocrmypdf_hookimpl is None else _ocrmypdf_hookimpl(function)


# The hooks are found by OCRmyPDF by name; nothing here is for users to call.
__all__: list[str] = []

log = logging.getLogger(__name__)

_lock = threading.Lock()
_models: dict[tuple[Any, ...], tuple[Any, threading.Lock]] = {}
#: Pages cleaned for OCR, kept until ``filter_page_image`` takes them (final mode).
_cleaned: dict[tuple[str, int], tuple[str, np.ndarray]] = {}


# --------------------------------------------------------------------------- options


def _setting(options: Any, name: str, default: Any = None) -> Any:
    value = getattr(options, f"docdenoise_{name}", default)
    return default if value is None else value


def _model_key(options: Any) -> tuple[Any, ...]:
    model = _setting(options, "model")
    return (
        None if model is None else str(Path(model).resolve()),
        str(_setting(options, "device", "auto")),
        _setting(options, "tta"),
        _setting(options, "threads"),
        os.getpid(),  # a forked worker loads its own copy (a GPU cannot cross a fork)
    )


def _denoiser(options: Any) -> tuple[Any, threading.Lock]:
    """The estimator for these options, loaded once per process, and its lock."""
    key = _model_key(options)
    with _lock:
        if key not in _models:
            from . import DocumentDenoiser

            model, device, tta, threads, _ = key
            if model is None:
                denoiser = DocumentDenoiser.pretrained(device=device)
            else:
                denoiser = DocumentDenoiser.load(model, device=device)
            if tta is not None:
                denoiser.set_params(tta=tta)
            if threads is not None:
                denoiser.set_params(n_threads=threads)
            log.info("docdenoise: loaded %s on %s", model or "the shipped model", denoiser.device_)
            _models[key] = (denoiser, threading.Lock())
        return _models[key]


def _rule(name: str) -> Any:
    """The estimator's rule for parameter ``name`` (one place for its values)."""
    from . import DocumentDenoiser

    return DocumentDenoiser.parameter_rules[name]


@hookimpl
def add_options(parser: Any) -> None:
    """Add the ``--docdenoise-*`` options to OCRmyPDF's command line."""
    tta_levels = [v for v in _rule("tta").choices or () if type(v) is int]
    group = parser.add_argument_group(
        "docdenoise", "Clean pages with docdenoise before OCR (docdenoise.ocrmypdf_plugin)"
    )
    group.add_argument(
        "--docdenoise-model",
        metavar="FILE",
        help="docdenoise model file (default: the shipped pretrained model)",
    )
    group.add_argument(
        "--docdenoise-tta",
        type=int,
        choices=tta_levels,
        metavar="N",
        help="average the network over N flips/rotations of each page: slower, cleaner",
    )
    group.add_argument(
        "--docdenoise-device",
        metavar="DEVICE",
        help="'auto' (default: cuda, then mps, then cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'",
    )
    group.add_argument(
        "--docdenoise-threads",
        type=_rule("n_threads").argument_type(),
        metavar="N",
        help="CPU threads for the network (default: torch's choice)",
    )
    group.add_argument(
        "--docdenoise-ocr-gamma",
        type=OCR_GAMMA_RANGE.argument_type(),
        metavar="G",
        help="raise the grey levels Tesseract reads (0 black, 1 white) to the power G: "
        f"above 1 darkens the edges of the strokes (default: {OCR_GAMMA}; 1: unchanged)",
    )
    group.add_argument(
        "--docdenoise-final",
        action="store_true",
        help="also put the cleaned pages into the output PDF (as --clean-final does)",
    )


def _bad_args(message: str) -> Exception:
    from ocrmypdf.exceptions import BadArgsError

    return BadArgsError(f"docdenoise: {message}")


@hookimpl
def check_options(options: Any) -> None:
    """Check the ``--docdenoise-*`` options and load the model once, before any page."""
    from .exceptions import DocDenoiseError

    rules = {"tta": _rule("tta"), "threads": _rule("n_threads"), "ocr_gamma": OCR_GAMMA_RANGE}
    for name, rule in rules.items():
        value = _setting(options, name)
        try:  # Python callers bypass the command line's checks
            if value is not None:
                rule.check(f"docdenoise_{name}", value)
        except (TypeError, ValueError) as exc:
            raise _bad_args(str(exc)) from None
    model = _setting(options, "model")
    if model is not None and not Path(model).is_file():
        raise _bad_args(f"model file {str(model)!r} does not exist.")
    try:
        _denoiser(options)
    except (DocDenoiseError, OSError, ValueError) as exc:
        raise _bad_args(str(exc)) from None


@hookimpl
def validate(pdfinfo: Any, options: Any) -> None:
    """With ``--docdenoise-final``, make OCRmyPDF rebuild pages from their images."""
    if not _setting(options, "final", False) or not options.lossless_reconstruction:
        return
    has_text = any(page.has_text for page in pdfinfo)
    # OCRmyPDF's modes are string enums ("default", "skip", "force", ...); the
    # options model turns the string back into its enum.
    if options.mode in ("default", "skip") and not has_text:
        log.info("docdenoise: --docdenoise-final rasterizes every page (--force-ocr)")
        options.mode = "force"
        return
    raise _bad_args(
        "--docdenoise-final puts cleaned page images into the PDF, which OCRmyPDF does "
        "only when it rasterizes the pages; add --force-ocr (pages that already have "
        "text are then rasterized and read again)."
    )


# --------------------------------------------------------------------------- cleaning


def _clean(image: Image.Image, options: Any) -> np.ndarray:
    """Clean a Pillow image of any mode; 8-bit grey levels of the same size."""
    grey = np.asarray(image.convert("L"))  # the modes OCRmyPDF makes: 1, L, P, RGB
    denoiser, lock = _denoiser(options)
    with lock:  # one page at a time per model; torch uses the cores itself
        (cleaned,) = denoiser.transform([grey])
    return np.round(cleaned * np.float32(255.0)).astype(np.uint8)


def _darken(levels: np.ndarray, gamma: float) -> np.ndarray:
    """8-bit grey ``levels`` raised to the power ``gamma`` on the 0-1 scale."""
    if gamma == 1:
        return levels
    table = np.round(255.0 * np.linspace(0.0, 1.0, 256) ** gamma).astype(np.uint8)
    return table[levels]


def _fingerprint(image: Image.Image) -> str:
    grey = np.ascontiguousarray(np.asarray(image.convert("L")))
    return hashlib.sha1(grey.tobytes() + str(grey.shape).encode()).hexdigest()


def _page_key(page: Any) -> tuple[str, int]:
    return (str(getattr(page, "work_folder", "")), int(page.pageno))


def _others(page: Any, hook: str) -> Any:
    """The implementations of ``hook`` by the other plugins (firstresult, as usual)."""
    import sys

    manager = page.plugin_manager
    manager = getattr(manager, "pluggy_manager", manager)
    return manager.subset_hook_caller(hook, remove_plugins=[sys.modules[__name__]])


@hookimpl
def filter_ocr_image(page: Any, image: Image.Image) -> Image.Image:
    """Clean the image Tesseract will read (after the other plugins' filters)."""
    filtered = _others(page, "filter_ocr_image")(page=page, image=image)
    if filtered is not None:
        image = filtered
    levels = _clean(image, page.options)
    if _setting(page.options, "final", False):
        with _lock:
            _cleaned[_page_key(page)] = (_fingerprint(image), levels)
    out = Image.fromarray(_darken(levels, float(_setting(page.options, "ocr_gamma", OCR_GAMMA))))
    out.info["dpi"] = image.info["dpi"]
    return out


@hookimpl
def filter_page_image(page: Any, image_filename: Path) -> Path | None:
    """With ``--docdenoise-final``, clean the page image that goes into the PDF."""
    if not _setting(page.options, "final", False):
        return None
    with _lock:
        earlier = _cleaned.pop(_page_key(page), None)
    with Image.open(image_filename) as im:
        dpi = im.info.get("dpi")
        if earlier is not None and earlier[0] == _fingerprint(im):
            levels = earlier[1]
        else:
            levels = _clean(im, page.options)
    output = Path(image_filename).with_name(Path(image_filename).stem + "_docdenoise.png")
    Image.fromarray(levels).save(output, **({} if dpi is None else {"dpi": dpi}))
    chained = _others(page, "filter_page_image")(page=page, image_filename=output)
    return output if chained is None else chained
