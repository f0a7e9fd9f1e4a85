"""The web application: one static page and a small JSON API over a :class:`Workshop`.

Built on Starlette, the small ASGI toolkit underneath FastAPI: the API has a handful
of routes whose input is a file and two query parameters, so FastAPI's request
models and generated API documentation would add pydantic and weight without
adding anything the page uses.

=======================================  ===============================================
Route                                    What it does
=======================================  ===============================================
``GET /``                                the page (``static/index.html``)
``GET /api/config``                      models, tta levels, limits, version
``POST /api/jobs?name=&model=&tta=``     the file itself as the request body; answers
                                         the new job, or an ``{"error": ...}`` saying
                                         why the file was refused (400, 413, 422)
``GET /api/jobs/{id}``                   the job: state, pages done, each page's state
``DELETE /api/jobs/{id}``                forget the job and delete its files
``GET /api/jobs/{id}/pages/{n}/{side}``  page ``n`` before or after cleaning (PNG)
``GET /api/jobs/{id}/result``            the cleaned file (PNG, PDF or TIFF)
``GET /api/results.zip?ids=a,b``         the cleaned files of finished jobs, zipped
=======================================  ===============================================

The upload is streamed into the workshop's folder and cut off at the size limit,
so nothing is written anywhere else (no multipart parsing, no spooled temporary
files). Requests must name this server as their host (``127.0.0.1`` or
``localhost`` unless the server listens elsewhere), which keeps other web sites
from reaching it through DNS rebinding, and a page from another origin cannot
post files to it.
"""

from __future__ import annotations

import contextlib
import secrets
import zipfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import DocumentDenoiser, __version__
from ._jobs import JobRefused, Workshop

__all__ = ["STATIC", "build_app"]

#: The page's HTML, CSS and JavaScript.
STATIC = Path(__file__).parent / "static"


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _workshop(request: Request) -> Workshop:
    return request.app.state.workshop


def _tta_levels() -> list[int]:
    choices = DocumentDenoiser.parameter_rules["tta"].choices or ()
    return [c for c in choices if type(c) is int]


def _cross_site(request: Request) -> bool:
    """A request sent by a page of another origin (browsers always say which)."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def _config(request: Request) -> Response:
    workshop = _workshop(request)
    return JSONResponse(
        {
            "version": __version__,
            "models": workshop.models.names,
            "tta_levels": _tta_levels(),
            "max_upload_bytes": workshop.max_upload_bytes,
            "max_pages": workshop.max_pages,
        }
    )


def _options(request: Request) -> tuple[str, str, int | None]:
    """``(name, model, tta)`` from the query, checked; JobRefused when wrong."""
    workshop = _workshop(request)
    query = request.query_params
    name = query.get("name", "")
    if not name:
        raise JobRefused("Expected the file's name as ?name=.", 400)
    model = query.get("model") or workshop.models.names[0]
    if model not in workshop.models.names:
        raise JobRefused(
            f"Unknown model {model!r}; expected one of {', '.join(workshop.models.names)}.", 400
        )
    raw = query.get("tta", "")
    levels = _tta_levels()
    if raw in ("", "model"):
        return name, model, None
    if not raw.isdigit() or int(raw) not in levels:
        raise JobRefused(
            f"tta must be one of {', '.join(map(str, levels))} (views averaged), got {raw!r}.",
            400,
        )
    return name, model, int(raw)


def _too_large(name: str, limit: int) -> JobRefused:
    return JobRefused(
        f"{name} is larger than {limit / 2**20:g} MB, the largest file this server takes "
        "(docdenoise serve --max-upload-mb). Split it, or start the server with a "
        "higher limit.",
        413,
    )


async def _create_job(request: Request) -> Response:
    if _cross_site(request):
        return _error("Uploads from other web sites are refused.", 403)
    workshop = _workshop(request)
    limit = workshop.max_upload_bytes
    try:
        name, model, tta = _options(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(name, limit)
        folder, upload = workshop.new_upload()
        size = 0
        try:
            with open(upload, "wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(name, limit)
                    fh.write(chunk)
            if size == 0:
                raise JobRefused(f"{name} is empty (0 bytes).", 422)
        except BaseException:
            upload.unlink(missing_ok=True)
            folder.rmdir()
            raise
        job = await run_in_threadpool(workshop.submit, upload, name, model, tta)
    except JobRefused as exc:
        return _error(str(exc), exc.status)
    except ClientDisconnect:  # the page was closed mid-upload: nothing to answer, nothing kept
        return Response(status_code=400)
    return JSONResponse(job.as_dict(), status_code=201)


async def _job(request: Request) -> Response:
    status = _workshop(request).status(request.path_params["job"])
    if status is None:
        return _error("No such job (the server may have been restarted).", 404)
    return JSONResponse(status)


async def _delete_job(request: Request) -> Response:
    if _cross_site(request):
        return _error("Requests from other web sites are refused.", 403)
    if not _workshop(request).remove(request.path_params["job"]):
        return _error("No such job.", 404)
    return Response(status_code=204)


async def _page(request: Request) -> Response:
    job = _workshop(request).job(request.path_params["job"])
    side = request.path_params["side"]
    if job is None or side not in ("before.png", "after.png"):
        return _error("No such page.", 404)
    path = job.page_file(request.path_params["number"], side.removesuffix(".png"))
    if not path.is_file():
        return _error("This page is not ready yet.", 404)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})


async def _result(request: Request) -> Response:
    job = _workshop(request).job(request.path_params["job"])
    if job is None:
        return _error("No such job.", 404)
    if job.state != "done":
        return _error(f"{job.name} is not cleaned yet.", 404)
    return FileResponse(job.result, filename=job.result_name)


def _zip(workshop: Workshop, ids: list[str]) -> tuple[Path, int]:
    """The finished jobs' results in a zip file (stored: PNG and PDF are compressed)."""
    assert workshop.folder is not None
    path = workshop.folder / f"results-{secrets.token_hex(8)}.zip"
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for job_id in ids:
            job = workshop.job(job_id)
            if job is None or job.state != "done":
                continue
            name, stem, n = job.result_name, Path(job.result_name).stem, 1
            while name in used:
                n += 1
                name = f"{stem} ({n}){Path(job.result_name).suffix}"
            used.add(name)
            archive.write(job.result, name)
            count += 1
    return path, count


async def _results_zip(request: Request) -> Response:
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    path, count = await run_in_threadpool(_zip, _workshop(request), ids)
    if count == 0:
        path.unlink()
        return _error("None of these files is cleaned yet.", 404)
    return FileResponse(
        path,
        filename="docdenoise-cleaned.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def build_app(workshop: Workshop, *, allowed_hosts: Sequence[str]) -> Starlette:
    """The Starlette application serving ``workshop``, which it opens and closes.

    Only requests naming one of ``allowed_hosts`` as their host are answered
    (``"*"``: any).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with workshop:
            yield

    app = Starlette(
        routes=[
            Route("/", _index),
            Route("/api/config", _config),
            Route("/api/jobs", _create_job, methods=["POST"]),
            Route("/api/jobs/{job}", _job),
            Route("/api/jobs/{job}", _delete_job, methods=["DELETE"]),
            Route("/api/jobs/{job}/pages/{number:int}/{side}", _page),
            Route("/api/jobs/{job}/result", _result),
            Route("/api/results.zip", _results_zip),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
        lifespan=lifespan,
    )
    app.state.workshop = workshop
    return app
