"""Core behaviour of DocumentDenoiser: architecture, recipe, forms, errors, files."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from docdenoise import (
    DeviceError,
    DocumentDenoiser,
    InvalidImageError,
    ModelFileError,
    NotFittedError,
)
from docdenoise.datasets import make_dirty_documents
from docdenoise.models import ConvAutoencoder

FAST = {"epochs": 2, "batch_size": 4, "random_state": 0, "n_threads": 1}


@pytest.fixture(scope="module")
def pages():
    noisy, clean = make_dirty_documents(6, shape=(24, 32), random_state=0)
    return noisy, clean


@pytest.fixture(scope="module")
def fitted(pages):
    noisy, clean = pages
    return DocumentDenoiser(**FAST).fit(noisy, clean)


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


# --------------------------------------------------------------- reference model
def test_reference_architecture_is_pinned():
    net = ConvAutoencoder()
    assert sum(p.numel() for p in net.parameters()) == 9569
    layers = [m for m in net.modules() if not isinstance(m, (nn.Sequential, ConvAutoencoder))]
    kinds = [type(m).__name__ for m in layers]
    assert kinds == [
        "Conv2d",
        "ReLU",
        "Conv2d",
        "ReLU",
        "ConvTranspose2d",
        "ReLU",
        "ConvTranspose2d",
        "Sigmoid",
    ]
    convs = [m for m in layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(c.in_channels, c.out_channels) for c in convs] == [
        (1, 16),
        (16, 32),
        (32, 16),
        (16, 1),
    ]
    for c in convs:
        assert c.kernel_size == (3, 3) and c.stride == (2, 2) and c.padding == (1, 1)
    assert [c.output_padding for c in convs[2:]] == [(1, 1), (1, 1)]
    out = net(torch.rand(2, 1, 20, 28))
    assert out.shape == (2, 1, 20, 28)
    assert float(out.detach().min()) >= 0 and float(out.detach().max()) <= 1


def test_defaults_are_the_reference_recipe(pages):
    params = DocumentDenoiser().get_params()
    assert params["model"] == "cae"
    assert (params["epochs"], params["batch_size"], params["lr"]) == (64, 16, 1e-3)
    assert (params["optimizer"], params["loss"]) == ("adam", "mse")
    den = DocumentDenoiser(epochs=1).fit(*pages)
    assert isinstance(den.module_, ConvAutoencoder)
    assert isinstance(den.optimizer_, torch.optim.Adam)
    assert den.optimizer_.param_groups[0]["lr"] == 1e-3


# --------------------------------------------------------------- learning
@pytest.mark.slow
def test_training_cleans_unseen_pages_well_below_the_noise():
    noisy, clean = make_dirty_documents(12, shape=(48, 64), random_state=0)
    test_noisy, test_clean = make_dirty_documents(6, shape=(48, 64), random_state=1)
    den = DocumentDenoiser(
        epochs=100, lr=1e-2, batch_size=4, validation_fraction=0, random_state=0, n_threads=1
    ).fit(noisy, clean)
    before = rmse(test_noisy, test_clean)
    after = -den.score(test_noisy, test_clean)
    assert after < 0.7 * before
    assert den.history_[-1]["train_loss"] < 0.5 * den.history_[0]["train_loss"]


def test_history_records_every_epoch(pages):
    den = DocumentDenoiser(**{**FAST, "epochs": 3}).fit(*pages)
    assert [r["epoch"] for r in den.history_] == [1, 2, 3]
    for rec in den.history_:
        assert np.isfinite(rec["train_loss"]) and np.isfinite(rec["valid_loss"])
        assert rec["dur"] >= 0
    no_val = DocumentDenoiser(**FAST, validation_fraction=0).fit(*pages)
    assert all(np.isnan(r["valid_loss"]) for r in no_val.history_)


def test_fixed_random_state_is_reproducible(pages):
    a = DocumentDenoiser(**FAST).fit(*pages).transform(pages[0])
    b = DocumentDenoiser(**FAST).fit(*pages).transform(pages[0])
    c = DocumentDenoiser(**{**FAST, "random_state": 1}).fit(*pages).transform(pages[0])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_does_not_touch_the_global_torch_rng(pages):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DocumentDenoiser(**FAST).fit(*pages)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_group_split_keeps_each_group_on_one_side():
    den = DocumentDenoiser(validation_fraction=0.25)
    groups = np.repeat(np.arange(8), 3)
    train_idx, val_idx = den._split(len(groups), groups, seed=0)
    assert len(val_idx) > 0
    assert not set(groups[train_idx]) & set(groups[val_idx])
    assert sorted(np.concatenate([train_idx, val_idx])) == list(range(24))


# --------------------------------------------------------------- forms and shapes
def test_list_of_mixed_sizes_keeps_form_and_shapes(pages):
    noisy, clean = pages
    rng = np.random.default_rng(0)
    X = [rng.random((h, w), dtype=np.float32) for h, w in [(1, 1), (3, 5), (17, 9), (24, 32)]]
    den = DocumentDenoiser(**FAST).fit(
        [noisy[0], noisy[1][:13, :21]], [clean[0], clean[1][:13, :21]]
    )
    out = den.transform(X)
    assert isinstance(out, list)
    assert [o.shape for o in out] == [x.shape for x in X]
    assert all(o.dtype == np.float32 and o.min() >= 0 and o.max() <= 1 for o in out)


def test_array_forms_round_trip(fitted, pages):
    noisy, _ = pages
    out3 = fitted.transform(noisy)
    assert isinstance(out3, np.ndarray) and out3.shape == noisy.shape
    flat = DocumentDenoiser(**FAST, image_shape=(24, 32)).fit(
        noisy.reshape(6, -1), pages[1].reshape(6, -1)
    )
    out2 = flat.transform(noisy.reshape(6, -1))
    assert out2.shape == (6, 24 * 32)
    assert flat.n_features_in_ == 24 * 32
    assert not hasattr(fitted, "n_features_in_")


def test_uint8_and_float_inputs_give_the_same_result(fitted, pages):
    img8 = (pages[0][0] * 255).round().astype(np.uint8)
    np.testing.assert_allclose(
        fitted.transform([img8])[0], fitted.transform([img8 / np.float32(255)])[0], atol=1e-6
    )


def test_transform_batches_by_size_in_input_order(fitted, pages):
    noisy = pages[0]
    X = [noisy[0], noisy[1][:10, :12], noisy[2], noisy[3][:10, :12]]
    together = fitted.transform(X)
    alone = [fitted.transform([x])[0] for x in X]
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a, b, atol=1e-6)


# --------------------------------------------------------------- errors
def test_unfitted_use_is_refused(pages):
    den = DocumentDenoiser()
    for call in (lambda: den.transform(pages[0]), lambda: den.score(*pages), lambda: den.save("x")):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((3, 8, 8)), np.zeros((2, 8, 8)), "same number of images: got 3 noisy and 2"),
        (
            np.zeros((2, 8, 8)),
            np.zeros((2, 8, 9)),
            r"noisy shape \(8, 8\) differs from clean shape \(8, 9\)",
        ),
        ([np.full((4, 4), np.nan)], [np.zeros((4, 4))], "NaN or infinity"),
        ([np.full((4, 4), np.inf)], [np.zeros((4, 4))], "NaN or infinity"),
        (np.zeros((2, 8, 8)) + 1.5, np.zeros((2, 8, 8)), r"float images must lie in \[0, 1\]"),
        (np.zeros((2, 8, 8)) - 0.1, np.zeros((2, 8, 8)), r"float images must lie in \[0, 1\]"),
        ([], [], "empty"),
        (np.zeros(5), np.zeros(5), "1D array|1-D array"),
        (np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 8, 8)), "4 dimensions"),
        ([np.zeros((4, 4, 3))], [np.zeros((4, 4))], "2-D grayscale image"),
        ([np.zeros((0, 4))], [np.zeros((0, 4))], "empty"),
        ("page.png", "clean.png", "got str"),
        (None, np.zeros((2, 8, 8)), "got NoneType"),
        (np.zeros((2, 8, 8)), None, "requires y to be passed"),
        (np.zeros((2, 8, 8)), np.zeros(2), "y must hold clean target images"),
        (np.zeros((2, 3, 100), np.int32) + 300, np.zeros((2, 3, 100)), "8-bit grey levels"),
    ],
)
def test_bad_fit_input_gets_a_clear_error(X, y, match):
    with pytest.raises(InvalidImageError, match=match):
        DocumentDenoiser(**FAST).fit(X, y)


def test_flattened_form_checks_image_shape_and_feature_count(fitted):
    with pytest.raises(InvalidImageError, match=r"image_shape=\(5, 5\) needs 25"):
        DocumentDenoiser(**FAST, image_shape=(5, 5)).fit(np.zeros((2, 24)), np.zeros((2, 24)))
    flat = DocumentDenoiser(**FAST, image_shape=(4, 6)).fit(np.zeros((2, 24)), np.zeros((2, 24)))
    with pytest.raises(ValueError, match="X has 12 features, but DocumentDenoiser is expecting 24"):
        flat.set_params(image_shape="rows").transform(np.zeros((2, 12)))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1"),
        ({"batch_size": -1}, "batch_size must be an integer >= 1"),
        ({"lr": 0}, "lr must be a float > 0"),
        ({"lr": "fast"}, "lr must be a float > 0"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be a float in \[0, 1\)"),
        ({"model": "resnet-9000"}, r"model must be one of \[.*\].*got 'resnet-9000'"),
        (
            {"model": 42},
            r"model must be one of \[.*'cae'.*\] or a torch.nn.Module subclass, got 42",
        ),
        (
            {"optimizer": "adagrad"},
            r"optimizer must be one of \['adam', 'adamw', 'rmsprop', 'sgd'\] or a "
            r"torch.optim.Optimizer subclass, got 'adagrad'",
        ),
        ({"loss": "cross_entropy"}, r"loss must be one of \['huber', 'l1', 'mse', 'smooth_l1'\]"),
        ({"image_shape": (3,)}, "image_shape must be None, 'rows' or two integers"),
        ({"out_of_range": "ignore"}, "out_of_range must be 'raise' or 'clip'"),
        ({"module__depth": 3}, "Cannot build model ConvAutoencoder"),
        ({"optimizer__momentum_typo": 0.9}, "Cannot build optimizer Adam"),
    ],
)
def test_bad_parameters_get_a_clear_error_at_fit(pages, params, match):
    den = DocumentDenoiser(**{**FAST, **params})  # __init__ validates nothing
    with pytest.raises(ValueError, match=match):
        den.fit(*pages)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        DocumentDenoiser(epoch=3)


def test_out_of_range_clip_is_documented_conversion():
    den = DocumentDenoiser(**FAST, out_of_range="clip")
    den.fit(np.full((2, 8, 8), 1.7), np.ones((2, 8, 8)))
    assert den.transform(np.full((1, 8, 8), -3.0)).shape == (1, 8, 8)


# --------------------------------------------------------------- devices
def test_auto_device_uses_what_exists(fitted):
    assert fitted.device_.type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        assert fitted.device_.type in {"cpu", "mps"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_names_the_available_ones(pages):
    with pytest.raises(DeviceError, match=r"available devices: \['cpu'"):
        DocumentDenoiser(**FAST, device="cuda").fit(*pages)
    with pytest.raises(DeviceError, match="Unknown device 'gpu-please'"):
        DocumentDenoiser(**FAST, device="gpu-please").fit(*pages)


# --------------------------------------------------------------- persistence
def test_save_load_gives_identical_outputs(fitted, pages, tmp_path):
    path = tmp_path / "model.safetensors"
    fitted.save(path)
    loaded = DocumentDenoiser.load(path)
    np.testing.assert_array_equal(loaded.transform(pages[0]), fitted.transform(pages[0]))
    assert loaded.get_params()["epochs"] == fitted.epochs
    assert [r["epoch"] for r in loaded.history_] == [r["epoch"] for r in fitted.history_]
    assert not list(tmp_path.glob("*.tmp"))


def test_save_load_keeps_nested_parameters(pages, tmp_path):
    den = DocumentDenoiser(**FAST, module__channels=(4, 8), optimizer__weight_decay=1e-4).fit(
        *pages
    )
    den.save(tmp_path / "m.safetensors")
    loaded = DocumentDenoiser.load(tmp_path / "m.safetensors")
    assert loaded.module_.channels == (4, 8)
    assert loaded.get_params()["optimizer__weight_decay"] == 1e-4
    np.testing.assert_array_equal(loaded.transform(pages[0]), den.transform(pages[0]))


def test_load_refuses_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "notes.safetensors"
    bogus.write_text("hello, I am not a model")
    with pytest.raises(ModelFileError, match="not a docdenoise model"):
        DocumentDenoiser.load(bogus)


@pytest.mark.parametrize(("dump", "load"), [(pickle.dumps, pickle.loads), (None, None)])
def test_pickle_and_joblib_round_trip(fitted, pages, tmp_path, dump, load):
    if dump is None:
        joblib.dump(fitted, tmp_path / "m.joblib")
        restored = joblib.load(tmp_path / "m.joblib")
    else:
        restored = load(dump(fitted))
    np.testing.assert_array_equal(restored.transform(pages[0]), fitted.transform(pages[0]))
    assert next(restored.module_.parameters()).device.type == fitted.device_.type
    assert isinstance(fitted.device_, torch.device)  # pickling left the original alone
    assert next(fitted.module_.parameters()).device == fitted.device_


def test_clone_gives_an_unfitted_copy_with_the_same_params(fitted):
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "module_")
