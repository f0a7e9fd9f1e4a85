"""Fuzzing ``fit``/``transform``/``score`` with arbitrary input.

Whatever comes in, the estimator either returns a well-formed result or raises one
of the documented exceptions (``docs/errors.rst``): a ``DocDenoiseError`` (mostly
``InvalidImageError``), ``NotFittedError``, or scikit-learn's ``TypeError`` for
sparse matrices and object arrays holding non-numbers. Anything else (an
``IndexError`` from deep inside torch, a ``RuntimeError`` about tensor sizes...)
fails the test.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from sklearn.exceptions import NotFittedError

from docdenoise import DocumentDenoiser
from docdenoise.exceptions import DocDenoiseError, ModelFileError

# Large hypothesis searches: run by `pytest`, skipped by the fast loop.
pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TINY = {"epochs": 1, "batch_size": 4, "random_state": 0, "module__channels": (2, 2)}

DTYPES = [
    np.uint8,
    np.uint16,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.bool_,
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
]

any_array = st.sampled_from(DTYPES).flatmap(
    lambda dt: arrays(dt, array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
)
unit_array = st.sampled_from([np.uint8, np.float32, np.float64]).flatmap(
    lambda dt: arrays(
        dt,
        array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=9),
        elements=st.integers(0, 255) if dt == np.uint8 else st.floats(0, 1, width=32),
    )
)
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
nested = st.recursive(scalars, lambda c: st.lists(c, max_size=4), max_leaves=40)
odd = st.sampled_from([None, "page.png", b"\x89PNG", {"a": 1}, 3, 0.5, object(), [], (), [None]])
object_arrays = nested.map(lambda v: np.array(v, dtype=object))
anything = st.one_of(
    any_array,
    unit_array,
    nested,
    odd,
    object_arrays,
    st.lists(st.one_of(any_array, unit_array), max_size=3),
)

_DOCUMENTED_TYPE_ERROR = re.compile(r"[Ss]parse|not numeric")


def _run(fn):
    """Call ``fn``; return its result, or None for a documented exception."""
    try:
        return fn()
    except (DocDenoiseError, NotFittedError):
        return None
    except TypeError as exc:
        if _DOCUMENTED_TYPE_ERROR.search(str(exc)):
            return None
        raise


def _check_output(X, out):
    images = out if isinstance(out, list) else list(np.asarray(out))
    for img in images:
        assert img.dtype == np.float32
        assert np.isfinite(img).all()
        assert img.min() >= 0.0
        assert img.max() <= 1.0
    if isinstance(out, list):
        assert len(out) == len(X)
    else:
        assert out.shape == np.shape(X)


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).random((4, 12, 16), dtype=np.float32)
    return DocumentDenoiser(**TINY).fit(X, X)


@pytest.fixture(scope="module")
def fitted_flat():
    X = np.random.default_rng(0).random((4, 48), dtype=np.float32)
    return DocumentDenoiser(**TINY, image_shape="rows").fit(X, X)  # rows are 1 x 48 images


@SETTINGS
@given(X=anything)
def test_transform_fuzz(fitted, X):
    out = _run(lambda: fitted.transform(X))
    if out is not None:
        _check_output(X, out)


@SETTINGS
@given(X=anything)
def test_transform_fuzz_flat_fitted(fitted_flat, X):
    out = _run(lambda: fitted_flat.transform(X))
    if out is not None:
        _check_output(X, out)


@settings(SETTINGS, max_examples=30)
@given(X=anything, y=st.one_of(anything, st.just("same")))
def test_fit_fuzz(X, y):
    den = DocumentDenoiser(**TINY)
    y = X if isinstance(y, str) and y == "same" else y
    fitted = _run(lambda: den.fit(X, y))
    if fitted is None:
        assert not hasattr(den, "module_")
    else:
        assert fitted is den
        assert len(den.history_) == 1


@SETTINGS
@given(X=anything, y=anything)
def test_score_fuzz(fitted, X, y):
    score = _run(lambda: fitted.score(X, y))
    if score is not None:
        assert -1.0 <= score <= 0.0


@SETTINGS
@given(y=anything)
def test_score_fuzz_valid_X(fitted, y):
    X = np.full((2, 5, 7), 0.5, np.float32)
    score = _run(lambda: fitted.score(X, y))
    if score is not None:
        assert -1.0 <= score <= 0.0


def test_not_fitted_is_documented():
    assert _run(lambda: DocumentDenoiser().transform(np.zeros((1, 4, 4)))) is None


@pytest.fixture(scope="module")
def model_bytes(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    fitted.save(path)
    return path.read_bytes()


@SETTINGS
@given(data=st.data())
def test_damaged_model_file_fuzz(fitted, model_bytes, tmp_path, data):
    """Random damage to a model file: ModelFileError, or (if the damage hit only
    padding) a model identical to the saved one. Never another exception."""
    raw = bytearray(model_bytes)
    n_ops = data.draw(st.integers(1, 4))
    for _ in range(n_ops):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "delete", "byte"]))
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "byte" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[at:]
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del raw[at : at + data.draw(st.integers(1, 16))]
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(bytes(raw))
    try:
        loaded = DocumentDenoiser.load(path)
    except ModelFileError:
        return
    X = np.full((1, 12, 16), 0.5, np.float32)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
