"""Scorers for ``GridSearchCV(scoring=...)`` and ``cross_validate``: every one in one place.

A denoiser's output comes from ``transform``, which scikit-learn's own scorers never
call; the scorers here compare ``estimator.transform(X)`` with the clean ``y`` and
follow scikit-learn's "greater is better" rule:

==========================  ================================================
:data:`neg_rmse_scorer`     ``-rmse`` (:func:`docdenoise.metrics.rmse`)
:data:`psnr_scorer`         :func:`docdenoise.metrics.psnr`
:data:`ssim_scorer`         :func:`docdenoise.metrics.ssim`
:data:`neg_ocr_cer_scorer`  ``-ocr_cer`` (:func:`docdenoise.ocr.ocr_cer`)
==========================  ================================================

:func:`get_scorer` finds them by name; :func:`make_transform_scorer` builds others.
"""

from __future__ import annotations

from .metrics import psnr, rmse, ssim
from .ocr import ocr_cer

__all__ = [
    "get_scorer",
    "make_transform_scorer",
    "neg_ocr_cer_scorer",
    "neg_rmse_scorer",
    "psnr_scorer",
    "ssim_scorer",
]


class _TransformScorer:
    """Callable ``scorer(estimator, X, y)`` scoring ``estimator.transform(X)``."""

    def __init__(self, score_func, sign, kwargs):
        self._score_func = score_func
        self._sign = sign
        self._kwargs = kwargs

    def __call__(self, estimator, X, y):
        return self._sign * self._score_func(y, estimator.transform(X), **self._kwargs)

    def __repr__(self):
        args = "" if self._sign > 0 else ", greater_is_better=False"
        args += "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"make_transform_scorer({self._score_func.__name__}{args})"


def make_transform_scorer(score_func, *, greater_is_better=True, **kwargs):
    """Make a scorer that compares ``estimator.transform(X)`` with ``y``.

    scikit-learn's :func:`~sklearn.metrics.make_scorer` only calls ``predict``,
    ``predict_proba`` or ``decision_function`` (``response_method="transform"`` is
    refused up to at least scikit-learn 1.9), but a denoiser's output comes from
    ``transform``. The returned object works wherever scikit-learn takes a
    ``scoring`` callable (``GridSearchCV``, ``cross_val_score``, ...).

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, **kwargs)`` returning a float.
    greater_is_better : bool, default=True
        If False the scorer returns ``-score_func(...)``, so that greater is still
        better (as for scikit-learn's ``neg_*`` scorers).
    **kwargs
        Extra keyword arguments for ``score_func``, e.g. ``image_shape=(H, W)``
        for flattened inputs.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> from docdenoise.metrics import rmse
    >>> from docdenoise.scorers import make_transform_scorer
    >>> make_transform_scorer(rmse, greater_is_better=False, image_shape=(8, 8))
    make_transform_scorer(rmse, greater_is_better=False, image_shape=(8, 8))
    """
    if not callable(score_func):
        raise TypeError(f"score_func must be callable, got {type(score_func).__name__}.")
    return _TransformScorer(score_func, 1.0 if greater_is_better else -1.0, kwargs)


#: ``-rmse`` of ``estimator.transform(X)`` against ``y`` (greater is better).
neg_rmse_scorer = make_transform_scorer(rmse, greater_is_better=False)
#: :func:`psnr` of ``estimator.transform(X)`` against ``y``.
psnr_scorer = make_transform_scorer(psnr)
#: :func:`ssim` of ``estimator.transform(X)`` against ``y``.
ssim_scorer = make_transform_scorer(ssim)
#: ``-ocr_cer(y, estimator.transform(X))``: needs the OCR extra and the Tesseract
#: engine when it is called.
neg_ocr_cer_scorer = make_transform_scorer(ocr_cer, greater_is_better=False)

_SCORERS = {
    "neg_rmse": neg_rmse_scorer,
    "neg_ocr_cer": neg_ocr_cer_scorer,
    "psnr": psnr_scorer,
    "ssim": ssim_scorer,
}


def get_scorer(name):
    """Return a scorer for ``GridSearchCV(scoring=...)`` by name.

    Parameters
    ----------
    name : {"neg_rmse", "psnr", "ssim", "neg_ocr_cer"} or callable
        The metric. A callable is returned unchanged. ``"neg_ocr_cer"`` needs the
        OCR extra and the Tesseract engine when it is called.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returning a float, greater is better. For
        flattened ``(n, H * W)`` inputs build your own with
        ``make_transform_scorer(rmse, greater_is_better=False, image_shape=(H, W))``.

    Examples
    --------
    >>> from docdenoise.scorers import get_scorer
    >>> get_scorer("neg_rmse")
    make_transform_scorer(rmse, greater_is_better=False)
    """
    if callable(name):
        return name
    if name not in _SCORERS:
        raise ValueError(f"Unknown scorer {name!r}; expected one of {sorted(_SCORERS)}.")
    return _SCORERS[name]
