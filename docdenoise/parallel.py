"""Denoise many image files, locally or spread over a dask cluster.

A hyper-parameter search goes beyond one machine without anything from this
module: scikit-learn runs its fits through joblib, and joblib's dask backend sends
them to a cluster::

    import joblib
    from dask.distributed import Client

    client = Client("scheduler-address:8786")
    with joblib.parallel_backend("dask", scatter=[noisy, clean]):
        GridSearchCV(DocumentDenoiser(), {"lr": [1e-3, 3e-3]}).fit(noisy, clean)

``scatter`` sends the pages to the workers once instead of with every fit (dask
warns about "large graphs" without it).

What this module adds is batch cleaning of files, the job behind
``docdenoise denoise``: :func:`denoise_files` reads, cleans and writes pages in
chunks, one after another in this process or each chunk a task on a dask worker.
The estimator is sent to the workers once, not with every task.
:func:`plan_outputs` names the output files and checks the plan before anything
is written.

dask is an optional dependency (``pip install docdenoise[dask]``), imported only
when a cluster is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._params import DPI, Bool, Integer, Options
from .datasets import Page, count_pages, expand_inputs, iter_pages, save_pages
from .datasets._pages import is_pdf
from .exceptions import DocDenoiseError, ImageFileError, NotFittedError

__all__ = ["PARAMETER_RULES", "BatchReport", "denoise_files", "plan_outputs"]

PathLike = str | os.PathLike

_DASK_HINT = (
    "dask.distributed is needed to denoise files on a dask cluster; install it with "
    "`pip install docdenoise[dask]` (or `pip install 'dask[distributed]'`)."
)
#: Errors that skip one file instead of stopping the batch.
_FILE_ERRORS = (DocDenoiseError, OSError, ValueError)
#: What the parameters of :func:`denoise_files` accept (the command line builds its
#: options from them): ``pages``, a document of several pages (a PDF, a multi-page
#: TIFF) becomes one file of its kind or one PNG per page; ``bilevel``, grey or black
#: and white; ``dpi``, the resolution of PDF pages that are not scans.
PARAMETER_RULES = {
    "chunk_size": Integer(1),
    "pages": Options("file", "png"),
    "bilevel": Bool(),
    "dpi": DPI,
}
#: Output suffix of each kind of document written whole.
_DOCUMENT_SUFFIXES = (".pdf", ".tif", ".tiff")


@dataclass
class BatchReport:
    """What :func:`denoise_files` did.

    Parameters
    ----------
    written : list of pathlib.Path
        Output files written, in input order.
    failed : list of (pathlib.Path, str)
        Input files that were skipped, with the reason, in input order.
    unsupported : list of pathlib.Path
        Files found in the input folders and patterns that are not of a kind
        docdenoise reads (not images or PDFs), so were not read.

    Examples
    --------
    >>> from pathlib import Path
    >>> from docdenoise.parallel import BatchReport
    >>> report = BatchReport(written=[Path("out/a.png")], failed=[(Path("b.png"), "corrupt")])
    >>> report.ok
    False
    """

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every input was cleaned."""
        return not self.failed


def _page_count(path: Path) -> int:
    """Pages of a file, or 1 when it cannot be read now (reading it later says why)."""
    try:
        return count_pages(path)
    except _FILE_ERRORS:
        return 1


def _output_name(src: Path, out: Path, n_pages: int, pages: str) -> Path:
    if pages == "file" and is_pdf(src):
        return out / (src.stem + ".pdf")
    if pages == "file" and n_pages > 1:
        return out / (src.stem + src.suffix.lower())  # a multi-page TIFF
    return out / (src.stem + ".png")


def _page_file(dest: Path, number: int) -> Path:
    """Page ``number`` of a document written as one PNG per page."""
    return dest.with_name(f"{dest.stem}-p{number:04d}.png")


def _files_of(dest: Path, n_pages: int) -> list[Path]:
    """The files an output plan entry stands for."""
    if dest.suffix.lower() == ".png" and n_pages > 1:
        return [_page_file(dest, i) for i in range(1, n_pages + 1)]
    return [dest]


def _plan(
    files: Sequence[Path], out_dir: PathLike, overwrite: bool, pages: str
) -> list[tuple[Path, Path, int]]:
    """``(input, output, pages of the input)`` for each input, checked."""
    PARAMETER_RULES["pages"].check("pages", pages)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"Output folder {str(out)!r} exists and is not a folder.")
    inputs = {p.resolve(): p for p in files}
    plan = []
    by_file: dict[Path, Path] = {}
    for src in files:
        n_pages = _page_count(src)
        dest = _output_name(src, out, n_pages, pages)
        for written in _files_of(dest, n_pages):
            key = written.resolve()
            if key in inputs:
                raise ValueError(
                    f"Writing {str(written)!r} would overwrite the input file "
                    f"{str(inputs[key])!r}; choose another output folder."
                )
            if key in by_file:
                raise ValueError(
                    f"{str(by_file[key])!r} and {str(src)!r} would both be written to "
                    f"{str(written)!r}; rename one of them or clean them separately."
                )
            by_file[key] = src
        plan.append((src, dest, n_pages))
    if not overwrite:
        existing = [f for _, dest, n in plan for f in _files_of(dest, n) if f.exists()]
        if existing:
            what = f"{str(existing[0])!r} already exists"
            if len(existing) > 1:
                what = f"{str(existing[0])!r} and {len(existing) - 1} more outputs already exist"
            raise FileExistsError(
                f"{what}; pass overwrite=True (--overwrite) to replace existing outputs, or "
                "choose another output folder."
            )
    return plan


def plan_outputs(
    files: Iterable[PathLike],
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    pages: str = "file",
) -> list[Path]:
    """Name the output of each input file, and check the whole plan before any work.

    A page keeps its name with a ``.png`` suffix (``scan_01.jpg`` ->
    ``scan_01.png``). A PDF becomes a PDF (``scan.pdf`` -> ``scan.pdf``) and a
    multi-page TIFF a TIFF, unless ``pages="png"``: then a document of several
    pages becomes one PNG per page, numbered from the name given here
    (``scan.png`` stands for ``scan-p0001.png``, ``scan-p0002.png``, ...).

    Parameters
    ----------
    files : iterable of str or path-like
        Input image and PDF files.
    out_dir : str or path-like
        Output folder (need not exist yet).
    overwrite : bool, default=False
        Allow replacing existing output files. Inputs are never replaced.
    pages : {"file", "png"}, default="file"
        How a document of several pages is written: one file of its kind, or one
        PNG per page.

    Returns
    -------
    outputs : list of pathlib.Path
        One output name per input.

    Raises
    ------
    ValueError
        ``out_dir`` is a file, two inputs would share an output file, an output
        would replace an input file, or ``pages`` is not one of its choices.
    FileExistsError
        An output exists and ``overwrite`` is False.

    Examples
    --------
    >>> from docdenoise.parallel import plan_outputs
    >>> [str(p) for p in plan_outputs(["scans/a.jpg", "b.tif", "c.pdf"], "clean")]
    ['clean/a.png', 'clean/b.png', 'clean/c.pdf']
    """
    return [dest for _, dest, _ in _plan([Path(f) for f in files], out_dir, overwrite, pages)]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(_DASK_HINT) from None
    return distributed


def _default_client() -> Any:
    """The running dask client, or None (also when dask is not installed)."""
    try:
        import distributed
    except ImportError:
        return None
    try:
        return distributed.get_client()
    except ValueError:  # no client running
        return None


@dataclass(frozen=True)
class _Settings:
    """How pages are read and written (sent to the workers with each chunk)."""

    overwrite: bool
    bilevel: bool
    dpi: float


def _read_page(src: Path, settings: _Settings) -> Page:
    pages = list(iter_pages(src, dpi=settings.dpi))
    if len(pages) != 1:
        raise ImageFileError(f"{str(src)!r} now has {len(pages)} pages; expected one.")
    return pages[0]


def _clean_page(denoiser: Any, page: Page) -> Page:
    try:
        (image,) = denoiser.transform([page.image])
    except _FILE_ERRORS as exc:
        raise DocDenoiseError(
            f"{str(page.source)!r}, page {page.number} of {page.page_count} could not be "
            f"cleaned: {exc}"
        ) from None
    return replace(page, image=image)


def _denoise_document(src: Path, dest: Path, denoiser: Any, settings: _Settings) -> list[Path]:
    """Stream the pages of one document through the denoiser into its output(s).

    Nothing of a document that fails halfway is left: a PDF or TIFF is written
    atomically as a whole, and the PNG pages written so far are removed.
    """
    cleaned = (_clean_page(denoiser, page) for page in iter_pages(src, dpi=settings.dpi))
    options = {"overwrite": settings.overwrite, "bilevel": settings.bilevel}
    if dest.suffix.lower() in _DOCUMENT_SUFFIXES:
        return [save_pages(cleaned, dest, **options)]
    written: list[Path] = []
    try:
        for page in cleaned:
            written.append(save_pages([page], _page_file(dest, page.number), **options))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def _denoise_chunk(
    items: Sequence[tuple[Path, Path, int]], denoiser: Any, settings: _Settings
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Read, clean and write one chunk of files (runs on a worker).

    Single pages of the chunk are cleaned in one ``transform`` call, so the
    network batches pages of equal size; documents of several pages (and PDFs)
    are streamed page by page. A file that cannot be read, cleaned or written is
    reported and skipped.
    """
    failed: list[tuple[Path, str]] = []
    written: dict[Path, list[Path]] = {}
    loaded: list[tuple[Path, Path, Page]] = []
    for src, dest, n_pages in items:
        try:
            if n_pages > 1 or dest.suffix.lower() in _DOCUMENT_SUFFIXES:
                written[src] = _denoise_document(src, dest, denoiser, settings)
            else:
                loaded.append((src, dest, _read_page(src, settings)))
        except _FILE_ERRORS as exc:
            failed.append((src, str(exc)))
    if loaded:
        try:
            cleaned = denoiser.transform([page.image for _, _, page in loaded])
        except _FILE_ERRORS:  # find the culprit(s): clean the pages one by one
            cleaned = []
            for src, _, page in loaded:
                try:
                    (image,) = denoiser.transform([page.image])
                except _FILE_ERRORS as exc:
                    failed.append((src, str(exc)))
                    image = None
                cleaned.append(image)
        for (src, dest, page), image in zip(loaded, cleaned):
            if image is None:
                continue
            try:
                save_pages(
                    [replace(page, image=image)],
                    dest,
                    overwrite=settings.overwrite,
                    bilevel=settings.bilevel,
                )
            except _FILE_ERRORS as exc:
                failed.append((src, str(exc)))
            else:
                written[src] = [dest]
    order = [src for src, _, _ in items]
    return [f for src in order for f in written.get(src, [])], failed


def denoise_files(
    denoiser: Any,
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    pages: str = "file",
    bilevel: bool = False,
    dpi: float = 300,
    client: Any = None,
    chunk_size: int = 8,
    progress: bool = False,
    on_error: Callable[[Path, str], None] | None = None,
) -> BatchReport:
    """Clean image and PDF files with a fitted denoiser and write them back.

    This is the job of ``docdenoise denoise``. Inputs are expanded (files, folders,
    glob patterns) and every output is named and checked before any work starts;
    then pages are read, cleaned and written in chunks of ``chunk_size``: one
    chunk after another in this process, or each chunk a task on a dask cluster
    (the denoiser is sent to every worker once). Each output keeps its input's
    name (with a ``.png`` suffix) and size and is written atomically. A file that
    cannot be read, cleaned or written is skipped and reported; the others are
    still cleaned.

    Parameters
    ----------
    denoiser : fitted transformer
        Anything with ``transform(list of images) -> list of images``: a fitted
        :class:`~docdenoise.DocumentDenoiser`, one wrapped in
        :class:`sklearn.frozen.FrozenEstimator`, a pipeline of image transformers
        or a stateless one such as :class:`~docdenoise.ClassicalDenoiser`. For a
        cluster whose workers run several threads in one process
        (``Client(processes=False)``), set ``n_threads=1`` on the denoiser so that
        tasks do not compete for the cores.
    inputs : str, path-like or iterable of them
        Files, folders and glob patterns (``"scans/*.jpg"``; see
        :func:`~docdenoise.datasets.expand_inputs`). On a cluster every worker
        must be able to read them (a shared or network file system).
    out_dir : str or path-like
        Output folder, created if missing; each page keeps its file name with a
        ``.png`` suffix (``scan_01.jpg`` -> ``scan_01.png``), a PDF stays a PDF and
        a multi-page TIFF a TIFF (see :func:`plan_outputs`). On a cluster the
        workers must be able to write there.
    overwrite : bool, default=False
        Replace existing output files. Input files are never replaced.
    pages : {"file", "png"}, default="file"
        A document of several pages (a PDF, a multi-page TIFF) becomes one file of
        its kind, each page with its physical size (``"file"``), or one PNG per
        page (``"png"``: ``scan-p0001.png``, ...). Its pages are read, cleaned and
        written one at a time, and nothing of a document that fails halfway is
        left behind. PNG and TIFF outputs keep the dpi of their input.
    bilevel : bool, default=False
        Write black-and-white pages (1 bit; CCITT G4 in PDF and TIFF) instead of
        grey.
    dpi : float, default=300
        Resolution at which PDF pages that are not scans are rendered (scanned
        pages keep their own).
    client : dask.distributed.Client, default=None
        A dask cluster to spread the chunks over. ``None`` uses the running
        default client if there is one (as dask itself does), otherwise this
        process.
    chunk_size : int, default=8
        Pages per chunk: cleaned in one ``transform`` call (pages of equal size
        share forward passes) and, on a cluster, one task. At most that many pages
        (and their results) are in memory at a time in each worker; ``1`` keeps
        one page at a time.
    progress : bool, default=False
        Show a progress bar over the files (tqdm, on stderr), advanced as chunks
        finish.
    on_error : callable, default=None
        Called here (never on a worker) as ``on_error(path, message)`` for each
        file that was skipped, as soon as its chunk is done.

    Returns
    -------
    report : BatchReport
        ``written``: the output files, in input order; ``failed``: the input files
        that could not be read, cleaned or written, with the reason (naming the
        page of a document), in input order; ``unsupported``: the files in the
        input folders and patterns that are neither images nor PDFs, not read.

    Raises
    ------
    ImageFileError
        The inputs are not image or PDF files (see
        :func:`~docdenoise.datasets.expand_inputs`).
    FileExistsError, ValueError
        The output plan is refused (see :func:`plan_outputs`), or ``chunk_size``,
        ``pages``, ``bilevel`` or ``dpi`` is not one of its values (ValueError).
    TypeError
        ``denoiser`` has no ``transform`` method.
    NotFittedError
        The denoiser is not fitted (:class:`docdenoise.NotFittedError`, a subclass
        of scikit-learn's).

    All of these are raised before anything is written.

    See Also
    --------
    plan_outputs : The output names and their checks.
    docdenoise.datasets.load_images, docdenoise.datasets.save_images

    Examples
    --------
    >>> import tempfile
    >>> from docdenoise import DocumentDenoiser
    >>> from docdenoise.datasets import make_dirty_documents, save_images
    >>> from docdenoise.parallel import denoise_files
    >>> noisy, clean = make_dirty_documents(3, shape=(16, 24), random_state=0)
    >>> den = DocumentDenoiser(epochs=1, random_state=0).fit(noisy, clean)
    >>> scans = save_images(noisy, tempfile.mkdtemp(), names=["a", "b", "c"])
    >>> _ = (scans[0].parent / "broken.png").write_bytes(b"not a png")
    >>> report = denoise_files(den, scans[0].parent, tempfile.mkdtemp())
    >>> [p.name for p in report.written], [p.name for p, _ in report.failed]
    (['a.png', 'b.png', 'c.png'], ['broken.png'])

    On a dask cluster:

    >>> from dask.distributed import Client  # doctest: +SKIP
    >>> with Client("scheduler-address:8786") as client:  # doctest: +SKIP
    ...     denoise_files(den, ["scans/"], "cleaned/", client=client)
    """
    given = {"chunk_size": chunk_size, "pages": pages, "bilevel": bilevel, "dpi": dpi}
    for name, value in given.items():
        PARAMETER_RULES[name].check(name, value)
    if not hasattr(denoiser, "transform"):
        raise TypeError(
            f"denoiser must be a fitted transformer with a transform method, got "
            f"{type(denoiser).__name__}."
        )
    try:
        check_is_fitted(denoiser)
    except SklearnNotFittedError as exc:
        raise NotFittedError(str(exc)) from None
    files, unsupported = expand_inputs(inputs, return_skipped=True)
    plan = _plan(files, out_dir, overwrite, pages)
    settings = _Settings(overwrite=overwrite, bilevel=bilevel, dpi=float(dpi))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    chunks = [plan[i : i + chunk_size] for i in range(0, len(plan), chunk_size)]
    order = {src: i for i, src in enumerate(files)}

    results: list[tuple[list[Path], list[tuple[Path, str]]]] = [([], [])] * len(chunks)
    bar = tqdm(total=len(files), desc="denoising", unit="file", disable=not progress)
    try:
        for i, (written, failed) in _run_chunks(chunks, denoiser, settings, client):
            failed = sorted(failed, key=lambda item: order[item[0]])
            results[i] = written, failed
            if on_error is not None:
                for path, message in failed:
                    on_error(path, message)
            bar.set_postfix_str(chunks[i][-1][0].name, refresh=False)
            bar.update(len(chunks[i]))
    finally:
        bar.close()
    report = BatchReport(unsupported=unsupported)
    for written, failed in results:
        report.written += written
        report.failed += failed
    report.failed.sort(key=lambda item: order[item[0]])
    return report


def _run_chunks(
    chunks: list[list[tuple[Path, Path, int]]], denoiser: Any, settings: _Settings, client: Any
) -> Iterator[tuple[int, tuple[list[Path], list[tuple[Path, str]]]]]:
    """Yield ``(chunk index, chunk result)`` as chunks finish, here or on a cluster."""
    if client is None:
        client = _default_client()
    if client is None:
        for i, chunk in enumerate(chunks):
            yield i, _denoise_chunk(chunk, denoiser, settings)
        return
    distributed = _distributed()  # a clear message if a client was passed but dask is gone
    [remote] = client.scatter([denoiser], broadcast=True, hash=False)
    futures = client.map(_denoise_chunk, chunks, denoiser=remote, settings=settings, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future, result in distributed.as_completed(futures, with_results=True):
            yield index[future.key], result
    finally:
        client.cancel([*futures, remote])
