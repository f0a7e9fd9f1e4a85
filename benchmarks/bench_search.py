"""Wall time of a GridSearchCV over DocumentDenoiser: n_jobs=1 vs 2, and on dask.

Run under the shared lock (CPU-heavy, about two minutes on 2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_search.py

Every configuration runs the same search (lr x epochs, cv=3, 12 fits on synthetic
pages) in this process, and times are printed as ratios to the ``n_jobs=1`` run.
Each configuration also reports the torch threads each fit used (seen by a scorer
inside the worker that ran it), to show whether workers oversubscribe the cores:

* ``loky n_jobs=2 (cold)`` includes starting the worker processes and importing
  torch there; ``(warm)`` reuses them, as a second search in a session does.
* ``n_jobs=1, n_threads=1`` is the serial search with one torch thread: the
  fair baseline for what running two fits at once gains, since on small pages
  (and on a busy machine) torch's second thread can cost more than it gives.
* ``dask threads`` is a ``dask.distributed`` in-process cluster (one worker, two
  threads) through ``joblib.parallel_backend("dask")``; ``n_threads=1`` is the
  estimator's limit for thread-based parallelism.

The load average is printed before and after: timings on a machine shared with
other jobs are only comparable within one run.
"""

from __future__ import annotations

import argparse
import os
import time

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents
from docdenoise.scorers import neg_rmse_scorer


def torch_threads_scorer(estimator, X, y):
    """A 'score' that reports the torch threads the worker's fit used.

    ``n_threads`` when set (it applies inside fit/transform only), else the
    worker's own setting, e.g. ``cpu_count // n_jobs`` in a loky worker.
    """
    return float(estimator.n_threads or torch.get_num_threads())


def run_search(X, y, *, n_jobs, n_threads=None, epochs=(2, 4)):
    search = GridSearchCV(
        DocumentDenoiser(batch_size=8, random_state=0, device="cpu", n_threads=n_threads),
        {"lr": [1e-4, 1e-3], "epochs": list(epochs)},
        cv=3,
        n_jobs=n_jobs,
        scoring={"neg_rmse": neg_rmse_scorer, "threads": torch_threads_scorer},
        refit=False,
        error_score="raise",
    )
    tic = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - tic
    threads = sorted(set(search.cv_results_["mean_test_threads"].tolist()))
    return wall, threads, search.cv_results_["mean_test_neg_rmse"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    noisy, clean = make_dirty_documents(args.pages, shape=(args.height, args.width), random_state=0)
    X, y = list(noisy), list(clean)
    print(
        f"cpu_count={os.cpu_count()}  torch={torch.__version__}  threads in parent="
        f"{torch.get_num_threads()}  data: {args.pages} pages {args.height}x{args.width}, "
        "grid lr x epochs = 2 x 2, cv=3 (12 fits)"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    results = []
    base, threads, scores = run_search(X, y, n_jobs=1)
    results.append(("n_jobs=1 (baseline)", base, threads))
    wall, threads, _ = run_search(X, y, n_jobs=1, n_threads=1)
    results.append(("n_jobs=1, n_threads=1", wall, threads))
    serial_one_thread = wall
    wall, threads, scores2 = run_search(X, y, n_jobs=2)
    assert np.allclose(scores, scores2, atol=1e-5), "n_jobs=2 changed the scores"
    results.append(("loky n_jobs=2 (cold)", wall, threads))
    wall, threads, _ = run_search(X, y, n_jobs=2)
    results.append(("loky n_jobs=2 (warm)", wall, threads))

    if not args.no_dask:
        from dask.distributed import Client

        with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
            for n_threads in (None, 1):
                with joblib.parallel_backend("dask"):
                    wall, threads, _ = run_search(X, y, n_jobs=-1, n_threads=n_threads)
                results.append((f"dask threads, n_threads={n_threads}", wall, threads))

    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"\n{'configuration':34s} {'wall s':>8s} {'vs n_jobs=1':>12s} "
        f"{'vs 1 thread':>12s}  torch threads per fit"
    )
    for name, wall, threads in results:
        print(
            f"{name:34s} {wall:8.2f} {base / wall:11.2f}x {serial_one_thread / wall:11.2f}x"
            f"  {threads}"
        )


if __name__ == "__main__":
    main()
