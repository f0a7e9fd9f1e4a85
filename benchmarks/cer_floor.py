"""How steady is Tesseract's CER as a measure? The clean pages, slightly disturbed.

``benchmarks/zero_shot.py`` scores a cleaned page by Tesseract's character error rate
against Tesseract's reading of the clean page. This script asks what that measure
gives for changes no reader would notice: the clean page itself with faint noise,
a slight blur or a gamma on its grey levels. Whatever CER these get is a floor
below which differences between methods are not differences in legibility.

Usage (from the repository root)::

    python benchmarks/cer_floor.py                  # one page per text group (24)
    python benchmarks/cer_floor.py --all            # all 96 pages

``benchmarks/zero_shot.py --floor`` scores the same changes page by page, with the
RMSE, the design and held-out parts and the pages read worse than the noisy input.
"""

from __future__ import annotations

import argparse

import numpy as np
from zero_shot import DATA, disturbed, floor_variants  # benchmarks/zero_shot.py

from docdenoise.datasets import load_dirty_documents
from docdenoise.metrics import cer
from docdenoise.ocr import TesseractOCR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--all", action="store_true", help="every page, not one per group")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    data = load_dirty_documents(args.data, include_test=False)
    groups = np.asarray(data.groups)
    if args.all:
        idx = np.arange(len(groups))
    else:
        idx = np.array([np.flatnonzero(groups == g)[0] for g in np.unique(groups)])
    clean = [data.clean[i] for i in idx]
    variants = {"clean page (read twice)": lambda y: y}
    variants.update(floor_variants(np.random.default_rng(0)))
    print(f"{args.data}: {len(idx)} clean pages; CER against Tesseract's reading of each")
    print(f"{'variant':34s} {'CER psm3':>9s} {'worst':>7s} {'CER psm6':>9s} {'worst':>7s}")
    readers = {psm: TesseractOCR(psm=psm, n_jobs=args.threads).fit() for psm in (3, 6)}
    truth = {psm: r.transform(clean) for psm, r in readers.items()}
    for name, change in variants.items():
        pages = disturbed(clean, change)
        line = f"{name:34s}"
        for psm, reader in readers.items():
            texts = reader.transform(pages)
            worst = max(cer([t], [h]) for t, h in zip(truth[psm], texts))
            line += f" {100 * cer(truth[psm], texts):8.2f}% {100 * worst:6.1f}%"
        print(line, flush=True)


if __name__ == "__main__":
    main()
