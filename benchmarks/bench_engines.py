"""The onnx engine against the torch engine: speed, command-line start-up and memory, install size.

Run on an idle machine (CPU-heavy, about five minutes on 2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_engines.py

Four parts, each a ratio measured in one run:

1. ``transform`` with the shipped pretrained model on the engine ``"auto"`` picks
   (onnx on the CPU) against ``engine="torch"``, in this process, interleaved over
   ``--repeats`` rounds: pages per second for 16 synthetic pages of 420x540 (the
   Kaggle size) in one call with ``batch_size=16``, and seconds for one synthetic
   A4 page at 300 dpi (3508x2480, in 512-pixel tiles).
2. ``docdenoise denoise page.png -o out/`` end to end on that A4 page, each run a
   fresh process: wall time (start-up, imports, reading, cleaning, writing the PNG)
   and peak resident memory (``ru_maxrss`` of the command, started by a small
   launcher process), for
   ``--engine auto`` and ``--engine torch``; and ``docdenoise --help`` and
   ``docdenoise info``.
3. ``docdenoise denoise`` on a folder of ``--pages`` copies of the A4 page: wall
   time and the resident memory sampled every 0.05 s, reported after 10 %, 50 % and
   100 % of the pages were written (flat memory means the footprint does not grow).
4. Install size: the files of every distribution that ``pip install docdenoise``
   brings (no torch) against the same plus ``torch`` (as installed here, e.g. the
   CPU build), summed from the installed distributions' file lists.

Parts 2 and 3 need psutil (the ``bench`` extra); ``--skip`` leaves parts out.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
from _machine import machine  # benchmarks/_machine.py

from docdenoise import DocumentDenoiser
from docdenoise.datasets import make_dirty_documents, save_images

A4 = (3508, 2480)
CLI = [sys.executable, "-m", "docdenoise"]


def seconds(run: Callable[[], object]) -> float:
    tic = time.perf_counter()
    run()
    return time.perf_counter() - tic


def part_transform(repeats: int) -> None:
    engines = {
        "torch": DocumentDenoiser.pretrained(device="cpu", engine="torch"),
        "auto": DocumentDenoiser.pretrained(device="cpu", engine="auto"),
    }
    chosen = engines["auto"]._engine_name()
    X, _ = make_dirty_documents(16, shape=(420, 540), random_state=0)
    (page,), _ = make_dirty_documents(1, shape=A4, random_state=1)
    a4 = page[None]
    for est in engines.values():  # warm-up, and the engines agree
        est.transform(X[:2])
    diff = np.abs(engines["auto"].transform(X) - engines["torch"].transform(X)).max()
    print(
        f"\n1. transform, shipped model; engine 'auto' chose {chosen!r}; max |auto - torch| "
        f"on 16 pages: {diff:.1e}"
    )
    for label, data, unit in (
        ("16 pages 420x540, batch 16", X, "pages/s"),
        ("one A4 page", a4, "s"),
    ):
        times: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(repeats):  # interleaved
            for name, est in engines.items():
                times[name].append(seconds(functools.partial(est.transform, data)))
        print(f"  {label}: best/median of {repeats}")
        for name, ts in times.items():
            if unit == "pages/s":
                value = (
                    f"{len(data) / min(ts):7.2f} / {len(data) / statistics.median(ts):7.2f} pages/s"
                )
            else:
                value = f"{min(ts):7.3f} / {statistics.median(ts):7.3f} s"
            print(f"    engine {name:6s} {value}   x torch {min(times['torch']) / min(ts):5.2f}")


#: Runs a command and reports its wall time and peak RSS. A small process starts the
#: command so that the peak is the command's own: a child forked from this large
#: process would count this process's pages until it execs.
LAUNCHER = """
import json, resource, subprocess, sys, time
tic = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - tic
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": rc, "wall": wall, "peak_mib": peak}))
"""


def run_measured(
    args: list[str], sample: Callable[[int], None] | None = None
) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS MiB), calling ``sample(pid)`` meanwhile."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *args], stdout=subprocess.PIPE, stderr=err
        )
        while sample is not None and proc.poll() is None:
            for child in psutil_children(proc.pid):
                sample(child)
            time.sleep(0.05)
        out, _ = proc.communicate()
        result = json.loads(out.decode().strip().splitlines()[-1]) if out.strip() else {}
        if proc.returncode != 0 or result.get("rc") != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {err.read().decode()}")
    return result["wall"], result["peak_mib"]


def psutil_children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def denoise_command(inputs: Path, out: Path, engine: str) -> list[str]:
    return [
        *CLI,
        "denoise",
        str(inputs),
        "-o",
        str(out),
        "-q",
        "--device",
        "cpu",
        "--engine",
        engine,
    ]


def part_cli(work: Path, repeats: int) -> None:
    print(
        f"\n2. command line, one A4 page (3508x2480 PNG); best/median of {repeats} runs, "
        "a fresh process each; peak RSS of the best run"
    )
    cases = {
        "docdenoise --help": [*CLI, "--help"],
        "docdenoise info": [*CLI, "info"],
        "denoise --engine auto": None,
        "denoise --engine torch": None,
    }
    for label, command in cases.items():
        results = []
        for i in range(repeats):
            if command is None:
                engine = label.rsplit(" ", 1)[1]
                out = work / f"out-{engine}-{i}"
                command_i = denoise_command(work / "a4", out, engine)
            else:
                command_i = command
            results.append(run_measured(command_i))
        walls = [w for w, _ in results]
        best = min(results)
        print(
            f"  {label:26s} {best[0]:6.2f} / {statistics.median(walls):6.2f} s   {best[1]:6.0f} MiB"
        )


def part_many(work: Path, pages: int) -> None:
    import psutil

    folder = work / "many"
    folder.mkdir()
    for i in range(pages):
        os.link(work / "a4" / "page.png", folder / f"page-{i:03d}.png")
    print(f"\n3. command line, {pages} A4 pages in one call (RSS sampled every 0.05 s)")
    for engine in ("auto", "torch"):
        out = work / f"many-out-{engine}"
        samples: list[tuple[int, float]] = []

        def sample(pid: int, out: Path = out, samples: list = samples) -> None:
            try:
                rss = psutil.Process(pid).memory_info().rss / 2**20
            except psutil.Error:
                return
            done = len(list(out.glob("*.png"))) if out.exists() else 0
            samples.append((done, rss))

        wall, peak = run_measured(
            denoise_command(folder, out, engine),
            sample,
        )
        marks = []
        for share in (0.1, 0.5, 1.0):
            want = max(1, int(pages * share))
            rss = [r for d, r in samples if d >= want] or [samples[-1][1]]
            marks.append(f"{rss[0]:5.0f} MiB after {want}")
        print(
            f"  --engine {engine:5s} {wall:6.1f} s ({pages / wall:4.2f} pages/s), "
            f"peak {peak:5.0f} MiB; RSS " + ", ".join(marks)
        )


def _closure(requirements: list[str]) -> set[str]:
    """Installed distributions needed by ``requirements`` (no extras), recursively."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        name = re.split(r"[\s;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo += [r for r in dist.requires or [] if "extra ==" not in r]
    return seen


def _size_mib(names: set[str]) -> float:
    total = 0
    for name in names:
        for f in metadata.distribution(name).files or []:
            path = Path(f.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 2**20


def part_install() -> None:
    core = [r for r in metadata.requires("docdenoise") or [] if "extra ==" not in r]
    without = _closure(core) | {"docdenoise"}
    with_torch = without | _closure(["torch"])
    print("\n4. install size (installed files of the dependency closure)")
    print(
        f"  pip install docdenoise (no torch)  {_size_mib(without):7.0f} MiB "
        f"({len(without)} distributions)"
    )
    print(
        f"  ... plus torch {metadata.version('torch'):14s}  {_size_mib(with_torch):7.0f} MiB "
        f"({len(with_torch)} distributions)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", type=int, default=100, help="pages for part 3 (default 100)")
    parser.add_argument("--skip", type=int, action="append", default=[], choices=[1, 2, 3, 4])
    args = parser.parse_args()
    print(machine())
    if 1 not in args.skip:
        part_transform(args.repeats)
    work = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    try:
        if not {2, 3} <= set(args.skip):
            (page,), _ = make_dirty_documents(1, shape=A4, random_state=1)
            save_images([page], work / "a4", names=["page.png"])
        if 2 not in args.skip:
            part_cli(work, args.repeats)
        if 3 not in args.skip:
            part_many(work, args.pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if 4 not in args.skip:
        part_install()


if __name__ == "__main__":
    main()
