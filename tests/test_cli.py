"""Tests for the docdenoise command line (in-process ``main([...])``, one subprocess)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import docdenoise
from docdenoise import DocumentDenoiser, cli
from docdenoise.cli import main
from docdenoise.datasets import load_images, save_images

RNG = np.random.default_rng(0)
SHAPE = (16, 24)


def _pages(n: int, shape: tuple[int, int] = SHAPE) -> np.ndarray:
    return RNG.random((n, *shape), dtype=np.float32)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A tiny trained model file, made once for the module."""
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    noisy = _pages(4)
    den = DocumentDenoiser(epochs=1, batch_size=4, random_state=0, device="cpu")
    den.fit(noisy, np.clip(noisy + 0.1, 0, 1)).save(path)
    return path


@pytest.fixture
def pairs_dir(tmp_path) -> Path:
    """noisy/ + clean/ layout with four pairs."""
    names = [f"p{i}" for i in range(4)]
    save_images(_pages(4), tmp_path / "pairs" / "noisy", names=names)
    save_images(_pages(4), tmp_path / "pairs" / "clean", names=names)
    return tmp_path / "pairs"


@pytest.fixture
def scans(tmp_path) -> Path:
    """A folder with two PNG pages (different sizes) and one JPEG page."""
    folder = tmp_path / "scans"
    save_images([_pages(1)[0], _pages(1, (20, 12))[0]], folder, names=["a", "b"])
    Image.fromarray((_pages(1, (10, 30))[0] * 255).astype(np.uint8)).save(folder / "c.jpg")
    return folder


def _no_pretrained(monkeypatch) -> None:
    monkeypatch.setattr(docdenoise, "pretrained_models", lambda: [])


# --------------------------------------------------------------------------- basics


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith(f"docdenoise {docdenoise.__version__} ")


@pytest.mark.parametrize("command", [[], ["demo"], ["train"], ["denoise"], ["evaluate"], ["info"]])
def test_help_has_examples(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert f"docdenoise {command[0]}" in out if command else "docdenoise demo" in out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "data"], "the following arguments are required: -o/--out"),
        (["train", "d", "-o", "m", "--epochs", "0"], "--epochs: expected an integer >= 1, got '0'"),
        (["train", "d", "-o", "m", "--lr", "fast"], "--lr: expected a float > 0, got 'fast'"),
        (
            ["train", "d", "-o", "m", "--validation-fraction", "1"],
            r"expected a float in \[0, 1\), got '1'",
        ),
        (["train", "d", "-o", "m", "--model", "resnet"], "invalid choice: 'resnet'"),
        (["train", "d", "-o", "m", "--param", "oops"], "expected NAME=VALUE"),
        (["demo", "--page-size", "big"], "expected HEIGHTxWIDTH"),
        (["denoise", "x.png"], "required: -o/--out-dir"),
        (["denoise", "x.png", "-o", "d", "--tta", "3"], r"--tta: invalid choice: 3"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("docdenoise: error: ")

    assert re.search(match, err)


def test_info_lists_versions_devices_and_extras(capsys):
    assert main(["info", "--devices"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(":", 1) for line in out.splitlines())
    assert lines["docdenoise"].strip() == docdenoise.__version__
    assert "cpu" in lines["devices"]
    assert int(lines["torch threads"]) >= 1
    for key in (
        "torch",
        "onnxruntime",
        "matplotlib (plot)",
        "tesseract (ocr)",
        "dask (dask)",
        "uvicorn (web)",
    ):
        assert key in lines
    assert set(lines["engines"].strip().split(", ")) == {"onnx", "torch"}
    assert "onnx" in lines["pretrained model"]
    assert main(["info"]) == 0  # without --devices: no torch threads, torch not imported
    assert "torch threads" not in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["info"], ["--version"]])
def test_help_and_info_import_nothing_heavy(argv):
    """Start-up stays fast: no torch, scikit-learn or onnxruntime for help and info."""
    code = (
        "import sys, contextlib, io\n"
        "from docdenoise.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({argv!r})\n"
        "print(sorted({'torch', 'sklearn', 'onnxruntime', 'skimage'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_denoise_imports_only_what_cleaning_needs(tmp_path):
    """Cleaning with the shipped model loads neither torch, dask nor model selection."""
    save_images([np.full((40, 48), 0.8, np.float32)], [tmp_path / "a.png"])
    argv = ["denoise", str(tmp_path / "a.png"), "--out-dir", str(tmp_path / "out"), "--quiet"]
    code = (
        "import sys\n"
        "from docdenoise.cli import main\n"
        f"assert main({argv!r}) == 0\n"
        "heavy = {'torch', 'distributed', 'dask', 'sklearn.model_selection'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "out" / "a.png").is_file()


@pytest.mark.slow
def test_subprocess_python_m_info_and_exit_status():
    info = subprocess.run(
        [sys.executable, "-m", "docdenoise", "info"], capture_output=True, text=True, timeout=120
    )
    assert info.returncode == 0
    assert "devices:" in info.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "docdenoise", "denoise", "missing.png", "-o", "out"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "docdenoise: error: Input 'missing.png' does not exist."


# --------------------------------------------------------------------------- train


def test_train_on_noisy_clean_folders(pairs_dir, tmp_path, capsys):
    out = tmp_path / "models" / "m.safetensors"
    argv = ["train", str(pairs_dir), "--out", str(out), "--epochs", "2", "--seed", "0"]
    assert main([*argv, "--batch-size", "2", "--param", "module__channels=(4, 8)"]) == 0
    text = capsys.readouterr().out
    assert "Loaded 4 noisy/clean pairs" in text
    assert "for 2 epochs" in text
    assert re.search(r"epoch\s+2\s+train_loss", text)  # one line per epoch into a pipe
    den = DocumentDenoiser.load(out)
    assert len(den.history_) == 2
    assert den.batch_size == 2
    assert den.random_state == 0
    assert tuple(den.module__channels) == (4, 8)


@pytest.mark.parametrize(
    ("flag", "expected"), [([], False), (["--augment"], True), (["--augment", "flips"], "flips")]
)
def test_train_augment_flag(pairs_dir, tmp_path, flag, expected):
    out = tmp_path / "m.safetensors"
    argv = ["train", str(pairs_dir), "-o", str(out), "--epochs", "1", "-q", "--patch-size", "16"]
    assert main([*argv, *flag]) == 0
    assert DocumentDenoiser.load(out).augment == expected


def test_train_on_kaggle_layout_with_groups(tmp_path, capsys):
    names = ["1", "2", "3", "4"]
    save_images(_pages(4), tmp_path / "train", names=names)
    save_images(_pages(4), tmp_path / "train_cleaned", names=names)
    (tmp_path / "groups.json").write_text("[[1, 2], [3, 4]]")
    out = tmp_path / "m.safetensors"
    assert main(["train", str(tmp_path), "-o", str(out), "--epochs", "1", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"Saved the model to {out}."  # -q: no chatter
    assert out.is_file()


def test_train_refuses_existing_output_unless_overwrite(pairs_dir, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    out.write_bytes(b"keep me")
    argv = ["train", str(pairs_dir), "-o", str(out), "--epochs", "1", "-q"]
    assert main(argv) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main([*argv, "--overwrite"]) == 0
    assert DocumentDenoiser.load(out).history_


@pytest.mark.parametrize(
    ("extra", "code", "match"),
    [
        (["--param", "bogus=1"], 2, "DocumentDenoiser has no parameter 'bogus'"),
        (["--param", "lr_schedule='weekly'"], 2, "lr_schedule must be"),
        (["--augment", "sideways"], 2, "--augment: invalid choice: 'sideways'"),
        (["--device", "tpu"], 2, "Unknown device 'tpu'"),
        (["--device", "cuda:99"], 2, "available devices: ['cpu"),
    ],
)
def test_train_bad_parameters(pairs_dir, tmp_path, extra, code, match, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["train", str(pairs_dir), "-o", str(out), "--epochs", "1", *extra]) == code
    err = capsys.readouterr().err
    assert match in err
    assert "Traceback" not in err
    assert not out.exists()


def test_train_and_evaluate_check_their_output_folders_first(
    pairs_dir, model_file, tmp_path, capsys, monkeypatch
):
    """Not after an hour of training: before the data are even read."""
    import docdenoise.datasets as datasets

    monkeypatch.setattr(datasets, "load_image_pairs", None)
    _deny_new_files(monkeypatch)
    argv = ["train", str(pairs_dir), "-o", str(tmp_path / "m.safetensors")]
    assert main(argv) == 2
    assert re.search(r"error: Folder of --out '.*' is not writable", capsys.readouterr().err)
    argv = ["evaluate", str(pairs_dir), "-m", str(model_file), "--csv", str(tmp_path / "s.csv")]
    assert main([*argv, "--no-ocr"]) == 2
    assert re.search(r"error: Folder of --csv '.*' is not writable", capsys.readouterr().err)


def test_train_bad_data_folders(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope"), "-o", str(tmp_path / "m")]) == 2
    assert "Data folder" in capsys.readouterr().err
    (tmp_path / "loop").symlink_to("loop")
    assert main(["train", str(tmp_path / "loop"), "-o", str(tmp_path / "m")]) == 2
    assert "loop' is a broken symbolic link or a loop of links" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train", str(tmp_path / "empty"), "-o", str(tmp_path / "m")]) == 1
    assert "neither train/ + train_cleaned/" in capsys.readouterr().err


def test_train_unreadable_file_fails_cleanly(pairs_dir, tmp_path, capsys):
    (pairs_dir / "noisy" / "p0.png").write_bytes(b"\x89PNG broken")
    assert main(["train", str(pairs_dir), "-o", str(tmp_path / "m.safetensors")]) == 1
    err = capsys.readouterr().err
    assert "p0.png" in err
    assert err.count("\n") == 1


# --------------------------------------------------------------------------- denoise


def test_denoise_folder_keeps_names_and_sizes(scans, model_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["denoise", str(scans), "--out-dir", str(out), "--model", str(model_file)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]
    for name in ("a", "b"):
        (src,) = load_images(scans / f"{name}.png")
        (dst,) = load_images(out / f"{name}.png")
        assert dst.shape == src.shape
        assert not np.array_equal(dst, src)
    assert load_images(out / "c.png")[0].shape == (10, 30)
    assert "Cleaned 3 of 3 files" in capsys.readouterr().out


def test_denoise_files_and_globs(scans, model_file, tmp_path):
    out = tmp_path / "out"
    argv = ["denoise", str(scans / "a.png"), str(scans / "*.jpg"), "-o", str(out)]
    assert main([*argv, "-m", str(model_file), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]


def test_denoise_refuses_existing_outputs_unless_overwrite(scans, model_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"old")
    argv = ["denoise", str(scans), "-o", str(out), "-m", str(model_file), "-q"]
    assert main(argv) == 2
    assert "'b.png' already exists" in capsys.readouterr().err.replace(str(out) + "/", "")
    assert sorted(p.name for p in out.iterdir()) == ["b.png"]  # nothing written
    assert (out / "b.png").read_bytes() == b"old"
    assert main([*argv, "--overwrite"]) == 0
    assert load_images(out / "b.png")[0].shape == (20, 12)


def test_denoise_never_overwrites_inputs(scans, model_file, capsys):
    before = {p.name: p.read_bytes() for p in scans.iterdir()}
    argv = ["denoise", str(scans), "-o", str(scans), "-m", str(model_file), "--overwrite"]
    assert main(argv) == 2
    assert "would overwrite the input file" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in scans.iterdir()} == before


def test_denoise_next_to_jpeg_inputs_is_allowed(scans, model_file):
    assert main(["denoise", str(scans / "c.jpg"), "-o", str(scans), "-m", str(model_file)]) == 0
    assert (scans / "c.png").is_file()
    assert (scans / "c.jpg").is_file()


def test_denoise_skips_bad_files_and_fails_at_the_end(scans, model_file, tmp_path, capsys):
    (scans / "broken.png").write_bytes(b"not a png at all")
    (scans / "empty.tif").write_bytes(b"")
    out = tmp_path / "out"
    assert main(["denoise", str(scans), "-o", str(out), "-m", str(model_file)]) == 1
    captured = capsys.readouterr()
    assert "Cleaned 3 of 5 files" in captured.out
    assert "2 skipped" in captured.out
    skipped = [line for line in captured.err.splitlines() if line.startswith("docdenoise: skipped")]
    assert len(skipped) == 2
    assert "broken.png" in skipped[0]
    assert "empty.tif" in skipped[1]
    # Only complete outputs: no partial or temporary files remain.
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]


def _levels(h: int, w: int) -> np.ndarray:
    return (RNG.random((h, w)) * 255).astype(np.uint8)


def test_denoise_multipage_tiff_pages_png_bilevel_and_unsupported_files(
    scans, model_file, tmp_path, capsys, write_tiff
):
    from docdenoise.datasets import iter_pages

    write_tiff(scans / "book.tif", [_levels(16, 24) for _ in range(3)])
    (scans / "notes.txt").write_text("not a page")
    out = tmp_path / "out"
    argv = ["denoise", str(scans), "-o", str(out), "-m", str(model_file)]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "Cleaned 4 of 4 files" in stdout
    assert "Not read: 1 file(s) that are neither images nor PDFs (notes.txt)" in stdout
    book = list(iter_pages(out / "book.tif"))
    assert [(p.number, p.page_count, p.dpi) for p in book] == [
        (i, 3, (300, 300)) for i in (1, 2, 3)
    ]
    out = tmp_path / "pages"
    argv = ["denoise", str(scans / "book.tif"), "-o", str(out), "-m", str(model_file)]
    assert main([*argv, "--pages", "png", "--bilevel", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"book-p000{i}.png" for i in (1, 2, 3)]
    page = next(iter_pages(out / "book-p0002.png"))
    assert page.dpi == (300, 300) and set(np.unique(page.image)) <= {0.0, 1.0}


def test_denoise_broken_later_page_is_reported_with_its_page(
    scans, model_file, tmp_path, capsys, write_tiff
):
    write_tiff(scans / "book.tif", [_levels(200, 200) for _ in range(3)])
    data = (scans / "book.tif").read_bytes()
    (scans / "book.tif").write_bytes(data[:-20000])
    out = tmp_path / "out"
    assert main(["denoise", str(scans), "-o", str(out), "-m", str(model_file)]) == 1
    captured = capsys.readouterr()
    assert "Cleaned 3 of 4 files" in captured.out
    assert "skipped" in captured.err and "book.tif', page 3 of 3 is truncated" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]


@pytest.mark.pdf
def test_denoise_pdf_in_pdf_out_and_bad_pdfs(pdfs, model_file, tmp_path, capsys):
    from docdenoise.datasets import iter_pages

    scan = pdfs.scan("scan.pdf", [_levels(40, 60), _levels(40, 60)], dpi=150)
    pdfs.encrypted("locked.pdf", scan)
    pdfs.text("digital.pdf")
    pdfs.empty("nothing.pdf")
    out = tmp_path / "out"
    assert main(["denoise", str(pdfs.folder), "-o", str(out), "-m", str(model_file)]) == 1
    captured = capsys.readouterr()
    assert "Cleaned 1 of 4 files" in captured.out
    for name, reason in [
        ("digital.pdf", "holds no scanned images"),
        ("locked.pdf", "is an encrypted (password-protected) PDF"),
        ("nothing.pdf", "is a PDF with no pages"),
    ]:
        assert f"skipped {pdfs.folder / name}: '{pdfs.folder / name}' {reason}" in captured.err
    assert [p.name for p in out.iterdir()] == ["scan.pdf"]
    pages = list(iter_pages(out / "scan.pdf"))
    assert [p.image.shape for p in pages] == [(40, 60)] * 2
    assert all(p.dpi == pytest.approx((150, 150), rel=1e-4) for p in pages)


@pytest.mark.ocrmypdf
def test_ocr_makes_a_searchable_pdf(pdfs, text_page, white_model, tmp_path, capsys):
    import pypdfium2 as pdfium

    scan = pdfs.scan("scan.pdf", [text_page])
    out = tmp_path / "searchable.pdf"
    assert main(["ocr", str(scan), str(out)]) == 0
    assert "searchable page(s)" in capsys.readouterr().out
    doc = pdfium.PdfDocument(out)
    try:
        assert "BROWN" in doc[0].get_textpage().get_text_range()
    finally:
        doc.close()
    assert main(["ocr", str(scan), str(out)]) == 2  # exists
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    final = ["ocr", str(scan), str(out), "--overwrite", "--final", "-m", str(white_model)]
    assert main([*final, "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["ocr", str(tmp_path / "missing.pdf"), str(tmp_path / "x.pdf")]) == 2
    assert main(["ocr", str(pdfs.encrypted("locked.pdf", scan)), str(tmp_path / "x.pdf")]) == 1
    assert "locked.pdf' is an encrypted" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_ocr_hands_its_options_to_make_searchable_pdf(pdfs, text_page, tmp_path, monkeypatch):
    calls = []

    def recorder(src, dest, **options):
        calls.append(options)
        Path(dest).write_bytes(Path(src).read_bytes())
        return Path(dest)

    monkeypatch.setattr(docdenoise, "make_searchable_pdf", recorder)
    scan = str(pdfs.scan("scan.pdf", [text_page]))
    assert main(["ocr", scan, str(tmp_path / "a.pdf"), "--ocr-gamma", "1.5", "--tta", "2"]) == 0
    assert main(["ocr", scan, str(tmp_path / "b.pdf"), "-q"]) == 0
    assert calls[0]["ocr_gamma"] == 1.5 and calls[0]["tta"] == 2
    assert "ocr_gamma" not in calls[1] and calls[1]["tta"] is None  # the library's defaults


def test_ocr_help_names_the_librarys_default_darkening(capsys):
    default = inspect.signature(docdenoise.make_searchable_pdf).parameters["ocr_gamma"].default
    assert main(["ocr", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {default}, that of make_searchable_pdf" in help_text


def test_ocr_without_ocrmypdf_names_what_to_install(tmp_path, capsys, monkeypatch):
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    monkeypatch.setitem(sys.modules, "ocrmypdf", None)
    assert main(["ocr", str(tmp_path / "scan.pdf"), str(tmp_path / "out.pdf")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("docdenoise: error: Making searchable PDFs needs")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        (["missing.png"], "Input 'missing.png' does not exist"),
        (["nothing-*.png"], "No image or PDF files match the pattern 'nothing-\\*.png'"),
    ],
)
def test_denoise_bad_inputs(inputs, match, model_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["denoise", *inputs, "-o", "out", "-m", str(model_file)]) == 2

    assert re.search(match, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def _deny_new_files(monkeypatch) -> None:
    """Simulate folders where no file can be created (the tests may run as root)."""
    import docdenoise._atomic as atomic

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(atomic, "_create_temp_next_to", denied)


def test_denoise_unwritable_out_dir_fails_once_before_any_work(
    scans, model_file, tmp_path, capsys, monkeypatch
):
    (tmp_path / "ro").mkdir()
    _deny_new_files(monkeypatch)
    monkeypatch.setattr(DocumentDenoiser, "load", None)  # must not even be loaded
    argv = ["denoise", str(scans), "-o", str(tmp_path / "ro"), "-m", str(model_file)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.fullmatch(r"docdenoise: error: Output folder '.*ro' is not writable: .*\n", err)


def test_denoise_empty_folder_and_name_clash(tmp_path, model_file, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["denoise", str(tmp_path / "empty"), "-o", str(tmp_path / "o")]) == 2
    assert "No image or PDF files" in capsys.readouterr().err
    save_images(_pages(1), tmp_path / "x", names=["page"])
    save_images(_pages(1), tmp_path / "y", names=["page"])
    argv = ["denoise", str(tmp_path / "x"), str(tmp_path / "y"), "-o", str(tmp_path / "o")]
    assert main([*argv, "-m", str(model_file)]) == 2
    assert "would both be written to" in capsys.readouterr().err


def test_denoise_model_problems(scans, tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "out")
    assert main(["denoise", str(scans), "-o", out, "-m", str(tmp_path / "none.st")]) == 2
    assert "Model file" in capsys.readouterr().err
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x00" * 64)
    assert main(["denoise", str(scans), "-o", out, "-m", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("docdenoise: error: ")
    assert "Traceback" not in err
    _no_pretrained(monkeypatch)
    assert main(["denoise", str(scans), "-o", out]) == 2
    assert "pass --model FILE" in capsys.readouterr().err
    assert not Path(out).exists()


def test_denoise_max_pixels_is_the_limit_and_the_message_says_how_to_raise_it(
    scans, model_file, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["denoise", str(scans / "a.png"), "-o", str(out), "-m", str(model_file)]
    assert main([*argv, "--max-pixels", "100"]) == 1  # a.png has 16 x 24 pixels
    err = capsys.readouterr().err
    assert re.search(r"skipped .*a\.png: .*384 pixels, more than the limit of 100", err)
    assert "--max-pixels" in err
    assert main([*argv, "--max-pixels", "none"]) == 0
    assert main([*argv, "--max-pixels", "384", "--overwrite"]) == 0
    assert main([*argv, "--max-pixels", "0"]) == 2
    assert "--max-pixels: expected None or an integer >= 1, got '0'" in capsys.readouterr().err


def test_denoise_keep_folders_mirrors_the_tree(model_file, tmp_path, capsys):
    save_images(_pages(1), tmp_path / "tree" / "a", names=["x"])
    save_images(_pages(1, (20, 12)), tmp_path / "tree" / "b", names=["x"])
    argv = ["denoise", str(tmp_path / "tree" / "**" / "*.png"), "-o", str(tmp_path / "out")]
    assert main([*argv, "-m", str(model_file), "-q"]) == 2
    err = capsys.readouterr().err
    assert "would both be written to" in err
    assert "pass --keep-folders to" in err
    assert main([*argv, "-m", str(model_file), "-q", "--keep-folders"]) == 0
    assert load_images(tmp_path / "out" / "a" / "x.png")[0].shape == SHAPE
    assert load_images(tmp_path / "out" / "b" / "x.png")[0].shape == (20, 12)


def test_denoise_keeps_16_bit_scans_16_bit(model_file, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    Image.fromarray((_pages(1)[0] * 65535).astype(np.uint16)).save(tmp_path / "in" / "s.png")
    argv = ["denoise", str(tmp_path / "in"), "-m", str(model_file), "-q"]
    assert main([*argv, "-o", str(tmp_path / "o1")]) == 0
    with Image.open(tmp_path / "o1" / "s.png") as im:
        assert im.mode == "I;16"
    assert main([*argv, "-o", str(tmp_path / "o2"), "--bit-depth", "8"]) == 0
    with Image.open(tmp_path / "o2" / "s.png") as im:
        assert im.mode == "L"
    assert main(["denoise", "--help"]) == 0
    assert "16-bit" in " ".join(capsys.readouterr().out.split())


def test_denoise_16_bit_tiff_with_pages_png_and_bit_depth_options(
    model_file, tmp_path, capsys, write_tiff
):
    deep = [(page * 65535).astype(np.uint16) for page in _pages(2)]
    (tmp_path / "in").mkdir()
    write_tiff(tmp_path / "in" / "deep.tif", deep)
    argv = ["denoise", str(tmp_path / "in"), "-m", str(model_file), "-q"]
    assert main([*argv, "-o", str(tmp_path / "o1"), "--pages", "png"]) == 0
    for name in ("deep-p0001.png", "deep-p0002.png"):
        with Image.open(tmp_path / "o1" / name) as im:
            assert im.mode == "I;16"
    assert main([*argv, "-o", str(tmp_path / "o2"), "--bit-depth", "12"]) == 2
    assert "--bit-depth: expected one of 'input', 8, 16, got '12'" in capsys.readouterr().err
    assert main([*argv, "-o", str(tmp_path / "o2"), "--bit-depth", "16", "--bilevel"]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "error: --bit-depth 16 cannot apply to --bilevel pages, which have 1 bit.\n"
    )
    assert not (tmp_path / "o2").exists()


def test_ocr_refuses_bad_paths_before_any_work(tmp_path, capsys, monkeypatch):
    import docdenoise

    monkeypatch.setattr(docdenoise, "make_searchable_pdf", None)  # never reached
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "loop.pdf").symlink_to("loop.pdf")
    out = str(tmp_path / "out.pdf")
    assert main(["ocr", str(tmp_path / "loop.pdf"), out]) == 2
    assert "loop.pdf' leads into a loop of symbolic links" in capsys.readouterr().err
    assert main(["ocr", str(tmp_path), out]) == 2
    assert "' is a folder, not a file." in capsys.readouterr().err
    assert main(["ocr", str(tmp_path / "scan.pdf"), out, "-m", str(tmp_path)]) == 2
    assert re.search(r"Model file '.*' is a folder, not a file", capsys.readouterr().err)
    for gamma in ("0", "12", "dark", "nan"):
        assert main(["ocr", str(tmp_path / "scan.pdf"), out, "--ocr-gamma", gamma]) == 2
        assert f"expected a float from 0.1 to 10, got '{gamma}'" in capsys.readouterr().err
    _deny_new_files(monkeypatch)
    assert main(["ocr", str(tmp_path / "scan.pdf"), out]) == 2
    assert re.search(r"error: Folder of OUTPUT '.*' is not writable", capsys.readouterr().err)


def test_export_refuses_bad_paths_before_any_work(model_file, tmp_path, capsys, monkeypatch):
    onnx_file = str(tmp_path / "m.onnx")
    assert main(["export", str(tmp_path), onnx_file]) == 2
    assert re.search(r"Model file '.*' is a folder, not a file", capsys.readouterr().err)
    monkeypatch.setattr(DocumentDenoiser, "export_onnx", None)  # never reached
    _deny_new_files(monkeypatch)
    assert main(["export", str(model_file), onnx_file]) == 2
    assert re.search(r"error: Folder of OUT '.*' is not writable", capsys.readouterr().err)


def test_denoise_model_path_problems_are_named(scans, tmp_path, capsys):
    """A folder or a link loop given as --model is a usage mistake, told as it is."""
    out = str(tmp_path / "out")
    (tmp_path / "models").mkdir()
    assert main(["denoise", str(scans), "-o", out, "-m", str(tmp_path / "models")]) == 2
    assert "models' is a folder, not a file" in capsys.readouterr().err
    (tmp_path / "loop.safetensors").symlink_to("loop.safetensors")
    assert main(["denoise", str(scans), "-o", out, "-m", str(tmp_path / "loop.safetensors")]) == 2
    assert "loop.safetensors' leads into a loop of symbolic links" in capsys.readouterr().err
    assert not Path(out).exists()


def test_denoise_uses_pretrained_model_by_default(scans, model_file, tmp_path, monkeypatch):
    tiny = DocumentDenoiser.load(model_file)
    monkeypatch.setattr(docdenoise, "pretrained_models", lambda: ["default"])
    monkeypatch.setattr(DocumentDenoiser, "pretrained", classmethod(lambda cls, **kw: tiny))
    assert main(["denoise", str(scans / "a.png"), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "a.png").is_file()


def test_denoise_tta_sets_the_models_test_time_augmentation(
    scans, model_file, tmp_path, monkeypatch
):
    seen = []
    original = DocumentDenoiser.transform

    def spy(self, X):
        seen.append(self.tta)
        return original(self, X)

    monkeypatch.setattr(DocumentDenoiser, "transform", spy)
    argv = ["denoise", str(scans / "a.png"), "-m", str(model_file), "-q"]
    assert main([*argv, "-o", str(tmp_path / "plain")]) == 0
    assert main([*argv, "-o", str(tmp_path / "tta"), "--tta", "4"]) == 0
    assert seen == [False, 4]
    (plain,) = load_images(tmp_path / "plain" / "a.png")
    (averaged,) = load_images(tmp_path / "tta" / "a.png")
    assert plain.shape == averaged.shape and not np.array_equal(plain, averaged)


def test_progress_bars_only_on_a_terminal(scans, model_file, tmp_path, capsys, monkeypatch):
    argv = ["denoise", str(scans), "-m", str(model_file)]
    assert main([*argv, "-o", str(tmp_path / "1")]) == 0
    assert "denoising" not in capsys.readouterr().err  # stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main([*argv, "-o", str(tmp_path / "2")]) == 0
    assert "denoising" in capsys.readouterr().err
    assert main([*argv, "-o", str(tmp_path / "3"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_info", interrupted)
    assert main(["info"]) == 130
    assert capsys.readouterr().err.strip() == "docdenoise: interrupted"


# --------------------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo_tiny(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--out-dir", str(out), "--epochs", "1", "--pages", "3"]
    assert main([*argv, "--page-size", "32x64", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "RMSE on 8 held-out pages" in text
    assert re.search(r"median background\s+0\.\d{4}", text)
    assert re.search(r"shipped model\s+0\.\d{4}", text)
    assert "docdenoise " in text
    for name in ("before_after.png", "loss_curve.png", "difference.png", "model.safetensors"):
        assert (out / name).is_file(), name
    for folder in ("noisy", "clean", "cleaned"):
        assert len(list((out / folder).glob("*.png"))) == 8, folder
    with Image.open(out / "before_after.png") as im:
        assert im.format == "PNG"
        assert im.size[0] > 200
    # Its held-out pages form a folder of pairs that evaluate reads.
    model = str(out / "model.safetensors")
    assert main(["evaluate", str(out), "-m", model, "--no-ocr", "-q"]) == 0
    assert "docdenoise" in capsys.readouterr().out
    # The model it wrote cleans pages.
    assert DocumentDenoiser.load(out / "model.safetensors").transform(_pages(1)).shape == (
        1,
        *SHAPE,
    )


def test_demo_out_dir_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["demo", "--out-dir", str(tmp_path / "f")]) == 2
    assert "is not a folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- evaluate


def _table_rows(text: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_evaluate_table_and_csv(pairs_dir, model_file, tmp_path, capsys):
    csv_path = tmp_path / "scores.csv"
    argv = ["evaluate", str(pairs_dir), "-m", str(model_file), "--no-ocr"]
    assert main([*argv, "--csv", str(csv_path)]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert list(rows) == ["noisy input", "median background", "docdenoise"]
    assert all(0 <= float(r[0]) <= 1 for r in rows.values())  # RMSE
    assert rows["docdenoise"][3] == "-"  # no OCR column values
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("method,rmse,psnr,ssim")
    assert len(lines) == 4
    # An existing CSV is kept unless --overwrite.
    assert main([*argv, "--csv", str(csv_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--csv", str(csv_path), "--overwrite", "-q"]) == 0


@pytest.mark.slow
@pytest.mark.ocr
def test_evaluate_with_ocr(model_file, tmp_path, capsys):
    from docdenoise.datasets import make_dirty_documents

    noisy, clean = make_dirty_documents(2, shape=(64, 160), random_state=0)
    save_images(noisy, tmp_path / "noisy", names=["a", "b"])
    save_images(clean, tmp_path / "clean", names=["a", "b"])
    assert main(["evaluate", str(tmp_path), "-m", str(model_file), "-q"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert 0 <= float(rows["noisy input"][3]) <= 1  # OCR CER


def test_evaluate_errors(pairs_dir, model_file, tmp_path, capsys, monkeypatch):
    assert main(["evaluate", str(tmp_path / "nope"), "-m", str(model_file)]) == 2
    assert "Data folder" in capsys.readouterr().err
    from docdenoise import evaluation
    from docdenoise.exceptions import OCRNotAvailableError

    def no_tesseract(*args, **kwargs):
        raise OCRNotAvailableError("The Tesseract OCR engine was not found.")

    monkeypatch.setattr(evaluation, "evaluate_methods", no_tesseract)
    assert main(["evaluate", str(pairs_dir), "-m", str(model_file)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("docdenoise: error: The Tesseract OCR engine was not found.")
    assert err.endswith("Or pass --no-ocr to skip the OCR columns.")


def test_warnings_are_one_line(monkeypatch, capsys):
    import warnings

    def warn(args):
        warnings.warn("The model was on 'cuda:0',\n which is not here.", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_cmd_info", warn)
    assert main(["info"]) == 0
    err = capsys.readouterr().err
    assert err == "docdenoise: warning: The model was on 'cuda:0', which is not here.\n"


def test_options_take_choices_and_defaults_from_the_estimator(capsys):
    rules = DocumentDenoiser.parameter_rules
    defaults = DocumentDenoiser().get_params()
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, option in [("epochs", "--epochs N"), ("lr", "--lr RATE")]:
        assert f"{option} " in text and f"(default: {defaults[name]})" in text
    schedules = [c for c in rules["lr_schedule"].choices if c is not None]
    assert "--lr-schedule {" + ",".join(schedules) + "}" in text
    parser = cli.build_parser()
    levels = [c for c in rules["tta"].choices if type(c) is int]
    for level in levels:
        assert parser.parse_args(["denoise", "x", "-o", "y", "--tta", str(level)]).tta == level


# --------------------------------------------------------------------------- export, engines


def test_export_then_denoise_with_the_onnx_file(scans, model_file, tmp_path, capsys):
    onnx_file = tmp_path / "tiny.onnx"
    assert main(["export", str(model_file), str(onnx_file), "--tta", "2"]) == 0
    assert f"--model {onnx_file}" in capsys.readouterr().out
    exported = DocumentDenoiser.load(onnx_file)
    assert exported.tta == 2 and not hasattr(exported, "module_")
    outs = {}
    for model, engine in ((onnx_file, "auto"), (model_file, "torch")):
        out = tmp_path / f"out-{engine}"
        argv = ["denoise", str(scans), "-o", str(out), "-m", str(model), "-q", "--tta", "2"]
        assert main([*argv, "--engine", engine]) == 0
        outs[engine] = [load_images(p)[0] for p in sorted(out.iterdir())]
    for a, b in zip(outs["auto"], outs["torch"], strict=True):
        assert np.abs(a - b).max() <= 1 / 255  # the same PNG up to one grey level


def test_export_refuses_existing_output_and_missing_model(model_file, tmp_path, capsys):
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"keep me")
    assert main(["export", str(model_file), str(existing)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    assert main(["export", str(tmp_path / "missing.safetensors"), str(tmp_path / "x.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(model_file), str(model_file)]) == 2


def test_engine_torch_with_an_onnx_model_is_a_clear_error(scans, model_file, tmp_path, capsys):
    onnx_file = tmp_path / "tiny.onnx"
    DocumentDenoiser.load(model_file).export_onnx(onnx_file)
    argv = ["denoise", str(scans), "-o", str(tmp_path / "out"), "-m", str(onnx_file)]
    assert main([*argv, "--engine", "torch"]) == 1
    assert "holds only an ONNX graph" in capsys.readouterr().err
