"""Per-epoch callbacks of the training loop: progress bars, epoch lines, checkpoints.

:func:`docdenoise._training.train` calls each callback's ``on_batch_end`` after every
optimizer step, ``on_epoch_end`` after every epoch and ``on_train_end`` when it
stops, also after an error or Ctrl-C. ``fit`` chooses them from ``verbose`` and
``checkpoint``; the loop itself knows nothing of printing or files (skorch's
callbacks, kept small).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from . import _serialization

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Callback", "Checkpoint", "EpochLines", "TrainingProgress", "progress_callbacks"]


class Callback:
    """A training-loop hook; override the methods you need (the defaults do nothing)."""

    def on_batch_end(self, done: int, total: int) -> None:
        """After each optimizer step: ``done`` of the ``total`` batches of this epoch."""

    def on_epoch_end(self, record: dict) -> None:
        """After each epoch, with its history record."""

    def on_train_end(self) -> None:
        """When training stops, for whatever reason."""


class TrainingProgress(Callback):
    """Two progress bars for one ``fit``: epochs (with the latest losses) and batches.

    The epoch bar stays on screen when training ends; the batch bar of the current
    epoch is removed when training ends.

    Parameters
    ----------
    epochs : int
        Number of epochs this fit runs.
    file : file-like, default=None
        Where to draw (default: ``sys.stderr``).
    disable : bool or None, default=False
        Passed to tqdm; ``None`` disables the bars when ``file`` is not a terminal.
    """

    def __init__(self, epochs: int, *, file: Any = None, disable: bool | None = False) -> None:
        self._file = file
        self._disable = disable
        self.epoch_bar = tqdm(
            total=epochs, desc="training", unit="epoch", file=file, disable=disable
        )
        self.batch_bar: Any = None

    def on_batch_end(self, done: int, total: int) -> None:
        """Record that ``done`` of the ``total`` batches of this epoch are finished."""
        if self.batch_bar is None:
            self.batch_bar = tqdm(
                total=total,
                desc="  batches",
                unit="batch",
                leave=False,
                file=self._file,
                disable=self._disable,
            )
        elif done == 1:
            self.batch_bar.reset(total=total)
        self.batch_bar.update(done - self.batch_bar.n)

    def on_epoch_end(self, record: dict) -> None:
        """Advance the epoch bar and show the epoch's losses."""
        postfix = {"train_loss": f"{record['train_loss']:.5f}"}
        valid = record.get("valid_loss")
        if valid is not None and math.isfinite(valid):
            postfix["valid_loss"] = f"{valid:.5f}"
        self.epoch_bar.set_postfix(postfix, refresh=False)
        self.epoch_bar.update()

    def on_train_end(self) -> None:
        """Remove the batch bar and close the epoch bar."""
        if self.batch_bar is not None:
            self.batch_bar.close()
        self.epoch_bar.close()


class EpochLines(Callback):
    """Print one line per epoch: losses and duration."""

    def on_epoch_end(self, record: dict) -> None:
        """Print the epoch's line."""
        print(
            f"epoch {record['epoch']:4d}  train_loss {record['train_loss']:.5f}  "
            f"valid_loss {record['valid_loss']:.5f}  {record['dur']:.1f}s",
            flush=True,
        )


class Checkpoint(Callback):
    """Rewrite a model file after every epoch, atomically, with the history so far.

    ``meta`` is the file's metadata without ``history``; ``history`` the records of
    earlier fits (warm start), to which each epoch's record is added.
    """

    def __init__(
        self, path: str | os.PathLike, module: nn.Module, meta: dict[str, Any], history: list
    ) -> None:
        self.path, self.module, self.meta = path, module, meta
        self.history = list(history)

    def on_epoch_end(self, record: dict) -> None:
        """Write the file."""
        self.history.append(record)
        meta = {**self.meta, "history": self.history}
        _serialization.write_model_file(self.path, self.module.state_dict(), meta)


def progress_callbacks(verbose: int, epochs: int) -> list[Callback]:
    """What ``verbose`` shows: nothing (0), a line per epoch (1), progress bars (2 or more)."""
    if verbose >= 2:
        return [TrainingProgress(epochs)]
    if verbose:
        return [EpochLines()]
    return []
