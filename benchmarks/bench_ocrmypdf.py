"""Searchable PDFs from real stained scans: OCRmyPDF alone, with ``--clean`` (unpaper), and
with the docdenoise plugin.

Packs the noisy pages of a Kaggle-layout folder (``train/``, ``train_cleaned/``,
``groups.json``) into one PDF at ``--dpi`` (a lossless grey image per page, as a
scanner writes), runs OCRmyPDF on it in several ways, and scores the text layer of
each output against the text layer OCRmyPDF makes from the *clean* pages (the same
Tesseract, settings and text extraction, so only the page image differs):

* ``plain``: ``ocrmypdf in.pdf out.pdf``
* ``--clean``: unpaper cleans the image Tesseract reads (OCRmyPDF's own cleaner)
* ``--clean --clean-final``: ... and the output shows the unpaper-cleaned page
* ``docdenoise``: ``--plugin docdenoise.ocrmypdf_plugin``
* ``docdenoise gamma 1``: ... ``--docdenoise-ocr-gamma 1``, Tesseract reads the
  cleaned page as the model made it (the default, 1.25, darkens its grey edges)
* ``docdenoise final``: ... ``--docdenoise-final``, the output shows the cleaned page

Printed per way: the character and word error rate of the text layer (pooled over
pages: edits over reference characters, whitespace runs collapsed, see
:func:`docdenoise.metrics.cer`), seconds per page (wall clock of the whole
``ocrmypdf`` command, so startup included; only meaningful on an otherwise idle
machine) and the output's size.

``--split heldout`` (the default) uses only the group-wise held-out pages of
:func:`docdenoise.evaluation.heldout_split`, like ``benchmarks/evaluate.py``, so a
model fine-tuned on the other pages is not scored on text it has seen.
``--figure`` writes a before/after picture (noisy, unpaper, docdenoise) of one page.

Usage (from the repository root; needs ``pip install -e ".[pdf]"``, Tesseract,
Ghostscript and unpaper)::

    python benchmarks/bench_ocrmypdf.py --data ../shared/data/ddd-dev
    python benchmarks/bench_ocrmypdf.py --data ../shared/data/ddd-dev --split all --jobs 2 \\
        --keep pdfs/ --figure docs/_static/ocrmypdf_before_after.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from docdenoise.datasets import iter_pages, load_dirty_documents, save_pages
from docdenoise.evaluation import heldout_split
from docdenoise.metrics import cer, wer

try:
    from _machine import machine
except ImportError:  # run from elsewhere
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import machine

PLUGIN = ["--plugin", "docdenoise.ocrmypdf_plugin"]

#: name -> (ocrmypdf options, output file name)
WAYS = {
    "plain": ([], "plain.pdf"),
    "--clean": (["--clean"], "unpaper.pdf"),
    "--clean --clean-final": (["--clean", "--clean-final"], "unpaper_final.pdf"),
    "docdenoise": (PLUGIN, "docdenoise.pdf"),
    "docdenoise gamma 1": ([*PLUGIN, "--docdenoise-ocr-gamma", "1"], "docdenoise_gamma1.pdf"),
    "docdenoise final": ([*PLUGIN, "--docdenoise-final"], "docdenoise_final.pdf"),
}


def text_per_page(pdf: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def run_ocrmypdf(src: Path, dest: Path, options: list[str], common: list[str]) -> float:
    """Run the ``ocrmypdf`` command; its wall-clock seconds."""
    argv = [sys.executable, "-m", "ocrmypdf", "--quiet", *common, *options, str(src), str(dest)]
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")
    return seconds


def save_figure(path: Path, pdfs: dict[str, Path], page: int, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("scanned page", pdfs["noisy"]),
        ("OCRmyPDF --clean --clean-final (unpaper)", pdfs["--clean --clean-final"]),
        ("OCRmyPDF + docdenoise (--docdenoise-final)", pdfs["docdenoise final"]),
    ]
    images = [list(iter_pages(pdf))[page].image for _, pdf in panels]
    height, width = images[0].shape
    fig, axes = plt.subplots(1, 3, figsize=(15, 5 * height / width + 0.7))
    for ax, (title, _), image in zip(axes, panels, images):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=11)
        ax.axis("off")
    fig.suptitle(f"{name} (page {page + 1} of the benchmark PDF)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train/ and train_cleaned/")
    parser.add_argument("--split", choices=["heldout", "all"], default="heldout")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="use only the first N pages (a quick check)")
    parser.add_argument("--dpi", type=float, default=150, help="resolution of the packed pages")
    parser.add_argument("--jobs", type=int, help="ocrmypdf --jobs (default: all cores)")
    parser.add_argument("--model", help="docdenoise model file (default: the shipped model)")
    parser.add_argument("--tta", type=int, help="--docdenoise-tta")
    parser.add_argument("--keep", help="keep the PDFs in this folder")
    parser.add_argument("--figure", help="write a before/after PNG of one page here")
    parser.add_argument("--figure-page", type=int, default=1, help="its page number (from 1)")
    args = parser.parse_args(argv)
    for program in ("tesseract", "unpaper"):
        if shutil.which(program) is None:
            parser.error(f"{program} is not installed (apt-get install {program})")

    data = load_dirty_documents(args.data, include_test=False)
    index = np.arange(len(data.noisy))
    if args.split == "heldout":
        if data.groups is None:
            parser.error(f"--split heldout needs {args.data}/groups.json; or use --split all.")
        _, index = heldout_split(data.groups, test_size=args.test_size, random_state=args.seed)
    if args.limit:
        index = index[: args.limit]
    names = [data.filenames[i] for i in index]

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-ocrmypdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    pdfs = {"noisy": folder / "noisy.pdf", "clean pages": folder / "clean_pages.pdf"}
    pdfs.update({way: folder / name for way, (_, name) in WAYS.items()})
    save_pages([data.noisy[i] for i in index], pdfs["noisy"], dpi=args.dpi, overwrite=True)
    save_pages([data.clean[i] for i in index], pdfs["clean pages"], dpi=args.dpi, overwrite=True)

    common = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    docdenoise_options = []
    if args.model:
        docdenoise_options += ["--docdenoise-model", args.model]
    if args.tta:
        docdenoise_options += ["--docdenoise-tta", str(args.tta)]

    version = subprocess.run(
        [sys.executable, "-m", "ocrmypdf", "--version"], capture_output=True, text=True
    ).stdout.strip()
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    print(machine())
    print(
        f"OCRmyPDF {version}, {tesseract.stdout.splitlines()[0]}; "
        f"{len(index)} pages at {args.dpi:g} dpi (split={args.split}"
        + (f", test_size={args.test_size}, seed={args.seed}" if args.split == "heldout" else "")
        + f"): {' '.join(names)}"
    )
    n = len(index)
    reference_pdf = folder / "reference.pdf"
    seconds = run_ocrmypdf(pdfs["clean pages"], reference_pdf, [], common)
    reference = text_per_page(reference_pdf)
    print(
        f"reference: OCRmyPDF on the clean pages, {sum(len(t) for t in reference)} characters, "
        f"{seconds / n:.2f} s/page"
    )

    rows = []
    for way, (options, _) in WAYS.items():
        extra = docdenoise_options if way.startswith("docdenoise") else []
        seconds = run_ocrmypdf(pdfs["noisy"], pdfs[way], [*options, *extra], common)
        hypothesis = text_per_page(pdfs[way])
        size = pdfs[way].stat().st_size
        rows.append(
            (way, cer(reference, hypothesis), wer(reference, hypothesis), seconds / n, size)
        )

    input_size = pdfs["noisy"].stat().st_size
    print(f"\ninput PDF: {input_size / 1e6:.2f} MB ({input_size / n / 1e3:.0f} kB/page)")
    print(f"{'ocrmypdf ...':<24} {'CER':>7} {'WER':>7} {'s/page':>7} {'MB':>7} {'kB/page':>8}")
    for way, c, w, s, size in rows:
        print(f"{way:<24} {c:7.2%} {w:7.2%} {s:7.2f} {size / 1e6:7.2f} {size / n / 1e3:8.0f}")
    print("(s/page is the wall clock of the whole command; valid only on an idle machine)")

    if args.figure:
        save_figure(Path(args.figure), pdfs, args.figure_page - 1, names[args.figure_page - 1])
    if not args.keep:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
