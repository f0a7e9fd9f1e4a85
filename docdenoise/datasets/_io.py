"""Read and write grayscale document images (PNG, JPEG, TIFF).

Grayscale rule applied by :func:`load_images`
-------------------------------------------------
========================  ============================================================
File mode (Pillow)        Result
========================  ============================================================
``L`` (8-bit grey)        divided by 255
``1`` (1-bit)             black/white become 0/1
``RGB``, ``CMYK``, ...    Pillow's ``"L"`` conversion, ITU-R 601-2 luma:
                          ``L = R * 299/1000 + G * 587/1000 + B * 114/1000``
``RGBA``, ``LA``, ``PA``  alpha composited onto a white page first, then luma
``P`` (palette)           palette expanded (transparency onto white), then luma
``I;16`` (16-bit grey)    divided by 65535
``I`` (32-bit integer)    must hold 0..65535 (16-bit data); divided by 65535
``F`` (32-bit float)      must already lie in [0, 1]
========================  ============================================================

JPEG EXIF orientation is applied; a multi-page TIFF gives its first page.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._atomic import atomic_write
from .._params import BIT_DEPTHS, Options
from .._paths import path_problem
from .._validation import check_images, to_float_image
from ..exceptions import ImageFileError

__all__ = [
    "BIT_DEPTHS",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_PIXELS",
    "expand_inputs",
    "list_image_files",
    "load_images",
    "natural_key",
    "read_image",
    "save_images",
]

#: File name suffixes :func:`load_images` picks up in a directory.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

#: Largest image (width * height) that :func:`load_images` opens by default: 2**28
#: pixels, e.g. 16384 x 16384, a 1 GiB float32 array. Larger files are refused as
#: possible decompression bombs unless ``max_pixels`` is raised (``--max-pixels``).
MAX_IMAGE_PIXELS = 2**28

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def natural_key(name: str | os.PathLike) -> list[Any]:
    """Sort key that orders embedded numbers by value: ``2.png`` before ``10.png``.

    Parameters
    ----------
    name : str or path-like
        A file name or path; only the final component is used.

    Returns
    -------
    key : list
        Alternating text (lower-cased) and integer parts.

    Examples
    --------
    >>> sorted(["10.png", "2.png", "1.png"], key=natural_key)
    ['1.png', '2.png', '10.png']
    """
    text = Path(name).name
    parts = re.split(r"(\d+)", text)
    return [int(p) if p.isdigit() else p.lower() for p in parts] + [text]


def list_image_files(folder: Path, pattern: str | None = None) -> list[Path]:
    """The image files of a folder (not hidden, not recursive), in natural order."""
    if not folder.is_dir():
        raise ImageFileError(f"Image folder {str(folder)!r} {path_problem(folder, 'folder')}.")
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() in IMAGE_EXTENSIONS
        and (pattern is None or fnmatch(p.name, pattern))
    ]
    if not files:
        what = f"matching {pattern!r}" if pattern else "(" + ", ".join(IMAGE_EXTENSIONS) + ")"
        raise ImageFileError(f"No image files {what} found in folder {str(folder)!r}.")
    return sorted(files, key=natural_key)


def expand_inputs(inputs: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Turn files, folders and glob patterns into a list of image files.

    A folder contributes its image files (``.png``, ``.jpg``, ``.jpeg``, ``.tif``,
    ``.tiff``; not recursive; natural sort). A pattern such as ``"scans/*.jpg"`` or
    ``"scans/**/*.png"`` contributes the image files it matches (natural sort). A
    plain file is taken as given, whatever its suffix, so that a file that cannot
    be read is reported rather than silently ignored. Duplicates are dropped.

    Parameters
    ----------
    inputs : str, path-like or iterable of them
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
    >>> from docdenoise.datasets import expand_inputs
    >>> [p.name for p in expand_inputs([folder])]
    ['2.png', '10.png']
    >>> [p.name for p in expand_inputs([str(folder / "1*.png")])]
    ['10.png']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += list_image_files(path)
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
            raise ImageFileError(f"Input {str(item)!r} {path_problem(path)}.")
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


def _resolve_paths(paths_or_dir: Any, pattern: str | None) -> list[Path]:
    if isinstance(paths_or_dir, (str, os.PathLike)):
        path = Path(paths_or_dir)
        if path.is_dir():
            return list_image_files(path, pattern)
        return [path]
    if isinstance(paths_or_dir, Iterable):
        paths = [Path(p) for p in paths_or_dir]
        if not paths:
            raise ImageFileError("No image paths given: the list is empty.")
        return paths
    raise TypeError(
        "paths_or_dir must be a folder, a file path or a list of file paths, "
        f"got {type(paths_or_dir).__name__}."
    )


def _to_grayscale_array(im: Image.Image, path: Path) -> np.ndarray:
    """Pillow image in any mode -> 2-D uint8, uint16 or float32 array (see module doc)."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in _ALPHA_MODES:
        rgba = im.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(page, rgba).convert("L"))
    if mode == "L":
        return np.asarray(im)
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    if mode == "I":
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ImageFileError(
                f"{str(path)!r}: 32-bit integer image with values in [{arr.min()}, "
                f"{arr.max()}]; expected 16-bit grey levels 0..65535."
            )
        return arr.astype(np.uint16)
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1):
            raise ImageFileError(
                f"{str(path)!r}: floating-point image with values outside [0, 1] (or "
                "non-finite); expected grey levels in [0, 1]."
            )
        return arr
    return np.asarray(im.convert("RGB").convert("L"))


#: Held while Pillow's own bomb guard is off for one file (see _without_pillow_guard).
_PILLOW_GUARD_LOCK = threading.Lock()


@contextmanager
def _without_pillow_guard() -> Iterator[None]:
    """Switch Pillow's decompression-bomb guard off for the body, under a lock.

    Pillow refuses images above ``2 * PIL.Image.MAX_IMAGE_PIXELS`` (about 179
    Mpx by default), a module global it reads when it opens and decodes a file; it
    takes no limit per call. ``max_pixels`` is docdenoise's one limit, checked from
    the file header before anything is decoded, so for a file that only Pillow's
    guard refuses the global is set to ``None`` for the time of this one open,
    check and decode, and then restored. Other threads that open images with Pillow
    meanwhile are unguarded too; files within Pillow's limit never touch it.
    """
    with _PILLOW_GUARD_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _open_within(path: Path, max_pixels: int | None) -> Image.Image:
    """Check the size in the header against ``max_pixels``, then open and decode."""
    with Image.open(path) as probe:
        size = probe.size
        probe.verify()
    if max_pixels is not None and size[0] * size[1] > max_pixels:
        raise _TooLarge(
            f"Image file {str(path)!r} has {size[0]} x {size[1]} = {size[0] * size[1]} "
            f"pixels, more than the limit of {max_pixels} (a guard against decompression "
            "bombs); if you trust the file, pass a larger max_pixels, or None for no "
            "limit (--max-pixels N or none on the command line)."
        )
    im = Image.open(path)
    im.load()
    return im


class _TooLarge(Exception):
    """The file has more pixels than ``max_pixels`` (told as such, not as corrupt)."""


def _open_checked(path: Path, max_pixels: int | None) -> Image.Image:
    name = str(path)
    if not path.is_file():
        raise ImageFileError(f"Image file {name!r} {path_problem(path)}.")
    if path.stat().st_size == 0:
        raise ImageFileError(f"Image file {name!r} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            # Our own limit decides; Pillow's warning would be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                return _open_within(path, max_pixels)
            except Image.DecompressionBombError:  # Pillow's guard: max_pixels decides
                with _without_pillow_guard():
                    return _open_within(path, max_pixels)
    except _TooLarge as exc:
        raise ImageFileError(str(exc)) from None
    except UnidentifiedImageError:
        raise ImageFileError(
            f"{name!r} is not an image file Pillow can read; expected PNG, JPEG or TIFF."
        ) from None
    except PermissionError:
        raise ImageFileError(f"Image file {name!r} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageFileError(f"Image file {name!r} is truncated or corrupt: {exc}") from None


def read_image(path: Path, *, as_float: bool, max_pixels: int | None) -> np.ndarray:
    """One image file as a 2-D array (see :func:`load_images`)."""
    im = _open_checked(path, max_pixels)
    try:
        if im.format == "JPEG" or "exif" in im.info:
            im = ImageOps.exif_transpose(im)
        arr = _to_grayscale_array(im, path)
    finally:
        im.close()
    if as_float:
        return to_float_image(arr, name=str(path))
    return arr


def load_images(
    paths_or_dir,
    *,
    pattern=None,
    as_float=True,
    return_paths=False,
    max_pixels=MAX_IMAGE_PIXELS,
):
    """Load grayscale images from a folder, a file, or a list of files.

    Colour, alpha, palette, 1-bit and 16-bit files are turned into grayscale by the
    rule in the module docstring (ITU-R 601-2 luma, transparency composited onto
    white, 16-bit divided by 65535).

    Parameters
    ----------
    paths_or_dir : str, path-like or list of them
        A folder (its ``.png``, ``.jpg``, ``.jpeg``, ``.tif`` and ``.tiff`` files,
        not recursive, hidden files skipped, natural sort by name so that
        ``2.png`` comes before ``10.png``), a single image file, or a list of image
        files (kept in the given order).
    pattern : str, default=None
        Shell-style pattern (``"*.png"``) that file names in a folder must match.
        Ignored for explicit files.
    as_float : bool, default=True
        If True, return float32 arrays in ``[0, 1]``. If False, return the grey
        levels as stored: uint8 for 8-bit and 1-bit files (0/255), uint16 for
        16-bit files, float32 for floating-point TIFF.
    return_paths : bool, default=False
        Also return the path of each image.
    max_pixels : int or None, default=MAX_IMAGE_PIXELS
        Refuse images with more than this many pixels (``2**28``, checked from the
        file header before anything is decoded). ``None`` turns the check off. This
        is the one limit: Pillow's own decompression-bomb guard
        (``PIL.Image.MAX_IMAGE_PIXELS``, which refuses above about 179 Mpx) is
        raised to match it for files that need it.

    Returns
    -------
    images : list of ndarray of shape (H, W)
        One 2-D array per file.
    paths : list of pathlib.Path
        Only when ``return_paths=True``: the file of each image.

    Raises
    ------
    ImageFileError
        A file is missing, empty, not an image, truncated or corrupt, too large; or
        a folder holds no image files. The message names the file.

    See Also
    --------
    save_images : Write images as 8-bit grayscale PNG.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import load_images, save_images
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_images([np.zeros((4, 6)), np.ones((5, 3))], folder, names=["2", "10"])
    >>> images, paths = load_images(folder, return_paths=True)
    >>> [p.name for p in paths], images[0].shape, images[0].dtype
    (['2.png', '10.png'], (4, 6), dtype('float32'))
    """
    paths = _resolve_paths(paths_or_dir, pattern)
    images = [read_image(p, as_float=as_float, max_pixels=max_pixels) for p in paths]
    if return_paths:
        return images, paths
    return images


def _png_name(name: str) -> str:
    if Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"names must be plain file names without folders, got {name!r}.")
    suffix = Path(name).suffix.lower()
    if suffix == "":
        return name + ".png"
    if suffix != ".png":
        raise ValueError(f"save_images writes PNG files; got the name {name!r}.")
    return name


def _destinations(n: int, paths_or_dir: Any, names: Any) -> list[Path]:
    if isinstance(paths_or_dir, (str, os.PathLike)):
        target = Path(paths_or_dir)
        if n == 1 and target.suffix.lower() == ".png" and not target.is_dir():
            if names is not None:
                raise ValueError("names is only used when paths_or_dir is a folder.")
            return [target]
        if names is None:
            width = max(4, len(str(n - 1)))
            names = [f"{i:0{width}d}" for i in range(n)]
        names = list(names)
        if len(names) != n:
            raise ValueError(f"Expected {n} names (one per image), got {len(names)}.")
        return [target / _png_name(str(nm)) for nm in names]
    if names is not None:
        raise ValueError("names is only used when paths_or_dir is a folder.")
    paths = [Path(p) for p in paths_or_dir]
    if len(paths) != n:
        raise ValueError(f"Expected {n} paths (one per image), got {len(paths)}.")
    for p in paths:
        _png_name(p.name)
    return paths


def _write_png(im: Image.Image, dest: Path, overwrite: bool) -> None:
    try:
        atomic_write(dest, lambda fh: im.save(fh, format="PNG"), overwrite=overwrite)
    except FileExistsError:
        raise ImageFileError(
            f"{str(dest)!r} already exists; pass overwrite=True to replace it."
        ) from None


def save_images(images, paths_or_dir, *, names=None, overwrite=False, bit_depth=8):
    """Write images as 8-bit (or 16-bit) grayscale PNG files, atomically.

    Each file is written to a temporary file in the destination folder and moved
    into place, so a crash never leaves a half-written PNG under the final name.
    All images and destinations are checked before the first file is written.

    Parameters
    ----------
    images : 2-D array, list of 2-D arrays, or ndarray of shape (n, H, W)
        Images in any form :class:`~docdenoise.DocumentDenoiser` accepts. Floats
        must lie in ``[0, 1]``; uint8 and uint16 are scaled by their range. Values
        are rounded to 256 grey levels (65536 with ``bit_depth=16``).
    paths_or_dir : str, path-like or list of them
        A folder (created if missing) to write ``names`` into, one path per image,
        or a single ``.png`` path for a single image.
    names : list of str, default=None
        File names inside the folder; ``.png`` is appended when there is no suffix.
        Default ``0000.png``, ``0001.png``, ...
    overwrite : bool, default=False
        Replace existing files. If False, an existing destination raises
        :class:`~docdenoise.exceptions.ImageFileError` before anything is written.
    bit_depth : {8, 16}, default=8
        Bits per grey level: 8 (what every viewer and OCR engine reads) or 16 (to
        keep the precision of 16-bit scans).

    Returns
    -------
    paths : list of pathlib.Path
        The files written, in the order of ``images``.

    Raises
    ------
    ImageFileError
        A destination exists and ``overwrite`` is False.
    InvalidImageError
        The images are not valid 2-D grayscale images.

    See Also
    --------
    load_images : Read images back as float32 arrays.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import save_images
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in save_images(np.full((2, 8, 8), 0.5), folder)]
    ['0000.png', '0001.png']
    """
    Options(*BIT_DEPTHS).check("bit_depth", bit_depth)
    if isinstance(images, np.ndarray) and images.ndim == 2:
        images = [images]
    batch = check_images(images, name="images")
    dests = _destinations(len(batch), paths_or_dir, names)
    if len({d.resolve() for d in dests}) != len(dests):
        raise ValueError("Two images would be written to the same file; names must differ.")
    if not overwrite:
        for d in dests:
            if d.exists():
                raise ImageFileError(
                    f"{str(d)!r} already exists; pass overwrite=True to replace it."
                )
    for d in dests:
        if d.exists() and d.is_dir():
            raise ImageFileError(f"{str(d)!r} is a folder; expected a file path.")
        d.parent.mkdir(parents=True, exist_ok=True)
    top, dtype = (65535.0, np.uint16) if bit_depth == 16 else (255.0, np.uint8)
    for img, dest in zip(batch.images, dests):
        levels = np.round(img * np.float32(top)).astype(dtype)
        _write_png(Image.fromarray(levels), dest, overwrite)
    return dests
