"""Data for docdenoise: the synthetic page generator and image loaders."""

from __future__ import annotations

from ._io import BIT_DEPTHS, MAX_IMAGE_PIXELS, expand_inputs, load_images, save_images
from ._kaggle import load_dirty_documents
from ._pairs import load_image_pairs
from ._synthetic import make_dirty_documents

__all__: list[str] = [
    "BIT_DEPTHS",
    "MAX_IMAGE_PIXELS",
    "expand_inputs",
    "load_dirty_documents",
    "load_image_pairs",
    "load_images",
    "make_dirty_documents",
    "save_images",
]
