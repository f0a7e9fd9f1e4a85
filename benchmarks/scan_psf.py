"""How sharp and how dark are scans? Real and generated noisy pages, side by side.

For each page it fits, by least squares over the pixels on and near the text, the
noisy page as a 7x7 linear filter of its clean page plus a constant::

    noisy[i, j] ~ sum_(dy, dx) k[dy, dx] * clean[i + dy, j + dx] + c

and divides ``k`` by its sum (the ink contrast) to get the page's point spread
function (PSF). It prints percentiles over pages of the centre weight, the mean of
the four nearest neighbours (``n1``), of the four at distance two along the axes
(``n2``) and of the four diagonal neighbours, for the real pairs and for pages of
:func:`docdenoise.datasets.make_dirty_documents` (the training stream of
``benchmarks/train_pretrained.py``). A Gaussian blur of sigma 0.5 pixel has centre
0.62, n1 0.084, n2 0.000 and diagonals 0.011; sharpening (as scanners do) makes
``n2`` negative.

It also prints the tones of each page: the median noisy value on the ink (clean
below 0.2) and on the paper next to the text, their difference (the contrast of
the text) and the noise of the paper (the standard deviation of the page minus
its 5x5 mean, on paper far from the text). The generated pages are drawn with
each scan profile of ``make_dirty_documents`` asked for with ``--scan``.

Usage (from the repository root)::

    python benchmarks/scan_psf.py                      # the 72 design pages
    python benchmarks/scan_psf.py --pages all --synthetic 96 --scan varied --scan sharp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zero_shot import DATA, select_pages

from docdenoise.datasets._synthetic import SCAN_NAMES

RADIUS = 3


def page_psf(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """The ``(7, 7)`` filter from clean to noisy near the text, divided by its sum."""
    x, c = np.asarray(noisy, np.float64), np.asarray(clean, np.float64)
    near = ndi.maximum_filter(c < 0.9, size=5)
    r = RADIUS
    near[:r], near[-r:], near[:, :r], near[:, -r:] = False, False, False, False
    columns = [
        np.roll(c, (dy, dx), axis=(0, 1))[near]
        for dy in range(-r, r + 1)
        for dx in range(-r, r + 1)
    ]
    design = np.stack([*columns, np.ones(int(near.sum()))], axis=1)
    coef, *_ = np.linalg.lstsq(design, x[near], rcond=None)
    k = coef[:-1].reshape(2 * r + 1, 2 * r + 1)
    return k / k.sum()


def summary(psf: np.ndarray) -> dict[str, float]:
    """Centre, nearest, second-nearest (along the axes) and diagonal weights."""
    r = RADIUS
    axis1 = [psf[r, r - 1], psf[r, r + 1], psf[r - 1, r], psf[r + 1, r]]
    axis2 = [psf[r, r - 2], psf[r, r + 2], psf[r - 2, r], psf[r + 2, r]]
    diag = [psf[r - 1, r - 1], psf[r - 1, r + 1], psf[r + 1, r - 1], psf[r + 1, r + 1]]
    return {
        "centre": float(psf[r, r]),
        "n1": float(np.mean(axis1)),
        "n2": float(np.mean(axis2)),
        "diagonal": float(np.mean(diag)),
    }


def tones(noisy: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """Median ink and paper-near-text values, their difference, and the paper's noise."""
    x, c = np.asarray(noisy, np.float64), np.asarray(clean, np.float64)
    near = ndi.binary_dilation(c < 0.95, iterations=4) & (c > 0.99)
    far = ndi.binary_erosion(c > 0.99, iterations=6)
    ink, paper = float(np.median(x[c < 0.2])), float(np.median(x[near]))
    high_pass = x - ndi.uniform_filter(x, 5)
    return {
        "ink": ink,
        "paper": paper,
        "contrast": paper - ink,
        "noise": float(np.std(high_pass[far])),
    }


def report(label: str, pairs) -> None:
    rows = [{**summary(page_psf(x, y)), **tones(x, y)} for x, y in pairs]
    print(f"{label} ({len(rows)} pages), percentiles 10 / 50 / 90:")
    for key in rows[0]:
        values = np.percentile([r[key] for r in rows], [10, 50, 90])
        print(f"  {key:9s} " + "  ".join(f"{v:+.3f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--pages", choices=("heldout", "design", "all"), default="design")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--synthetic", type=int, default=72, help="generated pages to fit")
    parser.add_argument(
        "--scan",
        action="append",
        choices=SCAN_NAMES,
        help="scan profile(s) of the generated pages (default: varied and sharp)",
    )
    args = parser.parse_args()

    from train_pretrained import make_page

    noisy, clean, _ = select_pages(args.data, args.pages, args.split_seed)
    report(f"real scans, {args.pages}", zip(noisy, clean))
    for scan in args.scan or ["varied", "sharp"]:
        pages = (make_page(k, 0, stream=1, scan=scan) for k in range(args.synthetic))
        report(f"generated pages, scan={scan!r}", pages)


if __name__ == "__main__":
    main()
