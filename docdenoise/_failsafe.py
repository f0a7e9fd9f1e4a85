"""What ``fit`` leaves behind when training fails or is interrupted.

Two rules, documented in :meth:`DocumentDenoiser.fit`:

* Ctrl-C (``KeyboardInterrupt``) during the training loop stops training early,
  like skorch: ``fit`` warns with :class:`~docdenoise.exceptions.TrainingInterruptedWarning`
  and returns a fitted estimator holding the weights learned so far; ``history_``
  lists only the completed epochs (:func:`interruptible`).
* Any other exception, and a ``KeyboardInterrupt`` outside the training loop,
  leaves the estimator exactly as it was before ``fit``: fitted attributes are put
  back and, for a warm start, the network weights, their device and the optimizer
  state are restored (:func:`rollback_on_error`).
"""

from __future__ import annotations

import copy
import functools
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, TypeVar

from ._callbacks import Callback
from .exceptions import TrainingInterruptedWarning

__all__ = ["interruptible", "rollback_on_error"]

F = TypeVar("F", bound=Callable[..., Any])


def _fitted_attrs(est: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def _cpu_copy(obj: Any) -> Any:
    """Deep copy of a (nested) state dict with every tensor copied to the CPU, so the
    snapshot does not take GPU memory; ``load_state_dict`` moves it back."""
    torch = sys.modules.get("torch")  # no tensor exists unless torch was imported
    if torch is not None and isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return type(obj)((k, _cpu_copy(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_copy(v) for v in obj)
    return copy.deepcopy(obj)


def rollback_on_error(fit: F) -> F:
    """Decorate ``fit`` so that an exception leaves the estimator as before the call."""

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved = _fitted_attrs(self)
        module = saved.get("module_") if self.warm_start else None
        optimizer = saved.get("optimizer_") if self.warm_start else None
        module_state = _cpu_copy(module.state_dict()) if module is not None else None
        optimizer_state = _cpu_copy(optimizer.state_dict()) if optimizer is not None else None
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for key in _fitted_attrs(self):
                if key not in saved:
                    delattr(self, key)
            for key, value in saved.items():
                setattr(self, key, value)
            if module is not None:
                module.load_state_dict(module_state)
                module.to(saved["device_"])
            if optimizer is not None:
                optimizer.load_state_dict(optimizer_state)
            raise

    return wrapper  # type: ignore[return-value]


def _caller_outside_package() -> int:
    """``stacklevel`` (for a warning issued by our caller) of the first frame outside
    docdenoise, so the warning points at the user's ``fit`` call whatever decorators
    sit in between."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


class _Completed(Callback):
    """Collects the records of the epochs that completed."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def on_epoch_end(self, record: dict) -> None:
        self.records.append(record)


def interruptible(train: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
    """Wrap a training function so that Ctrl-C ends training instead of ``fit``.

    The wrapped function takes the arguments of ``train`` (its ``callbacks``
    included) and returns the history records of the completed epochs.
    """

    def run(*args: Any, callbacks: Sequence[Callback] = (), **kwargs: Any) -> list[dict]:
        completed = _Completed()
        try:
            return train(*args, callbacks=[completed, *callbacks], **kwargs)
        except KeyboardInterrupt:
            warnings.warn(
                f"Training was interrupted after {len(completed.records)} complete epoch(s) "
                "of this fit; the estimator keeps the weights learned so far (history_ "
                "lists the complete epochs). Call fit again with warm_start=True to go on.",
                TrainingInterruptedWarning,
                stacklevel=_caller_outside_package(),
            )
        return completed.records

    return run
