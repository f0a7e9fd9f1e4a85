"""Tests for docdenoise.metrics: image metrics against scikit-image and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import (
    mean_squared_error,
    peak_signal_noise_ratio,
    structural_similarity,
)
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from docdenoise.exceptions import InvalidImageError
from docdenoise.metrics import psnr, rmse, ssim
from docdenoise.scorers import (
    get_scorer,
    make_transform_scorer,
    neg_rmse_scorer,
    psnr_scorer,
    ssim_scorer,
)


def _pair(shape, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    clean = rng.random(shape)
    noisy = np.clip(clean + noise * rng.standard_normal(shape), 0, 1)
    return clean.astype(np.float32), noisy.astype(np.float32)


SHAPES = [(30, 40), (17, 23), (64, 9)]


# --------------------------------------------------------------------------- rmse


def test_rmse_hand_computed():
    assert rmse(np.zeros((2, 2)), np.array([[0, 0], [0, 1.0]])) == pytest.approx(0.5)
    # pooled, not averaged per image: errors 1 over 1 pixel and 0 over 3 pixels
    y_true = [np.zeros((1, 3)), np.zeros((1, 1))]
    y_pred = [np.zeros((1, 3)), np.ones((1, 1))]
    assert rmse(y_true, y_pred) == pytest.approx(0.5)
    assert rmse(y_true, y_true) == 0.0


@pytest.mark.parametrize("shape", SHAPES)
def test_rmse_matches_skimage(shape):
    clean, noisy = _pair(shape)
    expected = np.sqrt(mean_squared_error(clean.astype(np.float64), noisy))
    assert rmse(clean, noisy) == pytest.approx(expected, rel=1e-6)


def test_rmse_forms_agree():
    pairs = [_pair((8, 12), seed=s) for s in range(3)]
    clean = np.stack([c for c, _ in pairs])
    noisy = np.stack([n for _, n in pairs])
    value = rmse(clean, noisy)
    assert rmse(list(clean), list(noisy)) == pytest.approx(value)
    flat = rmse(clean.reshape(3, -1), noisy.reshape(3, -1), image_shape=(8, 12))
    assert flat == pytest.approx(value)
    u8 = rmse((clean * 255).round().astype(np.uint8), noisy)
    assert u8 == pytest.approx(value, abs=2e-3)


# --------------------------------------------------------------------------- psnr


def test_psnr_hand_computed():
    assert psnr(np.ones((4, 4)), np.full((4, 4), 0.9)) == pytest.approx(20.0)
    assert psnr(np.ones((3, 3)), np.ones((3, 3))) == np.inf


def test_psnr_is_mean_of_per_image_values_like_skimage():
    pairs = [_pair(s, seed=i) for i, s in enumerate(SHAPES)]
    expected = np.mean(
        [peak_signal_noise_ratio(c.astype(np.float64), n, data_range=1) for c, n in pairs]
    )
    got = psnr([c for c, _ in pairs], [n for _, n in pairs])
    assert got == pytest.approx(expected, rel=1e-5)


# --------------------------------------------------------------------------- ssim


@pytest.mark.parametrize("shape", SHAPES)
def test_ssim_matches_skimage(shape):
    clean, noisy = _pair(shape)
    expected = structural_similarity(
        clean.astype(np.float64), noisy.astype(np.float64), data_range=1
    )
    assert ssim(clean, noisy) == pytest.approx(expected, rel=1e-6)


def test_ssim_average_over_images():
    pairs = [_pair(s, seed=i) for i, s in enumerate(SHAPES)]
    expected = np.mean(
        [
            structural_similarity(c.astype(np.float64), n.astype(np.float64), data_range=1)
            for c, n in pairs
        ]
    )
    assert ssim([c for c, _ in pairs], [n for _, n in pairs]) == pytest.approx(expected)


@pytest.mark.parametrize(("shape", "win"), [((5, 9), 5), ((6, 30), 5), ((4, 4), 3)])
def test_ssim_tiny_images_shrink_window(shape, win):
    clean, noisy = _pair(shape)
    expected = structural_similarity(
        clean.astype(np.float64), noisy.astype(np.float64), data_range=1, win_size=win
    )
    assert ssim(clean, noisy) == pytest.approx(expected)


def test_ssim_strip_and_very_small_images():
    clean, noisy = _pair((1, 50))
    expected = structural_similarity(
        clean[0].astype(np.float64), noisy[0].astype(np.float64), data_range=1
    )
    assert ssim(clean, noisy) == pytest.approx(expected)
    # 2 x 2: one window over the whole image, by hand
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.0, 1.0], [0.5, 0.0]])
    c1, c2 = 0.01**2, 0.03**2
    mt, mp = t.mean(), p.mean()
    cov = np.mean((t - mt) * (p - mp))
    by_hand = ((2 * mt * mp + c1) * (2 * cov + c2)) / (
        (mt**2 + mp**2 + c1) * (t.var() + p.var() + c2)
    )
    assert ssim(t, p) == pytest.approx(by_hand)
    assert ssim(np.ones((1, 1)), np.ones((1, 1))) == pytest.approx(1.0)
    assert ssim(t, t) == pytest.approx(1.0)


def test_ssim_bad_window():
    with pytest.raises(ValueError, match="odd integer >= 3, got 4"):
        ssim(np.ones((9, 9)), np.ones((9, 9)), win_size=4)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("metric", [rmse, psnr, ssim])
def test_metric_errors(metric):
    with pytest.raises(InvalidImageError, match="same number of images: got 2 and 1"):
        metric([np.ones((3, 3))] * 2, [np.ones((3, 3))])
    with pytest.raises(InvalidImageError, match=r"y_true has shape \(3, 3\).*\(3, 4\)"):
        metric(np.ones((3, 3)), np.ones((3, 4)))
    with pytest.raises(InvalidImageError, match=r"y_pred.*\[0, 1\]"):
        metric(np.ones((3, 3)), np.full((3, 3), 1.5))
    with pytest.raises(InvalidImageError, match="y_true must be"):
        metric("image.png", np.ones((3, 3)))


# --------------------------------------------------------------------------- scorers


class Shift(TransformerMixin, BaseEstimator):
    """Stand-in denoiser: adds ``offset`` and clips, in the input's form."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if isinstance(X, list):
            return [np.clip(x + self.offset, 0, 1) for x in X]
        return np.clip(np.asarray(X) + self.offset, 0, 1)


def _data(n=6):
    rng = np.random.default_rng(1)
    clean = [0.3 + 0.5 * rng.random((10 + i, 12)).astype(np.float32) for i in range(n)]
    noisy = [np.clip(c - 0.2, 0, 1) for c in clean]
    return noisy, clean


def test_scorers_in_cross_val_score():
    X, y = _data()
    cv = KFold(3)
    scores = cross_val_score(Shift(0.2), X, y, scoring=neg_rmse_scorer, cv=cv)
    assert scores.shape == (3,)
    assert np.all(scores <= 0)
    assert np.all(scores > -0.01)
    worse = cross_val_score(Shift(0.0), X, y, scoring=neg_rmse_scorer, cv=cv)
    assert np.all(worse < scores)
    assert np.all(cross_val_score(Shift(0.2), X, y, scoring=ssim_scorer, cv=cv) > 0.99)
    assert np.all(cross_val_score(Shift(0.0), X, y, scoring=psnr_scorer, cv=cv) < 20)


@pytest.mark.parametrize("name", ["neg_rmse", "psnr", "ssim"])
def test_get_scorer_in_grid_search(name):
    X, y = _data()
    search = GridSearchCV(Shift(), {"offset": [0.0, 0.1, 0.2, 0.3]}, scoring=get_scorer(name), cv=2)
    search.fit(X, y)
    assert search.best_params_ == {"offset": 0.2}


def test_flattened_scorer_and_get_scorer_errors():
    X, y = _data()
    X = np.stack([x[:10] for x in X]).reshape(6, -1)
    y = np.stack([t[:10] for t in y]).reshape(6, -1)
    scorer = make_transform_scorer(ssim, image_shape=(10, 12))
    assert "image_shape=(10, 12)" in repr(scorer)
    assert scorer(Shift(0.2), X, y) > 0.99
    assert get_scorer(scorer) is scorer
    assert repr(get_scorer("neg_rmse")).startswith("make_transform_scorer(rmse")
    with pytest.raises(ValueError, match="Unknown scorer 'rmse'.*neg_rmse"):
        get_scorer("rmse")
