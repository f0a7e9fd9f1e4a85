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


def test_installing_docdenoise_changes_no_other_ocrmypdf_run():
    entry_points = importlib.metadata.entry_points(group="ocrmypdf")
    assert not [ep for ep in entry_points if ep.value.startswith("docdenoise")]
