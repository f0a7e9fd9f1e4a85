"""What docdenoise needs to know about a network, read in one place."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["NetworkContract", "network_contract"]


@dataclass(frozen=True)
class NetworkContract:
    """How pages must be shaped for a network and how far its view reaches.

    Parameters
    ----------
    size_multiple : int
        Input height and width must be multiples of it; pages are padded to it
        and cropped back.
    receptive_margin : int or None
        Pixels on each side that can influence one output pixel. Pages larger
        than a tile are cleaned in tiles with this margin; ``None`` (unknown)
        means pages are never tiled, whatever ``tile_size`` says.

    See Also
    --------
    network_contract : Read the contract of a network.

    Examples
    --------
    >>> from docdenoise.models import NetworkContract
    >>> NetworkContract(size_multiple=4, receptive_margin=8)
    NetworkContract(size_multiple=4, receptive_margin=8)
    """

    size_multiple: int
    receptive_margin: int | None


def _attribute(network: Any, name: str, default: int | None, least: int) -> int | None:
    value = getattr(network, name, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        owner = network if isinstance(network, type) else type(network)
        raise ValueError(
            f"{owner.__name__}.{name} must be an integer >= {least}"
            f"{' or None' if default is None else ''}, got {value!r}."
        )
    return int(value)


def network_contract(network: Any) -> NetworkContract:
    """Read a network's ``size_multiple`` and ``receptive_margin``, with their defaults.

    Networks declare both as class attributes. A network that declares neither
    still works: ``size_multiple`` defaults to 1 (any size goes in) and a missing
    ``receptive_margin`` means "unknown", so its pages are never tiled (tiles
    with too small a margin would show seams). Declare the margin to get tiled,
    bounded-memory inference of large pages.

    Parameters
    ----------
    network : torch.nn.Module or type of torch.nn.Module
        A network or its class.

    Returns
    -------
    contract : NetworkContract
        The two values, checked.

    Raises
    ------
    ValueError
        An attribute is declared but is not a suitable integer.

    Examples
    --------
    >>> from torch import nn
    >>> from docdenoise.models import ConvAutoencoder, network_contract
    >>> network_contract(ConvAutoencoder)
    NetworkContract(size_multiple=4, receptive_margin=8)
    >>> network_contract(nn.Identity())
    NetworkContract(size_multiple=1, receptive_margin=None)
    """
    multiple = _attribute(network, "size_multiple", 1, 1)
    assert multiple is not None
    return NetworkContract(multiple, _attribute(network, "receptive_margin", None, 0))
