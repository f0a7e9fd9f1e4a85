"""Is the zero-shot gap in the generator's text or in its degradations?

Fine-tunes a shipped model briefly on one half of the design groups of the real
pairs (``zero_shot.select_pages``, text groups alternately) and scores RMSE on the
real noisy/clean pairs of the other half, in one of two ways:

- ``--train real``: on the real noisy/clean pairs (what fine-tuning reaches);
- ``--train degraded``: on the real *clean* pages, printed and degraded by the
  generator (``docdenoise.datasets._synthetic.degrade_coverage`` with a scan
  profile, ``--scan``), against those clean pages.

The degraded run sees the real fonts, sizes and layouts but only the generator's
dirt, print and scan; if it scores no better than the shipped model zero-shot,
the degradations, not the text, are what the generator misses. It compares scan
profiles quickly (about 7 minutes per run on one thread) without looking at the
held-out groups. The models trained here are thrown away: their training pages are
the real pairs' pixels, which may not ship.

Usage (from the repository root)::

    python benchmarks/degradation_gap.py --model varied --train real
    python benchmarks/degradation_gap.py --model varied --train degraded --scan varied
    python benchmarks/degradation_gap.py --model varied --train degraded --scan sharp
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_pretrained import lr_at, random_crops, score_pairs, stroke_weights
from zero_shot import DATA, select_pages

from docdenoise import DocumentDenoiser
from docdenoise.datasets._synthetic import SCAN_NAMES, degrade_coverage, scan_profile


def design_halves(data_dir: str) -> tuple[list, list]:
    """(noisy, clean) pairs of alternate text groups of the design pages: (train, score)."""
    noisy, clean, names = select_pages(data_dir, "design")
    groups = json.loads((Path(data_dir) / "groups.json").read_text())
    group_of = {f"{n}.png": g for g, members in enumerate(groups) for n in members}
    page_groups = [group_of[Path(n).name] for n in names]
    scored = set(sorted(set(page_groups))[1::2])
    pairs = list(zip(noisy, clean))
    return (
        [p for p, g in zip(pairs, page_groups) if g not in scored],
        [p for p, g in zip(pairs, page_groups) if g in scored],
    )


def degraded_pairs(pairs: list, scan: str, copies: int, seed: int) -> list:
    """``copies`` generator scans of each clean page, each paired with that clean page."""
    rng = np.random.default_rng(seed)
    out = []
    for _, clean in pairs:
        coverage = np.clip(1.0 - clean, 0.0, 1.0).astype(np.float32)
        for _ in range(copies):
            noisy, _ = degrade_coverage(rng, coverage, scan_profile(rng, scan))
            out.append((noisy, clean))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", choices=("real", "degraded"), required=True)
    parser.add_argument("--model", default="default", help="shipped model to start from")
    parser.add_argument("--scan", choices=SCAN_NAMES, default="varied")
    parser.add_argument("--copies", type=int, default=4, help="scans drawn per clean page")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train, scored = design_halves(args.data)
    if args.train == "degraded":
        train = degraded_pairs(train, args.scan, args.copies, args.seed)
    label = args.train + (f", scan={args.scan!r}" if args.train == "degraded" else "")
    print(f"training on {len(train)} pairs ({label}); scoring {len(scored)} real pairs")
    net = DocumentDenoiser.pretrained(args.model, engine="torch").module_.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    print(f"step      0  RMSE {score_pairs(net, scored):.4f}  ({args.model!r} zero-shot)")
    started = time.perf_counter()
    for step in range(args.steps):
        x, y = random_crops(train, 16, 128, np.random.default_rng([args.seed, step]))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, 100)
        optimizer.zero_grad(set_to_none=True)
        loss = (((net(x) - y) ** 2) * stroke_weights(y, 5.0)).mean()
        loss.backward()
        optimizer.step()
        if (step + 1) % 500 == 0 or step + 1 == args.steps:
            minutes = (time.perf_counter() - started) / 60
            line = f"step {step + 1:6d}  RMSE {score_pairs(net, scored):.4f}  {minutes:.1f} min"
            print(line, flush=True)


if __name__ == "__main__":
    main()
