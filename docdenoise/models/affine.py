"""A residual U-Net with a smooth local gain and offset: ``out = g * x + b + r``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .unet import ResidualUNet

__all__ = ["AffineUNet"]


class AffineUNet(ResidualUNet):
    """A :class:`ResidualUNet` that also predicts a smooth gain and offset per pixel.

    Scanned paper is, to a first approximation, the clean page times the light and
    paper tone, so the clean page is the scan times a smooth gain plus a smooth
    offset (which sets the ink black). This network predicts that gain ``g`` and
    offset ``b`` at 1/8 of the page resolution (from the decoder of the U-Net),
    interpolates them bilinearly to full resolution, and adds the residual
    correction ``r`` of :class:`ResidualUNet` for what is not smooth (crease lines,
    specks, stain edges)::

        out = clamp(g * x + b + r, 0, 1)

    Because ``g`` and ``b`` are smooth, the fine structure of the text (its
    anti-aliased edges) passes from the scan to the output unchanged instead of
    being redrawn. At initialisation ``g = 1`` and ``b = r = 0``: the untrained
    network is the identity, and the weights of a trained :class:`ResidualUNet`
    with the same ``channels`` load into it (``strict=False``) to give the same
    output.

    Parameters
    ----------
    channels : tuple of four int, default=(16, 32, 64, 128)
        Feature channels at 1/2, 1/4, 1/8 and 1/16 of the page resolution.

    Notes
    -----
    Input ``[N, 1, H, W]`` in ``[0, 1]``; ``H`` and ``W`` must be multiples of
    :attr:`size_multiple` (16). The gain and offset come from a coarser level of
    the decoder, so they see less than the full U-Net: the receptive margin stays
    that of :class:`ResidualUNet` (103 pixels).

    Examples
    --------
    >>> import torch
    >>> from docdenoise.models import AffineUNet
    >>> net = AffineUNet(channels=(4, 8, 8, 8))
    >>> x = torch.rand(1, 1, 32, 48)
    >>> bool(torch.equal(net(x), x))  # the identity before training
    True
    """

    def __init__(self, channels: tuple[int, int, int, int] = (16, 32, 64, 128)) -> None:
        super().__init__(channels=channels)
        self.affine = nn.Conv2d(self.channels[2], 2, kernel_size=1)
        nn.init.zeros_(self.affine.weight)
        if self.affine.bias is not None:
            nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise a batch of pages.

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, H, W)
            Pages in ``[0, 1]``; ``H`` and ``W`` multiples of :attr:`size_multiple`.

        Returns
        -------
        out : torch.Tensor of shape (N, 1, H, W)
            Cleaned pages, ``clamp(g * x + b + r, 0, 1)``.
        """
        levels = self.decoder_levels(x)
        coarse = self.affine(levels[0])  # 1/8 of the page resolution
        gain_offset = F.interpolate(coarse, scale_factor=8, mode="bilinear", align_corners=False)
        gain = torch.exp(gain_offset[:, :1])
        offset = gain_offset[:, 1:]
        return (gain * x + offset + self.correction(levels[-1])).clamp(0.0, 1.0)
