"""What is installed: versions, torch devices and threads, optional extras."""

from __future__ import annotations

import platform
import shutil
from importlib import metadata

import torch

from ._devices import available_devices
from ._version import __version__

__all__ = ["system_info"]


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _tesseract() -> str:
    binding = _version_of("pytesseract")
    program = shutil.which("tesseract")
    if binding is None:
        return 'not installed (pip install "docdenoise[ocr]")'
    if program is None:
        return (
            f"pytesseract {binding}, but the tesseract program is not on PATH "
            "(apt-get install tesseract-ocr / brew install tesseract)"
        )
    try:
        import pytesseract

        engine = str(pytesseract.get_tesseract_version())
    except Exception as exc:  # a broken engine is reported, not raised
        return f"pytesseract {binding}, tesseract at {program} does not run: {exc}"
    return f"tesseract {engine} ({program}), pytesseract {binding}"


def _extra(distribution: str, extra: str) -> str:
    version = _version_of(distribution)
    if version is None:
        return f'not installed (pip install "docdenoise[{extra}]")'
    return version


def _pretrained() -> str:
    from ._denoiser import pretrained_models

    names = pretrained_models()
    if not names:
        return "none shipped with this installation"
    return ", ".join(names) + " (DocumentDenoiser.pretrained(name))"


def system_info() -> dict[str, str]:
    """Describe the installation: versions, devices, threads and optional extras.

    This is what ``docdenoise info`` prints; paste it into bug reports.

    Returns
    -------
    info : dict of str to str
        Human-readable values, in display order.

    Examples
    --------
    >>> from docdenoise._info import system_info
    >>> info = system_info()
    >>> "cpu" in info["devices"], info["docdenoise"] == __import__("docdenoise").__version__
    (True, True)
    """
    from .models import available_models

    return {
        "docdenoise": __version__,
        "python": f"{platform.python_version()} ({platform.platform(terse=True)})",
        "torch": torch.__version__,
        "numpy": _version_of("numpy") or "?",
        "scikit-learn": _version_of("scikit-learn") or "?",
        "pillow": _version_of("pillow") or "?",
        "devices": ", ".join(available_devices()),
        "torch threads": str(torch.get_num_threads()),
        "models": ", ".join(available_models()),
        "pretrained model": _pretrained(),
        "matplotlib (plot)": _extra("matplotlib", "plot"),
        "tesseract (ocr)": _tesseract(),
        "dask (dask)": _extra("dask", "dask"),
    }
