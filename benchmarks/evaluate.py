"""Score the noisy input, classical baselines and (optionally) a model on real pairs.

Reads a folder in the Kaggle "Denoising Dirty Documents" layout (``train/``,
``train_cleaned/``, optional ``groups.json``) and prints RMSE, PSNR, SSIM and the
OCR character/word error rates (Tesseract on the cleaned page against Tesseract
on the clean target) for: the noisy input, Otsu, Sauvola, median background
removal and the model.

``--split heldout`` (the default) keeps only the group-wise held-out pages of
:func:`docdenoise.evaluation.heldout_split` (``--test-size``, ``--seed``), so a
model trained on the other pages is scored on text it has not seen. ``--split all``
scores every page (fine for the baselines, optimistic for a model trained here).

Usage (from the repository root)::

    python benchmarks/evaluate.py --data /path/to/ddd --model model.dd --csv out.csv
    python benchmarks/evaluate.py --data /path/to/ddd --split all --no-ocr
"""

from __future__ import annotations

import argparse
import sys
import time

from docdenoise.baselines import ClassicalDenoiser
from docdenoise.datasets import load_dirty_documents
from docdenoise.evaluation import evaluate_methods, format_table, heldout_split, write_csv


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train/ and train_cleaned/")
    parser.add_argument("--model", help="a model saved by DocumentDenoiser.save")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    parser.add_argument("--split", choices=["heldout", "all"], default="heldout")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ocr", action="store_true", help="skip Tesseract (fast)")
    parser.add_argument("--n-jobs", type=int, default=None, help="parallel OCR readers")
    args = parser.parse_args(argv)

    data = load_dirty_documents(args.data, include_test=False)
    noisy, clean, names = data.noisy, data.clean, data.filenames
    if args.split == "heldout":
        if data.groups is None:
            parser.error(
                f"--split heldout needs {args.data}/groups.json to keep pages with the "
                "same text together; add it or use --split all."
            )
        _, test = heldout_split(data.groups, test_size=args.test_size, random_state=args.seed)
        noisy = [noisy[i] for i in test]
        clean = [clean[i] for i in test]
        names = [names[i] for i in test]

    methods = {
        "noisy input": lambda pages: pages,
        "otsu": ClassicalDenoiser(method="otsu").transform,
        "sauvola": ClassicalDenoiser(method="sauvola").transform,
        "median background": ClassicalDenoiser(method="median").transform,
    }
    if args.model:
        from docdenoise import DocumentDenoiser

        model = DocumentDenoiser.load(args.model)
        methods[f"model ({args.model})"] = model.transform

    reader = None
    if not args.no_ocr:
        from docdenoise.ocr import TesseractOCR

        reader = TesseractOCR(n_jobs=args.n_jobs).fit()

    print(
        f"{args.data}: {len(noisy)} of {len(data.noisy)} pages (split={args.split}"
        + (f", test_size={args.test_size}, seed={args.seed}" if args.split == "heldout" else "")
        + ")",
        f"OCR: {'off' if reader is None else 'tesseract ' + reader.tesseract_version_}",
        sep="\n",
    )
    if args.split == "heldout":
        print("held-out files:", " ".join(names))
    start = time.perf_counter()
    rows = evaluate_methods(noisy, clean, methods, ocr=reader is not None, reader=reader)
    print(format_table(rows))
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.csv:
        print("wrote", write_csv(rows, args.csv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
