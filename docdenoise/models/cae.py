"""The reference convolutional autoencoder (Kaggle "Denoising Dirty Documents")."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConvAutoencoder"]


class ConvAutoencoder(nn.Module):
    """Reference convolutional autoencoder: two stride-2 convolutions down, two up.

    Encoder: ``Conv2d(1, c1, 3, stride=2, padding=1) + ReLU``,
    ``Conv2d(c1, c2, 3, stride=2, padding=1) + ReLU``; decoder: the mirror image with
    ``ConvTranspose2d(..., 3, stride=2, padding=1, output_padding=1)`` and a final
    ``Sigmoid``. With the default channels ``(16, 32)`` it has 9,569 parameters.

    The layers are exactly the reference's; only the start differs: the bias of the
    last layer starts at ``logit(output_level)``, so an untrained network returns
    light paper (about 0.9) instead of mid-grey (0.5). Pages are mostly paper, and
    the reference recipe (64 epochs of a few hundred optimizer steps in all on a
    small training set) otherwise spends much of its budget learning that: on real
    held-out scans this start lowers the reference recipe's RMSE from 0.13 to 0.09
    (``benchmarks/train_real.py cae``, see the model card).

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
        Channels after the first and the second encoder convolution.
    output_level : float in (0, 1) or None, default=0.9
        Initial output level (the last layer's bias starts at its logit). ``None``
        keeps PyTorch's default initialisation everywhere, as the reference did.

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

    def __init__(
        self, channels: tuple[int, int] = (16, 32), output_level: float | None = 0.9
    ) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        if output_level is not None and not 0.0 < float(output_level) < 1.0:
            raise ValueError(f"output_level must lie in (0, 1) or be None, got {output_level!r}.")
        self.channels = (c1, c2)
        self.output_level = output_level
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
        if output_level is not None:
            level = float(output_level)
            last = self.decoder[2]
            assert isinstance(last, nn.ConvTranspose2d) and last.bias is not None
            nn.init.constant_(last.bias, math.log(level / (1.0 - level)))

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
