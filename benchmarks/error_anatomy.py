"""Where a model's pixel error lies on real pages: ink, edges or paper, too light or too dark.

RMSE alone does not say what to change. This script splits each model's squared
error on real noisy/clean pairs (Kaggle layout) by what the clean page shows at
the pixel, and by the sign of the error:

* **ink**: clean value below 0.3 (stroke cores);
* **edge**: 0.3 to 0.9 (anti-aliased stroke edges);
* **paper**: 0.9 and above;

each split into *too light* (output above the clean value: ink lost, a stroke
thinned) and *too dark* (output below: residue of stains, folds, specks; a
stroke thickened). It prints the share of the pooled squared error in each of
the six cells, the pooled RMSE, the median output value on ink pixels (clean
ink there: its median, about 0.02), and the pages with the most ink-too-light
error, with their noisy ink grey (median noisy value on ink pixels), which
shows whether grey ink in the scan comes out grey.

The pages are those of ``benchmarks/zero_shot.py`` (``--pages design``, the
default, is the part that may be looked at while shaping the generator).

Usage (from the repository root)::

    python benchmarks/error_anatomy.py --model default
    python benchmarks/error_anatomy.py --model default --model new.safetensors --pages heldout

On 2026-12-02 the shipped v7 gave, on the 72 design pages: ink too light 31 %,
ink too dark 5 %, edges too light 29 %, edges too dark 16 %, paper too light
8 %, paper too dark 11 % (RMSE 0.0266); its median ink 0.041 against the clean
pages' 0.024, and 0.09 on the pages whose scanned ink is grey (``132.png``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _models import load_model  # benchmarks/_models.py
from zero_shot import DATA, select_pages  # benchmarks/zero_shot.py

#: Bounds of the clean value that name the three kinds of pixel.
KINDS = {"ink": (0.0, 0.3), "edge": (0.3, 0.9), "paper": (0.9, 1.01)}
#: The two signs of an error: output above (lighter than) or below the clean value.
SIGNS = ("too light", "too dark")
#: The six cells of the table, in print order.
CELLS = [(kind, sign) for kind in KINDS for sign in SIGNS]


def anatomy(
    outputs: list[np.ndarray], cleans: list[np.ndarray]
) -> tuple[dict[tuple[str, str], float], float]:
    """Share of the pooled squared error per (kind, sign) cell, and the pooled RMSE."""
    cells = dict.fromkeys(CELLS, 0.0)
    total, count = 0.0, 0
    for out, clean in zip(outputs, cleans):
        err = np.asarray(out, np.float64) - np.asarray(clean, np.float64)
        sq = err**2
        for kind, (low, high) in KINDS.items():
            mask = (clean >= low) & (clean < high)
            cells[(kind, "too light")] += float(sq[mask & (err > 0)].sum())
            cells[(kind, "too dark")] += float(sq[mask & (err < 0)].sum())
        total += float(sq.sum())
        count += sq.size
    shares = {cell: value / total if total else 0.0 for cell, value in cells.items()}
    return shares, float(np.sqrt(total / max(count, 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument(
        "--model", action="append", default=[], help="shipped name or model file (repeat)"
    )
    parser.add_argument("--pages", choices=["heldout", "design", "all"], default="design")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--worst", type=int, default=5, help="pages to list per model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = args.model or ["default"]

    noisy, clean, names = select_pages(args.data, args.pages, args.split_seed)
    ink = [c < KINDS["ink"][1] for c in clean]
    print(f"{args.data}: {len(names)} pages ({args.pages}, split seed {args.split_seed})")
    header = "".join(f"{kind + ' ' + sign.split()[1]:>12s}" for kind, sign in CELLS)
    print("share of squared error; light: output lighter than clean, dark: darker")
    width = max(5, *map(len, models))
    print(f"{'model':{width}s} {'RMSE':>7s}{header}  out ink")
    worst_lines = []
    for spec in models:
        outputs = [np.clip(o, 0, 1) for o in load_model(spec, device="cpu").transform(noisy)]
        shares, pooled = anatomy(outputs, clean)
        cells = "".join(f"{100 * shares[cell]:>11.0f}%" for cell in CELLS)
        out_ink = float(np.median(np.concatenate([o[m] for o, m in zip(outputs, ink)])))
        print(f"{spec:{width}s} {pooled:7.4f}{cells}  {out_ink:7.3f}")
        light = [
            (
                float((np.clip(o - c, 0, None)[m] ** 2).sum() / c.size),
                n,
                float(np.median(x[m])),
                float(np.median(o[m])),
            )
            for o, c, m, x, n in zip(outputs, clean, ink, noisy, names)
        ]
        light.sort(reverse=True)
        worst_lines.append(f"{spec}: most ink-too-light error (its MSE, noisy ink, out ink)")
        worst_lines += [
            f"  {n:10s} {1e4 * v:6.2f}e-4  noisy ink {xi:.3f}  out ink {oi:.3f}"
            for v, n, xi, oi in light[: args.worst]
        ]
    clean_ink = float(np.median(np.concatenate([c[m] for c, m in zip(clean, ink)])))
    print(f"clean ink median {clean_ink:.3f}")
    print("\n".join(worst_lines))


if __name__ == "__main__":
    main()
