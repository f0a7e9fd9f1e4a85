"""Tests for benchmarks/zero_shot.py's page split and per-part score lines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from docdenoise.metrics import cer, rmse


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("zero_shot.py")


def test_split_holds_out_six_whole_groups(script):
    groups = np.repeat(np.arange(24), 4)
    split = script["split_indices"](groups, 0)
    design, held = split["design"], split["heldout"]
    assert len(held) == 24 and len(design) == 72
    assert sorted([*design, *held]) == list(range(96))
    assert not set(groups[design]) & set(groups[held])
    assert list(split["all"]) == list(range(96))
    # The same split for the same seed, another for another seed.
    assert list(script["split_indices"](groups, 0)["heldout"]) == list(held)
    assert list(script["split_indices"](groups, 1)["heldout"]) != list(held)


def _scores(pages, clean, truth, hyps, noisy_hyps):
    errs = [rmse(c, p) for p, c in zip(pages, clean)]
    texts = {3: hyps, 6: hyps}
    page_cer = {psm: [cer([t], [h]) for t, h in zip(truth[psm], hyps)] for psm in texts}
    noisy_cer = {3: [cer([t], [h]) for t, h in zip(truth[3], noisy_hyps)]}
    return errs, texts, page_cer, noisy_cer


def test_score_line_pools_the_chosen_pages_only(script):
    rng = np.random.default_rng(0)
    # Pages of two sizes, so pooling by pixels differs from averaging page RMSEs.
    clean = [rng.random((8, 8)), rng.random((4, 4)), rng.random((8, 8)), rng.random((2, 8))]
    noise = (0.01, 0.3, 0.05, 0.2)
    pages = [np.clip(c + rng.normal(0, s, c.shape), 0, 1) for c, s in zip(clean, noise)]
    refs = ["abcd efgh", "ijkl", "mnop qrst uvwx", "yz"]
    hyps = ["abcd efgh", "ijxx", "mnop qrst uvwx", "y"]
    noisy_hyps = ["abcd efgx", "ijkl", "mnop qrst uvwx", "yz"]
    truth = {3: refs, 6: refs}
    errs, texts, page_cer, noisy_cer = _scores(pages, clean, truth, hyps, noisy_hyps)

    idx = np.array([1, 3])
    line, worst, worst_cer = script["score_line"](
        idx, clean, pages, errs, truth, texts, page_cer, noisy_cer
    )
    fields = line.split()
    assert float(fields[0]) == pytest.approx(
        rmse([clean[1], clean[3]], [pages[1], pages[3]]), abs=1e-4
    )
    assert float(fields[1]) == pytest.approx(max(errs[1], errs[3]), abs=1e-4)
    # Pooled CER over pages 1 and 3: (2 + 1) edits / (4 + 2) characters.
    assert fields[2] == "50.00%"
    assert fields[3] == "50.0%"  # page 1 (2 of 4) is the worst
    assert fields[4] == "2"  # both read worse than the noisy input did
    assert (worst, worst_cer) in {(1, 1), (3, 1)}
    assert worst == (1 if errs[1] > errs[3] else 3)

    line, _, _ = script["score_line"](
        np.arange(4), clean, pages, errs, truth, texts, page_cer, noisy_cer
    )
    fields = line.split()
    assert float(fields[0]) == pytest.approx(rmse(clean, pages), abs=1e-4)
    assert fields[2] == f"{100 * cer(refs, hyps):.2f}%"
    assert fields[4] == "2"  # page 0 reads better than noisy, page 2 the same


def test_score_line_without_ocr(script):
    clean = [np.zeros((4, 4)), np.ones((4, 4))]
    pages = [np.full((4, 4), 0.1), np.full((4, 4), 0.8)]
    errs = [rmse(c, p) for p, c in zip(pages, clean)]
    line, worst, worst_cer = script["score_line"](np.arange(2), clean, pages, errs, {}, {}, {}, {})
    assert line.split() == [f"{np.sqrt((0.01 + 0.04) / 2):.4f}", "0.2000"]
    assert worst == worst_cer == 1


def test_floor_variants_barely_change_a_page(script):
    # Black strokes with grey (anti-aliased) edges on white paper, as the clean pages are.
    page = np.ones((40, 60))
    page[8:12, 5:55] = 0.0
    page[20:23, 5:40] = 0.0
    page = ndi.gaussian_filter(page, 0.7)
    before = page.copy()
    variants = script["floor_variants"](np.random.default_rng(0))
    assert len(variants) == 4
    for label, change in variants.items():
        (out,) = script["disturbed"]([page], change)
        assert label.startswith("clean")
        assert out.dtype == np.float32 and out.shape == page.shape
        assert out.min() >= 0.0 and out.max() <= 1.0
        # Changed, by a few hundredths at most (this page has more edges than a real one).
        assert 0.0 < rmse(page, out) < 0.05, label
    np.testing.assert_array_equal(page, before)  # the clean page itself is left alone

    def with_noise(seed):
        change = script["floor_variants"](np.random.default_rng(seed))["clean + noise, sigma 0.02"]
        return script["disturbed"]([page], change)[0]

    # The noise comes from the generator given: the same seed, the same page.
    np.testing.assert_array_equal(with_noise(1), with_noise(1))
    assert not np.array_equal(with_noise(1), with_noise(2))
