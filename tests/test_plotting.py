"""Tests for docdenoise.plotting (before/after grids, loss curves, difference maps)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from docdenoise import plotting
from docdenoise.exceptions import InvalidImageError
from docdenoise.plotting import plot_before_after, plot_difference, plot_history

RNG = np.random.default_rng(0)


def _pages(n=3, h=12, w=20):
    return RNG.random((n, h, w), dtype=np.float32)


# ------------------------------------------------------------------ before/after


def test_before_after_grid_shape_titles_and_pixels():
    noisy, cleaned, clean = _pages(), _pages(), _pages()
    fig = plot_before_after(noisy, cleaned, clean)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9  # 3 pages x (noisy, cleaned, clean)
    titles = [ax.get_title() for ax in fig.axes[:3]]
    rmse = np.sqrt(np.mean((noisy[0].astype(np.float64) - clean[0]) ** 2))
    assert titles == [f"noisy\nRMSE {rmse:.3f}", titles[1], "clean target"]
    assert titles[1].startswith("cleaned\nRMSE ")
    shown = fig.axes[1].get_images()[0].get_array()
    np.testing.assert_allclose(shown, cleaned[0])
    assert fig.axes[0].get_images()[0].get_clim() == (0.0, 1.0)


def test_before_after_without_targets_and_max_images():
    noisy = [RNG.random((10, 30)), RNG.random((14, 8))]  # mixed sizes as a list
    fig = plot_before_after(noisy, noisy, max_images=1)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["noisy", "cleaned"]


def test_before_after_single_image_and_custom_titles():
    fig = plot_before_after(
        np.zeros((5, 6)), np.ones((5, 6)), titles=["scan", "ours"], show_rmse=False
    )
    assert [ax.get_title() for ax in fig.axes] == ["scan", "ours"]


def test_before_after_writes_png(tmp_path):
    fig = plot_before_after(_pages(2), _pages(2))
    fig.savefig(tmp_path / "ba.png")
    assert (tmp_path / "ba.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"cleaned": np.zeros((2, 12, 20))},
            ValueError,
            "holds 2 images but noisy holds 3",
        ),
        (
            {"cleaned": np.zeros((3, 12, 21))},
            ValueError,
            r"Image 0: noisy shape \(12, 20\)",
        ),
        ({"max_images": 0}, ValueError, "max_images must be an integer >= 1"),
        ({"titles": ["a"]}, ValueError, "Expected 2 titles"),
        ({"cleaned": np.full((3, 12, 20), 2.0)}, InvalidImageError, r"\[0, 1\]"),
    ],
)
def test_before_after_bad_input(kwargs, error, match):
    args = {"noisy": _pages(), "cleaned": _pages(), **kwargs}
    with pytest.raises(error, match=match):
        plot_before_after(**args)


# ------------------------------------------------------------------ history


def test_history_lines_and_log_scale():
    history = [
        {"epoch": 1, "train_loss": 0.1, "valid_loss": 0.2, "dur": 0.1},
        {"epoch": 2, "train_loss": 0.01, "valid_loss": 0.05, "dur": 0.1},
    ]
    fig = plot_history(history)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train loss", "validation loss"}
    np.testing.assert_allclose(lines["train loss"].get_ydata(), [0.1, 0.01])
    np.testing.assert_allclose(lines["validation loss"].get_xdata(), [1, 2])
    assert ax.get_yscale() == "log"


def test_history_without_validation_and_from_estimator_like():
    fitted = SimpleNamespace(history_=[{"epoch": 1, "train_loss": 0.3, "valid_loss": float("nan")}])
    fig = plot_history(fitted, log_scale=False)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["train loss"]
    assert ax.get_yscale() == "linear"


def test_history_into_existing_axes():
    fig = Figure()
    ax = fig.subplots()
    assert plot_history([{"epoch": 1, "train_loss": 0.5}], ax=ax) is fig


@pytest.mark.parametrize(
    ("history", "error", "match"),
    [
        ([], ValueError, "history is empty"),
        ({"train_loss": 1.0}, TypeError, "history must be a fitted DocumentDenoiser"),
        ([{"epoch": 1}], ValueError, "must be a dict with 'train_loss'"),
    ],
)
def test_history_bad_input(history, error, match):
    with pytest.raises(error, match=match):
        plot_history(history)


# ------------------------------------------------------------------ difference


def test_difference_symmetric_scale_and_values():
    image = np.full((6, 8), 0.9)
    reference = np.full((6, 8), 0.5)
    reference[0, 0] = 1.0
    fig = plot_difference(image, reference)
    im = fig.axes[0].get_images()[0]
    vmin, vmax = im.get_clim()
    assert vmin == pytest.approx(-0.4) and vmax == pytest.approx(0.4)
    np.testing.assert_allclose(im.get_array()[0, 0], -0.1, atol=1e-6)
    assert len(fig.axes) == 2  # heat map and colour bar


def test_difference_bad_input():
    with pytest.raises(ValueError, match="differs from reference shape"):
        plot_difference(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(InvalidImageError, match="one 2-D image"):
        plot_difference(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))


# ------------------------------------------------------------------ missing matplotlib


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "docdenoise\[plot\]"'):
        plotting.plot_history([{"epoch": 1, "train_loss": 0.5}])
