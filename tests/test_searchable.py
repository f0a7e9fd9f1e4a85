"""make_searchable_pdf: scan in, cleaned and searchable PDF out, through real OCRmyPDF."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from docdenoise import make_searchable_pdf
from docdenoise.datasets import iter_pages
from docdenoise.exceptions import ImageFileError, OCRNotAvailableError


def _text(path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.ocrmypdf
def test_scan_becomes_searchable_and_keeps_its_page(pdfs, text_page, tmp_path):
    src = pdfs.scan("scan.pdf", [text_page])
    stderr = sys.stderr
    out = make_searchable_pdf(src, tmp_path / "out.pdf", output_type="pdf")
    assert sys.stderr is stderr  # OCRmyPDF (through pikepdf) leaves it replaced
    assert out == tmp_path / "out.pdf"
    assert "BROWN" in _text(out)
    (page,) = iter_pages(out, as_float=False)
    np.testing.assert_array_equal(page.image, text_page)
    assert _files(tmp_path) == ["out.pdf", "pdfs"]  # no temporary file left


@pytest.mark.ocrmypdf
def test_final_and_a_tiff_input(tmp_path, text_page, white_model):
    from PIL import Image

    Image.fromarray(text_page).save(tmp_path / "scan.tif", dpi=(150, 150))
    out = make_searchable_pdf(
        tmp_path / "scan.tif", tmp_path / "out.pdf", model=white_model, final=True
    )
    (page,) = iter_pages(out)
    assert page.image.min() > 0.9 and page.dpi == pytest.approx((150, 150), rel=1e-3)


@pytest.mark.ocrmypdf
def test_errors_name_the_file_and_leave_nothing_behind(pdfs, text_page, tmp_path):
    scan = pdfs.scan("scan.pdf", [text_page])
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        (pdfs.encrypted("locked.pdf", scan), r"locked\.pdf' is an encrypted"),
        (pdfs.text("digital.pdf"), r"digital\.pdf' holds no scanned images"),
        (pdfs.empty("empty.pdf"), r"empty\.pdf' is a PDF with no pages"),
        (pdfs.damaged("broken.pdf", scan), r"broken\.pdf' is a damaged PDF"),
        (tmp_path / "missing.pdf", r"missing\.pdf' does not exist"),
    ]
    for src, match in cases:
        with pytest.raises(ImageFileError, match=match):
            make_searchable_pdf(src, out / "result.pdf")
    with pytest.raises(ValueError, match=r"^ocr_gamma must be a float from 0\.1 to 10, got 0\.05"):
        make_searchable_pdf(scan, out / "result.pdf", ocr_gamma=0.05)
    searchable = make_searchable_pdf(scan, out / "once.pdf", output_type="pdf")
    with pytest.raises(ImageFileError, match=r"once\.pdf' already has text; pass force_ocr"):
        make_searchable_pdf(searchable, out / "twice.pdf")
    assert _files(out) == ["once.pdf"]
    make_searchable_pdf(searchable, out / "twice.pdf", force_ocr=True, output_type="pdf")
    assert "BROWN" in _text(out / "twice.pdf")


@pytest.mark.ocrmypdf
def test_outputs_are_not_overwritten_unless_asked(pdfs, text_page):
    scan = pdfs.scan("scan.pdf", [text_page])
    dest = pdfs.folder / "out.pdf"
    dest.write_bytes(b"keep me")
    with pytest.raises(ImageFileError, match="already exists; pass overwrite=True"):
        make_searchable_pdf(scan, dest)
    assert dest.read_bytes() == b"keep me"
    with pytest.raises(ValueError, match="would replace the input"):
        make_searchable_pdf(scan, scan, overwrite=True)
    make_searchable_pdf(scan, dest, overwrite=True, output_type="pdf")
    assert "BROWN" in _text(dest)


def test_without_ocrmypdf_the_error_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ocrmypdf", None)
    if sys.version_info >= (3, 11):
        match = r"needs OCRmyPDF; install the PDF extra .*docdenoise\[pdf\].*tesseract-ocr"
    else:
        match = "needs Python >= 3.11"
    with pytest.raises(OCRNotAvailableError, match=match):
        make_searchable_pdf(tmp_path / "scan.pdf", tmp_path / "out.pdf")
