"""The training loop: size buckets or random patches, batches, schedule, early stopping."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from ._callbacks import Callback
from ._geometry import dihedral, group_by_shape, pad_bottom_right, pad_to_multiple
from .exceptions import DivergenceError

__all__ = ["Bucket", "PatchSampler", "TrainSettings", "make_buckets", "train"]


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


class PatchSampler:
    """Random square crops of noisy/clean pairs, so pages of any size batch together.

    One epoch draws ``patches_per_image`` crops of ``patch_size`` pixels from every
    image (a few pages give thousands of samples). Images smaller than a patch are
    first padded at the bottom/right with their edge values.
    """

    def __init__(
        self,
        X: Sequence[np.ndarray],
        Y: Sequence[np.ndarray],
        *,
        patch_size: int,
        patches_per_image: int,
        device: torch.device,
    ) -> None:
        self.patch_size = int(patch_size)
        self.patches_per_image = int(patches_per_image)
        self.device = device
        self.x = [self._fit_patch(img) for img in X]
        self.y = [self._fit_patch(img) for img in Y]

    def _fit_patch(self, image: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(image))
        return pad_bottom_right(
            t, max(0, self.patch_size - t.shape[0]), max(0, self.patch_size - t.shape[1])
        )

    def __len__(self) -> int:
        return len(self.x) * self.patches_per_image

    def batches(
        self, batch_size: int, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(x, y)`` batches ``[B, 1, p, p]`` of fresh random crops."""
        p = self.patch_size
        owners = torch.randperm(len(self), generator=generator) % len(self.x)
        for start in range(0, len(owners), batch_size):
            xs, ys = [], []
            for i in owners[start : start + batch_size].tolist():
                h, w = self.x[i].shape
                top = int(torch.randint(h - p + 1, (1,), generator=generator))
                left = int(torch.randint(w - p + 1, (1,), generator=generator))
                xs.append(self.x[i][top : top + p, left : left + p])
                ys.append(self.y[i][top : top + p, left : left + p])
            yield (
                torch.stack(xs).unsqueeze(1).to(self.device),
                torch.stack(ys).unsqueeze(1).to(self.device),
            )


def _bucket_batches(
    buckets: list[Bucket], batch_size: int, generator: torch.Generator | None
) -> list[tuple[int, torch.Tensor]]:
    """Index batches within each bucket, shuffled (images and batch order) with a generator."""
    plan = []
    for b, bucket in enumerate(buckets):
        n = len(bucket)
        order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
        plan += [(b, order[s : s + batch_size]) for s in range(0, n, batch_size)]
    if generator is not None:
        perm = torch.randperm(len(plan), generator=generator).tolist()
        plan = [plan[i] for i in perm]
    return plan


def _training_batches(
    data: list[Bucket] | PatchSampler, batch_size: int, generator: torch.Generator
) -> tuple[int, Iterator[tuple[torch.Tensor, torch.Tensor, int, int]]]:
    """Number of batches of one epoch and an iterator of ``(x, y, height, width)``."""
    if isinstance(data, PatchSampler):
        n = math.ceil(len(data) / batch_size)
        p = data.patch_size
        return n, ((x, y, p, p) for x, y in data.batches(batch_size, generator))
    plan = _bucket_batches(data, batch_size, generator)
    return len(plan), (
        (data[b].x[idx], data[b].y[idx], data[b].height, data[b].width) for b, idx in plan
    )


def _augment_input(
    x: torch.Tensor, generator: torch.Generator, gain: bool = True
) -> tuple[torch.Tensor, int]:
    """Draw a flip/rotation ``k`` and a gain per image; return the changed ``x`` and ``k``.

    The gain is drawn even when not applied, so ``augment=True`` and ``"flips"``
    see the same flips for the same seed.
    """
    k = int(torch.randint(8, (1,), generator=generator))
    factor = 0.9 + 0.15 * torch.rand((x.shape[0], 1, 1, 1), generator=generator)
    if gain:
        x = (x * factor.to(x.device)).clamp_(0.0, 1.0)
    return dihedral(x, k), k


#: Most pixels per forward/backward pass when training on the CPU. A larger batch
#: runs in chunks whose gradients add up to the batch's: the activations then stay
#: in the CPU caches, about 2x faster per image (``benchmarks/bench_training.py``).
PIXELS_PER_CHUNK = 2**19
#: Losses whose mean over a batch is the size-weighted mean of chunk means.
_CHUNKABLE_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)


def _chunk_size(module: nn.Module, criterion: nn.Module, x: torch.Tensor) -> int:
    """Images per forward/backward pass: chunks only where gradients stay the same.

    That needs an elementwise loss averaged over the batch and no batch
    normalisation (whose statistics would change); otherwise the whole batch.
    """
    n = len(x)
    if (
        x.device.type != "cpu"
        or type(criterion) not in _CHUNKABLE_LOSSES
        or getattr(criterion, "reduction", None) != "mean"
        or any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
    ):
        return n
    return max(1, min(n, PIXELS_PER_CHUNK // (x.shape[-2] * x.shape[-1])))


def _backward(
    module: nn.Module,
    criterion: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    h: int,
    w: int,
    generator: torch.Generator | None,
    gain: bool = True,
) -> float:
    """Forward and backward pass of one batch (augmented if a generator is given).

    Returns the batch loss; a non-finite loss is returned at once, before its
    backward pass. Chunk losses are weighted by their share of the batch, so the
    accumulated gradients are those of the whole batch (up to float rounding).
    """
    k = None
    if generator is not None:
        x, k = _augment_input(x, generator, gain)
    n = len(x)
    chunk = _chunk_size(module, criterion, x)
    total = 0.0
    for start in range(0, n, chunk):
        pred = module(x[start : start + chunk])
        if k is not None:
            pred = dihedral(pred, k, inverse=True)
        loss = criterion(pred[..., :h, :w], y[start : start + chunk, ..., :h, :w])
        value = float(loss.detach())
        if not math.isfinite(value):
            return value
        share = len(pred) / n
        (loss * share if chunk < n else loss).backward()
        total += value * share
    return total


def _fast_layout(module: nn.Module) -> bool:
    """Whether to train ``module`` in ``channels_last`` (on the CPU: 2x faster)."""
    param = next(module.parameters(), None)
    return param is not None and param.device.type == "cpu"


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
        for b, idx in _bucket_batches(buckets, batch_size, None):
            total += float(_batch_loss(module, criterion, buckets[b], idx)) * len(idx)
            count += len(idx)
    return total / max(count, 1)


def _lr_factor(schedule: str, progress: float) -> float:
    """Multiplier of the base learning rate at ``progress`` in [0, 1] of training."""
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "onecycle":  # linear warm-up over 30 %, then cosine decay
        if progress < 0.3:
            return 0.04 + 0.96 * progress / 0.3
        progress = (progress - 0.3) / 0.7
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class _EarlyStopping:
    """Tracks the best monitored loss and a copy of the weights that reached it."""

    def __init__(self, n_iter_no_change: int, tol: float) -> None:
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.best = math.inf
        self.best_state: dict | None = None
        self.stale = 0

    def update(self, loss: float, module: nn.Module) -> bool:
        """Record an epoch's loss; return True when training should stop."""
        if loss < self.best * (1.0 - self.tol):
            self.stale = 0
        else:
            self.stale += 1
        if loss < self.best:
            self.best = loss
            self.best_state = copy.deepcopy(module.state_dict())
        return self.stale >= self.n_iter_no_change

    def restore(self, module: nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


@dataclass(frozen=True)
class TrainSettings:
    """What the training loop takes from the estimator's parameters (already checked)."""

    epochs: int
    batch_size: int
    augment: bool | str = False
    lr_schedule: str | None = None
    early_stopping: bool = False
    n_iter_no_change: int = 10
    tol: float = 0.0
    max_time: float | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TrainSettings:
        """The fields of the same names from ``estimator.get_params()``."""
        return cls(**{f.name: params[f.name] for f in fields(cls)})


def train(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
    train_data: list[Bucket] | PatchSampler,
    valid_buckets: list[Bucket],
    settings: TrainSettings,
    *,
    generator: torch.Generator,
    start_epoch: int = 0,
    callbacks: Sequence[Callback] = (),
) -> list[dict]:
    """Train ``module`` and return one history record per epoch.

    ``train_data`` is a list of :class:`Bucket` (whole images) or a
    :class:`PatchSampler` (random crops). Each record holds ``epoch`` (1-based,
    counting from ``start_epoch``), ``train_loss``, ``valid_loss`` (NaN without
    validation data), ``lr`` (at the end of the epoch) and ``dur`` (seconds).
    Raises :class:`DivergenceError` as soon as a loss is not finite.

    ``settings.augment`` (see :data:`docdenoise._params.AUGMENT`): ``True`` trains
    on random flips/rotations with a random brightness gain of the input,
    ``"flips"`` on the flips/rotations only, ``False`` on the data as given.

    ``settings.lr_schedule`` (``"cosine"``, ``"onecycle"``: per step, over
    ``epochs`` or ``max_time``, whichever ends first; ``"plateau"``: halve the rate
    after 3 epochs without improvement of the monitored loss). ``early_stopping``
    stops after ``n_iter_no_change`` epochs whose monitored loss (validation loss,
    or training loss without validation data) is not below ``best * (1 - tol)``
    and restores the best weights. ``max_time`` (seconds) ends training after the
    step that exceeds it. Each callback's ``on_batch_end`` runs after every
    optimizer step, ``on_epoch_end`` after every epoch and ``on_train_end`` when
    training stops, however it stops.
    """
    epochs, batch_size, max_time = settings.epochs, settings.batch_size, settings.max_time
    augment, lr_schedule = settings.augment, settings.lr_schedule
    try:
        base_lrs = [group["lr"] for group in optimizer.param_groups]
        plateau = (
            torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
            if lr_schedule == "plateau"
            else None
        )
        stopper = (
            _EarlyStopping(settings.n_iter_no_change, settings.tol)
            if settings.early_stopping
            else None
        )
        channels_last = _fast_layout(module)
        if channels_last:  # same weights, faster layout; turned back before returning
            module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        started = time.perf_counter()
        steps_done, steps_total = 0, None
        history = []
        for epoch in range(start_epoch + 1, start_epoch + epochs + 1):
            tic = time.perf_counter()
            module.train()
            total, count = 0.0, 0
            n_batches, batches = _training_batches(train_data, batch_size, generator)
            steps_total = steps_total or n_batches * epochs
            out_of_time = False
            for step, (x, y, h, w) in enumerate(batches, start=1):
                if lr_schedule in ("cosine", "onecycle"):
                    progress = steps_done / steps_total
                    if max_time:
                        progress = max(progress, (time.perf_counter() - started) / max_time)
                    for group, base in zip(optimizer.param_groups, base_lrs):
                        group["lr"] = base * _lr_factor(lr_schedule, progress)
                optimizer.zero_grad(set_to_none=True)
                value = _backward(
                    module,
                    criterion,
                    x,
                    y,
                    h,
                    w,
                    generator if augment else None,
                    augment != "flips",
                )
                if not math.isfinite(value):
                    raise DivergenceError(
                        f"Training diverged in epoch {epoch}: the loss became {value}. Try a "
                        "smaller learning rate (lr) or check the input data."
                    )
                optimizer.step()
                steps_done += 1
                total += value * len(x)
                count += len(x)
                for callback in callbacks:
                    callback.on_batch_end(step, n_batches)
                if max_time is not None and time.perf_counter() - started > max_time:
                    out_of_time = True
                    break
            valid = (
                evaluate_loss(module, criterion, valid_buckets, batch_size)
                if valid_buckets
                else float("nan")
            )
            record = {
                "epoch": epoch,
                "train_loss": total / max(count, 1),
                "valid_loss": valid,
                "lr": float(optimizer.param_groups[0]["lr"]),
                "dur": time.perf_counter() - tic,
            }
            history.append(record)
            for callback in callbacks:
                callback.on_epoch_end(record)
            monitored = valid if valid_buckets else record["train_loss"]
            if plateau is not None:
                plateau.step(monitored)
            if (stopper is not None and stopper.update(monitored, module)) or out_of_time:
                break
        if stopper is not None:
            stopper.restore(module)
        if channels_last:
            module.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        return history
    finally:
        for callback in callbacks:
            callback.on_train_end()
