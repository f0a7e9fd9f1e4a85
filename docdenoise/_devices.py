"""Torch device selection: ``"auto"`` picks cuda, then mps, then cpu."""

from __future__ import annotations

import torch

from .exceptions import DeviceError

__all__ = ["available_devices", "resolve_device"]


def _mps_available() -> bool:
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
