"""Zero-shot quality of shipped or saved models on real scanned pairs, page by page.

Scores each method on real noisy/clean pairs in the Kaggle layout (never used to
train a shipped model): RMSE pooled over all pixels, and with ``--ocr`` Tesseract's
character error rate (CER) of the cleaned page against its reading of the clean
page, both with Tesseract's default page segmentation (``--psm 3``, what
OCRmyPDF and most users run) and with ``--psm 6`` (one block of text). CER is
pooled over pages (errors / reference characters). For each method it also
prints the worst page and how many pages read worse than the noisy input. At
``--psm 3`` it adds the word error rate and the bag-of-words error rate
(:func:`docdenoise.metrics.bow_wer`: the same words in any order), which shows how
much of the error is Tesseract's page segmentation reading the lines in another
order rather than misread words.

``--ocr-gamma G`` adds, for each model and each median-filter baseline, a line
for its output darkened as the OCRmyPDF plugin darkens the image Tesseract reads
(grey levels to the power G; the plugin's default is 1.25): the darkening helps
Tesseract read the filtered pages too, so compare darkened with darkened. A
darkened line darkens the pages its method already cleaned; its s/page is the
cleaning and the darkening together.

The pages are split by text group as in ``benchmarks/train_real.py``
(``GroupShuffleSplit``, 6 groups held out, ``--split-seed`` 0): ``--pages
heldout`` scores those 24 pages, ``design`` the other 72 (the part used to look at
while shaping the generator), ``all`` every page, with a line for each part under
each method's (the same pooled figures on those pages alone: one run instead of
three).

``--floor`` adds lines for the *clean* pages after changes no reader would see
(faint noise, a slight blur, a gamma on the grey levels; see
``benchmarks/cer_floor.py``): what a method whose output were that close to the
clean page would score on every column, ``>noisy`` included. They measure the
measure, not a method.

Usage (from the repository root)::

    python benchmarks/zero_shot.py --ocr              # the shipped model and the baselines
    python benchmarks/zero_shot.py --model default --model old.safetensors --tta 32 --ocr
    python benchmarks/zero_shot.py --pages design --no-baselines --model m.safetensors
    python benchmarks/zero_shot.py --pages all --ocr --model default --ocr-gamma 1.25
    python benchmarks/zero_shot.py --pages all --ocr --no-baselines --floor

A model is a shipped name (see ``docdenoise.pretrained_models()``) or a file saved
with ``DocumentDenoiser.save``. ``--csv`` writes the per-page figures.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch
from _models import load_model  # benchmarks/_models.py
from scipy import ndimage as ndi
from sklearn.utils import Bunch

from docdenoise.baselines import median_background_removal
from docdenoise.datasets import load_dirty_documents
from docdenoise.evaluation import heldout_split
from docdenoise.metrics import bow_wer, cer, rmse, wer

DATA = "/work/shared/data/ddd-dev"


def select_pages(
    data_dir: str, pages: str, split_seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Noisy pages, clean pages and file names of one part of the real pairs.

    ``pages`` is ``"heldout"`` (6 text groups, ``GroupShuffleSplit`` with
    ``split_seed``), ``"design"`` (the other groups) or ``"all"``.
    """
    data = load_pairs(data_dir)
    idx = split_indices(data.groups, split_seed)[pages]
    return (
        [data.noisy[i] for i in idx],
        [data.clean[i] for i in idx],
        [data.filenames[i] for i in idx],
    )


@lru_cache(maxsize=1)
def load_pairs(data_dir: str) -> Bunch:
    """The real pairs, read once per process (the pages and their split share them)."""
    return load_dirty_documents(data_dir, include_test=False)


def split_indices(groups: np.ndarray, split_seed: int = 0) -> dict[str, np.ndarray]:
    """Page indices of ``"design"``, ``"heldout"`` and ``"all"`` (6 groups held out)."""
    design, heldout = heldout_split(groups, test_size=6, random_state=split_seed)
    return {"design": design, "heldout": heldout, "all": np.arange(len(groups))}


def score_line(
    idx: np.ndarray,
    clean: list[np.ndarray],
    out: list[np.ndarray],
    errs: list[float],
    truth: dict[int, list[str]],
    texts: dict[int, list[str]],
    page_cer: dict[int, list[float]],
    noisy_cer: dict[int, list[float]],
) -> tuple[str, int, int]:
    """RMSE and OCR columns of one method on the pages ``idx`` (indices into the lists).

    ``errs`` are the page RMSEs of ``out`` against ``clean``; RMSE, CER, WER and bag
    of words are pooled over the pages. Returns the text and the indices of the
    worst page by RMSE and by psm 3.
    """
    pooled = rmse([clean[i] for i in idx], [out[i] for i in idx])
    worst = int(idx[int(np.argmax([errs[i] for i in idx]))])
    line = f"{pooled:7.4f} {errs[worst]:7.4f}"
    worst_cer = worst
    for psm in texts:
        ref = [truth[psm][i] for i in idx]
        hyp = [texts[psm][i] for i in idx]
        w = int(idx[int(np.argmax([page_cer[psm][i] for i in idx]))])
        line += f" {100 * cer(ref, hyp):8.2f}% {100 * page_cer[psm][w]:6.1f}%"
        if psm == 3:
            worst_cer = w
            worse = sum(page_cer[3][i] > noisy_cer[3][i] for i in idx) if noisy_cer else 0
            line += f" {worse:6d} {100 * wer(ref, hyp):5.2f}%"
            line += f" {100 * bow_wer(ref, hyp):5.2f}%"
    return line, worst, worst_cer


def median_subtract(page: np.ndarray, size: int = 21) -> np.ndarray:
    """The three lines of scipy of the issue: subtract a 21-px median background."""
    return np.clip(page - ndi.median_filter(page, size=size) + 1.0, 0, 1).astype(np.float32)


def floor_variants(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Changes of a clean page that no reader would notice, by name (noise drawn from ``rng``).

    The changed page is clipped to [0, 1] by the caller.
    """
    return {
        "clean + noise, sigma 0.02": lambda y: y + rng.normal(0, 0.02, y.shape),
        "clean, blurred 0.5 px": lambda y: ndi.gaussian_filter(y, 0.5),
        "clean, gamma 0.8 (edges lighter)": lambda y: y**0.8,
        "clean, gamma 1.25 (edges darker)": lambda y: y**1.25,
    }


def disturbed(
    clean: list[np.ndarray], change: Callable[[np.ndarray], np.ndarray]
) -> list[np.ndarray]:
    """The clean pages after ``change``, clipped to [0, 1], as float32."""
    return [np.clip(change(np.asarray(y, np.float64)), 0, 1).astype(np.float32) for y in clean]


def load_method(spec: str, tta: int, device: str) -> Callable[[list[np.ndarray]], list]:
    den = load_model(spec, device=device)
    den.set_params(tta=tta)
    return den.transform


def darken(pages: list[np.ndarray], gamma: float) -> list[np.ndarray]:
    """``pages`` with their grey levels raised to the power ``gamma`` (as the plugin)."""
    return [np.asarray(p, np.float32) ** np.float32(gamma) for p in pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--model", action="append", help="shipped name or model file (repeat)")
    parser.add_argument("--tta", type=int, default=1, choices=(1, 2, 4, 8, 16, 32))
    parser.add_argument("--pages", choices=("heldout", "design", "all"), default="all")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--ocr", action="store_true", help="also Tesseract CER (psm 3 and 6)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also the clean pages after changes no reader would see (the measure's floor)",
    )
    parser.add_argument(
        "--ocr-gamma",
        type=float,
        metavar="G",
        help="also each model's output with grey levels to the power G (as the plugin)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--csv", help="write per-page figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    noisy, clean, names = select_pages(args.data, args.pages, args.split_seed)
    # With --pages all, each method also gets a line for the design and held-out parts.
    parts: dict[str, np.ndarray] = {}
    if args.pages == "all":
        split = split_indices(load_pairs(args.data).groups, args.split_seed)
        parts = {"design": split["design"], "held out": split["heldout"]}
    print(f"{args.data}: {len(names)} pages ({args.pages}, split seed {args.split_seed})")

    methods: dict[str, Callable[[list[np.ndarray]], list]] = {}
    if not args.no_baselines:
        methods["noisy input"] = lambda pages: pages
        methods["median background, subtracted"] = lambda pages: [median_subtract(p) for p in pages]
        methods["median background, divided"] = lambda pages: [
            median_background_removal(p) for p in pages
        ]
    undarkened = {"noisy input"}  # lines that are no cleaning get no darkened line
    if args.floor:
        for label, change in floor_variants(np.random.default_rng(0)).items():
            methods[label] = lambda pages, change=change: disturbed(clean, change)
            undarkened.add(label)
    for spec in args.model or ([] if args.no_baselines else ["default"]):
        name = spec + (f", tta={args.tta}" if args.tta > 1 else "")
        methods[name] = load_method(spec, args.tta, args.device)
    # Darkened lines: name -> the method whose cleaned pages they darken.
    darkens: dict[str, str] = {}
    if args.ocr_gamma:
        for name in list(methods):
            if name not in undarkened:
                short = name.replace("median background, ", "median ")
                darkens[f"{short}, OCR gamma {args.ocr_gamma:g}"] = name

    readers = {}
    truth: dict[int, list[str]] = {}
    if args.ocr:
        from docdenoise.ocr import TesseractOCR

        readers = {psm: TesseractOCR(psm=psm, n_jobs=args.threads).fit() for psm in (3, 6)}
        truth = {psm: r.transform(clean) for psm, r in readers.items()}

    rows: list[dict] = []
    noisy_cer: dict[int, list[float]] = {}
    if readers and "noisy input" not in methods:  # for the "> noisy" column
        noisy_cer = {3: [cer([t], [h]) for t, h in zip(truth[3], readers[3].transform(noisy))]}
    header = f"{'method':34s} {'RMSE':>7s} {'worst':>7s}"
    if readers:
        header += f" {'CER psm3':>9s} {'worst':>7s} {'>noisy':>6s} {'WER':>6s} {'BoW':>6s}"
        header += f" {'CER psm6':>9s} {'worst':>7s}"
    print(header + "   s/page")
    cleaned: dict[str, tuple[list[np.ndarray], float]] = {}  # outputs a darkened line reuses
    for name in [*methods, *darkens]:
        tic = time.perf_counter()
        if name in darkens:
            base, base_per_page = cleaned[darkens[name]]
            out = darken(base, args.ocr_gamma)
            per_page = base_per_page + (time.perf_counter() - tic) / len(noisy)
        else:
            out = [np.asarray(p, np.float32) for p in methods[name](noisy)]
            per_page = (time.perf_counter() - tic) / len(noisy)
            if name in darkens.values():
                cleaned[name] = (out, per_page)
        errs = [rmse(t, p) for p, t in zip(out, clean)]
        texts = {psm: reader.transform(out) for psm, reader in readers.items()}
        page_cer = {psm: [cer([t], [h]) for t, h in zip(truth[psm], texts[psm])] for psm in texts}
        page_bow = [bow_wer([t], [h]) for t, h in zip(truth[3], texts[3])] if texts else []
        if name == "noisy input" and texts:
            noisy_cer = page_cer
        every = np.arange(len(names))
        line, worst, worst_cer = score_line(
            every, clean, out, errs, truth, texts, page_cer, noisy_cer
        )
        print(f"{name:34s} {line}   {per_page:.3f}", flush=True)
        if readers:
            print(f"{'':34s} worst page by RMSE {names[worst]}, by CER (psm 3) {names[worst_cer]}")
        for part, idx in parts.items():
            line, _, _ = score_line(idx, clean, out, errs, truth, texts, page_cer, noisy_cer)
            print(f"{'  ' + part + f' ({len(idx)} pages)':34s} {line}", flush=True)
        for i, n in enumerate(names):
            row = {"method": name, "page": n, "rmse": errs[i]}
            row.update({f"cer_psm{psm}": c[i] for psm, c in page_cer.items()})
            if page_bow:
                row["bow_wer_psm3"] = page_bow[i]
            rows.append(row)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print("wrote", args.csv)


if __name__ == "__main__":
    main()
