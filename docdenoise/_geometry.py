"""Page geometry shared by training and inference: flips, padding, size groups.

Every function takes a numpy array or a torch tensor (the last two axes are the
page's rows and columns) and returns the same kind, so an engine without torch can
use them too; torch is imported only when a tensor is padded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["dihedral", "group_by_shape", "pad_bottom_right", "pad_to_multiple", "round_up"]

#: A numpy array or a torch tensor (the same kind comes back).
Array = Any


def round_up(value: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is at least ``value``."""
    return -(-int(value) // multiple) * multiple


def _flip(x: Array, axis: int) -> Array:
    return np.flip(x, axis) if isinstance(x, np.ndarray) else x.flip(axis)


def dihedral(x: Array, k: int, inverse: bool = False) -> Array:
    """One of the 8 flips/rotations of ``[..., H, W]`` (``k`` in 0..7), or its inverse.

    Bit 4 of ``k`` transposes, bit 2 flips left-right, bit 1 flips upside down.
    """
    steps = [
        (lambda t: t.swapaxes(-2, -1)) if k & 4 else None,
        (lambda t: _flip(t, -1)) if k & 2 else None,
        (lambda t: _flip(t, -2)) if k & 1 else None,
    ]
    for step in reversed(steps) if inverse else steps:
        if step is not None:
            x = step(x)
    return x


def pad_bottom_right(x: Array, rows: int, cols: int) -> Array:
    """Add ``rows`` at the bottom and ``cols`` at the right, repeating the edge values.

    Padding only at the bottom and right keeps pixel ``(i, j)`` of the input at
    ``(i, j)`` of the output, so cropping back is ``out[..., :H, :W]``.
    """
    if rows == 0 and cols == 0:
        return x
    if isinstance(x, np.ndarray):
        return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, rows), (0, cols)], mode="edge")
    import torch.nn.functional as F

    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    # replicate padding takes [N, C, H, W]: fold the leading axes into N
    padded = F.pad(x.reshape(-1, 1, h, w), (0, cols, 0, rows), mode="replicate")
    return padded.reshape(*lead, h + rows, w + cols)


def pad_to_multiple(x: Array, multiple: int) -> Array:
    """Pad ``[..., H, W]`` at the bottom and right (edge values) to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    return pad_bottom_right(x, (-h) % multiple, (-w) % multiple)


def group_by_shape(images: Sequence[Any]) -> dict[tuple[int, ...], list[int]]:
    """Map each distinct image shape to the indices of the images that have it, in order."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, img in enumerate(images):
        groups[tuple(img.shape)].append(i)
    return dict(groups)
