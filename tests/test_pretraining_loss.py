"""Tests for the losses of benchmarks/train_pretrained.py (stroke and dark weights, and the
binarisation and skeleton terms)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("train_pretrained.py")


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


def page_with_stroke() -> torch.Tensor:
    """A white 16x24 page with one black horizontal stroke, 3 pixels wide."""
    y = torch.ones(1, 1, 16, 24)
    y[0, 0, 6:9, 3:21] = 0.0
    return y


def test_soft_skeleton_is_the_centre_line_of_a_stroke(script):
    ink = 1.0 - page_with_stroke()
    skeleton = script["soft_skeleton"](ink)
    assert skeleton.shape == ink.shape
    assert torch.all(skeleton[0, 0, 7, 4:20] == 1.0)  # the middle row, ends eroded
    assert skeleton[0, 0, 6].sum() == 0 and skeleton[0, 0, 8].sum() == 0
    assert skeleton.sum() == skeleton[0, 0, 7].sum()  # nothing off the centre line


def test_skeleton_loss_counts_broken_strokes_and_dashes(script):
    y = page_with_stroke()
    assert script["skeleton_loss"](y, y).item() < 0.01
    broken = y.clone()
    broken[0, 0, 6:9, 11:14] = 1.0  # a gap across the stroke
    dash = y.clone()
    dash[0, 0, 12, 2:22] = 0.0  # a thin crease line where the page is paper
    assert script["skeleton_loss"](broken, y).item() > 0.05
    assert script["skeleton_loss"](dash, y).item() > 0.05
    # a stroke edge drawn grey, on the right side of the threshold, hardly counts
    grey = y.clone()
    grey[0, 0, 6, 3:21] = 0.3
    assert script["skeleton_loss"](grey, y).item() < 0.01


def test_skeleton_loss_pushes_the_gap_darker(script):
    y = page_with_stroke()
    pred = y.clone()
    pred[0, 0, 6:9, 11:14] = 0.6  # a gap, just lighter than the threshold
    pred.requires_grad_(True)
    script["skeleton_loss"](pred, y).backward()
    assert pred.grad[0, 0, 7, 12] > 0  # a step down the gradient darkens the gap


def test_binary_loss_counts_pixels_across_the_threshold(script):
    y = page_with_stroke()
    assert script["binary_loss"](y, y).item() < 1e-6
    crossing = y.clone()
    crossing[0, 0, 6, 3:21] = 0.8  # an edge row drawn as paper
    staying = y.clone()
    staying[0, 0, 6, 3:21] = 0.2  # the same row a little grey, still ink
    assert script["binary_loss"](crossing, y) > 20 * script["binary_loss"](staying, y)
