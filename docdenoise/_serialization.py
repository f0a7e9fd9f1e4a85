"""Save and load fitted denoisers without pickle.

A model file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: the
network weights as plain tensors plus one JSON string in the header metadata
(format tag, format version, library and torch versions, estimator parameters,
architecture, training history and a SHA-256 digest of the weights). Loading reads
numbers and JSON only, so a model file can never execute code, unlike ``pickle`` or
``torch.load`` without ``weights_only``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ._version import __version__
from .exceptions import ModelFileError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "atomic_write_bytes", "read_model_file", "write_model_file"]

FORMAT_NAME = "docdenoise-model"
#: Bumped when a file written by this version cannot be read by older ones.
FORMAT_VERSION = 1
_META_KEY = "docdenoise"


def weights_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over tensor names, dtypes, shapes and bytes, in name order."""
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    An interruption leaves either the old file or the new one, never a partial file.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"Cannot save to {str(path)!r}: folder {str(directory)!r} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_model_file(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    """Write weights and metadata to ``path`` atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "torch_version": torch.__version__,
        "weights_sha256": weights_digest(tensors),
        **meta,
    }
    data = st_save(tensors, metadata={_META_KEY: json.dumps(_json_safe(header))})
    atomic_write_bytes(path, data)


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify a model file; return ``(tensors on CPU, metadata)``.

    Raises
    ------
    ModelFileError
        The file is not a docdenoise model, is truncated or damaged, was tampered
        with, or needs a newer docdenoise.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"Model file {str(path)!r} does not exist or is not a file.")
    raw = path.read_bytes()
    name = str(path)
    if len(raw) < 8:
        raise ModelFileError(f"{name!r} is not a docdenoise model file (only {len(raw)} bytes).")
    header_len = int.from_bytes(raw[:8], "little")
    if header_len <= 0 or header_len > len(raw) - 8:
        raise ModelFileError(
            f"{name!r} is not a docdenoise model file, or it is truncated (expected a "
            "safetensors file written by DocumentDenoiser.save)."
        )
    try:
        header = json.loads(raw[8 : 8 + header_len])
        meta = json.loads(header.get("__metadata__", {}).get(_META_KEY, "null"))
    except (ValueError, AttributeError, TypeError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{name!r} is not a docdenoise model file (no docdenoise metadata found)."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name!r} was written by docdenoise {meta.get('library_version', '?')} with "
            f"model format {version!r}; this docdenoise {__version__} reads formats up to "
            f"{FORMAT_VERSION}. Upgrade docdenoise to load it."
        )
    try:
        tensors = st_load(raw)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{name!r} is damaged or truncated: {exc}") from None
    if weights_digest(tensors) != meta.get("weights_sha256"):
        raise ModelFileError(
            f"{name!r} failed its integrity check: the weights do not match the digest "
            "stored at save time (the file was modified or damaged)."
        )
    return tensors, meta
