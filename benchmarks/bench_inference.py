"""Inference throughput: DocumentDenoiser.transform vs a plain PyTorch loop.

Run under the shared lock (CPU-heavy, about two minutes on 2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_inference.py

The reference network (``ConvAutoencoder``, fitted for one epoch: weights do not
change the speed of a dense network) cleans, in this process:

* 64 synthetic pages of 420x540 (the Kaggle page size), batch 16;
* one synthetic A4 page scanned at 300 dpi (3508x2480 pixels).

``plain loop`` is what a straightforward PyTorch user writes: ``model.eval()``,
``torch.no_grad()``, NCHW contiguous tensors, ``DataLoader(batch_size=16)``, the
whole A4 page in one forward pass. ``transform`` is the library with its
defaults (channels_last, at most ``PIXELS_PER_PASS`` pixels per forward pass, A4
pages in 512-pixel tiles); the indented lines switch one measure off or change
the pixel budget. Configurations are interleaved over ``--repeats`` rounds; the
ratio compares best runs (least disturbed by other processes).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from _machine import machine  # benchmarks/_machine.py
from torch.utils.data import DataLoader, TensorDataset

from docdenoise import DocumentDenoiser, _inference, _torch_engine
from docdenoise.datasets import make_dirty_documents


def plain_loop(model: torch.nn.Module, X: np.ndarray, batch_size: int) -> np.ndarray:
    loader = DataLoader(TensorDataset(torch.from_numpy(X).unsqueeze(1)), batch_size=batch_size)
    model.eval()
    out = []
    with torch.no_grad():
        for (xb,) in loader:
            out.append(model(xb).clamp(0, 1))
    return torch.cat(out)[:, 0].numpy()


def patched(run: Callable, **patches: object) -> Callable:
    """``run`` with settings of ``docdenoise._inference``/``_torch_engine`` temporarily replaced."""
    homes = {n: _inference if hasattr(_inference, n) else _torch_engine for n in patches}

    def call(*args: object) -> object:
        saved = {name: getattr(homes[name], name) for name in patches}
        try:
            for name, value in patches.items():
                setattr(homes[name], name, value)
            return run(*args)
        finally:
            for name, value in saved.items():
                setattr(homes[name], name, value)

    return call


def bench(cases: dict[str, Callable], n_images: int, repeats: int, base: str) -> None:
    for run in cases.values():  # warm-up
        run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            tic = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - tic)
    best_base = min(times[base])
    print(f"{'configuration':40s} {'best img/s':>10s} {'median':>8s} {'x plain':>8s}")
    for name, ts in times.items():
        print(
            f"{name:40s} {n_images / min(ts):10.2f} {n_images / statistics.median(ts):8.2f} "
            f"{best_base / min(ts):8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="cae", help="registered network (default: cae)")
    parser.add_argument(
        "--shape",
        default="420x540",
        help="page size HxW, multiples of "
        "the network's size_multiple (the plain loop does not pad)",
    )
    parser.add_argument("--no-a4", action="store_true", help="skip the A4 page")
    args = parser.parse_args()
    shape = tuple(int(s) for s in args.shape.split("x"))

    print(machine())
    X, Y = make_dirty_documents(args.images, shape=shape, random_state=0)
    den = DocumentDenoiser(
        args.model, epochs=1, batch_size=args.batch_size, device="cpu", random_state=0
    )
    den.fit(X[:16], Y[:16])
    model = den.module_
    whole = den.transform(X)
    np.testing.assert_allclose(whole, plain_loop(model, X, args.batch_size), atol=1e-5)

    print(
        f"\nmodel {args.model!r}, {args.images} pages {args.shape}, batch {args.batch_size}, "
        f"best/median of {args.repeats} interleaved runs"
    )
    nchw = patched(den.transform, CPU_LAYOUT=torch.contiguous_format)
    cases: dict[str, Callable] = {
        "plain loop (DataLoader, NCHW, no_grad)": lambda: plain_loop(model, X, args.batch_size),
        "transform": lambda: den.transform(X),
        "  transform, NCHW": lambda: nchw(X),
    }
    for budget in (2**17, 2**18, 2**20, 2**30):
        run = patched(den.transform, PIXELS_PER_PASS=budget)
        label = "whole batch" if budget == 2**30 else f"{budget} pixels"
        cases[f"  transform, {label} per pass"] = lambda run=run: run(X)
    bench(cases, args.images, args.repeats, "plain loop (DataLoader, NCHW, no_grad)")
    if args.no_a4:
        return

    (page,), _ = make_dirty_documents(1, shape=(3508, 2480), random_state=1)
    a4 = page[None]
    np.testing.assert_allclose(
        den.transform(a4), den.set_params(tile_size=None).transform(a4), atol=1e-5
    )
    den.set_params(tile_size="auto")
    print(f"\none A4 page at 300 dpi (3508x2480), best/median of {args.repeats} interleaved runs")
    cases = {
        "plain loop (whole page, NCHW, no_grad)": lambda: plain_loop(model, a4, 1),
        "transform (512-pixel tiles)": lambda: den.set_params(tile_size="auto").transform(a4),
        "  transform, whole page": lambda: den.set_params(tile_size=None).transform(a4),
        "  transform, 1024-pixel tiles": lambda: den.set_params(tile_size=1024).transform(a4),
        "  transform, 256-pixel tiles": lambda: den.set_params(tile_size=256).transform(a4),
    }
    bench(cases, 1, args.repeats, "plain loop (whole page, NCHW, no_grad)")
    den.set_params(tile_size="auto")


if __name__ == "__main__":
    main()
