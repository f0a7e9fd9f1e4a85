"""Tests for docdenoise.ocr and the text metrics cer/wer/bow_wer."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont
from sklearn.base import BaseEstimator, TransformerMixin, clone

from docdenoise.exceptions import OCRNotAvailableError
from docdenoise.metrics import bow_wer, cer, wer
from docdenoise.ocr import TesseractOCR, ocr_cer
from docdenoise.scorers import get_scorer, neg_ocr_cer_scorer

LINES = ["The quick brown fox jumps", "over the lazy dog 1234.", "Invoice total: 56.78"]


def render(lines=LINES, width=560):
    """A white page with black text in Pillow's default font, float32 in [0, 1]."""
    font = ImageFont.load_default(size=28)
    page = Image.new("L", (width, 40 * len(lines) + 30), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((15, 15 + 40 * i), line, font=font, fill=0)
    return np.asarray(page, dtype=np.float32) / 255.0


class Shift(TransformerMixin, BaseEstimator):
    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [np.clip(x + self.offset, 0, 1) for x in X]


# --------------------------------------------------------------------------- cer / wer


def test_cer_hand_examples():
    assert cer("abc", "abc") == 0.0
    assert cer("abc", "abd") == pytest.approx(1 / 3)
    assert cer("abc", "") == 1.0
    assert cer("ab", "abcd") == 1.0  # two insertions over two characters
    assert cer("Abc", "abc") == pytest.approx(1 / 3)  # case is kept
    assert cer("a  b\n\tc ", " a b c") == 0.0  # whitespace collapsed
    # pooled: (0 + 1) edits over (2 + 2) characters, not the mean of 0 and 0.5
    assert cer(["ab", "cd"], ["ab", "c"]) == pytest.approx(0.25)
    assert cer("", "") == 0.0
    assert cer("", "xy") == 2.0  # empty reference: denominator 1


def test_wer_hand_examples():
    assert wer("the cat sat", "the cat sat") == 0.0
    assert wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert wer("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert wer("the  cat\nsat", "the cat sat") == 0.0
    assert wer("end.", "end") == 1.0  # punctuation is kept
    assert wer(["a b", "c d e f"], ["a b", "c x e"]) == pytest.approx(2 / 6)


def test_bow_wer_hand_examples():
    assert bow_wer("a b c", "c b a") == 0.0  # order is ignored
    assert bow_wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert bow_wer("a a b", "a b") == pytest.approx(1 / 3)  # words are counted
    assert bow_wer("a b", "") == 1.0
    assert bow_wer("", "x y") == 2.0  # empty reference: denominator 1
    assert bow_wer("end.", "end") == 1.0  # punctuation is kept, as in wer
    # a line read after the one below it: many edits for wer, none here
    assert wer("one two\nthree four", "three four\none two") == 1.0
    assert bow_wer("one two\nthree four", "three four\none two") == 0.0
    # pooled: (0 + 2) errors over (2 + 4) words
    assert bow_wer(["a b", "c d e f"], ["b a", "c x e"]) == pytest.approx(2 / 6)


WORDS = st.lists(st.sampled_from(["a", "b", "c", "dd", "e."]), max_size=12)


@given(ref=WORDS, hyp=WORDS, seed=st.randoms(use_true_random=False))
def test_bow_wer_ignores_order_and_never_exceeds_wer(ref, hyp, seed):
    reference, hypothesis = " ".join(ref), " ".join(hyp)
    shuffled = list(hyp)
    seed.shuffle(shuffled)
    score = bow_wer(reference, hypothesis)
    assert score == bow_wer(reference, " ".join(shuffled))
    # a word edit changes the bag by at most one word out and one in
    assert 0.0 <= score <= wer(reference, hypothesis) + 1e-12
    assert (score == 0.0) == (sorted(ref) == sorted(hyp))


def test_text_metric_errors():
    with pytest.raises(TypeError, match="both be strings or both be lists"):
        cer("abc", ["abc"])
    with pytest.raises(ValueError, match="same number of texts: got 2 and 1"):
        wer(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="Text 1: expected strings, got str and int"):
        cer(["a", "b"], ["a", 3])
    with pytest.raises(ValueError, match="same number of texts: got 1 and 2"):
        bow_wer(["a"], ["a", "b"])


def test_cer_without_rapidfuzz(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidfuzz.distance", None)
    with pytest.raises(OCRNotAvailableError, match=r"rapidfuzz.*docdenoise\[ocr\]"):
        cer("a", "b")


# --------------------------------------------------------------------------- engine missing


def test_missing_tesseract_binary(monkeypatch):
    pytesseract = pytest.importorskip("pytesseract")
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract-for-test")
    with pytest.raises(
        OCRNotAvailableError,
        match=r"not found.*apt-get install tesseract-ocr.*pip install docdenoise\[ocr\]",
    ):
        TesseractOCR().fit()
    with pytest.raises(OCRNotAvailableError, match="apt-get install tesseract-ocr"):
        TesseractOCR().transform([np.ones((20, 20))])


def test_missing_pytesseract(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytesseract", None)
    with pytest.raises(OCRNotAvailableError, match=r"pytesseract.*docdenoise\[ocr\]"):
        TesseractOCR().transform([np.ones((20, 20))])


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"psm": 14}, ValueError, "psm must be an integer from 0 to 13, got 14"),
        ({"psm": "6"}, ValueError, "psm must be an integer"),
        ({"lang": ""}, ValueError, "lang must be a non-empty string"),
        ({"config": None}, TypeError, "config must be a string, got NoneType"),
    ],
)
def test_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        TesseractOCR(**params).fit()


def test_estimator_conventions():
    ocr = TesseractOCR(lang="deu", psm=4)
    assert clone(ocr).get_params()["psm"] == 4
    assert ocr.__sklearn_tags__().requires_fit is False


# --------------------------------------------------------------------------- with the engine


@pytest.mark.ocr
def test_reads_rendered_page():
    page = render()
    ocr = TesseractOCR().fit()
    assert ocr.tesseract_version_
    (text,) = ocr.transform([page])
    assert cer("\n".join(LINES), text) < 0.05
    # a 3-D array and uint8 input give the same reading
    (again,) = ocr.transform((page[None] * 255).round().astype(np.uint8))
    assert again == text


@pytest.mark.ocr
def test_unknown_language():
    with pytest.raises(ValueError, match=r"\['xx_no_such'\] are not installed.*'eng'"):
        TesseractOCR(lang="eng+xx_no_such").fit()


@pytest.mark.ocr
def test_ocr_cer_scorer():
    page = render(LINES[:2])
    X, y = [page], [page]
    assert get_scorer("neg_ocr_cer") is neg_ocr_cer_scorer
    assert neg_ocr_cer_scorer(Shift(0.0), X, y) == 0.0
    # a blank page reads as nothing: every character of the clean reading is lost
    assert neg_ocr_cer_scorer(Shift(1.0), X, y) == -1.0
    assert ocr_cer(y, [np.clip(page + 0.1, 0, 1)]) < 0.05
