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

With ``--model`` it fits each model's *output* the same way, against the clean
page: a centre weight above 1 (and negative ``n1``) means the output is sharper
than the clean page, below 1 softer. It also prints the output's ink mass (the
sum of ``1 - value`` near the text, as a share of the clean page's) and, by grey
level of the clean page, the mean error (output minus clean) and its RMS: a
mean far from zero is a bias the model shares across pages, a RMS far above it
is error that varies from pixel to pixel and page to page.

Usage (from the repository root)::

    python benchmarks/scan_psf.py                      # the 72 design pages
    python benchmarks/scan_psf.py --pages all --synthetic 96 --scan varied --scan sharp
    python benchmarks/scan_psf.py --synthetic 0 --model default --model varied
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
#: Grey levels of the clean page for the error table of ``--model``.
LEVELS = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.99), (0.99, 1.01))


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


def ink_mass(out: np.ndarray, clean: np.ndarray) -> float:
    """Sum of ``1 - out`` near the text over that of the clean page (1: as much ink)."""
    o, c = np.asarray(out, np.float64), np.asarray(clean, np.float64)
    near = ndi.binary_dilation(c < 0.9, iterations=3)
    return float((1 - o)[near].sum() / (1 - c)[near].sum())


def report_model(label: str, outputs, clean) -> None:
    """PSF and ink mass of a model's output against the clean pages; error by grey level."""
    report(f"{label}: output against the clean page", zip(outputs, clean))
    mass = np.percentile([ink_mass(o, c) for o, c in zip(outputs, clean)], [10, 50, 90])
    print("  ink mass  " + "  ".join(f"{v:+.3f}" for v in mass))
    c = np.concatenate([np.ravel(p) for p in clean]).astype(np.float64)
    err = np.concatenate([np.ravel(o) for o in outputs]).astype(np.float64) - c
    total = float(np.sum(err**2))
    print("  clean grey   pixels   mean error   RMS    share of squared error")
    for lo, hi in LEVELS:
        m = (c >= lo) & (c < hi)
        e = err[m]
        print(
            f"  {lo:.2f}-{min(hi, 1):.2f}  {m.mean():7.3f}   {e.mean():+.4f}     "
            f"{np.sqrt(np.mean(e**2)):.4f}  {np.sum(e**2) / total:.2f}"
        )


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
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="also fit this model's output (shipped name or model file; repeat)",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from train_pretrained import make_page

    noisy, clean, _ = select_pages(args.data, args.pages, args.split_seed)
    report(f"real scans, {args.pages}", zip(noisy, clean))
    if args.model:
        import torch
        from _models import load_model  # benchmarks/_models.py

        torch.set_num_threads(args.threads)
        for spec in args.model:
            report_model(spec, load_model(spec).transform(noisy), clean)
    for scan in (args.scan or ["varied", "sharp"]) if args.synthetic else []:
        pages = (make_page(k, 0, stream=1, scan=scan) for k in range(args.synthetic))
        report(f"generated pages, scan={scan!r}", pages)


if __name__ == "__main__":
    main()
