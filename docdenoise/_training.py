"""The training loop: size buckets, shuffled batches, optimizer steps, history."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._inference import group_by_shape, pad_to_multiple
from .exceptions import DivergenceError

__all__ = ["Bucket", "make_buckets", "train"]


@dataclass
class Bucket:
    """Images of one size, stacked and padded once: ``x``/``y`` are ``[n, 1, Hp, Wp]``."""

    x: torch.Tensor
    y: torch.Tensor
    height: int
    width: int

    def __len__(self) -> int:
        return int(self.x.shape[0])


def make_buckets(
    X: Sequence[np.ndarray],
    Y: Sequence[np.ndarray],
    *,
    size_multiple: int,
    device: torch.device,
) -> list[Bucket]:
    """Stack noisy/clean images of equal size into padded tensors on ``device``."""
    buckets = []
    for (h, w), idx in group_by_shape(X).items():
        x = torch.from_numpy(np.stack([X[i] for i in idx])).unsqueeze(1)
        y = torch.from_numpy(np.stack([Y[i] for i in idx])).unsqueeze(1)
        x = pad_to_multiple(x, size_multiple).to(device)
        y = pad_to_multiple(y, size_multiple).to(device)
        buckets.append(Bucket(x.contiguous(), y.contiguous(), h, w))
    return buckets


def _batches(
    buckets: list[Bucket], batch_size: int, generator: torch.Generator | None
) -> list[tuple[int, torch.Tensor]]:
    """Index batches within each bucket; shuffled (images and batch order) if a generator is given."""
    plan = []
    for b, bucket in enumerate(buckets):
        n = len(bucket)
        order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
        plan += [(b, order[s : s + batch_size]) for s in range(0, n, batch_size)]
    if generator is not None:
        perm = torch.randperm(len(plan), generator=generator).tolist()
        plan = [plan[i] for i in perm]
    return plan


def _batch_loss(
    module: nn.Module, criterion: nn.Module, bucket: Bucket, idx: torch.Tensor
) -> torch.Tensor:
    h, w = bucket.height, bucket.width
    pred = module(bucket.x[idx])[..., :h, :w]
    return criterion(pred, bucket.y[idx][..., :h, :w])


def evaluate_loss(
    module: nn.Module, criterion: nn.Module, buckets: list[Bucket], batch_size: int
) -> float:
    """Mean loss over all images in ``buckets`` (weighted by image count), no gradients."""
    module.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for b, idx in _batches(buckets, batch_size, None):
            total += float(_batch_loss(module, criterion, buckets[b], idx)) * len(idx)
            count += len(idx)
    return total / max(count, 1)


def train(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
    train_buckets: list[Bucket],
    valid_buckets: list[Bucket],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    start_epoch: int = 0,
    on_epoch_end: Callable[[dict], None] | None = None,
    on_batch_end: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Train ``module`` for ``epochs`` epochs and return one history record per epoch.

    Each record holds ``epoch`` (1-based, counting from ``start_epoch``),
    ``train_loss``, ``valid_loss`` (NaN without validation data) and ``dur``
    (seconds). Raises :class:`DivergenceError` as soon as a loss is not finite.
    ``on_epoch_end(record)`` is called after each epoch and
    ``on_batch_end(done, total)`` after each optimizer step (for progress bars).
    """
    history = []
    for epoch in range(start_epoch + 1, start_epoch + epochs + 1):
        tic = time.perf_counter()
        module.train()
        total, count = 0.0, 0
        plan = _batches(train_buckets, batch_size, generator)
        for step, (b, idx) in enumerate(plan, start=1):
            optimizer.zero_grad(set_to_none=True)
            loss = _batch_loss(module, criterion, train_buckets[b], idx)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise DivergenceError(
                    f"Training diverged in epoch {epoch}: the loss became {value}. Try a "
                    "smaller learning rate (lr) or check the input data."
                )
            loss.backward()
            optimizer.step()
            total += value * len(idx)
            count += len(idx)
            if on_batch_end is not None:
                on_batch_end(step, len(plan))
        valid = (
            evaluate_loss(module, criterion, valid_buckets, batch_size)
            if valid_buckets
            else float("nan")
        )
        record = {
            "epoch": epoch,
            "train_loss": total / max(count, 1),
            "valid_loss": valid,
            "dur": time.perf_counter() - tic,
        }
        history.append(record)
        if on_epoch_end is not None:
            on_epoch_end(record)
    return history
