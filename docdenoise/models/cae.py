"""The reference convolutional autoencoder (Kaggle "Denoising Dirty Documents")."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvAutoencoder"]


class ConvAutoencoder(nn.Module):
    """Reference convolutional autoencoder: two stride-2 convolutions down, two up.

    Encoder: ``Conv2d(1, c1, 3, stride=2, padding=1) + ReLU``,
    ``Conv2d(c1, c2, 3, stride=2, padding=1) + ReLU``; decoder: the mirror image with
    ``ConvTranspose2d(..., 3, stride=2, padding=1, output_padding=1)`` and a final
    ``Sigmoid``. With the default channels ``(16, 32)`` it has 9,569 parameters.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
        Channels after the first and the second encoder convolution.

    Notes
    -----
    Input ``[N, 1, H, W]`` in ``[0, 1]``; ``H`` and ``W`` must be multiples of
    :attr:`size_multiple` (4). :class:`~docdenoise.DocumentDenoiser` pads and crops
    for you, so pages of any size work there.

    Examples
    --------
    >>> import torch
    >>> from docdenoise.models import ConvAutoencoder
    >>> net = ConvAutoencoder()
    >>> sum(p.numel() for p in net.parameters())
    9569
    >>> net(torch.rand(2, 1, 16, 24)).shape
    torch.Size([2, 1, 16, 24])
    """

    #: Input height and width must be multiples of this number.
    size_multiple: int = 4
    #: Pixels on each side that influence one output pixel (used for tiling).
    receptive_margin: int = 8

    def __init__(self, channels: tuple[int, int] = (16, 32)) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.channels = (c1, c2)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1),
            nn.ReLU(inplace=True),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, kernel_size=3, stride=2, padding=1, output_padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c1, 1, kernel_size=3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise a batch of pages.

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, H, W)
            Pages in ``[0, 1]``; ``H`` and ``W`` multiples of :attr:`size_multiple`.

        Returns
        -------
        out : torch.Tensor of shape (N, 1, H, W)
            Cleaned pages in ``[0, 1]``.
        """
        return self.decoder(self.encoder(x))
