"""Hypothesis property tests: shapes, dtypes, forms and value ranges of transform."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def den():
    noisy, clean = make_dirty_documents(4, shape=(16, 24), random_state=0)
    return DocumentDenoiser(epochs=1, batch_size=4, random_state=0, n_threads=1).fit(noisy, clean)


sizes = st.tuples(st.integers(1, 48), st.integers(1, 48))


def images(shape):
    """Float32 images in [0, 1], including exact 0 and 1."""
    return arrays(np.float32, shape, elements=st.floats(0, 1, width=32))


@SETTINGS
@given(shape=sizes, data=st.data())
@example(shape=(1, 1), data=None).via("tiny")
@example(shape=(3, 5), data=None).via("odd")
@example(shape=(420, 540), data=None).via("kaggle page")
def test_transform_keeps_shape_and_returns_finite_values_in_unit_range(den, shape, data):
    if data is None:
        img = np.random.default_rng(0).random(shape, dtype=np.float32)
    else:
        img = data.draw(images(shape))
    out = den.transform([img])
    assert isinstance(out, list) and len(out) == 1
    assert out[0].shape == shape and out[0].dtype == np.float32
    assert np.isfinite(out[0]).all()
    assert out[0].min() >= 0.0 and out[0].max() <= 1.0


@SETTINGS
@given(shape=sizes, n=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_uint8_and_scaled_float_inputs_agree(den, shape, n, seed):
    rng = np.random.default_rng(seed)
    img8 = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    for dtype in (np.float32, np.float64):
        a = den.transform(img8)
        b = den.transform(img8.astype(dtype) / 255)
        np.testing.assert_allclose(a, b, atol=1e-5)


@SETTINGS
@given(
    shapes=st.lists(sizes, min_size=1, max_size=5),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.bool_]),
    seed=st.integers(0, 2**16),
)
def test_list_form_keeps_every_shape_and_order(den, shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    X = []
    for shape in shapes:
        if np.issubdtype(dtype, np.integer):
            X.append(rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype))
        elif dtype is np.bool_:
            X.append(rng.random(shape) > 0.5)
        else:
            X.append(rng.random(shape).astype(dtype))
    out = den.transform(X)
    assert [o.shape for o in out] == list(shapes)
    assert all(o.dtype == np.float32 and 0 <= o.min() and o.max() <= 1 for o in out)
    first = den.transform([X[0]])[0]
    np.testing.assert_allclose(out[0], first, atol=1e-6)


@SETTINGS
@given(shape=sizes, n=st.integers(1, 4), form=st.sampled_from(["array3d", "array2d"]))
def test_array_forms_are_returned_in_kind(den, shape, n, form):
    X = np.random.default_rng(n).random((n, *shape), dtype=np.float32)
    if form == "array3d":
        out = den.transform(X)
        assert out.shape == X.shape
    else:
        flat = den.set_params(image_shape=shape)
        try:
            out = flat.transform(X.reshape(n, -1))
        finally:
            den.set_params(image_shape=None)
        assert out.shape == (n, shape[0] * shape[1])
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.slow
@SETTINGS
@given(shape=st.tuples(st.integers(1, 12), st.integers(1, 12)), n=st.integers(1, 3))
def test_fit_accepts_any_size_and_score_is_a_negative_rmse(shape, n):
    rng = np.random.default_rng(n)
    X = rng.random((n, *shape), dtype=np.float32)
    Y = (X > 0.5).astype(np.float32)
    den = DocumentDenoiser(epochs=1, batch_size=2, random_state=0, n_threads=1).fit(X, Y)
    score = den.score(X, Y)
    assert -1.0 <= score <= 0.0
    expected = -np.sqrt(np.mean((den.transform(X).astype(np.float64) - Y) ** 2))
    assert score == pytest.approx(expected, rel=1e-6)
