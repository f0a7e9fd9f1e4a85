"""Inference: batch images by size, pad to what the network needs, crop back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["group_by_shape", "pad_to_multiple", "predict_images"]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad ``[N, C, H, W]`` at the bottom and right (edge values) to multiples of ``multiple``.

    Padding only at the bottom and right keeps pixel ``(i, j)`` of the input at
    ``(i, j)`` of the output, so cropping back is ``out[..., :H, :W]``.
    """
    h, w = x.shape[-2:]
    pad_h = (-h) % multiple
    pad_w = (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")


def group_by_shape(images: Sequence[np.ndarray]) -> dict[tuple[int, ...], list[int]]:
    """Map each distinct image shape to the indices of the images that have it."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, img in enumerate(images):
        groups[img.shape].append(i)
    return dict(groups)


def predict_images(
    module: nn.Module,
    images: Sequence[np.ndarray],
    *,
    device: torch.device,
    batch_size: int,
    size_multiple: int,
) -> list[np.ndarray]:
    """Run ``module`` over 2-D float32 images and return outputs of the same shapes.

    Images of equal size are batched together (``batch_size`` at a time); each batch
    is padded to ``size_multiple``, passed through the network, cropped back and
    clipped to ``[0, 1]``.
    """
    out: list[np.ndarray | None] = [None] * len(images)
    module.eval()
    with torch.inference_mode():
        for (h, w), idx in group_by_shape(images).items():
            for start in range(0, len(idx), batch_size):
                chunk = idx[start : start + batch_size]
                batch = torch.from_numpy(np.stack([images[i] for i in chunk]))
                batch = batch.unsqueeze(1).to(device)
                pred = module(pad_to_multiple(batch, size_multiple))[:, 0, :h, :w]
                pred = pred.clamp_(0.0, 1.0).cpu().numpy()
                for j, i in enumerate(chunk):
                    out[i] = pred[j]
    return out  # type: ignore[return-value]
