"""Export a denoising network to ONNX, with the metadata the onnx engine reads back.

The graph takes ``noisy`` ``[N, 1, H, W]`` float32 and returns ``cleaned`` of the
same shape; ``N`` is free and ``H``, ``W`` are any multiples of the network's
``size_multiple`` (padding and cropping stay in docdenoise, so the graph needs no
shape logic of its own). It is traced with torch's exporter (``torch.export``,
``dynamo=True``, which replaced the deprecated TorchScript exporter) at opset
:data:`OPSET`, which onnxruntime 1.16 and newer run. Every operator the networks
here use exports: convolutions, transposed convolutions, max pooling,
concatenation, ``PixelShuffle``/``PixelUnshuffle``, bilinear ``F.interpolate``,
``clamp`` and the usual activations.

The model's docdenoise metadata (format tag and version, library and torch
versions, architecture, ``size_multiple``, ``receptive_margin``, the estimator's
parameters such as ``tta`` and ``tile_size``, a digest of the weights) is one JSON
string in the ONNX file's ``metadata_props`` under the key ``"docdenoise"``, as in
the safetensors model files. After the export the graph is run once with
onnxruntime on a second page size and compared with the network, so an export
that would clean pages differently is refused instead of written.

Exporting needs torch, ``onnx`` and ``onnxscript`` (``pip install
"docdenoise[export]"``); running the result needs onnxruntime only.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ._onnx_engine import FORMAT_NAME, FORMAT_VERSION, INPUT_NAME, META_KEY, OUTPUT_NAME
from ._serialization import _json_safe, weights_digest
from ._version import __version__
from .exceptions import ExportError
from .models import network_contract

__all__ = ["OPSET", "export_network"]

#: ONNX opset of exported graphs: the lowest that torch's current exporter targets,
#: run by onnxruntime 1.16 and newer.
OPSET = 18
#: Largest difference from the network accepted in the check after the export.
EXPORT_TOLERANCE = 1e-4

_HINT = (
    'Exporting to ONNX needs the packages onnx and onnxscript: pip install "docdenoise[export]".'
)


def _example_side(multiple: int, k: int) -> int:
    """A side of ``k`` multiples of ``multiple``, at least 64 pixels (tracing input)."""
    return multiple * max(k, -(-64 // multiple) + k - 2)


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, without terminal colours."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:400] if lines else type(exc).__name__


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's progress lines, warnings and logging (we check the result)."""
    loggers = [
        logging.getLogger(n)
        for n in ("torch.onnx", "torch.export", "torch.fx", "torch._dynamo", "onnxscript")
    ]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _trace(module: nn.Module, multiple: int, opset: int) -> Any:
    """Export ``module`` with a free batch size and free multiples of ``multiple``."""
    try:
        import onnx  # noqa: F401  (the exporter needs both; say so before tracing)
        import onnxscript  # noqa: F401
    except ImportError:
        raise ImportError(_HINT) from None
    dim = torch.export.Dim
    rows = dim("rows") if multiple == 1 else multiple * dim("rows")
    cols = dim("cols") if multiple == 1 else multiple * dim("cols")
    # batch 2 and distinct sides, so the tracer specialises neither to 1 nor to H == W
    example = torch.full((2, 1, _example_side(multiple, 3), _example_side(multiple, 4)), 0.5)
    with _quiet():
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamic_shapes=({0: dim("batch"), 2: rows, 3: cols},),
            verbose=False,
        )
    if program is None:  # only the TorchScript exporter returns None
        raise ExportError("torch.onnx.export returned no program; torch >= 2.6 is needed.")
    return program.model_proto


def _check_against(
    module: nn.Module, graph: bytes, multiple: int, tolerance: float = EXPORT_TOLERANCE
) -> None:
    """Run ``graph`` on a page size other than the traced one; compare with ``module``."""
    try:
        import onnxruntime as ort
    except ImportError:  # nothing to check with; the engine will say what is missing
        return
    shape = (3, 1, _example_side(multiple, 5), _example_side(multiple, 2))
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        got = session.run(None, {INPUT_NAME: x})[0]
    except Exception as exc:  # onnxruntime raises its own classes
        raise ExportError(
            f"The ONNX export of {type(module).__name__} does not run on a {shape} input "
            f"in onnxruntime: {_first_line(exc)}"
        ) from None
    with torch.inference_mode():
        want = module(torch.from_numpy(x)).numpy()
    error = float(np.max(np.abs(got - want))) if got.shape == want.shape else np.inf
    if not error <= tolerance:
        raise ExportError(
            f"The ONNX export of {type(module).__name__} does not reproduce the network: "
            f"on a {shape} input its output differs by {error:.3g} (shape {got.shape} vs "
            f"{want.shape}); the network may depend on the page size in a way the "
            "exporter cannot follow."
        )


def export_network(
    module: nn.Module, *, meta: dict[str, Any] | None = None, opset: int = OPSET
) -> bytes:
    """Export ``module`` to an ONNX graph with docdenoise metadata; return its bytes.

    Parameters
    ----------
    module : torch.nn.Module
        The network, ``[N, 1, H, W] -> [N, 1, H, W]``. It is copied to the CPU in
        eval mode; the caller's module is left as it is. Its ``size_multiple`` and
        ``receptive_margin`` (read with :func:`~docdenoise.models.network_contract`)
        shape the graph's input and are stored for the onnx engine.
    meta : dict, default=None
        More metadata (model name, estimator parameters, history), stored as JSON.
    opset : int, default=OPSET
        ONNX opset version.

    Returns
    -------
    graph : bytes
        A serialized ONNX model.

    Raises
    ------
    ImportError
        onnx or onnxscript is not installed.
    ExportError
        The exporter failed, or the exported graph does not reproduce the network.
    """
    contract = network_contract(module)
    net = copy.deepcopy(module).to("cpu", torch.float32).eval()
    try:
        proto = _trace(net, contract.size_multiple, int(opset))
    except (ImportError, ExportError):
        raise
    except Exception as exc:  # torch.export's errors are many and deep: name the network
        root: BaseException = exc
        while root.__cause__ is not None:
            root = root.__cause__
        raise ExportError(
            f"Cannot export {type(module).__name__} to ONNX: {type(root).__name__}: "
            f"{_first_line(root)}"
        ) from exc
    header = _json_safe(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "torch_version": torch.__version__,
            "opset": int(opset),
            "architecture": type(module).__name__,
            "size_multiple": contract.size_multiple,
            "receptive_margin": contract.receptive_margin,
            "weights_sha256": weights_digest(net.state_dict()),
            **(meta or {}),
        }
    )
    entry = proto.metadata_props.add()
    entry.key = META_KEY
    entry.value = json.dumps(header, allow_nan=False)
    proto.doc_string = f"docdenoise {__version__}: {type(module).__name__} page denoiser"
    graph = proto.SerializeToString()
    _check_against(net, graph, contract.size_multiple)
    return graph
