"""Compare page cleaners on noisy/clean pairs: image metrics and OCR error rates.

Used by ``benchmarks/evaluate.py``; meant to be reused by a command-line tool.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from .metrics import cer, psnr, rmse, ssim, wer

__all__ = ["evaluate_methods", "format_table", "heldout_split", "write_csv"]

#: Columns of a result row, in table order.
COLUMNS = ("method", "rmse", "psnr", "ssim", "ocr_cer", "ocr_wer", "seconds")
_HEADERS = {
    "method": "method",
    "rmse": "RMSE",
    "psnr": "PSNR dB",
    "ssim": "SSIM",
    "ocr_cer": "OCR CER",
    "ocr_wer": "OCR WER",
    "seconds": "time s",
}
_FORMATS = {
    "rmse": ".4f",
    "psnr": ".2f",
    "ssim": ".4f",
    "ocr_cer": ".3f",
    "ocr_wer": ".3f",
    "seconds": ".1f",
}


def heldout_split(groups, *, test_size=0.25, random_state=0):
    """Split pair indices into train and held-out parts, keeping groups together.

    Pages of one group share their text (see ``load_dirty_documents().groups``), so
    they must fall on one side; otherwise held-out scores measure memorised text.
    This is :class:`sklearn.model_selection.GroupShuffleSplit` with the given
    seed: train a model on ``train`` and evaluate it on ``test`` with the same
    ``test_size`` and ``random_state``.

    Parameters
    ----------
    groups : array-like of shape (n_pairs,)
        Group label of each pair.
    test_size : float, default=0.25
        Fraction of the groups held out.
    random_state : int, default=0
        Seed of the shuffle.

    Returns
    -------
    train : ndarray of int
        Sorted indices of the training pairs.
    test : ndarray of int
        Sorted indices of the held-out pairs.

    Examples
    --------
    >>> from docdenoise.evaluation import heldout_split
    >>> train, test = heldout_split([0, 0, 1, 1, 2, 2, 3, 3])
    >>> len(train), len(test)
    (6, 2)
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(np.unique(groups)) < 2:
        raise ValueError(
            f"groups must be a 1-D array with at least 2 distinct groups, got shape "
            f"{groups.shape} with {len(np.unique(groups))} distinct value(s)."
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)


def evaluate_methods(noisy, clean, methods, *, ocr=True, reader=None, verbose=False):
    """Score page cleaners on noisy/clean pairs.

    For every method, the cleaned pages are compared with the clean targets by
    :func:`~docdenoise.metrics.rmse` (pooled over all pixels),
    :func:`~docdenoise.metrics.psnr` and :func:`~docdenoise.metrics.ssim` (means
    over pages) and, with ``ocr=True``, by the character and word error rates of
    Tesseract's reading of the cleaned page against its reading of the clean
    target (pooled over pages; no text labels needed). The clean targets are read
    once.

    Parameters
    ----------
    noisy : list of 2-D arrays
        Noisy pages, float in ``[0, 1]``.
    clean : list of 2-D arrays
        Clean target of each page.
    methods : mapping of str to callable
        Name -> function taking the list of noisy pages and returning the list of
        cleaned pages (e.g. ``DocumentDenoiser.transform``). Include
        ``lambda pages: pages`` to score the noisy input itself.
    ocr : bool, default=True
        Also compute OCR error rates (needs Tesseract; slow: about a second a page).
    reader : TesseractOCR, default=None
        The OCR reader; ``None`` means ``TesseractOCR()``.
    verbose : bool, default=False
        Print each method's row as soon as it is done.

    Returns
    -------
    rows : list of dict
        One dict per method with keys ``method``, ``rmse``, ``psnr``, ``ssim``,
        ``ocr_cer``, ``ocr_wer`` (None without OCR) and ``seconds`` (time spent
        by the method, OCR excluded).

    See Also
    --------
    format_table : Render the rows as a text table.

    Examples
    --------
    >>> import numpy as np
    >>> from docdenoise.evaluation import evaluate_methods, format_table
    >>> clean = [np.ones((16, 16))]
    >>> noisy = [np.full((16, 16), 0.8)]
    >>> rows = evaluate_methods(noisy, clean, {"noisy": lambda x: x}, ocr=False)
    >>> round(rows[0]["rmse"], 3), rows[0]["ocr_cer"]
    (0.2, None)
    """
    if not isinstance(methods, Mapping) or not methods:
        raise ValueError("methods must be a non-empty mapping of name -> callable.")
    for name, func in methods.items():
        if not callable(func):
            raise TypeError(f"methods[{name!r}] must be callable, got {type(func).__name__}.")
    noisy, clean = list(noisy), list(clean)
    if len(noisy) != len(clean):
        raise ValueError(
            f"noisy and clean must hold the same number of pages: got {len(noisy)} "
            f"and {len(clean)}."
        )
    reference = None
    if ocr:
        if reader is None:
            from .ocr import TesseractOCR

            reader = TesseractOCR()
        reference = reader.fit().transform(clean)
    rows = []
    for name, func in methods.items():
        start = time.perf_counter()
        cleaned = list(func(noisy))
        seconds = time.perf_counter() - start
        row = {
            "method": name,
            "rmse": rmse(clean, cleaned),
            "psnr": psnr(clean, cleaned),
            "ssim": ssim(clean, cleaned),
            "ocr_cer": None,
            "ocr_wer": None,
            "seconds": seconds,
        }
        if reference is not None:
            texts = reader.transform(cleaned)
            row["ocr_cer"] = cer(reference, texts)
            row["ocr_wer"] = wer(reference, texts)
        rows.append(row)
        if verbose:
            print(format_table([row]).splitlines()[-1], flush=True)
    return rows


def _cell(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if key in _FORMATS:
        return format(value, _FORMATS[key])
    return str(value)


def format_table(rows: Sequence[Mapping[str, object]]) -> str:
    """Render result rows as a Markdown table with aligned columns.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`evaluate_methods`.

    Returns
    -------
    table : str
        Header, separator and one line per row; missing values print as ``-``.

    Examples
    --------
    >>> from docdenoise.evaluation import format_table
    >>> row = {"method": "noisy", "rmse": 0.2, "psnr": 13.98, "ssim": 0.5,
    ...        "ocr_cer": None, "ocr_wer": None, "seconds": 0.0}
    >>> print(format_table([row]))
    | method | RMSE   | PSNR dB | SSIM   | OCR CER | OCR WER | time s |
    |--------|--------|---------|--------|---------|---------|--------|
    | noisy  | 0.2000 | 13.98   | 0.5000 | -       | -       | 0.0    |
    """
    cells = [[_HEADERS[c] for c in COLUMNS]]
    cells += [[_cell(c, row.get(c)) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(v.ljust(w) for v, w in zip(line, widths)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def write_csv(rows, path):
    """Write result rows to a CSV file (columns as in :data:`COLUMNS`).

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`evaluate_methods`.
    path : str or path-like
        Destination; its folder is created if missing. Missing values are empty.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from docdenoise.evaluation import write_csv
    >>> row = {"method": "noisy", "rmse": 0.2, "psnr": 13.98, "ssim": 0.5,
    ...        "ocr_cer": None, "ocr_wer": None, "seconds": 0.0}
    >>> path = write_csv([row], Path(tempfile.mkdtemp()) / "results.csv")
    >>> print(path.read_text().splitlines()[1])
    noisy,0.2,13.98,0.5,,,0.0
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return path
