"""Synthetic dirty-document pages: clean text renderings and their degraded scans.

:func:`make_dirty_documents` is the embedded data set of docdenoise. It draws a
clean page (dark anti-aliased text on white paper, rendered with Pillow) and
degrades a copy of it the way paper, handling and scanning do: coffee stains and
rings, folds, crumpled paper, shadows and uneven light, paper tone, textures and
background patterns, bleed-through of the reverse side, faded ink, dust, sensor
noise, blur and JPEG artefacts. The clean page is the training target.

How it is built
---------------
The page is rendered once as an ink *coverage* map ``a`` in ``[0, 1]``. The clean
target is ``1 - a * (1 - ink)`` for a per-page ink grey ``ink`` (or ``1 - a``, black
ink, with ``clean_ink="black"``). The noisy page
follows a simple physical model: a paper reflectance field (tone, texture,
bleed-through, stains) times ink transmittance times an illumination field
(creases, wrinkles, shadows), then the scanner (blur, dust, noise, JPEG) and an
8-bit quantisation. Every random draw comes from one
:class:`numpy.random.Generator` per page, seeded from ``random_state``, so page
``i`` depends only on ``random_state`` and ``i``.

Fonts are Pillow's bundled scalable font plus, when matplotlib is installed
(an optional dependency), the DejaVu, STIX and Computer Modern TrueType fonts it
ships. Nothing is downloaded.

Why not augraphy
----------------
`augraphy <https://pypi.org/project/augraphy/>`_ offers many document
degradations, but it depends on ``opencv-python``, ``numba`` and ``requests``,
several of its effects take tenths of seconds per page, and its last release
(8.2.6) is from 2023. The few effects needed here are short numpy/Pillow code,
which keeps the library light, fast and fully reproducible, so augraphy is not
used, not even as an option.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils import check_random_state

from ._degrade import DEGRADATIONS, MAJOR, PAPER_STAGE, SCANNER_STAGE, SCANS, Page, ScanProfile
from ._render import render_text_page

__all__ = ["DEGRADATIONS", "SCAN_NAMES", "make_dirty_documents"]

#: Values of ``make_dirty_documents(scan=...)``: the profiles of :data:`SCANS`
#: and ``"mixed"``, which draws one of them per page.
SCAN_NAMES: tuple[str, ...] = (*SCANS, "mixed")


def _pick_degradations(rng: np.random.Generator, minor: dict[str, float]) -> set[str]:
    k = int(rng.choice([1, 1, 1, 2, 2, 3]))
    chosen = set(rng.choice(MAJOR, size=k, replace=False).tolist())
    chosen |= {name for name, p in minor.items() if rng.random() < p}
    return chosen


def _print_style(rng: np.random.Generator, coverage: np.ndarray) -> np.ndarray:
    """How the printed page itself renders its text, shared by the clean and noisy page.

    Type is drawn with one anti-aliasing; printers and the documents people scan
    vary: strokes a little softer (a slight blur) and heavier or lighter (a gamma
    on the ink coverage). Drawing these for the clean page too, and not only for
    the scan, teaches a network to keep the edges of the text it is given instead
    of redrawing them in the one style it has seen.
    """
    if rng.random() < 0.5:
        coverage = ndi.gaussian_filter(coverage, rng.uniform(0.25, 0.7))
    gamma = np.float32(np.exp(rng.uniform(np.log(0.7), np.log(1.4))))
    return np.clip(coverage, 0.0, 1.0) ** gamma


def _make_page(
    rng: np.random.Generator,
    shape: tuple[int, int],
    degradations: Sequence[str] | set[str] | None,
    black: bool = False,
    scan: str = "varied",
) -> tuple[np.ndarray, np.ndarray, str]:
    coverage, canvas = render_text_page(rng, shape)
    coverage = _print_style(rng, coverage).astype(np.float32)
    noisy, ink = degrade_coverage(rng, coverage, scan_profile(rng, scan), degradations)
    clean = 1.0 - coverage * np.float32(1.0 if black else 1.0 - ink)
    text = canvas.visible_text(canvas.angle)
    return noisy, clean.astype(np.float32), text


def scan_profile(rng: np.random.Generator, scan: str) -> ScanProfile:
    """The :class:`ScanProfile` named ``scan``; for ``"mixed"``, sharp or varied at random."""
    if scan == "mixed":
        scan = "sharp" if rng.random() < 0.5 else "varied"
    return SCANS[scan]


def degrade_coverage(
    rng: np.random.Generator,
    coverage: np.ndarray,
    profile: ScanProfile,
    degradations: Sequence[str] | set[str] | None = None,
) -> tuple[np.ndarray, float]:
    """Print ink ``coverage`` (0 paper, 1 full ink) on paper, degrade it and scan it.

    Returns the noisy page (8-bit levels in ``[0, 1]``) and the ink grey drawn for
    it. ``degradations=None`` draws them at random as under ``"all"``. Used by
    :func:`make_dirty_documents` and by ``benchmarks/degradation_gap.py``, which
    degrades real clean pages with it.
    """
    ink = profile.draw_ink(rng)
    names = _pick_degradations(rng, profile.minor) if degradations is None else degradations
    page = Page(coverage, ink)
    if profile.inverse[1] > 0:
        page.inverse = float(rng.uniform(*profile.inverse))
    if profile.crumpled:  # crumpled paper on every page drawn at random
        page.crumpled = True
        names = {*names, "wrinkles"} if degradations is None else names
    for name in DEGRADATIONS:
        if name in names and name in PAPER_STAGE:
            PAPER_STAGE[name](rng, page)
    image = page.compose()
    for name in DEGRADATIONS:
        if name in names and name in SCANNER_STAGE:
            image = SCANNER_STAGE[name](rng, image, **profile.scanner_kwargs(name))
    noisy = np.round(np.clip(image, 0, 1) * 255) / 255
    return noisy.astype(np.float32), ink


# ---------------------------------------------------------------------------------------
# Public function


def _check_degradations(degradations: object) -> tuple[str, ...] | None:
    if isinstance(degradations, str):
        if degradations == "all":
            return None
        degradations = [degradations]
    if not isinstance(degradations, Sequence):
        raise ValueError(
            "degradations must be 'all', a degradation name or a sequence of names, "
            f"got {type(degradations).__name__}."
        )
    names = tuple(degradations)
    unknown = [n for n in names if not isinstance(n, str) or n not in DEGRADATIONS]
    if unknown:
        raise ValueError(
            f"Unknown degradation(s) {unknown!r}; expected 'all' or names from "
            f"{list(DEGRADATIONS)}."
        )
    return names


_RandomState = int | np.random.RandomState | np.random.Generator | None


@overload
def make_dirty_documents(
    n_samples: int = ...,
    shape: tuple[int, int] = ...,
    *,
    random_state: _RandomState = ...,
    degradations: str | Sequence[str] = ...,
    clean_ink: str = ...,
    return_text: Literal[False] = ...,
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def make_dirty_documents(
    n_samples: int = ...,
    shape: tuple[int, int] = ...,
    *,
    random_state: _RandomState = ...,
    degradations: str | Sequence[str] = ...,
    clean_ink: str = ...,
    return_text: Literal[True],
) -> tuple[np.ndarray, np.ndarray, list[str]]: ...


@overload
def make_dirty_documents(
    n_samples: int = ...,
    shape: tuple[int, int] = ...,
    *,
    random_state: _RandomState = ...,
    degradations: str | Sequence[str] = ...,
    clean_ink: str = ...,
    return_text: bool = ...,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[str]]: ...


def make_dirty_documents(
    n_samples: int = 8,
    shape: tuple[int, int] = (258, 540),
    *,
    random_state: _RandomState = None,
    degradations: str | Sequence[str] = "all",
    clean_ink: str = "page",
    scan: str = "varied",
    return_text: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[str]]:
    """Generate synthetic pairs of dirty scanned pages and their clean originals.

    Each page holds random word-like text (words, pseudo-words, numbers and
    punctuation) in a random font, size and layout (paragraphs, ragged or justified,
    headings, two columns, tables with rules, lists, crops of larger pages, slight
    rotation). The noisy page is the same page degraded by stains, folds, shadows,
    textures and scanner noise; the clean page is left undegraded.

    Parameters
    ----------
    n_samples : int, default=8
        Number of page pairs, at least 1.
    shape : tuple of (int, int), default=(258, 540)
        Height and width of each page in pixels, each at least 1. Text sizes are in
        absolute pixels (body text 11-44 px, like a 540 px wide scan of a printed
        page), so a larger shape shows more text, not larger text.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed or generator for reproducible output. Page ``i`` depends only on the
        seed and ``i``, not on ``n_samples``.
    degradations : "all", str or sequence of str, default="all"
        Which degradations to apply to the noisy pages. ``"all"`` draws a random
        mix per page (one to three dominant kinds plus paper tone, noise and others
        at random). A name or a list of names applies exactly those to every page,
        with random strengths; an empty list gives ``noisy == clean``. Names, in
        the order applied: ``"paper"`` (grey paper tone, grain, mottling),
        ``"texture"`` (patterned or fibrous paper, ruled lines, watermarks),
        ``"bleed_through"`` (mirrored faint text of the reverse side),
        ``"stains"`` (coffee rings, blots, splashes), ``"fade"`` (faded, uneven
        ink), ``"creases"`` (fold lines with highlights and shading),
        ``"wrinkles"`` (crumpled paper), ``"shadows"`` (uneven illumination,
        vignetting, edge and spine shadows), ``"blur"``, ``"speckle"`` (dust,
        salt-and-pepper), ``"noise"`` (Gaussian and shot noise) and ``"jpeg"``
        (compression artefacts).
    clean_ink : {"page", "black"}, default="page"
        Ink of the clean pages: ``"page"`` draws each page's own ink grey (0 to
        0.35, mostly under 0.22), as printed; ``"black"`` makes the clean text
        black whatever ink the noisy page shows, the target for a denoiser whose
        output people and OCR read (the shipped model is trained on it). Either
        way, partly covered pixels (anti-aliased edges, thin strokes) keep their
        share of the ink.
    scan : {"varied", "sharp", "sharp-faded", "sharpened", "inverse", "crumpled", \
            "mixed"}, default="varied"
        How the text is printed and scanned. ``"varied"`` draws from soft to sharp
        scans, faded ink and JPEG artefacts (ink grey 0 to 0.35, blur 0.3 to 1.1
        pixel); ``"sharp"`` draws what measured office scans look like: dark ink
        (0.03 to 0.25), a blur of 0.4 to 0.7 pixel, no faded ink, no JPEG and less
        sensor noise; ``"sharp-faded"`` is ``"sharp"`` with faded print on one
        page in five; ``"sharpened"`` is ``"sharp-faded"`` with a blur of 0.5 to
        0.62 pixel followed by an unsharp mask (amount 1 to 2, radius 0.5 pixel),
        as scanners sharpen: the point spread of the real scans measured;
        ``"inverse"`` is ``"sharpened"`` whose ink grey goes against the paper's
        (ink 0.08 to 0.28 on paper of the page's median grey, lighter by 0.6 to 1
        for each unit the paper is darker), as on about half of the real Kaggle
        scans, where text crossing a fold or stain gets lighter, not darker;
        ``"crumpled"`` is ``"inverse"`` on crumpled paper: ``"wrinkles"`` on every
        page drawn under ``degradations="all"``, and wherever ``"wrinkles"`` is
        applied, as a dense network of short, soft creases (5 to 30 pixels each
        side of their centre, 6 to 20 per 10,000 pixels) on smaller facets, as on
        the real crumpled scans, where a stroke crossing a dark fold all but
        vanishes; ``"mixed"`` picks ``"sharp"`` or ``"varied"`` per page. Paper,
        stains, folds and shadows are otherwise drawn the same way for all.
    return_text : bool, default=False
        If True, also return the text of each page.

    Returns
    -------
    noisy : ndarray of shape (n_samples, height, width), dtype float32
        Degraded pages, values in ``[0, 1]`` (0 is black), quantised to 8 bits.
    clean : ndarray of shape (n_samples, height, width), dtype float32
        The undegraded pages: white (1.0) paper and dark anti-aliased text.
    text : list of str
        Only if ``return_text`` is True. For each page, the words lying entirely
        inside it, one line of the page per line of text, in reading order
        (columns left to right). Words cut by the page border are left out.

    See Also
    --------
    DEGRADATIONS : The valid degradation names.

    Examples
    --------
    >>> from docdenoise.datasets import make_dirty_documents
    >>> noisy, clean = make_dirty_documents(n_samples=2, shape=(64, 128), random_state=0)
    >>> noisy.shape, noisy.dtype
    ((2, 64, 128), dtype('float32'))
    >>> bool(noisy.min() >= 0.0 and clean.max() <= 1.0)
    True
    >>> noisy, clean, text = make_dirty_documents(
    ...     1, (96, 300), random_state=0, degradations=["stains", "noise"], return_text=True
    ... )
    >>> isinstance(text[0], str)
    True
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    if (
        isinstance(shape, (str, bytes))
        or not isinstance(shape, Sequence)
        or len(shape) != 2
        or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in shape)
    ):
        raise ValueError(
            f"shape must be a pair of integers (height, width), each >= 1, got {shape!r}."
        )
    if clean_ink not in ("page", "black"):
        raise ValueError(f"clean_ink must be 'page' or 'black', got {clean_ink!r}.")
    if scan not in SCAN_NAMES:
        raise ValueError(f"scan must be one of {', '.join(map(repr, SCAN_NAMES))}, got {scan!r}.")
    if not isinstance(return_text, (bool, np.bool_)):
        raise ValueError(f"return_text must be True or False, got {return_text!r}.")
    names = _check_degradations(degradations)
    shape = (int(shape[0]), int(shape[1]))

    if isinstance(random_state, np.random.Generator):
        seeds = random_state.integers(0, 2**31 - 1, size=int(n_samples))
    else:
        seeds = check_random_state(random_state).randint(0, 2**31 - 1, size=int(n_samples))

    noisy = np.empty((int(n_samples), *shape), dtype=np.float32)
    clean = np.empty_like(noisy)
    texts = []
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        noisy[i], clean[i], text = _make_page(rng, shape, names, clean_ink == "black", scan)
        texts.append(text)
    if return_text:
        return noisy, clean, texts
    return noisy, clean
