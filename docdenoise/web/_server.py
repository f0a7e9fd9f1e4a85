"""Build the web application from options, and serve it on this machine with uvicorn.

This module imports without the ``web`` extra (so the command line can build its
options from :data:`PARAMETER_RULES` and the defaults here); Starlette and uvicorn
are imported when the application is built or served.
"""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from .. import DocumentDenoiser, pretrained_models
from .._params import Integer, Real
from ._jobs import Models, Workshop

__all__ = ["PARAMETER_RULES", "LocalServer", "create_app", "serve"]

#: What the options of :func:`create_app` and :func:`serve` accept (the command
#: line builds its options from them).
PARAMETER_RULES = {
    "max_upload_mb": Real(gt=0, unit="MiB"),
    "max_pages": Integer(1),
    "port": Integer(0, 65535),
}
#: Host names that reach a server listening on the loopback interface.
LOOPBACK = ("127.0.0.1", "localhost")


def _require_web_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f'The web page needs the web extra: pip install "docdenoise[web]" ({exc}).'
        ) from None


def _with_threads(load: Callable[[], Any], threads: int) -> Any:
    return load().set_params(n_threads=threads)


def _model_loaders(
    models: Sequence[str | Path] | None, device: str, threads: int | None
) -> dict[str, Callable[[], Any]]:
    """``display name -> loader`` for shipped model names and model files."""
    shipped = pretrained_models()
    if models is None:
        models = sorted(shipped, key=lambda name: name != "default")
        if not models:
            raise ValueError(
                "No pretrained model ships with this installation; pass a model file "
                "(train one with 'docdenoise train' or 'docdenoise demo')."
            )
    loaders: dict[str, Callable[[], Any]] = {}
    for model in models:
        load: Callable[[], Any]
        if isinstance(model, str) and model in shipped:
            name, load = model, partial(DocumentDenoiser.pretrained, model, device=device)
        elif Path(model).is_file():
            name, load = Path(model).name, partial(DocumentDenoiser.load, model, device=device)
        else:
            raise ValueError(
                f"{str(model)!r} is neither a shipped model ({', '.join(shipped) or 'none'}) "
                "nor a model file."
            )
        if threads is not None:
            load = partial(_with_threads, load, threads)
        loaders.setdefault(name, load)
    return loaders


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK or host == "::1" or host.startswith("127.")


def create_app(
    models=None,
    *,
    device="auto",
    threads=None,
    max_upload_mb=100,
    max_pages=200,
    host="127.0.0.1",
):
    """The web page of ``docdenoise serve`` as an ASGI application.

    Every uploaded file is cleaned page by page, one file at a time, in a worker
    thread; uploads, page images and results live in a temporary folder that
    exists while the application runs (from its startup to its shutdown) and is
    then removed with everything in it.

    Parameters
    ----------
    models : list of str or path-like, default=None
        The models the page offers, the first being the default: names of shipped
        models (:func:`docdenoise.pretrained_models`) and model files saved by
        :meth:`DocumentDenoiser.save <docdenoise.DocumentDenoiser.save>`. ``None``
        offers every shipped model, ``"default"`` first. Each is loaded when
        first used, then kept.
    device : str, default="auto"
        Where the models run (``"auto"``, ``"cpu"``, ``"cuda"``, ...).
    threads : int, default=None
        CPU threads for cleaning; ``None`` leaves torch's choice.
    max_upload_mb : float, default=100
        Largest file accepted, in MiB.
    max_pages : int, default=200
        Most pages accepted in one file.
    host : str, default="127.0.0.1"
        The address the server listens on. On the loopback interface only requests
        for ``127.0.0.1`` or ``localhost`` are answered (other web sites cannot
        reach the server through DNS rebinding); elsewhere any host name is.

    Returns
    -------
    app : starlette.applications.Starlette
        The application, for uvicorn or Starlette's test client.

    Raises
    ------
    ValueError
        A model is neither a shipped model nor a file, no model ships and none is
        given, or a limit is not a positive number.
    ImportError
        The ``web`` extra is not installed.

    See Also
    --------
    serve : Serve the application on this machine.

    Examples
    --------
    >>> from starlette.testclient import TestClient
    >>> from docdenoise.web import create_app
    >>> with TestClient(create_app(), base_url="http://127.0.0.1") as client:
    ...     config = client.get("/api/config").json()
    >>> "default" in config["models"], config["tta_levels"]
    (True, [1, 2, 4, 8, 16, 32])
    """
    _require_web_extra()
    from ._app import build_app

    PARAMETER_RULES["max_upload_mb"].check("max_upload_mb", max_upload_mb)
    PARAMETER_RULES["max_pages"].check("max_pages", max_pages)
    workshop = Workshop(
        Models(_model_loaders(models, device, threads)),
        max_upload_bytes=int(max_upload_mb * 2**20),
        max_pages=int(max_pages),
    )
    return build_app(workshop, allowed_hosts=LOOPBACK if _is_loopback(host) else ["*"])


class LocalServer:
    """uvicorn serving ``app`` on a socket bound at once (so port 0 gets a free port).

    :meth:`run` blocks until Ctrl-C (in the main thread) or :meth:`stop` (from
    another thread); the application's startup and shutdown run inside it.
    """

    def __init__(self, app: Any, host: str, port: int) -> None:
        _require_web_extra()
        import uvicorn

        PARAMETER_RULES["port"].check("port", port)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(128)  # browsers may connect now; uvicorn answers once it runs
        except OSError as exc:
            self.socket.close()
            hint = "; pick another port (0: any free port)" if port else ""
            raise OSError(f"Cannot listen on {host} port {port}: {exc.strerror}{hint}.") from None
        self.port = self.socket.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)

    def run(self) -> None:
        """Serve until stopped; then the application shuts down (its files go)."""
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def stop(self) -> None:
        """Ask a running server to finish (from another thread)."""
        self._server.should_exit = True


def serve(
    models=None,
    *,
    host="127.0.0.1",
    port=8000,
    device="auto",
    threads=None,
    max_upload_mb=100,
    max_pages=200,
    open_browser=False,
    log=print,
):
    """Serve the docdenoise web page on this machine until Ctrl-C.

    The default model is loaded first, so a damaged model file stops here, then
    the server listens on ``host``, says where with ``log``, and runs. Leaving
    (Ctrl-C) removes every uploaded and cleaned file.

    Parameters
    ----------
    models : list of str or path-like, default=None
        Shipped model names and model files to offer (see :func:`create_app`).
    host : str, default="127.0.0.1"
        The interface to listen on; the default is reachable from this machine
        only. ``"0.0.0.0"`` lets every computer that reaches this one upload files.
    port : int, default=8000
        The port; ``0`` picks a free one.
    device : str, default="auto"
        Where the models run.
    threads : int, default=None
        CPU threads for cleaning.
    max_upload_mb : float, default=100
        Largest file accepted, in MiB.
    max_pages : int, default=200
        Most pages accepted in one file.
    open_browser : bool, default=False
        Open the page in the default web browser.
    log : callable, default=print
        Receives the lines to show (the address, warnings).

    Raises
    ------
    OSError
        The port is taken, or ``host`` is not an address of this machine.
    ValueError, ModelFileError
        A model cannot be found or loaded.
    ImportError
        The ``web`` extra is not installed.

    See Also
    --------
    create_app : The application, to serve some other way.

    Examples
    --------
    >>> from docdenoise.web import serve
    >>> serve(port=0, open_browser=True)  # doctest: +SKIP
    docdenoise is serving on http://127.0.0.1:40207/ (Ctrl-C stops it and deletes its files)
    """
    app = create_app(
        models,
        device=device,
        threads=threads,
        max_upload_mb=max_upload_mb,
        max_pages=max_pages,
        host=host,
    )
    models_ = app.state.workshop.models
    models_.get(models_.names[0])  # a damaged model file stops here, before the server
    server = LocalServer(app, host, port)
    log(f"docdenoise is serving on {server.url} (Ctrl-C stops it and deletes its files)")
    if not _is_loopback(host):
        log(
            f"warning: listening on {host}: anyone who can reach this computer can upload "
            "files and read the cleaned results."
        )
    if open_browser:
        webbrowser.open(server.url.replace("0.0.0.0", "127.0.0.1"))
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn stopped first, then passes Ctrl-C on
        pass
    log("Stopped; the uploaded and cleaned files are deleted.")
