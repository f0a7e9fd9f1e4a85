"""Data for docdenoise: the synthetic page generator and page readers and writers."""

from __future__ import annotations

from ._io import BIT_DEPTHS, MAX_IMAGE_PIXELS, expand_inputs, save_images
from ._kaggle import load_dirty_documents
from ._page_writer import save_pages
from ._pages import Page, count_pages, is_pdf, iter_pages, load_images
from ._pairs import load_image_pairs
from ._synthetic import make_dirty_documents

__all__: list[str] = [
    "BIT_DEPTHS",
    "MAX_IMAGE_PIXELS",
    "Page",
    "count_pages",
    "expand_inputs",
    "is_pdf",
    "iter_pages",
    "load_dirty_documents",
    "load_image_pairs",
    "load_images",
    "make_dirty_documents",
    "save_images",
    "save_pages",
]
