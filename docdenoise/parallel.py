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

What this module adds is batch cleaning of files: :func:`denoise_files` reads,
cleans and writes pages in chunks, each chunk a task on a dask worker (or a step
of a loop in this process when there is no cluster). The estimator is sent to the
workers once, not with every task.

dask is an optional dependency (``pip install docdenoise[dask]``), imported only
when a cluster is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sklearn.utils.validation import check_is_fitted

from ._batch import BatchReport, expand_inputs, plan_outputs
from ._params import Integer
from .datasets._io import load_images, save_images
from .exceptions import DocDenoiseError

__all__ = ["denoise_files"]

PathLike = str | os.PathLike

_DASK_HINT = (
    "dask.distributed is needed to denoise files on a dask cluster; install it with "
    "`pip install docdenoise[dask]` (or `pip install 'dask[distributed]'`)."
)
#: Errors that skip one file (as in the serial ``docdenoise denoise``) instead of
#: stopping the batch.
_FILE_ERRORS = (DocDenoiseError, OSError, ValueError)


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
    pairs: Sequence[tuple[Path, Path]], denoiser: Any, overwrite: bool
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Read, clean and write one chunk of pages (runs on a worker).

    Pages of the chunk are cleaned in one ``transform`` call, so the network
    batches pages of equal size. A file that cannot be read, cleaned or written is
    reported and skipped.
    """
    failed: list[tuple[Path, str]] = []
    loaded: list[tuple[Path, Path, Any]] = []
    for src, dest in pairs:
        try:
            (image,) = load_images(src)
        except _FILE_ERRORS as exc:
            failed.append((src, str(exc)))
        else:
            loaded.append((src, dest, image))
    try:
        cleaned = denoiser.transform([image for _, _, image in loaded])
    except _FILE_ERRORS:  # find the culprit(s): clean the pages one by one
        cleaned = []
        for src, _, image in loaded:
            try:
                (page,) = denoiser.transform([image])
            except _FILE_ERRORS as exc:
                failed.append((src, str(exc)))
                page = None
            cleaned.append(page)
    written: list[Path] = []
    for (src, dest, _), page in zip(loaded, cleaned):
        if page is None:
            continue
        try:
            save_images([page], dest.parent, names=[dest.name], overwrite=overwrite)
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
    client: Any = None,
    chunk_size: int = 8,
    overwrite: bool = False,
    on_error: Callable[[Path, str], None] | None = None,
) -> BatchReport:
    """Clean image files with a fitted denoiser, in parallel on a dask cluster.

    The same job as ``docdenoise denoise`` (same inputs, output names, checks and
    report), spread over the workers of a dask cluster: pages are read, cleaned
    and written in chunks of ``chunk_size``, each chunk a task, and the denoiser is
    sent to every worker once. Without a cluster, the chunks are cleaned one after
    another in this process (the network then uses the machine's cores itself).

    Parameters
    ----------
    denoiser : fitted transformer
        Anything with ``transform(list of images) -> list of images``: a fitted
        :class:`~docdenoise.DocumentDenoiser`, one wrapped in
        :class:`sklearn.frozen.FrozenEstimator`, or a pipeline of image
        transformers. For a cluster whose workers run several threads in one
        process (``Client(processes=False)``), set ``n_threads=1`` on the denoiser
        so that tasks do not compete for the cores.
    inputs : str, path-like or iterable of them
        Files, folders and glob patterns (``"scans/*.jpg"``). On a cluster every
        worker must be able to read them (a shared or network file system).
    out_dir : str or path-like
        Output folder, created if missing; each page keeps its file name with a
        ``.png`` suffix (``scan_01.jpg`` -> ``scan_01.png``). Workers must be able
        to write there.
    client : dask.distributed.Client, default=None
        The cluster. ``None`` uses the running default client if there is one (as
        dask itself does), otherwise this process.
    chunk_size : int, default=8
        Pages per task. Larger chunks batch more pages per forward pass and send
        fewer tasks; smaller ones spread the work more evenly.
    overwrite : bool, default=False
        Replace existing output files. Input files are never replaced.
    on_error : callable, default=None
        Called here (not on the worker) as ``on_error(path, message)`` for each
        file that was skipped.

    Returns
    -------
    report : BatchReport
        ``written``: the output files, in input order; ``failed``: the input files
        that could not be read, cleaned or written, with the reason.

    Raises
    ------
    ImageFileError
        No inputs, or an input that does not exist.
    FileExistsError
        An output exists and ``overwrite`` is False; raised before any work.
    ValueError
        Two inputs map to the same output, an output would replace an input, or
        ``chunk_size`` is not a positive integer.
    sklearn.exceptions.NotFittedError
        The denoiser is not fitted.

    See Also
    --------
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
    >>> report = denoise_files(den, scans, tempfile.mkdtemp())
    >>> [p.name for p in report.written], report.ok
    (['a.png', 'b.png', 'c.png'], True)

    On a dask cluster:

    >>> from dask.distributed import Client  # doctest: +SKIP
    >>> with Client("scheduler-address:8786") as client:  # doctest: +SKIP
    ...     denoise_files(den, ["scans/"], "cleaned/", client=client)
    """
    Integer(1).check("chunk_size", chunk_size)
    if not hasattr(denoiser, "transform"):
        raise TypeError(
            f"denoiser must be a fitted transformer with a transform method, got "
            f"{type(denoiser).__name__}."
        )
    check_is_fitted(denoiser)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files = expand_inputs(inputs)
    outputs = plan_outputs(files, out_dir, overwrite=overwrite)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    plan = list(zip(files, outputs))
    chunks = [plan[i : i + chunk_size] for i in range(0, len(plan), chunk_size)]

    if client is None:
        client = _default_client()
    if client is None:
        results = [_denoise_chunk(chunk, denoiser, overwrite) for chunk in chunks]
    else:
        _distributed()  # a clear message if a client was passed but the package is gone
        [remote] = client.scatter([denoiser], broadcast=True, hash=False)
        futures = client.map(
            _denoise_chunk, chunks, denoiser=remote, overwrite=overwrite, pure=False
        )
        try:
            results = client.gather(futures)
        finally:
            client.cancel([*futures, remote])

    order = {src: i for i, src in enumerate(files)}
    report = BatchReport()
    for written, failed in results:
        report.written += written
        report.failed += failed
    report.failed.sort(key=lambda item: order[item[0]])
    if on_error is not None:
        for path, message in report.failed:
            on_error(path, message)
    return report
