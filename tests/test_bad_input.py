"""Bad-input matrix: every kind of broken array or image file gets a clear error
or a documented conversion (rules in ``docdenoise/_validation.py``)."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from docdenoise import DocumentDenoiser
from docdenoise.datasets import load_images, save_images
from docdenoise.exceptions import ImageFileError, InvalidImageError

RNG = np.random.default_rng(0)
TINY = {"epochs": 1, "batch_size": 4, "random_state": 0, "module__channels": (2, 2)}


def _pages(n=4, h=16, w=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, h, w), dtype=np.float32)


@pytest.fixture(scope="module")
def fitted():
    X = _pages()
    return DocumentDenoiser(**TINY).fit(X, X)


# --------------------------------------------------------------------------- refusals

REFUSED = [
    ("nan", np.full((2, 8, 8), np.nan), "NaN"),
    ("inf", np.full((2, 8, 8), np.inf), "inf"),
    ("nan-in-list", [np.array([[0.5, np.nan]])], r"X\[0\] contains NaN"),
    ("negative-float", -np.ones((2, 8, 8)), r"float values in \[-1\.0, -1\.0\].*\[0, 1\]"),
    (
        "float-above-1",
        np.full((2, 8, 8), 2.0),
        r"float values in \[2\.0, 2\.0\].*out_of_range='clip'",
    ),
    (
        "int16-negative",
        np.full((2, 8, 8), -1, np.int16),
        r"int16 with values in \[-1, -1\]",
    ),
    ("float64-beyond-float32", np.full((2, 8, 8), 1e300), r"float values in \[1e\+300"),
    ("int32-above-255", np.full((2, 8, 8), 300, np.int32), r"int32 .*0\.\.255"),
    (
        "rgb-array",
        np.zeros((8, 8, 3), np.uint8),
        r"colour image \(H, W, 3\).*grayscale",
    ),
    ("rgba-array", np.zeros((8, 8, 4), np.uint8), r"colour image \(H, W, 4\)"),
    ("rgb-list-item", [np.zeros((8, 8, 3))], r"X\[0\].*2-D grayscale.*Colour"),
    ("channel-axis", np.zeros((2, 8, 8, 1)), r"4 dimensions.*channel axis"),
    ("zero-images", np.zeros((0, 8, 8)), r"0 sample"),
    ("zero-height", np.zeros((2, 0, 8)), r"empty images"),
    ("empty-list", [], r"X is empty"),
    ("empty-list-item", [np.zeros((0, 8))], r"X\[0\] is empty"),
    (
        "object-of-strings",
        np.array(["a", "b"], dtype=object),
        r"X\[0\] must be an image array",
    ),
    ("ragged-rows", [[0.0, 1.0], [0.0]], r"rows of different lengths"),
    ("ragged-image", [np.zeros((2, 2)), [[1, 0], [0]]], r"X\[1\] could not be read"),
    ("string", "page.png", r"got str"),
    ("bytes", b"\x89PNG", r"got bytes"),
    ("none", None, r"got NoneType"),
    ("dict", {"image": np.zeros((2, 2))}, r"got dict"),
    ("list-of-strings", ["a.png", "b.png"], r"X\[0\] must be an image array, got str"),
    ("list-with-none", [np.zeros((2, 2)), None], r"X\[1\] must be an image array"),
    ("complex", np.ones((2, 3, 3), complex), r"Complex data not supported"),
    ("datetime", np.zeros((2, 3, 5), "datetime64[s]"), r"dtype datetime64"),
    ("1-d", np.zeros(5), r"Reshape your data"),
    ("scalar", np.float64(0.5), r"scalar"),
    ("mixed-ndim-list", [np.zeros((2, 2)), np.zeros(3)], r"X\[1\] must be a 2-D"),
]


@pytest.mark.parametrize(("X", "match"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_transform_refuses(fitted, X, match):
    with pytest.raises(InvalidImageError, match=match):
        fitted.transform(X)


_FIT_CASES = [c for c in REFUSED if c[0] in ("nan", "rgb-array", "ragged-rows", "string", "1-d")]


@pytest.mark.parametrize(
    ("X", "match"), [c[1:] for c in _FIT_CASES], ids=[c[0] for c in _FIT_CASES]
)
def test_fit_and_score_refuse(X, match):
    den = DocumentDenoiser(**TINY)
    with pytest.raises(InvalidImageError, match=match):
        den.fit(X, X)
    assert not hasattr(den, "module_")
    good = _pages(2)
    den.fit(good, good)
    with pytest.raises(InvalidImageError, match=match):
        den.score(X, X)


@pytest.mark.parametrize("y", [np.full((2, 16, 24), np.nan), "clean.png", np.zeros((2, 16, 24, 3))])
def test_bad_y_is_named_y(y):
    with pytest.raises(InvalidImageError, match=r"\by\b"):
        DocumentDenoiser(**TINY).fit(_pages(2), y)


def test_nan_refused_even_with_clip(fitted):
    den = DocumentDenoiser(**{**TINY, "out_of_range": "clip"}).fit(_pages(2), _pages(2))
    with pytest.raises(InvalidImageError, match="NaN"):
        den.transform([np.array([[np.nan, 0.5]])])


def test_sparse_and_non_numeric_objects_are_type_errors(fitted):
    """scikit-learn's convention: TypeError, not ValueError, for these two."""
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="[Ss]parse"):
        fitted.transform(sp.csr_matrix(np.zeros((2, 384))))
    X = np.zeros((2, 6), dtype=object)
    X[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="not numeric"):
        fitted.transform(X)


def test_not_fitted():
    with pytest.raises(SklearnNotFittedError):
        DocumentDenoiser().transform(_pages(1))
    with pytest.raises(SklearnNotFittedError):
        DocumentDenoiser().score(_pages(1), _pages(1))


# --------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("dtype", "value", "expected"),
    [
        (np.uint8, 255, 1.0),
        (np.uint8, 51, 0.2),
        (np.int16, 51, 0.2),
        (np.int32, 255, 1.0),
        (np.int64, 0, 0.0),
        (np.uint16, 65535, 1.0),
        (np.uint16, 255, 255 / 65535),
        (np.bool_, True, 1.0),
        (np.float16, 0.5, 0.5),
        (np.float64, 0.25, 0.25),
    ],
)
def test_documented_dtype_conversions(fitted, dtype, value, expected):
    from docdenoise._validation import check_images

    X = np.full((2, 6, 5), value, dtype=dtype)
    batch = check_images(X)
    assert batch.images[0].dtype == np.float32
    np.testing.assert_allclose(batch.images[0], expected, rtol=1e-3)
    out = fitted.transform(X)
    assert out.dtype == np.float32
    assert out.shape == X.shape


@pytest.mark.parametrize(
    ("X", "lo", "hi"),
    [
        (np.linspace(-1, 2, 48).reshape(2, 4, 6), 0.0, 1.0),
        (np.array([[[-5, 300]]], np.int32), 0.0, 1.0),
    ],
)
def test_clip_mode_clips(X, lo, hi):
    from docdenoise._validation import check_images

    images = check_images(X, out_of_range="clip").images
    assert min(i.min() for i in images) == lo
    assert max(i.max() for i in images) == hi


def test_outputs_in_unit_range_and_input_not_modified(fitted):
    X = _pages(3)
    before = X.copy()
    out = fitted.transform(X)
    np.testing.assert_array_equal(X, before)
    assert out.min() >= 0
    assert out.max() <= 1
    assert out.dtype == np.float32


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("model", "shape"),
    [("cae", s) for s in [(1, 1), (1, 37), (37, 1), (3, 3), (2, 5)]]
    + [("unet", s) for s in [(1, 1), (1, 21), (21, 1)]],
)
def test_tiny_and_thin_images(model, shape):
    """Images smaller than the network's size_multiple are padded and cropped back."""
    kw = {"epochs": 1, "batch_size": 2, "random_state": 0, "model": model}
    kw["module__channels"] = (2, 2) if model == "cae" else (2, 2, 2, 2)
    den = DocumentDenoiser(**kw)
    imgs = [RNG.random(shape, dtype=np.float32) for _ in range(2)]
    den.fit(imgs, imgs)
    out = den.transform(imgs)
    assert [o.shape for o in out] == [shape, shape]
    assert all(np.isfinite(o).all() for o in out)
    assert np.isfinite(den.score(imgs, imgs))


def test_mixed_sizes_in_one_list(fitted):
    imgs = [RNG.random(s, dtype=np.float32) for s in [(1, 1), (40, 3), (16, 24), (5, 200)]]
    out = fitted.transform(imgs)
    assert isinstance(out, list)
    assert [o.shape for o in out] == [i.shape for i in imgs]


def test_large_page(fitted):
    """An A4 page at 150 dpi (1754 x 1240) goes through in one piece."""
    page = np.full((1754, 1240), 200, np.uint8)
    (out,) = fitted.transform([page])
    assert out.shape == page.shape
    assert out.dtype == np.float32


# --------------------------------------------------------------------------- X / y pairs


def test_count_mismatch():
    with pytest.raises(InvalidImageError, match="same number of images: got 3 noisy and 2 clean"):
        DocumentDenoiser(**TINY).fit(_pages(3), _pages(2))


def test_size_mismatch():
    X = [RNG.random((8, 8)), RNG.random((8, 9))]
    Y = [RNG.random((8, 8)), RNG.random((9, 8))]
    with pytest.raises(
        InvalidImageError,
        match=r"Image 1: noisy shape \(8, 9\) differs from clean shape \(9, 8\)",
    ):
        DocumentDenoiser(**TINY).fit(X, Y)


def test_score_mismatch(fitted):
    with pytest.raises(InvalidImageError, match="same number"):
        fitted.score(_pages(2), _pages(3))
    with pytest.raises(InvalidImageError, match="differs"):
        fitted.score(_pages(2), _pages(2, 16, 20))


def test_y_missing_or_labels():
    with pytest.raises(InvalidImageError, match="y"):
        DocumentDenoiser(**TINY).fit(_pages(2), None)
    with pytest.raises(InvalidImageError, match="y"):
        DocumentDenoiser(**TINY).fit(_pages(2), np.array([0, 1]))


def test_groups_wrong_length():
    with pytest.raises(InvalidImageError, match=r"groups must hold one label per image"):
        DocumentDenoiser(**TINY).fit(_pages(4), _pages(4), groups=[0, 1])


def test_flat_form_wrong_image_shape():
    X = _pages(2).reshape(2, -1)
    with pytest.raises(InvalidImageError, match=r"384 features per row but image_shape=\(10, 10\)"):
        DocumentDenoiser(**TINY, image_shape=(10, 10)).fit(X, X)


def test_transform_other_image_shape_in_flat_form(fitted):
    den = DocumentDenoiser(**TINY, image_shape=(16, 24)).fit(
        _pages(2).reshape(2, -1), _pages(2).reshape(2, -1)
    )
    with pytest.raises(ValueError, match="features"):
        den.transform(np.zeros((1, 100)))


# --------------------------------------------------------------------------- image files


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny file whose header declares a huge 8-bit grey image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(70_000, 70_000), (20_000, 20_000)])
def test_decompression_bomb_is_refused_without_decoding(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(_bomb_png(*size))
    assert path.stat().st_size < 200
    with pytest.raises(ImageFileError, match=r"bomb\.png.*(bomb|too large)"):
        load_images(path)


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("TIFF", "tif")])
@pytest.mark.parametrize("keep", [0.3, 0.8])
def test_truncated_files(tmp_path, fmt, ext, keep):
    full = tmp_path / f"full.{ext}"
    Image.fromarray(RNG.integers(0, 256, (96, 96), dtype=np.uint8)).save(full, format=fmt)
    data = full.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageFileError, match=rf"cut\.{ext}"):
        load_images(cut)


@pytest.mark.parametrize("ext", ["png", "jpg", "tif"])
def test_zero_byte_and_garbage_files(tmp_path, ext):
    (tmp_path / f"empty.{ext}").write_bytes(b"")
    with pytest.raises(ImageFileError, match=rf"empty\.{ext}.*0 bytes"):
        load_images(tmp_path / f"empty.{ext}")
    (tmp_path / f"junk.{ext}").write_bytes(bytes(RNG.integers(0, 256, 500, dtype=np.uint8)))
    with pytest.raises(ImageFileError, match=rf"junk\.{ext}"):
        load_images(tmp_path / f"junk.{ext}")


def test_wrong_extension_is_read_by_content(tmp_path):
    """The file's content decides the format, not its name."""
    arr = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "really_png.jpg", format="PNG")
    (img,) = load_images(tmp_path / "really_png.jpg")
    np.testing.assert_allclose(img, arr / 255.0, atol=1e-6)
    (tmp_path / "model.png").write_bytes(b"\x80\x04\x95" + b"\x00" * 50)  # a pickle
    with pytest.raises(ImageFileError, match=r"model\.png.*not an image"):
        load_images(tmp_path / "model.png")


def test_folder_named_like_an_image(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageFileError, match=r"dir\.png"):
        load_images([tmp_path / "dir.png"])


def test_missing_file_in_list_names_it(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "ok.png")
    with pytest.raises(ImageFileError, match=r"gone\.png.*does not exist"):
        load_images([tmp_path / "ok.png", tmp_path / "gone.png"])


def test_save_images_never_writes_over_inputs(tmp_path):
    arr = RNG.integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "page.png")
    before = (tmp_path / "page.png").read_bytes()
    images, paths = load_images(tmp_path, return_paths=True)
    with pytest.raises(ImageFileError, match=r"page\.png.*already exists"):
        save_images([1 - images[0]], tmp_path, names=[paths[0].name])
    with pytest.raises(ImageFileError, match=r"page\.png.*already exists"):
        save_images([1 - images[0]], paths)
    assert (tmp_path / "page.png").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.png"]


def test_save_images_bad_input_writes_nothing(tmp_path):
    with pytest.raises(InvalidImageError, match=r"images\[1\] contains NaN"):
        save_images([np.zeros((4, 4)), np.full((4, 4), np.nan)], tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_saved_images_get_normal_permissions(tmp_path):
    (path,) = save_images([np.zeros((4, 4))], tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_interrupted_save_images_leaves_no_partial_file(tmp_path, monkeypatch):
    import docdenoise.datasets._io as io_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_images([np.zeros((4, 4)), np.ones((4, 4))], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_file_says_permission_denied(tmp_path, monkeypatch):
    """Simulated: the tests may run as root, who can read anything."""
    import docdenoise.datasets._io as io_module

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "locked.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io_module.Image, "open", denied)
    with pytest.raises(ImageFileError, match=r"locked\.png.*permission denied"):
        load_images(tmp_path / "locked.png")


def test_zero_size_png_header(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 0, 5, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")
    (tmp_path / "zero.png").write_bytes(data)
    with pytest.raises(ImageFileError, match=r"zero\.png"):
        load_images(tmp_path / "zero.png")


# --------------------------------------------------------------------------- one page, 2-D


def _one_page(h=16, w=24):
    return RNG.random((h, w), dtype=np.float32)


@pytest.mark.parametrize("estimator", ["denoiser", "classical"])
def test_one_page_as_a_2d_array_is_refused_with_the_fix(fitted, estimator):
    """A 2-D array is how one holds one page: it must not become H one-row images."""
    from docdenoise import ClassicalDenoiser

    den = fitted if estimator == "denoiser" else ClassicalDenoiser()
    page = _one_page()
    hint = r"shape \(16, 24\).*\[page\].*image_shape=\(H, W\).*image_shape='rows'"
    with pytest.raises(InvalidImageError, match=hint):
        den.transform(page)
    with pytest.raises(InvalidImageError, match=hint):
        den.transform(page.tolist())  # nested lists of numbers too
    (cleaned,) = den.transform([page])  # the fix the message gives
    assert cleaned.shape == page.shape


def test_one_page_2d_refused_by_fit_and_score(fitted):
    page = _one_page()
    with pytest.raises(InvalidImageError, match=r"\[page\]"):
        DocumentDenoiser(**TINY).fit(page, page)
    with pytest.raises(InvalidImageError, match=r"\[page\]"):
        fitted.score(page, page)


def test_one_page_with_a_channel_axis_is_refused(fitted):
    page = _one_page()[..., None]  # (H, W, 1): not H images W x 1 pixels
    hint = r"\(16, 24, 1\).*channel axis.*\[page\[\.\.\., 0\]\]"
    with pytest.raises(InvalidImageError, match=hint):
        fitted.transform(page)
    narrow = RNG.random((3, 16, 1), dtype=np.float32)  # few images: read as a stack
    assert fitted.transform(narrow).shape == narrow.shape


def test_the_flattened_form_is_asked_for_explicitly():
    """image_shape='rows' keeps the old reading: each row an image one pixel tall."""
    X = _pages(2).reshape(8, -1)[:, :48]
    den = DocumentDenoiser(**TINY, image_shape="rows").fit(X, X)
    assert den.n_features_in_ == 48
    out = den.transform(X)
    assert out.shape == X.shape
    rows = DocumentDenoiser(**TINY).fit([r[None, :] for r in X], [r[None, :] for r in X])
    np.testing.assert_allclose(out, np.concatenate(rows.transform([r[None, :] for r in X])))
    with pytest.raises(ValueError, match=r"image_shape must be None, 'rows' or two integers"):
        DocumentDenoiser(**TINY, image_shape="columns").fit(X, X)


# --------------------------------------------------------------------------- value messages


@pytest.mark.parametrize(
    ("value", "dtype", "shown"),
    [
        (np.nextafter(1.0, 2.0), np.float64, r"1\.0000000000000002"),
        (np.nextafter(np.float32(1), np.float32(2)), np.float32, r"1\.0000001"),
        (-np.nextafter(0.0, 1.0), np.float64, r"-5e-324"),
    ],
)
def test_a_value_just_outside_the_range_is_shown_exactly_with_a_count(fitted, value, dtype, shown):
    X = np.full((2, 8, 8), 0.5, dtype=dtype)
    X[1, 3, 4] = value
    with pytest.raises(InvalidImageError, match=rf"{shown}.*1 of 128 values outside \[0, 1\]"):
        fitted.transform(X)
