"""Save and load fitted denoisers without pickle.

A model file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: the
network weights as plain tensors plus one JSON string in the header metadata
(format tag, format version, library and torch versions, estimator parameters,
architecture, training history, a SHA-256 digest of the weights and one of the
metadata). Loading reads numbers and JSON only, so a model file can never execute
code, unlike ``pickle`` or ``torch.load`` without ``weights_only``.

What :func:`read_model_file` refuses, always with a
:class:`~docdenoise.exceptions.ModelFileError` that names the file:

* missing paths, folders, files over :data:`MAX_MODEL_BYTES`;
* pickles, ``torch.save`` archives and anything else that is not a safetensors
  file (recognised by its first bytes and named in the message; nothing is
  unpickled);
* a declared header length over :data:`MAX_HEADER_BYTES` or past the end of the
  file (checked before the header is read, so a forged length allocates nothing);
* truncated files, headers that are not JSON, safetensors files without docdenoise
  metadata;
* files written for a newer model format (``format_version`` above
  :data:`FORMAT_VERSION`);
* weights or metadata that do not match the digests stored at save time (bit rot,
  a bad copy, or hand edits). The digests detect damage, not a determined forger;
  loading is safe either way because nothing in the file is executed.

Writes are atomic (:func:`docdenoise._atomic.atomic_write`): a crash, a full disk or Ctrl-C
leaves the previous file intact and no temporary file behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_write_bytes
from ._devices import require_torch
from ._paths import path_problem
from ._version import __version__
from .exceptions import ModelFileError

if TYPE_CHECKING:
    import torch

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "MAX_MODEL_BYTES",
    "build_module",
    "read_model_file",
    "write_model_file",
]

FORMAT_NAME = "docdenoise-model"
#: Bumped when a file written by this version cannot be read by older ones.
FORMAT_VERSION = 1
_META_KEY = "docdenoise"
#: Largest JSON header accepted (metadata is a few kB even after long training).
MAX_HEADER_BYTES = 16 * 2**20
#: Largest model file accepted (the networks here are a few MB).
MAX_MODEL_BYTES = 2**30

#: First bytes of formats people mistake for model files.
_MAGIC = [
    (b"PK\x03\x04", "a zip archive (a torch.save / PyTorch checkpoint file?)"),
    (b"\x80\x02", "a Python pickle"),
    (b"\x80\x03", "a Python pickle"),
    (b"\x80\x04", "a Python pickle"),
    (b"\x80\x05", "a Python pickle"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89HDF", "an HDF5 (Keras) file"),
]


def weights_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over tensor names, dtypes, shapes and bytes, in name order."""
    import torch

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _json_safe(value: Any) -> Any:
    """Make ``value`` JSON-serialisable (tuples to lists, NaN to None)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    raise TypeError(f"cannot store {value!r} of type {type(value).__name__} in a model file")


def _meta_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``meta`` without its own digest field."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def write_model_file(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    """Write weights and metadata to ``path`` atomically."""
    import torch
    from safetensors.torch import save as st_save

    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    header = _json_safe(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "torch_version": torch.__version__,
            "weights_sha256": weights_digest(tensors),
            **meta,
        }
    )
    header["metadata_sha256"] = _meta_digest(header)
    data = st_save(tensors, metadata={_META_KEY: json.dumps(header, allow_nan=False)})
    atomic_write_bytes(path, data)


def _not_a_model(name: str, prefix: bytes, why: str) -> ModelFileError:
    for magic, kind in _MAGIC:
        if prefix.startswith(magic):
            return ModelFileError(
                f"{name!r} is {kind}, not a docdenoise model file. docdenoise never "
                "unpickles model files, because unpickling can run code hidden in the "
                "file; save models with DocumentDenoiser.save."
            )
    return ModelFileError(
        f"{name!r} is not a docdenoise model file ({why}); expected a safetensors "
        "file written by DocumentDenoiser.save."
    )


def _check_meta(name: str, meta: dict[str, Any]) -> None:
    """Check the metadata's version, digest and field types."""
    version = meta.get("format_version")
    if type(version) is not int or version < 1 or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name!r} was written by docdenoise {meta.get('library_version', '?')} with "
            f"model format {version!r}; this docdenoise {__version__} reads formats 1 to "
            f"{FORMAT_VERSION}. Upgrade docdenoise to load it."
        )
    if "metadata_sha256" in meta and meta["metadata_sha256"] != _meta_digest(meta):
        raise ModelFileError(
            f"{name!r} failed its integrity check: the metadata (parameters, history) "
            "does not match the digest stored at save time (the file was edited or "
            "damaged)."
        )
    history = meta.get("history", [])
    if (
        not isinstance(meta.get("model"), str)
        or not isinstance(meta.get("params", {}), dict)
        or not isinstance(history, list)
        or not all(isinstance(rec, dict) for rec in history)
        or not isinstance(meta.get("weights_sha256"), str)
    ):
        raise ModelFileError(
            f"{name!r} has malformed docdenoise metadata (model, params, history or "
            "weights digest of the wrong type)."
        )


def build_module(
    model_cls: type[torch.nn.Module], kwargs: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> torch.nn.Module:
    """Build ``model_cls(**kwargs)`` and load ``tensors`` into it, shapes checked first.

    The network is first built on torch's ``"meta"`` device, which allocates no
    memory, and its parameter names and shapes are compared with the file's. So a
    hostile file asking for, say, ``module__channels=(10**6, 10**6)`` is refused
    instead of allocating terabytes. Classes that cannot be built on the meta device
    are built directly.

    Raises
    ------
    ValueError
        The weights do not fit the network.
    """
    import torch

    try:
        with torch.device("meta"):
            probe = model_cls(**kwargs)
    except Exception:  # the real build below reports genuine errors
        probe = None
    if probe is not None:
        expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in tensors.items()}
        if expected != found:
            diff = sorted(set(expected.items()) ^ set(found.items()))[:3]
            raise ValueError(
                f"the weights in the file do not fit the network built from "
                f"{kwargs}: first differences (name, shape) {diff}."
            )
    module = model_cls(**kwargs)
    module.load_state_dict(tensors, strict=True)
    return module


def read_model_file(
    path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify a model file; return ``(tensors on CPU, metadata)``.

    The 8-byte header length and the JSON header are checked before the rest of
    the file is read; nothing in the file is ever unpickled or executed.

    Parameters
    ----------
    path : str or path-like
        The model file.
    max_bytes : int, default=MAX_MODEL_BYTES
        Refuse larger files (1 GiB by default).

    Returns
    -------
    tensors : dict of str to torch.Tensor
        The weights, on the CPU.
    meta : dict
        The docdenoise metadata.

    Raises
    ------
    ModelFileError
        The file is not a docdenoise model, is truncated or damaged, was tampered
        with, is too large, or needs a newer docdenoise.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ModelFileError(f"Model file {name!r} {path_problem(path)}.")
    require_torch(f"Loading the .safetensors model file {name!r}")
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    size = path.stat().st_size
    if size > max_bytes:
        raise ModelFileError(
            f"{name!r} has {size} bytes, more than the {max_bytes} bytes a docdenoise "
            "model file may have; it is not a docdenoise model or it is damaged."
        )
    with open(path, "rb") as fh:
        prefix = fh.read(8)
        if len(prefix) < 8:
            raise _not_a_model(name, prefix, f"only {len(prefix)} bytes")
        header_len = int.from_bytes(prefix, "little")
        if header_len < 2 or header_len > min(MAX_HEADER_BYTES, size - 8):
            raise _not_a_model(
                name,
                prefix,
                f"its first 8 bytes declare a {header_len}-byte header in a {size}-byte "
                "file, so it is another format or truncated",
            )
        header_bytes = fh.read(header_len)
        rest = fh.read(max_bytes)
    try:
        header = json.loads(header_bytes)
        meta = json.loads(header["__metadata__"][_META_KEY])
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: [[[[...
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _not_a_model(name, prefix, "no docdenoise metadata found")
    _check_meta(name, meta)
    try:
        tensors = st_load(prefix + header_bytes + rest)
    except (SafetensorError, ValueError, RuntimeError, TypeError) as exc:
        raise ModelFileError(f"{name!r} is damaged or truncated: {exc}") from None
    if weights_digest(tensors) != meta["weights_sha256"]:
        raise ModelFileError(
            f"{name!r} failed its integrity check: the weights do not match the digest "
            "stored at save time (the file was modified or damaged)."
        )
    return tensors, meta
