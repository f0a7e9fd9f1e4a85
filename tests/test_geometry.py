"""The page geometry helpers give the same result on numpy arrays and torch tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from docdenoise._geometry import (
    dihedral,
    group_by_shape,
    pad_bottom_right,
    pad_to_multiple,
    round_up,
)


@pytest.mark.parametrize("k", range(8))
def test_dihedral_inverse_and_same_on_numpy_and_torch(k):
    x = torch.rand(2, 1, 4, 6)
    assert torch.equal(dihedral(dihedral(x, k), k, inverse=True), x)
    np.testing.assert_array_equal(dihedral(x.numpy(), k), dihedral(x, k).numpy())


def test_dihedral_bits():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(dihedral(x, 1), x[::-1])
    np.testing.assert_array_equal(dihedral(x, 2), x[:, ::-1])
    np.testing.assert_array_equal(dihedral(x, 4), x.T)


@pytest.mark.parametrize("shape", [(5, 7), (3, 5, 7), (2, 1, 5, 7)])
def test_padding_repeats_the_edges_on_numpy_and_torch(shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    padded = pad_bottom_right(x, 2, 3)
    assert padded.shape == (*shape[:-2], 7, 10)
    np.testing.assert_array_equal(padded[..., :5, :7], x)
    np.testing.assert_array_equal(padded[..., 6, :7], x[..., 4, :])
    np.testing.assert_array_equal(padded[..., :5, 9], x[..., :, 6])
    np.testing.assert_array_equal(pad_bottom_right(torch.from_numpy(x), 2, 3).numpy(), padded)
    assert pad_to_multiple(x, 4).shape[-2:] == (8, 8)
    assert pad_bottom_right(x, 0, 0) is x


def test_round_up_and_group_by_shape():
    assert [round_up(v, 4) for v in (1, 4, 5)] == [4, 4, 8]
    images = [np.zeros((2, 3)), np.zeros((4, 4)), np.zeros((2, 3))]
    assert group_by_shape(images) == {(2, 3): [0, 2], (4, 4): [1]}
