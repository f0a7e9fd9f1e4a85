"""Tests for the loss weights of benchmarks/train_pretrained.py (stroke and dark weights)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_pretrained.py"


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(SCRIPT))


def test_stroke_weights_cover_ink_and_one_pixel_around_it(script):
    y = torch.ones(1, 1, 5, 7)
    y[0, 0, 2, 3] = 0.0  # one ink pixel
    w = script["stroke_weights"](y, 5.0)
    assert w.shape == y.shape
    assert torch.all(w[0, 0, 1:4, 2:5] == 6.0)  # the ink pixel and its 8 neighbours
    assert w.sum() == 6.0 * 9 + 1.0 * (35 - 9)


def test_dark_weights_only_where_output_is_darker_than_edges_or_paper(script):
    y = torch.tensor([[[[0.0, 0.0, 0.5, 0.5, 1.0, 1.0]]]])  # ink core, edge, paper
    pred = torch.tensor([[[[0.2, 0.0, 0.3, 0.7, 0.8, 1.0]]]])
    w = script["dark_weights"](pred, y, 2.0)
    # darker than the ink core cannot happen; a core left light is not weighted more;
    # the edge and the paper drawn darker are, drawn lighter they are not
    assert w.flatten().tolist() == [1.0, 1.0, 3.0, 1.0, 3.0, 1.0]


def test_dark_weight_zero_changes_nothing(script):
    generator = torch.Generator().manual_seed(0)
    y = torch.rand(2, 1, 8, 8, generator=generator)
    pred = torch.rand(2, 1, 8, 8, generator=generator)
    assert torch.equal(script["dark_weights"](pred, y, 0.0), torch.ones_like(y))
