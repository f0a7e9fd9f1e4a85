"""Train and evaluate on real scanned pairs (Kaggle layout) with a group-wise split.

Six of the groups (pages that share text) are held out for testing; training and
its validation split use the others, group-wise too. Every report starts with the
classical references on the same held-out pages (the noisy input, median-filter
background removal by division and by subtraction, Sauvola).

Usage (from the repository root; heavy runs under the shared lock)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/train_real.py cae
    flock /tmp/docdenoise-heavy.lock python benchmarks/train_real.py unet --minutes 15
    python benchmarks/train_real.py pretrained --ocr          # zero-shot, no training
    flock /tmp/docdenoise-heavy.lock python benchmarks/train_real.py finetune --minutes 15

``cae`` is the reference recipe (``DocumentDenoiser()`` defaults); ``unet`` trains
the residual U-Net from scratch with the patch recipe; ``pretrained`` evaluates the
shipped model, never trained on these pages, on all pairs and on the held-out part;
``finetune`` continues training the shipped model on the training groups
(``--start`` names another shipped model or a model file to start from).
``--ocr`` adds Tesseract's character error rate against its reading of the clean
targets. The data are for benchmarks only: nothing here is shipped.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _models import load_model  # benchmarks/_models.py
from sklearn.model_selection import GroupShuffleSplit
from zero_shot import DATA, median_subtract  # benchmarks/zero_shot.py

from docdenoise import DocumentDenoiser
from docdenoise.baselines import median_background_removal, sauvola_binarize
from docdenoise.datasets import load_dirty_documents
from docdenoise.metrics import rmse  # pooled over all pixels, as Kaggle scored it

CLASSICAL = {
    "noisy input": lambda p: p,
    "median background (divide)": median_background_removal,
    "median background (subtract)": median_subtract,
    "sauvola": lambda p: sauvola_binarize(p).astype(np.float32),
}


class Report:
    def __init__(self, clean: list[np.ndarray], ocr: bool) -> None:
        self.clean = clean
        self.ocr = ocr

    def line(self, name: str, pred: list[np.ndarray], extra: str = "") -> None:
        text = f"  {name:34s} RMSE {rmse(self.clean, pred):.4f}"
        if self.ocr:
            from docdenoise.ocr import TesseractOCR, ocr_cer

            cer = ocr_cer(self.clean, pred, ocr=TesseractOCR(n_jobs=2))
            text += f"   OCR CER {100 * cer:.2f} %"
        print(text + (f"   {extra}" if extra else ""), flush=True)

    def classical(self, noisy: list[np.ndarray]) -> None:
        for name, method in CLASSICAL.items():
            self.line(name, [method(p) for p in noisy])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["cae", "unet", "pretrained", "finetune"])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--minutes", type=float, default=15.0, help="training time budget")
    parser.add_argument("--test-groups", type=int, default=6)
    parser.add_argument("--patch-size", type=int, default=128)
    parser.add_argument("--patches-per-image", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--tta",
        type=int,
        choices=(1, 2, 4, 8, 16, 32),
        default=1,
        help="also score with test-time augmentation over N views (after the plain line)",
    )
    parser.add_argument(
        "--augment",
        choices=["all", "flips"],
        default="all",
        help="training augmentation: flips, rotations and brightness (all) or flips only",
    )
    parser.add_argument(
        "--start",
        default="default",
        metavar="NAME_OR_FILE",
        help="pretrained/finetune: a shipped model's name or a model file (default: default)",
    )
    parser.add_argument("--save", metavar="FILE", help="save the trained model there")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="random_state of the network")
    parser.add_argument(
        "--split-seed", type=int, default=0, help="which groups are held out (the figures: 0)"
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=None,
        help="validation split of the training pages (default: 0.1); with 0, the patch "
        "recipe keeps the last weights instead of the best on validation",
    )
    parser.add_argument(
        "--torch-init",
        action="store_true",
        help="cae: PyTorch's default initialisation (module__output_level=None)",
    )
    parser.add_argument("--ocr", action="store_true", help="also Tesseract CER (slow)")
    parser.add_argument(
        "--no-classical", action="store_true", help="skip the classical reference lines"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = load_dirty_documents(args.data, include_test=False)
    noisy, clean, groups = list(data.noisy), list(data.clean), np.asarray(data.groups)
    split = GroupShuffleSplit(1, test_size=args.test_groups, random_state=args.split_seed)
    train_idx, test_idx = next(split.split(noisy, groups=groups))
    Xtr, Ytr = [noisy[i] for i in train_idx], [clean[i] for i in train_idx]
    Xte, Yte = [noisy[i] for i in test_idx], [clean[i] for i in test_idx]
    print(
        f"{len(noisy)} pairs in {len(set(groups))} groups; held out {len(Xte)} pages of "
        f"groups {sorted(set(groups[test_idx].tolist()))}"
    )

    held_out = Report(Yte, args.ocr)
    print("held-out pages:")
    if not args.no_classical:
        held_out.classical(Xte)

    if args.mode == "pretrained":
        den = load_model(args.start)
        settings = {
            tta: "pretrained (zero-shot)" + (f", tta={tta}" if tta > 1 else "")
            for tta in sorted({1, args.tta})
        }
        for tta, name in settings.items():
            den.set_params(tta=tta)
            tic = time.perf_counter()
            out = den.transform(Xte)
            speed = f"{(time.perf_counter() - tic) / len(Xte):.2f} s/page"
            held_out.line(name, out, speed)
        print(f"all {len(noisy)} pages:")
        everything = Report(clean, args.ocr)
        if not args.no_classical:
            everything.classical(noisy)
        for tta, name in settings.items():
            everything.line(name, den.set_params(tta=tta).transform(noisy))
        return

    vf = args.validation_fraction
    recipe = {
        "patch_size": args.patch_size,
        "patches_per_image": args.patches_per_image,
        "batch_size": args.batch_size,
        "augment": True if args.augment == "all" else args.augment,
        "lr_schedule": "cosine",
        "early_stopping": vf != 0,
        "n_iter_no_change": 10_000,
        "epochs": 10_000,
        "max_time": 60 * args.minutes,
        "validation_fraction": 0.1 if vf is None else vf,
        "random_state": args.seed,
        "verbose": 1,
    }
    if args.mode == "cae":
        den = DocumentDenoiser("cae", random_state=args.seed, verbose=1)
        if args.validation_fraction is not None:
            den.set_params(validation_fraction=args.validation_fraction)
        if args.torch_init:
            den.set_params(module__output_level=None)
    elif args.mode == "unet":
        den = DocumentDenoiser("unet", lr=args.lr or 1e-3, **recipe)
    else:
        den = load_model(args.start).set_params(lr=args.lr or 3e-4, **recipe)
    start_epochs = len(getattr(den, "history_", []))
    tic = time.perf_counter()
    den.fit(Xtr, Ytr, groups=groups[train_idx])
    took = time.perf_counter() - tic
    n_params = sum(p.numel() for p in den.module_.parameters())
    epochs = len(den.history_) - start_epochs
    held_out.line(
        f"{args.mode} ({n_params:,} params)",
        den.transform(Xte),
        f"{epochs} epochs, {took:.0f} s training",
    )
    if args.tta > 1:
        held_out.line(f"{args.mode}, tta={args.tta}", den.set_params(tta=args.tta).transform(Xte))
        den.set_params(tta=False)
    if args.save:
        den.save(args.save)
        print(f"saved to {args.save}")


if __name__ == "__main__":
    main()
