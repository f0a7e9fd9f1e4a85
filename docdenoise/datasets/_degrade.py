"""Degradations for the synthetic data: what paper, handling and scanning do to a page.

Paper-stage functions change a :class:`Page` in place (reflectance, ink, light);
scanner-stage functions take and return the composed image. Each draws all its
randomness from the generator it is given.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage as ndi

from ._render import font_specs, load_font, render_text_page
from ._words import WORDS

__all__ = [
    "DEGRADATIONS",
    "MAJOR",
    "MINOR",
    "PAPER_STAGE",
    "SCANNER_STAGE",
    "SCANS",
    "Page",
    "ScanProfile",
]

#: Names accepted by the ``degradations`` argument of :func:`make_dirty_documents`,
#: in the order they are applied.
DEGRADATIONS: tuple[str, ...] = (
    "paper",
    "texture",
    "bleed_through",
    "stains",
    "fade",
    "creases",
    "wrinkles",
    "shadows",
    "blur",
    "speckle",
    "noise",
    "jpeg",
)

# Degradations that dominate the look of a page; "all" picks one to three of them.
MAJOR = ("texture", "bleed_through", "stains", "creases", "wrinkles", "shadows")
# Probability of each minor degradation on a page under "all". Every scanner softens
# the print a little (its optics and sensor), so "blur" is always drawn: real scans are
# about a Gaussian of 0.3 to 0.5 pixel softer than their clean pages, and a network
# trained on 30 % blurred pages returned strokes too soft on them (see the model card).
MINOR = {
    "paper": 0.93,
    "fade": 0.2,
    "blur": 1.0,
    "speckle": 0.35,
    "noise": 0.8,
    "jpeg": 0.3,
}


@dataclass(frozen=True)
class ScanProfile:
    """How printed and scanned the text of a page is: ink grey, sharpness, artefacts.

    ``"varied"`` spans soft, faded, compressed scans (the blur, fade and JPEG of
    :data:`MINOR`); ``"sharp"`` is what the real scans we measured look like
    (``benchmarks/scan_psf.py``): dark ink (0.03 to 0.15, rarely to 0.25),
    a Gaussian blur of 0.4 to 0.7 pixel, no faded ink, no JPEG, sensor noise of
    at most 0.03; ``"sharp-faded"`` is ``"sharp"`` with faded print on one page in
    five (as often as ``"varied"``); ``"sharpened"`` is ``"sharp-faded"`` whose
    blur (0.5 to 0.62 pixel) is followed by an unsharp mask, which gives the real
    scans' point spread with its negative side lobes; ``"inverse"`` is
    ``"sharpened"`` with the ink laid over the paper the other way round: where the
    paper is darker (a fold, a stain, grain), the ink is lighter, by up to as much
    as the paper darkens. About half of the real Kaggle scans are made like that
    (their ink grey falls by 0.4 to 0.9 for each unit the paper around it brightens;
    ink printed on paper and lit with it can only darken with it); ``"crumpled"`` is
    ``"inverse"`` on crumpled paper, every page: a dense network of short, soft
    creases, as on the real crumpled scans, where the ink crossing a dark fold
    all but vanishes and only the shape of the letter tells where it went. Paper,
    stains, folds, shadows and specks are otherwise drawn the same way for all.
    """

    #: Ink grey of the noisy page: a usual range, a darker-grey range and how often
    #: the second is drawn.
    ink: tuple[tuple[float, float], tuple[float, float], float]
    #: Range of the scanner's Gaussian blur, in pixels (drawn on every page).
    blur: tuple[float, float]
    #: Probability of each minor degradation under ``"all"`` (see :data:`MINOR`).
    minor: dict[str, float]
    #: Largest standard deviation of the sensor noise.
    max_noise: float
    #: Range of the amount of the scanner's unsharp mask (radius 0.5 pixel) applied
    #: after its blur; ``(0, 0)``: none (and no random number drawn for it).
    sharpen: tuple[float, float] = (0.0, 0.0)
    #: Range of how much lighter the ink gets for each unit the paper under it is
    #: darker than the page's median paper (see :class:`Page`); ``(0, 0)``: ink is
    #: printed on the paper and darkens with it (and no random number is drawn).
    inverse: tuple[float, float] = (0.0, 0.0)
    #: Crumpled paper on every page: "wrinkles" always drawn, as a dense network of
    #: short, soft creases (see :func:`_wrinkles`); ``False``: "wrinkles" only when
    #: drawn, with the sparse long creases (and no random number drawn for it).
    crumpled: bool = False

    def draw_ink(self, rng: np.random.Generator) -> float:
        low, high, p_high = self.ink
        return float(rng.uniform(*low) if rng.random() < 1 - p_high else rng.uniform(*high))

    def scanner_kwargs(self, name: str) -> dict[str, object]:
        """Keyword arguments of the scanner-stage function ``name`` for this profile."""
        if name == "blur":
            return {"sigma": self.blur, "sharpen": self.sharpen}
        if name == "noise":
            return {"max_sigma": self.max_noise}
        return {}


#: Scan profiles by name (see :class:`ScanProfile`).
SCANS = {
    "varied": ScanProfile(((0.0, 0.22), (0.22, 0.35), 0.15), (0.3, 1.1), MINOR, 0.05),
    "sharp": ScanProfile(
        ((0.03, 0.15), (0.15, 0.25), 0.15),
        (0.4, 0.7),
        {**MINOR, "fade": 0.0, "jpeg": 0.0},
        0.03,
    ),
    # "sharp" with faded print on one page in five: a network trained on sharp scans
    # alone learns that faint text is dirt and erases it (see the model card).
    "sharp-faded": ScanProfile(
        ((0.03, 0.15), (0.15, 0.25), 0.15),
        (0.4, 0.7),
        {**MINOR, "fade": 0.2, "jpeg": 0.0},
        0.03,
    ),
}
# "sharp-faded" whose blur is followed by an unsharp mask, as scanners do: the real
# scans' point spread (centre 0.77, nearest 0.077, -0.014 two pixels out) is a
# Gaussian blur of about 0.55 pixel sharpened by an amount of about 1.5.
SCANS["sharpened"] = replace(SCANS["sharp-faded"], blur=(0.5, 0.62), sharpen=(1.0, 2.0))
# "sharpened" with inverse ink: on the real scans made so, the ink is a grey of 0.13 to
# 0.2 on paper of about 0.87, and 1 minus the paper's grey within a few hundredths.
SCANS["inverse"] = replace(
    SCANS["sharpened"], ink=((0.08, 0.2), (0.2, 0.28), 0.15), inverse=(0.6, 1.0)
)
# "inverse" on crumpled paper. The real crumpled scans show many short creases (10 to
# 60 pixels), soft (a fold's shadow 2 to 4 pixels wide) and close together; the
# sparse, long, hair-thin creases of "wrinkles" look nothing like them, and a network
# trained on those erased the strokes that cross a real fold ("fi!ter").
SCANS["crumpled"] = replace(SCANS["inverse"], crumpled=True)

# ---------------------------------------------------------------------------------------
# Random fields


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Smooth noise with features about ``cell`` pixels wide, roughly zero mean, unit std."""
    h, w = shape
    cell = max(float(cell), 1.0)
    gh, gw = int(np.ceil(h / cell)) + 4, int(np.ceil(w / cell)) + 4
    grid = Image.fromarray(rng.standard_normal((gh, gw), dtype=np.float32))
    # Upsample only the crop we need: ``box`` is in grid cells, away from the border.
    oy, ox = rng.uniform(1, gh - 2 - h / cell), rng.uniform(1, gw - 2 - w / cell)
    box = (ox, oy, ox + w / cell, oy + h / cell)
    out = np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC, box=box), dtype=np.float32)
    return out * np.float32(1.6)


def _fractal_noise(rng, shape, cell, octaves=4, persistence=0.5):
    out = np.zeros(shape, np.float32)
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        out += amp * _smooth_noise(rng, shape, cell)
        total += amp * amp
        amp *= persistence
        cell = max(cell / 2, 1.0)
    return out / np.float32(np.sqrt(total))


def _coords(shape):
    h, w = shape
    return np.mgrid[0:h, 0:w].astype(np.float32)


# ---------------------------------------------------------------------------------------
# Degradations. Each takes the generator and the page state and changes it in place.


class Page:
    def __init__(self, coverage: np.ndarray, ink: float) -> None:
        self.shape = coverage.shape
        self.coverage = coverage  # clean ink coverage
        self.ink_amount = np.ones(self.shape, np.float32)  # how much ink reached the paper
        self.ink = float(np.clip(ink, 0.0, 0.6))  # grey of full ink in the noisy page
        self.paper = np.ones(self.shape, np.float32)  # paper reflectance
        self.light = np.ones(self.shape, np.float32)  # illumination / shading
        self.inverse = 0.0  # > 0: ink lighter by this much per unit of darker paper
        self.crumpled = False  # True: "wrinkles" draws dense, short, soft creases
        self.image: np.ndarray | None = None  # set when the scanner stage starts

    def compose(self) -> np.ndarray:
        a = self.coverage * self.ink_amount
        if not self.inverse:  # printed ink: paper and light darken it too
            return self.paper * (1.0 - a * (1.0 - self.ink)) * self.light
        back = self.paper * self.light
        ref = np.float32(np.median(back))
        ink = np.clip(self.ink + np.float32(self.inverse) * (ref - back), 0.0, 1.0)
        return back * (1.0 - a) + a * ink


def _paper(rng, page):
    page.ink = float(np.clip(page.ink + rng.normal(0, 0.03), 0.0, 0.6))
    tone = rng.uniform(0.76, 0.98)
    drift = rng.uniform(0.0, 0.03) * _smooth_noise(rng, page.shape, rng.uniform(80, 300))
    mottle = rng.uniform(0.0, 0.025) * _fractal_noise(rng, page.shape, rng.uniform(8, 40), 3)
    grain = rng.standard_normal(page.shape).astype(np.float32)
    grain = ndi.gaussian_filter(grain, rng.uniform(0.4, 1.2)) * np.float32(rng.uniform(0.01, 0.04))
    page.paper *= np.float32(tone) * (1 + drift + mottle + grain)


def _texture(rng, page):
    h, w = page.shape
    kind = rng.choice(
        ["pattern", "fibers", "mottle", "ruled", "watermark"],
        p=[0.3, 0.2, 0.25, 0.1, 0.15],
    )
    if kind == "mottle":  # cloudy, blotchy paper
        n = _fractal_noise(rng, page.shape, rng.uniform(10, 80), 4, rng.uniform(0.4, 0.7))
        if rng.random() < 0.5:  # soft clouds
            page.paper *= 1 + np.float32(rng.uniform(0.03, 0.1)) * n
        else:  # dark blotches with soft edges, as on dirty or foxed paper
            level, sharp = rng.uniform(-0.2, 1.0), rng.uniform(2, 8)
            blotch = 1 / (1 + np.exp(-np.clip((n - np.float32(level)) * sharp, -30, 30)))
            page.paper *= 1 - np.float32(rng.uniform(0.08, 0.35)) * blotch
        return
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    if kind == "pattern":  # printed/patterned paper: faint tiled shapes or glyphs
        step = rng.uniform(25, 90)
        size = step * rng.uniform(0.4, 0.9)
        glyphs = rng.random() < 0.5
        font = load_font(font_specs()[int(rng.integers(len(font_specs())))][0], int(size * 1.3))
        rows = int(h / step) + 2
        cols = int(w / step) + 2
        shift = rng.uniform(0, step)
        for r in range(rows):
            for c in range(cols):
                x = c * step + (r % 2) * shift + rng.normal(0, step * 0.1) - step / 2
                y = r * step + rng.normal(0, step * 0.1) - step / 2
                g = int(rng.uniform(120, 255))
                if glyphs:
                    draw.text((x, y), chr(int(rng.integers(65, 91))), font=font, fill=g)
                else:
                    bw, bh = size * rng.uniform(0.5, 1.2), size * rng.uniform(0.3, 1.0)
                    draw.rounded_rectangle([x, y, x + bw, y + bh], radius=size * 0.2, fill=g)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 3.0)))
        strength = rng.uniform(0.06, 0.22)
    elif kind == "fibers":
        n = int(h * w / rng.uniform(150, 600)) + 1
        n = min(n, 3000)
        x = rng.uniform(0, w, n)
        y = rng.uniform(0, h, n)
        ang = rng.uniform(0, np.pi, n)
        ln = rng.uniform(3, 25, n)
        for i in range(n):
            dx, dy = np.cos(ang[i]) * ln[i], np.sin(ang[i]) * ln[i]
            draw.line(
                [(x[i], y[i]), (x[i] + dx, y[i] + dy)],
                fill=int(rng.uniform(60, 255)),
                width=1,
            )
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        strength = rng.uniform(0.05, 0.2) * (1 if rng.random() < 0.7 else -1)
    elif kind == "ruled":
        step = rng.uniform(18, 40)
        y = rng.uniform(0, step)
        while y < h:
            draw.line([(0, y), (w, y)], fill=255, width=1)
            y += step
        if rng.random() < 0.5:
            xm = rng.uniform(0.05, 0.2) * w
            draw.line([(xm, 0), (xm, h)], fill=255, width=int(rng.integers(1, 3)))
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
        strength = rng.uniform(0.08, 0.25)
    else:  # watermark: one large faint word
        font = load_font(
            font_specs()[int(rng.integers(len(font_specs())))][0],
            int(rng.uniform(0.2, 0.6) * max(h, w)) + 1,
        )
        word = WORDS[int(rng.integers(len(WORDS)))].upper()
        draw.text(
            (rng.uniform(-0.2, 0.5) * w, rng.uniform(-0.2, 0.6) * h),
            word,
            font=font,
            fill=255,
        )
        img = img.rotate(rng.uniform(-45, 45), resample=Image.Resampling.BILINEAR)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 4.0)))
        strength = rng.uniform(0.05, 0.18)
    pat = np.asarray(img, dtype=np.float32) / 255.0
    page.paper *= 1 - np.float32(strength) * pat


def _bleed_through(rng, page):
    back, _ = render_text_page(rng, page.shape)
    back = back[:, ::-1]
    if rng.random() < 0.3:
        back = back[::-1]
    back = ndi.gaussian_filter(back, rng.uniform(0.7, 2.5))
    spot: float | np.ndarray = 1.0
    if rng.random() < 0.5:  # uneven: stronger where the paper is thinner or wetter
        spot = np.clip(0.6 + 0.5 * _smooth_noise(rng, page.shape, rng.uniform(60, 200)), 0, 1)
    page.paper *= 1 - np.float32(rng.uniform(0.06, 0.3)) * back * spot


def _stains(rng, page):
    h, w = page.shape
    size = max(h, w)
    n = int(rng.integers(1, 5))
    for _ in range(n):
        radius = rng.uniform(0.05, 0.35) * size + 2
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        width = rng.uniform(2, 0.06 * size + 3)
        pad = radius * 1.6 + 2.5 * width + 10
        y0, y1 = int(max(0, cy - pad)), int(min(h, cy + pad))
        x0, x1 = int(max(0, cx - pad)), int(min(w, cx + pad))
        if y1 <= y0 or x1 <= x0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xx - cx, yy - cy
        rho = np.hypot(dx, dy)
        theta = np.arctan2(dy, dx)
        r = np.ones_like(theta)
        for k in range(1, 6):
            r += rng.normal(0, 0.12 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        r *= np.float32(radius)
        d = rho - r
        kind = rng.choice(["ring", "blot", "drops"], p=[0.55, 0.3, 0.15])
        wth = width * (1 + 0.7 * np.cos(2 * theta + rng.uniform(0, 6.3)) * rng.uniform(0, 1))
        wth = np.maximum(wth, 1.0)
        if kind == "ring":  # a band with crisp, darker edges, broken by gaps
            half = wth / 2
            soft = rng.uniform(0.6, 2.5)
            band = np.clip((half - np.abs(d)) / soft + 0.5, 0, 1)
            rims = np.exp(-(((np.abs(d) - half) / rng.uniform(0.8, 2.5)) ** 2))
            dens = band * rng.uniform(0.5, 0.9) + rims * rng.uniform(0.1, 0.5)
            gaps = np.clip(
                1.5 * np.cos(int(rng.integers(1, 4)) * theta + rng.uniform(0, 6.3))
                + rng.uniform(0.2, 2.5),
                0,
                1,
            )
            dens = dens * gaps
        elif kind == "blot":  # filled, darker at the rim
            inside = 1 / (1 + np.exp(np.clip(d / rng.uniform(0.5, 3), -30, 30)))
            rim = inside * np.exp(-((d / rng.uniform(1, 6)) ** 2))
            dens = inside * rng.uniform(0.15, 0.6) + rim * rng.uniform(0.2, 0.8)
        else:  # small splashes scattered around the centre
            dens = np.zeros_like(rho)
            for _ in range(int(rng.integers(3, 15))):
                px, py = rng.normal(0, radius * 0.7, 2)
                pr = rng.uniform(1.5, 0.03 * size + 2)
                dd = np.hypot(dx - px, dy - py)
                dens = np.maximum(dens, np.clip(pr - dd + 1, 0, 1) * rng.uniform(0.5, 1))
        mottle = 1 + rng.uniform(0.1, 0.3) * _fractal_noise(rng, dens.shape, rng.uniform(6, 25), 2)
        dens = np.clip(dens * mottle, 0, 1)
        page.paper[y0:y1, x0:x1] *= 1 - np.float32(rng.uniform(0.15, 0.6)) * dens


def _fade(rng, page):
    base = rng.uniform(0.35, 0.85)
    var = rng.uniform(0.0, 0.25) * _smooth_noise(rng, page.shape, rng.uniform(20, 150))
    page.ink_amount *= np.clip(base + var, 0.15, 1.0)
    page.ink = float(np.clip(page.ink + rng.uniform(0.0, 0.25), 0, 0.6))


def _creases(rng, page):
    h, w = page.shape
    y, x = _coords(page.shape)
    n = int(rng.integers(1, 7))
    shade = np.zeros(page.shape, np.float32)
    for _ in range(n):
        ang = (
            rng.uniform(0, np.pi)
            if rng.random() < 0.6
            else rng.choice([0, np.pi / 2]) + rng.normal(0, 0.05)
        )
        nx, ny = np.float32(np.cos(ang)), np.float32(np.sin(ang))
        px, py = rng.uniform(0, w), rng.uniform(0, h)
        d = (x - px) * nx + (y - py) * ny
        t = -(x - px) * ny + (y - py) * nx  # position along the crease
        d = d + np.float32(rng.uniform(0, 3)) * _smooth_noise(rng, page.shape, rng.uniform(30, 120))
        wd = rng.uniform(0.8, 3.0)
        sgn = 1 if rng.random() < 0.5 else -1
        line = sgn * (np.exp(-(((d + wd) / wd) ** 2)) - np.exp(-(((d - wd) / wd) ** 2)))
        broad = np.exp(-np.abs(d) / rng.uniform(5, 40)) * np.sign(d) * sgn
        prof = rng.uniform(0.05, 0.2) * line + rng.uniform(0.0, 0.06) * broad
        if rng.random() < 0.5:  # a crease segment that fades out at its ends
            half = rng.uniform(0.1, 0.6) * max(h, w)
            prof = prof * np.clip(
                (half - np.abs(t - rng.uniform(-0.3, 0.3) * max(h, w))) / 20, 0, 1
            )
        shade += prof.astype(np.float32)
    page.light *= 1 + shade


def _crease_lines(rng, shape, n, length=(8, 110), soft=(0.3, 0.8), depth=(0.08, 0.5)):
    """Sharp crease lines of crumpled paper: a thin dark fold with a highlight beside it.

    Returns a multiplicative light field (1 = unchanged). Each crease is a short,
    slightly curved line that fades out at its ends; across it the paper shows a
    dark line (the fold's shadow) and a brighter band on one side (the facet that
    faces the light). Drawn with Pillow, then softened with one blur per field.
    """
    h, w = shape
    dark, bright = Image.new("L", (w, h), 0), Image.new("L", (w, h), 0)
    draw_dark, draw_bright = ImageDraw.Draw(dark), ImageDraw.Draw(bright)
    for _ in range(n):
        half = rng.uniform(*length)
        px, py = rng.uniform(0, w), rng.uniform(0, h)
        ang = rng.uniform(0, np.pi)
        ux, uy = np.cos(ang), np.sin(ang)  # along the crease
        t = np.linspace(-half, half, 9)
        bend = rng.normal(0, 0.004) * t * t
        xs, ys = px + t * ux - bend * uy, py + t * uy + bend * ux
        fade = np.clip((half - np.abs((t[:-1] + t[1:]) / 2)) / rng.uniform(3, 20), 0, 1)
        dark_fill = rng.uniform(*depth) * 255
        glow = rng.uniform(0.0, 0.15) * 255
        width = int(rng.integers(1, 3))
        side = rng.uniform(1.5, 4) * width * (1 if rng.random() < 0.5 else -1)
        ox, oy = -uy * side, ux * side
        for i in range(len(t) - 1):
            seg = [(xs[i], ys[i]), (xs[i + 1], ys[i + 1])]
            draw_dark.line(seg, fill=int(dark_fill * fade[i]), width=width)
            seg = [(xs[i] + ox, ys[i] + oy), (xs[i + 1] + ox, ys[i + 1] + oy)]
            draw_bright.line(seg, fill=int(glow * fade[i]), width=2 * width)
    d = ndi.gaussian_filter(np.asarray(dark, np.float32) / 255, rng.uniform(*soft))
    b = ndi.gaussian_filter(np.asarray(bright, np.float32) / 255, rng.uniform(0.8, 2.0))
    return (1 - d + b).astype(np.float32)


def _wrinkles(rng, page):
    """Crumpled paper: facets between many short creases, lit from one side.

    Across a crease the surface slope, and so its brightness, jumps; the jump fades
    along and away from the crease (computed at half size, each crease in its box).
    On top, many creases show as sharp lines: a thin dark fold with a highlight.
    """
    h, w = page.shape
    sh, sw = max(h // 2, 1), max(w // 2, 1)
    light_dir = rng.uniform(0, 2 * np.pi)
    shade = 0.4 * _smooth_noise(rng, (sh, sw), rng.uniform(10, 40))
    # Crumpled into a ball ("crumpled" profile): smaller facets, more of them.
    facet, per = ((3, 15), 100) if page.crumpled else ((5, 45), 400)
    n = int(np.clip(rng.uniform(0.4, 1.5) * sh * sw / per, 3, 1600))
    for _ in range(n):
        half = rng.uniform(*facet)
        reach = half * rng.uniform(0.4, 1.2)
        px, py = rng.uniform(0, sw), rng.uniform(0, sh)
        r = max(half, 2.5 * reach)
        y0, y1 = int(max(0, py - r)), int(min(sh, py + r + 1))
        x0, x1 = int(max(0, px - r)), int(min(sw, px + r + 1))
        if y1 <= y0 or x1 <= x0:
            continue
        y, x = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        ang = rng.uniform(0, np.pi)
        nx, ny = np.float32(np.cos(ang)), np.float32(np.sin(ang))
        d = (x - px) * nx + (y - py) * ny
        t = (y - py) * nx - (x - px) * ny
        step = np.tanh(d / np.float32(rng.uniform(0.3, 1.2)))
        step *= np.exp(-np.abs(d) / np.float32(reach))
        step *= np.clip((half - np.abs(t)) / np.float32(rng.uniform(2, 10)), 0, 1)
        amp = rng.exponential(1.0) * np.cos(ang - light_dir)
        shade[y0:y1, x0:x1] += np.float32(amp) * step
    shade -= shade.mean()
    shade /= np.float32(shade.std() + 1e-6)
    if (sh, sw) != (h, w):
        shade = np.asarray(Image.fromarray(shade).resize((w, h), Image.Resampling.BILINEAR))
    strength = np.float32(rng.uniform(0.04, 0.15))
    page.light *= np.clip(1 + strength * shade, 0.5, 1.3)
    if page.crumpled:  # always creased: many short, soft fold lines
        density = rng.uniform(6.0, 20.0) * h * w / 1e4
        n_lines = int(np.clip(density, 2, 2400))
        lines = _crease_lines(rng, page.shape, n_lines, (5, 30), (0.6, 1.4), (0.05, 0.3))
        page.light *= lines
    elif rng.random() < 0.8:
        density = rng.uniform(0.8, 5.0) * h * w / 1e4
        page.light *= _crease_lines(rng, page.shape, int(np.clip(density, 2, 600)))


def _shadows(rng, page):
    h, w = page.shape
    y, x = _coords(page.shape)
    light = np.ones(page.shape, np.float32)
    for kind in rng.choice(
        ["gradient", "vignette", "edge", "blob", "gutter"],
        size=int(rng.integers(1, 3)),
        replace=False,
    ):
        if kind == "gradient":
            a = rng.uniform(0, 2 * np.pi)
            t = (x / max(w, 1) - 0.5) * np.cos(a) + (y / max(h, 1) - 0.5) * np.sin(a)
            light *= 1 - np.float32(rng.uniform(0.05, 0.35)) * (t + 0.7) / 1.4
        elif kind == "vignette":
            r2 = (x / max(w, 1) - rng.uniform(0.3, 0.7)) ** 2 + (
                y / max(h, 1) - rng.uniform(0.3, 0.7)
            ) ** 2
            light *= 1 - np.float32(rng.uniform(0.1, 0.5)) * np.clip(r2, 0, 1)
        elif kind == "edge":  # scanner lid or page edge
            side = int(rng.integers(4))
            dist = [x, w - 1 - x, y, h - 1 - y][side]
            dist = dist + np.float32(rng.uniform(0, 5)) * _smooth_noise(rng, page.shape, 80)
            light *= 1 - np.float32(rng.uniform(0.2, 0.7)) * np.exp(
                -np.maximum(dist, 0) / rng.uniform(4, 60)
            )
        elif kind == "gutter":  # book spine: a soft dark band
            c = rng.uniform(0, w)
            light *= 1 - np.float32(rng.uniform(0.2, 0.6)) * np.exp(
                -(((x - c) / rng.uniform(8, 60)) ** 2)
            )
        else:  # soft shadow of a hand or object
            n = _smooth_noise(rng, page.shape, rng.uniform(80, 250))
            m = 1 / (1 + np.exp(-np.clip((n - rng.uniform(0.3, 1.2)) * rng.uniform(2, 8), -30, 30)))
            light *= 1 - np.float32(rng.uniform(0.15, 0.5)) * m
    page.light *= light


def _blur(rng, image, sigma, sharpen=(0.0, 0.0)):
    image = ndi.gaussian_filter(image, rng.uniform(*sigma))
    if sharpen[1] > 0:  # scanners sharpen what their optics soften
        amount = np.float32(rng.uniform(*sharpen))
        image = image + amount * (image - ndi.gaussian_filter(image, 0.5))
    return image


def _speckle(rng, image):
    h, w = image.shape
    # dust and toner specks
    n = int(h * w * rng.uniform(2e-5, 4e-4)) + int(rng.integers(0, 3))
    if n:
        specks = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(specks)
        xs, ys = rng.uniform(0, w, n), rng.uniform(0, h, n)
        rs = rng.exponential(0.9, n) + 0.3
        gs = rng.uniform(80, 255, n)
        for i in range(n):
            draw.ellipse(
                [
                    xs[i] - rs[i],
                    ys[i] - rs[i] * rng.uniform(0.5, 1.5),
                    xs[i] + rs[i],
                    ys[i] + rs[i],
                ],
                fill=int(gs[i]),
            )
        image = image * (1 - 0.85 * np.asarray(specks, dtype=np.float32) / 255)
    # salt and pepper
    p = rng.uniform(0, 0.01)
    u = rng.random(image.shape, dtype=np.float32)
    image = np.where(u < p / 2, rng.uniform(0, 0.3), image)
    image = np.where(u > 1 - p / 2, np.maximum(image, rng.uniform(0.85, 1)), image)
    return image.astype(np.float32)


def _noise(rng, image, max_sigma):
    sigma = rng.uniform(0.005, max_sigma)
    n = rng.standard_normal(image.shape).astype(np.float32)
    if rng.random() < 0.4:
        n = ndi.gaussian_filter(n, rng.uniform(0.5, 1.0))
        n /= np.float32(n.std() + 1e-6)
    if rng.random() < 0.5:  # shot noise: stronger on bright pixels
        n *= np.sqrt(np.clip(image, 0, 1)) * 1.2
    return image + np.float32(sigma) * n


def _jpeg(rng, image):
    u8 = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=int(rng.integers(15, 85)))
    buf.seek(0)
    return np.asarray(Image.open(buf), dtype=np.float32) / 255


PAPER_STAGE = {
    "paper": _paper,
    "texture": _texture,
    "bleed_through": _bleed_through,
    "stains": _stains,
    "fade": _fade,
    "creases": _creases,
    "wrinkles": _wrinkles,
    "shadows": _shadows,
}
SCANNER_STAGE: dict[str, Callable[..., np.ndarray]] = {
    "blur": _blur,
    "speckle": _speckle,
    "noise": _noise,
    "jpeg": _jpeg,
}
