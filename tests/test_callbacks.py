"""Training callbacks: progress bars, epoch lines, and the loop's calls to them."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn

from docdenoise import DivergenceError, DocumentDenoiser
from docdenoise._callbacks import (
    Callback,
    EpochLines,
    TrainingProgress,
    progress_callbacks,
)
from docdenoise._training import TrainSettings, make_buckets, train

RNG = np.random.default_rng(0)


def test_training_progress_bars():
    stream = io.StringIO()
    progress = TrainingProgress(2, file=stream)
    for epoch in (1, 2):
        for step in (1, 2, 3):
            progress.on_batch_end(step, 3)
        assert progress.batch_bar.n == 3
        progress.on_epoch_end({"epoch": epoch, "train_loss": 0.5 / epoch, "valid_loss": 0.25})
    progress.on_train_end()
    text = stream.getvalue()
    assert "2/2" in text
    assert "train_loss=0.25000" in text
    assert "valid_loss=0.25000" in text


def test_progress_callbacks_by_verbosity():
    assert progress_callbacks(0, epochs=1) == []
    (lines,) = progress_callbacks(1, epochs=1)
    assert isinstance(lines, EpochLines)
    (bars,) = progress_callbacks(2, epochs=1)
    assert isinstance(bars, TrainingProgress)
    bars.on_train_end()


def test_fit_verbose_shows_lines_or_bars(capsys):
    pages = RNG.random((4, 8, 8), dtype=np.float32)
    DocumentDenoiser(epochs=2, batch_size=2, verbose=1, random_state=0).fit(pages, pages)
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out] == [["epoch", "1"], ["epoch", "2"]]
    DocumentDenoiser(epochs=2, batch_size=2, verbose=2, random_state=0).fit(pages, pages)
    err = capsys.readouterr().err
    assert "training" in err
    assert "2/2" in err


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_batch_end(self, done, total):
        self.calls.append(("batch", done, total))

    def on_epoch_end(self, record):
        self.calls.append(("epoch", record["epoch"]))

    def on_train_end(self):
        self.calls.append(("end",))


def _buckets(X, Y):
    return make_buckets(list(X), list(Y), size_multiple=1, device=torch.device("cpu"))


def test_train_calls_every_callback_in_order():
    X = RNG.random((4, 8, 8), dtype=np.float32)
    module = nn.Conv2d(1, 1, 1)
    recorder = Recorder()
    history = train(
        module,
        torch.optim.SGD(module.parameters(), lr=0.1),
        nn.MSELoss(),
        _buckets(X, X),
        [],
        TrainSettings(epochs=2, batch_size=2),
        generator=torch.Generator().manual_seed(0),
        start_epoch=3,
        callbacks=[recorder],
    )
    assert [r["epoch"] for r in history] == [4, 5]
    assert recorder.calls == [
        ("batch", 1, 2),
        ("batch", 2, 2),
        ("epoch", 4),
        ("batch", 1, 2),
        ("batch", 2, 2),
        ("epoch", 5),
        ("end",),
    ]


def test_train_ends_the_callbacks_after_an_error():
    X = RNG.random((2, 8, 8), dtype=np.float32)
    module = nn.Conv2d(1, 1, 1)
    recorder = Recorder()
    with pytest.raises(DivergenceError):
        train(
            module,
            torch.optim.SGD(module.parameters(), lr=1e30),
            nn.MSELoss(),
            _buckets(X * 1e20, X),
            [],
            TrainSettings(epochs=3, batch_size=2),
            generator=torch.Generator().manual_seed(0),
            callbacks=[recorder],
        )
    assert recorder.calls[-1] == ("end",)
