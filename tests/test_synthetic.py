"""Tests of the synthetic dirty-document generator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from docdenoise.datasets import _degrade, make_dirty_documents
from docdenoise.datasets._synthetic import DEGRADATIONS


def _check_pair(noisy, clean, n_samples, shape):
    for arr in (noisy, clean):
        assert arr.shape == (n_samples, *shape)
        assert arr.dtype == np.float32
        assert np.isfinite(arr).all()
        assert arr.min() >= 0.0
        assert arr.max() <= 1.0


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(1, 3),
    height=st.integers(1, 48),
    width=st.integers(1, 64),
    seed=st.integers(0, 2**32 - 1),
)
def test_shapes_dtype_range(n_samples, height, width, seed):
    noisy, clean = make_dirty_documents(n_samples, (height, width), random_state=seed)
    _check_pair(noisy, clean, n_samples, (height, width))


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (16, 16), (1, 200), (420, 540)])
def test_fixed_shapes(shape):
    noisy, clean = make_dirty_documents(2, shape, random_state=0)
    _check_pair(noisy, clean, 2, shape)


def test_default_shape():
    noisy, clean = make_dirty_documents(1, random_state=0)
    _check_pair(noisy, clean, 1, (258, 540))


def test_reproducible():
    a = make_dirty_documents(3, (64, 96), random_state=7)
    b = make_dirty_documents(3, (64, 96), random_state=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_random_state_objects():
    a = make_dirty_documents(2, (32, 48), random_state=np.random.RandomState(3))
    b = make_dirty_documents(2, (32, 48), random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    c = make_dirty_documents(2, (32, 48), random_state=np.random.default_rng(3))
    d = make_dirty_documents(2, (32, 48), random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(c[0], d[0])


def test_page_does_not_depend_on_n_samples():
    few = make_dirty_documents(2, (40, 60), random_state=5)
    many = make_dirty_documents(4, (40, 60), random_state=5)
    np.testing.assert_array_equal(few[0], many[0][:2])
    np.testing.assert_array_equal(few[1], many[1][:2])


def test_different_seeds_differ():
    a, _ = make_dirty_documents(2, (64, 96), random_state=1)
    b, _ = make_dirty_documents(2, (64, 96), random_state=2)
    assert not np.array_equal(a, b)
    # pages within one call differ too
    assert not np.array_equal(a[0], a[1])


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_each_degradation(name):
    noisy, clean = make_dirty_documents(3, (96, 160), random_state=0, degradations=name)
    _check_pair(noisy, clean, 3, (96, 160))
    assert not np.allclose(noisy, clean)
    # a list with one name is the same as the name
    again, _ = make_dirty_documents(3, (96, 160), random_state=0, degradations=[name])
    np.testing.assert_array_equal(noisy, again)


def test_degradations_only_change_noisy():
    _, clean_all = make_dirty_documents(2, (64, 96), random_state=4)
    _, clean_blur = make_dirty_documents(2, (64, 96), random_state=4, degradations="blur")
    np.testing.assert_array_equal(clean_all, clean_blur)


def test_every_scan_is_blurred_under_all(monkeypatch):
    # every scanner softens the print a little; the shipped model learned from it
    blurred = []
    blur = _degrade.SCANNER_STAGE["blur"]

    def counted(rng, image, **kwargs):
        blurred.append(1)
        return blur(rng, image, **kwargs)

    monkeypatch.setitem(_degrade.SCANNER_STAGE, "blur", counted)
    make_dirty_documents(12, (32, 48), random_state=0)
    assert len(blurred) == 12
    make_dirty_documents(3, (32, 48), random_state=0, degradations="stains")
    assert len(blurred) == 12


def test_scan_profile_changes_only_the_scan():
    # the same text under each profile; black clean ink does not depend on the scan
    cleans = [
        make_dirty_documents(3, (64, 96), random_state=5, clean_ink="black", scan=scan)[1]
        for scan in ("varied", "sharp", "sharp-faded", "sharpened", "inverse", "crumpled", "mixed")
    ]
    for other in cleans[1:]:
        np.testing.assert_array_equal(cleans[0], other)


def test_sharp_scans_have_darker_sharper_ink():
    # what the sharp profile is for: text as dark and crisp as measured real scans
    def ink_and_step(scan):
        noisy, clean = make_dirty_documents(
            8, (120, 300), random_state=6, clean_ink="black", scan=scan
        )
        inks = [np.median(n[c < 0.2]) for n, c in zip(noisy, clean)]
        steps = [np.abs(np.diff(n, axis=1)).max() for n in noisy]
        return np.median(inks), np.median(steps)

    (ink_sharp, step_sharp), (ink_varied, step_varied) = map(ink_and_step, ("sharp", "varied"))
    assert ink_sharp < ink_varied - 0.05
    assert step_sharp > step_varied


def test_sharp_faded_scans_sometimes_fade_the_ink():
    # some "sharp-faded" pages have faint print (low contrast to the paper around
    # it), which "sharp" never has; the rest are the same pages

    def contrasts(scan):
        noisy, clean = make_dirty_documents(
            30, (96, 200), random_state=9, clean_ink="black", scan=scan
        )
        return np.array(
            [
                np.median((ndi.maximum_filter(n, 9) - n)[c < 0.2])
                for n, c in zip(noisy, clean)
                if np.sum(c < 0.2) >= 20  # pages with some text (the same for both)
            ]
        )

    sharp, faded = contrasts("sharp"), contrasts("sharp-faded")
    assert sharp.min() > 0.35
    assert 1 <= np.sum(faded < 0.35) <= 10
    assert np.sum(np.isclose(sharp, faded)) >= 15


def test_sharpened_scans_overshoot_at_edges():
    # the unsharp mask after the blur leaves the real scans' side lobes: an ink
    # edge gets a rim lighter than its paper and a core darker than its ink
    edge = np.ones((16, 16), np.float32)
    edge[:, :8] = 0.2
    rng = np.random.default_rng(0)
    soft = _degrade._blur(rng, edge, sigma=(0.55, 0.55))
    sharp = _degrade._blur(rng, edge, sigma=(0.55, 0.55), sharpen=(1.5, 1.5))
    assert soft.max() <= 1 + 1e-6 and soft.min() >= 0.2 - 1e-6
    assert sharp[:, 8:].max() > 1.01 and sharp[:, :8].min() < 0.19
    np.testing.assert_allclose(sharp[:, :4], 0.2, atol=1e-3)  # flat areas stay


def test_profiles_without_sharpening_draw_as_before():
    # no random number is drawn for a sharpening a profile does not ask for, so the
    # pages of "varied", "sharp" and "sharp-faded" (and the shipped weights'
    # training recipes) are what they were before "sharpened" existed
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    _degrade._blur(a, np.ones((8, 8), np.float32), sigma=(0.4, 0.7))
    b.uniform(0.4, 0.7)
    assert a.random() == b.random()
    assert all(_degrade.SCANS[s].sharpen == (0.0, 0.0) for s in ("varied", "sharp", "sharp-faded"))


def test_sharpened_scans_are_crisper_than_sharp_ones():
    def step(scan):
        noisy, _ = make_dirty_documents(8, (120, 300), random_state=6, clean_ink="black", scan=scan)
        return np.median([np.abs(np.diff(n, axis=1)).max() for n in noisy])

    assert step("sharpened") > step("sharp-faded")


def _ink_paper_slope(noisy, clean):
    """How the noisy ink grey moves with the paper around it (least-squares slope)."""

    paper = ndi.binary_erosion(clean > 0.97)
    weight = ndi.gaussian_filter(paper.astype(float), 3)
    around = ndi.gaussian_filter(noisy * paper, 3) / np.maximum(weight, 1e-6)
    ink = (weight > 0.2) & (clean < 0.1)
    x, y = around[ink], noisy[ink]
    return np.cov(x, y)[0, 1] / x.var()


def test_inverse_scans_lighten_ink_where_the_paper_darkens():
    # what "inverse" is for: on half of the real scans the ink grey goes against the
    # paper's (slopes -0.4 to -0.9); printed ink darkens with its paper (slope > 0)
    def slopes(scan):
        noisy, clean = make_dirty_documents(
            12,
            (200, 300),
            random_state=3,
            clean_ink="black",
            scan=scan,
            degradations=("paper", "stains", "wrinkles", "blur"),
        )
        return np.array([_ink_paper_slope(n, c) for n, c in zip(noisy, clean)])

    inverse, printed = slopes("inverse"), slopes("sharpened")
    assert np.median(inverse) < -0.3 and (inverse < 0).mean() >= 0.8
    assert np.median(printed) > 0 and (printed > 0).mean() >= 0.8


def test_inverse_ink_is_the_page_ink_on_median_paper():
    # on paper of the page's median grey the ink is the drawn grey; darker paper
    # lightens it by `inverse` per unit, lighter paper darkens it, within [0, 1]
    page = _degrade.Page(np.ones((4, 4), np.float32), ink=0.15)
    page.paper[:] = 0.8
    page.paper[0] = 0.6
    page.paper[3] = 1.0
    page.inverse = 0.75
    out = page.compose()
    np.testing.assert_allclose(out[1:3], 0.15, atol=1e-6)
    np.testing.assert_allclose(out[0], 0.15 + 0.75 * 0.2, atol=1e-6)
    np.testing.assert_allclose(out[3], 0.0, atol=1e-6)
    page.inverse = 0.0  # printed ink: paper times ink
    np.testing.assert_allclose(page.compose()[0], 0.6 * 0.15, atol=1e-6)


def test_profiles_without_inverse_ink_draw_as_before():
    # no random number is drawn for inverse ink a profile does not ask for, so the
    # other profiles' pages (and the shipped weights' recipes) did not change
    printed = [s for s in _degrade.SCANS if s not in ("inverse", "crumpled")]
    assert all(_degrade.SCANS[s].inverse == (0.0, 0.0) for s in printed)
    # "inverse" keeps the text and the clean pages of "sharpened"
    a = make_dirty_documents(2, (48, 64), random_state=11, scan="sharpened", clean_ink="black")
    b = make_dirty_documents(2, (48, 64), random_state=11, scan="inverse", clean_ink="black")
    np.testing.assert_array_equal(a[1], b[1])


def _crease_extents(crumpled: bool, seed: int) -> list[int]:
    # the crease lines "wrinkles" draws: connected dark thin marks of its light field
    page = _degrade.Page(np.zeros((200, 300), np.float32), ink=0.1)
    page.crumpled = crumpled
    _degrade._wrinkles(np.random.default_rng(seed), page)
    labels, _ = ndi.label(page.light - ndi.gaussian_filter(page.light, 4) < -0.03)
    return [max(s.stop - s.start for s in box) for box in ndi.find_objects(labels)]


def test_crumpled_paper_has_many_short_creases():
    # what "crumpled" is for: the real crumpled scans show many short soft creases,
    # not the few long hair-thin ones of the default wrinkles
    for seed in range(6):
        crumpled = _crease_extents(True, seed)
        assert len(crumpled) >= 50
        assert max(crumpled) <= 100
    sparse = [max(_crease_extents(False, seed), default=0) for seed in range(6)]
    assert sum(longest > 100 for longest in sparse) >= 4


def test_crumpled_scans_are_crumpled_on_every_random_page(monkeypatch):
    seen = []
    wrinkles = _degrade.PAPER_STAGE["wrinkles"]

    def recorded(rng, page):
        seen.append(page.crumpled)
        return wrinkles(rng, page)

    monkeypatch.setitem(_degrade.PAPER_STAGE, "wrinkles", recorded)
    make_dirty_documents(8, (32, 48), random_state=0, scan="crumpled")
    assert seen == [True] * 8
    # an explicit list is applied as given, crumpled where it has "wrinkles"
    make_dirty_documents(2, (32, 48), random_state=0, scan="crumpled", degradations="stains")
    assert len(seen) == 8
    noisy, clean = make_dirty_documents(
        2, (32, 48), random_state=0, scan="crumpled", degradations=[]
    )
    np.testing.assert_allclose(noisy, clean, atol=1 / 255)
    make_dirty_documents(8, (32, 48), random_state=0, scan="inverse")
    assert True not in seen[8:]


def test_default_scan_is_varied():
    np.testing.assert_array_equal(
        make_dirty_documents(2, (48, 64), random_state=7)[0],
        make_dirty_documents(2, (48, 64), random_state=7, scan="varied")[0],
    )


def test_no_degradation_gives_clean():
    noisy, clean = make_dirty_documents(2, (64, 96), random_state=0, degradations=[])
    np.testing.assert_allclose(noisy, clean, atol=1 / 255)


def test_rmse_band_default_shape():
    noisy, clean = make_dirty_documents(6, random_state=0)
    rmse = np.sqrt(np.mean((noisy - clean) ** 2))
    assert 0.05 <= rmse <= 0.3


def test_text_present_and_clean_is_white():
    _, clean = make_dirty_documents(6, random_state=1)
    dark = (clean < 0.5).mean(axis=(1, 2))
    assert (dark > 0.01).all() and (dark < 0.4).all()
    # mostly pure white paper, and truly dark ink
    assert ((clean == 1.0).mean(axis=(1, 2)) > 0.5).all()
    assert (clean.min(axis=(1, 2)) < 0.5).all()


def test_return_text():
    noisy, _, text = make_dirty_documents(3, (120, 300), random_state=2, return_text=True)
    assert isinstance(text, list) and len(text) == 3
    assert all(isinstance(t, str) for t in text)
    assert sum(len(t.split()) for t in text) > 5
    np.testing.assert_array_equal(noisy, make_dirty_documents(3, (120, 300), random_state=2)[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1, got 0"),
        ({"n_samples": 2.5}, "n_samples must be an integer >= 1"),
        ({"n_samples": True}, "n_samples must be an integer >= 1"),
        ({"shape": (0, 10)}, r"shape must be a pair of integers .* got \(0, 10\)"),
        ({"shape": (10,)}, "shape must be a pair of integers"),
        ({"shape": (10, 10, 1)}, "shape must be a pair of integers"),
        ({"shape": (10.5, 10)}, "shape must be a pair of integers"),
        ({"shape": "ab"}, "shape must be a pair of integers"),
        (
            {"degradations": "mud"},
            r"Unknown degradation\(s\) \['mud'\]; expected 'all'",
        ),
        ({"degradations": ["blur", "ink"]}, r"Unknown degradation\(s\) \['ink'\]"),
        ({"degradations": 3}, "degradations must be 'all', a degradation name"),
        ({"return_text": "yes"}, "return_text must be True or False"),
        (
            {"scan": "blurry"},
            "scan must be one of 'varied', 'sharp', 'sharp-faded', 'sharpened', 'inverse', "
            "'crumpled', 'mixed', "
            "got 'blurry'",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    params = {"n_samples": 1, "shape": (8, 8), **kwargs}
    with pytest.raises(ValueError, match=match):
        make_dirty_documents(**params)
