"""DocumentDenoiser inside real scikit-learn workflows.

Pipelines before OCR (with a fitted denoiser frozen by ``sklearn.frozen``),
GridSearchCV and cross-validation on lists of pages of mixed sizes with our
scorers, nested parameters reaching the network and optimizer inside parallel
workers, torch threads per worker, clone/params/pickling and warm starts.
Everything runs for real on tiny synthetic pages with one to three epochs.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import ClassVar

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from docdenoise import DocumentDenoiser, pretrained_models
from docdenoise.datasets import make_dirty_documents
from docdenoise.metrics import rmse
from docdenoise.scorers import (
    get_scorer,
    neg_rmse_scorer,
    psnr_scorer,
    ssim_scorer,
)

# n_threads=1: tiny images gain nothing from more threads, and on a busy machine
# OpenMP threads waiting for each other make a 0.03 s fit take seconds.
FAST = {
    "batch_size": 4,
    "validation_fraction": 0.0,
    "device": "cpu",
    "random_state": 0,
    "n_threads": 1,
}


@pytest.fixture(scope="module")
def pages():
    """Twelve noisy/clean pairs in two sizes, as lists (sizes alternate)."""
    small_noisy, small_clean = make_dirty_documents(6, shape=(16, 24), random_state=0)
    large_noisy, large_clean = make_dirty_documents(6, shape=(20, 28), random_state=1)
    noisy, clean = [], []
    for i in range(6):
        noisy += [small_noisy[i], large_noisy[i]]
        clean += [small_clean[i], large_clean[i]]
    return noisy, clean


@pytest.fixture(scope="module")
def fitted(pages):
    noisy, clean = pages
    return DocumentDenoiser(epochs=2, lr=1e-2, **FAST).fit(noisy, clean)


def state_of(est):
    """Copies of the weights and history, to prove a model was not refitted."""
    return {k: v.clone() for k, v in est.module_.state_dict().items()}, list(est.history_)


def assert_same_state(est, state):
    weights, history = state
    now = est.module_.state_dict()
    assert now.keys() == weights.keys()
    for key, value in weights.items():
        assert torch.equal(now[key], value), key
    np.testing.assert_equal(est.history_, history)  # NaN valid_loss compares equal


class InkReader(TransformerMixin, BaseEstimator):
    """Stand-in OCR step: 'reads' each page as its rows of ink ('#') and paper ('.').

    Like TesseractOCR, ``fit`` accepts and ignores ``y``; it records what it got.
    """

    def __init__(self, threshold=0.5):
        self.threshold = threshold

    def fit(self, X, y=None):
        self.fit_X_ = X
        self.fit_y_ = y
        return self

    def transform(self, X):
        return [
            "\n".join("".join("#" if v < self.threshold else "." for v in row) for row in img)
            for img in X
        ]


# ---------------------------------------------------------------- pipelines


def test_pipeline_fits_denoiser_then_reads_cleaned_pages(pages):
    noisy, clean = pages
    pipe = Pipeline([("denoise", DocumentDenoiser(epochs=1, **FAST)), ("ocr", InkReader())])
    pipe.fit(noisy, clean)

    denoiser = pipe.named_steps["denoise"]
    assert len(denoiser.history_) == 1
    # The OCR step was fitted on the denoiser's output, and got y (ignored).
    seen = pipe.named_steps["ocr"].fit_X_
    assert [s.shape for s in seen] == [n.shape for n in noisy]
    np.testing.assert_allclose(seen[3], denoiser.transform(noisy)[3])
    assert pipe.named_steps["ocr"].fit_y_ is clean

    texts = pipe.transform(noisy[:3])
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert [t.count("\n") + 1 for t in texts] == [n.shape[0] for n in noisy[:3]]
    assert texts == InkReader().transform(denoiser.transform(noisy[:3]))


@pytest.mark.slow
def test_frozen_fitted_denoiser_is_not_refitted_in_pipeline(pages, fitted):
    noisy, clean = pages
    before = state_of(fitted)
    pipe = Pipeline([("denoise", FrozenEstimator(fitted)), ("ocr", InkReader())])
    pipe.fit(noisy, clean)  # fit passes y to every step; the frozen one ignores it
    assert_same_state(fitted, before)
    assert pipe.named_steps["denoise"].estimator is fitted

    texts = pipe.transform(noisy[:2])
    assert texts == InkReader().transform(fitted.transform(noisy[:2]))

    # A search over the OCR step's parameters keeps the denoiser frozen too,
    # also when the pipeline is cloned and pickled to worker processes.
    search = GridSearchCV(
        pipe,
        {"ocr__threshold": [0.3, 0.6]},
        cv=2,
        n_jobs=2,
        scoring=lambda est, X, y: -float(np.mean([t.count("#") for t in est.transform(X)])),
    )
    search.fit(noisy, clean)
    assert search.best_params_ == {"ocr__threshold": 0.3}  # fewer '#' scores higher
    assert_same_state(fitted, before)
    assert_same_state(search.best_estimator_.named_steps["denoise"].estimator, before)


@pytest.mark.slow
def test_search_tunes_the_denoiser_inside_an_ocr_pipeline(pages):
    # Doubly nested names reach the optimizer through the pipeline step.
    noisy, clean = pages
    pipe = Pipeline([("denoise", DocumentDenoiser(epochs=3, **FAST)), ("ocr", InkReader())])
    search = GridSearchCV(
        pipe,
        {"denoise__lr": [1e-6, 1e-2], "denoise__optimizer__weight_decay": [0.0, 1e-4]},
        cv=2,
        scoring=lambda est, X, y: -rmse(y, est[:-1].transform(X)),
        error_score="raise",
    )
    search.fit(noisy, clean)
    assert search.best_params_["denoise__lr"] == 1e-2
    best = search.best_estimator_.named_steps["denoise"]
    assert (
        best.optimizer_.param_groups[0]["weight_decay"]
        == (search.best_params_["denoise__optimizer__weight_decay"])
    )
    texts = search.transform(noisy[:2])
    assert texts == InkReader().transform(best.transform(noisy[:2]))


def test_loaded_pretrained_denoiser_drops_into_pipeline(pages, fitted, tmp_path):
    noisy, clean = pages
    fitted.save(tmp_path / "model.safetensors")
    loaded = DocumentDenoiser.load(tmp_path / "model.safetensors", device="cpu")
    before = state_of(loaded)
    pipe = Pipeline([("denoise", FrozenEstimator(loaded)), ("ocr", InkReader())])
    texts = pipe.fit(noisy, clean).transform(noisy[:2])
    assert_same_state(loaded, before)
    assert texts == InkReader().transform(fitted.transform(noisy[:2]))


def test_frozen_pretrained_denoiser_is_not_fine_tuned_by_pipeline_fit(pages):
    # pretrained() comes with warm_start=True: unfrozen, Pipeline.fit would fine-tune it.
    noisy, clean = pages
    if "default" not in pretrained_models():
        pytest.skip("no pretrained model shipped in docdenoise/weights")
    den = DocumentDenoiser.pretrained(device="cpu")
    before = state_of(den)
    pipe = Pipeline([("denoise", FrozenEstimator(den)), ("ocr", InkReader())])
    texts = pipe.fit(noisy, clean).transform(noisy[:2])
    assert_same_state(den, before)
    assert texts == InkReader().transform(den.transform(noisy[:2]))


@pytest.mark.ocr
def test_pipeline_with_tesseract_turns_noisy_scans_into_text(pages):
    from docdenoise.ocr import TesseractOCR

    noisy, clean = make_dirty_documents(2, shape=(40, 220), random_state=3)
    pipe = Pipeline([("denoise", DocumentDenoiser(epochs=1, **FAST)), ("ocr", TesseractOCR())])
    texts = pipe.fit(noisy, clean).transform(noisy)  # TesseractOCR.fit ignores y
    assert isinstance(texts, list) and len(texts) == 2
    assert all(isinstance(t, str) for t in texts)
    assert pipe.named_steps["ocr"].tesseract_version_


# ---------------------------------------------------------------- searches


@pytest.mark.slow
def test_grid_search_picks_the_clearly_better_setting(pages):
    noisy, clean = pages
    search = GridSearchCV(
        DocumentDenoiser(**FAST),
        {"lr": [1e-6, 1e-2], "epochs": [1, 3]},
        cv=3,
        n_jobs=2,
        scoring={"neg_rmse": neg_rmse_scorer, "psnr": psnr_scorer, "ssim": ssim_scorer},
        refit="psnr",
        error_score="raise",
    )
    search.fit(noisy, clean)
    assert search.best_params_ == {"epochs": 3, "lr": 1e-2}

    res = search.cv_results_
    assert list(res["params"]) == [
        {"epochs": 1, "lr": 1e-6},
        {"epochs": 1, "lr": 1e-2},
        {"epochs": 3, "lr": 1e-6},
        {"epochs": 3, "lr": 1e-2},
    ]
    for name in ("neg_rmse", "psnr", "ssim"):
        assert np.isfinite(res[f"mean_test_{name}"]).all(), name
        assert np.isfinite(res[f"split2_test_{name}"]).all(), name
        assert sorted(res[f"rank_test_{name}"]) == [1, 2, 3, 4], name
    for name in ("neg_rmse", "psnr"):
        # the tiny learning rate barely moves; the decent one with 3 epochs wins
        # (SSIM of tiny 16x24 pages after 3 epochs is not reliably ordered)
        scores = res[f"mean_test_{name}"]
        assert scores[3] > max(scores[0], scores[2]), name
        assert res[f"rank_test_{name}"][3] == 1, name
    assert (res["mean_test_neg_rmse"] < 0).all()
    assert (res["mean_fit_time"] > 0).all()

    # refit: the best estimator was trained on all pages with the best params
    best = search.best_estimator_
    assert (best.lr, best.epochs, len(best.history_)) == (1e-2, 3, 3)
    out = search.transform(noisy[:4])
    assert isinstance(out, list) and [o.shape for o in out] == [n.shape for n in noisy[:4]]
    assert search.score(noisy, clean) == pytest.approx(psnr_scorer(best, noisy, clean))


def nparams_scorer(estimator, X, y):
    return float(sum(p.numel() for p in estimator.module_.parameters()))


def weight_decay_scorer(estimator, X, y):
    return float(estimator.optimizer_.param_groups[0]["weight_decay"])


def torch_threads_scorer(estimator, X, y):
    return float(torch.get_num_threads())


def worker_pid_scorer(estimator, X, y):
    return float(os.getpid())


def test_nested_params_reach_network_and_optimizer_in_parallel_workers(pages):
    noisy, clean = pages
    grid = {
        "module__channels": [(2, 4), (8, 16)],
        "optimizer__weight_decay": [0.0, 0.25],
    }
    search = GridSearchCV(
        DocumentDenoiser(epochs=1, **FAST),
        grid,
        cv=2,
        n_jobs=2,
        scoring={
            "neg_rmse": neg_rmse_scorer,
            "nparams": nparams_scorer,
            "weight_decay": weight_decay_scorer,
            "threads": torch_threads_scorer,
            "pid": worker_pid_scorer,
        },
        refit="neg_rmse",
        error_score="raise",
    )
    search.fit(noisy, clean)
    res = search.cv_results_
    # Each fit ran in a worker process with its own network and optimizer settings.
    assert os.getpid() not in set(res["split0_test_pid"]) | set(res["split1_test_pid"])
    nparams = res["mean_test_nparams"]
    for i, params in enumerate(res["params"]):
        expected = sum(
            p.numel()
            for p in DocumentDenoiser(module__channels=params["module__channels"])
            ._build_module()
            .parameters()
        )
        assert nparams[i] == expected
        assert res["mean_test_weight_decay"][i] == params["optimizer__weight_decay"]
    # joblib's loky workers start with a share of the cores: no oversubscription.
    assert set(res["mean_test_threads"]) == {max(1, (os.cpu_count() or 1) // 2)}

    best = search.best_estimator_
    assert best.module_.channels == search.best_params_["module__channels"]
    wd = best.optimizer_.param_groups[0]["weight_decay"]
    assert wd == search.best_params_["optimizer__weight_decay"]


@pytest.mark.slow
def test_search_in_threads_gives_the_serial_results(pages):
    # Threads of one process share torch's global random generator; seeding and
    # weight initialisation are locked, so timing cannot change the results.
    noisy, clean = pages

    def search():
        return GridSearchCV(
            DocumentDenoiser(epochs=1, lr=1e-2, **FAST),
            {"random_state": [0, 1, 2, 3]},
            cv=2,
            error_score="raise",
        )

    serial = search().fit(noisy, clean).cv_results_
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = search().fit(noisy, clean).cv_results_
    for key in ("split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(threaded[key], serial[key], rtol=1e-6)


def test_scorers_by_name_and_custom_in_cross_validate(pages):
    noisy, clean = pages
    res = cross_validate(
        DocumentDenoiser(epochs=1, **FAST),
        noisy,
        clean,
        cv=2,
        scoring={"neg_rmse": get_scorer("neg_rmse"), "psnr": get_scorer("psnr")},
        error_score="raise",
    )
    assert np.all(res["test_neg_rmse"] < 0)
    # PSNR = -20 log10(RMSE) when all pages of a fold share one size; here sizes mix,
    # so only the direction is fixed: both say the same fold is better.
    assert np.argmax(res["test_neg_rmse"]) == np.argmax(res["test_psnr"])


@pytest.mark.slow
@pytest.mark.ocr
def test_ocr_cer_scorer_in_cross_validation():
    from docdenoise.scorers import neg_ocr_cer_scorer

    noisy, clean = make_dirty_documents(4, shape=(40, 220), random_state=3)
    scores = cross_val_score(
        DocumentDenoiser(epochs=1, **FAST),
        list(noisy),
        list(clean),
        cv=2,
        scoring=neg_ocr_cer_scorer,
        error_score="raise",
    )
    assert scores.shape == (2,) and np.isfinite(scores).all() and (scores <= 0).all()


def test_cross_val_score_on_mixed_sizes_matches_a_manual_loop(pages):
    noisy, clean = pages
    est = DocumentDenoiser(epochs=2, lr=1e-2, **FAST)
    cv = KFold(3)
    scores = cross_val_score(est, noisy, clean, cv=cv, error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all() and (scores < 0).all()
    manual = []
    for train, test in cv.split(noisy):
        model = clone(est).fit([noisy[i] for i in train], [clean[i] for i in train])
        pred = model.transform([noisy[i] for i in test])
        manual.append(-rmse([clean[i] for i in test], pred))
    np.testing.assert_allclose(scores, manual, rtol=1e-5)


def test_cross_val_score_with_groups_keeps_pages_together(pages):
    noisy, clean = pages
    groups = np.repeat([0, 1, 2], 4)
    scores = cross_val_score(
        DocumentDenoiser(epochs=1, **FAST),
        noisy,
        clean,
        groups=groups,
        cv=GroupKFold(3),
        scoring=psnr_scorer,
        error_score="raise",
    )
    assert scores.shape == (3,) and np.isfinite(scores).all() and (scores > 0).all()


# ---------------------------------------------------------------- estimator API


def test_clone_keeps_nested_params_and_drops_fitted_state(fitted):
    est = DocumentDenoiser(epochs=3, module__channels=(4, 8), optimizer__weight_decay=1e-3)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert copy.get_params()["module__channels"] == (4, 8)
    fresh = clone(fitted)
    assert not hasattr(fresh, "module_") and not hasattr(fresh, "history_")
    assert fresh.get_params() == fitted.get_params()


def test_get_and_set_params():
    est = DocumentDenoiser(optimizer__weight_decay=1e-3)
    params = est.get_params()
    assert params["optimizer__weight_decay"] == 1e-3 and params["lr"] == 1e-3
    assert est.set_params(lr=0.5, module__channels=(3, 5)) is est
    assert est.lr == 0.5 and est.get_params()["module__channels"] == (3, 5)
    with pytest.raises(ValueError, match="Invalid parameter 'lrate'"):
        est.set_params(lrate=1)


def test_set_params_between_fits_takes_effect(pages):
    noisy, clean = pages
    est = DocumentDenoiser(epochs=1, module__channels=(2, 4), **FAST).fit(noisy, clean)
    assert est.module_.channels == (2, 4) and len(est.history_) == 1
    est.set_params(epochs=2, module__channels=(4, 8), optimizer="sgd", lr=0.05)
    est.fit(noisy, clean)
    assert est.module_.channels == (4, 8)
    assert [r["epoch"] for r in est.history_] == [1, 2]
    assert isinstance(est.optimizer_, torch.optim.SGD)
    assert est.optimizer_.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("dumper", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip(fitted, pages, tmp_path, dumper):
    noisy, _ = pages
    if dumper == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "den.joblib")
        restored = joblib.load(tmp_path / "den.joblib")
    assert restored.get_params() == fitted.get_params()
    np.testing.assert_equal(restored.history_, fitted.history_)
    for a, b in zip(restored.transform(noisy), fitted.transform(noisy)):
        np.testing.assert_array_equal(a, b)


def test_warm_start_continues_training_and_epoch_numbering(pages):
    noisy, clean = pages
    est = DocumentDenoiser(epochs=2, lr=1e-2, warm_start=True, **FAST).fit(noisy, clean)
    module, optimizer = est.module_, est.optimizer_
    after_two, history_two = state_of(est)
    est.set_params(epochs=3, lr=5e-3)
    est.fit(noisy, clean)
    assert [r["epoch"] for r in est.history_] == [1, 2, 3, 4, 5]
    np.testing.assert_equal(est.history_[:2], history_two)
    # the same network and optimizer (with its state) went on, with the new lr
    assert est.module_ is module and est.optimizer_ is optimizer
    assert est.optimizer_.param_groups[0]["lr"] == 5e-3
    assert any(not torch.equal(est.module_.state_dict()[k], v) for k, v in after_two.items())
    # turning warm_start off starts a new network and history
    fresh = clone(est).set_params(warm_start=False).fit(noisy, clean)
    assert [r["epoch"] for r in fresh.history_] == [1, 2, 3]

    # after pickling, the optimizer is rebuilt and numbering still continues
    restored = pickle.loads(pickle.dumps(est)).set_params(epochs=1)
    restored.fit(noisy, clean)
    assert [r["epoch"] for r in restored.history_] == [1, 2, 3, 4, 5, 6]


def test_without_warm_start_fit_starts_again(pages):
    noisy, clean = pages
    est = DocumentDenoiser(epochs=2, **FAST).fit(noisy, clean)
    first = est.module_
    est.fit(noisy, clean)
    assert est.module_ is not first
    assert [r["epoch"] for r in est.history_] == [1, 2]


# ---------------------------------------------------------------- threads


class ThreadSpy(torch.nn.Module):
    """A one-layer network that records torch's thread count on every forward pass."""

    size_multiple = 1
    receptive_margin = 1
    seen: ClassVar[list[int]] = []

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        ThreadSpy.seen.append(torch.get_num_threads())
        return torch.sigmoid(self.conv(x))


def test_n_threads_limits_torch_during_fit_and_transform_only(pages):
    noisy, clean = pages
    ThreadSpy.seen = []
    assert FAST["n_threads"] == 1
    before = torch.get_num_threads()
    est = DocumentDenoiser(ThreadSpy, epochs=1, **FAST).fit(noisy, clean)
    est.transform(noisy[:2])
    est.score(noisy[:2], clean[:2])
    assert ThreadSpy.seen and set(ThreadSpy.seen) == {1}
    assert torch.get_num_threads() == before

    # the same in a worker thread, which gets its own count back
    result = {}

    def work():
        result["before"] = torch.get_num_threads()
        est.transform(noisy[:1])
        result["after"] = torch.get_num_threads()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert result["before"] == result["after"]
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_n_threads_is_validated(pages, bad):
    noisy, clean = pages
    with pytest.raises(ValueError, match="n_threads must be None or an integer >= 1"):
        DocumentDenoiser(epochs=1, **{**FAST, "n_threads": bad}).fit(noisy[:2], clean[:2])
