"""The one way the benchmarks open a model: a shipped model's name or a model file."""

from __future__ import annotations

from typing import Any

from docdenoise import DocumentDenoiser, pretrained_models


def load_model(spec: str, **kwargs: Any) -> DocumentDenoiser:
    """``DocumentDenoiser.pretrained(spec)`` for a shipped name, else ``load(spec)``.

    ``kwargs`` (``device``, ``engine``) go to either.
    """
    if spec in pretrained_models():
        return DocumentDenoiser.pretrained(spec, **kwargs)
    return DocumentDenoiser.load(spec, **kwargs)
