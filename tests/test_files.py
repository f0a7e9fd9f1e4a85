"""Files in, files out: input expansion, output plans, denoise_files, pair loading."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import FunctionTransformer

from docdenoise import ClassicalDenoiser, DocumentDenoiser, NotFittedError
from docdenoise.datasets import expand_inputs, load_image_pairs, load_images, save_images
from docdenoise.exceptions import ImageFileError
from docdenoise.parallel import denoise_files, plan_outputs

RNG = np.random.default_rng(0)


def _page(h=6, w=9):
    return RNG.random((h, w), dtype=np.float32)


def _invert():
    return FunctionTransformer(lambda pages: [1 - p for p in pages])


# --------------------------------------------------------------------------- inputs


def test_expand_inputs_folders_files_globs_dedup(tmp_path):
    save_images([_page()] * 3, tmp_path / "a", names=["10", "2", "1"])
    (tmp_path / "a" / "notes.txt").write_text("x")
    (tmp_path / "a" / "sub").mkdir()
    save_images([_page()], tmp_path / "a" / "sub", names=["deep"])
    files = expand_inputs([tmp_path / "a", str(tmp_path / "a" / "2.png")])
    assert [p.name for p in files] == ["1.png", "2.png", "10.png"]  # natural sort, no dup
    deep = expand_inputs([str(tmp_path / "a" / "**" / "*.png")])
    assert [p.name for p in deep] == ["1.png", "2.png", "10.png", "deep.png"]
    # An explicit file is kept whatever its suffix (it is reported later if unreadable).
    assert expand_inputs([tmp_path / "a" / "notes.txt"])[0].name == "notes.txt"
    # One path alone is one input, as in load_images.
    assert [p.name for p in expand_inputs(tmp_path / "a")] == ["1.png", "2.png", "10.png"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: [d / "missing.png"], "does not exist"),
        (lambda d: [str(d / "*.tif")], "No image or PDF files match the pattern"),
        (lambda d: [d], "No image or PDF files"),
        (lambda d: [], "No input files given"),
    ],
)
def test_expand_inputs_errors(tmp_path, make, match):
    with pytest.raises(ImageFileError, match=match):
        expand_inputs(make(tmp_path))


@pytest.mark.parametrize(
    ("link_to", "match"),
    [
        ("loop.png", "leads into a loop of symbolic links"),  # points at itself
        ("gone.png", r"is a broken symbolic link \(to 'gone\.png'"),
    ],
)
def test_expand_inputs_and_load_images_name_bad_links(tmp_path, link_to, match):
    """Not 'does not exist': the name is there, the link is what is wrong."""
    link = tmp_path / "loop.png"
    link.symlink_to(link_to)
    with pytest.raises(ImageFileError, match=rf"Input '.*loop\.png' {match}"):
        expand_inputs([link])
    with pytest.raises(ImageFileError, match=rf"Image file '.*loop\.png' {match}"):
        load_images([link])


def test_data_folders_that_are_files_or_bad_links_are_named(tmp_path):
    from docdenoise.datasets import load_dirty_documents

    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "loop").symlink_to("loop")
    for load in (load_image_pairs, load_dirty_documents):
        with pytest.raises(ImageFileError, match=r"notes\.txt' is a file, not a folder"):
            load(tmp_path / "notes.txt")
        with pytest.raises(ImageFileError, match=r"'.*loop' leads into a loop of symbolic links"):
            load(tmp_path / "loop")


def test_plan_outputs(tmp_path):
    plan = plan_outputs([tmp_path / "x" / "a.jpg", tmp_path / "b.TIF"], tmp_path / "out")
    assert plan == [tmp_path / "out" / "a.png", tmp_path / "out" / "b.png"]
    with pytest.raises(ValueError, match="would both be written to"):
        plan_outputs([tmp_path / "x" / "a.jpg", tmp_path / "a.png"], tmp_path / "out")
    save_images([_page()], tmp_path, names=["a"])
    with pytest.raises(ValueError, match="would overwrite the input file"):
        plan_outputs([tmp_path / "a.png"], tmp_path, overwrite=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.png").write_bytes(b"")
    with pytest.raises(FileExistsError, match="b.png' already exists"):
        plan_outputs([tmp_path / "b.tif"], tmp_path / "out")
    assert plan_outputs([tmp_path / "b.tif"], tmp_path / "out", overwrite=True)
    with pytest.raises(ValueError, match="is not a folder"):
        plan_outputs([tmp_path / "b.tif"], tmp_path / "a.png")


def test_plan_outputs_can_mirror_the_input_folders(tmp_path):
    """Same names in subfolders: refused as a clash, or kept apart with keep_folders."""
    files = [tmp_path / "tree" / "a" / "x.png", tmp_path / "tree" / "b" / "x.jpg"]
    files.append(tmp_path / "tree" / "b" / "deep" / "y.tif")
    with pytest.raises(ValueError, match=r"keep_folders=True \(--keep-folders\)"):
        plan_outputs(files, tmp_path / "out")
    plan = plan_outputs(files, tmp_path / "out", keep_folders=True)
    out = tmp_path / "out"
    assert plan == [out / "a" / "x.png", out / "b" / "x.png", out / "b" / "deep" / "y.png"]
    # below the deepest folder the inputs share; one folder gives the flat plan
    flat = plan_outputs(files[:1], tmp_path / "out", keep_folders=True)
    assert flat == plan_outputs(files[:1], tmp_path / "out") == [out / "x.png"]


def test_denoise_files_keep_folders_writes_the_tree(tmp_path):
    save_images([_page()], tmp_path / "tree" / "a", names=["x"])
    save_images([_page(4, 5)], tmp_path / "tree" / "b", names=["x"])
    report = denoise_files(
        _invert(), str(tmp_path / "tree" / "**" / "*.png"), tmp_path / "out", keep_folders=True
    )
    assert report.written == [tmp_path / "out" / "a" / "x.png", tmp_path / "out" / "b" / "x.png"]
    assert load_images(report.written[1])[0].shape == (4, 5)


def _bits(path):
    with Image.open(path) as im:
        return 16 if im.mode.startswith("I;16") else 8


def test_denoise_files_keeps_16_bits_where_the_input_had_them(tmp_path):
    page16 = (RNG.random((6, 9)) * 65535).astype(np.uint16)
    (tmp_path / "in").mkdir()
    Image.fromarray(page16).save(tmp_path / "in" / "deep.png")
    save_images([_page()], tmp_path / "in", names=["flat"])
    report = denoise_files(_invert(), [tmp_path / "in"], tmp_path / "out")
    assert [p.name for p in report.written] == ["deep.png", "flat.png"]
    assert [_bits(p) for p in report.written] == [16, 8]
    (out16,) = load_images(report.written[0])
    np.testing.assert_allclose(out16, 1 - page16 / 65535, atol=1 / 65535)
    report = denoise_files(_invert(), [tmp_path / "in"], tmp_path / "o8", bit_depth=8)
    assert [_bits(p) for p in report.written] == [8, 8]
    report = denoise_files(_invert(), [tmp_path / "in"], tmp_path / "o16", bit_depth=16)
    assert [_bits(p) for p in report.written] == [16, 16]
    with pytest.raises(ValueError, match="bit_depth must be one of 'input', 8, 16"):
        denoise_files(_invert(), [tmp_path / "in"], tmp_path / "o", bit_depth="same")


def test_plan_outputs_refuses_an_unwritable_folder_before_any_work(tmp_path, monkeypatch):
    import docdenoise._atomic as atomic

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    save_images([_page()], tmp_path / "in", names=["a"])
    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(atomic, "_create_temp_next_to", denied)
    with pytest.raises(PermissionError, match=r"Output folder '.*ro' is not writable"):
        plan_outputs([tmp_path / "in" / "a.png"], tmp_path / "ro")

    def never(pages):
        raise AssertionError("no page may be cleaned")

    with pytest.raises(PermissionError, match="is not writable"):
        denoise_files(FunctionTransformer(never), [tmp_path / "in"], tmp_path / "ro")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_plan_outputs_refuses_a_read_only_folder(tmp_path):
    save_images([_page()], tmp_path / "in", names=["a"])
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"Output folder '.*ro' is not writable"):
            plan_outputs([tmp_path / "in" / "a.png"], tmp_path / "ro")
    finally:
        (tmp_path / "ro").chmod(0o755)


# --------------------------------------------------------------------------- denoise


def test_denoise_files_writes_cleaned_pages_and_reports_failures(tmp_path):
    pages = [_page(), _page(4, 7)]
    save_images(pages, tmp_path / "in", names=["p1", "p2"])
    (tmp_path / "in" / "p3.png").write_bytes(b"garbage")
    errors = []
    report = denoise_files(
        _invert(),
        [tmp_path / "in"],
        tmp_path / "out",
        on_error=lambda path, msg: errors.append((path.name, msg)),
    )
    assert not report.ok
    assert [p.name for p in report.written] == ["p1.png", "p2.png"]
    assert [(p.name, "Pillow" in m) for p, m in report.failed] == [("p3.png", True)]
    assert [name for name, _ in errors] == ["p3.png"]
    for page, path in zip(pages, report.written):
        (out,) = load_images(path)
        np.testing.assert_allclose(out, 1 - page, atol=1 / 255 + 1e-6)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p1.png", "p2.png"]


def test_denoise_files_failed_transform_is_skipped(tmp_path):
    save_images([_page(), _page(3, 3)], tmp_path, names=["ok", "small"])

    def fussy(pages):
        if any(p.shape == (3, 3) for p in pages):
            raise ValueError("too small")
        return pages

    report = denoise_files(FunctionTransformer(fussy), [tmp_path], tmp_path / "out")
    assert [p.name for p in report.written] == ["ok.png"]
    assert report.failed == [(tmp_path / "small.png", "too small")]


def test_denoise_files_checks_plan_before_writing(tmp_path):
    save_images([_page(), _page()], tmp_path / "in", names=["a", "b"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.png").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        denoise_files(_invert(), [tmp_path / "in"], tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.png"]


def test_denoise_files_progress_bar(tmp_path, capsys):
    save_images([_page()], tmp_path, names=["a"])
    denoise_files(_invert(), [tmp_path / "a.png"], tmp_path / "o1", progress=True)
    assert "denoising" in capsys.readouterr().err
    denoise_files(_invert(), [tmp_path / "a.png"], tmp_path / "o2")
    assert capsys.readouterr().err == ""


class Counting(TransformerMixin, BaseEstimator):
    """A stateless transformer that records how many pages each transform call got."""

    def __init__(self):
        self.calls = []

    def fit(self, X=None, y=None):
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def transform(self, pages):
        self.calls.append(len(pages))
        if any(p.shape == (3, 3) for p in pages):
            raise ValueError("too small")
        return [1 - p for p in pages]


@pytest.mark.parametrize("chunk_size", [1, 2, 8])
def test_denoise_files_chunks_keep_input_order_and_isolate_failures(tmp_path, chunk_size):
    names = ["p1", "p2", "tiny", "p4", "p5"]
    pages = [_page(), _page(4, 7), _page(3, 3), _page(), _page(5, 5)]
    save_images(pages, tmp_path / "in", names=names)
    (tmp_path / "in" / "p0.png").write_bytes(b"garbage")
    seen = []
    counting = Counting()
    report = denoise_files(
        counting,
        tmp_path / "in",
        tmp_path / "out",
        chunk_size=chunk_size,
        on_error=lambda path, message: seen.append(path.name),
    )
    assert [p.name for p in report.written] == ["p1.png", "p2.png", "p4.png", "p5.png"]
    assert [p.name for p, _ in report.failed] == ["p0.png", "tiny.png"]
    assert seen == ["p0.png", "tiny.png"]
    assert max(counting.calls) <= chunk_size
    for name, page in zip(names, pages):
        if name != "tiny":
            (out,) = load_images(tmp_path / "out" / f"{name}.png")
            np.testing.assert_allclose(out, 1 - page, atol=1 / 255 + 1e-6)


def test_denoise_files_reports_each_failure_as_soon_as_its_chunk_is_done(tmp_path):
    save_images([_page()] * 3, tmp_path / "in", names=["a", "b", "c"])
    (tmp_path / "in" / "b.png").write_bytes(b"garbage")
    events = []

    class Logging(Counting):
        def transform(self, pages):
            events.append("transform")
            return super().transform(pages)

    denoise_files(
        Logging(),
        tmp_path / "in",
        tmp_path / "out",
        chunk_size=1,
        on_error=lambda path, message: events.append(path.name),
    )
    assert events == ["transform", "b.png", "transform"]


def test_denoise_files_refuses_an_unfitted_denoiser_before_any_work(tmp_path):
    save_images([_page()], tmp_path / "in", names=["a"])
    with pytest.raises(NotFittedError):
        denoise_files(DocumentDenoiser(), tmp_path / "in", tmp_path / "out")
    with pytest.raises(TypeError, match="fitted transformer with a transform method"):
        denoise_files(object(), tmp_path / "in", tmp_path / "out")
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1, got 0"):
        denoise_files(_invert(), tmp_path / "in", tmp_path / "out", chunk_size=0)
    assert not (tmp_path / "out").exists()


def test_denoise_files_with_a_stateless_baseline(tmp_path):
    save_images([np.full((12, 12), 0.6)], tmp_path / "in", names=["grey"])
    report = denoise_files(ClassicalDenoiser(), tmp_path / "in", tmp_path / "out")
    (out,) = load_images(report.written)
    assert float(out.min()) == 1.0  # uniform grey paper turns white


# --------------------------------------------------------------------------- documents


def _levels(h=20, w=30):
    return RNG.integers(0, 256, size=(h, w), dtype=np.uint8)


def _no_temp_files(folder):
    return not [p for p in folder.rglob(".*") if p.is_file()]


def test_multipage_tiff_in_tiff_out_and_single_pages_keep_their_dpi(tmp_path, write_tiff):
    from docdenoise.datasets import iter_pages

    (tmp_path / "in").mkdir()
    pages = [_levels(), _levels(10, 12), _levels()]
    write_tiff(tmp_path / "in" / "three.tif", pages, dpi=(200, 200))
    write_tiff(tmp_path / "in" / "one.tif", [_levels()], dpi=(300, 300))
    report = denoise_files(_invert(), tmp_path / "in", tmp_path / "out")
    assert [p.name for p in report.written] == ["one.png", "three.tif"]
    out = list(iter_pages(tmp_path / "out" / "three.tif", as_float=False))
    assert [(p.number, p.page_count, p.dpi) for p in out] == [(i, 3, (200, 200)) for i in (1, 2, 3)]
    for got, want in zip(out, pages):
        np.testing.assert_array_equal(got.image, 255 - want)
    (one,) = iter_pages(tmp_path / "out" / "one.png")
    assert one.dpi == (300, 300)


def test_pages_png_writes_one_png_per_page(tmp_path, write_tiff):
    from docdenoise.datasets import iter_pages

    write_tiff(tmp_path / "scan.tif", [_levels(), _levels()], dpi=(200, 200))
    assert plan_outputs([tmp_path / "scan.tif"], tmp_path / "out", pages="png") == [
        tmp_path / "out" / "scan.png"
    ]
    report = denoise_files(_invert(), tmp_path / "scan.tif", tmp_path / "out", pages="png")
    assert [p.name for p in report.written] == ["scan-p0001.png", "scan-p0002.png"]
    assert [p.dpi for p in iter_pages(report.written)] == [(200, 200)] * 2
    with pytest.raises(FileExistsError, match=r"scan-p0001\.png' and 1 more outputs"):
        denoise_files(_invert(), tmp_path / "scan.tif", tmp_path / "out", pages="png")
    with pytest.raises(ValueError, match="pages must be 'file' or 'png', got 'pdf'"):
        denoise_files(_invert(), tmp_path / "scan.tif", tmp_path / "out", pages="pdf")


def test_a_broken_later_page_fails_its_document_only_and_leaves_nothing(tmp_path, write_tiff):
    (tmp_path / "in").mkdir()
    write_tiff(tmp_path / "in" / "good.tif", [_levels(), _levels()])
    broken = write_tiff(tmp_path / "in" / "broken.tif", [_levels(200, 200)] * 3)
    broken.write_bytes(broken.read_bytes()[:-20000])  # cut into the last page
    for pages in ("file", "png"):
        out = tmp_path / f"out-{pages}"
        report = denoise_files(_invert(), tmp_path / "in", out, pages=pages)
        assert [(p.name, "page 3 of 3" in m) for p, m in report.failed] == [("broken.tif", True)]
        assert all(p.name.startswith("good") for p in report.written)
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in report.written)
        assert _no_temp_files(out)


def test_a_page_that_cannot_be_cleaned_names_its_page(tmp_path, write_tiff):
    write_tiff(tmp_path / "scan.tif", [_levels(), _levels(3, 3)])
    report = denoise_files(Counting(), tmp_path / "scan.tif", tmp_path / "out")
    ((path, message),) = report.failed
    assert "scan.tif', page 2 of 2 could not be cleaned: too small" in message
    assert list((tmp_path / "out").iterdir()) == []


def test_unsupported_files_in_folders_are_reported_not_read(tmp_path):
    save_images([_page()], tmp_path / "in", names=["a"])
    (tmp_path / "in" / "notes.txt").write_text("x")
    (tmp_path / "in" / "data.csv").write_text("x")
    (tmp_path / "in" / ".hidden").write_text("x")
    report = denoise_files(_invert(), tmp_path / "in", tmp_path / "out")
    assert [p.name for p in report.written] == ["a.png"]
    assert [p.name for p in report.unsupported] == ["data.csv", "notes.txt"]
    assert report.ok


def test_bilevel_pages_are_black_and_white(tmp_path):
    save_images([np.linspace(0, 1, 30).reshape(5, 6)], tmp_path, names=["grad"])
    report = denoise_files(
        FunctionTransformer(), tmp_path / "grad.png", tmp_path / "out", bilevel=True
    )
    (out,) = load_images(report.written)
    assert set(np.unique(out)) == {0.0, 1.0}


@pytest.mark.pdf
def test_pdf_in_pdf_out_with_the_same_pages(pdfs):
    from docdenoise.datasets import iter_pages

    pages = [_levels(40, 60), _levels(30, 50)]
    pdfs.scan("scan.pdf", pages, dpi=150)
    pdfs.encrypted("locked.pdf", pdfs.folder / "scan.pdf")
    pdfs.text("digital.pdf")
    out = pdfs.folder / "out"
    report = denoise_files(_invert(), pdfs.folder, out)
    assert [p.name for p in report.written] == ["scan.pdf"]
    failed = {p.name: message for p, message in report.failed}
    assert sorted(failed) == ["digital.pdf", "locked.pdf"]
    assert "holds no scanned images" in failed["digital.pdf"]
    assert "is an encrypted" in failed["locked.pdf"]
    read = list(iter_pages(out / "scan.pdf", as_float=False))
    assert [(p.number, p.page_count) for p in read] == [(1, 2), (2, 2)]
    for got, want in zip(read, pages):
        np.testing.assert_array_equal(got.image, 255 - want)
        assert got.dpi == pytest.approx((150, 150), rel=1e-4)
    assert _no_temp_files(out)


# ----------------------------------------------- documents with bit depth, folders, limits


def _levels16(h=20, w=30):
    return RNG.integers(0, 65536, size=(h, w), dtype=np.uint16)


def test_a_16_bit_multipage_tiff_stays_16_bit_as_tiff_and_as_png_pages(tmp_path, write_tiff):
    from docdenoise.datasets import iter_pages

    pages = [_levels16(), _levels16(10, 12)]
    write_tiff(tmp_path / "deep.tif", pages, dpi=(200, 200))
    write_tiff(tmp_path / "flat.tif", [_levels(), _levels()])
    report = denoise_files(_invert(), tmp_path, tmp_path / "out")
    assert [p.name for p in report.written] == ["deep.tif", "flat.tif"]
    deep, flat = (list(iter_pages(p, as_float=False)) for p in report.written)
    assert [p.image.dtype for p in deep] == [np.uint16] * 2
    assert [p.image.dtype for p in flat] == [np.uint8] * 2
    for got, want in zip(deep, pages):
        np.testing.assert_array_equal(got.image, 65535 - want)  # no level lost
        assert got.dpi == (200, 200)
    report = denoise_files(_invert(), tmp_path, tmp_path / "png", pages="png")
    assert [(p.name, _bits(p)) for p in report.written] == [
        ("deep-p0001.png", 16),
        ("deep-p0002.png", 16),
        ("flat-p0001.png", 8),
        ("flat-p0002.png", 8),
    ]
    report = denoise_files(_invert(), tmp_path / "deep.tif", tmp_path / "o8", bit_depth=8)
    assert [p.image.dtype for p in iter_pages(report.written, as_float=False)] == [np.uint8] * 2
    report = denoise_files(_invert(), tmp_path / "flat.tif", tmp_path / "o16", bit_depth=16)
    assert [p.image.dtype for p in iter_pages(report.written, as_float=False)] == [np.uint16] * 2


def test_bit_depth_16_is_refused_with_bilevel_before_any_work(tmp_path):
    save_images([_page()], tmp_path / "in", names=["a"])
    with pytest.raises(ValueError, match="bit_depth=16 cannot apply to bilevel pages"):
        denoise_files(_invert(), tmp_path / "in", tmp_path / "out", bilevel=True, bit_depth=16)
    assert not (tmp_path / "out").exists()


@pytest.mark.pdf
def test_pdf_outputs_are_8_bit_whatever_the_bit_depth(pdfs):
    from docdenoise.datasets import iter_pages

    pages = [_levels(40, 60)]
    pdfs.scan("scan.pdf", pages, dpi=150)
    for depth in ("input", 16):
        out = pdfs.folder / f"out-{depth}"
        report = denoise_files(_invert(), pdfs.folder / "scan.pdf", out, bit_depth=depth)
        (page,) = iter_pages(report.written, as_float=False)
        assert report.written == [out / "scan.pdf"] and page.image.dtype == np.uint8
        np.testing.assert_array_equal(page.image, 255 - pages[0])
    report = denoise_files(
        _invert(), pdfs.folder / "scan.pdf", pdfs.folder / "png16", pages="png", bit_depth=16
    )
    assert [(p.name, _bits(p)) for p in report.written] == [("scan.png", 16)]


def test_keep_folders_mirrors_documents_and_their_png_pages(tmp_path, write_tiff):
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "b" / "c").mkdir(parents=True)
    write_tiff(tree / "a" / "scan.tif", [_levels(), _levels()])
    write_tiff(tree / "b" / "c" / "scan.tif", [_levels(), _levels()])
    save_images([_page()], tree / "b", names=["scan"])
    inputs = str(tree / "**" / "*.*")
    with pytest.raises(ValueError, match=r"keep_folders=True \(--keep-folders\)"):
        plan_outputs(expand_inputs(inputs), tmp_path / "out", pages="png")
    report = denoise_files(_invert(), inputs, tmp_path / "out", keep_folders=True)
    out = tmp_path / "out"
    assert report.written == [out / "a" / "scan.tif", out / "b" / "scan.png"] + [
        out / "b" / "c" / "scan.tif"
    ]
    report = denoise_files(_invert(), inputs, tmp_path / "png", keep_folders=True, pages="png")
    assert [str(p.relative_to(tmp_path / "png")) for p in report.written] == [
        "a/scan-p0001.png",
        "a/scan-p0002.png",
        "b/scan.png",
        "b/c/scan-p0001.png",
        "b/c/scan-p0002.png",
    ]


def test_an_unwritable_output_folder_is_refused_before_a_document_is_read(
    tmp_path, write_tiff, monkeypatch
):
    import docdenoise._atomic as atomic
    import docdenoise.parallel as parallel

    write_tiff(tmp_path / "scan.tif", [_levels(), _levels()])

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    def never(*args, **kwargs):
        raise AssertionError("no page may be read")

    monkeypatch.setattr(atomic, "_create_temp_next_to", denied)
    monkeypatch.setattr(parallel, "iter_pages", never)
    for pages in ("file", "png"):
        with pytest.raises(PermissionError, match=r"Output folder '.*out' cannot be created"):
            denoise_files(_invert(), tmp_path / "scan.tif", tmp_path / "out", pages=pages)
    assert not (tmp_path / "out").exists()


def test_max_pixels_skips_a_document_with_a_large_page_and_names_the_page(tmp_path, write_tiff):
    (tmp_path / "in").mkdir()
    write_tiff(tmp_path / "in" / "big.tif", [_levels(10, 10), _levels(40, 40)])
    write_tiff(tmp_path / "in" / "small.tif", [_levels(10, 10), _levels(10, 10)])
    report = denoise_files(_invert(), tmp_path / "in", tmp_path / "out", max_pixels=1000)
    assert [p.name for p in report.written] == ["small.tif"]
    ((path, message),) = report.failed
    assert path.name == "big.tif"
    assert "big.tif', page 2 of 2 has 40 x 40 = 1600 pixels, more than the limit of 1000" in (
        message
    )
    assert "--max-pixels" in message
    report = denoise_files(_invert(), tmp_path / "in" / "big.tif", tmp_path / "o", max_pixels=None)
    assert report.ok
    with pytest.raises(ValueError, match="max_pixels must be None or an integer >= 1, got 0"):
        denoise_files(_invert(), tmp_path / "in", tmp_path / "o", max_pixels=0)


@pytest.mark.pdf
def test_max_pixels_applies_to_pdf_pages_before_they_are_rendered(pdfs):
    pdfs.scan("scan.pdf", [_levels(40, 60), _levels(40, 60)], dpi=150)
    report = denoise_files(_invert(), pdfs.folder / "scan.pdf", pdfs.folder / "o", max_pixels=2000)
    ((path, message),) = report.failed
    assert "scan.pdf', page 1 of 2 would be 60 x 40 = 2400 pixels, more than the limit" in message
    assert not (pdfs.folder / "o" / "scan.pdf").exists()


# --------------------------------------------------------------------------- pairs


def test_load_image_pairs_noisy_clean_by_stem(tmp_path):
    save_images([_page(), _page(5, 5)], tmp_path / "noisy", names=["2", "10"])
    save_images([_page(), _page(5, 5)], tmp_path / "clean", names=["2", "10"])
    (tmp_path / "groups.json").write_text('[["2"], ["10"]]')
    data = load_image_pairs(tmp_path)
    assert data.filenames == ["2.png", "10.png"]
    assert [x.shape for x in data.noisy] == [(6, 9), (5, 5)]
    assert data.groups.tolist() == [0, 1]


def test_load_image_pairs_kaggle_layout(tmp_path):
    save_images([_page()], tmp_path / "train", names=["1"])
    save_images([_page()], tmp_path / "train_cleaned", names=["1"])
    data = load_image_pairs(tmp_path)
    assert data.filenames == ["1.png"]
    assert data.groups is None


@pytest.mark.parametrize(
    ("noisy", "clean", "match"),
    [
        ({"a": (6, 9), "b": (6, 9)}, {"a": (6, 9)}, "has no clean partner named 'b'"),
        ({"a": (6, 9)}, {"a": (6, 9), "c": (6, 9)}, "has no noisy partner"),
        ({"a": (6, 9)}, {"a": (6, 8)}, "Size mismatch"),
    ],
)
def test_load_image_pairs_errors(tmp_path, noisy, clean, match):
    for folder, spec in (("noisy", noisy), ("clean", clean)):
        save_images([_page(*s) for s in spec.values()], tmp_path / folder, names=list(spec))
    with pytest.raises(ImageFileError, match=match):
        load_image_pairs(tmp_path)


def test_load_image_pairs_missing_layout(tmp_path):
    with pytest.raises(ImageFileError, match="does not exist"):
        load_image_pairs(tmp_path / "nope")
    with pytest.raises(ImageFileError, match="neither train/"):
        load_image_pairs(tmp_path)
