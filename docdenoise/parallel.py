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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._atomic import check_writable_folder
from ._params import Integer, Options
from ._validation import to_float_image
from .datasets import BIT_DEPTHS, MAX_IMAGE_PIXELS, expand_inputs, load_images, save_images
from .exceptions import DocDenoiseError, NotFittedError

__all__ = ["BatchReport", "check_writable_folder", "denoise_files", "plan_outputs"]

PathLike = str | os.PathLike

_DASK_HINT = (
    "dask.distributed is needed to denoise files on a dask cluster; install it with "
    "`pip install docdenoise[dask]` (or `pip install 'dask[distributed]'`)."
)
#: Errors that skip one file instead of stopping the batch.
_FILE_ERRORS = (DocDenoiseError, OSError, ValueError)
#: The ``chunk_size`` rule.
_CHUNK_SIZE = Integer(1)
#: The ``bit_depth`` rule: a depth ``save_images`` writes, or the input file's.
_BIT_DEPTH = Options(*BIT_DEPTHS, "input")


@dataclass
class BatchReport:
    """What :func:`denoise_files` did.

    Parameters
    ----------
    written : list of pathlib.Path
        Output files written, in input order.
    failed : list of (pathlib.Path, str)
        Input files that were skipped, with the reason, in input order.

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

    @property
    def ok(self) -> bool:
        """True when every input was cleaned."""
        return not self.failed


def plan_outputs(
    files: Iterable[PathLike],
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    keep_folders: bool = False,
) -> list[Path]:
    """Name the output of each input file: ``out_dir / (stem + ".png")``.

    Checks the whole plan before anything is written.

    Parameters
    ----------
    files : iterable of str or path-like
        Input image files.
    out_dir : str or path-like
        Output folder (need not exist yet).
    overwrite : bool, default=False
        Allow replacing existing output files. Inputs are never replaced.
    keep_folders : bool, default=False
        Mirror the input folders under ``out_dir``: each output keeps its input's
        path below the deepest folder all inputs share (``tree/a/x.png`` and
        ``tree/b/x.png`` become ``out_dir/a/x.png`` and ``out_dir/b/x.png``), so
        files of the same name in different folders do not clash.

    Returns
    -------
    outputs : list of pathlib.Path
        One output path per input.

    Raises
    ------
    ValueError
        ``out_dir`` is a file, two inputs would share an output name, or an output
        would replace an input file.
    FileExistsError
        An output exists and ``overwrite`` is False.
    OSError
        No file can be written into ``out_dir`` (or, if it does not exist yet, into
        the folder where it would be created): e.g. :class:`PermissionError` for a
        read-only folder. The message names the folder.

    Examples
    --------
    >>> from docdenoise.parallel import plan_outputs
    >>> [str(p) for p in plan_outputs(["scans/a.jpg", "b.tif"], "clean")]
    ['clean/a.png', 'clean/b.png']
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"Output folder {str(out)!r} exists and is not a folder.")
    check_writable_folder(out, what="Output folder")
    paths = [Path(f) for f in files]
    inputs = {p.resolve(): p for p in paths}
    folders = [Path(os.path.abspath(p.parent)) for p in paths]
    shared = Path(os.path.commonpath(folders)) if keep_folders and paths else None
    outputs: list[Path] = []
    by_dest: dict[Path, Path] = {}
    for f, folder in zip(paths, folders):
        below = folder.relative_to(shared) if shared is not None else Path()
        dest = out / below / (f.stem + ".png")
        key = dest.resolve()
        if key in inputs:
            raise ValueError(
                f"Writing {str(dest)!r} would overwrite the input file "
                f"{str(inputs[key])!r}; choose another output folder."
            )
        if key in by_dest:
            hint = "rename one of them or clean them separately"
            if not keep_folders and by_dest[key].parent != f.parent:
                hint = (
                    "pass keep_folders=True (--keep-folders) to mirror their folders "
                    f"under {str(out)!r}, or {hint}"
                )
            raise ValueError(
                f"{str(by_dest[key])!r} and {str(f)!r} would both be written to "
                f"{str(dest)!r}; {hint}."
            )
        by_dest[key] = f
        outputs.append(dest)
    if not overwrite:
        existing = [d for d in outputs if d.exists()]
        if existing:
            what = f"{str(existing[0])!r} already exists"
            if len(existing) > 1:
                what = f"{str(existing[0])!r} and {len(existing) - 1} more outputs already exist"
            raise FileExistsError(
                f"{what}; pass overwrite=True (--overwrite) to replace existing outputs, or "
                "choose another output folder."
            )
    return outputs


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


def _denoise_chunk(
    pairs: Sequence[tuple[Path, Path]],
    denoiser: Any,
    overwrite: bool,
    max_pixels: int | None,
    bit_depth: int | str,
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Read, clean and write one chunk of pages (runs on a worker).

    Pages of the chunk are cleaned in one ``transform`` call, so the network
    batches pages of equal size. A file that cannot be read, cleaned or written is
    reported and skipped. Pages are read as stored (``uint8``, ``uint16``, float)
    and scaled to float32 as :func:`~docdenoise.datasets.load_images` does, so that
    ``bit_depth="input"`` knows which inputs had more than 8 bits.
    """
    failed: list[tuple[Path, str]] = []
    loaded: list[tuple[Path, Path, Any, int]] = []
    for src, dest in pairs:
        try:
            (stored,) = load_images(src, max_pixels=max_pixels, as_float=False)
        except _FILE_ERRORS as exc:
            failed.append((src, str(exc)))
        else:
            depth = bit_depth if bit_depth != "input" else 8 if stored.dtype == np.uint8 else 16
            loaded.append((src, dest, to_float_image(stored, name=str(src)), int(depth)))
    if not loaded:
        return [], failed
    try:
        cleaned = denoiser.transform([image for _, _, image, _ in loaded])
    except _FILE_ERRORS:  # find the culprit(s): clean the pages one by one
        cleaned = []
        for src, _, image, _ in loaded:
            try:
                (page,) = denoiser.transform([image])
            except _FILE_ERRORS as exc:
                failed.append((src, str(exc)))
                page = None
            cleaned.append(page)
    written: list[Path] = []
    for (src, dest, _, depth), page in zip(loaded, cleaned):
        if page is None:
            continue
        try:
            save_images(
                [page], dest.parent, names=[dest.name], overwrite=overwrite, bit_depth=depth
            )
        except _FILE_ERRORS as exc:
            failed.append((src, str(exc)))
        else:
            written.append(dest)
    return written, failed


def denoise_files(
    denoiser: Any,
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    *,
    overwrite: bool = False,
    keep_folders: bool = False,
    client: Any = None,
    chunk_size: int = 8,
    max_pixels: int | None = MAX_IMAGE_PIXELS,
    bit_depth: int | str = "input",
    progress: bool = False,
    on_error: Callable[[Path, str], None] | None = None,
) -> BatchReport:
    """Clean image files with a fitted denoiser and write them as PNG files.

    This is the job of ``docdenoise denoise``. Inputs are expanded (files, folders,
    glob patterns) and every output is named and checked before any work starts;
    then pages are read, cleaned and written in chunks of ``chunk_size``: one
    chunk after another in this process, or each chunk a task on a dask cluster
    (the denoiser is sent to every worker once). Each output keeps its input's
    name (with a ``.png`` suffix), size and, by default, bit depth (16-bit scans
    give 16-bit PNG files, the others 8-bit), and is written atomically. A file that
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
        ``.png`` suffix (``scan_01.jpg`` -> ``scan_01.png``). On a cluster the
        workers must be able to write there.
    overwrite : bool, default=False
        Replace existing output files. Input files are never replaced.
    keep_folders : bool, default=False
        Mirror the input folders under ``out_dir`` (see :func:`plan_outputs`),
        e.g. for ``"tree/**/*.png"`` with ``a/x.png`` and ``b/x.png``.
    client : dask.distributed.Client, default=None
        A dask cluster to spread the chunks over. ``None`` uses the running
        default client if there is one (as dask itself does), otherwise this
        process.
    chunk_size : int, default=8
        Pages per chunk: cleaned in one ``transform`` call (pages of equal size
        share forward passes) and, on a cluster, one task. At most that many pages
        (and their results) are in memory at a time in each worker; ``1`` keeps
        one page at a time.
    max_pixels : int or None, default=docdenoise.datasets.MAX_IMAGE_PIXELS
        Skip (and report) image files with more pixels than this, 2**28 by default
        (see :func:`~docdenoise.datasets.load_images`); ``None``: no limit.
    bit_depth : {"input", 8, 16}, default="input"
        Bits per grey level of the written PNG files: ``"input"`` writes 16-bit
        files for inputs with more than 8 bits per grey level (16-bit and
        floating-point scans) and 8-bit files for the others; 8 or 16 writes all
        files so.
    progress : bool, default=False
        Show a progress bar over the pages (tqdm, on stderr), advanced as chunks
        finish.
    on_error : callable, default=None
        Called here (never on a worker) as ``on_error(path, message)`` for each
        file that was skipped, as soon as its chunk is done.

    Returns
    -------
    report : BatchReport
        ``written``: the output files, in input order; ``failed``: the input files
        that could not be read, cleaned or written, with the reason, in input
        order.

    Raises
    ------
    ImageFileError
        The inputs are not image files (see
        :func:`~docdenoise.datasets.expand_inputs`).
    FileExistsError, ValueError, OSError
        The output plan is refused (see :func:`plan_outputs`: an output exists, two
        inputs share a name, the output folder is not writable), or ``chunk_size``
        is not a positive integer (ValueError).
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
    _CHUNK_SIZE.check("chunk_size", chunk_size)
    _BIT_DEPTH.check("bit_depth", bit_depth)
    if not hasattr(denoiser, "transform"):
        raise TypeError(
            f"denoiser must be a fitted transformer with a transform method, got "
            f"{type(denoiser).__name__}."
        )
    try:
        check_is_fitted(denoiser)
    except SklearnNotFittedError as exc:
        raise NotFittedError(str(exc)) from None
    files = expand_inputs(inputs)
    outputs = plan_outputs(files, out_dir, overwrite=overwrite, keep_folders=keep_folders)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    plan = list(zip(files, outputs))
    chunks = [plan[i : i + chunk_size] for i in range(0, len(plan), chunk_size)]
    order = {src: i for i, src in enumerate(files)}

    results: list[tuple[list[Path], list[tuple[Path, str]]]] = [([], [])] * len(chunks)
    bar = tqdm(total=len(files), desc="denoising", unit="page", disable=not progress)
    try:
        options = {"overwrite": overwrite, "max_pixels": max_pixels, "bit_depth": bit_depth}
        for i, (written, failed) in _run_chunks(chunks, denoiser, options, client):
            failed = sorted(failed, key=lambda item: order[item[0]])
            results[i] = written, failed
            if on_error is not None:
                for path, message in failed:
                    on_error(path, message)
            bar.set_postfix_str(chunks[i][-1][0].name, refresh=False)
            bar.update(len(chunks[i]))
    finally:
        bar.close()
    report = BatchReport()
    for written, failed in results:
        report.written += written
        report.failed += failed
    report.failed.sort(key=lambda item: order[item[0]])
    return report


def _run_chunks(
    chunks: list[list[tuple[Path, Path]]],
    denoiser: Any,
    options: dict[str, Any],
    client: Any,
) -> Iterator[tuple[int, tuple[list[Path], list[tuple[Path, str]]]]]:
    """Yield ``(chunk index, chunk result)`` as chunks finish, here or on a cluster.

    ``options`` are the keyword arguments of :func:`_denoise_chunk`.
    """
    if client is None:
        client = _default_client()
    if client is None:
        for i, chunk in enumerate(chunks):
            yield i, _denoise_chunk(chunk, denoiser, **options)
        return
    distributed = _distributed()  # a clear message if a client was passed but dask is gone
    [remote] = client.scatter([denoiser], broadcast=True, hash=False)
    futures = client.map(_denoise_chunk, chunks, denoiser=remote, pure=False, **options)
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future, result in distributed.as_completed(futures, with_results=True):
            yield index[future.key], result
    finally:
        client.cancel([*futures, remote])
