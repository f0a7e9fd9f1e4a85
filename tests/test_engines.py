"""The estimator's engines: ``engine=``, ``export_onnx``, ONNX model files, the shipped model."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.exceptions import DeviceError, ModelFileError

pytest.importorskip("torch")
pytest.importorskip("onnxscript")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from export_weights import WEIGHTS, stale  # tools/export_weights.py

TINY = {"epochs": 1, "batch_size": 4, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def data():
    return make_dirty_documents(4, shape=(37, 53), random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    noisy, clean = data
    return DocumentDenoiser("unet", module__channels=(4, 4, 8, 8), **TINY).fit(noisy, clean)


@pytest.fixture(scope="module")
def onnx_file(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    exported = pickle.loads(pickle.dumps(fitted)).set_params(tta=4, tile_size=32)
    exported.export_onnx(path)
    return path


def test_engine_onnx_equals_engine_torch(fitted, data):
    noisy, _ = data
    est = pickle.loads(pickle.dumps(fitted))
    want = est.set_params(engine="torch").transform(noisy)
    assert not hasattr(est, "onnx_model_")
    got = est.set_params(engine="onnx").transform(noisy)  # exported on first use
    assert hasattr(est, "onnx_model_")
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    streamed = np.stack(list(est.iter_transform(iter(noisy))))
    np.testing.assert_allclose(streamed, want, atol=1e-4, rtol=0)
    assert est.score(noisy, noisy) == pytest.approx(fitted.score(noisy, noisy), abs=1e-4)


def test_auto_uses_an_onnx_graph_on_the_cpu_and_fit_drops_it(fitted, data):
    noisy, clean = data
    est = pickle.loads(pickle.dumps(fitted))
    assert est._engine_name() == "torch"  # nothing exported yet
    est.set_params(engine="onnx").transform(noisy[:1])
    assert est.set_params(engine="auto")._engine_name() == "onnx"
    est.set_params(warm_start=True).fit(noisy, clean)
    assert not hasattr(est, "onnx_model_") and est._engine_name() == "torch"


def test_bad_engine_is_refused(data):
    noisy, clean = data
    with pytest.raises(ValueError, match=r"engine must be .*'auto'.*got 'tensorrt'"):
        DocumentDenoiser(engine="tensorrt", **TINY).fit(noisy, clean)


def test_onnx_file_round_trip_keeps_settings_and_results(fitted, onnx_file, data):
    noisy, _ = data
    loaded = DocumentDenoiser.load(onnx_file)
    assert (loaded.tta, loaded.tile_size, loaded.model) == (4, 32, "unet")
    assert loaded.history_ == fitted.history_
    assert not hasattr(loaded, "module_") and loaded._engine_name() == "onnx"
    want = pickle.loads(pickle.dumps(fitted)).set_params(tta=4, tile_size=32).transform(noisy)
    np.testing.assert_allclose(loaded.transform(noisy), want, atol=1e-4, rtol=0)
    clone = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_allclose(clone.transform(noisy), want, atol=1e-4, rtol=0)


def test_onnx_only_estimators_say_what_they_cannot_do(onnx_file, data, tmp_path):
    noisy, clean = data
    loaded = DocumentDenoiser.load(onnx_file)
    with pytest.raises(ValueError, match=r"save needs the torch network.*only an ONNX graph"):
        loaded.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=r"engine='torch' needs the torch network"):
        loaded.set_params(engine="torch").transform(noisy)
    with pytest.raises(ValueError, match=r"warm_start=True needs .* holds only an ONNX graph"):
        loaded.set_params(engine="auto", warm_start=True).fit(noisy, clean)
    with pytest.raises(DeviceError, match=r"runs on the CPU"):
        DocumentDenoiser.load(onnx_file, device="cuda")


def test_n_threads_reaches_onnxruntime(onnx_file, data):
    noisy, _ = data
    loaded = DocumentDenoiser.load(onnx_file).set_params(n_threads=1)
    loaded.transform(noisy[:1])
    assert loaded.onnx_model_.n_threads == 1


def test_a_damaged_onnx_file_is_refused(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07 not a graph")
    with pytest.raises(ModelFileError, match=r"'.*bad.onnx' is not an ONNX model"):
        DocumentDenoiser.load(path)
    with pytest.raises(ModelFileError, match=r"does not exist"):
        DocumentDenoiser.load(tmp_path / "missing.onnx")


@pytest.mark.parametrize("weights", sorted(WEIGHTS.glob("*.safetensors")), ids=lambda p: p.stem)
def test_shipped_onnx_matches_the_shipped_weights(weights):
    """Regenerate with ``python tools/export_weights.py`` after new weights land."""
    assert stale(weights) is None
    noisy, _ = make_dirty_documents(2, shape=(61, 90), random_state=3)
    torch_est = DocumentDenoiser.load(weights, device="cpu")
    onnx_est = DocumentDenoiser.load(weights.with_suffix(".onnx"))
    for tta in (1, 8):
        want = torch_est.set_params(tta=tta).transform(noisy)
        got = onnx_est.set_params(tta=tta).transform(noisy)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_pretrained_loads_its_onnx_form_and_the_torch_weights_when_needed(data):
    noisy, clean = data
    auto = DocumentDenoiser.pretrained(device="cpu")
    assert "module_" not in vars(auto) and auto._engine_name() == "onnx"  # not loaded yet
    torch_only = DocumentDenoiser.pretrained(device="cpu", engine="torch")
    assert not hasattr(torch_only, "onnx_model_") and torch_only._engine_name() == "torch"
    want = torch_only.transform(noisy)
    np.testing.assert_allclose(auto.transform(noisy), want, atol=1e-4, rtol=0)
    np.testing.assert_allclose(  # the torch engine loads the shipped torch weights
        auto.set_params(engine="torch").transform(noisy), want, atol=1e-6, rtol=0
    )
    lazy = DocumentDenoiser.pretrained(device="cpu")
    assert lazy.module_.training is False and "module_" in vars(lazy)  # loads when looked up
    tuned = DocumentDenoiser.pretrained(device="cpu").set_params(epochs=1, batch_size=4)
    tuned.fit(noisy, clean)  # warm_start=True: fine-tunes the shipped network
    assert len(tuned.history_) == len(torch_only.history_) + 1
    assert not hasattr(tuned, "onnx_model_") and tuned._engine_name() == "torch"
    with pytest.raises(ValueError, match="engine must be"):
        DocumentDenoiser.pretrained(engine="fast")


def test_onnxruntime_telemetry_is_off_unless_the_user_chose(monkeypatch):
    from docdenoise._onnx_engine import _onnxruntime

    monkeypatch.delenv("ORT_TELEMETRY_DISABLED", raising=False)
    _onnxruntime()
    assert os.environ["ORT_TELEMETRY_DISABLED"] == "1"
    monkeypatch.setenv("ORT_TELEMETRY_DISABLED", "0")
    _onnxruntime()
    assert os.environ["ORT_TELEMETRY_DISABLED"] == "0"
