"""Inference: tiling equals whole-page inference, batching by size, streaming, layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from docdenoise import DocumentDenoiser
from docdenoise._inference import (
    iter_predict,
    plan_tiles,
    predict_images,
    resolve_tile_size,
)
from docdenoise._torch_engine import TorchNetwork, inference_module
from docdenoise.models import available_models, get_model_class, network_contract

CPU = torch.device("cpu")

# Small but real networks with random weights (the U-Net's last layer starts at
# zero, which would make it the identity and every comparison trivially true).
SMALL_KWARGS = {
    "unet": {"channels": (4, 8, 8, 8)},
    "affine-unet": {"channels": (4, 8, 8, 8)},
}


def _network(name: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    module = get_model_class(name)(**SMALL_KWARGS.get(name, {}))
    with torch.no_grad():
        for p in module.parameters():
            if not p.any():
                p.copy_(torch.randn_like(p) * 0.05)
    return module.eval()


def _predict(module, images, tile_size, batch_size=4):
    return predict_images(
        TorchNetwork(module, CPU), images, batch_size=batch_size, tile_size=tile_size
    )


def _page(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


@pytest.mark.parametrize("name", available_models())
def test_receptive_margin_is_a_true_bound(name):
    # Changing every input pixel farther than receptive_margin from an output
    # pixel (in either direction) must leave that output pixel unchanged.
    module = _network(name)
    margin, multiple = module.receptive_margin, module.size_multiple
    size = -(-(2 * margin + 3 * multiple) // multiple) * multiple
    x = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(1))
    y = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(2))
    c = size // 2 + 1  # odd position: not aligned with the stride grid
    keep = torch.zeros_like(x, dtype=torch.bool)
    keep[..., c - margin : c + margin + 1, c - margin : c + margin + 1] = True
    with torch.inference_mode():
        a = module(x)[0, 0, c, c]
        b = module(torch.where(keep, x, y))[0, 0, c, c]
        # ... and the bound is not vacuous: the centre pixel does depend on x.
        moved = module(torch.where(keep, y, x))[0, 0, c, c]
    assert float(abs(a - b)) < 1e-6
    assert float(abs(a - moved)) > 1e-6


@pytest.mark.parametrize(
    ("name", "shape", "tile"),
    [
        ("cae", (61, 97), 16),
        ("cae", (130, 45), 32),
        ("cae", (33, 200), 20),  # tile rounded up to the size multiple
        ("unet", (211, 149), 64),
        ("affine-unet", (211, 149), 64),
        ("affine-unet", (100, 261), 48),
    ],
)
def test_tiled_equals_whole_page(name, shape, tile):
    module = _network(name)
    page = _page(shape)
    whole = _predict(module, [page], tile_size=None)[0]
    tiled = _predict(module, [page], tile_size=tile)[0]
    assert tiled.shape == shape and tiled.dtype == np.float32
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)
    # The whole-page path really differs from a naive crop-without-margin tiling.
    naive = np.empty_like(whole)
    step = resolve_tile_size(tile, network_contract(module))[0]
    for r in range(0, shape[0], step):
        for c in range(0, shape[1], step):
            naive[r : r + step, c : c + step] = _predict(
                module, [np.ascontiguousarray(page[r : r + step, c : c + step])], None
            )[0]
    assert np.abs(naive - whole).max() > 1e-4


def test_auto_tiling_bounds_the_forward_pass_size():
    module = _network("cae")
    tile, margin, largest = resolve_tile_size("auto", network_contract(module))
    assert largest >= 540  # Kaggle pages (420x540) run whole
    page = _page((largest + 37, tile + 3 * margin + 5), seed=3)
    seen = []
    fast = inference_module(module, CPU)
    fast.register_forward_hook(lambda m, inp, out: seen.append(tuple(inp[0].shape)))
    auto = predict_images(
        TorchNetwork(fast, CPU, prepared=True), [page], batch_size=4, tile_size="auto"
    )[0]
    whole = _predict(module, [page], tile_size=None)[0]
    np.testing.assert_allclose(auto, whole, atol=1e-5, rtol=0)
    assert len(seen) > 1
    assert max(h for _, _, h, _ in seen) <= tile + 2 * margin
    assert max(w for _, _, _, w in seen) <= tile + 2 * margin


@pytest.mark.parametrize("shape", [(5, 7), (1, 1), (40, 3), (64, 64)])
def test_images_smaller_than_a_tile(shape):
    module = _network("cae")
    page = _page(shape, seed=4)
    whole = _predict(module, [page], tile_size=None)[0]
    tiled = _predict(module, [page], tile_size=64)[0]
    assert tiled.shape == shape
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)
    assert len(plan_tiles(*shape, tile=64, margin=8, multiple=4)) == 1


@pytest.mark.parametrize(
    ("h", "w", "tile", "margin", "multiple"), [(61, 97, 16, 8, 4), (300, 17, 64, 112, 16)]
)
def test_plan_tiles_cover_the_page_once_on_the_grid(h, w, tile, margin, multiple):
    count = np.zeros((h, w), dtype=int)
    plan = plan_tiles(h, w, tile=tile, margin=margin, multiple=multiple)
    for rows, cols, core_rows, core_cols in plan:
        count[core_rows, core_cols] += 1
        for outer, core in ((rows, core_rows), (cols, core_cols)):
            assert outer.start % multiple == 0 and (outer.stop - outer.start) % multiple == 0
            assert outer.start <= core.start and core.stop <= outer.stop
            # a margin of context on each side, unless clipped by the page
            assert core.start - outer.start in (margin, core.start)
    assert (count == 1).all()


def test_batching_by_size_preserves_order_and_shapes():
    module = _network("cae")
    shapes = [(20, 24), (9, 13), (20, 24), (31, 7), (9, 13), (20, 24), (20, 24), (20, 24)]
    images = [_page(s, seed=i) for i, s in enumerate(shapes)]
    one_by_one = [_predict(module, [img], tile_size=None)[0] for img in images]
    for batch_size in (1, 3, 16):
        out = _predict(module, images, tile_size="auto", batch_size=batch_size)
        assert [o.shape for o in out] == shapes
        for got, want in zip(out, one_by_one):
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
            assert got.min() >= 0 and got.max() <= 1


def test_iter_predict_is_lazy_and_matches_predict_images():
    module = _network("cae")
    images = [_page((24 + i % 3, 32), seed=i) for i in range(10)]
    pulled = []

    def stream():
        for i, img in enumerate(images):
            pulled.append(i)
            yield img

    results = iter_predict(TorchNetwork(module, CPU), stream(), batch_size=3)
    first = next(results)
    assert len(pulled) == 3  # one window of batch_size images, not the whole stream
    rest = list(results)
    expected = _predict(module, images, tile_size="auto")
    for got, want in zip([first, *rest], expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


def test_channels_last_copy_leaves_the_module_alone_and_matches():
    module = _network("cae")
    module.train()
    fast = inference_module(module, CPU)
    assert module.training and not fast.training
    assert all(p.is_contiguous() for p in module.parameters())
    x = torch.rand(2, 1, 24, 36)
    with torch.inference_mode():
        a = module.eval()(x)
        b = fast(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    noisy = rng.random((6, 40, 52), dtype=np.float32)
    clean = (noisy > 0.5).astype(np.float32)
    return DocumentDenoiser(epochs=1, tile_size=16, random_state=0).fit(noisy, clean), noisy


def test_estimator_tile_size_does_not_change_results(fitted):
    den, noisy = fitted
    tiled = den.transform(noisy)
    whole = den.set_params(tile_size=None).transform(noisy)
    den.set_params(tile_size=16)
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)


def test_iter_transform_streams_a_generator(fitted):
    den, noisy = fitted
    pages = ((page * 255).astype(np.uint8) for page in noisy)
    out = list(den.iter_transform(pages))
    want = den.transform([(page * 255).astype(np.uint8) for page in noisy])
    assert len(out) == len(want)
    for got, exp in zip(out, want):
        np.testing.assert_allclose(got, exp, atol=1e-6, rtol=0)


def test_iter_transform_checks_each_image(fitted):
    den, _ = fitted
    with pytest.raises(ValueError, match=r"X\[1\].*\[0, 1\]"):
        list(den.iter_transform([np.zeros((8, 8)), np.full((8, 8), 2.0)]))
    with pytest.raises(ValueError, match="iterable of 2-D images"):
        den.iter_transform(np.zeros((8, 8)))  # at the call, not at the first image
    with pytest.raises(TypeError, match="not iterable"):
        den.iter_transform(3)


def test_iter_transform_needs_a_fitted_estimator():
    from docdenoise import NotFittedError

    with pytest.raises(NotFittedError):
        DocumentDenoiser().iter_transform([np.zeros((8, 8))])


@pytest.mark.parametrize("bad", [0, -3, 1.5, "big", True])
def test_invalid_tile_size(bad):
    rng = np.random.default_rng(0)
    X = rng.random((2, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="tile_size must be None, 'auto' or an integer >= 1"):
        DocumentDenoiser(epochs=1, tile_size=bad).fit(X, X)


# --------------------------------------------------------------------- training speed
@pytest.mark.parametrize("augment", [False, True])
def test_chunked_backward_gives_the_batch_gradients(monkeypatch, augment):
    from docdenoise import _training

    def grads(pixels_per_chunk):
        monkeypatch.setattr(_training, "PIXELS_PER_CHUNK", pixels_per_chunk)
        module = _network("cae").train()
        x = torch.rand(5, 1, 16, 20, generator=torch.Generator().manual_seed(0))
        y = torch.rand(5, 1, 16, 20, generator=torch.Generator().manual_seed(1))
        gen = torch.Generator().manual_seed(2) if augment else None
        loss = _training._backward(module, torch.nn.MSELoss(), x, y, 15, 19, gen)
        return loss, [p.grad.clone() for p in module.parameters()]

    loss_whole, whole = grads(10**9)
    loss_chunked, chunked = grads(16 * 20 * 2)  # chunks of 2, 2 and 1 images
    assert abs(loss_whole - loss_chunked) < 1e-6
    for a, b in zip(whole, chunked, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_no_chunks_where_they_would_change_the_gradients():
    from docdenoise._training import _chunk_size

    x = torch.rand(16, 1, 420, 540)
    plain = _network("cae")
    assert _chunk_size(plain, torch.nn.MSELoss(), x) < 16
    assert _chunk_size(plain, torch.nn.MSELoss(reduction="sum"), x) == 16
    assert _chunk_size(plain, torch.nn.BCELoss(), x) == 16
    with_bn = torch.nn.Sequential(plain, torch.nn.BatchNorm2d(1))
    assert _chunk_size(with_bn, torch.nn.MSELoss(), x) == 16


def test_fit_returns_the_network_in_the_default_layout(fitted):
    den, _ = fitted
    assert all(p.is_contiguous() for p in den.module_.parameters())
