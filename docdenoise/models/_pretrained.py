"""The pretrained models shipped in ``docdenoise/weights/`` (found without torch)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["WEIGHTS_DIR", "pretrained_models"]

#: Each shipped model ``NAME`` is ``NAME.safetensors`` (torch weights), ``NAME.onnx``
#: (the same network for the onnx engine) and ``NAME.json`` (its card).
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def pretrained_models() -> list[str]:
    """Names of the pretrained models shipped with docdenoise.

    Returns
    -------
    names : list of str
        Valid values for ``DocumentDenoiser.pretrained(name=...)``, sorted.

    Examples
    --------
    >>> from docdenoise import pretrained_models
    >>> "default" in pretrained_models()
    True
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))
