"""Atomic file writes: the one writer behind model files, saved images and documents.

A file is written to a hidden temporary file in its destination folder (same file
system), flushed to disk and then moved into place in one step, so a crash, a full
disk or Ctrl-C leaves either the previous file or the complete new one, never a
half-written file, and no temporary file behind. The new file gets the usual
permissions (``0666`` minus the umask), not the private ``0600`` of
:func:`tempfile.mkstemp`.

:func:`atomic_write` hands a file object to a function that fills it;
:func:`atomic_path` hands a path, for writers that want a file name (OCRmyPDF).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "check_writable_folder"]


def _create_temp_next_to(path: Path) -> tuple[int, str]:
    """Create a new hidden temporary file in ``path``'s folder; return ``(fd, name)``."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file next to {str(path)!r}.")


def _move_into_place(tmp: str, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic, and fails if path exists
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} already exists.") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise FileExistsError(f"{str(path)!r} already exists.") from None
        os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """A temporary file next to ``path`` that replaces ``path`` if the block succeeds.

    Write the new content to the yielded path (it exists, empty). When the block
    ends without an error, the file is flushed to disk and moved into place in
    one step; on any error or interruption it is removed and ``path`` is left as
    it was.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its folder must exist.
    overwrite : bool, default=True
        Replace an existing ``path``. If False, an existing ``path`` raises
        :class:`FileExistsError` (checked atomically at the final step) and is
        left untouched.

    Yields
    ------
    tmp : pathlib.Path
        The temporary file, in the same folder as ``path``.

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot save to {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    if path.is_dir():
        raise IsADirectoryError(f"Cannot save to {str(path)!r}: it is a folder.")
    try:
        fd, tmp = _create_temp_next_to(path)
    except FileExistsError:
        raise
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        try:
            yield Path(tmp)
            os.fsync(fd)  # what was written through any handle to the file
        finally:
            os.close(fd)
        _move_into_place(tmp, path, overwrite)
    finally:  # after a hard link, or after any failure or interruption
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write(
    path: str | os.PathLike, write: Callable[[BinaryIO], object], *, overwrite: bool = True
) -> None:
    """Write a file atomically: ``write(fh)`` fills a temporary file that then replaces ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its folder must exist.
    write : callable
        Called once with a binary file object open for writing (and reading back
        what was written, as the TIFF writer does).
    overwrite : bool, default=True
        Replace an existing ``path``. If False, an existing ``path`` raises
        :class:`FileExistsError` (checked atomically at the final step) and is
        left untouched.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, FileExistsError
        As :func:`atomic_path`: no folder, a folder in the way, a file in the way.
    """
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "r+b") as fh:
        write(fh)
        fh.flush()


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: fh.write(data), overwrite=overwrite)


def check_writable_folder(folder: str | os.PathLike, *, what: str = "Folder") -> None:
    """Check that files can be written into ``folder``, before any work is done.

    The check is the writer's own first step: a temporary file is created (and
    removed at once) in ``folder``, or, if ``folder`` does not exist yet, in the
    nearest existing folder above it, where ``folder`` would be created. So it sees
    what permission bits alone do not (read-only mounts, ACLs, a full disk) and
    agrees with the writes that follow.

    Parameters
    ----------
    folder : str or path-like
        The folder files will be written into.
    what : str, default="Folder"
        How to call the folder in messages (``"Output folder"``).

    Raises
    ------
    NotADirectoryError
        ``folder``, or a path above it, is a file.
    OSError
        Files cannot be created there (e.g. :class:`PermissionError`); the message
        names the folder and the reason.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from docdenoise.parallel import check_writable_folder
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_writable_folder(folder / "cleaned")  # would be created: fine
    >>> (folder / "notes.txt").write_text("a file")
    6
    >>> check_writable_folder(folder / "notes.txt" / "cleaned")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    NotADirectoryError: Folder '.../notes.txt/cleaned': '.../notes.txt' is not a folder.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{what} {str(folder)!r}: {str(existing)!r} is not a folder.")
    try:
        fd, tmp = _create_temp_next_to(existing / "docdenoise-write-check")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if existing == folder:
            message = f"{what} {str(folder)!r} is not writable: {reason}."
        else:
            message = f"{what} {str(folder)!r} cannot be created in {str(existing)!r}: {reason}."
        raise type(exc)(message) from None
    os.close(fd)
    os.unlink(tmp)
