"""Image-quality and text-recognition metrics.

Image metrics take a clean target ``y_true`` and a cleaned image ``y_pred`` in any
form :class:`~docdenoise.DocumentDenoiser` accepts:

* a single 2-D image ``(H, W)``;
* a list of 2-D images, sizes may differ from image to image;
* a 3-D array ``(n, H, W)``;
* a 2-D array ``(n, H * W)`` of flattened images, together with ``image_shape=(H, W)``
  (without ``image_shape`` a 2-D array is one image).

Pixel values follow the package's dtype rule (uint8 / 255, uint16 / 65535, floats in
``[0, 1]``), so the data range is always 1.

How images are pooled:

:func:`rmse`
    over **all pixels of all images** at once (the Kaggle "Denoising Dirty
    Documents" metric; large pages weigh more).
:func:`psnr`, :func:`ssim`
    computed **per image, then averaged** with equal weight per image.

Scorers built on these metrics, for ``GridSearchCV(scoring=...)``, live in
:mod:`docdenoise.scorers`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from skimage.metrics import structural_similarity

from ._params import ODD_WINDOW
from ._validation import check_images
from .exceptions import InvalidImageError, OCRNotAvailableError

__all__ = [
    "bow_wer",
    "cer",
    "psnr",
    "rmse",
    "ssim",
    "wer",
]


def _as_images(y: Any, image_shape: Any, name: str) -> list[np.ndarray]:
    is_list_of_images = (
        isinstance(y, (list, tuple))
        and len(y) > 0
        and not isinstance(y[0], (str, bytes))
        and np.ndim(y[0]) == 2
    )
    if image_shape is None and not is_list_of_images:
        arr = np.asarray(y) if not isinstance(y, (str, bytes, dict)) else y
        if isinstance(arr, np.ndarray) and arr.ndim == 2:
            y = [arr]
    return check_images(y, image_shape=image_shape, name=name).images


def _check_pair(
    y_true: Any, y_pred: Any, image_shape: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    true = _as_images(y_true, image_shape, "y_true")
    pred = _as_images(y_pred, image_shape, "y_pred")
    if len(true) != len(pred):
        raise InvalidImageError(
            f"y_true and y_pred must hold the same number of images: got {len(true)} "
            f"and {len(pred)}."
        )
    for i, (t, p) in enumerate(zip(true, pred)):
        if t.shape != p.shape:
            raise InvalidImageError(
                f"Image {i}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                "each prediction must have the size of its target."
            )
    return true, pred


def rmse(y_true, y_pred, *, image_shape=None):
    """Root-mean-square error pooled over all pixels of all images.

    This is the Kaggle "Denoising Dirty Documents" metric: squared errors of every
    pixel of every image are averaged together, so larger pages weigh more.

    Parameters
    ----------
    y_true : 2-D array, list of 2-D arrays, or ndarray of shape (n, H, W) or (n, H * W)
        Clean target images, values in ``[0, 1]`` (or uint8 / uint16).
    y_pred : same form as y_true
        Predicted images, each the shape of its target.
    image_shape : tuple of (int, int), default=None
        Shape of one image when the inputs are flattened ``(n, H * W)`` arrays.

    Returns
    -------
    rmse : float
        Between 0 (identical) and 1.

    See Also
    --------
    psnr, ssim

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.metrics import rmse
    >>> rmse(np.ones((2, 2)), np.array([[1.0, 1.0], [1.0, 0.0]]))
    0.5
    >>> rmse([np.zeros((1, 3)), np.zeros((1, 1))], [np.zeros((1, 3)), np.ones((1, 1))])
    0.5
    """
    true, pred = _check_pair(y_true, y_pred, image_shape)
    sq = sum(float(np.sum((p.astype(np.float64) - t) ** 2)) for t, p in zip(true, pred))
    count = sum(t.size for t in true)
    return float(np.sqrt(sq / count))


def psnr(y_true, y_pred, *, image_shape=None):
    """Peak signal-to-noise ratio in decibels (data range 1), averaged over images.

    For each image ``PSNR = 10 * log10(1 / MSE)``; the result is the plain mean of
    the per-image values. An image predicted exactly has infinite PSNR, which makes
    the mean infinite.

    Parameters
    ----------
    y_true : 2-D array, list of 2-D arrays, or ndarray of shape (n, H, W) or (n, H * W)
        Clean target images.
    y_pred : same form as y_true
        Predicted images.
    image_shape : tuple of (int, int), default=None
        Shape of one image when the inputs are flattened ``(n, H * W)`` arrays.

    Returns
    -------
    psnr : float
        Mean PSNR in dB; higher is better.

    See Also
    --------
    rmse, ssim

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.metrics import psnr
    >>> round(psnr(np.ones((4, 4)), np.full((4, 4), 0.9)), 3)
    20.0
    """
    true, pred = _check_pair(y_true, y_pred, image_shape)
    values = []
    for t, p in zip(true, pred):
        mse = float(np.mean((p.astype(np.float64) - t) ** 2))
        values.append(np.inf if mse == 0 else 10.0 * np.log10(1.0 / mse))
    return float(np.mean(values))


def _global_ssim(t: np.ndarray, p: np.ndarray) -> float:
    """SSIM with one window covering the whole image (population statistics)."""
    c1, c2 = 0.01**2, 0.03**2
    t = t.astype(np.float64)
    p = p.astype(np.float64)
    mt, mp = t.mean(), p.mean()
    vt, vp = t.var(), p.var()
    cov = float(np.mean((t - mt) * (p - mp)))
    return float((2 * mt * mp + c1) * (2 * cov + c2) / ((mt**2 + mp**2 + c1) * (vt + vp + c2)))


def _ssim_one(t: np.ndarray, p: np.ndarray, win_size: int) -> float:
    t, p = np.squeeze(t), np.squeeze(p)  # a 1 x W strip becomes a 1-D signal
    side = min(t.shape) if t.ndim else 0
    win = min(win_size, side)
    if win % 2 == 0:
        win -= 1
    if win < 3:
        return _global_ssim(t, p)
    return float(
        structural_similarity(
            t.astype(np.float64), p.astype(np.float64), data_range=1.0, win_size=win
        )
    )


def ssim(y_true, y_pred, *, image_shape=None, win_size=7):
    """Structural similarity (data range 1), averaged over images.

    Uses :func:`skimage.metrics.structural_similarity` with its defaults (uniform
    ``win_size`` x ``win_size`` window, K1=0.01, K2=0.03, sample covariance) per
    image, then takes the plain mean over images. Small images shrink the window
    to the largest odd size that fits; strips one pixel tall are treated as 1-D
    signals; images with a side of 2 pixels or less (after that) use a single
    window covering the whole image.

    Parameters
    ----------
    y_true : 2-D array, list of 2-D arrays, or ndarray of shape (n, H, W) or (n, H * W)
        Clean target images.
    y_pred : same form as y_true
        Predicted images.
    image_shape : tuple of (int, int), default=None
        Shape of one image when the inputs are flattened ``(n, H * W)`` arrays.
    win_size : int, default=7
        Side of the sliding window, odd and at least 3.

    Returns
    -------
    ssim : float
        Mean SSIM, at most 1; higher is better.

    See Also
    --------
    rmse, psnr

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.metrics import ssim
    >>> page = np.random.default_rng(0).random((32, 32))
    >>> ssim(page, page)
    1.0
    """
    ODD_WINDOW.check("win_size", win_size)
    true, pred = _check_pair(y_true, y_pred, image_shape)
    return float(np.mean([_ssim_one(t, p, int(win_size)) for t, p in zip(true, pred)]))


# ---------------------------------------------------------------- text metrics


def _levenshtein():
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        raise OCRNotAvailableError(
            "cer and wer need the 'rapidfuzz' package; install it with "
            "`pip install docdenoise[ocr]`."
        ) from None
    return Levenshtein


def _text_pairs(reference: Any, hypothesis: Any) -> list[tuple[str, str]]:
    if isinstance(reference, str) and isinstance(hypothesis, str):
        return [(reference, hypothesis)]
    if isinstance(reference, str) or isinstance(hypothesis, str):
        raise TypeError(
            "reference and hypothesis must both be strings or both be lists of strings; "
            f"got {type(reference).__name__} and {type(hypothesis).__name__}."
        )
    reference, hypothesis = list(reference), list(hypothesis)
    if len(reference) != len(hypothesis):
        raise ValueError(
            f"reference and hypothesis must hold the same number of texts: got "
            f"{len(reference)} and {len(hypothesis)}."
        )
    for i, (r, h) in enumerate(zip(reference, hypothesis)):
        if not isinstance(r, str) or not isinstance(h, str):
            raise TypeError(
                f"Text {i}: expected strings, got {type(r).__name__} and {type(h).__name__}."
            )
    return list(zip(reference, hypothesis))


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _error_rate(pairs: list[tuple[Any, Any]]) -> float:
    lev = _levenshtein()
    errors = sum(lev.distance(r, h) for r, h in pairs)
    total = sum(len(r) for r, _ in pairs)
    return errors / max(total, 1)


def cer(reference, hypothesis):
    """Character error rate: edit distance divided by the reference length.

    Texts are normalised first: runs of whitespace (spaces, tabs, newlines) become
    one space and leading/trailing whitespace is dropped; case and punctuation are
    kept. Lists are pooled: total edits over total reference characters. The
    denominator is at least 1, so an empty reference gives the number of inserted
    characters. The rate can exceed 1 when the hypothesis has many insertions.

    Parameters
    ----------
    reference : str or list of str
        The true text(s).
    hypothesis : str or list of str
        The recognised text(s), as many as references.

    Returns
    -------
    cer : float
        0 for a perfect reading.

    See Also
    --------
    wer : The same on words.

    Examples
    --------
    >>> from docdenoise.metrics import cer
    >>> cer("hello world", "hallo  world")
    0.09090909090909091
    >>> cer(["ab", "cd"], ["ab", "c"])
    0.25
    """
    pairs = [(_normalise(r), _normalise(h)) for r, h in _text_pairs(reference, hypothesis)]
    return _error_rate(pairs)


def wer(reference, hypothesis):
    """Word error rate: word-level edit distance divided by the reference word count.

    Words are whitespace-separated tokens; case and punctuation are kept (so
    ``"end."`` and ``"end"`` differ). Lists are pooled, as in :func:`cer`.

    Parameters
    ----------
    reference : str or list of str
        The true text(s).
    hypothesis : str or list of str
        The recognised text(s).

    Returns
    -------
    wer : float
        0 for a perfect reading.

    See Also
    --------
    cer : The same on characters.

    Examples
    --------
    >>> from docdenoise.metrics import wer
    >>> wer("the cat sat", "the bat sat down")
    0.6666666666666666
    """
    pairs = [(r.split(), h.split()) for r, h in _text_pairs(reference, hypothesis)]
    return _error_rate(pairs)


def bow_wer(reference, hypothesis):
    """Bag-of-words error rate: :func:`wer` with the word order ignored.

    Each text becomes a multiset of words (whitespace-separated; case and
    punctuation kept, as in :func:`wer`). The errors are the fewest word
    substitutions, insertions and deletions that turn one multiset into the other:
    the larger of the number of reference words missing from the hypothesis and the
    number of hypothesis words not in the reference. Lines read in another order,
    or a block read before another, cost nothing here, while :func:`wer` and
    :func:`cer` count them as many edits; this makes it a steadier measure of what
    an OCR engine recognised when its page segmentation may change (a "bag of
    words" measure, as in reading-order-independent OCR evaluation). Lists are
    pooled: total errors over total reference words (at least 1).

    Parameters
    ----------
    reference : str or list of str
        The true text(s).
    hypothesis : str or list of str
        The recognised text(s), as many as references.

    Returns
    -------
    bow_wer : float
        0 when both texts hold the same words, in any order.

    See Also
    --------
    wer : The same with the word order.

    Examples
    --------
    >>> from docdenoise.metrics import bow_wer, wer
    >>> bow_wer("the cat sat on the mat", "on the mat the cat sat")
    0.0
    >>> wer("the cat sat on the mat", "on the mat the cat sat")
    1.0
    >>> bow_wer("the cat sat", "the bat sat down")  # one substitution, one insertion
    0.6666666666666666
    """
    errors = total = 0
    for r, h in _text_pairs(reference, hypothesis):
        ref, hyp = Counter(r.split()), Counter(h.split())
        errors += max(sum((ref - hyp).values()), sum((hyp - ref).values()))
        total += sum(ref.values())
    return errors / max(total, 1)
