"""The two-minute demo behind ``docdenoise demo``: synthetic pages in, pictures out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._denoiser import DocumentDenoiser
from .baselines import median_background_removal
from .datasets import make_dirty_documents, save_images
from .metrics import rmse as pooled_rmse
from .plotting import plot_before_after, plot_difference, plot_history

__all__ = ["DemoResult", "demo_recipe", "run_demo"]

#: Page size of the demo (height, width): a strip of a 540 px wide scan.
DEMO_SHAPE = (128, 384)
#: Synthetic pages to train on, and held-out pages to clean and score.
DEMO_TRAIN, DEMO_TEST = 96, 8


def demo_recipe() -> dict[str, Any]:
    """The :class:`DocumentDenoiser` parameters the demo trains with.

    The residual U-Net on random patches, augmented, with a one-cycle schedule,
    for at most 90 seconds.

    Returns
    -------
    params : dict
        Keyword arguments for :class:`DocumentDenoiser`.
    """
    return {
        "model": "unet",
        "epochs": 60,
        "batch_size": 16,
        "lr": 2e-3,
        "patch_size": 64,
        "patches_per_image": 8,
        "lr_schedule": "onecycle",
        "augment": True,
        "max_time": 90.0,
    }


@dataclass
class DemoResult:
    """What :func:`run_demo` measured and wrote.

    Attributes
    ----------
    rmse : dict of str to float
        Pooled RMSE of the held-out pages against their clean originals: ``"noisy"``
        (doing nothing), ``"cleaned"`` (the trained denoiser), ``"median
        background"`` (the classical baseline,
        :func:`~docdenoise.baselines.median_background_removal`) and ``"shipped
        model"`` (:meth:`DocumentDenoiser.pretrained`, no training).
    files : dict of str to pathlib.Path
        The files written: ``"model"``, ``"before_after"``, ``"loss_curve"``,
        ``"difference"``, ``"noisy"``, ``"clean"`` and ``"cleaned"`` (folders of
        PNG pages).
    params : dict
        The estimator parameters used.
    n_train, n_test : int
        Training and held-out pages.
    shape : tuple of int
        Page size.
    train_seconds : float
        Training time.
    """

    rmse: dict[str, float]
    files: dict[str, Path]
    params: dict[str, Any]
    n_train: int
    n_test: int
    shape: tuple[int, int]
    train_seconds: float
    history: list[dict] = field(default_factory=list)


def _baseline(noisy: np.ndarray) -> np.ndarray:
    """The classical median-background removal of each page."""
    return np.stack([median_background_removal(page) for page in noisy])


def run_demo(
    out_dir: str | os.PathLike = "docdenoise-demo",
    *,
    epochs: int | None = None,
    random_state: int = 0,
    n_train: int = DEMO_TRAIN,
    n_test: int = DEMO_TEST,
    shape: tuple[int, int] = DEMO_SHAPE,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    **params: Any,
) -> DemoResult:
    """Generate dirty pages, train a denoiser, clean held-out pages, draw pictures.

    Writes into ``out_dir`` (created if missing; files of earlier demo runs are
    replaced): ``model.safetensors`` (the trained denoiser), ``before_after.png``,
    ``loss_curve.png``, ``difference.png``, and the held-out pages in ``noisy/``,
    ``clean/`` (their originals: a folder ``docdenoise evaluate`` can score) and
    ``cleaned/``. The pictures need matplotlib (``docdenoise[plot]``); without
    it they are skipped and the rest still runs.

    Parameters
    ----------
    out_dir : str or path-like, default="docdenoise-demo"
        Output folder.
    epochs : int, default=None
        Training epochs; default from :func:`demo_recipe`.
    random_state : int, default=0
        Seed for the pages and the training.
    n_train, n_test : int, default=96, 8
        Synthetic pages to train on and to clean and score.
    shape : tuple of (int, int), default=(128, 384)
        Page size.
    progress : bool, default=False
        Show training progress bars.
    log : callable, default=None
        Called with one line of text at each step (e.g. ``print``).
    **params
        Override any :class:`DocumentDenoiser` parameter of the recipe.

    Returns
    -------
    result : DemoResult
        RMSE before and after, files written, parameters and timings.
    """
    say = log or (lambda _msg: None)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"Output folder {str(out)!r} exists and is not a folder.")
    recipe = {**demo_recipe(), **params}
    if epochs is not None:
        recipe["epochs"] = epochs

    say(f"Generating {n_train + n_test} synthetic dirty pages of {shape[0]}x{shape[1]} px ...")
    noisy, clean = make_dirty_documents(n_train + n_test, shape, random_state=random_state)
    X_train, y_train = noisy[:n_train], clean[:n_train]
    X_test, y_test = noisy[n_train:], clean[n_train:]

    say(
        f"Training a {recipe['model']!r} denoiser for {recipe['epochs']} epochs on "
        f"{n_train} pages ..."
    )
    denoiser = DocumentDenoiser(**recipe, random_state=random_state, verbose=2 if progress else 0)
    tic = time.perf_counter()
    denoiser.fit(X_train, y_train)
    seconds = time.perf_counter() - tic
    cleaned = denoiser.transform(X_test)

    shipped = DocumentDenoiser.pretrained().transform(X_test)  # no training: out of the box
    rmse = {
        "noisy": pooled_rmse(y_test, X_test),
        "cleaned": pooled_rmse(y_test, cleaned),
        "median background": pooled_rmse(y_test, _baseline(X_test)),
        "shipped model": pooled_rmse(y_test, shipped),
    }

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {"model": out / "model.safetensors"}
    denoiser.save(files["model"])
    names = [f"page-{i + 1}" for i in range(n_test)]
    for key, pages in (("noisy", X_test), ("clean", y_test), ("cleaned", cleaned)):
        files[key] = out / key
        save_images(pages, files[key], names=names, overwrite=True)
    try:
        fig = plot_before_after(X_test, cleaned, y_test, max_images=3)
        files["before_after"] = out / "before_after.png"
        fig.savefig(files["before_after"], dpi=110)
        fig = plot_history(denoiser)
        files["loss_curve"] = out / "loss_curve.png"
        fig.savefig(files["loss_curve"], dpi=110)
        fig = plot_difference(cleaned[0], X_test[0], title="cleaned - noisy, page 1")
        files["difference"] = out / "difference.png"
        fig.savefig(files["difference"], dpi=110)
    except ImportError as exc:
        say(f"Skipping the pictures: {exc}")
    return DemoResult(
        rmse=rmse,
        files=files,
        params=recipe,
        n_train=n_train,
        n_test=n_test,
        shape=(int(shape[0]), int(shape[1])),
        train_seconds=seconds,
        history=list(denoiser.history_),
    )
