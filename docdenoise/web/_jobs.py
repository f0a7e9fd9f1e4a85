"""The work behind the web page: one job per uploaded file, cleaned in one worker thread.

A :class:`Workshop` owns a temporary folder and a worker thread. Each uploaded
file becomes a :class:`Job` with a folder of its own; the worker takes jobs one at
a time, in the order they came, so two uploads never share the CPU, and cleans
each page as it is read (:func:`docdenoise.datasets.iter_pages`), writing the page
as it was and as it came out (PNG, with its dpi) for the before/after view. A PDF
or multi-page TIFF is also written back whole, as a file of its kind
(:func:`docdenoise.datasets.save_pages`). Models are loaded once, on first use,
and kept.

Only the worker thread touches the models; the job records are shared with the
web server's threads under one lock, and :meth:`Job.as_dict` is what they read.
Nothing here knows about HTTP.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .. import DocDenoiseError
from ..datasets import Page, count_pages, is_pdf, iter_pages, save_pages

__all__ = ["Job", "JobRefused", "Models", "Workshop"]

#: File name suffixes kept on uploads (others are stored without one; the readers
#: recognise images and PDFs by their content).
_KNOWN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pdf")
#: Errors that fail one job with their message; anything else is a bug, reported too.
_JOB_ERRORS = (DocDenoiseError, OSError, ValueError, ImportError, MemoryError)


class JobRefused(Exception):
    """An upload that cannot become a job; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Cancelled(Exception):
    """The job was removed while it ran."""


class Models:
    """Denoisers by name, each loaded on first use and then kept.

    Parameters
    ----------
    loaders : mapping of str to callable
        ``name -> function returning a fitted DocumentDenoiser``, in display
        order; the first is the default.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        if not loaders:
            raise ValueError("No models to serve.")
        self._loaders = dict(loaders)
        self._loaded: dict[str, Any] = {}
        self._own_tta: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._loaders)

    def get(self, name: str, tta: int | None = None) -> Any:
        """The denoiser ``name``, averaging ``tta`` views (None: its own setting)."""
        with self._lock:
            if name not in self._loaded:
                estimator = self._loaders[name]()
                self._loaded[name], self._own_tta[name] = estimator, estimator.tta
            estimator = self._loaded[name]
            return estimator.set_params(tta=self._own_tta[name] if tta is None else tta)


def display_name(name: str) -> str:
    """The last part of an uploaded file's name, without control characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "upload"


@dataclass
class Job:
    """One uploaded file and what became of it. Read it through :meth:`as_dict`."""

    id: str
    name: str
    folder: Path
    source: Path
    n_pages: int
    model: str
    tta: int | None
    state: str = "queued"  # queued, running, done, failed
    pages: dict[int, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    removed: bool = False

    @property
    def document(self) -> Path | None:
        """Where a PDF or multi-page TIFF is written back whole (None for one image)."""
        if is_pdf(self.source):
            return self.folder / "result.pdf"
        if self.n_pages > 1:
            return self.folder / "result.tif"
        return None

    @property
    def result(self) -> Path:
        """The cleaned file: the document, or the one cleaned page."""
        return self.document or self.page_file(1, "after")

    @property
    def result_name(self) -> str:
        return f"{PurePosixPath(self.name).stem}-clean{self.result.suffix}"

    def page_file(self, number: int, side: str) -> Path:
        return self.folder / f"page-{number:04d}-{side}.png"

    def as_dict(self) -> dict[str, Any]:
        pages = [
            {"number": n, "state": "queued"} | self.pages.get(n, {})
            for n in range(1, self.n_pages + 1)
        ]
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "n_pages": self.n_pages,
            "pages_done": sum(p["state"] == "done" for p in pages),
            "pages": pages,
            "model": self.model,
            "tta": self.tta,
            "error": self.error,
            "result_name": self.result_name if self.state == "done" else None,
        }


class Workshop:
    """A temporary folder, the jobs in it and the worker thread that cleans them.

    Parameters
    ----------
    models : Models
        The denoisers to offer.
    max_upload_bytes : int
        Largest file accepted.
    max_pages : int
        Most pages accepted in one file.
    log : callable, default=None
        Where reports of unexpected errors go, with their traceback (default:
        standard error).

    Use it as a context manager: entering creates the folder and starts the
    worker, leaving stops the worker (after the page it is on) and removes the
    folder with everything in it.
    """

    def __init__(
        self,
        models: Models,
        *,
        max_upload_bytes: int,
        max_pages: int,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.models = models
        self.max_upload_bytes = max_upload_bytes
        self.max_pages = max_pages
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.folder: Path | None = None
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> Workshop:
        self._tmp = tempfile.TemporaryDirectory(
            prefix="docdenoise-serve-", ignore_cleanup_errors=True
        )
        self.folder = Path(self._tmp.name)
        self._worker = threading.Thread(target=self._work, name="docdenoise-cleaner", daemon=True)
        self._worker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.removed = True
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._tmp is not None:
            self._tmp.cleanup()
        self._jobs.clear()

    # ------------------------------------------------------------------ jobs

    def new_upload(self) -> tuple[Path, Path]:
        """A fresh job folder and the path to store the upload in (no job yet)."""
        if self.folder is None:
            raise RuntimeError("The workshop is not open.")
        folder = self.folder / secrets.token_urlsafe(12)
        folder.mkdir()
        return folder, folder / "upload"

    def submit(self, upload: Path, name: str, model: str, tta: int | None) -> Job:
        """Check an uploaded file and queue it; raise :class:`JobRefused` if it is refused.

        The file is read only as far as needed to count its pages. A refused
        upload's folder is removed.
        """
        folder = upload.parent
        name = display_name(name)
        suffix = PurePosixPath(name).suffix.lower()
        source = upload.rename(upload.with_suffix(suffix if suffix in _KNOWN_SUFFIXES else ""))
        try:
            n_pages = count_pages(source)
        except _JOB_ERRORS as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise JobRefused(_in_words(exc, source, name), 422) from None
        if n_pages > self.max_pages:
            shutil.rmtree(folder, ignore_errors=True)
            raise JobRefused(
                f"{name} has {n_pages} pages; this server cleans at most {self.max_pages} "
                "pages of one file (docdenoise serve --max-pages). Split the file, or "
                "start the server with a higher limit.",
                413,
            )
        job = Job(folder.name, name, folder, source, n_pages, model, tta)
        with self._lock:
            self._jobs[job.id] = job
        self._queue.put(job)
        return job

    def status(self, job_id: str) -> dict[str, Any] | None:
        """What :meth:`Job.as_dict` says, or None for an unknown job."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.as_dict()

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def remove(self, job_id: str) -> bool:
        """Forget a job and delete its files (a running job stops after its page)."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is None:
                return False
            job.removed = True
            running = job.state == "running"
        if not running:
            shutil.rmtree(job.folder, ignore_errors=True)
        return True

    # ------------------------------------------------------------------ worker

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.removed:
                    continue
                job.state = "running"
            try:
                self._clean(job)
            except _Cancelled:
                pass
            except _JOB_ERRORS as exc:
                self._fail(job, _in_words(exc, job.source, job.name))
            except Exception as exc:  # a bug: keep serving, say so on the page and here
                self.log(
                    f"docdenoise serve: unexpected error on {job.name}:\n" + traceback.format_exc()
                )
                self._fail(
                    job, f"Unexpected error ({type(exc).__name__}: {exc}); see the server's output."
                )
            else:
                with self._lock:
                    job.state = "done"
            if job.removed:
                shutil.rmtree(job.folder, ignore_errors=True)

    def _fail(self, job: Job, message: str) -> None:
        """Mark the job failed, and the page it stopped on (the first one not done)."""
        with self._lock:
            job.state, job.error = "failed", message
            for number in range(1, job.n_pages + 1):
                page = job.pages.setdefault(number, {})
                if page.get("state") != "done":
                    page["state"] = "failed"
                    break

    def _set_page(self, job: Job, number: int, **info: Any) -> None:
        with self._lock:
            if job.removed:
                raise _Cancelled
            job.pages.setdefault(number, {}).update(info)

    def _clean(self, job: Job) -> None:
        estimator = self.models.get(job.model, job.tta)

        def cleaned() -> Iterator[Page]:
            for page in iter_pages(job.source):
                height, width = page.image.shape
                self._set_page(job, page.number, state="working", width=width, height=height)
                save_pages([page.image], job.page_file(page.number, "before"), dpi=page.dpi)
                image = estimator.transform([page.image])[0]
                save_pages([image], job.page_file(page.number, "after"), dpi=page.dpi)
                self._set_page(job, page.number, state="done")
                yield Page(image, page.source, page.number, page.page_count, page.dpi)

        if job.document is not None:  # written whole when the last page is cleaned
            save_pages(cleaned(), job.document)
        else:
            for _ in cleaned():
                pass


def _in_words(exc: BaseException, path: Path, name: str) -> str:
    """An error's message, naming the user's file instead of the temporary copy."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.replace(repr(str(path)), repr(name)).replace(str(path), name)
