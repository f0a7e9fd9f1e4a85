"""Tests of the networks: the reference autoencoder and the residual U-Net."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from docdenoise import DocumentDenoiser
from docdenoise.models import (
    AffineUNet,
    ConvAutoencoder,
    ResidualUNet,
    available_models,
    get_model_class,
)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_registry_has_the_networks():
    assert {"cae", "unet", "affine-unet"} <= set(available_models())
    assert get_model_class("unet") is ResidualUNet


@pytest.mark.parametrize(
    ("cls", "count"), [(ConvAutoencoder, 9_569), (ResidualUNet, 482_228), (AffineUNet, 482_358)]
)
def test_parameter_counts_are_pinned(cls, count):
    assert n_params(cls()) == count


def test_untrained_cae_starts_at_the_paper_level():
    """The output bias starts at logit(output_level): an untrained network returns ~paper."""
    torch.manual_seed(0)
    net = ConvAutoencoder(output_level=0.9)
    assert float(net.decoder[2].bias.detach()) == pytest.approx(np.log(0.9 / 0.1))
    with torch.no_grad():
        out = net(torch.rand(2, 1, 32, 32))
    assert abs(float(out.mean()) - 0.9) < 0.03


def test_cae_output_level_none_keeps_torch_default_init():
    torch.manual_seed(0)
    plain = ConvAutoencoder(output_level=None)
    torch.manual_seed(0)
    reference = ConvAutoencoder(output_level=0.9)
    state, ref = plain.state_dict(), reference.state_dict()
    assert all(torch.equal(state[k], ref[k]) for k in state if k != "decoder.2.bias")
    # PyTorch's default bias range for ConvTranspose2d(16, 1, 3): fan-in 1 * 3 * 3
    assert abs(float(plain.decoder[2].bias.detach())) <= 1 / 3


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 2.0])
def test_cae_rejects_output_level_outside_the_open_unit_interval(level):
    with pytest.raises(ValueError, match=r"output_level must lie in \(0, 1\)"):
        ConvAutoencoder(output_level=level)


def test_unet_class_attributes():
    assert ResidualUNet.size_multiple == 16
    assert ResidualUNet.receptive_margin == 103


@pytest.mark.parametrize("shape", [(16, 16), (32, 48), (64, 16)])
def test_unet_keeps_shape_and_range(shape):
    torch.manual_seed(0)
    net = ResidualUNet(channels=(4, 4, 8, 8))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    with torch.no_grad():
        out = net(torch.rand(2, 1, *shape))
    assert out.shape == (2, 1, *shape)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_untrained_unet_is_the_identity():
    x = torch.rand(1, 1, 32, 32)
    assert torch.equal(ResidualUNet(channels=(4, 4, 4, 4))(x), x)


def test_unet_rejects_bad_channels():
    with pytest.raises(ValueError, match="channels must be 4 positive integers"):
        ResidualUNet(channels=(8, 8))


@pytest.mark.parametrize("offset", [(0, 0), (1, 3), (7, 10)])
def test_unet_receptive_margin_is_an_upper_bound(offset):
    """No input pixel farther than receptive_margin can change an output pixel."""
    torch.manual_seed(1)
    net = ResidualUNet(channels=(2, 2, 2, 2)).double()
    with torch.no_grad():  # positive weights, no biases: no ReLU is dead, all paths count
        for p in net.parameters():
            p.copy_(torch.rand_like(p) if p.dim() > 1 else torch.zeros_like(p))
    size = 256  # a multiple of 16 wider than the receptive field
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    i, j = size // 2 + offset[0], size // 2 + offset[1]
    # the correction before clamping, so saturated outputs cannot hide a dependency
    net.correction(net.decoder_levels(x)[-1])[0, 0, i, j].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    reach = max(int((rows - i).abs().max()), int((cols - j).abs().max()))
    assert 0 < reach <= ResidualUNet.receptive_margin
    assert reach > ResidualUNet.receptive_margin - 16  # the bound is tight-ish


@pytest.mark.parametrize("shape", [(17, 23), (5, 40)])
def test_unet_estimator_handles_odd_sizes(shape):
    rng = np.random.default_rng(0)
    X = rng.random((3, *shape), dtype=np.float32)
    den = DocumentDenoiser(
        "unet", epochs=1, batch_size=2, random_state=0, module__channels=(4, 4, 4, 4)
    ).fit(X, X)
    out = den.transform(X)
    assert out.shape == X.shape and out.dtype == np.float32


def test_untrained_affine_unet_is_the_identity():
    net = AffineUNet(channels=(4, 4, 4, 4))
    x = torch.rand(2, 1, 48, 64)
    with torch.no_grad():
        assert torch.equal(net(x), x)


def test_affine_unet_with_residual_unet_weights_gives_the_same_output():
    torch.manual_seed(0)
    unet = ResidualUNet(channels=(4, 8, 8, 8))
    with torch.no_grad():
        unet.head.weight.normal_(0, 0.1)
    affine = AffineUNet(channels=(4, 8, 8, 8))
    missing, unexpected = affine.load_state_dict(unet.state_dict(), strict=False)
    assert sorted(missing) == ["affine.bias", "affine.weight"] and not unexpected
    x = torch.rand(1, 1, 64, 80)
    with torch.no_grad():
        assert torch.allclose(affine(x), unet(x), atol=1e-6)
        assert not torch.allclose(unet(x), x)  # the comparison is not trivial


def test_affine_unet_gain_and_offset_are_smooth_and_act_on_the_input():
    """A constant gain/offset (bias only) scales the page, edges and all."""
    net = AffineUNet(channels=(4, 4, 4, 4))
    with torch.no_grad():
        net.affine.bias.copy_(torch.tensor([float(np.log(1.25)), -0.2]))
    x = torch.rand(1, 1, 32, 48) * 0.5 + 0.3
    with torch.no_grad():
        assert torch.allclose(net(x), (1.25 * x - 0.2).clamp(0, 1), atol=1e-6)


@pytest.mark.parametrize("refine", [0, 4])
@pytest.mark.parametrize("offset", [(0, 0), (5, 9)])
def test_affine_unet_receptive_margin_is_an_upper_bound(offset, refine):
    torch.manual_seed(2)
    net = AffineUNet(channels=(4, 2, 2, 2), refine=refine).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand_like(p) * 0.2 if p.dim() > 1 else torch.full_like(p, 0.01))
    size = 288
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    i, j = size // 2 + offset[0], size // 2 + offset[1]
    net.unclamped(x)[0, 0, i, j].backward()  # the full dependency, before clamping
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    reach = max(int((rows - i).abs().max()), int((cols - j).abs().max()))
    assert torch.isfinite(x.grad).all()
    assert 0 < reach <= AffineUNet.receptive_margin
    assert reach > AffineUNet.receptive_margin - 16  # the bound is tight-ish


def test_affine_unet_refinement_starts_as_the_identity_and_loads_plain_weights():
    """A refined network is the identity untrained, and a plain one's weights load
    into it (strict=False) to give the plain network's output."""
    x = torch.rand(2, 1, 32, 48)
    assert torch.equal(AffineUNet(channels=(4, 4, 4, 4), refine=8)(x), x)
    torch.manual_seed(0)
    plain = AffineUNet(channels=(4, 4, 4, 4))
    with torch.no_grad():
        for p in plain.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    refined = AffineUNet(channels=(4, 4, 4, 4), refine=8)
    missing, unexpected = refined.load_state_dict(plain.state_dict(), strict=False)
    assert all(k.startswith("refine.") for k in missing) and missing and not unexpected
    with torch.no_grad():
        assert torch.allclose(refined(x), plain(x))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refine": -1}, "refine must be an integer >= 0, got -1"),
        ({"refine": 2.5}, "refine must be an integer >= 0, got 2.5"),
        ({"refine": True}, "refine must be an integer >= 0, got True"),
        ({"refine": 8, "channels": (6, 4, 4, 4)}, "multiple of 4, got 6"),
    ],
)
def test_affine_unet_rejects_bad_refine(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        AffineUNet(**kwargs)


def test_network_contract_defaults_and_checks():
    from docdenoise._inference import resolve_tile_size
    from docdenoise.models import NetworkContract, network_contract

    assert network_contract(ResidualUNet) == NetworkContract(16, 103)
    bare = network_contract(nn.Identity())
    assert bare == NetworkContract(size_multiple=1, receptive_margin=None)
    assert resolve_tile_size("auto", bare) is None  # unknown margin: never tiled

    class Odd(nn.Identity):
        size_multiple = 0

    with pytest.raises(ValueError, match=r"Odd.size_multiple must be an integer >= 1, got 0"):
        network_contract(Odd)
    Odd.size_multiple, Odd.receptive_margin = 2, -1
    with pytest.raises(ValueError, match=r"receptive_margin must be an integer >= 0 or None"):
        network_contract(Odd())
