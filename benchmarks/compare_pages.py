"""Two models page by page: on how many real pages is the second better, and is that chance?

``benchmarks/zero_shot.py --csv`` writes one row per page and method (RMSE, and
with ``--ocr`` the CER at psm 3 and psm 6). Pooled figures hide how a change is
spread: a new model can lower the pooled RMSE on a few pages and lose on most, and
Tesseract's default page segmentation moves single pages by several points for
changes no reader sees (see the model card). This script pairs the pages of two
such files (a base and a candidate, one model each, with or without the darkened
``--ocr-gamma`` lines) and prints, for each measure:

* the pooled figure of each (RMSE: root of the mean squared page RMSE; CER: the
  mean over pages);
* on how many pages the candidate is better and worse (ties left out), with the
  two-sided sign test's p-value: how often a coin would split the pages at least
  that unevenly;
* the same figures on the pages with inverse ink and with printed ink
  (``benchmarks/ink_paper.py``: noisy ink that lightens where the paper darkens,
  slope below -0.3), which a generator change may treat differently;
* the pages that moved most.

Usage (from the repository root)::

    python benchmarks/zero_shot.py --pages heldout --ocr --no-baselines \\
        --model default --ocr-gamma 1.25 --csv base.csv
    python benchmarks/zero_shot.py --pages heldout --ocr --no-baselines \\
        --model new.safetensors --ocr-gamma 1.25 --csv new.csv
    python benchmarks/compare_pages.py base.csv new.csv

``--no-ink-type`` skips the split (it reads the real pages to measure the ink;
``--data`` is where they are).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable

import numpy as np
from scipy.stats import binomtest

#: Per-page columns of zero_shot.py's CSV, in the order printed.
MEASURES = ("rmse", "cer_psm3", "cer_psm6")


def read_pages(path: str) -> dict[str, dict[str, dict[str, float]]]:
    """``{"plain" | "darkened": {page: {measure: value}}}`` from a zero_shot.py CSV.

    The file must hold one model (and optionally its darkened line).
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    methods: dict[str, str] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            kind = "darkened" if ", OCR gamma" in row["method"] else "plain"
            if methods.setdefault(kind, row["method"]) != row["method"]:
                raise SystemExit(
                    f"{path}: expected one model per file, got {methods[kind]!r} and "
                    f"{row['method']!r}; write one CSV per model"
                )
            out.setdefault(kind, {})[row["page"]] = {
                m: float(row[m]) for m in MEASURES if row.get(m) not in (None, "")
            }
    if not out:
        raise SystemExit(f"{path}: no rows (expected a CSV from zero_shot.py --csv)")
    return out


def sign_test(better: int, worse: int) -> float:
    """Two-sided sign test p-value of ``better`` against ``worse`` (ties left out)."""
    n = better + worse
    return float(binomtest(better, n).pvalue) if n else 1.0


def compare(
    base: dict[str, dict[str, float]],
    cand: dict[str, dict[str, float]],
    measure: str,
    inverse: dict[str, bool] | None = None,
) -> dict[str, float | int | str]:
    """Pooled figures, page counts and the sign test for one measure."""
    pages = sorted(p for p in base if p in cand and measure in base[p] and measure in cand[p])
    if not pages:
        raise SystemExit(f"no page has {measure!r} in both files")
    x = np.array([base[p][measure] for p in pages])
    y = np.array([cand[p][measure] for p in pages])
    pool: Callable[[np.ndarray], float] = (
        (lambda v: float(np.sqrt(np.mean(v**2)))) if measure == "rmse" else np.mean
    )
    better, worse = int((y < x).sum()), int((y > x).sum())
    row: dict[str, float | int | str] = {
        "pages": len(pages),
        "base": pool(x),
        "cand": pool(y),
        "better": better,
        "worse": worse,
        "p": sign_test(better, worse),
    }
    if inverse is not None:
        inv = np.array([inverse.get(p, False) for p in pages])
        for name, mask in (("inverse", inv), ("printed", ~inv)):
            if mask.any():
                xm, ym = x[mask], y[mask]
                row[name] = f"{_fmt(measure, pool(xm))} -> {_fmt(measure, pool(ym))}"
                row[name] += f" (better {int((ym < xm).sum())}, worse {int((ym > xm).sum())})"
    moved = [f"{pages[i]} {_delta(measure, y[i] - x[i])}" for i in np.argsort(y - x)]
    row["most improved"] = ", ".join(moved[:3])
    row["most worsened"] = ", ".join(moved[::-1][:3])
    return row


def ink_types(data: str, names: list[str]) -> dict[str, bool]:
    """Which of the real pages ``names`` have inverse ink (benchmarks/ink_paper.py)."""
    from ink_paper import INVERSE, ink_paper_slope  # benchmarks/ink_paper.py
    from zero_shot import select_pages  # benchmarks/zero_shot.py

    noisy, clean, all_names = select_pages(data, "all")
    wanted = set(names)
    return {
        n: ink_paper_slope(a, b)[0] < INVERSE
        for n, a, b in zip(all_names, noisy, clean)
        if n in wanted
    }


def _fmt(measure: str, value: float) -> str:
    return f"{value:.4f}" if measure == "rmse" else f"{100 * value:.2f} %"


def _delta(measure: str, value: float) -> str:
    return f"{value:+.4f}" if measure == "rmse" else f"{100 * value:+.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="zero_shot.py --csv file of the base model")
    parser.add_argument("candidate", help="zero_shot.py --csv file of the candidate")
    parser.add_argument("--data", help="the real pairs (default: zero_shot.py's)")
    parser.add_argument("--no-ink-type", action="store_true", help="skip the ink-type split")
    args = parser.parse_args()

    base, cand = read_pages(args.base), read_pages(args.candidate)
    inverse = None
    if not args.no_ink_type:
        from zero_shot import DATA  # benchmarks/zero_shot.py

        inverse = ink_types(args.data or DATA, sorted(base["plain"]))
        print(f"inverse ink on {sum(inverse.values())} of {len(inverse)} pages")
    print("better/worse: pages where the candidate is better/worse; p: two-sided sign test")
    for kind in ("plain", "darkened"):
        if kind not in base or kind not in cand:
            continue
        for measure in MEASURES:
            if not any(measure in v for v in base[kind].values()):
                continue
            r = compare(base[kind], cand[kind], measure, inverse)
            print(
                f"{kind:8s} {measure:8s} {_fmt(measure, float(r['base'])):>8s} -> "
                f"{_fmt(measure, float(r['cand'])):>8s}  better {r['better']:2d} "
                f"worse {r['worse']:2d} of {r['pages']}  p {float(r['p']):.3f}"
            )
            for key in ("inverse", "printed", "most improved", "most worsened"):
                if key in r:
                    print(f"{'':18s}{key}: {r[key]}")


if __name__ == "__main__":
    main()
