"""Pictures of denoising results: before/after grids, loss curves, difference maps.

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot``, so nothing is shown or kept open behind your back: call
``fig.savefig("out.png")`` to write it, or let Jupyter display it. Matplotlib is an
optional dependency (``pip install "docdenoise[plot]"``); it is imported only when
one of these functions is called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._validation import check_images
from .exceptions import InvalidImageError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_before_after", "plot_difference", "plot_history"]

#: Width in inches of one image panel; heights follow the images' aspect ratio.
_PANEL_WIDTH = 3.6


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "docdenoise.plotting needs matplotlib, which is not installed; install it "
            'with: pip install "docdenoise[plot]"'
        ) from None
    return Figure


def _as_images(images: Any, name: str) -> list[np.ndarray]:
    if isinstance(images, np.ndarray) and images.ndim == 2:
        images = [images]
    return check_images(images, name=name).images


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)))


def plot_before_after(
    noisy: Any,
    cleaned: Any,
    clean: Any = None,
    *,
    max_images: int = 4,
    titles: Sequence[str] | None = None,
    show_rmse: bool = True,
) -> Figure:
    """Show noisy pages next to their cleaned versions (and the clean targets).

    One row per page, one column each for the noisy input, the cleaned output and,
    when given, the clean target. With targets, each panel title carries the
    page's RMSE against its target, so improvement can be read at a glance.

    Parameters
    ----------
    noisy : 2-D array, list of 2-D arrays or ndarray of shape (n, H, W)
        Input pages, in any form :class:`~docdenoise.DocumentDenoiser` accepts.
    cleaned : same form as noisy
        The denoised pages, one per noisy page and of the same shape.
    clean : same form as noisy, default=None
        Clean targets; adds a third column and RMSE values in the titles.
    max_images : int, default=4
        Show at most this many pages (the first ones).
    titles : sequence of str, default=None
        Column titles; default ``("noisy", "cleaned", "clean target")``.
    show_rmse : bool, default=True
        Add the RMSE against ``clean`` to the titles (only when ``clean`` is given).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; save it with ``fig.savefig(path)``.

    Raises
    ------
    InvalidImageError
        The images are not valid, or ``cleaned``/``clean`` do not pair up with
        ``noisy``.
    ImportError
        Matplotlib is not installed.

    See Also
    --------
    plot_difference : Heat map of what the denoiser changed.

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.plotting import plot_before_after
    >>> noisy = np.full((2, 20, 30), 0.6)
    >>> fig = plot_before_after(noisy, np.ones((2, 20, 30)), np.ones((2, 20, 30)))
    >>> len(fig.axes), fig.axes[0].get_title()
    (6, 'noisy\\nRMSE 0.400')
    """
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ValueError(f"max_images must be an integer >= 1, got {max_images!r}.")
    columns = [_as_images(noisy, "noisy"), _as_images(cleaned, "cleaned")]
    if clean is not None:
        columns.append(_as_images(clean, "clean"))
    names = ["noisy", "cleaned", "clean target"][: len(columns)]
    if titles is not None:
        titles = list(titles)
        if len(titles) != len(columns):
            raise ValueError(f"Expected {len(columns)} titles (one per column), got {len(titles)}.")
        names = titles
    for name, other in zip(names[1:], columns[1:]):
        if len(other) != len(columns[0]):
            raise ValueError(
                f"{name!r} holds {len(other)} images but noisy holds {len(columns[0])}; "
                "they must pair up one to one."
            )
        for i, (a, b) in enumerate(zip(columns[0], other)):
            if a.shape != b.shape:
                raise ValueError(
                    f"Image {i}: noisy shape {a.shape} differs from {name!r} shape {b.shape}."
                )

    n = min(len(columns[0]), max_images)
    aspect = max(img.shape[0] / img.shape[1] for img in columns[0][:n])
    Figure = _figure_class()
    fig = Figure(
        figsize=(
            _PANEL_WIDTH * len(columns),
            max(_PANEL_WIDTH * aspect, 1.0) * n + 0.5 * n,
        ),
        layout="constrained",
    )
    axes = np.asarray(fig.subplots(n, len(columns), squeeze=False))
    for row in range(n):
        for j, images in enumerate(columns):
            ax = axes[row, j]
            img = images[row]
            ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = names[j]
            if clean is not None and show_rmse and j < 2:
                title += f"\nRMSE {_rmse(img, columns[2][row]):.3f}"
            ax.set_title(title, fontsize=10)
    return fig


def _history_records(history: Any) -> list[Mapping[str, Any]]:
    records = getattr(history, "history_", history)
    if (
        isinstance(records, Mapping)
        or not isinstance(records, Sequence)
        or isinstance(records, str)
    ):
        raise TypeError(
            "history must be a fitted DocumentDenoiser or its history_ (a list of dicts "
            f"with 'epoch' and 'train_loss'), got {type(history).__name__}."
        )
    if not records:
        raise ValueError("history is empty: fit the estimator for at least one epoch first.")
    for rec in records:
        if not isinstance(rec, Mapping) or "train_loss" not in rec:
            raise ValueError(f"Each history record must be a dict with 'train_loss', got {rec!r}.")
    return list(records)


def _minor_log_label(value: float, _pos: int) -> str:
    """Label minor ticks of a log axis at 2, 3 and 5 times a power of ten only."""
    if value <= 0:
        return ""
    leading = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return f"{value:g}" if round(leading) in (2, 3, 5) else ""


def plot_history(history: Any, *, ax: Axes | None = None, log_scale: bool = True) -> Figure:
    """Plot training and validation loss per epoch.

    Parameters
    ----------
    history : DocumentDenoiser or list of dict
        A fitted estimator, or its ``history_``: records with ``epoch``,
        ``train_loss`` and optionally ``valid_loss`` (NaN or missing without
        validation).
    ax : matplotlib.axes.Axes, default=None
        Draw into these axes instead of a new figure.
    log_scale : bool, default=True
        Use a logarithmic loss axis (losses often fall by orders of magnitude).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the plot.

    Raises
    ------
    TypeError
        ``history`` is neither an estimator nor a list of epoch records.
    ValueError
        ``history`` is empty or a record lacks ``train_loss``.
    ImportError
        Matplotlib is not installed.

    Examples
    --------
    >>> from docdenoise.plotting import plot_history
    >>> history = [{"epoch": 1, "train_loss": 0.1, "valid_loss": 0.12},
    ...            {"epoch": 2, "train_loss": 0.05, "valid_loss": 0.07}]
    >>> fig = plot_history(history)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['train loss', 'validation loss']
    """
    records = _history_records(history)
    epochs = [rec.get("epoch", i + 1) for i, rec in enumerate(records)]
    train = np.array([float(rec["train_loss"]) for rec in records])
    valid = np.array(
        [
            float("nan") if rec.get("valid_loss") is None else float(rec["valid_loss"])
            for rec in records
        ]
    )
    if ax is None:
        fig = _figure_class()(figsize=(6.0, 4.0), layout="constrained")
        ax = fig.subplots()
    else:
        fig = cast("Figure", ax.figure)
    marker = "o" if len(records) <= 30 else None
    ax.plot(epochs, train, marker=marker, label="train loss")
    if np.isfinite(valid).any():
        ax.plot(epochs, valid, marker=marker, label="validation loss")
    positive = np.concatenate([train, valid])
    positive = positive[np.isfinite(positive)]
    if log_scale and positive.size and (positive > 0).all():
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(_minor_log_label))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training history")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    if len(records) < 10:
        ax.set_xticks(epochs)
    return fig


def plot_difference(
    image: Any,
    reference: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Heat map of ``image - reference``: what the denoiser added or removed.

    Red pixels got brighter in ``image`` (stains lifted), blue pixels got darker
    (ink restored); white means unchanged. The colour scale is symmetric around 0
    and ends at the 99.5th percentile of the absolute difference, so that a few
    extreme pixels do not wash out the rest.

    Parameters
    ----------
    image : 2-D array
        For example the cleaned page.
    reference : 2-D array
        For example the noisy page, of the same shape.
    ax : matplotlib.axes.Axes, default=None
        Draw into these axes instead of a new figure.
    title : str, default=None
        Axes title; default ``"difference (RMSE ...)"``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the heat map and its colour bar.

    Raises
    ------
    InvalidImageError
        An input is not a single valid 2-D image.
    ValueError
        The shapes differ.
    ImportError
        Matplotlib is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.plotting import plot_difference
    >>> fig = plot_difference(np.ones((10, 12)), np.full((10, 12), 0.5))
    >>> fig.axes[0].get_title()
    'difference (RMSE 0.500)'
    """
    (img,) = _single(image, "image")
    (ref,) = _single(reference, "reference")
    if img.shape != ref.shape:
        raise ValueError(f"image shape {img.shape} differs from reference shape {ref.shape}.")
    diff = img.astype(np.float64) - ref
    # A robust symmetric scale: a few extreme pixels (a removed speck) would
    # otherwise wash out the rest of the map; they are drawn in the end colours.
    limit = float(np.percentile(np.abs(diff), 99.5)) or float(np.abs(diff).max()) or 1.0
    if ax is None:
        h, w = img.shape
        width = 6.0
        fig = _figure_class()(figsize=(width, max(width * h / w, 1.5) + 0.6), layout="constrained")
        ax = fig.subplots()
    else:
        fig = cast("Figure", ax.figure)
    mappable = ax.imshow(diff, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(mappable, ax=ax, label="image - reference", shrink=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        title if title is not None else f"difference (RMSE {math.sqrt(np.mean(diff**2)):.3f})"
    )
    return fig


def _single(image: Any, name: str) -> list[np.ndarray]:
    arr = np.asarray(image) if not isinstance(image, np.ndarray) else image
    if arr.ndim != 2:
        raise InvalidImageError(f"{name} must be one 2-D image (H, W), got shape {arr.shape}.")
    return check_images([arr], name=name).images
