"""Inference speed of the networks, against the classical median baseline in the same process.

Usage (from the repository root)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/speed_models.py --threads 2

Cleans synthetic 420x540 pages (the Kaggle scan size) with ``transform`` and prints
seconds per page, pages per second and megapixels per second for each network and
for :func:`docdenoise.baselines.median_background_removal`, plus the ratio to it.
Networks are untrained (speed does not depend on the weights) except the shipped
ones, which run on both engines (torch and onnxruntime).
"""

from __future__ import annotations

import argparse
import time

import torch

from docdenoise import DocumentDenoiser, pretrained_models
from docdenoise.baselines import median_background_removal
from docdenoise.datasets import make_dirty_documents


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="FILE",
        help="also time this model file (.safetensors on torch, .onnx on onnxruntime)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    noisy, clean = make_dirty_documents(args.pages, shape=(420, 540), random_state=0)
    mpx = noisy[0].size / 1e6

    base = best_of(lambda: [median_background_removal(p) for p in noisy], args.repeats)
    rows = [("median background (classical)", None, base)]
    estimators = {
        "cae": DocumentDenoiser("cae", epochs=1).fit(noisy[:2], clean[:2]),
        "unet": DocumentDenoiser("unet", epochs=1, patch_size=64).fit(noisy[:2], clean[:2]),
        "affine-unet": DocumentDenoiser("affine-unet", epochs=1, patch_size=64).fit(
            noisy[:2], clean[:2]
        ),
    }
    for name in pretrained_models():
        for engine in ("torch", "onnx"):
            estimators[f"pretrained {name!r}, {engine}"] = DocumentDenoiser.pretrained(
                name, engine=engine
            )
    for path in args.model:
        engine = "onnx" if path.endswith(".onnx") else "torch"
        estimators[f"{path}, {engine}"] = DocumentDenoiser.load(path).set_params(engine=engine)
    for name, den in estimators.items():
        den.transform(noisy[:1])  # warm-up
        try:
            n_params = sum(p.numel() for p in den.module_.parameters())
        except (AttributeError, ImportError):  # an .onnx file holds no torch module
            n_params = None
        rows.append((name, n_params, best_of(lambda d=den: d.transform(noisy), args.repeats)))
    print(f"{args.pages} pages of 420x540, {args.threads} threads, best of {args.repeats}")
    for name, n_params, seconds in rows:
        per_page = seconds / args.pages
        params = f"{n_params:>9,}" if n_params else " " * 9
        print(
            f"  {name:34s} {params} params  {per_page:.4f} s/page  {1 / per_page:6.1f} pages/s  "
            f"{mpx / per_page:6.2f} Mpx/s  {seconds / base:5.2f}x the classical time"
        )


if __name__ == "__main__":
    main()
