"""Progress reporting for training: tqdm bars over epochs and batches."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm

__all__ = ["TrainingProgress", "training_hooks"]


class TrainingProgress:
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

    def close(self) -> None:
        """Remove the batch bar and close the epoch bar."""
        if self.batch_bar is not None:
            self.batch_bar.close()
        self.epoch_bar.close()


@contextmanager
def training_hooks(
    verbose: int, *, epochs: int, report: Callable[[dict], None]
) -> Iterator[dict[str, Callable[..., None]]]:
    """Callbacks for :func:`docdenoise._training.train` that match ``verbose``.

    ``0``: none; ``1``: ``report`` (one printed line per epoch); ``2`` or more:
    progress bars (:class:`TrainingProgress`), closed when the block exits.
    """
    if verbose >= 2:
        progress = TrainingProgress(epochs)
        try:
            yield {
                "on_epoch_end": progress.on_epoch_end,
                "on_batch_end": progress.on_batch_end,
            }
        finally:
            progress.close()
    elif verbose:
        yield {"on_epoch_end": report}
    else:
        yield {}
