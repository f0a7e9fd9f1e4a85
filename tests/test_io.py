"""Tests for docdenoise.datasets image I/O and the Kaggle-layout loader."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from docdenoise.datasets import load_dirty_documents, load_images, save_images
from docdenoise.datasets._io import MAX_IMAGE_PIXELS
from docdenoise.exceptions import ImageFileError, InvalidImageError

RNG = np.random.default_rng(0)


def _grey(h=6, w=7):
    return RNG.integers(0, 256, size=(h, w), dtype=np.uint8)


# --------------------------------------------------------------------------- load


@pytest.mark.parametrize("ext", ["png", "jpg", "jpeg", "tif", "tiff", "PNG"])
def test_load_formats_roundtrip(tmp_path, ext):
    arr = _grey()
    Image.fromarray(arr).save(tmp_path / f"a.{ext}")
    (img,) = load_images(tmp_path / f"a.{ext}")
    assert img.dtype == np.float32
    assert img.shape == arr.shape
    tol = 0.2 if ext.lower().startswith("jp") else 0  # JPEG is lossy
    np.testing.assert_allclose(img, arr / 255.0, atol=tol + 1e-6)


def test_load_directory_natural_sort_pattern_and_paths(tmp_path):
    for name in ["10.png", "2.png", "1.png", "b.tif"]:
        Image.fromarray(_grey()).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    images, paths = load_images(tmp_path, return_paths=True)
    assert [p.name for p in paths] == ["1.png", "2.png", "10.png", "b.tif"]
    assert len(images) == 4
    assert len(load_images(str(tmp_path), pattern="*.png")) == 3
    # an explicit list keeps its order
    _, paths = load_images([tmp_path / "10.png", tmp_path / "1.png"], return_paths=True)
    assert [p.name for p in paths] == ["10.png", "1.png"]


def test_rgb_uses_itu_601_luma(tmp_path):
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    rgb[1] = (200, 100, 50)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    (img,) = load_images(tmp_path / "c.png", as_float=False)
    expected = np.round(rgb @ np.array([0.299, 0.587, 0.114]))
    np.testing.assert_allclose(img, expected, atol=1)


def test_rgba_and_la_composited_on_white(tmp_path):
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)  # fully transparent black -> white page
    rgba[0, 1] = (0, 0, 0, 255)  # opaque black
    rgba[0, 2] = (0, 0, 0, 128)  # half black
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    Image.fromarray(rgba[..., [0, 3]], mode="LA").save(tmp_path / "b.png")
    for name in ("a.png", "b.png"):
        (img,) = load_images(tmp_path / name)
        np.testing.assert_allclose(img, [[1.0, 0.0, 127 / 255]], atol=1.5 / 255)


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.putdata([0, 1, 0])
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    (img,) = load_images(tmp_path / "p.png", as_float=False)
    np.testing.assert_array_equal(img, [[255, 76, 255]])  # red luma = 76
    im2 = Image.new("P", (2, 1))
    im2.putpalette([10, 10, 10, 250, 250, 250] + [0] * 762)
    im2.putdata([0, 1])
    im2.save(tmp_path / "q.png")
    (img,) = load_images(tmp_path / "q.png", as_float=False)
    np.testing.assert_array_equal(img, [[10, 250]])


def test_16_bit_scaled_by_65535(tmp_path):
    arr = np.array([[0, 1000, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "d.png")
    Image.fromarray(arr).save(tmp_path / "d.tif")
    for name in ("d.png", "d.tif"):
        (img,) = load_images(tmp_path / name)
        np.testing.assert_allclose(img, arr / 65535.0, rtol=1e-6)
        (raw,) = load_images(tmp_path / name, as_float=False)
        assert raw.dtype == np.uint16


def test_32_bit_integer_mode(tmp_path):
    Image.fromarray(np.array([[0, 65535]], dtype=np.int32)).save(tmp_path / "i.tif")
    np.testing.assert_allclose(load_images(tmp_path / "i.tif")[0], [[0, 1]])
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32)).save(tmp_path / "j.tif")
    with pytest.raises(ImageFileError, match="j.tif.*0..65535"):
        load_images(tmp_path / "j.tif")


def test_1_bit_gives_0_and_1(tmp_path):
    im = Image.fromarray(np.array([[0, 255, 0]], dtype=np.uint8)).convert("1")
    im.save(tmp_path / "b.png")
    (img,) = load_images(tmp_path / "b.png")
    np.testing.assert_array_equal(img, [[0.0, 1.0, 0.0]])


def test_float_tiff(tmp_path):
    Image.fromarray(np.array([[0.0, 0.25]], dtype=np.float32)).save(tmp_path / "f.tif")
    np.testing.assert_allclose(load_images(tmp_path / "f.tif")[0], [[0.0, 0.25]])
    Image.fromarray(np.array([[0.0, 3.0]], dtype=np.float32)).save(tmp_path / "g.tif")
    with pytest.raises(ImageFileError, match="g.tif"):
        load_images(tmp_path / "g.tif")


# --------------------------------------------------------------------------- broken files


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageFileError, match="nope.png.*does not exist"):
        load_images(tmp_path / "nope.png")
    with pytest.raises(ImageFileError, match="No image files"):
        load_images(tmp_path)
    with pytest.raises(ImageFileError, match="empty"):
        load_images([])


def test_zero_byte_file(tmp_path):
    (tmp_path / "z.png").write_bytes(b"")
    with pytest.raises(ImageFileError, match=r"z\.png.*0 bytes"):
        load_images(tmp_path)


def test_text_file_named_png(tmp_path):
    (tmp_path / "t.png").write_text("hello, I am not a picture")
    with pytest.raises(ImageFileError, match=r"t\.png.*not an image"):
        load_images(tmp_path / "t.png")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_png(tmp_path, keep):
    Image.fromarray(_grey(64, 64)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageFileError, match=r"cut\.png.*(truncated|corrupt)"):
        load_images(tmp_path / "cut.png")


def test_corrupt_png_crc(tmp_path):
    Image.fromarray(_grey(16, 16)).save(tmp_path / "c.png")
    data = bytearray((tmp_path / "c.png").read_bytes())
    data[-20] ^= 0xFF  # flip bits inside the image data
    (tmp_path / "c.png").write_bytes(bytes(data))
    with pytest.raises(ImageFileError, match=r"c\.png"):
        load_images(tmp_path / "c.png")


def test_decompression_bomb_own_limit(tmp_path):
    Image.fromarray(_grey(20, 20)).save(tmp_path / "big.png")
    with pytest.raises(ImageFileError) as info:
        load_images(tmp_path / "big.png", max_pixels=100)
    message = str(info.value)
    assert re.search(r"big\.png' has 20 x 20 = 400 pixels, more than the limit of 100", message)
    assert "max_pixels" in message and "--max-pixels" in message  # how to raise it
    assert "corrupt" not in message and "Pillow" not in message
    assert load_images(tmp_path / "big.png", max_pixels=400)[0].shape == (20, 20)


@pytest.mark.parametrize("max_pixels", [MAX_IMAGE_PIXELS, 400, None])
def test_max_pixels_is_the_one_limit_pillow_does_not_refuse_first(
    tmp_path, monkeypatch, max_pixels
):
    """Pillow's own guard (2 * PIL.Image.MAX_IMAGE_PIXELS, about 179 Mpx by default)
    is below docdenoise's default 2**28: the limit the user sets must be the one
    that applies. Simulated with a lower Pillow limit and a small page."""
    Image.fromarray(_grey(20, 20)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow refuses above 100
    assert load_images(tmp_path / "big.png", max_pixels=max_pixels)[0].shape == (20, 20)
    assert Image.MAX_IMAGE_PIXELS == 50  # Pillow's setting is left as it was
    Image.fromarray(_grey(10, 10)).save(tmp_path / "small.png")
    assert load_images(tmp_path / "small.png", max_pixels=max_pixels)[0].shape == (10, 10)


def test_max_image_pixels_is_public():
    from docdenoise import datasets

    assert datasets.MAX_IMAGE_PIXELS == 2**28
    assert "MAX_IMAGE_PIXELS" in datasets.__all__


# --------------------------------------------------------------------------- save


def test_save_16_bit(tmp_path):
    page = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    page[0, 1] = 1 / 65535  # below the smallest 8-bit step
    (path,) = save_images([page], tmp_path, names=["p"], bit_depth=16)
    with Image.open(path) as im:
        assert im.mode == "I;16"
    (back,) = load_images(path)
    np.testing.assert_allclose(back, page, atol=0.5 / 65535)
    (path8,) = save_images([page], tmp_path, names=["p8"])  # 8 bits unless asked
    with Image.open(path8) as im:
        assert im.mode == "L"
    with pytest.raises(ValueError, match="bit_depth must be 8 or 16, got 12"):
        save_images([page], tmp_path, names=["p12"], bit_depth=12)


def test_save_roundtrip_and_default_names(tmp_path):
    imgs = [np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), np.zeros((2, 5))]
    paths = save_images(imgs, tmp_path / "out")
    assert [p.name for p in paths] == ["0000.png", "0001.png"]
    with Image.open(paths[0]) as im:
        assert im.mode == "L"
    back = load_images(tmp_path / "out")
    np.testing.assert_allclose(back[0], imgs[0], atol=0.5 / 255 + 1e-6)
    assert back[1].shape == (2, 5)


def test_save_single_image_to_file_and_3d_array(tmp_path):
    save_images(np.ones((3, 3)), tmp_path / "one.png")
    assert load_images(tmp_path / "one.png")[0].min() == 1.0
    paths = save_images(np.zeros((2, 4, 4), np.uint8), [tmp_path / "a.png", tmp_path / "b.png"])
    assert all(p.exists() for p in paths)


def test_save_refuses_overwrite_and_writes_nothing(tmp_path):
    save_images([np.zeros((2, 2))], tmp_path, names=["b"])
    before = (tmp_path / "b.png").read_bytes()
    with pytest.raises(ImageFileError, match=r"b\.png.*already exists.*overwrite=True"):
        save_images([np.ones((2, 2)), np.ones((2, 2))], tmp_path, names=["a", "b"])
    assert sorted(os.listdir(tmp_path)) == ["b.png"]  # "a" not written either
    assert (tmp_path / "b.png").read_bytes() == before
    save_images([np.ones((2, 2))], tmp_path, names=["b"], overwrite=True)
    assert load_images(tmp_path / "b.png")[0].min() == 1.0


def test_save_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_images([np.zeros((2, 2))], tmp_path, names=["x"])
    assert os.listdir(tmp_path) == []


def test_save_bad_input(tmp_path):
    with pytest.raises(InvalidImageError, match=r"\[0, 1\]"):
        save_images([np.full((2, 2), 2.0)], tmp_path)
    with pytest.raises(ValueError, match="PNG"):
        save_images([np.zeros((2, 2))], tmp_path, names=["a.jpg"])
    with pytest.raises(ValueError, match="Expected 2 names"):
        save_images([np.zeros((2, 2))] * 2, tmp_path, names=["a"])
    with pytest.raises(ValueError, match="same file"):
        save_images([np.zeros((2, 2))] * 2, tmp_path, names=["a", "a.png"])
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- Kaggle layout


def _kaggle(root, names=("1", "2", "10"), shape=(5, 6)):
    save_images([np.full(shape, 0.6)] * len(names), root / "train", names=list(names))
    save_images([np.ones(shape)] * len(names), root / "train_cleaned", names=list(names))
    return root


def test_kaggle_layout(tmp_path):
    root = _kaggle(tmp_path)
    save_images([np.zeros((3, 3))], root / "test", names=["7"])
    data = load_dirty_documents(root)
    assert data.filenames == ["1.png", "2.png", "10.png"]
    assert len(data.noisy) == len(data.clean) == 3
    np.testing.assert_allclose(data.clean[0], 1.0)
    assert data.test_filenames == ["7.png"]
    assert data.test[0].shape == (3, 3)
    assert data.groups is None
    assert "3 pairs" in data.DESCR
    assert load_dirty_documents(root, include_test=False).test == []


def test_kaggle_groups(tmp_path):
    root = _kaggle(tmp_path)
    (root / "groups.json").write_text(json.dumps([[10, 1], [2]]))
    np.testing.assert_array_equal(load_dirty_documents(root).groups, [0, 1, 0])
    (root / "groups.json").write_text(json.dumps([[10, 1]]))
    with pytest.raises(ValueError, match="no group.*2.png"):
        load_dirty_documents(root)


def test_kaggle_missing_folder(tmp_path):
    save_images([np.zeros((2, 2))], tmp_path / "train")
    with pytest.raises(ImageFileError, match="train_cleaned"):
        load_dirty_documents(tmp_path)
    with pytest.raises(ImageFileError, match="does not exist"):
        load_dirty_documents(tmp_path / "nowhere")


def test_kaggle_missing_partner(tmp_path):
    root = _kaggle(tmp_path)
    os.remove(root / "train_cleaned" / "2.png")
    with pytest.raises(ImageFileError, match=r"2\.png.*no clean partner"):
        load_dirty_documents(root)
    save_images([np.zeros((5, 6))] * 2, root / "train_cleaned", names=["2", "3"])
    with pytest.raises(ImageFileError, match=r"3\.png.*no noisy partner"):
        load_dirty_documents(root)


def test_kaggle_size_mismatch_and_corrupt(tmp_path):
    root = _kaggle(tmp_path)
    save_images([np.ones((4, 6))], root / "train_cleaned", names=["2"], overwrite=True)
    with pytest.raises(ImageFileError, match=r"Size mismatch.*2\.png"):
        load_dirty_documents(root)
    (root / "train" / "2.png").write_text("junk")
    with pytest.raises(ImageFileError, match=r"train.2\.png.*not an image"):
        load_dirty_documents(root)
