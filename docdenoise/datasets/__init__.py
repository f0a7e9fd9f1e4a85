"""Data for docdenoise: the synthetic page generator and image loaders."""

from __future__ import annotations

from ._io import load_images, save_images
from ._kaggle import load_dirty_documents
from ._synthetic import make_dirty_documents

__all__: list[str] = [
    "load_dirty_documents",
    "load_images",
    "make_dirty_documents",
    "save_images",
]
