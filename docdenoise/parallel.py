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

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._atomic import check_writable_folder
from ._params import BIT_DEPTHS, DPI, MAX_PIXELS, Bool, Integer, Options
from ._validation import to_float_image
from .datasets import (
    MAX_IMAGE_PIXELS,
    Page,
    count_pages,
    expand_inputs,
    iter_pages,
    save_pages,
)
from .datasets._pages import is_pdf
from .exceptions import DocDenoiseError, ImageFileError, NotFittedError

__all__ = [
    "PARAMETER_RULES",
    "BatchReport",
    "check_writable_folder",
    "denoise_files",
    "plan_outputs",
]

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
#: and white; ``dpi``, the resolution of PDF pages that are not scans; ``bit_depth``,
#: the bits per grey level of PNG and TIFF outputs (``"input"``: as the input);
#: ``max_pixels``, the largest page read; ``keep_folders``, mirror the input folders.
PARAMETER_RULES = {
    "chunk_size": Integer(1),
    "pages": Options("file", "png"),
    "bilevel": Bool(),
    "dpi": DPI,
    "bit_depth": Options("input", *BIT_DEPTHS),
    "max_pixels": MAX_PIXELS,
    "keep_folders": Bool(),
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
    files: Sequence[Path], out_dir: PathLike, overwrite: bool, pages: str, keep_folders: bool
) -> list[tuple[Path, Path, int]]:
    """``(input, output, pages of the input)`` for each input, checked."""
    PARAMETER_RULES["pages"].check("pages", pages)
    PARAMETER_RULES["keep_folders"].check("keep_folders", keep_folders)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"Output folder {str(out)!r} exists and is not a folder.")
    check_writable_folder(out, what="Output folder")
    inputs = {p.resolve(): p for p in files}
    folders = [Path(os.path.abspath(p.parent)) for p in files]
    shared = Path(os.path.commonpath(folders)) if keep_folders and files else None
    plan = []
    by_file: dict[Path, Path] = {}
    for src, folder in zip(files, folders):
        n_pages = _page_count(src)
        below = folder.relative_to(shared) if shared is not None else Path()
        dest = _output_name(src, out / below, n_pages, pages)
        for written in _files_of(dest, n_pages):
            key = written.resolve()
            if key in inputs:
                raise ValueError(
                    f"Writing {str(written)!r} would overwrite the input file "
                    f"{str(inputs[key])!r}; choose another output folder."
                )
            if key in by_file:
                hint = "rename one of them or clean them separately"
                if not keep_folders and by_file[key].parent != src.parent:
                    hint = (
                        "pass keep_folders=True (--keep-folders) to mirror their folders "
                        f"under {str(out)!r}, or {hint}"
                    )
                raise ValueError(
                    f"{str(by_file[key])!r} and {str(src)!r} would both be written to "
                    f"{str(written)!r}; {hint}."
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
    keep_folders: bool = False,
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
    keep_folders : bool, default=False
        Mirror the input folders under ``out_dir``: each output keeps its input's
        path below the deepest folder all inputs share (``tree/a/x.png`` and
        ``tree/b/x.pdf`` become ``out_dir/a/x.png`` and ``out_dir/b/x.pdf``), so
        files of the same name in different folders do not clash.

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
    OSError
        No file can be written into ``out_dir`` (or, if it does not exist yet, into
        the folder where it would be created): e.g. :class:`PermissionError` for a
        read-only folder. The message names the folder.

    Examples
    --------
    >>> from docdenoise.parallel import plan_outputs
    >>> [str(p) for p in plan_outputs(["scans/a.jpg", "b.tif", "c.pdf"], "clean")]
    ['clean/a.png', 'clean/b.png', 'clean/c.pdf']
    """
    plan = _plan([Path(f) for f in files], out_dir, overwrite, pages, keep_folders)
    return [dest for _, dest, _ in plan]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(_DASK_HINT) from None
    return distributed


def _default_client() -> Any:
    """The running dask client, or None (also when dask is not installed).

    A client runs only in a process that imported ``distributed``; when nothing
    did, there is none, and the import (about 0.2 s) is skipped.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
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
    bit_depth: int | str
    max_pixels: int | None

    def read(self, src: Path) -> Iterator[Page]:
        """The pages of ``src`` with their grey levels as stored, so their depth shows."""
        return iter_pages(src, as_float=False, dpi=self.dpi, max_pixels=self.max_pixels)

    def depth(self, page: Page, dest: Path) -> int:
        """Bits per grey level of ``page`` (as stored) written to ``dest``.

        ``"input"``: 16 for pages with more than 8 bits (uint16 and float), else 8.
        PDF files get 8 bits: their pages are read with 8 (PDFium renders 8-bit
        grey), and 16-bit PDF images gain nothing for viewers and OCR.
        """
        if dest.suffix.lower() == ".pdf":
            return 8
        if self.bit_depth != "input":
            return int(self.bit_depth)
        return 8 if page.image.dtype == np.uint8 else 16

    def write(self, pages: Iterable[Page], dest: Path, depth: int) -> Path:
        """Write ``pages`` to ``dest`` (its folder created, for ``keep_folders``)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        return save_pages(
            pages, dest, overwrite=self.overwrite, bilevel=self.bilevel, bit_depth=depth
        )


def _as_float(page: Page) -> Page:
    """The page with float32 grey levels in ``[0, 1]``, as ``load_images`` gives them."""
    return replace(page, image=to_float_image(page.image, name=str(page.source)))


def _read_page(src: Path, settings: _Settings) -> Page:
    pages = list(settings.read(src))
    if len(pages) != 1:
        raise ImageFileError(f"{str(src)!r} now has {len(pages)} pages; expected one.")
    return pages[0]


def _clean_page(denoiser: Any, page: Page) -> Page:
    try:
        (image,) = denoiser.transform([_as_float(page).image])
    except _FILE_ERRORS as exc:
        raise DocDenoiseError(
            f"{str(page.source)!r}, page {page.number} of {page.page_count} could not be "
            f"cleaned: {exc}"
        ) from None
    return replace(page, image=image)


def _denoise_document(src: Path, dest: Path, denoiser: Any, settings: _Settings) -> list[Path]:
    """Stream the pages of one document through the denoiser into its output(s).

    Nothing of a document that fails halfway is left: a PDF or TIFF is written
    atomically as a whole, and the PNG pages written so far are removed. A PDF or
    TIFF file gets one bit depth, its first page's; each PNG page its own.
    """
    stored = settings.read(src)
    if dest.suffix.lower() in _DOCUMENT_SUFFIXES:
        first = next(stored, None)
        if first is None:
            raise ImageFileError(f"{str(src)!r} has no pages.")
        cleaned = (_clean_page(denoiser, page) for page in itertools.chain([first], stored))
        return [settings.write(cleaned, dest, settings.depth(first, dest))]
    written: list[Path] = []
    try:
        for page in stored:
            depth = settings.depth(page, dest)
            page_file = _page_file(dest, page.number)
            written.append(settings.write([_clean_page(denoiser, page)], page_file, depth))
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
    are streamed page by page. Pages are read as stored (``uint8``, ``uint16``,
    float) and scaled to float32 as :func:`~docdenoise.datasets.load_images` does,
    so that ``bit_depth="input"`` knows which inputs had more than 8 bits. A file
    that cannot be read, cleaned or written is reported and skipped.
    """
    failed: list[tuple[Path, str]] = []
    written: dict[Path, list[Path]] = {}
    loaded: list[tuple[Path, Path, Page, int]] = []
    for src, dest, n_pages in items:
        try:
            if n_pages > 1 or dest.suffix.lower() in _DOCUMENT_SUFFIXES:
                written[src] = _denoise_document(src, dest, denoiser, settings)
            else:
                page = _read_page(src, settings)
                loaded.append((src, dest, _as_float(page), settings.depth(page, dest)))
        except _FILE_ERRORS as exc:
            failed.append((src, str(exc)))
    if loaded:
        try:
            cleaned = denoiser.transform([page.image for _, _, page, _ in loaded])
        except _FILE_ERRORS:  # find the culprit(s): clean the pages one by one
            cleaned = []
            for src, _, page, _ in loaded:
                try:
                    (image,) = denoiser.transform([page.image])
                except _FILE_ERRORS as exc:
                    failed.append((src, str(exc)))
                    image = None
                cleaned.append(image)
        for (src, dest, page, depth), image in zip(loaded, cleaned):
            if image is None:
                continue
            try:
                settings.write([replace(page, image=image)], dest, depth)
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
    keep_folders: bool = False,
    pages: str = "file",
    bilevel: bool = False,
    dpi: float = 300,
    bit_depth: int | str = "input",
    max_pixels: int | None = MAX_IMAGE_PIXELS,
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
    name (with a ``.png`` suffix), size and, by default, bit depth (16-bit scans
    give 16-bit PNG and TIFF files, the others 8-bit), and is written atomically.
    A file that cannot be read, cleaned or written is skipped and reported; the
    others are still cleaned.

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
    keep_folders : bool, default=False
        Mirror the input folders under ``out_dir`` (see :func:`plan_outputs`),
        e.g. for ``"tree/**/*.png"`` with ``a/x.png`` and ``b/x.png``.
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
    bit_depth : {"input", 8, 16}, default="input"
        Bits per grey level of the written PNG and TIFF files: ``"input"`` writes
        16-bit files for inputs with more than 8 bits per grey level (16-bit and
        floating-point scans; a multi-page TIFF goes by its first page) and 8-bit
        files for the others; 8 or 16 writes all of them so. PDF files are always
        written with 8 bits: their pages are read with 8. 16 cannot be combined
        with ``bilevel``.
    max_pixels : int or None, default=docdenoise.datasets.MAX_IMAGE_PIXELS
        Skip (and report) files with a page of more pixels than this, 2**28 by
        default, checked before the page is decoded or a PDF page rendered (see
        :func:`~docdenoise.datasets.iter_pages`); ``None``: no limit.
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
    FileExistsError, ValueError, OSError
        The output plan is refused (see :func:`plan_outputs`: an output exists,
        two inputs share a name, the output folder is not writable), or
        ``chunk_size``, ``pages``, ``bilevel``, ``dpi``, ``bit_depth``,
        ``max_pixels`` or ``keep_folders`` is not one of its values, or
        ``bit_depth=16`` is asked for with ``bilevel`` (ValueError).
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
    given = {
        "chunk_size": chunk_size,
        "pages": pages,
        "bilevel": bilevel,
        "dpi": dpi,
        "bit_depth": bit_depth,
        "max_pixels": max_pixels,
        "keep_folders": keep_folders,
    }
    for name, value in given.items():
        PARAMETER_RULES[name].check(name, value)
    if bilevel and bit_depth == 16:
        raise ValueError("bit_depth=16 cannot apply to bilevel pages, which have 1 bit.")
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
    plan = _plan(files, out_dir, overwrite, pages, keep_folders)
    settings = _Settings(
        overwrite=overwrite,
        bilevel=bilevel,
        dpi=float(dpi),
        bit_depth=bit_depth,
        max_pixels=max_pixels,
    )
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
