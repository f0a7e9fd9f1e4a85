"""Does a model keep faint text? Generated pages with faded print, under shadows or stains.

A network trained only on dark, crisp text can learn that anything faint is dirt
and erase it. This script cleans generated pages whose print is faded (with
paper, shadows or stains, sensor noise and blur; black-ink targets) and prints,
for each model:

- *ink kept*: of the pixels that are ink on the clean page (below 0.5), the share
  still darker than 0.5 in the output;
- *false ink*: pixels dark in the output but not on the clean page, as a share of
  the ink pixels;
- *RMSE/noisy*: the output's RMSE as a share of the noisy page's.

Usage (from the repository root)::

    python benchmarks/faint_text.py --model default --model varied --model m.safetensors
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _models import load_model  # benchmarks/_models.py

from docdenoise import pretrained_models
from docdenoise.datasets import make_dirty_documents

#: Two sets of faded pages: the varied scans under shadows, sharp scans under stains.
SETS = {
    "varied scans, shadows": (7, "varied", ["paper", "fade", "shadows", "noise", "blur"]),
    "sharp scans, stains": (8, "sharp", ["paper", "fade", "stains", "noise", "blur"]),
}


def faint_scores(out: np.ndarray, noisy: np.ndarray, clean: np.ndarray) -> tuple[float, ...]:
    """Ink kept, false ink and RMSE/noisy (see the module docstring)."""
    ink, dark = clean < 0.5, out < 0.5
    kept = float(dark[ink].mean())
    false_ink = float((dark & ~ink).sum() / ink.sum())
    ratio = float(np.sqrt(np.mean((out - clean) ** 2)) / np.sqrt(np.mean((noisy - clean) ** 2)))
    return kept, false_ink, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME_OR_FILE",
        help="a shipped model's name or a model file (repeatable; default: the shipped ones)",
    )
    parser.add_argument("--pages", type=int, default=24, help="pages of 258x540 per set")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    sets = {
        name: make_dirty_documents(
            args.pages,
            shape=(258, 540),
            random_state=seed,
            degradations=degradations,
            clean_ink="black",
            scan=scan,
        )
        for name, (seed, scan, degradations) in SETS.items()
    }
    print(f"{args.pages} generated pages with faded print per set")
    print(f"{'model':34s} {'set':24s} {'ink kept':>9s} {'false ink':>10s} {'RMSE/noisy':>11s}")
    for spec in args.model or list(pretrained_models()):
        den = load_model(spec)
        for name, (noisy, clean) in sets.items():
            out = np.asarray(den.transform(noisy), np.float32)
            kept, false_ink, ratio = faint_scores(out, noisy, clean)
            print(f"{spec:34s} {name:24s} {kept:9.3f} {false_ink:10.3f} {ratio:11.3f}", flush=True)


if __name__ == "__main__":
    main()
