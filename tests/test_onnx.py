"""ONNX export and the onnx engine: every network exports, and both engines agree."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from docdenoise._inference import TTA_TRANSFORMS, predict_images
from docdenoise._onnx_engine import META_KEY, OnnxNetwork
from docdenoise._torch_engine import TorchNetwork
from docdenoise.exceptions import ExportError, ModelFileError
from docdenoise.models import available_models, get_model_class, network_contract

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

_export = pytest.importorskip("docdenoise._onnx_export")

CPU = torch.device("cpu")
# Small but real networks with random weights everywhere (an untrained U-Net is the
# identity, which would make every comparison trivially true).
SMALL_KWARGS = {"unet": {"channels": (4, 8, 8, 8)}}


def _randomized(module: nn.Module, seed: int = 0) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return module.eval()


def _export_module(module: nn.Module, **meta) -> bytes:
    return _export.export_network(module, meta=meta)


class Upsampler(nn.Module):
    """Pixel (un)shuffle, bilinear resizing and a residual clamp: ops a new network may use."""

    size_multiple = 4
    receptive_margin = 16

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.PixelUnshuffle(2)
        self.body = nn.Conv2d(4, 8, 3, padding=1)
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.up = nn.PixelShuffle(2)
        self.head = nn.Conv2d(2, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.body(self.down(x)))
        low = F.avg_pool2d(h, 2)
        low = F.interpolate(self.mid(low), scale_factor=2.0, mode="bilinear", align_corners=False)
        h = self.up(h + low)
        return (x + 0.1 * self.head(h)).clamp(0.0, 1.0)


@pytest.fixture(scope="module", params=[*available_models(), "upsampler"])
def engines(request):
    """(torch engine, onnx engine) for each registered network and the test upsampler."""
    name = request.param
    if name == "upsampler":
        module = _randomized(Upsampler())
    else:
        module = _randomized(get_model_class(name)(**SMALL_KWARGS.get(name, {})))
    graph = _export_module(module, model=name, params={"tta": 1})
    return TorchNetwork(module, CPU), OnnxNetwork(graph, name=f"{name}.onnx")


@pytest.mark.parametrize("name", available_models())
def test_every_registered_network_exports_with_its_defaults(name):
    module = get_model_class(name)().eval()
    graph = _export_module(module, model=name)
    net = OnnxNetwork(graph)
    assert net.meta["architecture"] == type(module).__name__ and net.meta["model"] == name
    assert net.contract == network_contract(module)
    assert net.meta["opset"] == _export.OPSET


def test_the_metadata_travels_in_metadata_props(engines):
    torch_net, onnx_net = engines
    import onnx

    proto = onnx.load_from_string(onnx_net.graph)
    keys = [p.key for p in proto.metadata_props]
    assert keys == [META_KEY]
    assert onnx_net.meta["params"] == {"tta": 1}
    assert onnx_net.meta["format"] == "docdenoise-onnx" and onnx_net.meta["format_version"] == 1
    assert onnx_net.contract == torch_net.contract
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param != "" for d in dims] == [True, False, True, True]  # N, 1, H, W


@pytest.mark.parametrize("shape", [(37, 53), (1, 1), (5, 130), (64, 64)])
def test_engines_agree_on_odd_sizes(engines, shape):
    torch_net, onnx_net = engines
    pages = [np.random.default_rng(i).random(shape, dtype=np.float32) for i in range(3)]
    want = predict_images(torch_net, pages, batch_size=2, tile_size=None)
    got = predict_images(onnx_net, pages, batch_size=2, tile_size=None)
    for g, w in zip(got, want, strict=True):
        assert g.shape == shape and g.dtype == np.float32
        np.testing.assert_allclose(g, w, atol=1e-4, rtol=0)


def test_engines_agree_on_tiled_pages(engines):
    torch_net, onnx_net = engines
    page = np.random.default_rng(7).random((301, 227), dtype=np.float32)
    want = predict_images(torch_net, [page], batch_size=4, tile_size=None)[0]
    tiled = predict_images(onnx_net, [page], batch_size=4, tile_size=48)[0]
    np.testing.assert_allclose(tiled, want, atol=1e-4, rtol=0)


@pytest.mark.parametrize("tta", sorted(TTA_TRANSFORMS))
def test_engines_agree_at_every_tta_level(engines, tta):
    torch_net, onnx_net = engines
    pages = [np.random.default_rng(i).random((45, 70), dtype=np.float32) for i in range(2)]
    want = predict_images(torch_net, pages, batch_size=4, tile_size=32, tta=tta)
    got = predict_images(onnx_net, pages, batch_size=4, tile_size=32, tta=tta)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-4, rtol=0)


def test_onnx_network_pickles_without_its_session(engines):
    _, onnx_net = engines
    clone = pickle.loads(pickle.dumps(onnx_net))
    x = np.random.default_rng(0).random((1, 1, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(clone.forward(x), onnx_net.forward(x))


def test_export_leaves_the_module_alone():
    module = _randomized(get_model_class("cae")())
    module.train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    _export_module(module)
    assert module.training
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


class SizeDependent(nn.Module):
    """Uses the traced page size as a constant: its export would clean other sizes wrongly."""

    size_multiple = 1
    receptive_margin = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float(x.shape[-1] % 7) / 7.0


class NotExportable(nn.Module):
    size_multiple = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.sum() > 0 else -x  # a branch on the data: no graph for it


def test_an_export_that_changes_the_results_is_refused():
    with pytest.raises(ExportError, match=r"SizeDependent does not reproduce the network"):
        _export_module(SizeDependent())


def test_an_export_failure_names_the_network():
    with pytest.raises(ExportError, match=r"Cannot export NotExportable to ONNX: \w+") as info:
        _export_module(NotExportable())
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)


def test_onnx_files_without_docdenoise_metadata_are_refused():
    import onnx

    proto = onnx.load_from_string(_export_module(get_model_class("cae")()))
    del proto.metadata_props[:]
    with pytest.raises(ModelFileError, match=r"'plain.onnx' is an ONNX model without docdenoise"):
        OnnxNetwork(proto.SerializeToString(), name="plain.onnx")
    with pytest.raises(ModelFileError, match=r"'junk.onnx' is not an ONNX model that onnxruntime"):
        OnnxNetwork(b"\x00not an onnx model", name="junk.onnx")


def test_a_newer_format_asks_for_an_upgrade():
    import json

    import onnx

    proto = onnx.load_from_string(_export_module(get_model_class("cae")()))
    meta = json.loads(proto.metadata_props[0].value)
    meta["format_version"] = 99
    proto.metadata_props[0].value = json.dumps(meta)
    with pytest.raises(ModelFileError, match=r"ONNX format 99; .*Upgrade docdenoise"):
        OnnxNetwork(proto.SerializeToString(), name="new.onnx")
