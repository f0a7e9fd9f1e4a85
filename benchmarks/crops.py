"""Side by side, one region of a real page: the scan, the clean page and each model's output.

Pooled figures say *that* a model reads worse, not *how*: whether its strokes
are bolder or thinner than the clean page's, a comma has lost its tail, a fold
left a dash through a letter. This script cuts the same box out of the noisy
scan, its clean target and each model's cleaned page, stacks them one above
another with the name over each, enlarges them (nearest neighbour, so pixels stay
pixels) and writes one PNG to look at.

Usage (from the repository root)::

    python benchmarks/crops.py --page 2.png --box 20 0 90 270 \\
        --model default --model new.safetensors --out crops.png
    python benchmarks/crops.py --page 120.png --box 0 0 100 540 --model default \\
        --gamma 1.25 --out fold.png        # the outputs as Tesseract sees them in OCRmyPDF

``--box`` is top, left, height and width in pixels of the page; ``--data`` takes
the Kaggle layout (``train/`` and ``train_cleaned/``). A model is a shipped name
or a file saved with ``DocumentDenoiser.save``. An existing ``--out`` is kept
unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from _models import load_model  # benchmarks/_models.py
from PIL import Image, ImageDraw, ImageFont
from zero_shot import DATA, select_pages  # benchmarks/zero_shot.py

from docdenoise.datasets import save_images


def crop_grid(
    images: Sequence[np.ndarray],
    labels: Sequence[str],
    box: tuple[int, int, int, int],
    *,
    scale: int = 3,
    gap: int = 2,
) -> np.ndarray:
    """The box ``(top, left, height, width)`` of each image, labelled, one under another.

    Images are 2-D floats in ``[0, 1]`` of one shape. Each crop gets a white strip
    with its label above it and a grey line below; the whole is enlarged ``scale``
    times by repeating pixels. Returns a 2-D float array in ``[0, 1]``.
    """
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    top, left, height, width = box
    shape = np.shape(images[0])
    if height < 1 or width < 1 or top < 0 or left < 0:
        raise ValueError(f"box {box} must have top, left >= 0 and height, width >= 1")
    if top + height > shape[0] or left + width > shape[1]:
        raise ValueError(
            f"box {box} (top, left, height, width) does not fit in a page of shape {shape}"
        )
    font = ImageFont.load_default()
    rows = []
    for image, label in zip(images, labels):
        if np.shape(image) != shape:
            raise ValueError(f"{label!r} has shape {np.shape(image)}, the first {shape}")
        strip = Image.new("L", (width, 12), 255)
        ImageDraw.Draw(strip).text((2, 0), label, fill=0, font=font)
        rows.append(np.asarray(strip, np.float32) / 255)
        rows.append(np.asarray(image, np.float32)[top : top + height, left : left + width])
        rows.append(np.full((gap, width), 0.5, np.float32))
    grid = np.concatenate(rows[:-1])
    return np.kron(grid, np.ones((scale, scale), np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--page", required=True, help="file name of the page, e.g. 2.png")
    parser.add_argument(
        "--box", type=int, nargs=4, metavar=("TOP", "LEFT", "HEIGHT", "WIDTH"), required=True
    )
    parser.add_argument("--model", action="append", default=[], help="shipped name or file")
    parser.add_argument("--gamma", type=float, default=1.0, help="darken the outputs (plugin)")
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    if Path(args.out).exists() and not args.overwrite:
        parser.error(f"{args.out} exists; pass --overwrite to replace it")

    noisy, clean, names = select_pages(args.data, "all")
    if args.page not in names:
        parser.error(f"--page {args.page!r} is not one of the {len(names)} pages in {args.data}")
    i = names.index(args.page)
    images = [noisy[i], clean[i]]
    labels = ["noisy scan", "clean target"]
    for spec in args.model:
        out = np.asarray(load_model(spec).transform([noisy[i]])[0], np.float32)
        images.append(out ** np.float32(args.gamma))
        labels.append(spec + (f", gamma {args.gamma:g}" if args.gamma != 1 else ""))
    try:
        grid = crop_grid(images, labels, tuple(args.box), scale=args.scale)
    except ValueError as err:
        parser.error(str(err))
    (path,) = save_images(grid, args.out, overwrite=args.overwrite)
    print(f"wrote {path} ({grid.shape[1]}x{grid.shape[0]}): {', '.join(labels)}")


if __name__ == "__main__":
    main()
