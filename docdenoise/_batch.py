"""Clean image files in bulk and load folders of noisy/clean pairs.

:func:`denoise_files` is what ``docdenoise denoise`` runs: it expands files,
folders and glob patterns, plans one ``.png`` output per input (refusing plans that
would overwrite an input or, without ``overwrite``, an existing file), then loads,
cleans and writes one page at a time with atomic writes, so memory stays at one
page and an interruption never leaves a half-written PNG. A file that cannot be
read is reported and skipped; the others are still cleaned.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .datasets._io import (
    IMAGE_EXTENSIONS,
    _list_dir,
    load_images,
    natural_key,
    save_images,
)
from .datasets._kaggle import _load_groups, load_dirty_documents
from .exceptions import DocDenoiseError, ImageFileError

__all__ = [
    "BatchReport",
    "denoise_files",
    "expand_inputs",
    "load_image_pairs",
    "plan_outputs",
]

PathLike = str | os.PathLike


@dataclass
class BatchReport:
    """What :func:`denoise_files` did.

    Attributes
    ----------
    written : list of pathlib.Path
        Output files written, in input order.
    failed : list of (pathlib.Path, str)
        Input files that were skipped, with the reason.
    """

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every input was cleaned."""
        return not self.failed


def expand_inputs(inputs: Iterable[PathLike]) -> list[Path]:
    """Turn files, folders and glob patterns into a list of image files.

    A folder contributes its image files (``.png``, ``.jpg``, ``.jpeg``, ``.tif``,
    ``.tiff``; not recursive; natural sort). A pattern such as ``"scans/*.jpg"`` or
    ``"scans/**/*.png"`` contributes the image files it matches (natural sort). A
    plain file is taken as given, whatever its suffix, so that a file that cannot
    be read is reported rather than silently ignored. Duplicates are dropped.

    Parameters
    ----------
    inputs : iterable of str or path-like
        Files, folders and glob patterns.

    Returns
    -------
    files : list of pathlib.Path
        The image files, in the order given.

    Raises
    ------
    ImageFileError
        No inputs, an input that does not exist, a pattern that matches no image
        file, or a folder without image files.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ["10.png", "2.png", "notes.txt"]:
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in expand_inputs([folder])]
    ['2.png', '10.png']
    >>> [p.name for p in expand_inputs([str(folder / "1*.png")])]
    ['10.png']
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += _list_dir(path, None)
        elif path.exists():
            files.append(path)
        elif glob.has_magic(str(item)):
            matches = [
                Path(m)
                for m in glob.glob(str(item), recursive=True)
                if Path(m).is_file() and Path(m).suffix.lower() in IMAGE_EXTENSIONS
            ]
            if not matches:
                raise ImageFileError(f"No image files match the pattern {str(item)!r}.")
            files += sorted(matches, key=lambda p: (natural_key(p.parent), natural_key(p)))
        else:
            raise ImageFileError(f"Input {str(item)!r} does not exist.")
    if not files:
        raise ImageFileError("No input files given.")
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def plan_outputs(
    files: Iterable[PathLike], out_dir: PathLike, *, overwrite: bool = False
) -> list[Path]:
    """Name the output of each input file: ``out_dir / (stem + ".png")``.

    Checks the whole plan before anything is written.

    Parameters
    ----------
    files : iterable of str or path-like
        Input image files.
    out_dir : str or path-like
        Output folder (need not exist yet).
    overwrite : bool, default=False
        Allow replacing existing output files. Inputs are never replaced.

    Returns
    -------
    outputs : list of pathlib.Path
        One output path per input.

    Raises
    ------
    ValueError
        ``out_dir`` is a file, two inputs would share an output name, or an output
        would replace an input file.
    FileExistsError
        An output exists and ``overwrite`` is False.

    Examples
    --------
    >>> [str(p) for p in plan_outputs(["scans/a.jpg", "b.tif"], "clean")]
    ['clean/a.png', 'clean/b.png']
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"Output folder {str(out)!r} exists and is not a folder.")
    paths = [Path(f) for f in files]
    inputs = {p.resolve(): p for p in paths}
    outputs: list[Path] = []
    by_dest: dict[Path, Path] = {}
    for f in paths:
        dest = out / (f.stem + ".png")
        key = dest.resolve()
        if key in inputs:
            raise ValueError(
                f"Writing {str(dest)!r} would overwrite the input file "
                f"{str(inputs[key])!r}; choose another output folder."
            )
        if key in by_dest:
            raise ValueError(
                f"{str(by_dest[key])!r} and {str(f)!r} would both be written to "
                f"{str(dest)!r}; rename one of them or clean them separately."
            )
        by_dest[key] = f
        outputs.append(dest)
    if not overwrite:
        existing = [d for d in outputs if d.exists()]
        if existing:
            what = f"{str(existing[0])!r} already exists"
            if len(existing) > 1:
                what = f"{str(existing[0])!r} and {len(existing) - 1} more outputs already exist"
            raise FileExistsError(
                f"{what}; pass overwrite=True (--overwrite) to replace existing outputs, or "
                "choose another output folder."
            )
    return outputs


def denoise_files(
    denoiser: Any,
    inputs: Iterable[PathLike],
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    progress: bool = False,
    on_error: Callable[[Path, str], None] | None = None,
) -> BatchReport:
    """Clean image files with a fitted denoiser and write them as PNG files.

    Each output keeps its input's name (with a ``.png`` suffix) and size. Pages
    are processed one at a time; each PNG is written atomically. A file that cannot
    be read or cleaned is skipped and listed in the report.

    Parameters
    ----------
    denoiser : fitted DocumentDenoiser or transformer
        Anything with ``transform(list_of_2d_arrays)``.
    inputs : iterable of str or path-like
        Files, folders and glob patterns (see :func:`expand_inputs`).
    out_dir : str or path-like
        Output folder, created if missing.
    overwrite : bool, default=False
        Replace existing output files. Input files are never replaced.
    progress : bool, default=False
        Show a progress bar over the files.
    on_error : callable, default=None
        Called as ``on_error(path, message)`` when a file is skipped.

    Returns
    -------
    report : BatchReport
        Files written and files skipped.

    Raises
    ------
    ImageFileError, ValueError, FileExistsError
        The inputs or the output plan are invalid (see :func:`expand_inputs` and
        :func:`plan_outputs`); raised before anything is written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from docdenoise.datasets import save_images
    >>> src, dst = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "out"
    >>> _ = save_images([np.full((4, 5), 0.5)], src, names=["page"])
    >>> _ = (src / "broken.png").write_bytes(b"not a png")
    >>> identity = FunctionTransformer()  # stands in for a fitted DocumentDenoiser
    >>> report = denoise_files(identity, [src], dst)
    >>> [p.name for p in report.written], [p.name for p, _ in report.failed]
    (['page.png'], ['broken.png'])
    """
    files = expand_inputs(inputs)
    outputs = plan_outputs(files, out_dir, overwrite=overwrite)
    report = BatchReport()
    bar = tqdm(total=len(files), desc="denoising", unit="page", disable=not progress)
    try:
        for src, dest in zip(files, outputs):
            bar.set_postfix_str(src.name, refresh=False)
            try:
                (image,) = load_images(src)
                (cleaned,) = denoiser.transform([image])
                save_images([cleaned], dest.parent, names=[dest.name], overwrite=overwrite)
            except (DocDenoiseError, OSError, ValueError) as exc:
                report.failed.append((src, str(exc)))
                if on_error is not None:
                    on_error(src, str(exc))
            else:
                report.written.append(dest)
            bar.update()
    finally:
        bar.close()
    return report


def load_image_pairs(path: PathLike) -> Bunch:
    """Load noisy/clean training pairs from a folder.

    Two layouts are recognised:

    * Kaggle "Denoising Dirty Documents": ``train/`` and ``train_cleaned/`` (see
      :func:`~docdenoise.datasets.load_dirty_documents`);
    * ``noisy/`` and ``clean/``: files paired by name without suffix
      (``noisy/7.jpg`` with ``clean/7.png``).

    In both, an optional ``groups.json`` (a list of groups, each a list of file
    numbers or names) marks pages that share text.

    Parameters
    ----------
    path : str or path-like
        The folder.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``noisy`` and ``clean`` (lists of float32 2-D arrays), ``filenames`` (list
        of str) and ``groups`` (ndarray or None).

    Raises
    ------
    ImageFileError
        The folder has neither layout, a file has no partner, sizes differ, or a
        file is not a readable image.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from docdenoise.datasets import save_images
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = save_images([np.full((4, 5), 0.5)], root / "noisy", names=["a"])
    >>> _ = save_images([np.ones((4, 5))], root / "clean", names=["a"])
    >>> data = load_image_pairs(root)
    >>> data.filenames, data.noisy[0].shape
    (['a.png'], (4, 5))
    """
    root = Path(path)
    if not root.is_dir():
        raise ImageFileError(f"Data folder {str(root)!r} does not exist.")
    if (root / "train").is_dir() and (root / "train_cleaned").is_dir():
        data = load_dirty_documents(root, include_test=False)
        return Bunch(
            noisy=data.noisy,
            clean=data.clean,
            filenames=data.filenames,
            groups=data.groups,
        )
    if not ((root / "noisy").is_dir() and (root / "clean").is_dir()):
        raise ImageFileError(
            f"{str(root)!r} holds neither train/ + train_cleaned/ (Kaggle layout) nor "
            "noisy/ + clean/ subfolders of paired images."
        )
    noisy_files = _list_dir(root / "noisy", None)
    clean_by_stem: dict[str, Path] = {}
    for p in _list_dir(root / "clean", None):
        if p.stem in clean_by_stem:
            raise ImageFileError(
                f"Two clean files share the name {p.stem!r}: {str(clean_by_stem[p.stem])!r} "
                f"and {str(p)!r}."
            )
        clean_by_stem[p.stem] = p
    noisy_stems = {p.stem for p in noisy_files}
    for p in noisy_files:
        if p.stem not in clean_by_stem:
            raise ImageFileError(
                f"Noisy page {str(p)!r} has no clean partner named {p.stem!r} in "
                f"{str(root / 'clean')!r}."
            )
    for stem, p in clean_by_stem.items():
        if stem not in noisy_stems:
            raise ImageFileError(f"Clean page {str(p)!r} has no noisy partner.")
    noisy, clean = [], []
    for p in noisy_files:
        (x,) = load_images(p)
        (y,) = load_images(clean_by_stem[p.stem])
        if x.shape != y.shape:
            raise ImageFileError(
                f"Size mismatch: {str(p)!r} is {x.shape[1]}x{x.shape[0]} (WxH) but its "
                f"clean partner {str(clean_by_stem[p.stem])!r} is {y.shape[1]}x{y.shape[0]}."
            )
        noisy.append(x)
        clean.append(y)
    filenames = [p.name for p in noisy_files]
    groups = None
    if (root / "groups.json").is_file():
        groups = _load_groups(root / "groups.json", filenames)
    return Bunch(noisy=noisy, clean=clean, filenames=filenames, groups=groups)
