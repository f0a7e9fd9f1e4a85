"""Train the pretrained model shipped in ``docdenoise/weights/`` (synthetic pages only).

The training data are pages from :func:`docdenoise.datasets.make_dirty_documents`,
and nothing else, so the weights carry no third-party licence. Seeds are fixed;
on a CPU the run is reproducible up to the time budget (``--minutes`` stops
training by the clock, so a faster machine trains more steps).

Usage (from the repository root)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/train_pretrained.py --minutes 22

It prints the training curve and, on held-out synthetic pages, the RMSE of the noisy
input, of median-filter background removal and of the network, plus the speed;
then writes ``docdenoise/weights/<name>.safetensors`` and its model card
``<name>.json``. Zero-shot scores on real scans come from ``train_real.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from docdenoise import DocumentDenoiser, __version__
from docdenoise.datasets import make_dirty_documents

WEIGHTS = Path(__file__).resolve().parents[1] / "docdenoise" / "weights"
#: Page shapes of the training set: the two Kaggle scan sizes, a small crop and a
#: portrait page, so the network sees text at many positions relative to borders.
SHAPES = ((258, 540), (420, 540), (320, 256), (540, 420))


def median_background(pages: np.ndarray, size: int = 21) -> np.ndarray:
    """Classical baseline: divide by a median-filtered background (docdenoise.baselines)."""
    from docdenoise.baselines import median_background_removal

    return np.stack([median_background_removal(p, size=size) for p in pages])


def rmse(a: list | np.ndarray, b: list | np.ndarray) -> float:
    sq = sum(float(np.sum((np.asarray(x, np.float64) - y) ** 2)) for x, y in zip(a, b))
    return float(np.sqrt(sq / sum(np.asarray(y).size for y in b)))


def black_ink(clean: np.ndarray) -> np.ndarray:
    """Stretch a clean page so its darkest ink is black: ``1 - (1 - c) / (1 - min c)``.

    The generator gives each clean page its own ink grey (0 to 0.35), which the
    noisy page cannot reveal, so a network trained on it learns the average grey and
    returns washed-out text. A clean page for reading and OCR has black ink on white
    paper; this makes that the target. Paper (1) stays white; pages without ink are
    left alone.
    """
    darkest = float(clean.min())
    if darkest >= 0.5:
        return clean
    return np.clip(1.0 - (1.0 - clean) / (1.0 - darkest), 0.0, 1.0).astype(np.float32)


def make_pages(n: int, seed: int, ink: str = "black") -> tuple[list[np.ndarray], list[np.ndarray]]:
    noisy: list[np.ndarray] = []
    clean: list[np.ndarray] = []
    per_shape = -(-n // len(SHAPES))
    for k, shape in enumerate(SHAPES):
        X, Y = make_dirty_documents(per_shape, shape=shape, random_state=seed + k)
        noisy += list(X)
        clean += list(Y)
    if ink == "black":
        clean = [black_ink(c) for c in clean]
    return noisy[:n], clean[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="default")
    parser.add_argument("--minutes", type=float, default=22.0, help="training time budget")
    parser.add_argument("--pages", type=int, default=480, help="synthetic training pages")
    parser.add_argument("--test-pages", type=int, default=32)
    parser.add_argument("--patch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--loss", default="mse")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ink",
        choices=["black", "keep"],
        default="black",
        help="clean targets with black ink (default) or the generator's grey",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tic = time.perf_counter()
    noisy, clean = make_pages(args.pages, seed=1000 * args.seed, ink=args.ink)
    test_noisy, test_clean = make_pages(args.test_pages, seed=1000 * args.seed + 500, ink=args.ink)
    print(
        f"generated {len(noisy)} training and {len(test_noisy)} test pages "
        f"in {time.perf_counter() - tic:.0f}s",
        flush=True,
    )

    den = DocumentDenoiser(
        "unet",
        patch_size=args.patch_size,
        patches_per_image=8,
        batch_size=16,
        lr=args.lr,
        loss=args.loss,
        augment=True,
        lr_schedule="cosine",
        early_stopping=True,  # only to restore the best weights: never stops early
        n_iter_no_change=10_000,
        epochs=10_000,
        max_time=60 * args.minutes,
        validation_fraction=0.05,
        random_state=args.seed,
        verbose=1,
    )
    tic = time.perf_counter()
    den.fit(noisy, clean)
    train_s = time.perf_counter() - tic
    best = min(den.history_, key=lambda r: r["valid_loss"])
    print(
        f"trained {len(den.history_)} epochs in {train_s:.0f}s; best epoch {best['epoch']} "
        f"(valid_loss {best['valid_loss']:.5f})",
        flush=True,
    )

    n_params = sum(p.numel() for p in den.module_.parameters())
    # Fine-tuning defaults: fit() on a pretrained model continues training briefly.
    # lr, batch size and flips-only augmentation: what fine-tuned best in a fixed
    # time on real pairs (train_real.py finetune, see the model card).
    den.set_params(
        warm_start=True,
        epochs=10,
        max_time=None,
        lr=2e-3,
        batch_size=4,
        augment="flips",
        early_stopping=False,
        validation_fraction=0.1,
        verbose=0,
    )
    WEIGHTS.mkdir(exist_ok=True)
    path = WEIGHTS / f"{args.name}.safetensors"
    den.save(path)  # saved first: the evaluation below cannot lose the weights
    tic = time.perf_counter()
    cleaned = den.transform(test_noisy)
    per_page = (time.perf_counter() - tic) / len(test_noisy)
    mpx = sum(p.size for p in test_noisy) / 1e6 / len(test_noisy)
    scores = {
        "noisy": rmse(test_noisy, test_clean),
        "median_background": rmse(median_background_list(test_noisy), test_clean),
        "network": rmse(cleaned, test_clean),
    }
    for key, value in scores.items():
        print(f"synthetic test RMSE  {key:18s} {value:.4f}")
    print(f"speed: {per_page:.3f}s per page of {mpx:.3f} Mpx ({args.threads} threads)")

    card = {
        "name": args.name,
        "library_version": __version__,
        "architecture": "ResidualUNet",
        "model": "unet",
        "channels": list(den.module_.channels),
        "n_parameters": n_params,
        "training_data": {
            "generator": "docdenoise.datasets.make_dirty_documents",
            "pages": len(noisy),
            "shapes": [list(s) for s in SHAPES],
            "seed": 1000 * args.seed,
            "clean_ink": args.ink,
        },
        "recipe": {
            "patch_size": args.patch_size,
            "patches_per_image": 8,
            "batch_size": 16,
            "optimizer": "adam",
            "lr": args.lr,
            "lr_schedule": "cosine",
            "loss": args.loss,
            "augment": True,
            "max_time_s": 60 * args.minutes,
            "epochs_run": len(den.history_),
            "best_epoch": best["epoch"],
            "threads": args.threads,
            "command": f"python benchmarks/train_pretrained.py --minutes {args.minutes:g} "
            f"--pages {args.pages} --seed {args.seed} --ink {args.ink}",
        },
        "synthetic_test_rmse": {k: round(v, 5) for k, v in scores.items()},
        "seconds_per_page": round(per_page, 3),
        "megapixels_per_page": round(mpx, 3),
        "licence": "BSD-3-Clause (trained on synthetic pages only)",
    }
    (WEIGHTS / f"{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and {args.name}.json")


def median_background_list(pages: list[np.ndarray]) -> list[np.ndarray]:
    return [median_background(p[None])[0] for p in pages]


if __name__ == "__main__":
    main()
