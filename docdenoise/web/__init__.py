"""A local web page to clean scans without writing code: ``docdenoise serve``.

:func:`serve` starts a small web server on this machine (``127.0.0.1`` unless told
otherwise) with one page: drop scanned pages (PNG, JPEG, TIFF, PDF) on it, watch
each page being cleaned, compare before and after, and download the results. Files
never leave the machine, and everything uploaded or cleaned lives in a temporary
folder that is removed when the server stops. :func:`create_app` gives the same
application to serve some other way. ``PARAMETER_RULES`` says what their options
``max_upload_mb``, ``max_pages`` and ``port`` accept (the command line builds its
options from it).

Needs the ``web`` extra: ``pip install "docdenoise[web]"`` (Starlette and uvicorn);
without it this module imports, and :func:`create_app` and :func:`serve` raise an
ImportError that says what to install.
"""

from __future__ import annotations

from ._server import PARAMETER_RULES, create_app, serve

__all__ = ["PARAMETER_RULES", "create_app", "serve"]
