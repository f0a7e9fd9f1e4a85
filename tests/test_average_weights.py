"""Tests for benchmarks/average_weights.py (the mean of saved models' weights)."""

from __future__ import annotations

import sys

import pytest
import torch

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents

FAST = {"epochs": 1, "batch_size": 4, "n_threads": 1}


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("average_weights.py")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two models of one network trained from different seeds, and one of another."""
    folder = tmp_path_factory.mktemp("models")
    noisy, clean = make_dirty_documents(4, shape=(24, 32), random_state=0)
    paths = {}
    for name, params in {
        "a": {"random_state": 0},
        "b": {"random_state": 1},
        "wide": {"random_state": 0, "module__channels": (8, 16)},
    }.items():
        paths[name] = str(folder / f"{name}.safetensors")
        DocumentDenoiser(**FAST, **params).fit(noisy, clean).save(paths[name])
    return paths


def _state(path):
    return DocumentDenoiser.load(path, device="cpu").module_.state_dict()


def test_weighted_mean_of_every_tensor(script, saved):
    a, b = _state(saved["a"]), _state(saved["b"])
    soup = script["average_weights"]([saved["a"], saved["b"]], [3, 1]).module_.state_dict()
    assert soup.keys() == a.keys()
    for key in a:
        torch.testing.assert_close(soup[key], 0.75 * a[key] + 0.25 * b[key])
    assert any(not torch.equal(a[k], b[k]) for k in a)  # the test averages different models


def test_averaged_model_cleans_pages(script, saved):
    noisy, _ = make_dirty_documents(2, shape=(24, 32), random_state=5)
    out = script["average_weights"]([saved["a"], saved["b"]]).transform(noisy)
    assert len(out) == 2
    assert all(p.shape == (24, 32) and p.min() >= 0 and p.max() <= 1 for p in out)


def test_main_writes_and_never_overwrites(script, saved, tmp_path, monkeypatch, capsys):
    out = tmp_path / "soup.safetensors"
    monkeypatch.setattr(
        sys, "argv", ["average_weights.py", saved["a"], saved["b"], "--out", str(out)]
    )
    script["main"]()
    assert "the mean of 2 models" in capsys.readouterr().out
    before = out.read_bytes()
    monkeypatch.setattr(
        sys, "argv", ["average_weights.py", saved["a"], saved["a"], "--out", str(out)]
    )
    with pytest.raises(SystemExit, match="exists; pass --force"):
        script["main"]()
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("models", "weights", "match"),
    [
        (["a"], None, "at least two model files"),
        (["a", "b"], [1.0], "expected 2 non-negative --weights"),
        (["a", "b"], [1.0, -1.0], "non-negative"),
        (["a", "wide"], None, "another network"),
    ],
)
def test_clear_errors(script, saved, models, weights, match):
    with pytest.raises(SystemExit, match=match):
        script["average_weights"]([saved[m] for m in models], weights)
