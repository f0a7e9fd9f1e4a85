"""Loader for the Kaggle "Denoising Dirty Documents" folder layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import ImageFileError
from ._io import MAX_IMAGE_PIXELS, _list_dir, _read_image

__all__ = ["load_dirty_documents"]

_DESCR = """\
Denoising Dirty Documents (Kaggle layout)
=========================================

Folder: {root}

- noisy / clean: {n_pairs} pairs from ``train/`` and ``train_cleaned/``, paired by file
  name, natural sort (2.png before 10.png); float32 in [0, 1].
- test: {n_test} unpaired noisy images from ``test/``.
- groups: {groups}

Pages that share text must stay on one side of a train/validation split (use
``groups`` with ``sklearn.model_selection.GroupKFold``), or validation scores
measure memorised text. Check the data's own terms before redistributing it.
"""


def _load_groups(path: Path, filenames: list[str]) -> np.ndarray:
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
            "every image in train/ must belong to a group."
        )
    return np.array([group_of[Path(f).stem] for f in filenames], dtype=np.intp)


def load_dirty_documents(path, *, include_test=True, max_pixels=MAX_IMAGE_PIXELS):
    """Load noisy/clean page pairs stored in the Kaggle "Denoising Dirty Documents" layout.

    The folder holds ``train/`` (noisy scans), ``train_cleaned/`` (clean targets,
    same file names and sizes) and optionally ``test/`` (noisy scans without
    targets) and ``groups.json``: a list of groups, each a list of file numbers
    (``[[2, 5, 8, 11], ...]``) or names, marking pages that share their text.

    Parameters
    ----------
    path : str or path-like
        The folder that contains ``train/`` and ``train_cleaned/``.
    include_test : bool, default=True
        Also load ``test/`` when it exists.
    max_pixels : int or None, default=MAX_IMAGE_PIXELS
        Largest image accepted, as in :func:`load_images`.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes:

        noisy : list of ndarray of shape (H, W)
            Noisy pages, float32 in [0, 1], natural sort by file name.
        clean : list of ndarray of shape (H, W)
            The clean target of each noisy page.
        filenames : list of str
            File name of each pair (``"2.png"``).
        test : list of ndarray of shape (H, W)
            Images from ``test/`` (empty when absent or ``include_test=False``).
        test_filenames : list of str
            Their file names.
        groups : ndarray of shape (n_pairs,) or None
            Group index of each pair from ``groups.json``, or None without it.
        DESCR : str
            Description of the data.

    Raises
    ------
    ImageFileError
        A folder is missing, a noisy page has no clean partner (or the reverse),
        a pair differs in size, or a file is not a readable image.
    ValueError
        ``groups.json`` is malformed or leaves a file without a group.

    See Also
    --------
    load_images : Load the images of any folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from docdenoise.datasets import load_dirty_documents, save_images
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = save_images([np.full((8, 9), 0.7)] * 2, root / "train", names=["10", "2"])
    >>> _ = save_images([np.ones((8, 9))] * 2, root / "train_cleaned", names=["10", "2"])
    >>> data = load_dirty_documents(root)
    >>> data.filenames, data.noisy[0].shape, data.groups is None
    (['2.png', '10.png'], (8, 9), True)
    """
    root = Path(path)
    if not root.is_dir():
        raise ImageFileError(f"Data folder {str(root)!r} does not exist.")
    for sub in ("train", "train_cleaned"):
        if not (root / sub).is_dir():
            raise ImageFileError(
                f"Expected the folder {str(root / sub)!r} (Kaggle layout: train/, "
                "train_cleaned/, optional test/), but it does not exist."
            )
    noisy_files = _list_dir(root / "train", None)
    clean_names = {p.name for p in _list_dir(root / "train_cleaned", None)}
    noisy_names = {p.name for p in noisy_files}
    for p in noisy_files:
        if p.name not in clean_names:
            raise ImageFileError(
                f"Noisy page {str(p)!r} has no clean partner "
                f"{str(root / 'train_cleaned' / p.name)!r}."
            )
    for name in sorted(clean_names - noisy_names):
        raise ImageFileError(
            f"Clean page {str(root / 'train_cleaned' / name)!r} has no noisy partner "
            f"{str(root / 'train' / name)!r}."
        )

    noisy, clean, filenames = [], [], []
    for p in noisy_files:
        x = _read_image(p, as_float=True, max_pixels=max_pixels)
        y_path = root / "train_cleaned" / p.name
        y = _read_image(y_path, as_float=True, max_pixels=max_pixels)
        if x.shape != y.shape:
            raise ImageFileError(
                f"Size mismatch: {str(p)!r} is {x.shape[1]}x{x.shape[0]} (WxH) but its "
                f"clean partner {str(y_path)!r} is {y.shape[1]}x{y.shape[0]}."
            )
        noisy.append(x)
        clean.append(y)
        filenames.append(p.name)

    test, test_filenames = [], []
    if include_test and (root / "test").is_dir():
        for p in _list_dir(root / "test", None):
            test.append(_read_image(p, as_float=True, max_pixels=max_pixels))
            test_filenames.append(p.name)

    groups = None
    if (root / "groups.json").is_file():
        groups = _load_groups(root / "groups.json", filenames)
    groups_text = (
        f"{len(np.unique(groups))} groups from groups.json" if groups is not None else "None"
    )
    descr = _DESCR.format(root=root, n_pairs=len(noisy), n_test=len(test), groups=groups_text)
    return Bunch(
        noisy=noisy,
        clean=clean,
        filenames=filenames,
        test=test,
        test_filenames=test_filenames,
        groups=groups,
        DESCR=descr,
    )
