"""A small residual U-Net for documents: it predicts a correction to the input page."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResidualUNet"]


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
    )


def _receptive_margin(levels: int) -> int:
    """Upper bound of the receptive-field radius, in input pixels.

    Tracks, for a feature at position ``i`` and scale ``s``, the input pixels it sees
    as ``[s*i - left, s*i + s - 1 + right]``: a 3x3 convolution adds ``s`` to both
    sides, a 2x2 pooling only changes the scale, a stride-2 transposed convolution
    adds the new scale to both sides, pixel (un)shuffle adds 1 at the end.
    """
    margin, scale = 0, 2  # after PixelUnshuffle(2)
    for _ in range(levels - 1):  # encoder levels, then pooling
        margin += 2 * scale
        scale *= 2
    margin += 2 * scale  # bottleneck
    for _ in range(levels - 1):  # up-convolution, then two 3x3 convolutions
        scale //= 2
        margin += scale + 2 * scale
    return margin + 1  # PixelShuffle(2)


class ResidualUNet(nn.Module):
    """A compact U-Net that predicts a correction added to the noisy page.

    The page is first split into its four pixel phases (``PixelUnshuffle(2)``, as in
    FFDNet), so every convolution runs at half resolution or less while no pixel is
    lost; a four-level U-Net (two 3x3 convolutions + ReLU per level, 2x2 max pooling
    down, 2x2 transposed convolutions up, skip connections by concatenation) maps
    them to a four-phase correction, ``PixelShuffle(2)`` puts it back at full
    resolution, and the output is ``clamp(x + correction, 0, 1)``. The last layer
    starts at zero, so an untrained network is the identity. There is no
    normalisation layer, so each output pixel depends only on the pixels within
    :attr:`receptive_margin` of it (tiled inference equals whole-page inference).

    With the default ``channels=(16, 32, 64, 128)`` it has 482,228 parameters.

    Parameters
    ----------
    channels : tuple of four int, default=(16, 32, 64, 128)
        Feature channels at 1/2, 1/4, 1/8 and 1/16 of the page resolution.

    Notes
    -----
    Input ``[N, 1, H, W]`` in ``[0, 1]``; ``H`` and ``W`` must be multiples of
    :attr:`size_multiple` (16). :class:`~docdenoise.DocumentDenoiser` pads and crops
    for you, so pages of any size work there.

    Examples
    --------
    >>> import torch
    >>> from docdenoise.models import ResidualUNet
    >>> net = ResidualUNet(channels=(4, 8, 8, 8))
    >>> net(torch.rand(1, 1, 32, 48)).shape
    torch.Size([1, 1, 32, 48])
    """

    #: Number of resolution levels (fixed, so the class attributes below hold).
    levels: int = 4
    #: Input height and width must be multiples of this number.
    size_multiple: int = 2**levels
    #: Pixels on each side that influence one output pixel (an upper bound; 103).
    receptive_margin: int = _receptive_margin(levels)

    def __init__(self, channels: tuple[int, int, int, int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        chans = tuple(int(c) for c in channels)
        if len(chans) != self.levels or min(chans) < 1:
            raise ValueError(f"channels must be {self.levels} positive integers, got {chans!r}.")
        self.channels = chans
        self.unshuffle = nn.PixelUnshuffle(2)
        self.shuffle = nn.PixelShuffle(2)
        self.pool = nn.MaxPool2d(2)
        c_prev = 4
        self.down = nn.ModuleList()
        for c in chans:
            self.down.append(_double_conv(c_prev, c))
            c_prev = c
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for c_low, c_high in zip(chans[:0:-1], chans[-2::-1]):
            self.up.append(nn.ConvTranspose2d(c_low, c_high, kernel_size=2, stride=2))
            self.merge.append(_double_conv(2 * c_high, c_high))
        self.head = nn.Conv2d(chans[0], 4, kernel_size=1)
        nn.init.zeros_(self.head.weight)
        if self.head.bias is not None:
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise a batch of pages.

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, H, W)
            Pages in ``[0, 1]``; ``H`` and ``W`` multiples of :attr:`size_multiple`.

        Returns
        -------
        out : torch.Tensor of shape (N, 1, H, W)
            Cleaned pages, ``clamp(x + correction, 0, 1)``.
        """
        return (x + self.correction(self.decoder_levels(x)[-1])).clamp(0.0, 1.0)

    def decoder_levels(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of the decoder's levels, coarsest first (1/8, 1/4, 1/2 of the page).

        The encoder splits ``x`` into pixel phases and pools down to 1/16; each
        decoder level upsamples and merges the encoder's features of its scale.

        Parameters
        ----------
        x : torch.Tensor of shape (N, 1, H, W)
            Pages in ``[0, 1]``; ``H`` and ``W`` multiples of :attr:`size_multiple`.

        Returns
        -------
        levels : list of torch.Tensor
            ``[N, channels[2], H/8, W/8]``, ``[N, channels[1], H/4, W/4]`` and
            ``[N, channels[0], H/2, W/2]``.
        """
        h = self.unshuffle(x)
        skips = []
        for i, block in enumerate(self.down):
            if i:
                h = self.pool(h)
            h = block(h)
            skips.append(h)
        levels = []
        for up, merge, skip in zip(self.up, self.merge, skips[-2::-1]):
            h = merge(torch.cat([up(h), skip], dim=1))
            levels.append(h)
        return levels

    def correction(self, finest: torch.Tensor) -> torch.Tensor:
        """The full-resolution correction added to the page, from the finest decoder level.

        Parameters
        ----------
        finest : torch.Tensor of shape (N, channels[0], H/2, W/2)
            The last of :meth:`decoder_levels`.

        Returns
        -------
        correction : torch.Tensor of shape (N, 1, H, W)
            The four pixel phases of the head's output put back in place.
        """
        return self.shuffle(self.head(finest))
