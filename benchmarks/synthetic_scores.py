"""RMSE of models on the generator's held-out pages, one line per scan profile.

The pages are those ``benchmarks/train_pretrained.py`` holds out for its test
RMSE: ``make_page(k, seed, stream=1, scan=...)`` for ``k`` below ``--pages``
(other random streams than any training page, black-ink targets), drawn once
per ``--scan`` profile. A model trained on one kind of scan can get worse on
another (the model card's *A sixth model*), so a new shipped model is checked
on every profile, not only the one it was trained on.

Usage (from the repository root)::

    python benchmarks/synthetic_scores.py --model default --model varied
    python benchmarks/synthetic_scores.py --model default --model m.safetensors \\
        --scan varied --scan sharp --scan sharpened --pages 40
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _models import load_model  # benchmarks/_models.py
from train_pretrained import make_page

from docdenoise.datasets._synthetic import SCAN_NAMES
from docdenoise.metrics import rmse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="shipped name or model file (repeat)")
    parser.add_argument("--scan", action="append", choices=SCAN_NAMES, help="scan profile (repeat)")
    parser.add_argument("--pages", type=int, default=40, help="pages per profile")
    parser.add_argument("--seed", type=int, default=0, help="train_pretrained.py's --seed")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    specs = args.model or ["default"]
    scans = args.scan or ["varied", "sharp", "sharpened"]
    models = {spec: load_model(spec, device="cpu") for spec in specs}

    width = max(14, *(len(s) for s in specs))
    print(f"{args.pages} held-out generated pages per profile (seed {args.seed}); RMSE")
    print(f"{'scan':12s} {'noisy':>7s} " + " ".join(f"{s:>{width}s}" for s in specs))
    for scan in scans:
        pages = [make_page(k, args.seed, stream=1, scan=scan) for k in range(args.pages)]
        noisy = [x for x, _ in pages]
        clean = [y for _, y in pages]
        line = f"{scan:12s} {rmse(clean, noisy):7.4f} "
        for den in models.values():
            out = [np.asarray(p, np.float32) for p in den.transform(noisy)]
            line += f" {rmse(clean, out):>{width}.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
