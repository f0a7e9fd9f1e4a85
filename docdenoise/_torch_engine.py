"""The torch engine: run a torch network on numpy pages, laid out for speed.

On the CPU the network runs in ``torch.channels_last`` memory format, which oneDNN
executes 2-3x faster than the default NCHW layout for these small-channel
convolutions. Padding and test-time augmentation happen on the device, so a GPU
receives each batch once.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from . import _inference
from ._geometry import pad_to_multiple
from ._inference import average_views
from .models import network_contract

__all__ = ["CPU_LAYOUT", "TorchNetwork", "inference_module"]

#: Memory format of the network and its input on the CPU (the benchmarks switch it).
CPU_LAYOUT = torch.channels_last


def inference_module(module: nn.Module, device: torch.device) -> nn.Module:
    """An eval-mode copy of ``module`` laid out for fast inference on ``device``.

    On the CPU the copy uses ``torch.channels_last``; the caller's module (and the
    layout of what it saves) is left untouched.
    """
    fast = copy.deepcopy(module).eval()
    if device.type == "cpu":
        # Module.to accepts memory_format at runtime, but torch's stubs lack that overload.
        fast = fast.to(memory_format=CPU_LAYOUT)  # type: ignore[call-overload]
    return fast


class TorchNetwork:
    """A torch module prepared for inference on ``device``: the torch engine.

    Parameters
    ----------
    module : torch.nn.Module
        The network. It is copied (see :func:`inference_module`) unless
        ``prepared`` is True.
    device : torch.device
        Where the network runs.
    prepared : bool, default=False
        ``module`` already comes from :func:`inference_module`; use it as it is.
    """

    def __init__(self, module: nn.Module, device: torch.device, *, prepared: bool = False):
        self.module = module if prepared else inference_module(module, device)
        self.device = device
        self.contract = network_contract(module)
        self.pixels_per_pass = _inference.PIXELS_PER_PASS if device.type == "cpu" else None
        self._layout = CPU_LAYOUT if device.type == "cpu" else torch.contiguous_format

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.contiguous(memory_format=self._layout))

    def run(self, batch: np.ndarray, views: tuple[int, ...]) -> np.ndarray:
        """Clean ``[n, h, w]`` float32 pages: pad, average over ``views``, crop, clip."""
        n, h, w = batch.shape
        with torch.inference_mode():
            x = torch.from_numpy(batch).unsqueeze(1).to(self.device)
            x = pad_to_multiple(x, self.contract.size_multiple)
            total = average_views(self._forward, x, views)
            return total[:, 0, :h, :w].clamp_(0.0, 1.0).cpu().numpy()
