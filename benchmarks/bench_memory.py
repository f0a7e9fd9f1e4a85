"""Peak memory (RSS) of cleaning A4 pages scanned at 300 dpi: one page, and 100 pages.

Run under the shared lock (about two minutes on 2 cores)::

    flock /tmp/docdenoise-heavy.lock python benchmarks/bench_memory.py

Every case runs in a fresh subprocess, so peaks do not mix; the peak is the
process's maximum resident set size (``resource.getrusage``), and ``base`` is the
peak after importing torch and docdenoise and fitting the reference network on two
tiny images, i.e. before any page is read. A synthetic 3508x2480 page is made once
and stored as a ``uint8`` ``.npy`` file, as a scan on disk would be; cases read it
from there, page by page:

* ``transform``: ``DocumentDenoiser.transform([page])`` with the default
  ``tile_size="auto"`` (512-pixel tiles), ``tile_size=None`` (whole page), and a
  plain PyTorch loop (whole page, NCHW, ``torch.no_grad``);
* ``iter_transform``: 100 pages from a generator that loads each page when asked
  (shifted a little so no two are equal), each result reduced and dropped as a
  writer would; the RSS is also sampled after pages 1, 10 and 100 to show that the
  footprint is constant;
* ``transform(list of 10)``: what happens without streaming (grows with pages).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

A4 = (3508, 2480)
CASES = {
    "transform 1 page (tiles, default)": "tiles",
    "transform 1 page (tile_size=None)": "whole",
    "plain loop 1 page (NCHW, no_grad)": "plain",
    "iter_transform 100 pages (generator)": "stream100",
    "transform(list of 10 pages)": "list10",
}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def child(case: str, page_file: str) -> dict:
    import torch

    from docdenoise import DocumentDenoiser

    rng = np.random.default_rng(0)
    tiny = rng.random((2, 64, 64), dtype=np.float32)
    den = DocumentDenoiser(epochs=1, device="cpu", random_state=0).fit(tiny, tiny)
    den.transform(tiny)
    base = peak_mib()

    def pages(n: int):
        for i in range(n):
            page = np.load(page_file)
            yield np.roll(page, i, axis=1)

    samples = {}
    if case in ("tiles", "whole"):
        den.set_params(tile_size="auto" if case == "tiles" else None)
        (out,) = den.transform(list(pages(1)))
        checksum = float(out.mean())
    elif case == "plain":
        model = den.module_.eval()
        page = next(pages(1)).astype(np.float32) / 255
        with torch.no_grad():
            out = model(torch.from_numpy(page)[None, None]).clamp(0, 1)[0, 0].numpy()
        checksum = float(out.mean())
    elif case == "stream100":
        total = 0.0
        for i, out in enumerate(den.iter_transform(pages(100)), start=1):
            total += float(out.mean())
            if i in (1, 10, 100):
                samples[f"rss_after_{i}"] = round(current_mib(), 1)
        checksum = total / 100
    elif case == "list10":
        outs = den.transform(list(pages(10)))
        checksum = float(np.mean([o.mean() for o in outs]))
    else:
        raise ValueError(case)
    return {
        "base_mib": round(base, 1),
        "peak_mib": round(peak_mib(), 1),
        "checksum": round(checksum, 6),
        **samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--page-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case == "make-page":
        from docdenoise.datasets import make_dirty_documents

        (page,), _ = make_dirty_documents(1, shape=A4, random_state=1)
        np.save(args.page_file, (page * 255).round().astype(np.uint8))
        return
    if args.case:
        print(json.dumps(child(args.case, args.page_file)))
        return

    # This process stays small: Linux carries a parent's peak RSS over into the
    # children it starts, so the page is made in a subprocess too.
    with tempfile.TemporaryDirectory() as tmp:
        page_file = str(Path(tmp) / "a4.npy")
        subprocess.run(
            [sys.executable, __file__, "--case", "make-page", "--page-file", page_file],
            check=True,
        )
        print(
            f"A4 page at 300 dpi: {A4[0]}x{A4[1]} pixels, uint8 on disk; peak RSS in MiB, "
            "one subprocess per case\n"
        )
        print(f"{'case':40s} {'base':>7s} {'peak':>7s} {'peak-base':>9s}  notes")
        for label, case in CASES.items():
            proc = subprocess.run(
                [sys.executable, __file__, "--case", case, "--page-file", page_file],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            notes = ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in res.items() if k.startswith("rss_after")
            )
            print(
                f"{label:40s} {res['base_mib']:7.0f} {res['peak_mib']:7.0f} "
                f"{res['peak_mib'] - res['base_mib']:9.0f}  {notes}"
            )


if __name__ == "__main__":
    main()
