"""The runtimes that can run a network (torch, onnxruntime) and torch's devices.

``"auto"`` devices pick cuda, then mps, then cpu. torch is optional (cleaning pages
runs on onnxruntime without it): it is imported here only when a function needs
it, and :func:`require_torch` says how to install it when it is missing.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = [
    "available_devices",
    "onnxruntime_version",
    "require_torch",
    "resolve_device",
    "torch_installed",
]

#: How to get torch, for messages (a CPU build first, so pip does not pull CUDA).
TORCH_HINT = (
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu, "
    'then pip install "docdenoise[torch]"'
)


def torch_installed() -> bool:
    """Whether torch can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def onnxruntime_version() -> str | None:
    """The installed onnxruntime version, or None when it is missing (imports nothing)."""
    from importlib import metadata

    for dist in ("onnxruntime", "onnxruntime-gpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def require_torch(what: str) -> ModuleType:
    """Import and return torch, or raise an ImportError saying that ``what`` needs it.

    Examples
    --------
    >>> from docdenoise._devices import require_torch
    >>> require_torch("Training").__name__
    'torch'
    """
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{what} needs torch, which is not installed (cleaning pages with the onnx "
            f"engine does not). Install it with: {TORCH_HINT}"
        ) from None
    return torch


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """List the torch devices usable on this machine.

    Returns
    -------
    devices : list of str
        ``"cpu"`` first, then ``"cuda:0"`` ... for each GPU, then ``"mps"`` on Apple
        silicon.

    Examples
    --------
    >>> from docdenoise import available_devices
    >>> "cpu" in available_devices()
    True
    """
    devices = ["cpu"]
    if not torch_installed():
        return devices
    import torch

    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        devices.append("mps")
    return devices


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn a device request into an available :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"``
        or ``"mps"``.

    Returns
    -------
    device : torch.device
        The device to use.

    Raises
    ------
    DeviceError
        If the requested device does not exist here; the message lists those that do.

    Examples
    --------
    >>> from docdenoise import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    torch = require_torch("The torch engine")
    from .exceptions import DeviceError  # (imports scikit-learn: not at start-up)

    if device is None or (isinstance(device, str) and device == "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(
            f"Unknown device {device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or "
            f"'mps'. Available here: {available_devices()}."
        ) from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (dev.index is not None and dev.index >= count):
            raise DeviceError(
                f"device={device!r} was requested but is not available; available "
                f"devices: {available_devices()}."
            )
        return dev
    if dev.type == "mps":
        if not _mps_available():
            raise DeviceError(
                f"device={device!r} was requested but MPS is not available; available "
                f"devices: {available_devices()}."
            )
        return dev
    raise DeviceError(f"Unsupported device {device!r}; available devices: {available_devices()}.")
