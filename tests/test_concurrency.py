"""One fitted estimator used from several threads gives the sequential results."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from docdenoise import DocumentDenoiser

MODELS = {
    "cae": {"model": "cae", "module__channels": (2, 4)},
    "unet": {"model": "unet", "module__channels": (2, 2, 2, 2)},
}


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(16, 24), (9, 13), (1, 1), (40, 3), (24, 16), (5, 31)]
    out = [rng.random(s, dtype=np.float32) for s in shapes]  # one image each (list form)
    out.append(rng.random((3, 12, 20), dtype=np.float32))  # a 3-D stack
    out.append([rng.random((7, 7), dtype=np.float32), rng.random((8, 20), dtype=np.float32)])
    return out


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request):
    rng = np.random.default_rng(1)
    X = rng.random((4, 16, 24), dtype=np.float32)
    return DocumentDenoiser(epochs=1, batch_size=2, random_state=0, **MODELS[request.param]).fit(
        X, X
    )


def _call(est, x):
    return est.transform([x] if isinstance(x, np.ndarray) and x.ndim == 2 else x)


def _assert_same(a, b):
    if isinstance(a, list):
        assert isinstance(b, list)
        assert len(a) == len(b)
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_transform_from_many_threads_matches_sequential(fitted):
    # torch's own threads: all cores for the autoencoder, one per caller for the U-Net
    n_threads = None if fitted.model == "cae" else 1
    fitted.set_params(n_threads=n_threads)
    inputs = _inputs() * 2
    expected = [_call(fitted, x) for x in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda x: _call(fitted, x), inputs))
    for e, g in zip(expected, got):
        _assert_same(e, g)


def test_score_and_transform_interleaved(fitted):
    rng = np.random.default_rng(2)
    X = rng.random((4, 16, 24), dtype=np.float32)
    Y = rng.random((4, 16, 24), dtype=np.float32)
    score = fitted.score(X, Y)
    out = fitted.transform(X)
    jobs = [("score", X, Y), ("transform", X, None)] * 6
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda job: (
                    fitted.score(job[1], job[2]) if job[0] == "score" else fitted.transform(job[1])
                ),
                jobs,
            )
        )
    for job, res in zip(jobs, results):
        if job[0] == "score":
            assert res == pytest.approx(score, abs=1e-6)
        else:
            _assert_same(res, out)


def test_pickling_while_transforming(fitted):
    """``__getstate__`` copies the network; concurrent transforms are unaffected."""
    X = _inputs()[0]
    expected = _call(fitted, X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_call, fitted, X) for _ in range(6)]
        blobs = [pool.submit(pickle.dumps, fitted) for _ in range(3)]
        for f in futures:
            _assert_same(f.result(), expected)
        for b in blobs:
            _assert_same(_call(pickle.loads(b.result()), X), expected)


def test_tiled_transform_from_threads(fitted):
    """Pages larger than a tile go through tiled inference; threads share it too."""
    rng = np.random.default_rng(3)
    pages = [rng.random((100, 110), dtype=np.float32) for _ in range(2)]
    params = fitted.get_params()
    fitted.set_params(tile_size=48, n_threads=None)
    try:
        expected = [fitted.transform([p])[0] for p in pages]
        with ThreadPoolExecutor(max_workers=4) as pool:
            got = list(pool.map(lambda p: fitted.transform([p])[0], pages * 2))
    finally:
        fitted.set_params(tile_size=params["tile_size"], n_threads=params["n_threads"])
    for e, g in zip(expected * 2, got):
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-6)
