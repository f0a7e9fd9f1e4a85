"""Reading pages: PDFs (pypdfium2), multi-page TIFF, BMP and WebP, with source, page and dpi."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from docdenoise.datasets import Page, count_pages, iter_pages, load_images
from docdenoise.exceptions import ImageFileError

RNG = np.random.default_rng(0)


def _page(h=40, w=60):
    return RNG.integers(0, 256, size=(h, w), dtype=np.uint8)


# --------------------------------------------------------------------------- TIFF, BMP, WebP


def test_multipage_tiff_gives_every_page_with_number_and_dpi(tmp_path, write_tiff):
    pages = [_page(), _page(30, 50), _page()]
    path = write_tiff(tmp_path / "three.tif", pages, dpi=(200, 200))
    read = list(iter_pages(path, as_float=False))
    assert [(p.source, p.number, p.page_count) for p in read] == [(path, i, 3) for i in (1, 2, 3)]
    assert all(p.dpi == (200.0, 200.0) for p in read)
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, want)
    assert count_pages(path) == 3
    images, paths = load_images(path, return_paths=True)
    assert len(images) == 3 and paths == [path] * 3
    assert images[1].dtype == np.float32 and images[1].shape == (30, 50)


def test_broken_later_tiff_page_names_file_and_page_after_the_good_pages(tmp_path, write_tiff):
    path = write_tiff(tmp_path / "broken.tif", [_page(), _page(), _page()])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1500])  # cut into the last page's pixels
    pages = iter_pages(path)
    assert [next(pages).number, next(pages).number] == [1, 2]  # streamed: read before the error
    with pytest.raises(ImageFileError, match=r"broken\.tif'?, page 3 of 3 is truncated or corrupt"):
        next(pages)


def test_huge_tiff_page_is_refused_before_decoding(tmp_path, write_tiff):
    path = write_tiff(tmp_path / "big.tif", [_page(10, 10), _page(60, 60)])
    with pytest.raises(ImageFileError) as info:
        list(iter_pages(path, max_pixels=1000))
    message = str(info.value)
    assert message.startswith(f"{str(path)!r}, page 2 of 2 has 60 x 60 = 3600 pixels, more ")
    assert "--max-pixels" in message and "corrupt" not in message


@pytest.mark.parametrize("max_pixels", [None, 3600])
def test_max_pixels_is_the_one_limit_for_tiff_pages_too(
    tmp_path, write_tiff, monkeypatch, max_pixels
):
    """Pillow checks its own guard again when it decodes each TIFF page; a later page
    that max_pixels allows must not be refused by it (simulated with a lower guard)."""
    path = tmp_path / "big.tif"
    frames = [Image.fromarray(_page(10, 10)), Image.fromarray(_page(60, 60))]
    # compressed pages are decoded by libtiff, where Pillow checks its guard per page
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_adobe_deflate")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses above 2000
    read = list(iter_pages(path, max_pixels=max_pixels))
    assert [p.image.shape for p in read] == [(10, 10), (60, 60)]
    assert Image.MAX_IMAGE_PIXELS == 1000  # left as it was
    with pytest.raises(ImageFileError, match=r"page 2 of 2 has 60 x 60 = 3600 pixels"):
        list(iter_pages(path, max_pixels=3599))
    frames[1].save(path, save_all=True, append_images=frames[:1])  # the large page first
    assert count_pages(path) == 2  # counting decodes nothing; Pillow's guard is no reason


def test_16_bit_tiff_pages_keep_their_levels(tmp_path):
    levels = [RNG.integers(0, 65536, size=(8, 6), dtype=np.uint16) for _ in range(2)]
    frames = [Image.fromarray(a) for a in levels]
    frames[0].save(tmp_path / "deep.tif", save_all=True, append_images=frames[1:])
    read = list(iter_pages(tmp_path / "deep.tif", as_float=False))
    assert [p.image.dtype for p in read] == [np.uint16] * 2
    for page, want in zip(read, levels):
        np.testing.assert_array_equal(page.image, want)


@pytest.mark.parametrize(("fmt", "ext"), [("BMP", "bmp"), ("WEBP", "webp")])
def test_bmp_and_webp_are_read_by_name_and_in_folders(tmp_path, fmt, ext):
    arr = _page()
    save = {"lossless": True} if fmt == "WEBP" else {}
    Image.fromarray(arr).save(tmp_path / f"a.{ext}", format=fmt, **save)
    Image.fromarray(arr).save(tmp_path / "b.png")
    (by_name,) = load_images(tmp_path / f"a.{ext}", as_float=False)
    np.testing.assert_array_equal(by_name, arr)
    _, paths = load_images(tmp_path, return_paths=True)
    assert [p.name for p in paths] == [f"a.{ext}", "b.png"]


def test_png_dpi_is_kept_and_missing_dpi_is_none(tmp_path):
    Image.fromarray(_page()).save(tmp_path / "a.png", dpi=(150, 150))
    Image.fromarray(_page()).save(tmp_path / "b.png")
    a, b = iter_pages(tmp_path)
    assert a.dpi == pytest.approx((150, 150), abs=0.01) and b.dpi is None
    assert (a.number, a.page_count) == (1, 1)


def test_page_repr_and_bad_dpi():
    page = Page(np.zeros((2, 3)), Path("x/scan.pdf"), 2, 5, None)
    assert repr(page) == "Page(scan.pdf, page 2 of 5, 3x2 px, unknown dpi)"
    with pytest.raises(ValueError, match="dpi must be a number of dots per inch > 0"):
        next(iter_pages("whatever.pdf", dpi=0))


def test_pdf_without_pypdfium2_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(ImageFileError, match=r"scan\.pdf.*pypdfium2.*docdenoise\[pdf\]"):
        load_images(tmp_path / "scan.pdf")


# --------------------------------------------------------------------------- PDF


@pytest.mark.pdf
def test_scanned_pdf_gives_the_scans_pixels_at_their_dpi(pdfs):
    pages = [_page(), _page(30, 50)]
    path = pdfs.scan("scan.pdf", pages, dpi=150)
    read = list(iter_pages(path, as_float=False))
    assert [(p.number, p.page_count) for p in read] == [(1, 2), (2, 2)]
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, want)  # exact: no resampling
        assert got.dpi == pytest.approx((150, 150), rel=1e-4)
    assert count_pages(path) == 2


@pytest.mark.pdf
def test_rotated_pdf_page_comes_turned_as_shown(pdfs):
    import pikepdf

    page = _page(40, 60)
    path = pdfs.scan("scan.pdf", [page])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].Rotate = 90
        pdf.save(path)
    (read,) = iter_pages(path, as_float=False)
    np.testing.assert_array_equal(read.image, np.rot90(page, k=-1))


@pytest.mark.pdf
def test_scan_with_a_stamp_drawn_over_it_is_rendered_at_the_scans_dpi(pdfs):
    import pikepdf

    page = np.full((40, 60), 255, dtype=np.uint8)
    path = pdfs.scan("stamped.pdf", [page], dpi=150)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        stamp = pdf.make_stream(b"0 g 2 2 10 10 re f")  # a black square, 10 pt wide
        pdf.pages[0].contents_add(stamp, prepend=False)
        pdf.save(path)
    (read,) = iter_pages(path, dpi=72)
    assert read.image.shape == (40, 60) and read.dpi == pytest.approx((150, 150), rel=1e-3)
    assert read.image[-20:-8, 6:20].max() < 0.2 and read.image[:10, 30:].min() > 0.9


@pytest.mark.pdf
def test_pdf_page_without_scan_is_rendered_at_dpi(pdfs):
    path = pdfs.append_text_page(pdfs.scan("mixed.pdf", [_page()]), size=(144, 72))
    scan, text = iter_pages(path, dpi=100)
    assert scan.dpi == pytest.approx((150, 150), rel=1e-4)
    assert text.image.shape == (100, 200) and text.dpi == pytest.approx((100, 100))
    assert text.image.min() < 0.5 < text.image.max()  # the words are drawn


@pytest.mark.pdf
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda m, s: m.encrypted("locked.pdf", s), r"'.*locked\.pdf' is an encrypted"),
        (lambda m, s: m.damaged("broken.pdf", s), r"'.*broken\.pdf' is a damaged PDF"),
        (lambda m, s: m.empty("empty.pdf"), r"'.*empty\.pdf' is a PDF with no pages"),
        (lambda m, s: m.text("digital.pdf", 2), r"'.*digital\.pdf' holds no scanned images"),
    ],
    ids=["encrypted", "damaged", "zero-pages", "vector-only"],
)
def test_bad_pdfs_get_a_clear_error_naming_the_file(pdfs, make, match):
    path = make(pdfs, pdfs.scan("scan.pdf", [_page()]))
    with pytest.raises(ImageFileError, match=match):
        list(iter_pages(path))
    with pytest.raises(ImageFileError, match=match):
        count_pages(path)


@pytest.mark.pdf
def test_zero_byte_pdf(tmp_path):
    (tmp_path / "nothing.pdf").write_bytes(b"")
    with pytest.raises(ImageFileError, match=r"nothing\.pdf' is empty \(0 bytes\)"):
        load_images(tmp_path / "nothing.pdf")


@pytest.mark.pdf
def test_huge_pdf_page_is_refused_before_rendering(pdfs):
    path = pdfs.append_text_page(pdfs.scan("big.pdf", [_page()]), size=(14400, 14400))
    pages = iter_pages(path)
    assert next(pages).number == 1
    with pytest.raises(
        ImageFileError, match=r"big\.pdf', page 2 of 2 would be 60000 x 60000 = .* at 300 dpi"
    ):
        next(pages)


@pytest.mark.pdf
def test_pdf_is_found_in_folders_and_by_its_first_bytes(pdfs):
    pdfs.scan("b.pdf", [_page(), _page()])
    Image.fromarray(_page()).save(pdfs.folder / "a.png")
    _, paths = load_images(pdfs.folder, return_paths=True)
    assert [p.name for p in paths] == ["a.png", "b.pdf", "b.pdf"]
    (pdfs.folder / "b.pdf").rename(pdfs.folder / "b.scan")
    assert len(load_images(pdfs.folder / "b.scan")) == 2
