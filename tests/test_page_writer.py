"""Writing pages: one PDF, multi-page TIFF or PNG per document, atomically, dpi kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docdenoise.datasets import iter_pages, save_pages
from docdenoise.exceptions import ImageFileError, InvalidImageError

RNG = np.random.default_rng(0)


def _page(h=40, w=60):
    return RNG.integers(0, 256, size=(h, w), dtype=np.uint8)


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_tiff_keeps_every_page_and_its_dpi(tmp_path):
    pages = [_page(), _page(30, 20)]
    save_pages(pages, tmp_path / "out.tif", dpi=(200, 150))
    read = list(iter_pages(tmp_path / "out.tif", as_float=False))
    assert [(p.number, p.page_count, p.dpi) for p in read] == [
        (1, 2, (200.0, 150.0)),
        (2, 2, (200.0, 150.0)),
    ]
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, want)


def test_pages_bring_their_own_dpi(tmp_path):
    save_pages([_page()], tmp_path / "a.png", dpi=300)
    save_pages(iter_pages(tmp_path / "a.png"), tmp_path / "b.tif", dpi=72)  # 300 wins
    (page,) = iter_pages(tmp_path / "b.tif")
    assert page.dpi == (300.0, 300.0)


def test_png_holds_one_page_and_nothing_is_left_when_more_come(tmp_path):
    with pytest.raises(ValueError, match=r"out\.png' is a PNG file, which holds one page"):
        save_pages([_page(), _page()], tmp_path / "out.png")
    assert _files(tmp_path) == []


def test_a_failing_page_leaves_no_file_behind(tmp_path):
    def pages():
        yield _page()
        yield _page()
        raise ImageFileError("'scan.tif', page 3 of 3 is truncated or corrupt")

    for name in ("out.tif", "out.png"):
        with pytest.raises((ImageFileError, ValueError)):
            save_pages(pages(), tmp_path / name)
    with pytest.raises(InvalidImageError):
        save_pages([_page(), np.full((4, 4), np.nan)], tmp_path / "nan.tif")
    assert _files(tmp_path) == []  # no output, no temporary file


def test_existing_files_are_kept_unless_overwrite(tmp_path):
    dest = tmp_path / "out.tif"
    save_pages([np.zeros((4, 4))], dest)
    with pytest.raises(ImageFileError, match="already exists; pass overwrite=True"):
        save_pages([np.ones((4, 4))], dest)
    assert next(iter_pages(dest)).image.max() == 0
    save_pages([np.ones((4, 4))], dest, overwrite=True)
    assert next(iter_pages(dest)).image.min() == 1
    assert _files(tmp_path) == ["out.tif"]


@pytest.mark.parametrize(
    ("pages", "name", "kwargs", "error", "match"),
    [
        ([np.zeros((4, 4))], "out.jpg", {}, ValueError, r"ending in \.pdf, \.tif, \.tiff, \.png"),
        ([], "out.tif", {}, ValueError, "No pages to write"),
        ([np.zeros((4, 4))], "out.tif", {"dpi": 0}, ValueError, "dots per inch > 0, got 0"),
        ([np.zeros((4, 4))], "out.tif", {"dpi": "x"}, ValueError, "dots per inch > 0, got .x."),
        ([np.zeros((4, 4, 3))], "out.tif", {}, InvalidImageError, "pages"),
        ([np.zeros((4, 4))], "no/such/folder/out.tif", {}, ImageFileError, "does not exist"),
    ],
)
def test_bad_arguments(tmp_path, pages, name, kwargs, error, match):
    with pytest.raises(error, match=match):
        save_pages(pages, tmp_path / name, **kwargs)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("name", ["deep.tif", "deep.png"])
def test_bit_depth_16_keeps_65536_levels_in_tiff_and_png(tmp_path, name):
    levels = RNG.integers(0, 65536, size=(6, 9), dtype=np.uint16)
    save_pages([levels], tmp_path / name, bit_depth=16, dpi=200)
    (page,) = iter_pages(tmp_path / name, as_float=False)
    assert page.image.dtype == np.uint16 and page.dpi == (200.0, 200.0)
    np.testing.assert_array_equal(page.image, levels)
    save_pages([levels], tmp_path / name, overwrite=True)  # 8 bits by default
    (page,) = iter_pages(tmp_path / name, as_float=False)
    np.testing.assert_array_equal(page.image, np.round(levels / 257).astype(np.uint8))


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("out.tif", {"bit_depth": 12}, "bit_depth must be 8 or 16, got 12"),
        ("out.pdf", {"bit_depth": 16}, "PDF pages are written with 8 bits"),
        ("out.tif", {"bit_depth": 16, "bilevel": True}, "bilevel pages have 1 bit"),
    ],
)
def test_bit_depth_is_checked_before_anything_is_written(tmp_path, name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        save_pages([np.zeros((4, 4))], tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bilevel_tiff_is_black_and_white(tmp_path):
    grey = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    save_pages([grey], tmp_path / "bw.tif", bilevel=True)
    (page,) = iter_pages(tmp_path / "bw.tif")
    np.testing.assert_array_equal(page.image, (grey >= 0.5).astype(np.float32))


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    n=st.integers(1, 3),
    dpi=st.floats(20, 1200, allow_nan=False),
)
def test_tiff_round_trip_any_size(tmp_path_factory, h, w, n, dpi):
    folder = tmp_path_factory.mktemp("rt")
    pages = [_page(h, w) for _ in range(n)]
    save_pages(pages, folder / "rt.tif", dpi=dpi)
    read = list(iter_pages(folder / "rt.tif", as_float=False))
    assert len(read) == n
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, want)
        assert got.dpi == pytest.approx((dpi, dpi), rel=1e-3)


# --------------------------------------------------------------------------- PDF


@pytest.mark.pdf
def test_pdf_pages_have_the_physical_size_of_their_images(tmp_path):
    import pypdfium2 as pdfium

    pages = [_page(300, 150), _page(60, 90)]
    save_pages(pages, tmp_path / "out.pdf", dpi=150)
    doc = pdfium.PdfDocument(tmp_path / "out.pdf")
    try:
        sizes = [doc[i].get_size() for i in range(len(doc))]
    finally:
        doc.close()
    assert sizes == [pytest.approx((72.0, 144.0)), pytest.approx((43.2, 28.8))]
    read = list(iter_pages(tmp_path / "out.pdf", as_float=False))
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, want)  # lossless, read back exactly
        assert got.dpi == pytest.approx((150, 150), rel=1e-4)


@pytest.mark.pdf
def test_pdf_in_pdf_out_keeps_page_sizes(pdfs):
    source = pdfs.append_text_page(pdfs.scan("in.pdf", [_page()]), size=(144, 72))
    save_pages(iter_pages(source, dpi=100), pdfs.folder / "out.pdf")
    scan, text = iter_pages(pdfs.folder / "out.pdf")
    assert scan.image.shape == (40, 60) and scan.dpi == pytest.approx((150, 150), rel=1e-4)
    assert text.image.shape == (100, 200) and text.dpi == pytest.approx((100, 100), rel=1e-4)


@pytest.mark.pdf
def test_pdf_refuses_pages_too_small_for_pdf_readers(tmp_path):
    with pytest.raises(ValueError, match=r"Page 2 \(8 x 4 pixels at 300 x 300 dpi\)"):
        save_pages([_page(), _page(4, 8)], tmp_path / "out.pdf", dpi=300)
    assert _files(tmp_path) == []
    save_pages([_page(4, 8)], tmp_path / "out.pdf", dpi=72)  # 8 x 4 points is fine


@pytest.mark.pdf
def test_bilevel_pdf_is_smaller(tmp_path):
    page = np.ones((400, 300), dtype=np.float32)
    page[100:120, 50:250] = 0
    page += RNG.normal(0, 0.02, page.shape).astype(np.float32)
    page = np.clip(page, 0, 1)
    save_pages([page], tmp_path / "grey.pdf")
    save_pages([page], tmp_path / "bw.pdf", bilevel=True)
    assert (tmp_path / "bw.pdf").stat().st_size < (tmp_path / "grey.pdf").stat().st_size / 4
    (read,) = iter_pages(tmp_path / "bw.pdf")
    assert set(np.unique(read.image)) == {0.0, 1.0}


@pytest.mark.pdf
def test_pdf_failure_mid_document_leaves_nothing(tmp_path):
    def pages():
        yield _page()
        raise ImageFileError("page 2 is corrupt")

    with pytest.raises(ImageFileError, match="page 2 is corrupt"):
        save_pages(pages(), tmp_path / "out.pdf")
    assert _files(tmp_path) == []


def test_pdf_without_img2pdf_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "img2pdf", None)
    with pytest.raises(ImportError, match=r"img2pdf.*docdenoise\[pdf\]"):
        save_pages([_page()], tmp_path / "out.pdf")
    assert _files(tmp_path) == []
