"""What ``fit`` leaves behind after Ctrl-C, errors and divergence; checkpoints."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from docdenoise import DocumentDenoiser
from docdenoise import _denoiser as denoiser_module
from docdenoise import _training as training_module
from docdenoise.exceptions import DivergenceError, TrainingInterruptedWarning

# 4 images, batch 2, no validation: exactly 2 loss calls per epoch.
TINY = {
    "epochs": 3,
    "batch_size": 2,
    "validation_fraction": 0.0,
    "random_state": 0,
    "module__channels": (2, 2),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((4, 16, 24), dtype=np.float32)


class FailingLoss(nn.MSELoss):
    """MSE that raises ``error`` on call number ``at`` (class attributes, set per test)."""

    at = 5
    error: type[BaseException] = KeyboardInterrupt
    calls = 0

    def forward(self, pred, target):
        type(self).calls += 1
        if type(self).calls == type(self).at:
            raise type(self).error("boom")
        return super().forward(pred, target)


class NaNLoss(nn.MSELoss):
    def forward(self, pred, target):
        return super().forward(pred, target) * float("nan")


@pytest.fixture
def failing(monkeypatch):
    def make(at, error):
        monkeypatch.setattr(FailingLoss, "at", at)
        monkeypatch.setattr(FailingLoss, "error", error)
        monkeypatch.setattr(FailingLoss, "calls", 0)
        return FailingLoss

    return make


@pytest.fixture
def failing_mse(monkeypatch, failing):
    """Like ``failing`` but keeps ``loss="mse"`` (by name, as checkpoints need)."""

    def make(at, error):
        cls = failing(at, error)
        monkeypatch.setattr(denoiser_module.DocumentDenoiser, "_build_loss", lambda self: cls())

    return make


def _weights(est):
    return {k: v.detach().clone() for k, v in est.module_.state_dict().items()}


def _epochs(history):
    return [(r["epoch"], r["train_loss"]) for r in history]


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- Ctrl-C


def test_interrupt_keeps_weights_and_complete_epochs(data, failing):
    loss = failing(at=6, error=KeyboardInterrupt)  # second step of epoch 3
    den = DocumentDenoiser(**TINY, loss=loss)
    with pytest.warns(TrainingInterruptedWarning, match="after 2 complete epoch") as record:
        assert den.fit(data, data) is den
    assert record[0].filename == __file__  # points at the caller's fit, not our internals
    assert [r["epoch"] for r in den.history_] == [1, 2]
    assert den.optimizer_ is not None
    # the step of epoch 3 that did complete is in the weights: they differ from a
    # clean 2-epoch run
    ref = DocumentDenoiser(**{**TINY, "epochs": 2}).fit(data, data)
    assert not _same_weights(_weights(den), _weights(ref))
    out = den.transform(data)
    assert out.shape == data.shape
    assert np.isfinite(out).all()


def test_interrupt_then_warm_start_goes_on(data, failing):
    den = DocumentDenoiser(**TINY, loss=failing(at=3, error=KeyboardInterrupt))
    with pytest.warns(TrainingInterruptedWarning, match="after 1 complete epoch"):
        den.fit(data, data)
    den.set_params(warm_start=True, epochs=2)
    den.fit(data, data)  # call 3 is past: no more interruption
    assert [r["epoch"] for r in den.history_] == [1, 2, 3]


def test_interrupt_in_first_epoch_is_fitted_with_empty_history(data, failing):
    den = DocumentDenoiser(**TINY, loss=failing(at=2, error=KeyboardInterrupt))
    with pytest.warns(TrainingInterruptedWarning, match="after 0 complete epoch"):
        den.fit(data, data)
    assert den.history_ == []
    assert den.transform(data[:1]).shape == (1, 16, 24)


def test_interrupt_before_training_propagates_and_changes_nothing(data, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training_module, "make_buckets", interrupted)  # fit imports it late
    den = DocumentDenoiser(**TINY)
    with pytest.raises(KeyboardInterrupt):
        den.fit(data, data)
    assert not hasattr(den, "module_")
    assert not hasattr(den, "history_")


# --------------------------------------------------------------------------- other errors


def test_error_in_fresh_fit_leaves_estimator_unfitted(data, failing):
    den = DocumentDenoiser(**TINY, image_shape="rows", loss=failing(at=4, error=RuntimeError))
    with pytest.raises(RuntimeError, match="boom"):
        den.fit(data.reshape(4, -1), data.reshape(4, -1))
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(den))


def test_error_in_refit_keeps_previous_model(data, failing):
    flat = data.reshape(4, -1)
    den = DocumentDenoiser(**TINY, image_shape="rows").fit(flat, flat)
    before = (_weights(den), list(den.history_), den.module_, den.n_features_in_)
    out_before = den.transform(data.reshape(4, -1))
    den.set_params(loss=failing(at=2, error=ValueError))
    with pytest.raises(ValueError, match="boom"):
        den.fit(data[:, :8, :8], data[:, :8, :8])  # other size: n_features_in_ would change
    assert _same_weights(_weights(den), before[0])
    assert den.history_ == before[1]
    assert den.module_ is before[2]
    assert den.n_features_in_ == before[3]
    np.testing.assert_array_equal(den.transform(data.reshape(4, -1)), out_before)


def test_error_in_warm_start_restores_weights_and_optimizer(data, failing):
    den = DocumentDenoiser(**TINY).fit(data, data)
    weights = _weights(den)
    opt_state = copy.deepcopy(den.optimizer_.state_dict())
    history = copy.deepcopy(den.history_)
    den.set_params(warm_start=True, loss=failing(at=4, error=RuntimeError), lr=0.5)
    with pytest.raises(RuntimeError, match="boom"):
        den.fit(data, data)
    assert _same_weights(_weights(den), weights)  # 3 steps were taken, then undone
    assert den.history_ == history
    restored = den.optimizer_.state_dict()
    assert restored["param_groups"][0]["lr"] == opt_state["param_groups"][0]["lr"]
    for key, state in opt_state["state"].items():
        for name, value in state.items():
            assert torch.equal(restored["state"][key][name], value), name


# --------------------------------------------------------------------------- divergence


def test_nan_loss_raises_divergence_error(data):
    den = DocumentDenoiser(**TINY, loss=NaNLoss)
    with pytest.raises(DivergenceError, match=r"diverged in epoch 1.*nan.*smaller learning rate"):
        den.fit(data, data)
    assert not hasattr(den, "module_")


def test_divergence_during_warm_start_keeps_model(data):
    den = DocumentDenoiser(**TINY).fit(data, data)
    weights = _weights(den)
    den.set_params(warm_start=True, loss=NaNLoss)
    with pytest.raises(DivergenceError, match="epoch 4"):
        den.fit(data, data)
    assert _same_weights(_weights(den), weights)
    assert len(den.history_) == 3


def test_divergence_error_is_a_runtime_error():
    assert issubclass(DivergenceError, RuntimeError)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_written_each_epoch_and_loadable(tmp_path, data, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    written = []
    real = denoiser_module._serialization.write_model_file

    def spy(p, tensors, meta):
        written.append(len(meta["history"]))
        real(p, tensors, meta)

    monkeypatch.setattr(denoiser_module._serialization, "write_model_file", spy)
    den = DocumentDenoiser(**TINY, checkpoint=path).fit(data, data)
    assert written == [1, 2, 3, 3]  # each epoch, then once more when fit returns
    loaded = DocumentDenoiser.load(path)
    np.testing.assert_array_equal(loaded.transform(data), den.transform(data))
    assert _epochs(loaded.history_) == _epochs(den.history_)
    assert loaded.checkpoint == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]


def test_resume_after_crash_from_checkpoint(tmp_path, data, failing_mse, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    den = DocumentDenoiser(**TINY, checkpoint=path)
    failing_mse(at=6, error=OSError)
    with pytest.raises(OSError, match="boom"):
        den.fit(data, data)
    monkeypatch.undo()
    assert not hasattr(den, "module_")
    resumed = DocumentDenoiser.load(path)
    assert [r["epoch"] for r in resumed.history_] == [1, 2]
    resumed.set_params(warm_start=True, epochs=1).fit(data, data)
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3]
    assert [r["epoch"] for r in DocumentDenoiser.load(path).history_] == [1, 2, 3]


def test_checkpoint_survives_interrupt(tmp_path, data, failing_mse):
    path = tmp_path / "ckpt.safetensors"
    den = DocumentDenoiser(**TINY, checkpoint=path)
    failing_mse(at=5, error=KeyboardInterrupt)
    with pytest.warns(TrainingInterruptedWarning):
        den.fit(data, data)
    saved = DocumentDenoiser.load(path)
    assert len(saved.history_) == 2 == len(den.history_)
    # rewritten when fit returned: the step taken in epoch 3 is in the file too
    np.testing.assert_array_equal(saved.transform(data), den.transform(data))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"checkpoint": 3}, "checkpoint must be None or a file path"),
        ({"checkpoint": "c.safetensors", "optimizer": torch.optim.SGD}, "by name"),
    ],
)
def test_checkpoint_validation(data, params, match):
    with pytest.raises(ValueError, match=match):
        DocumentDenoiser(**{**TINY, **params}).fit(data, data)


def test_checkpoint_is_a_plain_parameter(tmp_path):
    den = DocumentDenoiser(checkpoint=tmp_path / "c.safetensors")
    assert clone(den).get_params()["checkpoint"] == tmp_path / "c.safetensors"
    assert os.fspath(den.checkpoint).endswith("c.safetensors")
