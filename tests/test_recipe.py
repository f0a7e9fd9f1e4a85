"""Tests of the training recipe options and of the shipped pretrained model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from docdenoise import DocumentDenoiser, pretrained_models
from docdenoise._geometry import dihedral
from docdenoise._training import (
    PatchSampler,
    TrainSettings,
    _augment_input,
    _lr_factor,
    evaluate_loss,
    make_buckets,
    train,
)
from docdenoise.datasets import make_dirty_documents


class Affine(nn.Module):
    """A pixel-wise network (1x1 convolution): it can only fit aligned pairs."""

    size_multiple = 1
    receptive_margin = 0

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


@pytest.fixture(scope="module")
def pages():
    return make_dirty_documents(6, shape=(24, 32), random_state=0)


def tiny_unet(**params):
    return DocumentDenoiser(
        "unet", batch_size=4, random_state=0, module__channels=(4, 4, 4, 4), **params
    )


def test_defaults_are_the_reference_recipe():
    params = DocumentDenoiser().get_params()
    assert params["model"] == "cae" and params["epochs"] == 64 and params["batch_size"] == 16
    assert params["lr"] == 1e-3 and params["optimizer"] == "adam" and params["loss"] == "mse"
    assert params["patch_size"] is None and params["augment"] is False
    assert params["lr_schedule"] is None and params["early_stopping"] is False
    assert params["max_time"] is None


def test_patch_training_mixes_page_sizes(pages):
    noisy, clean = pages
    X = [noisy[0], noisy[1][:20, :30], noisy[2][:10, :12]]  # one smaller than a patch
    Y = [clean[0], clean[1][:20, :30], clean[2][:10, :12]]
    den = tiny_unet(epochs=2, patch_size=16, patches_per_image=5, validation_fraction=0)
    den.fit(X, Y)
    assert len(den.history_) == 2 and all(math.isfinite(r["train_loss"]) for r in den.history_)
    assert [o.shape for o in den.transform(X)] == [x.shape for x in X]


def test_patch_sampler_crops_aligned_pairs_of_the_right_size():
    X = [np.arange(30 * 40, dtype=np.float32).reshape(30, 40) / 1200]
    sampler = PatchSampler(
        X, [x * 0.5 for x in X], patch_size=16, patches_per_image=7, device=torch.device("cpu")
    )
    batches = list(sampler.batches(4, torch.Generator().manual_seed(0)))
    assert [len(x) for x, _ in batches] == [4, 3]
    for x, y in batches:
        assert x.shape[1:] == (1, 16, 16)
        torch.testing.assert_close(y, x * 0.5)


def test_patch_size_is_rounded_up_to_the_size_multiple(pages):
    den = tiny_unet(epochs=1, patch_size=10, validation_fraction=0)
    data = den._training_data(list(pages[0]), list(pages[1]), 16, torch.device("cpu"))
    assert data.patch_size == 16


def test_augmentation_keeps_output_aligned_with_input():
    x = torch.rand(8, 1, 16, 24) * 0.8 + 0.1
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):  # what training does, with an identity network: gain * x, pixel by pixel
        augmented, k = _augment_input(x, gen)
        ratio = dihedral(augmented, k, inverse=True) / x
        per_image = ratio.flatten(1)
        torch.testing.assert_close(per_image, per_image[:, :1].expand_as(per_image))
        assert 0.9 <= float(ratio.min()) and float(ratio.max()) <= 1.05 + 1e-6


def test_flips_only_augmentation_keeps_brightness_and_the_same_flips():
    x = torch.rand(4, 1, 16, 24)
    gen_all, gen_flips = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    for _ in range(6):
        out, k = _augment_input(x, gen_flips, gain=False)
        gained, k_all = _augment_input(x, gen_all)
        assert k == k_all  # same random stream: the seed gives the same flips
        torch.testing.assert_close(out, dihedral(x, k))
        assert not torch.equal(gained, out)


@pytest.mark.parametrize("augment", [True, "flips"])
def test_augmented_training_fits_a_pixelwise_map(augment):
    """Misaligned pairs could not be fitted by a 1x1 convolution."""
    rng = np.random.default_rng(0)
    X = rng.random((8, 16, 16), dtype=np.float32) * 0.5 + 0.25
    den = DocumentDenoiser(
        Affine,
        epochs=30,
        batch_size=2,
        lr=0.05,
        augment=augment,
        validation_fraction=0,
        random_state=0,
    )
    den.fit(X, 1 - X)
    # floor from the brightness gain ~5e-4 (none with "flips"); flipped targets
    # would leave ~2e-2
    assert den.history_[-1]["train_loss"] < 8e-3 < den.history_[0]["train_loss"]


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_schedule_changes_the_learning_rate(pages, schedule):
    den = tiny_unet(epochs=4, lr=1e-2, lr_schedule=schedule, validation_fraction=0)
    lrs = [r["lr"] for r in den.fit(*pages).history_]
    if schedule == "cosine":
        assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 1e-2
    else:
        assert max(lrs) <= 1e-2 and lrs[0] < max(lrs)


def test_lr_factor_shapes():
    assert _lr_factor("cosine", 0.0) == 1.0 and _lr_factor("cosine", 1.0) == pytest.approx(0)
    assert _lr_factor("onecycle", 0.0) == pytest.approx(0.04)
    assert _lr_factor("onecycle", 0.3) == pytest.approx(1.0)


def test_plateau_halves_the_rate_when_stuck():
    X = np.full((2, 8, 8), 0.5, dtype=np.float32)
    den = DocumentDenoiser(
        Affine, epochs=12, lr=1e-6, lr_schedule="plateau", validation_fraction=0, random_state=0
    ).fit(X, X)
    lrs = [r["lr"] for r in den.history_]
    assert lrs[0] == 1e-6 and lrs[-1] < 1e-6


def test_no_schedule_keeps_the_rate(pages):
    den = tiny_unet(epochs=2, validation_fraction=0).fit(*pages)
    assert [r["lr"] for r in den.history_] == [1e-3, 1e-3]


def test_early_stopping_stops_and_restores_best():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.random((4, 8, 8), dtype=np.float32)
    train_b = make_buckets(
        list(X[:2]), list(1 - X[:2]), size_multiple=1, device=torch.device("cpu")
    )
    valid_b = make_buckets(list(X[2:]), list(X[2:]), size_multiple=1, device=torch.device("cpu"))
    module = Affine()
    criterion = nn.MSELoss()
    # learning y = 1 - x on training pairs makes the validation loss (y = x) worse
    history = train(
        module,
        torch.optim.SGD(module.parameters(), lr=0.5),
        criterion,
        train_b,
        valid_b,
        TrainSettings(epochs=50, batch_size=2, early_stopping=True, n_iter_no_change=3),
        generator=torch.Generator().manual_seed(0),
    )
    valid = [r["valid_loss"] for r in history]
    assert len(history) < 50
    assert evaluate_loss(module, criterion, valid_b, 2) == pytest.approx(min(valid))
    assert min(valid) < valid[-1]


def test_early_stopping_through_the_estimator(pages):
    den = tiny_unet(epochs=30, early_stopping=True, n_iter_no_change=1, tol=0.9)
    den.fit(*pages)
    assert len(den.history_) == 2  # nothing improves by 90 %


def test_max_time_stops_training(pages):
    den = tiny_unet(epochs=500, max_time=1e-3).fit(*pages)
    assert len(den.history_) == 1


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"patch_size": 0}, "patch_size must be None or an integer >= 1, got 0"),
        ({"patches_per_image": 0}, "patches_per_image must be an integer >= 1"),
        ({"lr_schedule": "step"}, "lr_schedule must be None or one of"),
        ({"augment": "yes"}, "augment must be a bool or 'flips', got 'yes'"),
        ({"augment": "FLIPS"}, "augment must be a bool or 'flips'"),
        ({"early_stopping": 1}, "early_stopping must be a bool"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be an integer >= 1"),
        ({"tol": -0.1}, r"tol must be a float in \[0, 1\)"),
        ({"max_time": 0}, "max_time must be None or a number of seconds > 0"),
    ],
)
def test_recipe_parameters_are_validated(pages, params, match):
    with pytest.raises(ValueError, match=match):
        DocumentDenoiser(epochs=1, **params).fit(*pages)


# ---------------------------------------------------------------- pretrained model


def test_pretrained_model_is_shipped():
    assert "default" in pretrained_models()


def test_pretrained_unknown_name():
    with pytest.raises(ValueError, match="Unknown pretrained model 'nope'"):
        DocumentDenoiser.pretrained("nope")


def test_pretrained_loads_and_cleans():
    noisy, clean = make_dirty_documents(3, shape=(96, 128), random_state=123)
    den = DocumentDenoiser.pretrained()
    assert den.model == "affine-unet" and den.warm_start is True
    before = float(np.sqrt(np.mean((noisy - clean) ** 2)))
    assert -den.score(noisy, clean) < 0.7 * before


@pytest.mark.parametrize("name", ["default", "varied"])
def test_pretrained_models_carry_the_documented_fine_tuning_defaults(name):
    # the model card's *Fine-tuning* section (what fine-tuned best on real pairs)
    den = DocumentDenoiser.pretrained(name)
    params = {k: den.get_params()[k] for k in ("patch_size", "batch_size", "lr", "augment")}
    assert params == {"patch_size": 128, "batch_size": 4, "lr": 2e-3, "augment": "flips"}
    assert den.warm_start is True and den.patches_per_image == 8


@pytest.mark.parametrize("name", ["default", "varied"])
def test_pretrained_models_keep_faint_text(name):
    # faded print is text, not dirt: a model trained only on dark, crisp scans
    # erased half of it (v4, see the model card); the shipped ones keep most
    noisy, clean = make_dirty_documents(
        4,
        shape=(128, 256),
        random_state=7,
        degradations=["paper", "fade", "shadows", "noise", "blur"],
        clean_ink="black",
    )
    out = np.asarray(DocumentDenoiser.pretrained(name).transform(noisy))
    ink = clean < 0.5
    assert np.mean(out[ink] < 0.5) > 0.7
    assert np.sqrt(np.mean((out - clean) ** 2)) < 0.45 * np.sqrt(np.mean((noisy - clean) ** 2))


def test_pretrained_can_be_fine_tuned():
    noisy, clean = make_dirty_documents(4, shape=(48, 64), random_state=7)
    den = DocumentDenoiser.pretrained()
    n_before = len(den.history_)
    weights = {k: v.clone() for k, v in den.module_.state_dict().items()}
    den.set_params(epochs=1, patch_size=32, patches_per_image=1, max_time=None)
    den.fit(noisy, clean)
    assert len(den.history_) == n_before + 1
    changed = [k for k, v in den.module_.state_dict().items() if not torch.equal(v, weights[k])]
    assert changed  # training continued from the shipped weights ...
    diff = max(float((v - weights[k]).abs().max()) for k, v in den.module_.state_dict().items())
    assert diff < 0.05  # ... rather than starting from a new initialisation
