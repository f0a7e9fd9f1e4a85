"""Noisy/clean training pairs from two folders: pairing, size checks, groups.

:func:`load_image_pairs` reads either layout that ``docdenoise train`` and
``docdenoise evaluate`` accept; :func:`~docdenoise.datasets.load_dirty_documents`
shares the pairing (:func:`read_pairs`) and the ``groups.json`` reader
(:func:`load_groups`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._paths import path_problem
from ..exceptions import ImageFileError
from ._io import MAX_IMAGE_PIXELS, list_image_files, read_image

__all__ = ["load_groups", "load_image_pairs", "read_pairs"]


def load_groups(path: Path, filenames: list[str]) -> np.ndarray:
    """Group index of each file from a ``groups.json`` list of lists of numbers or names."""
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not readable JSON: {exc}") from None
    if not isinstance(spec, list) or not all(isinstance(g, list) for g in spec):
        raise ValueError(
            f"{str(path)!r} must hold a list of groups, each a list of file numbers or "
            f"names, got {type(spec).__name__}."
        )
    group_of: dict[str, int] = {}
    for index, members in enumerate(spec):
        for member in members:
            group_of[Path(str(member)).stem] = index
    missing = [f for f in filenames if Path(f).stem not in group_of]
    if missing:
        raise ValueError(
            f"{str(path)!r} gives no group for {len(missing)} file(s), e.g. {missing[0]!r}; "
            "every noisy image must belong to a group."
        )
    return np.array([group_of[Path(f).stem] for f in filenames], dtype=np.intp)


def _by_name(path: Path) -> str:
    return path.name


def _by_stem(path: Path) -> str:
    return path.stem


def read_pairs(
    noisy_dir: Path,
    clean_dir: Path,
    *,
    key: Callable[[Path], str] = _by_name,
    max_pixels: int | None = MAX_IMAGE_PIXELS,
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Pair the image files of two folders by ``key`` and read them as float32.

    Every file needs exactly one partner of the same size; the pairs come in the
    natural order of the noisy files. Returns the noisy images, the clean images
    and the noisy file names.
    """
    noisy_files = list_image_files(noisy_dir)
    clean_by_key: dict[str, Path] = {}
    for p in list_image_files(clean_dir):
        if key(p) in clean_by_key:
            raise ImageFileError(
                f"Two clean files share the name {key(p)!r}: {str(clean_by_key[key(p)])!r} "
                f"and {str(p)!r}."
            )
        clean_by_key[key(p)] = p
    for p in noisy_files:
        if key(p) not in clean_by_key:
            raise ImageFileError(
                f"Noisy page {str(p)!r} has no clean partner named {key(p)!r} in "
                f"{str(clean_dir)!r}."
            )
    noisy_keys = {key(p) for p in noisy_files}
    for k, p in clean_by_key.items():
        if k not in noisy_keys:
            raise ImageFileError(
                f"Clean page {str(p)!r} has no noisy partner named {k!r} in {str(noisy_dir)!r}."
            )
    noisy, clean = [], []
    for p in noisy_files:
        partner = clean_by_key[key(p)]
        x = read_image(p, as_float=True, max_pixels=max_pixels)
        y = read_image(partner, as_float=True, max_pixels=max_pixels)
        if x.shape != y.shape:
            raise ImageFileError(
                f"Size mismatch: {str(p)!r} is {x.shape[1]}x{x.shape[0]} (WxH) but its "
                f"clean partner {str(partner)!r} is {y.shape[1]}x{y.shape[0]}."
            )
        noisy.append(x)
        clean.append(y)
    return noisy, clean, [p.name for p in noisy_files]


def load_image_pairs(
    path: str | os.PathLike, *, max_pixels: int | None = MAX_IMAGE_PIXELS
) -> Bunch:
    """Load noisy/clean training pairs from a folder in either of two layouts.

    * Kaggle "Denoising Dirty Documents": ``train/`` and ``train_cleaned/``, files
      paired by name (see :func:`load_dirty_documents`; ``test/`` is not read);
    * ``noisy/`` and ``clean/``: files paired by name without suffix
      (``noisy/7.jpg`` with ``clean/7.png``).

    In both, an optional ``groups.json`` (a list of groups, each a list of file
    numbers or names) marks pages that share text. This is what
    ``docdenoise train`` and ``docdenoise evaluate`` read.

    Parameters
    ----------
    path : str or path-like
        The folder.
    max_pixels : int or None, default=MAX_IMAGE_PIXELS
        Refuse image files with more pixels (see
        :func:`~docdenoise.datasets.load_images`); ``None``: no limit.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``noisy`` and ``clean`` (lists of float32 2-D arrays), ``filenames`` (list
        of str, the noisy files' names) and ``groups`` (ndarray or None).

    Raises
    ------
    ImageFileError
        The folder has neither layout, a file has no partner, sizes differ, or a
        file is not a readable image.
    ValueError
        ``groups.json`` is malformed or leaves a file without a group.

    See Also
    --------
    load_dirty_documents : The Kaggle layout, with its ``test/`` images.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import load_image_pairs, save_images
    >>> root = tempfile.mkdtemp()
    >>> for folder, level in [("noisy", 0.5), ("clean", 1.0)]:
    ...     _ = save_images([np.full((4, 5), level)], f"{root}/{folder}", names=["a"])
    >>> data = load_image_pairs(root)
    >>> data.filenames, data.noisy[0].shape
    (['a.png'], (4, 5))
    """
    root = Path(path)
    if not root.is_dir():
        raise ImageFileError(f"Data folder {str(root)!r} {path_problem(root, 'folder')}.")
    if (root / "train").is_dir() and (root / "train_cleaned").is_dir():
        noisy_dir, clean_dir, key = root / "train", root / "train_cleaned", _by_name
    elif (root / "noisy").is_dir() and (root / "clean").is_dir():
        noisy_dir, clean_dir, key = root / "noisy", root / "clean", _by_stem
    else:
        raise ImageFileError(
            f"{str(root)!r} holds neither train/ + train_cleaned/ (Kaggle layout) nor "
            "noisy/ + clean/ subfolders of paired images."
        )
    noisy, clean, filenames = read_pairs(noisy_dir, clean_dir, key=key, max_pixels=max_pixels)
    groups = None
    if (root / "groups.json").is_file():
        groups = load_groups(root / "groups.json", filenames)
    return Bunch(noisy=noisy, clean=clean, filenames=filenames, groups=groups)
