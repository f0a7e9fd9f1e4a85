"""Tests of test-time augmentation (``tta``): averaging over flips/rotations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from docdenoise import DocumentDenoiser
from docdenoise._geometry import dihedral
from docdenoise._inference import (
    TTA_SHIFTS,
    TTA_TRANSFORMS,
    check_tta,
    predict_images,
)
from docdenoise._torch_engine import TorchNetwork
from docdenoise.datasets import make_dirty_documents
from docdenoise.models import ResidualUNet

CPU = torch.device("cpu")


def _random_unet(seed: int = 0) -> ResidualUNet:
    """A small U-Net with random weights everywhere (no flip symmetry at all)."""
    torch.manual_seed(seed)
    net = ResidualUNet(channels=(4, 8, 8, 8))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    return net.eval()


def _numpy_dihedral(image: np.ndarray, k: int, inverse: bool = False) -> np.ndarray:
    return dihedral(torch.from_numpy(image), k, inverse=inverse).contiguous().numpy()


@pytest.fixture(scope="module")
def den():
    noisy, clean = make_dirty_documents(4, shape=(32, 48), random_state=0)
    est = DocumentDenoiser(
        "unet", module__channels=(4, 4, 8, 8), epochs=1, batch_size=4, random_state=0
    )
    est.fit(noisy, clean)
    with torch.no_grad():  # break the near-identity of a one-epoch U-Net
        for p in est.module_.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return est


def test_tta_levels_are_nested_distinct_views():
    assert sorted(TTA_TRANSFORMS) == [1, 2, 4, 8, 16, 32]
    assert set(TTA_SHIFTS) <= set(TTA_TRANSFORMS)
    for n, ks in TTA_TRANSFORMS.items():
        shifts = TTA_SHIFTS.get(n, ((0, 0),))
        assert len(set(ks)) * len(set(shifts)) == n and ks[0] == 0 and shifts[0] == (0, 0)
    assert set(TTA_TRANSFORMS[2]) <= set(TTA_TRANSFORMS[4]) <= set(TTA_TRANSFORMS[8])
    assert set(TTA_SHIFTS[16]) <= set(TTA_SHIFTS[32])


@pytest.mark.parametrize(
    ("value", "count"), [(False, 1), (True, 8), (1, 1), (2, 2), (4, 4), (16, 16), (32, 32)]
)
def test_check_tta_accepts_bools_and_levels(value, count):
    assert check_tta(value) == count
    assert check_tta(np.int64(8)) == 8


@pytest.mark.parametrize("value", [0, 3, 64, -1, 2.0, "8", None])
def test_bad_tta_is_refused_with_a_clear_message(den, value):
    with pytest.raises(ValueError, match=r"tta must be a bool or one of 1, 2, 4, 8, 16, 32, got"):
        check_tta(value)
    noisy, clean = make_dirty_documents(2, shape=(16, 16), random_state=1)
    with pytest.raises(ValueError, match="tta must be"):
        DocumentDenoiser(tta=value, epochs=1).fit(noisy, clean)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_tta_is_the_mean_of_the_flipped_predictions(n):
    """On sizes needing no padding, tta=n equals averaging n flipped runs by hand."""
    net = _random_unet()
    pages = [np.random.default_rng(i).random((32, 48), dtype=np.float32) for i in range(3)]

    def predict(images, tta=1):
        return predict_images(TorchNetwork(net, CPU), images, batch_size=4, tile_size=None, tta=tta)

    expected = [np.zeros_like(p) for p in pages]
    for k in TTA_TRANSFORMS[n]:
        outs = predict([_numpy_dihedral(p, k) for p in pages])
        for acc, out in zip(expected, outs):
            acc += _numpy_dihedral(out, k, inverse=True) / n
    got = predict(pages, tta=n)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)
    plain = predict(pages)
    assert max(float(np.abs(g - p).max()) for g, p in zip(got, plain)) > 1e-3


@pytest.mark.parametrize("n", [16, 32])
def test_shifted_tta_is_the_mean_over_moved_pages(n):
    """tta=16/32: tta=8 on the page moved by each offset (edge values fill in), moved back."""
    net = _random_unet(1)
    pages = [np.random.default_rng(i).random((29, 40), dtype=np.float32) for i in range(2)]

    def predict(images, tta):
        return predict_images(TorchNetwork(net, CPU), images, batch_size=4, tile_size=None, tta=tta)

    expected = [np.zeros_like(p) for p in pages]
    for dy, dx in TTA_SHIFTS[n]:
        moved = [np.pad(p, ((dy, 0), (dx, 0)), mode="edge") for p in pages]
        for acc, out in zip(expected, predict(moved, 8)):
            acc += out[dy:, dx:] / len(TTA_SHIFTS[n])
    got = predict(pages, n)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == np.float32 and g.flags.c_contiguous
        np.testing.assert_allclose(g, e, atol=1e-5)
    assert max(float(np.abs(g - p).max()) for g, p in zip(got, predict(pages, 8))) > 1e-4


def test_tta_off_is_bitwise_the_plain_transform(den):
    noisy, _ = make_dirty_documents(3, shape=(30, 41), random_state=2)
    plain = den.transform(noisy)
    assert np.array_equal(den.set_params(tta=False).transform(noisy), plain)
    assert np.array_equal(den.set_params(tta=1).transform(noisy), plain)


@pytest.mark.parametrize("tta", [8, 32])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (30, 41), (17, 64)])
def test_tta_keeps_shape_dtype_and_range_on_any_size(den, shape, tta):
    img = np.random.default_rng(0).random(shape, dtype=np.float32)
    den.set_params(tta=tta)
    try:
        (out,) = den.transform([img])
        streamed = list(den.iter_transform([img]))
    finally:
        den.set_params(tta=False)
    assert out.shape == shape and out.dtype == np.float32
    assert np.isfinite(out).all() and 0.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_allclose(streamed[0], out, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("tta", [4, 16])
def test_tta_with_tiles_matches_tta_on_the_whole_page(den, tta):
    """Tiles and TTA commute: each tile is averaged over the same flips and offsets."""
    (page,) = make_dirty_documents(1, shape=(300, 260), random_state=3)[0]
    den.set_params(tta=tta)
    try:
        whole = den.set_params(tile_size=None).transform([page])[0]
        tiled = den.set_params(tile_size=64).transform([page])[0]
    finally:
        den.set_params(tta=False, tile_size="auto")
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_tta_survives_save_and_load(den, tmp_path):
    path = tmp_path / "m.safetensors"
    den.set_params(tta=4)
    try:
        den.save(path)
    finally:
        den.set_params(tta=False)
    assert DocumentDenoiser.load(path).tta == 4
