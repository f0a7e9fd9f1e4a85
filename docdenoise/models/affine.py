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
    refine : int, default=0
        Width of an optional full-resolution refinement stage (0: none). Every
        convolution of the U-Net runs at half resolution or less on the page's four
        pixel phases, which can leave a faint two-pixel pattern along strokes; with
        ``refine > 0`` two 3x3 convolutions at full resolution (``refine`` channels
        between them) see the page, the output above and the finest features and add
        a correction. Its last layer starts at zero, so a plain network's weights load
        into a refined one (``strict=False``) and give the same output. Needs
        ``channels[0]`` to be a multiple of 4.

    Notes
    -----
    Input ``[N, 1, H, W]`` in ``[0, 1]``; ``H`` and ``W`` must be multiples of
    :attr:`size_multiple` (16). The gain and offset come from a coarser level of
    the decoder, so they see less than the full U-Net. The receptive margin is
    that of :class:`ResidualUNet` (103 pixels) plus 2 for the refinement (the
    bound holds with or without it).

    Examples
    --------
    >>> import torch
    >>> from docdenoise.models import AffineUNet
    >>> net = AffineUNet(channels=(4, 8, 8, 8))
    >>> x = torch.rand(1, 1, 32, 48)
    >>> bool(torch.equal(net(x), x))  # the identity before training
    True
    """

    #: Pixels on each side that influence one output pixel (an upper bound): the
    #: U-Net's 103, plus one for each 3x3 convolution of the optional refinement.
    receptive_margin: int = ResidualUNet.receptive_margin + 2

    def __init__(
        self, channels: tuple[int, int, int, int] = (16, 32, 64, 128), refine: int = 0
    ) -> None:
        super().__init__(channels=channels)
        if isinstance(refine, bool) or not isinstance(refine, int) or refine < 0:
            raise ValueError(f"refine must be an integer >= 0, got {refine!r}.")
        if refine and self.channels[0] % 4:
            raise ValueError(
                f"refine needs channels[0] to be a multiple of 4, got {self.channels[0]}."
            )
        self.affine = nn.Conv2d(self.channels[2], 2, kernel_size=1)
        nn.init.zeros_(self.affine.weight)
        if self.affine.bias is not None:
            nn.init.zeros_(self.affine.bias)
        self.refine: nn.Sequential | None = None
        if refine:
            # The page, the half-resolution output and the finest features put back
            # at full resolution (their four phases side by side)
            last = nn.Conv2d(refine, 1, kernel_size=3, padding=1)
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)
            self.refine = nn.Sequential(
                nn.Conv2d(2 + self.channels[0] // 4, refine, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                last,
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
            Cleaned pages, ``clamp(g * x + b + r, 0, 1)`` (with the refinement's
            correction added before clamping when there is one).
        """
        return self.unclamped(x).clamp(0.0, 1.0)

    def unclamped(self, x: torch.Tensor) -> torch.Tensor:
        """The output before it is clamped to ``[0, 1]``.

        :meth:`forward` clamps this; before clamping, every output pixel depends on
        all the inputs within :attr:`receptive_margin` that can reach it (what the
        tests of that bound differentiate).

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, H, W)
            Pages in ``[0, 1]``; ``H`` and ``W`` multiples of :attr:`size_multiple`.

        Returns
        -------
        out : torch.Tensor of shape (N, 1, H, W)
            ``g * x + b + r``, plus the refinement's correction when there is one.
        """
        levels = self.decoder_levels(x)
        coarse = self.affine(levels[0])  # 1/8 of the page resolution
        gain_offset = F.interpolate(coarse, scale_factor=8, mode="bilinear", align_corners=False)
        gain = torch.exp(gain_offset[:, :1])
        offset = gain_offset[:, 1:]
        out = gain * x + offset + self.correction(levels[-1])
        if self.refine is not None:
            out = out + self.refine(torch.cat([x, out, self.shuffle(levels[-1])], dim=1))
        return out
