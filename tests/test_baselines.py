"""Tests for the classical baselines in docdenoise.baselines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from docdenoise.baselines import (
    ClassicalDenoiser,
    median_background_removal,
    otsu_binarize,
    sauvola_binarize,
)
from docdenoise.exceptions import InvalidImageError
from docdenoise.metrics import rmse
from docdenoise.scorers import neg_rmse_scorer


def _page(h=48, w=64, seed=0):
    """Clean page with thin dark strokes, and a noisy copy with a shadow gradient."""
    rng = np.random.default_rng(seed)
    clean = np.ones((h, w), np.float32)
    for row in range(6, h - 4, 8):
        cols = rng.integers(0, w - 8, 4)
        for c in cols:
            clean[row : row + 2, c : c + 6] = 0.05
    shadow = np.linspace(0.45, 0.95, w, dtype=np.float32)[None, :]
    noisy = np.clip(clean * shadow + 0.02 * rng.standard_normal((h, w)), 0, 1)
    return noisy.astype(np.float32), clean


FUNCS = [otsu_binarize, sauvola_binarize, median_background_removal]


@pytest.mark.parametrize("func", FUNCS)
def test_shape_dtype_range(func):
    noisy, _ = _page()
    out = func(noisy)
    assert out.shape == noisy.shape
    assert out.dtype == np.float32
    assert out.min() >= 0
    assert out.max() <= 1
    assert func((noisy * 255).astype(np.uint8)).shape == noisy.shape


@pytest.mark.parametrize("func", [otsu_binarize, sauvola_binarize])
def test_binarizers_give_0_and_1(func):
    noisy, _ = _page()
    assert set(np.unique(func(noisy))) <= {0.0, 1.0}


def test_otsu_constant_image():
    np.testing.assert_array_equal(otsu_binarize(np.full((3, 3), 0.9)), 1.0)
    np.testing.assert_array_equal(otsu_binarize(np.zeros((3, 3))), 0.0)


def test_median_background_removal_beats_noisy_and_otsu_on_shadow():
    noisy, clean = _page()
    base = rmse(clean, noisy)
    med = rmse(clean, median_background_removal(noisy, size=15))
    assert med < 0.5 * base
    assert med < rmse(clean, otsu_binarize(noisy))
    assert rmse(clean, sauvola_binarize(noisy)) < base


def test_median_keeps_white_paper_white():
    np.testing.assert_allclose(median_background_removal(np.full((9, 9), 0.7)), 1.0)
    np.testing.assert_allclose(median_background_removal(np.zeros((5, 5))), 0.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: median_background_removal(np.ones((5, 5)), size=20),
            "size must be an odd integer >= 3, got 20",
        ),
        (
            lambda: median_background_removal(np.ones((5, 5)), size=1),
            "size must be an odd integer >= 3, got 1",
        ),
        (
            lambda: sauvola_binarize(np.ones((5, 5)), window_size=2.5),
            "window_size must be an odd integer >= 3, got 2.5",
        ),
    ],
)
def test_bad_window(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("func", FUNCS)
def test_rejects_non_2d(func):
    with pytest.raises(InvalidImageError, match=r"one 2-D grayscale image.*\(2, 5, 5\)"):
        func(np.ones((2, 5, 5)))


def test_classical_denoiser_forms_and_params():
    pages = [_page(seed=s) for s in range(3)]
    X = [n for n, _ in pages]
    out = ClassicalDenoiser().fit_transform(X)
    assert isinstance(out, list)
    np.testing.assert_allclose(out[1], median_background_removal(X[1]))
    arr = ClassicalDenoiser(method="sauvola").transform(np.stack(X))
    assert arr.shape == (3, 48, 64)
    flat = ClassicalDenoiser(method="otsu", image_shape=(48, 64)).transform(
        np.stack(X).reshape(3, -1)
    )
    assert flat.shape == (3, 48 * 64)
    assert clone(ClassicalDenoiser(method="otsu")).method == "otsu"
    with pytest.raises(ValueError, match="method must be one of.*got 'gauss'"):
        ClassicalDenoiser(method="gauss").fit()


def test_classical_denoiser_in_grid_search():
    pages = [_page(seed=s) for s in range(4)]
    X, y = [n for n, _ in pages], [c for _, c in pages]
    search = GridSearchCV(
        ClassicalDenoiser(),
        {"method": ["otsu", "median"]},
        scoring=neg_rmse_scorer,
        cv=2,
    )
    search.fit(X, y)
    assert search.best_params_ == {"method": "median"}
