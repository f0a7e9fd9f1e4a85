"""The onnx engine: run an exported network with onnxruntime, numpy in, numpy out.

This module does not import torch, so pages can be cleaned where torch is not
installed. An ONNX model file written by :meth:`DocumentDenoiser.export_onnx
<docdenoise.DocumentDenoiser.export_onnx>` holds the graph and, in its
``metadata_props``, one JSON string under the key ``"docdenoise"`` with the
network's contract (``size_multiple``, ``receptive_margin``) and the estimator's
parameters; :class:`OnnxNetwork` checks both when it reads the file.

Reading an ONNX file never runs code from it: onnxruntime executes the graph's
standard operators only (no custom-operator libraries are registered here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import _inference
from ._geometry import pad_to_multiple
from ._inference import average_views
from ._paths import path_problem
from .exceptions import ModelFileError
from .models import NetworkContract

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INPUT_NAME",
    "META_KEY",
    "OUTPUT_NAME",
    "OnnxNetwork",
    "read_onnx_file",
]

FORMAT_NAME = "docdenoise-onnx"
#: Bumped when a file written by this version cannot be read by older ones.
FORMAT_VERSION = 1
#: Key of the JSON metadata in the ONNX file's ``metadata_props``.
META_KEY = "docdenoise"
INPUT_NAME = "noisy"
OUTPUT_NAME = "cleaned"
#: Largest ONNX file accepted (the networks here are a few MB).
MAX_ONNX_BYTES = 2**30

_HINT = (
    "The onnx engine needs onnxruntime: pip install onnxruntime (it comes with "
    "pip install docdenoise)."
)


def _onnxruntime() -> Any:
    """Import onnxruntime with its usage telemetry off (pages are cleaned offline).

    Recent onnxruntime releases report usage events on every platform unless
    ``ORT_TELEMETRY_DISABLED`` is set before the import; docdenoise sets it when the
    user has not chosen, and also turns the events off through the API.
    """
    os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(_HINT) from None
    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return onnxruntime


def read_onnx_file(path: str | os.PathLike, *, max_bytes: int = MAX_ONNX_BYTES) -> bytes:
    """Read an ONNX model file's bytes, refusing folders, missing and oversized files."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ModelFileError(f"Model file {name!r} {path_problem(path)}.")
    size = path.stat().st_size
    if size > max_bytes:
        raise ModelFileError(
            f"{name!r} has {size} bytes, more than the {max_bytes} bytes a docdenoise "
            "ONNX model may have; it is not a docdenoise model or it is damaged."
        )
    return path.read_bytes()


def _check_meta(name: str, meta: Any) -> dict[str, Any]:
    """The metadata if it describes a docdenoise network this version can run."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{name!r} is an ONNX model without docdenoise metadata; expected a file "
            "written by DocumentDenoiser.export_onnx or 'docdenoise export'."
        )
    version = meta.get("format_version")
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise ModelFileError(
            f"{name!r} was written by docdenoise {meta.get('library_version', '?')} with "
            f"ONNX format {version!r}; this docdenoise reads formats 1 to {FORMAT_VERSION}. "
            "Upgrade docdenoise to load it."
        )
    multiple, margin = meta.get("size_multiple"), meta.get("receptive_margin")
    if (
        type(multiple) is not int
        or multiple < 1
        or not (margin is None or (type(margin) is int and margin >= 0))
        or not isinstance(meta.get("params", {}), dict)
    ):
        raise ModelFileError(
            f"{name!r} has malformed docdenoise metadata (size_multiple {multiple!r}, "
            f"receptive_margin {margin!r})."
        )
    return meta


class OnnxNetwork:
    """An exported network run by onnxruntime on the CPU: the onnx engine.

    Parameters
    ----------
    graph : bytes
        A serialized ONNX model written by docdenoise (see :func:`read_onnx_file`).
    name : str, default="<ONNX model>"
        What error messages call it (the file name).
    n_threads : int, default=None
        onnxruntime's intra-op threads; ``None``: one per physical core.

    Attributes
    ----------
    meta : dict
        The docdenoise metadata stored in the file.
    contract : NetworkContract
        The network's ``size_multiple`` and ``receptive_margin``, from the metadata.
    pixels_per_pass : int
        Most pixels fed to one run (the activations then stay in the CPU caches).

    Raises
    ------
    ImportError
        onnxruntime is not installed.
    ModelFileError
        ``graph`` is not an ONNX model, or one without docdenoise metadata.
    """

    def __init__(
        self, graph: bytes, *, name: str = "<ONNX model>", n_threads: int | None = None
    ) -> None:
        self.graph = graph
        self.name = name
        self.n_threads = n_threads
        self.pixels_per_pass: int | None = _inference.PIXELS_PER_PASS
        self._session = self._open()
        try:
            text = self._session.get_modelmeta().custom_metadata_map.get(META_KEY)
            meta = json.loads(text) if text is not None else None
        except (ValueError, RecursionError):
            meta = None
        self.meta = _check_meta(name, meta)
        self.contract = NetworkContract(self.meta["size_multiple"], self.meta["receptive_margin"])
        inputs = [i.name for i in self._session.get_inputs()]
        if inputs != [INPUT_NAME]:
            raise ModelFileError(
                f"{name!r} has inputs {inputs}; a docdenoise network has one, {INPUT_NAME!r}."
            )

    def _open(self) -> Any:
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no notes about unused initializers
        # A memory plan per input shape (tiles of a page differ in size at its edges)
        # raised the peak of an A4 page by 90 MiB without a measurable speed-up.
        options.enable_mem_pattern = False
        if self.n_threads is not None:
            options.intra_op_num_threads = int(self.n_threads)
            options.inter_op_num_threads = 1
        try:
            return ort.InferenceSession(self.graph, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own classes for bad files
            first = " ".join(str(exc).split())[:300]
            raise ModelFileError(
                f"{self.name!r} is not an ONNX model that onnxruntime can run: {first}"
            ) from None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run the graph on ``[N, 1, H, W]`` float32 (sides multiples of ``size_multiple``)."""
        feed = np.ascontiguousarray(x, dtype=np.float32)
        return self._session.run(None, {INPUT_NAME: feed})[0]

    def run(self, batch: np.ndarray, views: tuple[int, ...]) -> np.ndarray:
        """Clean ``[n, h, w]`` float32 pages: pad, average over ``views``, crop, clip."""
        n, h, w = batch.shape
        x = pad_to_multiple(batch[:, None], self.contract.size_multiple)
        total = average_views(self.forward, x, views)
        return np.clip(total[:, 0, :h, :w], 0.0, 1.0)

    def __getstate__(self) -> dict[str, Any]:
        # onnxruntime sessions do not pickle: keep the graph, open a new session on load
        return {k: v for k, v in self.__dict__.items() if k != "_session"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._session = self._open()
