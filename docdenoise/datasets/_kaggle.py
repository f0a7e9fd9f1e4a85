"""Loader for the Kaggle "Denoising Dirty Documents" folder layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._paths import path_problem
from ..exceptions import ImageFileError
from ._io import MAX_IMAGE_PIXELS, list_image_files, read_image
from ._pairs import load_groups, read_pairs

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
    load_image_pairs : The same pairs, or ``noisy/`` and ``clean/`` folders.
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
        raise ImageFileError(f"Data folder {str(root)!r} {path_problem(root, 'folder')}.")
    for sub in ("train", "train_cleaned"):
        if not (root / sub).is_dir():
            raise ImageFileError(
                f"Expected the folder {str(root / sub)!r} (Kaggle layout: train/, "
                "train_cleaned/, optional test/), but it does not exist."
            )
    noisy, clean, filenames = read_pairs(
        root / "train", root / "train_cleaned", max_pixels=max_pixels
    )

    test, test_filenames = [], []
    if include_test and (root / "test").is_dir():
        for p in list_image_files(root / "test"):
            test.append(read_image(p, as_float=True, max_pixels=max_pixels))
            test_filenames.append(p.name)

    groups = None
    if (root / "groups.json").is_file():
        groups = load_groups(root / "groups.json", filenames)
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
