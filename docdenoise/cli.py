"""The ``docdenoise`` command: demo, train, denoise, ocr, serve, evaluate, export, info.

Each command parses its arguments, calls the library through its public names and
prints what happened; the work itself lives in library functions
(:func:`docdenoise.parallel.denoise_files`, :func:`docdenoise.make_searchable_pdf`,
:func:`docdenoise.web.serve`, :func:`docdenoise.datasets.load_image_pairs`,
:mod:`docdenoise.evaluation`, and the
modules that serve only this command: ``_demo`` and ``_info``), so the command line
and Python code behave the same. The options of estimator parameters take their
choices, defaults and checks from ``DocumentDenoiser.parameter_rules`` and the
estimator's defaults; those of ``denoise``'s page options from
``docdenoise.parallel.PARAMETER_RULES``.

Exit status: 0 on success, 1 when the work failed (an unreadable file, a damaged
model, a page that could not be cleaned), 2 for usage mistakes found before any
work starts (a bad option, a missing input, an output that already exists, an
output folder that cannot be written).
Errors are one line on stderr, ``docdenoise: error: ...``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["build_parser", "main"]

PROG = "docdenoise"


class CommandLineError(Exception):
    """A usage mistake found before any work started (exit status 2)."""


# --------------------------------------------------------------------------- helpers


def _param_type(name: str) -> Any:
    """An argparse ``type`` checked by the estimator's rule for parameter ``name``."""
    from . import DocumentDenoiser

    return DocumentDenoiser.parameter_rules[name].argument_type()


def _choices(name: str, kind: type) -> list[Any]:
    """The values of ``kind`` that the estimator parameter ``name`` accepts."""
    from . import DocumentDenoiser

    choices = DocumentDenoiser.parameter_rules[name].choices or ()
    return [c for c in choices if type(c) is kind]


def _default(name: str) -> Any:
    from . import DocumentDenoiser

    return DocumentDenoiser().get_params()[name]


def _or(values: Sequence[Any]) -> str:
    """``1, 2 or 4``."""
    texts = [str(v) for v in values]
    return ", ".join(texts[:-1]) + " or " + texts[-1] if len(texts) > 1 else "".join(texts)


def _positive_int(text: str) -> int:
    """A count for the demo (``--pages``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _page_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHTxWIDTH in pixels such as 128x384, got {text!r}"
        ) from None
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    return height, width


def _param(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE such as module__channels=(16,32,64,96), got {text!r}"
        )
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a plain string such as optimizer=adamw
    return name.strip(), value


def _show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only for a person watching: not with --quiet, not into a file."""
    return not args.quiet and sys.stderr.isatty()


def _say(args: argparse.Namespace, message: str = "") -> None:
    if not args.quiet:
        print(message, flush=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


def _existing_dir(path: str, what: str) -> Path:
    folder = Path(path)
    if os.path.islink(folder) and not folder.exists():
        raise CommandLineError(f"{what} {path!r} is a broken symbolic link or a loop of links.")
    if not folder.exists():
        raise CommandLineError(f"{what} {path!r} does not exist.")
    if not folder.is_dir():
        raise CommandLineError(f"{what} {path!r} is not a folder.")
    return folder


def _writable_folder_of(path: Path, option: str) -> None:
    """Refuse, before any work, an output file whose folder cannot take new files."""
    from .parallel import check_writable_folder

    try:
        check_writable_folder(path.parent, what=f"Folder of {option}")
    except OSError as exc:
        raise CommandLineError(str(exc)) from None


def _estimator(args: argparse.Namespace, names: Sequence[str]) -> Any:
    """A DocumentDenoiser with the parameters set on the command line, each checked."""
    from . import DocumentDenoiser

    known = DocumentDenoiser().get_params()
    params = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    if args.threads is not None:
        params["n_threads"] = args.threads
    params.update(dict(args.param or []))
    for name, value in params.items():
        if name not in known and "__" not in name:
            raise CommandLineError(
                f"DocumentDenoiser has no parameter {name!r}; known parameters: "
                f"{', '.join(sorted(known))}, and module__*, optimizer__*, loss__*."
            )
        if name in DocumentDenoiser.parameter_rules:
            try:
                DocumentDenoiser.parameter_rules[name].check(name, value)
            except (TypeError, ValueError) as exc:
                raise CommandLineError(str(exc)) from None
    try:
        return DocumentDenoiser(**params)
    except TypeError as exc:  # a nested parameter with an unknown prefix
        raise CommandLineError(str(exc)) from None


def _check_input_path(path: str) -> None:
    """Refuse an input that is not a file (a usage mistake, exit 2), in the words of
    ``expand_inputs``: missing, a broken link, a loop of links; or a folder."""
    from . import ImageFileError
    from .datasets import expand_inputs

    if Path(path).is_file():
        return
    if Path(path).is_dir():
        raise CommandLineError(f"Input {path!r} is a folder, not a file.")
    try:
        expand_inputs([path])
    except ImageFileError as exc:
        raise CommandLineError(str(exc)) from None
    raise CommandLineError(f"Input {path!r} is not a file.")  # a pattern that matches


def _check_model_path(path: str | None) -> None:
    """Refuse a model path that is not a file (a usage mistake, exit 2), in the words
    of ``DocumentDenoiser.load``: missing, a folder, a broken link, a loop of links."""
    from . import DocumentDenoiser, ModelFileError

    if path is None or Path(path).is_file():
        return
    try:
        DocumentDenoiser.load(path)
    except ModelFileError as exc:
        raise CommandLineError(str(exc)) from None
    raise CommandLineError(f"Model file {path!r} is not a file.")


def _file_in_file_out(
    source: str,
    output: str,
    check_source: Callable[[str], None],
    expected: str,
    option: str,
    overwrite: bool,
) -> tuple[Path, Path]:
    """Check a command's input file and the file it will write (named ``option``),
    before any work: the input is a file, the output no folder, not in the way
    unless ``overwrite``, and its folder writable."""
    check_source(source)
    if Path(output).is_dir():
        raise CommandLineError(f"{output!r} is a folder; expected {expected}.")
    if Path(output).exists() and not overwrite:
        raise CommandLineError(f"{output!r} already exists; pass --overwrite to replace it.")
    _writable_folder_of(Path(output), option)
    return Path(source), Path(output)


def _check_device(device: str) -> None:
    """Refuse a device this machine lacks before any work starts."""
    if device in ("auto", "cpu"):  # always there; checking them would import torch
        return
    from . import DeviceError, resolve_device

    try:
        resolve_device(device)
    except DeviceError as exc:
        raise CommandLineError(str(exc)) from None


def _load_model(args: argparse.Namespace) -> Any:
    """The model to clean with (a file, or the shipped one), with --engine, --threads, --tta."""
    from . import DocumentDenoiser, pretrained_models

    _check_device(args.device)
    _check_model_path(args.model)
    if args.model is not None:
        estimator = DocumentDenoiser.load(args.model, device=args.device)
        estimator.set_params(engine=args.engine)
    elif not pretrained_models():
        raise CommandLineError(
            "No pretrained model ships with this installation; pass --model FILE "
            "(train one with 'docdenoise train' or 'docdenoise demo')."
        )
    else:
        estimator = DocumentDenoiser.pretrained(device=args.device, engine=args.engine)
    if args.threads is not None:
        estimator.set_params(n_threads=args.threads)
    if args.tta is not None:
        estimator.set_params(tta=args.tta)
    return estimator


# --------------------------------------------------------------------------- commands


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise CommandLineError(f"--out-dir {args.out_dir!r} exists and is not a folder.")
    kwargs: dict[str, Any] = {}
    if args.pages is not None:
        kwargs["n_train"] = args.pages
    if args.page_size is not None:
        kwargs["shape"] = args.page_size
    result = run_demo(
        out,
        epochs=args.epochs,
        random_state=args.seed,
        progress=_show_progress(args),
        log=(lambda msg: _say(args, msg)),
        **kwargs,
    )
    rmse = result.rmse
    print(f"\nRMSE on {result.n_test} held-out pages (lower is better):")
    print(f"  {'noisy input':<20} {rmse['noisy']:.4f}")
    for name, value in rmse.items():
        if name not in ("noisy", "cleaned"):
            print(f"  {name:<20} {value:.4f}")
    gain = 100 * (1 - rmse["cleaned"] / rmse["noisy"]) if rmse["noisy"] > 0 else 0.0
    print(f"  {'docdenoise':<20} {rmse['cleaned']:.4f}  ({gain:.0f}% lower than the input)")
    files = result.files
    print(f"\nTrained in {_duration(result.train_seconds)}. Wrote to {out}{'/'}:")
    described = [
        ("before_after", "noisy | cleaned | clean target, side by side"),
        ("loss_curve", "training and validation loss per epoch"),
        ("difference", "what the denoiser changed on page 1"),
        ("model", "the trained denoiser"),
        ("noisy", "held-out noisy pages (PNG)"),
        ("clean", "their clean originals"),
        ("cleaned", "the noisy pages, cleaned by the model"),
    ]
    for key, text in described:
        if key in files:
            name = files[key].name + ("/" if files[key].is_dir() else "")
            print(f"  {name:<19} {text}")
    print(
        "\nClean your own scans with this model:\n"
        f"  docdenoise denoise {files['noisy']} --model {files['model']} "
        "--out-dir cleaned-pages"
    )
    return 0


_TRAIN_PARAMS = (
    "model",
    "epochs",
    "lr",
    "batch_size",
    "device",
    "patch_size",
    "patches_per_image",
    "augment",
    "lr_schedule",
    "early_stopping",
    "max_time",
    "validation_fraction",
    "random_state",
)


def _cmd_train(args: argparse.Namespace) -> int:
    from .datasets import load_image_pairs

    data_dir = _existing_dir(args.data_dir, "Data folder")
    out = Path(args.out)
    if out.is_dir():
        raise CommandLineError(f"--out {args.out!r} is a folder; expected a file name.")
    if out.exists() and not args.overwrite:
        raise CommandLineError(f"{args.out!r} already exists; pass --overwrite to replace it.")
    _writable_folder_of(out, "--out")
    _check_device(args.device)
    estimator = _estimator(args, _TRAIN_PARAMS)  # checked before the data are loaded
    # Bars for a person at a terminal, one line per epoch for a log file, or silence.
    estimator.set_params(verbose=2 if _show_progress(args) else 0 if args.quiet else 1)

    data = load_image_pairs(data_dir, max_pixels=args.max_pixels)
    groups = "" if data.groups is None else f" in {len(set(data.groups.tolist()))} groups"
    _say(args, f"Loaded {len(data.noisy)} noisy/clean pairs{groups} from {data_dir}.")
    tic = time.perf_counter()
    estimator.fit(data.noisy, data.clean, groups=data.groups)
    seconds = time.perf_counter() - tic
    last = estimator.history_[-1]
    valid = last["valid_loss"]
    valid_text = "" if valid != valid else f", valid_loss {valid:.5f}"
    _say(
        args,
        f"Trained {estimator.model!r} for {len(estimator.history_)} epochs in "
        f"{_duration(seconds)}: train_loss {last['train_loss']:.5f}{valid_text}.",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    estimator.save(out)
    print(f"Saved the model to {out}.")
    return 0


def _names(paths: Sequence[Path], most: int = 5) -> str:
    names = ", ".join(p.name for p in paths[:most])
    return names + (f" and {len(paths) - most} more" if len(paths) > most else "")


def _cmd_denoise(args: argparse.Namespace) -> int:
    from .datasets import expand_inputs
    from .parallel import denoise_files, plan_outputs

    if args.bilevel and args.bit_depth == 16:
        raise CommandLineError("--bit-depth 16 cannot apply to --bilevel pages, which have 1 bit.")
    try:  # check every path before loading the model
        files, unsupported = expand_inputs(args.inputs, return_skipped=True)
        plan_outputs(
            files,
            args.out_dir,
            overwrite=args.overwrite,
            pages=args.pages,
            keep_folders=args.keep_folders,
        )
    except (ValueError, OSError) as exc:  # "overwrite=True (--overwrite)" -> "--overwrite"
        message = re.sub(r"\w+=True \((--[\w-]+)\)", r"\1", str(exc))
        raise CommandLineError(message) from None
    estimator = _load_model(args)

    def report(path: Path, message: str) -> None:
        print(f"{PROG}: skipped {path}: {message}", file=sys.stderr, flush=True)

    report_ = denoise_files(
        estimator,
        files,
        args.out_dir,
        overwrite=args.overwrite,
        keep_folders=args.keep_folders,
        pages=args.pages,
        bilevel=args.bilevel,
        dpi=args.dpi,
        bit_depth=args.bit_depth,
        chunk_size=1,  # one page in memory at a time: scans can be large
        max_pixels=args.max_pixels,
        progress=_show_progress(args),
        on_error=report,
    )
    n_bad = len(report_.failed)
    n_ok = len(files) - n_bad
    skipped = f"; {n_bad} skipped (see above)" if n_bad else ""
    _say(args, f"Cleaned {n_ok} of {len(files)} files into {args.out_dir}{skipped}.")
    if unsupported:
        _say(
            args,
            f"Not read: {len(unsupported)} file(s) that are neither images nor PDFs "
            f"({_names(unsupported)}).",
        )
    return 0 if report_.ok else 1


def _cmd_ocr(args: argparse.Namespace) -> int:
    from . import make_searchable_pdf
    from .datasets import count_pages

    source, output = _file_in_file_out(
        args.input, args.output, _check_input_path, "a PDF file name", "OUTPUT", args.overwrite
    )
    _check_model_path(args.model)
    _check_device(args.device)
    options = {"force_ocr": True} if args.force_ocr else {}
    if args.skip_text:
        options["skip_text"] = True
    if args.ocr_gamma is not None:
        options["ocr_gamma"] = args.ocr_gamma
    make_searchable_pdf(
        source,
        output,
        model=args.model,
        final=args.final,
        language=args.language,
        tta=args.tta,
        device=args.device,
        threads=args.threads,
        jobs=args.jobs,
        overwrite=args.overwrite,
        progress=_show_progress(args),
        **options,
    )
    shown = "the cleaned pages" if args.final else "the original page images"
    _say(
        args,
        f"Wrote {output}: {count_pages(output)} searchable page(s), text read from the "
        f"cleaned pages, showing {shown}.",
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from . import pretrained_models
    from .web import serve  # without the web extra it raises an ImportError saying what to do

    shipped = pretrained_models()
    for model in args.model or ():
        if model not in shipped and not Path(model).is_file():
            raise CommandLineError(
                f"--model {model!r} is neither a shipped model ({_or(shipped or ['none'])}) "
                "nor a model file."
            )
    _check_device(args.device)
    serve(
        args.model,
        host=args.host,
        port=args.port,
        device=args.device,
        threads=args.threads,
        max_upload_mb=args.max_upload_mb,
        max_pages=args.max_pages,
        open_browser=args.open,
        log=lambda message: print(message, flush=True),
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from . import ClassicalDenoiser, OCRNotAvailableError, evaluation
    from .datasets import load_image_pairs

    data_dir = _existing_dir(args.data_dir, "Data folder")
    if args.csv is not None and Path(args.csv).exists() and not args.overwrite:
        raise CommandLineError(f"{args.csv!r} already exists; pass --overwrite to replace it.")
    if args.csv is not None:
        _writable_folder_of(Path(args.csv), "--csv")
    estimator = _load_model(args)
    data = load_image_pairs(data_dir, max_pixels=args.max_pixels)
    ocr = "" if args.no_ocr else " (with OCR: about a second a page)"
    _say(args, f"Scoring on {len(data.noisy)} noisy/clean pairs from {data_dir}{ocr} ...")
    methods = {
        "noisy input": lambda pages: pages,
        "median background": ClassicalDenoiser("median").transform,
        "docdenoise": estimator.transform,
    }
    try:
        rows = evaluation.evaluate_methods(data.noisy, data.clean, methods, ocr=not args.no_ocr)
    except OCRNotAvailableError as exc:
        raise OCRNotAvailableError(f"{exc} Or pass --no-ocr to skip the OCR columns.") from None
    print(evaluation.format_table(rows))
    if args.csv is not None:
        evaluation.write_csv(rows, args.csv)
        _say(args, f"Wrote {args.csv}.")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from . import DocumentDenoiser

    source, out = _file_in_file_out(
        args.model, args.out, _check_model_path, "a file name (.onnx)", "OUT", args.overwrite
    )
    if out.resolve() == source.resolve():
        raise CommandLineError("The ONNX file would replace the model file; choose another name.")
    estimator = DocumentDenoiser.load(source, device="cpu")
    if args.tta is not None:
        estimator.set_params(tta=args.tta)
    out.parent.mkdir(parents=True, exist_ok=True)
    estimator.export_onnx(out)
    _say(
        args,
        f"Exported {estimator.onnx_model_.meta['architecture']} to {out}; clean with it "
        f"(no torch needed): docdenoise denoise SCANS --out-dir DIR --model {out}",
    )
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from ._info import system_info

    info = system_info(devices=args.devices)
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key + ':':<{width + 2}}{value}")
    return 0


# --------------------------------------------------------------------------- parser

_DESCRIPTION = """\
Remove stains, creases, shadows and noise from scanned document images.

Start with 'docdenoise demo': it makes synthetic dirty pages, trains a small
network in about two minutes and writes before/after pictures. Then clean your
own scans with 'docdenoise denoise' (or in the browser: 'docdenoise serve'),
or train on your own pairs with 'docdenoise train'."""

_EPILOG = """\
examples:
  docdenoise demo
  docdenoise denoise scans/ --out-dir cleaned/
  docdenoise ocr scan.pdf searchable.pdf
  docdenoise serve
  docdenoise train data/ --out model.safetensors --epochs 30
  docdenoise evaluate data/ --model model.safetensors
  docdenoise export model.safetensors model.onnx
  docdenoise info

Run 'docdenoise COMMAND --help' for the options of each command."""

_DEMO_EPILOG = """\
The demo generates synthetic dirty pages (no downloads), trains a denoiser on
most of them for up to 90 seconds and cleans the rest. It prints the pixel RMSE of
the held-out pages before and after (and of the classical median-background
baseline and of the shipped model, untrained here), and writes into --out-dir:

  before_after.png   noisy | cleaned | clean target, side by side
  loss_curve.png     training and validation loss per epoch
  difference.png     what the denoiser changed on one page
  model.safetensors  the trained model, for 'docdenoise denoise --model'
  noisy/, clean/     the held-out pages and their originals (PNG), a folder of
                     pairs that 'docdenoise evaluate' and 'docdenoise train' read
  cleaned/           the held-out pages cleaned by the model

examples:
  docdenoise demo
  docdenoise demo --out-dir /tmp/demo --epochs 20 --seed 1
  docdenoise demo --pages 8 --page-size 64x128 --epochs 2   # a 10-second smoke test"""

_TRAIN_EPILOG = """\
DATA_DIR holds noisy/clean pairs in one of two layouts:

  DATA_DIR/train/ + DATA_DIR/train_cleaned/   Kaggle "Denoising Dirty Documents"
  DATA_DIR/noisy/ + DATA_DIR/clean/           pairs matched by file name (7.jpg ~ 7.png)

An optional DATA_DIR/groups.json (a list of lists of file numbers or names) keeps
pages that share text on the same side of the validation split.

examples:
  docdenoise train data/ --out model.safetensors
  docdenoise train data/ --out unet.safetensors --model unet --patch-size 128 \\
      --epochs 40 --lr-schedule cosine --augment
  docdenoise train data/ --out small.safetensors --param 'module__channels=(8, 16)'"""

_DENOISE_EPILOG = """\
INPUTS are image files (PNG, JPEG, TIFF, BMP, WebP), PDF files (with the pdf
extra: pip install "docdenoise[pdf]"), folders (their image and PDF files, not
recursive) or quoted glob patterns ('scans/**/*.jpg'). A page is written to
--out-dir under its own name with a .png suffix, at its original size, dpi and
bit depth: 16-bit scans give 16-bit files, the others 8-bit (--bit-depth 8 or 16
writes all PNG and TIFF files so; PDFs are 8-bit). A PDF becomes a PDF with the
same page sizes and a multi-page TIFF a TIFF, unless --pages png asks for one PNG
per page (scan-p0001.png, ...). With --keep-folders each output goes into its
input's folder below the deepest folder all inputs share. Existing outputs are
kept unless --overwrite is given; inputs are never overwritten; a document that
fails halfway leaves nothing behind. An output folder that cannot be written is
refused before any work (exit status 2). A file that cannot be read (or has a
page above --max-pixels) is reported and skipped, and the exit status is then 1;
files in the folders that are neither images nor PDFs are listed at the end.

examples:
  docdenoise denoise scans/ --out-dir cleaned/
  docdenoise denoise scan.pdf page2.tif --out-dir cleaned/ --model model.safetensors
  docdenoise denoise scan.pdf --out-dir cleaned/ --pages png --bilevel
  docdenoise denoise 'archive/**/*.png' --out-dir cleaned/ --keep-folders"""

_OCR_EPILOG = """\
Makes a scanned PDF (or an image with its dpi) searchable with OCRmyPDF and
Tesseract, cleaning every page with docdenoise before Tesseract reads it. The
PDF keeps the original page images unless --final puts the cleaned pages in.
OUTPUT is written only when it is complete and is not overwritten unless
--overwrite is given. Needs the pdf extra (pip install "docdenoise[pdf]",
Python >= 3.11) and the tesseract and ghostscript programs.

examples:
  docdenoise ocr scan.pdf searchable.pdf
  docdenoise ocr scan.pdf searchable.pdf --final -l deu
  docdenoise ocr already-ocred.pdf again.pdf --force-ocr"""

_SERVE_EPILOG = """\
Starts a web page on this computer for cleaning scans without the command line:
open the address it prints, drop PNG, JPEG, TIFF or PDF files on the page, compare
each page before and after (zoom in to read small print) and download the results
(a PDF comes back as a PDF, a multi-page TIFF as a TIFF, an image as PNG). Files are
cleaned one at a time; nothing leaves this computer, and every uploaded and cleaned
file is deleted when the server stops (Ctrl-C). The page is served to this computer
only unless --host names another interface. Needs the web extra:
pip install "docdenoise[web]".

examples:
  docdenoise serve
  docdenoise serve --port 0 --open
  docdenoise serve --model my-model.safetensors --model default
  docdenoise serve --host 0.0.0.0 --max-upload-mb 500 --max-pages 1000"""

_EVALUATE_EPILOG = """\
Scores the model on the noisy/clean pairs in DATA_DIR (same layouts as 'train')
next to the untouched noisy input and the classical median-background baseline:
pixel RMSE (lower is better), PSNR and SSIM (higher is better), and, unless
--no-ocr is given, the character and word error rates of Tesseract reading the
cleaned page against its reading of the clean page. Use pages the model was not
trained on.

examples:
  docdenoise evaluate data/ --model model.safetensors
  docdenoise evaluate data/ --model model.safetensors --no-ocr --csv scores.csv"""

_EXPORT_EPILOG = """\
Writes the network of MODEL as an ONNX graph (any batch size and page size) with
the model's settings (architecture, size multiple, receptive margin, tta, tile
size) in its metadata, after checking that onnxruntime reproduces the network.
'docdenoise denoise --model OUT' and DocumentDenoiser.load(OUT) then clean pages
with onnxruntime, also where torch is not installed. Exporting needs torch, onnx
and onnxscript (pip install "docdenoise[export]").

examples:
  docdenoise export model.safetensors model.onnx
  docdenoise export model.safetensors model-tta8.onnx --tta 8"""

_INFO_EPILOG = """\
Prints versions, the engines that can run a network (onnx: onnxruntime; torch),
the shipped models and which optional extras are installed; with --devices also
the torch devices found (cpu, cuda:N, mps) and torch's thread count. Paste it
into bug reports.

examples:
  docdenoise info
  docdenoise info --devices"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def _version_text() -> str:
    from importlib import metadata

    from . import __version__

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return f"{PROG} {__version__} (torch {version('torch')}, onnxruntime {version('onnxruntime')})"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: Any,
        values: Any,
        option_string: Any = None,
    ) -> NoReturn:
        print(_version_text())
        parser.exit()


def _tta_option(p: argparse.ArgumentParser) -> None:
    tta_levels = _choices("tta", int)
    p.add_argument(
        "--tta",
        type=int,
        choices=tta_levels,
        metavar="N",
        help=f"average the network over N views of each page ({_or(tta_levels)}: "
        "1, 2, 4 or 8 flips/rotations, then the 8 at 2 or 4 one-pixel offsets; "
        "default: the model's setting); N times slower, cleaner",
    )


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-m",
        "--model",
        metavar="FILE",
        help="model file from 'docdenoise train' (default: the shipped pretrained model)",
    )


def _device_and_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        default="auto",
        help="'auto' (default: cuda, then mps, then cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'",
    )
    p.add_argument(
        "--threads",
        type=_param_type("n_threads"),
        metavar="N",
        help="CPU threads for the network (default: the engine's choice)",
    )


def _max_pixels_option(p: argparse.ArgumentParser) -> None:
    from .datasets import MAX_IMAGE_PIXELS as limit
    from .parallel import PARAMETER_RULES

    p.add_argument(
        "--max-pixels",
        type=PARAMETER_RULES["max_pixels"].argument_type(),
        default=limit,
        metavar="N",
        help="refuse image files and pages with more pixels, a guard against "
        f"decompression bombs (default: {limit:_} = 2**{limit.bit_length() - 1}; "
        "'none': no limit)",
    )


def _engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=_choices("engine", str),
        default=_default("engine"),
        help="what runs the network: 'onnx' (onnxruntime on the CPU; no torch needed), "
        "'torch', or 'auto' (default: onnx for the shipped model and .onnx files "
        "unless --device names a GPU, else torch)",
    )


def _demo_options(p: argparse.ArgumentParser) -> None:
    from ._demo import DEMO_SHAPE, DEMO_TRAIN, demo_recipe

    p.add_argument(
        "--out-dir",
        default="docdenoise-demo",
        metavar="DIR",
        help="where to write pictures, model and pages (default: ./docdenoise-demo)",
    )
    p.add_argument(
        "--epochs",
        type=_param_type("epochs"),
        metavar="N",
        help=f"training epochs (default: {demo_recipe()['epochs']})",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument(
        "--pages", type=_positive_int, metavar="N", help=f"training pages (default: {DEMO_TRAIN})"
    )
    p.add_argument(
        "--page-size",
        type=_page_size,
        metavar="HxW",
        help="page size in pixels (default: {}x{})".format(*DEMO_SHAPE),
    )


def _train_options(p: argparse.ArgumentParser) -> None:
    from .models import available_models

    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of noisy/clean pairs")
    p.add_argument(
        "-o", "--out", required=True, metavar="FILE", help="model file to write (.safetensors)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.add_argument(
        "--model",
        choices=available_models(),
        help=f"network (default: {_default('model')})",
    )
    p.add_argument(
        "--epochs",
        type=_param_type("epochs"),
        metavar="N",
        help=f"passes over the data (default: {_default('epochs')})",
    )
    p.add_argument(
        "--lr",
        type=_param_type("lr"),
        metavar="RATE",
        help=f"learning rate (default: {_default('lr')})",
    )
    p.add_argument(
        "--batch-size",
        type=_param_type("batch_size"),
        metavar="N",
        help=f"images per step (default: {_default('batch_size')})",
    )
    p.add_argument(
        "--patch-size",
        type=_param_type("patch_size"),
        metavar="PX",
        help="train on random square crops of PX pixels instead of whole pages",
    )
    p.add_argument(
        "--patches-per-image",
        type=_param_type("patches_per_image"),
        metavar="N",
        help=f"crops per page and epoch (default: {_default('patches_per_image')})",
    )
    augment_modes = _choices("augment", str)
    p.add_argument(
        "--augment",
        nargs="?",
        const=True,
        default=None,
        choices=augment_modes,
        help=f"random flips, rotations and brightness ({_or(augment_modes)}: no brightness)",
    )
    p.add_argument(
        "--lr-schedule", choices=_choices("lr_schedule", str), help="learning-rate schedule"
    )
    p.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop when the validation loss stops improving; keep the best weights",
    )
    p.add_argument(
        "--max-time",
        type=_param_type("max_time"),
        metavar="SECONDS",
        help="stop training after this long",
    )
    p.add_argument(
        "--validation-fraction",
        type=_param_type("validation_fraction"),
        metavar="F",
        help="share of pages held out for the validation loss "
        f"(default: {_default('validation_fraction')})",
    )
    p.add_argument("--seed", dest="random_state", type=int, metavar="S", help="random seed")
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="NAME=VALUE",
        help="any other DocumentDenoiser parameter, e.g. optimizer=adamw or "
        "'module__channels=(16, 32)' (quoted); repeatable",
    )
    _max_pixels_option(p)
    _device_and_threads(p)


def _denoise_options(p: argparse.ArgumentParser) -> None:
    from .parallel import PARAMETER_RULES as file_rules
    from .parallel import denoise_files

    file_defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(denoise_files).parameters.items()
    }
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image or PDF files, folders or glob patterns"
    )
    p.add_argument(
        "-o", "--out-dir", required=True, metavar="DIR", help="folder for the cleaned pages"
    )
    _model_option(p)
    p.add_argument("--overwrite", action="store_true", help="replace existing files in DIR")
    p.add_argument(
        "--keep-folders",
        action="store_true",
        help="mirror the input folders under DIR (for files of the same name in "
        "different folders, e.g. 'tree/**/*.png')",
    )
    p.add_argument(
        "--pages",
        choices=file_rules["pages"].choices,
        default=file_defaults["pages"],
        help="a PDF or multi-page TIFF becomes one 'file' of its kind (default) or one "
        "'png' per page",
    )
    p.add_argument(
        "--bilevel",
        action="store_true",
        help="write black-and-white pages (1 bit; much smaller PDFs and TIFFs)",
    )
    p.add_argument(
        "--bit-depth",
        type=file_rules["bit_depth"].argument_type(),
        choices=file_rules["bit_depth"].choices,
        default=file_defaults["bit_depth"],
        help="bits per grey level of PNG and TIFF files: 'input' (default) writes "
        "16-bit files for 16-bit (and floating-point) scans and 8-bit files for the "
        "others; PDFs are always 8-bit",
    )
    p.add_argument(
        "--dpi",
        type=file_rules["dpi"].argument_type(),
        default=file_defaults["dpi"],
        metavar="DPI",
        help="resolution for PDF pages that are not scans (default: "
        f"{file_defaults['dpi']}; scanned pages keep their own)",
    )
    _max_pixels_option(p)
    _tta_option(p)
    _engine_option(p)
    _device_and_threads(p)


def _ocr_options(p: argparse.ArgumentParser) -> None:
    from ._params import OCR_GAMMA_RANGE  # the range make_searchable_pdf and the plugin check

    p.add_argument("input", metavar="INPUT", help="scanned PDF (or image file)")
    p.add_argument("output", metavar="OUTPUT", help="searchable PDF to write")
    _model_option(p)
    p.add_argument(
        "--final",
        action="store_true",
        help="put the cleaned pages into the PDF (default: keep the original page images)",
    )
    p.add_argument(
        "-l",
        "--language",
        default="eng",
        metavar="LANG",
        help="Tesseract language(s), e.g. deu or eng+fra (default: eng)",
    )
    existing_text = p.add_mutually_exclusive_group()
    existing_text.add_argument(
        "--force-ocr",
        action="store_true",
        help="rasterize pages that already have text and read them again",
    )
    existing_text.add_argument(
        "--skip-text", action="store_true", help="leave pages that already have text alone"
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="pages worked on at once (default: one per CPU core)",
    )
    p.add_argument(
        "--ocr-gamma",
        type=OCR_GAMMA_RANGE.argument_type(),
        metavar="G",
        help="darken the grey edges of the strokes in the image Tesseract reads (not the "
        f"pages of the PDF): grey levels 0-1 to the power G, {OCR_GAMMA_RANGE} "
        "(default: 1.25, that of make_searchable_pdf; 1: no change)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    _tta_option(p)
    _device_and_threads(p)


def _serve_options(p: argparse.ArgumentParser) -> None:
    from .web import PARAMETER_RULES as web_rules
    from .web import serve

    defaults = {
        name: parameter.default for name, parameter in inspect.signature(serve).parameters.items()
    }
    p.add_argument(
        "--host",
        default=defaults["host"],
        help=f"interface to listen on (default: {defaults['host']}, this computer only; "
        "0.0.0.0: every interface, so that other computers can upload)",
    )
    p.add_argument(
        "--port",
        type=web_rules["port"].argument_type(),
        default=defaults["port"],
        help=f"port (default: {defaults['port']}; 0: any free port)",
    )
    p.add_argument(
        "-m",
        "--model",
        action="append",
        metavar="NAME_OR_FILE",
        help="a shipped model or a model file to offer on the page; repeatable, the "
        "first is the default (default: the shipped models)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=web_rules["max_upload_mb"].argument_type(),
        default=defaults["max_upload_mb"],
        metavar="MB",
        help=f"largest file accepted, in MiB (default: {defaults['max_upload_mb']})",
    )
    p.add_argument(
        "--max-pages",
        type=web_rules["max_pages"].argument_type(),
        default=defaults["max_pages"],
        metavar="N",
        help=f"most pages accepted in one file (default: {defaults['max_pages']})",
    )
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    _device_and_threads(p)


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of noisy/clean pairs")
    p.add_argument(
        "-m",
        "--model",
        metavar="FILE",
        help="model file (default: the shipped pretrained model)",
    )
    p.add_argument(
        "--no-ocr", action="store_true", help="skip the OCR error rate (no Tesseract needed)"
    )
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--overwrite", action="store_true", help="replace the CSV file if it exists")
    _max_pixels_option(p)
    _tta_option(p)
    _engine_option(p)
    _device_and_threads(p)


def _export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", metavar="MODEL", help="model file from 'docdenoise train' (.safetensors)"
    )
    p.add_argument("out", metavar="OUT", help="ONNX file to write (.onnx)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    _tta_option(p)


def _info_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--devices",
        action="store_true",
        help="also list the devices and threads torch sees (imports torch: a second or two)",
    )


#: Each command: its name, one-line help and epilog. ``_<name>_options`` adds its
#: options and ``_cmd_<name>`` runs it (looked up when the parser is built).
_COMMANDS = (
    ("demo", "train on synthetic dirty pages and show before/after pictures", _DEMO_EPILOG),
    ("train", "train a denoiser on folders of noisy/clean pairs", _TRAIN_EPILOG),
    ("denoise", "clean scanned pages, PDFs and TIFFs", _DENOISE_EPILOG),
    ("ocr", "clean a scanned PDF and make it searchable (OCRmyPDF)", _OCR_EPILOG),
    ("serve", "clean scans on a local web page, in the browser", _SERVE_EPILOG),
    (
        "evaluate",
        "score a model on noisy/clean pairs (RMSE, PSNR, SSIM, OCR)",
        _EVALUATE_EPILOG,
    ),
    ("export", "export a model to ONNX, to clean pages without torch", _EXPORT_EPILOG),
    ("info", "show versions, engines, devices and optional extras", _INFO_EPILOG),
)


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """Build the ``docdenoise`` argument parser.

    Parameters
    ----------
    commands : collection of str, default=None
        The commands whose options to add (``None``: all of them). :func:`main`
        adds only those of the command it runs, because building the options of
        training and cleaning reads the estimator's parameter rules, which imports
        scikit-learn; ``docdenoise --help`` and ``docdenoise info`` stay fast.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser with one sub-command per task.

    Examples
    --------
    >>> from docdenoise.cli import build_parser
    >>> args = build_parser().parse_args(["denoise", "scans/", "--out-dir", "clean/"])
    >>> args.command, args.inputs, args.out_dir, args.overwrite
    ('denoise', ['scans/'], 'clean/', False)
    """
    parser = _Parser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("-V", "--version", action=_VersionAction, help="print the version and exit")
    common = _Parser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no chatter"
    )
    sub = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", parser_class=_Parser
    )
    for name, help_, epilog in _COMMANDS:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_[0].upper() + help_[1:] + ".",
            epilog=epilog,
            formatter_class=_Formatter,
            parents=[common],
        )
        if commands is None or name in commands:
            globals()[f"_{name}_options"](p)
        p.set_defaults(func=globals()[f"_cmd_{name}"])
    return parser


def _library_error() -> type[Exception]:
    from .exceptions import DocDenoiseError

    return DocDenoiseError


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {str(exc.filename)!r}"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split()) if "\n" not in text.strip() else text.strip()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Warnings as one line, ``docdenoise: warning: ...``, without a source location."""
    print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``docdenoise`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when the work failed, 2 for usage mistakes.

    Examples
    --------
    >>> from docdenoise.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    docdenoise ... (torch ...)
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # only the options of the command that runs (the first word that is not an option)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(commands=[command] if command else [])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except CommandLineError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    # (an except clause is evaluated only when an exception gets there, so the
    # exceptions module, which imports scikit-learn, does not slow down start-up)
    except (_library_error(), OSError, ValueError, ImportError, MemoryError) as exc:
        print(f"{PROG}: error: {_describe_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
