"""The OCRmyPDF plugin, run inside real OCRmyPDF with real Tesseract on PDFs made here."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from docdenoise.datasets import iter_pages

PLUGIN = "docdenoise.ocrmypdf_plugin"

pytestmark = pytest.mark.ocrmypdf


def _text(path: Path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def _ocr(src: Path, dest: Path, **options) -> None:
    import ocrmypdf

    options.setdefault("output_type", "pdf")  # no PDF/A: faster, and no Ghostscript needed
    options.setdefault("progress_bar", False)
    code = ocrmypdf.ocr(src, dest, **options)
    assert code == ocrmypdf.ExitCode.ok


@pytest.fixture
def scan(pdfs, text_page):
    return pdfs.scan("scan.pdf", [text_page], dpi=150)


def test_tesseract_reads_the_cleaned_page_and_the_pdf_keeps_the_original(
    scan, text_page, white_model, tmp_path
):
    _ocr(scan, tmp_path / "plain.pdf")
    assert "BROWN" in _text(tmp_path / "plain.pdf")
    # A model that whitens everything: Tesseract, reading its output, finds nothing.
    _ocr(scan, tmp_path / "white.pdf", plugins=[PLUGIN], docdenoise_model=white_model)
    assert _text(tmp_path / "white.pdf").strip() == ""
    (page,) = iter_pages(tmp_path / "white.pdf", as_float=False)
    np.testing.assert_array_equal(page.image, text_page)  # the original page image


def test_shipped_model_gives_a_searchable_pdf(scan, tmp_path):
    _ocr(scan, tmp_path / "out.pdf", plugins=[PLUGIN])
    text = _text(tmp_path / "out.pdf")
    assert "BROWN" in text and "JUMPS" in text


def test_final_puts_the_cleaned_page_into_the_pdf(scan, text_page, white_model, tmp_path):
    _ocr(
        scan,
        tmp_path / "final.pdf",
        plugins=[PLUGIN],
        docdenoise_model=white_model,
        docdenoise_final=True,
    )
    (page,) = iter_pages(tmp_path / "final.pdf")
    assert page.image.shape == text_page.shape  # same pixels, same physical size
    assert page.dpi == pytest.approx((150, 150), rel=1e-3)
    assert page.image.min() > 0.9  # the white model's page, not the original


def test_final_needs_force_ocr_on_a_pdf_with_text(scan, tmp_path):
    import ocrmypdf

    _ocr(scan, tmp_path / "once.pdf", plugins=[PLUGIN])
    with pytest.raises(ocrmypdf.exceptions.BadArgsError, match="add --force-ocr"):
        _ocr(
            tmp_path / "once.pdf",
            tmp_path / "twice.pdf",
            plugins=[PLUGIN],
            docdenoise_final=True,
            skip_text=True,
        )
    _ocr(
        tmp_path / "once.pdf",
        tmp_path / "forced.pdf",
        plugins=[PLUGIN],
        docdenoise_final=True,
        force_ocr=True,
    )
    assert "BROWN" in _text(tmp_path / "forced.pdf")


def test_model_is_loaded_once_for_all_pages(pdfs, text_page, white_model, tmp_path, caplog):
    model = tmp_path / "own-copy.safetensors"  # a file no other test has loaded
    shutil.copy(white_model, model)
    src = pdfs.scan("three.pdf", [text_page] * 3)
    with caplog.at_level(logging.INFO, logger=PLUGIN):
        _ocr(src, tmp_path / "out.pdf", plugins=[PLUGIN], docdenoise_model=model, jobs=2)
    loads = [r for r in caplog.records if r.name == PLUGIN and "loaded" in r.getMessage()]
    assert len(loads) == 1


def test_bad_options_stop_before_any_page(scan, tmp_path):
    import ocrmypdf

    with pytest.raises(ocrmypdf.exceptions.BadArgsError, match="does not exist"):
        _ocr(scan, tmp_path / "out.pdf", plugins=[PLUGIN], docdenoise_model="missing.model")
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"not a model")
    with pytest.raises(ocrmypdf.exceptions.BadArgsError, match="damaged.safetensors"):
        _ocr(scan, tmp_path / "out.pdf", plugins=[PLUGIN], docdenoise_model=damaged)
    with pytest.raises(ocrmypdf.exceptions.BadArgsError, match="docdenoise_tta must be"):
        _ocr(scan, tmp_path / "out.pdf", plugins=[PLUGIN], docdenoise_tta=3)
    for gamma in (0.0, 11, "dark"):
        with pytest.raises(
            ocrmypdf.exceptions.BadArgsError,
            match=rf"docdenoise_ocr_gamma must be a float from 0.1 to 10, got {gamma!r}",
        ):
            _ocr(scan, tmp_path / "out.pdf", plugins=[PLUGIN], docdenoise_ocr_gamma=gamma)
    assert not (tmp_path / "out.pdf").exists()


def _ocr_images(work: Path) -> list[Path]:
    return sorted(work.glob("ocrmypdf.io.*/*ocr.png"))


def _command_line(src: Path, dest: Path, tmp: Path, *options: str) -> None:
    """``ocrmypdf`` as a user types it, its temporary files kept in ``tmp``."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    argv = [sys.executable, "-m", "ocrmypdf", "--plugin", PLUGIN, "--output-type", "pdf"]
    argv += ["--keep-temporary-files", "--quiet", *options, str(src), str(dest)]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_ocr_image_keeps_its_dpi_and_tesseracts_downsampling(
    scan, white_model, text_page, tmp_path
):
    plain, small = tmp_path / "plain", tmp_path / "small"
    plain.mkdir()
    small.mkdir()
    model = ["--docdenoise-model", str(white_model)]
    _command_line(scan, tmp_path / "a.pdf", plain, *model)
    (image,) = _ocr_images(plain)
    with Image.open(image) as im:
        assert im.size == (text_page.shape[1], text_page.shape[0])
        assert im.info["dpi"] == pytest.approx((150, 150), abs=0.1)
        assert np.asarray(im.convert("L")).min() > 230  # cleaned (by the white model)
    # The plugin replaces Tesseract's own hook and still shrinks what is too large:
    limit = ["--tesseract-downsample-large-images", "--tesseract-downsample-above", "300"]
    _command_line(scan, tmp_path / "b.pdf", small, *model, *limit)
    (image,) = _ocr_images(small)
    with Image.open(image) as im:
        assert im.size == (300, 86)  # 900 x 260 shrunk to 300 wide
        assert im.info["dpi"] == pytest.approx((50, 50), abs=0.6)  # 150 dpi / 3


def test_ocr_gamma_darkens_only_the_image_tesseract_reads(scan, tmp_path):
    runs = {}
    for gamma in ("1", "2"):
        work = tmp_path / f"gamma{gamma}"
        work.mkdir()
        out = tmp_path / f"gamma{gamma}.pdf"
        _command_line(scan, out, work, "--docdenoise-ocr-gamma", gamma, "--docdenoise-final")
        ((image,),) = [_ocr_images(work)]
        with Image.open(image) as im:
            (page,) = iter_pages(out, as_float=False)
            runs[gamma] = np.asarray(im.convert("L")), page.image
    (ocr1, page1), (ocr2, page2) = runs["1"], runs["2"]
    edges = (ocr1 > 30) & (ocr1 < 225)
    assert edges.sum() > 100  # the shipped model leaves grey edges on the strokes
    squared = np.round(255 * (ocr1 / 255.0) ** 2).astype(np.uint8)
    np.testing.assert_array_equal(ocr2, squared)  # the same page, darkened
    np.testing.assert_array_equal(page1, ocr1)  # gamma 1 reads the cleaned page itself
    np.testing.assert_array_equal(page2, page1)  # the PDF's pages are not darkened


def test_ocrmypdf_command_line_refuses_a_gamma_out_of_range(scan, tmp_path):
    argv = [sys.executable, "-m", "ocrmypdf", "--plugin", PLUGIN, "--docdenoise-ocr-gamma"]
    out = tmp_path / "out.pdf"
    result = subprocess.run([*argv, "0", str(scan), str(out)], capture_output=True, text=True)
    assert result.returncode == 2  # argparse's usage error, before any page
    assert "--docdenoise-ocr-gamma: expected a float from 0.1 to 10, got '0'" in result.stderr
    assert not out.exists()


@given(levels=arrays(np.uint8, (7,)), gamma=st.floats(1.0, 10.0))
def test_darkening_keeps_black_and_white_and_the_order_of_greys(levels, gamma):
    from docdenoise.ocrmypdf_plugin import _darken

    darker = _darken(levels, gamma)
    assert darker.dtype == np.uint8 and darker.shape == levels.shape
    assert (darker <= levels).all()
    assert _darken(np.array([0, 255], np.uint8), gamma).tolist() == [0, 255]
    order = np.argsort(levels, kind="stable")
    assert (np.diff(darker[order].astype(int)) >= 0).all()
    np.testing.assert_array_equal(_darken(levels, 1.0), levels)


def test_installing_docdenoise_changes_no_other_ocrmypdf_run():
    entry_points = importlib.metadata.entry_points(group="ocrmypdf")
    assert not [ep for ep in entry_points if ep.value.startswith("docdenoise")]
