"""Cleaning and training on a busy machine: torch's OpenMP threads beside a CPU hog.

Run it on an otherwise idle machine (it makes its own load; about three minutes on
2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_busy.py

Why: PyTorch's CPU kernels run on OpenMP threads (GNU libgomp in the pip wheels,
also under MKL and oneDNN), one per core by default. Every parallel region ends
in a barrier, and by default a thread that reaches it first *spins* (busy-waits,
``GOMP_SPINCOUNT`` = 300,000 rounds) instead of sleeping. When another process
competes for the cores, one of torch's threads is often descheduled; the others
then spin, burning the very cores that thread needs, and each of the thousands
of small parallel regions of a forward pass waits for a scheduler time slice
(milliseconds) instead of microseconds. ``OMP_WAIT_POLICY=PASSIVE`` makes waiting
threads sleep at once and hand their core over; it must be set before torch is
imported (libgomp reads it when it is loaded), which is why ``import docdenoise``
sets it when it is not set yet (and torch is not imported yet).

Each configuration runs in a fresh Python process, on an idle machine and next
to a CPU hog (one busy-looping process per core):

``torch default``
    ``OMP_WAIT_POLICY`` unset and torch imported before docdenoise: what a user
    who imports torch first gets (spinning threads, one per core).
``docdenoise default``
    ``import docdenoise`` first: passive waiting, one thread per core.
``1 thread``
    passive waiting and ``n_threads=1``: no barrier at all.

Workloads: ``transform`` of one page (``--page``, default 1024x768) with the
pretrained model on the torch engine (onnxruntime has its own thread pool), and a
short ``fit`` of the reference network on 48-pixel patches (many small parallel
regions: the worst case), and ``train``, one epoch of the U-Net on 128-pixel
patches in batches of 16 (the pretrained model's recipe: few, large regions). Times are the best and
the median of ``--repeats`` runs; the last columns divide the busy time by the
idle time of the same configuration and by the idle time of ``docdenoise
default``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "torch default": {"import_torch_first": True, "n_threads": None},
    "docdenoise default": {"import_torch_first": False, "n_threads": None},
    "1 thread": {"import_torch_first": False, "n_threads": 1},
}
WORKLOADS = ("transform", "fit", "train")
#: The training workloads: pages, page shape and estimator parameters.
TRAINING = {
    "fit": (
        8,
        (96, 128),
        {"epochs": 2, "batch_size": 16, "patch_size": 48, "patches_per_image": 8},
    ),
    "train": (
        16,
        (258, 540),
        {
            "model": "unet",
            "epochs": 1,
            "batch_size": 16,
            "patch_size": 128,
            "patches_per_image": 4,
            "validation_fraction": 0.0,
        },
    ),
}


# --------------------------------------------------------------------------- child


def _child(config: str, workload: str, repeats: int, page: tuple[int, int]) -> None:
    """Time one workload in this fresh process and print the times as JSON."""
    settings = CONFIGS[config]
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    if settings["import_torch_first"]:
        import torch  # libgomp loads now, before docdenoise could set anything
    import docdenoise
    from docdenoise.datasets import make_dirty_documents

    if not settings["import_torch_first"]:
        policy = os.environ.get("OMP_WAIT_POLICY", "unset")  # what torch was loaded with

    if workload == "transform":
        den = docdenoise.DocumentDenoiser.pretrained(device="cpu", engine="torch")
        noisy, _ = make_dirty_documents(1, shape=page, random_state=0)
        den.set_params(n_threads=settings["n_threads"])

        def run() -> None:
            den.transform(noisy)

    else:
        n_pages, shape, params = TRAINING[workload]
        noisy, clean = make_dirty_documents(n_pages, shape=shape, random_state=0)
        params = {**params, "device": "cpu", "random_state": 0, "n_threads": settings["n_threads"]}

        def run() -> None:
            docdenoise.DocumentDenoiser(**params).fit(noisy, clean)

    run()  # warm-up: allocations, oneDNN primitives
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        run()
        times.append(time.perf_counter() - tic)
    import torch

    print(
        json.dumps(
            {
                "times": times,
                "threads": settings["n_threads"] or torch.get_num_threads(),
                "wait_policy": policy,
            }
        )
    )


# --------------------------------------------------------------------------- parent


def _spin() -> None:
    while True:
        pass


def _measure(config: str, workload: str, args: argparse.Namespace) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    cmd = [sys.executable, __file__, "--child", config, workload, "--repeats", str(args.repeats)]
    cmd += ["--page", f"{args.page[0]}x{args.page[1]}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _page(text: str) -> tuple[int, int]:
    height, width = (int(v) for v in text.lower().split("x"))
    return height, width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per configuration")
    parser.add_argument("--page", type=_page, default=(1024, 768), help="HxW of the page")
    parser.add_argument("--hogs", type=int, default=os.cpu_count(), help="busy processes")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.repeats, args.page)
        return

    from _machine import machine  # benchmarks/_machine.py (imports torch: after the children's env)

    print(machine())
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} before starting: the 'idle' runs are not idle")
    print(f"{args.hogs} hog process(es); {args.repeats} timed runs each; page {args.page}\n")
    rows = []
    for workload in args.workloads:
        idle = {c: _measure(c, workload, args) for c in CONFIGS}
        hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.hogs)]
        for hog in hogs:
            hog.start()
        try:
            time.sleep(1.0)  # let the hogs take the cores
            busy = {c: _measure(c, workload, args) for c in CONFIGS}
        finally:
            for hog in hogs:
                hog.terminate()
            for hog in hogs:
                hog.join()
        base = min(idle["docdenoise default"]["times"])
        for config in CONFIGS:
            i, b = min(idle[config]["times"]), min(busy[config]["times"])
            rows.append(
                (
                    workload,
                    config,
                    idle[config]["threads"],
                    idle[config]["wait_policy"],
                    i,
                    statistics.median(idle[config]["times"]),
                    b,
                    statistics.median(busy[config]["times"]),
                    b / i,
                    b / base,
                )
            )
    header = (
        f"{'workload':<10} {'configuration':<19} {'thr':>3} {'OMP_WAIT_POLICY':<15} "
        f"{'idle best':>9} {'median':>8} {'busy best':>9} {'median':>8} "
        f"{'busy/idle':>9} {'busy/base':>9}"
    )
    print(header)
    print("-" * len(header))
    for w, c, thr, policy, i, im, b, bm, r, rb in rows:
        print(
            f"{w:<10} {c:<19} {thr:>3} {policy:<15} {i:>8.3f}s {im:>7.3f}s "
            f"{b:>8.3f}s {bm:>7.3f}s {r:>8.1f}x {rb:>8.1f}x"
        )
    print("\nbase: the idle best of 'docdenoise default' for the same workload.")


if __name__ == "__main__":
    main()
