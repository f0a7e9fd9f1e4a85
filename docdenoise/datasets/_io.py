"""Read and write grayscale document images (PNG, JPEG, TIFF, BMP, WebP).

Grayscale rule applied by :func:`~docdenoise.datasets.load_images`
--------------------------------------------------------------------
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

JPEG EXIF orientation is applied. The pages of multi-page TIFF and PDF files are
read by :mod:`docdenoise.datasets._pages`.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._atomic import atomic_write
from .._params import BIT_DEPTH, BIT_DEPTHS
from .._paths import path_problem
from .._validation import check_images, to_float_image
from ..exceptions import ImageFileError

__all__ = [
    "BIT_DEPTHS",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_PIXELS",
    "PAGE_EXTENSIONS",
    "TooManyPixelsError",
    "check_pixel_count",
    "expand_inputs",
    "grey_levels",
    "list_image_files",
    "natural_key",
    "read_image",
    "save_images",
    "within_pixel_limit",
]

#: File name suffixes of the image files read in a folder.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")

#: File name suffixes :func:`~docdenoise.datasets.load_images` and
#: :func:`expand_inputs` pick up in a folder: PDF and the image files.
PAGE_EXTENSIONS = (".pdf", *IMAGE_EXTENSIONS)

#: Largest image or page (width * height) that :func:`~docdenoise.datasets.load_images`
#: opens by default: 2**28 pixels, e.g. 16384 x 16384, a 1 GiB float32 array. Larger
#: files and pages are refused as possible decompression bombs unless ``max_pixels``
#: is raised (``--max-pixels``).
MAX_IMAGE_PIXELS = 2**28

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")

_T = TypeVar("_T")


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


def _visible_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]


def list_image_files(
    folder: Path, pattern: str | None = None, extensions: tuple[str, ...] = IMAGE_EXTENSIONS
) -> list[Path]:
    """The files of a folder with these suffixes (not hidden, not recursive), in natural order."""
    if not folder.is_dir():
        raise ImageFileError(f"Image folder {str(folder)!r} {path_problem(folder, 'folder')}.")
    files = [
        p
        for p in _visible_files(folder)
        if p.suffix.lower() in extensions and (pattern is None or fnmatch(p.name, pattern))
    ]
    if not files:
        what = f"matching {pattern!r}" if pattern else "(" + ", ".join(extensions) + ")"
        raise ImageFileError(f"No image files {what} found in folder {str(folder)!r}.")
    return sorted(files, key=natural_key)


def expand_inputs(
    inputs: str | os.PathLike | Iterable[str | os.PathLike], *, return_skipped: bool = False
) -> Any:
    """Turn files, folders and glob patterns into a list of image and PDF files.

    A folder contributes its PDF and image files (``.pdf``, ``.png``, ``.jpg``,
    ``.jpeg``, ``.tif``, ``.tiff``, ``.bmp``, ``.webp``; not recursive; natural
    sort). A pattern such as ``"scans/*.jpg"`` or ``"scans/**/*.png"`` contributes
    the files of those kinds it matches (natural sort). A plain file is taken as
    given, whatever its suffix, so that a file that cannot be read is reported
    rather than silently ignored. Duplicates are dropped. The other files of a
    folder or a pattern are not read; ``return_skipped`` lists them.

    Parameters
    ----------
    inputs : str, path-like or iterable of them
        Files, folders and glob patterns.
    return_skipped : bool, default=False
        Also return the files found in folders and patterns that are not of a kind
        docdenoise reads (hidden files aside).

    Returns
    -------
    files : list of pathlib.Path
        The image and PDF files, in the order given.
    skipped : list of pathlib.Path
        Only with ``return_skipped=True``: the other files, in the order found.

    Raises
    ------
    ImageFileError
        No inputs, an input that does not exist, a pattern that matches no image
        or PDF file, or a folder without one.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ["10.png", "2.png", "scan.pdf", "notes.txt"]:
    ...     _ = (folder / name).write_bytes(b"")
    >>> from docdenoise.datasets import expand_inputs
    >>> files, skipped = expand_inputs([folder], return_skipped=True)
    >>> [p.name for p in files], [p.name for p in skipped]
    (['2.png', '10.png', 'scan.pdf'], ['notes.txt'])
    >>> [p.name for p in expand_inputs([str(folder / "1*.png")])]
    ['10.png']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files: list[Path] = []
    skipped: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(_visible_files(path), key=natural_key)
            kind = f"image or PDF files ({', '.join(PAGE_EXTENSIONS)})"
            where = f"in folder {str(path)!r}"
        elif path.exists():
            files.append(path)
            continue
        elif glob.has_magic(str(item)):
            found = [Path(m) for m in glob.glob(str(item), recursive=True) if Path(m).is_file()]
            found.sort(key=lambda p: (natural_key(p.parent), natural_key(p)))
            kind, where = "image or PDF files", f"match the pattern {str(item)!r}"
        else:
            raise ImageFileError(f"Input {str(item)!r} {path_problem(path)}.")
        readable = [p for p in found if p.suffix.lower() in PAGE_EXTENSIONS]
        others = [p for p in found if p.suffix.lower() not in PAGE_EXTENSIONS]
        if not readable:
            also = f"; only {len(others)} other file(s), e.g. {others[0].name!r}" if others else ""
            raise ImageFileError(f"No {kind} {where}{also}.")
        files += readable
        skipped += others
    if not files:
        raise ImageFileError("No input files given.")
    unique = _drop_duplicates(files)
    return (unique, _drop_duplicates(skipped)) if return_skipped else unique


def _drop_duplicates(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    unique = []
    for f in paths:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _resolve_paths(
    paths_or_dir: Any, pattern: str | None, extensions: tuple[str, ...] = IMAGE_EXTENSIONS
) -> list[Path]:
    if isinstance(paths_or_dir, (str, os.PathLike)):
        path = Path(paths_or_dir)
        if path.is_dir():
            return list_image_files(path, pattern, extensions)
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


class TooManyPixelsError(ImageFileError):
    """A file or page has more pixels than ``max_pixels`` (told as such, not as corrupt)."""


def check_pixel_count(
    where: str,
    width: int,
    height: int,
    max_pixels: int | None,
    *,
    verb: str = "has",
    at: str = "",
    fix: str = "",
) -> None:
    """Refuse a page of ``width`` x ``height`` pixels above ``max_pixels``: the one message.

    ``where`` names the file (and page), ``verb`` is ``"would be"`` for a page not
    rendered yet, ``at`` says how the size came about (``" at 600 dpi"``) and
    ``fix`` offers another way out (``" or a lower dpi"``).
    """
    if max_pixels is not None and width * height > max_pixels:
        raise TooManyPixelsError(
            f"{where} {verb} {width} x {height} = {width * height} pixels{at}, more than the "
            f"limit of {max_pixels} (a guard against decompression bombs); if you trust "
            f"the file, pass a larger max_pixels{fix}, or None for no limit (--max-pixels "
            "N or none on the command line)."
        )


#: Held while Pillow's own bomb guard is off for one file (see _without_pillow_guard).
_PILLOW_GUARD_LOCK = threading.Lock()


@contextmanager
def _without_pillow_guard() -> Iterator[None]:
    """Switch Pillow's decompression-bomb guard off for the body, under a lock.

    Pillow refuses images above ``2 * PIL.Image.MAX_IMAGE_PIXELS`` (about 179
    Mpx by default), a module global it reads when it opens and decodes a file or a
    TIFF page; it takes no limit per call. ``max_pixels`` is docdenoise's one limit,
    checked from the file header before anything is decoded, so for a file or page
    that only Pillow's guard refuses the global is set to ``None`` for the time of
    this one open, check and decode, and then restored. Other threads that open
    images with Pillow meanwhile are unguarded too; files within Pillow's limit
    never touch it.
    """
    with _PILLOW_GUARD_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def within_pixel_limit(decode: Callable[[], _T]) -> _T:
    """Run ``decode`` (a Pillow open or load that checks ``max_pixels`` itself).

    Pillow's bomb warning is silenced, and if Pillow's own guard refuses, ``decode``
    runs again with that guard lifted, so ``max_pixels`` alone decides.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return decode()
        except Image.DecompressionBombError:
            with _without_pillow_guard():
                return decode()


def _open_within(path: Path, max_pixels: int | None) -> Image.Image:
    """Check the size in the header against ``max_pixels``, then open and decode."""
    with Image.open(path) as probe:
        size = probe.size
        probe.verify()
    check_pixel_count(f"Image file {str(path)!r}", size[0], size[1], max_pixels)
    im = Image.open(path)
    im.load()
    return im


def _check_file(path: Path, what: str = "Image file") -> None:
    """Refuse a missing path, a folder and an empty file, naming them."""
    name = str(path)
    if not path.is_file():
        raise ImageFileError(f"{what} {name!r} {path_problem(path)}.")
    if path.stat().st_size == 0:
        raise ImageFileError(f"{what} {name!r} is empty (0 bytes).")


def _open_checked(path: Path, max_pixels: int | None) -> Image.Image:
    name = str(path)
    _check_file(path)
    try:
        return within_pixel_limit(lambda: _open_within(path, max_pixels))
    except TooManyPixelsError:
        raise
    except UnidentifiedImageError:
        raise ImageFileError(
            f"{name!r} is not an image file Pillow can read; expected PNG, JPEG, TIFF, "
            "BMP or WebP (or a PDF)."
        ) from None
    except PermissionError:
        raise ImageFileError(f"Image file {name!r} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageFileError(f"Image file {name!r} is truncated or corrupt: {exc}") from None


def read_image(path: Path, *, as_float: bool, max_pixels: int | None) -> np.ndarray:
    """The first page of an image file as a 2-D array (see ``load_images``)."""
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


def grey_levels(image: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """A checked float page in ``[0, 1]`` -> rounded ``uint8`` or ``uint16`` grey levels."""
    top, dtype = (65535.0, np.uint16) if bit_depth == 16 else (255.0, np.uint8)
    return np.round(image * np.float32(top)).astype(dtype)


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
    docdenoise.datasets.load_images : Read images back as float32 arrays.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from docdenoise.datasets import save_images
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in save_images(np.full((2, 8, 8), 0.5), folder)]
    ['0000.png', '0001.png']
    """
    BIT_DEPTH.check("bit_depth", bit_depth)
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
    for img, dest in zip(batch.images, dests):
        _write_png(Image.fromarray(grey_levels(img, bit_depth)), dest, overwrite)
    return dests
