"""Training throughput: DocumentDenoiser.fit vs a plain PyTorch loop vs skorch.

Run under the shared lock (CPU-heavy, about two minutes on 2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_training.py

All runs train the reference network (``ConvAutoencoder``, 9,569 parameters; another
registered one with ``--model unet --shape 416x544``) with
Adam (lr 1e-3) and the MSE loss, batch 16, on the same synthetic 420x540 pages,
in this process, without validation:

* ``plain loop``: what a straightforward PyTorch user writes: NCHW contiguous
  tensors, ``torch.utils.data.DataLoader(shuffle=True)``, forward, backward, step;
* ``skorch``: ``skorch.NeuralNetRegressor`` wrapping the same module
  (``pip install docdenoise[bench]``);
* ``DocumentDenoiser.fit``: the library, plus ablations that switch one of its
  speed measures off (``no chunks``: whole batch per forward/backward pass;
  ``NCHW``: default memory format).

The configurations are interleaved over ``--repeats`` rounds; each line gives the
best and the median images/s, and the ratio of the best to the plain loop's best
(the best run is the least disturbed by other processes on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from _machine import machine  # benchmarks/_machine.py
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from docdenoise import DocumentDenoiser, _training
from docdenoise.datasets import make_dirty_documents
from docdenoise.models import get_model_class

#: The network every configuration trains (``--model``).
MODEL = "cae"


def plain_loop(X: np.ndarray, Y: np.ndarray, epochs: int, batch_size: int) -> None:
    torch.manual_seed(0)
    data = TensorDataset(torch.from_numpy(X).unsqueeze(1), torch.from_numpy(Y).unsqueeze(1))
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)
    model = get_model_class(MODEL)()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()


def skorch_fit(X: np.ndarray, Y: np.ndarray, epochs: int, batch_size: int) -> None:
    from skorch import NeuralNetRegressor

    torch.manual_seed(0)
    NeuralNetRegressor(
        get_model_class(MODEL),
        max_epochs=epochs,
        batch_size=batch_size,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        criterion=nn.MSELoss,
        train_split=None,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
    ).fit(X[:, None], Y[:, None])


def docdenoise_fit(X: np.ndarray, Y: np.ndarray, epochs: int, batch_size: int) -> None:
    DocumentDenoiser(
        MODEL,
        epochs=epochs,
        batch_size=batch_size,
        validation_fraction=0,
        device="cpu",
        random_state=0,
    ).fit(X, Y)


def ablated(fit: Callable, **patches: object) -> Callable:
    """``fit`` with attributes of ``docdenoise._training`` temporarily replaced."""

    def run(*args: object) -> None:
        saved = {name: getattr(_training, name) for name in patches}
        try:
            for name, value in patches.items():
                setattr(_training, name, value)
            fit(*args)
        finally:
            for name, value in saved.items():
                setattr(_training, name, value)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-skorch", action="store_true")
    parser.add_argument("--no-ablations", action="store_true")
    parser.add_argument("--model", default="cae", help="registered network (default: cae)")
    parser.add_argument(
        "--shape",
        default="420x540",
        help="page size HxW, multiples of "
        "the network's size_multiple (the plain loop does not pad)",
    )
    args = parser.parse_args()
    global MODEL
    MODEL = args.model
    shape = tuple(int(s) for s in args.shape.split("x"))

    print(machine())
    X, Y = make_dirty_documents(args.images, shape=shape, random_state=0)
    n_seen = args.images * args.epochs
    print(
        f"model {MODEL!r}, {args.images} pages {args.shape}, {args.epochs} epochs, "
        f"batch {args.batch_size}: "
        f"{n_seen} images per run, best/median of {args.repeats} interleaved runs\n"
    )

    cases: dict[str, Callable] = {"plain loop (DataLoader, NCHW)": plain_loop}
    if not args.no_skorch:
        cases["skorch NeuralNetRegressor"] = skorch_fit
    cases["DocumentDenoiser.fit"] = docdenoise_fit
    if not args.no_ablations:
        for power in (18, 20):
            cases[f"  fit, chunks of 2**{power} pixels"] = ablated(
                docdenoise_fit, PIXELS_PER_CHUNK=2**power
            )
        cases["  fit, no chunks"] = ablated(docdenoise_fit, PIXELS_PER_CHUNK=10**12)
        cases["  fit, no chunks, NCHW"] = ablated(
            docdenoise_fit, PIXELS_PER_CHUNK=10**12, _fast_layout=lambda module: False
        )

    small = (X[:16], Y[:16], 1, args.batch_size)
    for fit in cases.values():  # warm-up: imports, oneDNN primitive caches
        fit(*small)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, fit in cases.items():
            tic = time.perf_counter()
            fit(X, Y, args.epochs, args.batch_size)
            times[name].append(time.perf_counter() - tic)

    base = min(times["plain loop (DataLoader, NCHW)"])
    print(f"{'configuration':34s} {'best img/s':>10s} {'median':>8s} {'x plain':>8s}")
    for name, ts in times.items():
        print(
            f"{name:34s} {n_seen / min(ts):10.1f} {n_seen / statistics.median(ts):8.1f} "
            f"{base / min(ts):8.2f}"
        )
    if "skorch NeuralNetRegressor" in times:
        ratio = min(times["skorch NeuralNetRegressor"]) / min(times["DocumentDenoiser.fit"])
        print(f"\nDocumentDenoiser.fit / skorch: {ratio:.2f}x")


if __name__ == "__main__":
    main()
