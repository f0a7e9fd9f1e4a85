"""Why a path cannot be used, in words: the one home of these messages.

``Path.exists()`` is False for a missing file, a broken symbolic link and a loop
of links alike, so "does not exist" would be wrong for two of them; a folder
given where a file is expected is a fourth case. :func:`path_problem` tells them
apart, for the readers of images and model files and for the command line.
"""

from __future__ import annotations

import errno
import os

__all__ = ["path_problem"]


def path_problem(path: str | os.PathLike, kind: str = "file") -> str:
    """Why ``path`` cannot be used as a ``kind`` (``"file"`` or ``"folder"``), in words.

    Parameters
    ----------
    path : str or path-like
        A path that is not an existing regular file (or folder).
    kind : {"file", "folder"}, default="file"
        What was expected there.

    Returns
    -------
    problem : str
        The end of a sentence: ``"does not exist"``, ``"is a broken symbolic link
        (to 'x', which does not exist)"``, ``"leads into a loop of symbolic
        links"``, ``"cannot be reached: permission denied"``, ``"is a folder, not a
        file"``, ``"is a file, not a folder"`` or ``"is not a regular file"``.

    Examples
    --------
    >>> from docdenoise._paths import path_problem
    >>> f"Input 'scan.png' {path_problem('/nonexistent/scan.png')}."
    "Input 'scan.png' does not exist."
    """
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "leads into a loop of symbolic links"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "cannot be reached: permission denied"
        if os.path.islink(path):
            target = os.readlink(os.fspath(path))
            return f"is a broken symbolic link (to {target!r}, which does not exist)"
        return "does not exist"
    if kind == "folder":
        return "is a file, not a folder"
    if os.path.isdir(path):
        return "is a folder, not a file"
    return "is not a regular file"
