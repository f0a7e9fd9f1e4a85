"""What is installed: versions, engines, torch devices and threads, optional extras.

It answers at once: nothing heavy is imported (versions come from the installed
packages' metadata), except torch when its devices are asked for.
"""

from __future__ import annotations

import platform
import shutil
from importlib import metadata

from ._devices import TORCH_HINT, available_devices, torch_installed
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
    from .models._pretrained import WEIGHTS_DIR, pretrained_models

    names = pretrained_models()
    if not names:
        return "none shipped with this installation"
    forms = {
        n: " + ".join(f for f in ("safetensors", "onnx") if (WEIGHTS_DIR / f"{n}.{f}").is_file())
        for n in names
    }
    return ", ".join(f"{n} ({forms[n]})" for n in names) + "; DocumentDenoiser.pretrained(name)"


def _torch_lines(devices: bool) -> dict[str, str]:
    version = _version_of("torch")
    if version is None:
        return {
            "torch": f"not installed (cleaning works without it; training needs it: {TORCH_HINT})"
        }
    if not devices:
        return {
            "torch": version,
            "devices": "cpu (docdenoise info --devices lists the GPUs torch sees)",
        }
    import torch

    return {
        "torch": version,
        "devices": ", ".join(available_devices()),
        "torch threads": str(torch.get_num_threads()),
    }


def system_info(devices: bool = False) -> dict[str, str]:
    """Describe the installation: versions, engines, devices and optional extras.

    This is what ``docdenoise info`` prints; paste it into bug reports.

    Parameters
    ----------
    devices : bool, default=False
        Also import torch (if installed) to list the devices it can use and its
        thread count; that takes a second or two.

    Returns
    -------
    info : dict of str to str
        Human-readable values, in display order.

    Examples
    --------
    >>> from docdenoise._info import system_info
    >>> info = system_info(devices=True)
    >>> "cpu" in info.get("devices", "cpu")
    True
    >>> info["docdenoise"] == __import__("docdenoise").__version__
    True
    """
    from ._devices import onnxruntime_version
    from .models import available_models

    ort = onnxruntime_version()
    return {
        "docdenoise": __version__,
        "python": f"{platform.python_version()} ({platform.platform(terse=True)})",
        **_torch_lines(devices),
        "onnxruntime": ort or "not installed (pip install onnxruntime): no onnx engine",
        "engines": ", ".join(
            e for e, ok in (("onnx", ort is not None), ("torch", torch_installed())) if ok
        )
        or "none",
        "numpy": _version_of("numpy") or "?",
        "scikit-learn": _version_of("scikit-learn") or "?",
        "pillow": _version_of("pillow") or "?",
        "models": ", ".join(available_models()),
        "pretrained model": _pretrained(),
        "matplotlib (plot)": _extra("matplotlib", "plot"),
        "tesseract (ocr)": _tesseract(),
        "dask (dask)": _extra("dask", "dask"),
        "starlette (web)": _extra("starlette", "web"),
        "uvicorn (web)": _extra("uvicorn", "web"),
    }
