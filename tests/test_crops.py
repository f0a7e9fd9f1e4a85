"""Tests for benchmarks/crops.py (labelled side-by-side crops of pages)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def crop_grid(benchmark_script):
    return benchmark_script("crops.py")["crop_grid"]


def test_crops_are_stacked_labelled_and_enlarged(crop_grid):
    a = np.zeros((40, 60), np.float32)
    b = np.ones((40, 60), np.float32)
    a[10:20, 5:25] = np.linspace(0, 1, 20)  # a gradient inside the box
    grid = crop_grid([a, b], ["first", "second"], (10, 5, 10, 20), scale=2, gap=2)
    # Two label strips of 12 rows, two crops of 10 rows, one grey gap of 2 rows; x2.
    assert grid.shape == (2 * (12 + 10 + 2 + 12 + 10), 2 * 20)
    assert grid.dtype == np.float32 and grid.min() >= 0 and grid.max() <= 1
    first = grid[2 * 12 : 2 * 22 : 2, ::2]
    np.testing.assert_allclose(first, a[10:20, 5:25])
    gap = grid[2 * 22 : 2 * 24]
    np.testing.assert_allclose(gap, 0.5)
    np.testing.assert_allclose(grid[2 * 36 :], 1.0)  # the second crop
    # The labels are drawn: dark pixels in each strip, and different text.
    strips = grid[: 2 * 12], grid[2 * 24 : 2 * 36]
    assert all(s.min() < 0.5 for s in strips)
    assert not np.array_equal(*strips)
    # Pixels stay pixels: each is repeated scale x scale times.
    np.testing.assert_array_equal(grid[::2, ::2], grid[1::2, 1::2])


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((35, 0, 10, 10), "does not fit"),
        ((0, 55, 10, 10), "does not fit"),
        ((0, 0, 0, 10), "height, width >= 1"),
        ((-1, 0, 5, 5), "top, left >= 0"),
    ],
)
def test_bad_boxes_say_what_is_wrong(crop_grid, box, message):
    with pytest.raises(ValueError, match=message):
        crop_grid([np.zeros((40, 60))], ["page"], box)


def test_mismatched_inputs(crop_grid):
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        crop_grid([np.zeros((4, 4))] * 2, ["one"], (0, 0, 2, 2))
    with pytest.raises(ValueError, match=r"'b' has shape \(5, 4\), the first \(4, 4\)"):
        crop_grid([np.zeros((4, 4)), np.zeros((5, 4))], ["a", "b"], (0, 0, 2, 2))
