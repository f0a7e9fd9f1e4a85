"""Data for docdenoise: the synthetic page generator and image loaders."""

from __future__ import annotations

__all__: list[str] = []
