"""scikit-learn's common estimator checks.

sklearn's checks build ``y`` as class labels (a 1-D array), but DocumentDenoiser
learns from clean *images*: a 1-D ``y`` is refused on purpose. So the checks run
twice:

* on ``DocumentDenoiser`` itself, where every check that fits with a label ``y``
  is an expected failure (listed with its reason), and
* on a thin test adapter whose ``fit(X, y)`` trains ``X -> X``: the same network,
  validation, transform, pickling and parameter handling, with a target the checks
  can provide. Nothing is expected to fail there except the one ``**kwargs`` case.

Both run with ``image_shape="rows"``: scikit-learn's checks pass 2-D arrays
``(n_samples, n_features)``, and DocumentDenoiser reads a 2-D array that way only
when asked (by default it refuses one, since that is how one page is held).
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from docdenoise import DocumentDenoiser

# The whole scikit-learn check suite: run by `pytest`, skipped by the fast loop.
pytestmark = pytest.mark.slow

SMALL = {
    "epochs": 1,
    "batch_size": 8,
    "out_of_range": "clip",
    "image_shape": "rows",
    "random_state": 0,
}

_LABEL_Y = (
    "sklearn passes class labels as y; DocumentDenoiser needs clean target images of "
    "X's shape and refuses a 1-D y with InvalidImageError (covered by the self-target run)"
)
_LABEL_Y_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]
_KWARGS = (
    "the check passes a literal keyword 'kwargs'; DocumentDenoiser's **kwargs only take "
    "nested module__/optimizer__/loss__ parameters and, like any Python function, refuse "
    "other unknown keywords with TypeError"
)


class SelfTargetDenoiser(DocumentDenoiser):
    """Test adapter: ``fit``/``score`` ignore the label ``y`` and use ``X`` as target."""

    def fit(self, X, y=None, **fit_params):
        return super().fit(X, X, **fit_params)

    def score(self, X, y=None):
        return super().score(X, X)


def _expected_failures(estimator):
    failures = {"check_do_not_raise_errors_in_init_or_set_params": _KWARGS}
    if type(estimator) is DocumentDenoiser:
        failures.update(dict.fromkeys(_LABEL_Y_CHECKS, _LABEL_Y))
    return failures


@parametrize_with_checks(
    [DocumentDenoiser(**SMALL), SelfTargetDenoiser(**SMALL)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
