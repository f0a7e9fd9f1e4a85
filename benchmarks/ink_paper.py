"""How the noisy ink grey moves with the paper around it, on real and generated pages.

Ink printed on paper and lit with it darkens where the paper darkens (a fold, a
stain, grain): the ink's grey is about the paper's times the ink's, a small
positive slope. On about half of the real Kaggle scans it is the other way round:
the ink grey is close to one minus the paper's grey around it, so text that
crosses a dark fold comes out *lighter*. This script measures, for each page, the
least-squares slope of the noisy value on ink-core pixels (clean value below 0.1)
against the paper around them (the noisy value of nearby pure-paper pixels,
clean above 0.97, Gaussian-weighted with sigma 3 pixels), with the median ink
grey and one minus the median paper grey. It prints the pages, the slopes'
percentiles and how many pages have a slope below -0.3 ("inverse ink").

It is what ``make_dirty_documents(scan="inverse")`` was shaped on, and checks
that the generated pages match: ``--scan NAME`` scores ``--n`` generated pages of
that profile (black clean ink) instead of the real ones.

Usage (from the repository root)::

    python benchmarks/ink_paper.py                       # the 72 design pages
    python benchmarks/ink_paper.py --pages all --quiet
    python benchmarks/ink_paper.py --scan inverse --n 40

On 2026-12-02: 36 of the 72 design pages have slopes from -0.92 to -0.44 (ink
0.13 to 0.20, one minus the paper 0.11 to 0.13), the others -0.02 to +0.12; held
out, 12 of 24 from -0.89 to -0.41, the others +0.02 to +0.09.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import ndimage as ndi
from zero_shot import DATA, select_pages  # benchmarks/zero_shot.py

from docdenoise.datasets import make_dirty_documents

#: Slopes below this count as inverse ink.
INVERSE = -0.3


def ink_paper_slope(noisy: np.ndarray, clean: np.ndarray) -> tuple[float, float, float]:
    """(slope of ink on the paper around it, median ink grey, 1 - median paper grey).

    NaN where the page has too little ink next to paper to fit a slope.
    """
    noisy = np.asarray(noisy, np.float64)
    clean = np.asarray(clean, np.float64)
    paper = ndi.binary_erosion(clean > 0.97)
    weight = ndi.gaussian_filter(paper.astype(np.float64), 3)
    around = ndi.gaussian_filter(noisy * paper, 3) / np.maximum(weight, 1e-6)
    ink = (weight > 0.2) & (clean < 0.1)
    if ink.sum() < 20:
        return float("nan"), float("nan"), float("nan")
    x, y = around[ink], noisy[ink]
    slope = np.cov(x, y)[0, 1] / max(float(x.var()), 1e-12)
    return float(slope), float(np.median(y)), float(1 - np.median(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DATA, help="real pairs in the Kaggle layout")
    parser.add_argument("--pages", choices=["design", "heldout", "all"], default="design")
    parser.add_argument("--scan", help="score generated pages of this scan profile instead")
    parser.add_argument("--n", type=int, default=40, help="generated pages (with --scan)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args()

    if args.scan:
        noisy, clean = make_dirty_documents(
            args.n, (420, 540), random_state=args.seed, scan=args.scan, clean_ink="black"
        )
        names = [f"generated {i}" for i in range(args.n)]
        print(f"{args.n} generated pages, scan={args.scan!r}, seed {args.seed}")
    else:
        noisy, clean, names = select_pages(args.data, args.pages)
        print(f"{args.data}: {len(names)} pages ({args.pages})")
    rows = [(name, *ink_paper_slope(n, c)) for name, n, c in zip(names, noisy, clean)]
    rows = [r for r in rows if np.isfinite(r[1])]
    if not args.quiet:
        print(f"{'page':14s} {'slope':>6s} {'ink':>6s} {'1-paper':>8s}")
        for name, slope, ink, dark in sorted(rows, key=lambda r: r[1]):
            print(f"{name:14s} {slope:+6.2f} {ink:6.3f} {dark:8.3f}")
    slopes = np.array([r[1] for r in rows])
    p10, p50, p90 = np.percentile(slopes, [10, 50, 90])
    inverse = slopes < INVERSE
    print(
        f"{len(rows)} pages with ink: slope p10 {p10:+.2f}, median {p50:+.2f}, p90 {p90:+.2f}; "
        f"inverse ink (slope < {INVERSE}) on {inverse.sum()} pages {_span(slopes[inverse])}, "
        f"the others {_span(slopes[~inverse])}"
    )


def _span(values: np.ndarray) -> str:
    return f"({values.min():+.2f} to {values.max():+.2f})" if values.size else "(none)"


if __name__ == "__main__":
    main()
