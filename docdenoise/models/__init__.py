"""Denoising networks and a small registry that finds them by name.

``DocumentDenoiser(model="cae")`` looks the name up here. Each network is an
``nn.Module`` whose constructor takes keyword arguments only (routed from the
estimator's ``module__*`` parameters) and that declares two class attributes:

``size_multiple``
    Input height and width must be multiples of it (the estimator pads to it).
``receptive_margin``
    Pixels on each side that can influence one output pixel (tiling margin).

Both are read by :func:`network_contract` only, which also gives the defaults for
networks that do not declare them (any size; never tiled).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._devices import require_torch
from ._contract import NetworkContract, network_contract

if TYPE_CHECKING:
    from torch import nn

    from .affine import AffineUNet
    from .cae import ConvAutoencoder
    from .unet import ResidualUNet

__all__ = [
    "AffineUNet",
    "ConvAutoencoder",
    "NetworkContract",
    "ResidualUNet",
    "available_models",
    "get_model_class",
    "network_contract",
    "register_model",
]

#: The networks shipped here, imported (with torch) only when asked for, so that
#: their names are known without torch.
_BUILT_IN = {"AffineUNet": ".affine", "ConvAutoencoder": ".cae", "ResidualUNet": ".unet"}
_REGISTRY: dict[str, type[nn.Module] | str] = {
    "affine-unet": "AffineUNet",
    "cae": "ConvAutoencoder",
    "unet": "ResidualUNet",
}


def __getattr__(name: str) -> Any:
    if name in _BUILT_IN:
        require_torch(f"docdenoise.models.{name}")
        return getattr(importlib.import_module(_BUILT_IN[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_model(name: str, cls: type[nn.Module]) -> None:
    """Register a network class under ``name`` so ``model=name`` finds it.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"unet"``.
    cls : type of torch.nn.Module
        The network class. It should define ``size_multiple`` and
        ``receptive_margin`` (see :func:`network_contract` for the defaults).

    Raises
    ------
    TypeError
        ``cls`` is not a ``torch.nn.Module`` subclass.

    Examples
    --------
    >>> from docdenoise import DocumentDenoiser
    >>> from docdenoise.models import ConvAutoencoder, available_models, register_model
    >>> class WideAutoencoder(ConvAutoencoder):
    ...     def __init__(self, channels=(32, 64)):
    ...         super().__init__(channels=channels)
    >>> register_model("wide-cae", WideAutoencoder)
    >>> "wide-cae" in available_models()
    True
    >>> den = DocumentDenoiser(model="wide-cae")
    """
    torch = require_torch("Registering a network")
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise TypeError(f"cls must be a torch.nn.Module subclass, got {cls!r}")
    _REGISTRY[name] = cls


def available_models() -> list[str]:
    """Return the registered model names, sorted.

    Returns
    -------
    names : list of str
        Valid values for ``DocumentDenoiser(model=...)``.

    Examples
    --------
    >>> from docdenoise.models import available_models
    >>> {"cae", "unet"} <= set(available_models())
    True
    """
    return sorted(_REGISTRY)


def get_model_class(model: str | type[nn.Module]) -> type[nn.Module]:
    """Resolve a model name or class to an ``nn.Module`` subclass.

    Parameters
    ----------
    model : str or type of torch.nn.Module
        A registered name (see :func:`available_models`) or a module class.

    Returns
    -------
    cls : type of torch.nn.Module
        The network class.

    Raises
    ------
    ValueError
        ``model`` is neither a registered name nor an ``nn.Module`` subclass.

    Examples
    --------
    >>> from docdenoise.models import get_model_class
    >>> get_model_class("cae").__name__
    'ConvAutoencoder'
    """
    if isinstance(model, str):
        try:
            found = _REGISTRY[model]
        except KeyError:
            raise ValueError(
                f"Unknown model {model!r}; expected one of {available_models()} "
                "or a torch.nn.Module subclass."
            ) from None
        return __getattr__(found) if isinstance(found, str) else found
    torch = require_torch("A network class")
    if isinstance(model, type) and issubclass(model, torch.nn.Module):
        return model
    raise ValueError(
        f"model must be a name in {available_models()} or a torch.nn.Module subclass, "
        f"got {model!r} of type {type(model).__name__}."
    )
