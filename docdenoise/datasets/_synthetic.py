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
target is ``1 - a * (1 - ink)`` for a per-page ink grey ``ink``. The noisy page
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

import functools
import io
import numbers
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage as ndi
from sklearn.utils import check_random_state

from ._words import SYLLABLES, WORDS

__all__ = ["DEGRADATIONS", "make_dirty_documents"]

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
_MAJOR = ("texture", "bleed_through", "stains", "creases", "wrinkles", "shadows")
# Probability of each minor degradation on a page under "all".
_MINOR = {
    "paper": 0.93,
    "fade": 0.2,
    "blur": 0.3,
    "speckle": 0.35,
    "noise": 0.8,
    "jpeg": 0.3,
}

# Characters that the Computer Modern fonts shipped by matplotlib map to other glyphs.
_CM_UNSAFE = str.maketrans("", "", '"{}<>_|\\$')

# ---------------------------------------------------------------------------------------
# Fonts


@functools.lru_cache(maxsize=1)
def _font_specs() -> tuple[tuple[str | None, bool], ...]:
    """``(path, is_computer_modern)`` for each usable font; ``None`` is Pillow's own."""
    specs: list[tuple[str | None, bool]] = [(None, False)]
    try:
        import matplotlib
    except ImportError:  # matplotlib is optional
        return tuple(specs)
    folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    names = [
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf",
        "DejaVuSansMono.ttf",
        "STIXGeneral.ttf",
        "STIXGeneralItalic.ttf",
        "STIXGeneralBol.ttf",
        "cmr10.ttf",
        "cmti10.ttf",
        "cmss10.ttf",
        "cmtt10.ttf",
        "cmb10.ttf",
    ]
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            specs.append((path, name.startswith("cm") and name != "cmtt10.ttf"))
    return tuple(specs)


@functools.lru_cache(maxsize=256)
def _load_font(
    path: str | None, size: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is not None:
        try:
            # The basic layout engine is enough for Latin text, is faster than raqm
            # and is the same on every install, which keeps pages reproducible.
            return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def _bold_variant(spec: tuple[str | None, bool]) -> tuple[str | None, bool]:
    path, cm = spec
    if path is None:
        return spec
    folder, name = os.path.split(path)
    bold = {
        "DejaVuSans.ttf": "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf": "DejaVuSans-BoldOblique.ttf",
        "DejaVuSerif.ttf": "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf": "DejaVuSerif-BoldItalic.ttf",
        "DejaVuSansMono.ttf": "DejaVuSansMono-Bold.ttf",
        "STIXGeneral.ttf": "STIXGeneralBol.ttf",
        "STIXGeneralItalic.ttf": "STIXGeneralBolIta.ttf",
        "cmr10.ttf": "cmb10.ttf",
        "cmti10.ttf": "cmb10.ttf",
        "cmss10.ttf": "cmb10.ttf",
    }.get(name, name)
    candidate = os.path.join(folder, bold)
    return (candidate, cm) if os.path.isfile(candidate) else spec


# ---------------------------------------------------------------------------------------
# Text


class _TextSource:
    """Endless word-like text: real words, pseudo-words, numbers and punctuation."""

    def __init__(self, rng: np.random.Generator, computer_modern: bool) -> None:
        self.rng = rng
        self.cm = computer_modern
        self.sentence_start = True
        self.p_pseudo = rng.uniform(0.0, 0.3)
        self.p_number = rng.uniform(0.01, 0.08)

    def _pseudo_word(self) -> str:
        n = int(self.rng.integers(1, 4))
        return "".join(
            SYLLABLES[int(i)] for i in self.rng.integers(len(SYLLABLES), size=n)
        )

    def _number(self) -> str:
        rng = self.rng
        kind = rng.integers(7)
        if kind == 0:
            return str(int(rng.integers(1, 100)))
        if kind == 1:
            return f"{rng.uniform(0, 1000):.{int(rng.integers(1, 3))}f}"
        if kind == 2:
            return str(int(rng.integers(1800, 2030)))
        if kind == 3:
            return f"{int(rng.integers(1, 29))}/{int(rng.integers(1, 13))}/{int(rng.integers(50, 100))}"
        if kind == 4:
            return f"{int(rng.integers(0, 101))}%"
        if kind == 5:
            return f"{int(rng.integers(1, 999))},{int(rng.integers(0, 1000)):03d}"
        return f"({int(rng.integers(1, 30))})"

    def word(self) -> str:
        rng = self.rng
        u = rng.random()
        if u < self.p_number:
            w = self._number()
        elif u < self.p_number + self.p_pseudo:
            w = self._pseudo_word()
        else:
            w = WORDS[int(rng.integers(len(WORDS)))]
        if (self.sentence_start and w[:1].isalpha()) or rng.random() < 0.04:
            w = w.capitalize()
        elif rng.random() < 0.005:
            w = w.upper()
        self.sentence_start = False
        v = rng.random()
        if v < 0.07:
            w += "."
            self.sentence_start = True
        elif v < 0.12:
            w += ","
        elif v < 0.13:
            w += rng.choice([";", ":", "?", "!"])
            self.sentence_start = w.endswith(("?", "!"))
        elif v < 0.14:
            w = f"({w})"
        elif v < 0.145:
            w = f'"{w}"' if not self.cm else f"'{w}'"
        elif v < 0.15:
            w = w + "-" + WORDS[int(rng.integers(len(WORDS)))]
        if self.cm:
            w = w.translate(_CM_UNSAFE) or "a"
        return w

    def words(self, n: int) -> list[str]:
        return [self.word() for _ in range(n)]


class _Canvas:
    """An ink-coverage image plus the words drawn entirely inside the page."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.h, self.w = shape
        self.image = Image.new("L", (self.w, self.h), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[tuple[float, float, list[tuple[float, float, str]]]] = []

    def text(
        self, x: float, y: float, word: str, font, *, line_id: tuple[float, float]
    ) -> None:
        self.draw.text((x, y), word, font=font, fill=255)
        left, top, right, bottom = font.getbbox(word)  # the inked box, from (x, y)
        left, top, right, bottom = x + left, y + top, x + right, y + bottom
        if not self.lines or self.lines[-1][:2] != line_id:
            self.lines.append((line_id[0], line_id[1], []))
        self.lines[-1][2].append((left, top, right, bottom, word))

    def visible_text(self, angle: float = 0.0) -> str:
        """Words whose boxes, after rotation by ``angle`` degrees, lie inside the page."""
        cx, cy = self.w / 2, self.h / 2
        cos, sin = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
        out = []
        for _, _, words in self.lines:
            kept = []
            for left, top, right, bottom, word in words:
                xs = np.array([left, right, left, right], dtype=float) - cx
                ys = np.array([top, top, bottom, bottom], dtype=float) - cy
                # Pillow's rotate turns counter-clockwise on screen.
                xr = cos * xs + sin * ys + cx
                yr = -sin * xs + cos * ys + cy
                if (
                    xr.min() >= 0
                    and yr.min() >= 0
                    and xr.max() <= self.w
                    and yr.max() <= self.h
                ):
                    kept.append(word)
            if kept:
                out.append(" ".join(kept))
        return "\n".join(out)


def _font_size(rng: np.random.Generator) -> int:
    """Body text size in pixels (em); x-height is about half of it."""
    return int(np.clip(rng.lognormal(np.log(22), 0.25), 11, 44))


def _paragraph(
    canvas, src, font, x0, x1, y, y_max, line_h, *, justify, indent, n_words
):
    """Flow ``n_words`` words between ``x0`` and ``x1`` from ``y``; return the next y."""
    space = font.getlength(" ")
    words = src.words(n_words)
    first = True
    i = 0
    while i < len(words) and y + line_h * 0.8 < y_max:
        start = x0 + (indent if first else 0)
        line, width = [], 0.0
        while i < len(words):
            wl = font.getlength(words[i])
            if line and start + width + space + wl > x1:
                break
            line.append((words[i], wl))
            width += (space if len(line) > 1 else 0) + wl
            i += 1
        gap = space
        if justify and i < len(words) and len(line) > 1:
            gap = space + (x1 - start - width) / (len(line) - 1)
            gap = min(gap, 3 * space)
        x = start
        for word, wl in line:
            canvas.text(x, y, word, font, line_id=(round(y, 1), x0))
            x += wl + gap
        y += line_h
        first = False
    return y


def _render_text_page(
    rng: np.random.Generator, shape: tuple[int, int]
) -> tuple[np.ndarray, _Canvas]:
    """Lay out a random page; return its coverage (float32, 0..1) and the canvas."""
    h, w = shape
    specs = _font_specs()
    spec = specs[int(rng.integers(len(specs)))]
    size = _font_size(rng)
    font = _load_font(spec[0], size)
    src = _TextSource(rng, spec[1])
    canvas = _Canvas(shape)
    line_h = size * rng.uniform(1.05, 1.7)
    justify = rng.random() < 0.5
    indent = size * rng.uniform(0, 2.5) if rng.random() < 0.6 else 0.0

    layout = rng.choice(
        ["plain", "cropped", "heading", "columns", "table", "list"],
        p=[0.3, 0.2, 0.15, 0.1, 0.12, 0.13],
    )
    margin = rng.uniform(0.0, 0.08) * w
    x0, x1 = margin, w - rng.uniform(0.0, 0.08) * w
    if layout == "cropped":  # a crop of a larger page: text runs off the edges
        x0 = rng.uniform(-0.02, 0.03) * w
        x1 = w * rng.uniform(1.05, 1.6)
    y = rng.uniform(-0.4, 1.0) * size
    y_max = h + (size if layout == "cropped" else 0)

    if layout == "heading":
        hspec = _bold_variant(spec)
        hsize = int(min(size * rng.uniform(1.2, 2.0), 64))
        hfont = _load_font(hspec[0], hsize)
        hsrc = _TextSource(rng, hspec[1])
        words = [
            hsrc._pseudo_word().capitalize()
            if rng.random() < 0.2
            else WORDS[int(rng.integers(len(WORDS)))].capitalize()
            for _ in range(int(rng.integers(1, 6)))
        ]
        text_w = hfont.getlength(" ".join(words))
        hx = x0 if rng.random() < 0.5 else max(x0, (w - text_w) / 2)
        y = max(y, 0.0)
        for word in words:
            canvas.text(hx, y, word, hfont, line_id=(round(y, 1), x0))
            hx += hfont.getlength(word + " ")
        y += hsize * rng.uniform(1.5, 2.2)
        if rng.random() < 0.4:
            canvas.draw.line(
                [(x0, y - hsize * 0.4), (x1, y - hsize * 0.4)],
                fill=255,
                width=int(rng.integers(1, 3)),
            )

    if layout == "columns":
        gutter = rng.uniform(0.03, 0.08) * w
        mid = (x0 + x1) / 2
        for cx0, cx1 in ((x0, mid - gutter / 2), (mid + gutter / 2, x1)):
            yy = y
            while yy < y_max:
                yy = _paragraph(
                    canvas,
                    src,
                    font,
                    cx0,
                    cx1,
                    yy,
                    y_max,
                    line_h,
                    justify=justify,
                    indent=indent,
                    n_words=int(rng.integers(15, 80)),
                )
                yy += line_h * rng.uniform(0, 0.8)
    elif layout == "table":
        n_cols = int(rng.integers(2, 6))
        widths = rng.uniform(0.5, 1.5, n_cols)
        cols = (
            np.concatenate([[0.0], np.cumsum(widths) / widths.sum()]) * (x1 - x0) + x0
        )
        row_h = size * rng.uniform(1.4, 2.2)
        rules = rng.random() < 0.7
        vrules = rules and rng.random() < 0.5
        lw = int(rng.integers(1, 3))
        top = y
        while y + row_h < y_max + row_h * 0.5:
            if rules:
                canvas.draw.line([(x0, y), (x1, y)], fill=255, width=lw)
            for c in range(n_cols):
                pad = size * 0.3
                n = int(rng.integers(1, 4))
                ws = (
                    src.words(n)
                    if rng.random() < 0.5
                    else [src._number() for _ in range(n)]
                )
                xx = cols[c] + pad
                for word in ws:
                    wl = font.getlength(word)
                    if xx + wl > cols[c + 1] - pad:
                        break
                    canvas.text(
                        xx,
                        y + (row_h - size) / 2,
                        word,
                        font,
                        line_id=(round(y, 1), x0),
                    )
                    xx += wl + font.getlength(" ")
            y += row_h
        if rules:
            canvas.draw.line([(x0, y), (x1, y)], fill=255, width=lw)
        if vrules:
            for cx in cols:
                canvas.draw.line([(cx, top), (cx, y)], fill=255, width=lw)
    elif layout == "list":
        bullet = rng.choice(["-", "*", "o", "num"])
        k = 1
        while y < y_max:
            mark = f"{k}." if bullet == "num" else str(bullet)
            canvas.text(x0, y, mark, font, line_id=(round(y, 1), x0))
            y = _paragraph(
                canvas,
                src,
                font,
                x0 + size * 1.5,
                x1,
                y,
                y_max,
                line_h,
                justify=False,
                indent=0,
                n_words=int(rng.integers(3, 30)),
            )
            y += line_h * rng.uniform(0, 0.5)
            k += 1
    else:
        while y < y_max:
            y = _paragraph(
                canvas,
                src,
                font,
                x0,
                x1,
                y,
                y_max,
                line_h,
                justify=justify,
                indent=indent,
                n_words=int(rng.integers(20, 120)),
            )
            y += line_h * (rng.uniform(0.2, 1.0) if rng.random() < 0.3 else 0)

    img = canvas.image
    angle = 0.0
    if rng.random() < 0.3:
        angle = float(rng.normal(0, 1.0))
        img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=0)
    cov = np.asarray(img, dtype=np.float32) / 255.0
    canvas.angle = angle  # type: ignore[attr-defined]
    return cov, canvas


# ---------------------------------------------------------------------------------------
# Random fields


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], cell: float
) -> np.ndarray:
    """Smooth noise with features about ``cell`` pixels wide, roughly zero mean, unit std."""
    h, w = shape
    cell = max(float(cell), 1.0)
    gh, gw = int(np.ceil(h / cell)) + 4, int(np.ceil(w / cell)) + 4
    grid = Image.fromarray(rng.standard_normal((gh, gw), dtype=np.float32))
    # Upsample only the crop we need: ``box`` is in grid cells, away from the border.
    oy, ox = rng.uniform(1, gh - 2 - h / cell), rng.uniform(1, gw - 2 - w / cell)
    box = (ox, oy, ox + w / cell, oy + h / cell)
    out = np.asarray(grid.resize((w, h), Image.BICUBIC, box=box), dtype=np.float32)
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


class _Page:
    def __init__(self, coverage: np.ndarray, ink: float) -> None:
        self.shape = coverage.shape
        self.coverage = coverage  # clean ink coverage
        self.ink_amount = np.ones(
            self.shape, np.float32
        )  # how much ink reached the paper
        self.ink = float(np.clip(ink, 0.0, 0.6))  # grey of full ink in the noisy page
        self.paper = np.ones(self.shape, np.float32)  # paper reflectance
        self.light = np.ones(self.shape, np.float32)  # illumination / shading
        self.image: np.ndarray | None = None  # set when the scanner stage starts

    def compose(self) -> np.ndarray:
        a = self.coverage * self.ink_amount
        return self.paper * (1.0 - a * (1.0 - self.ink)) * self.light


def _paper(rng, page):
    page.ink = float(np.clip(page.ink + rng.normal(0, 0.03), 0.0, 0.6))
    tone = rng.uniform(0.76, 0.98)
    drift = rng.uniform(0.0, 0.03) * _smooth_noise(
        rng, page.shape, rng.uniform(80, 300)
    )
    mottle = rng.uniform(0.0, 0.025) * _fractal_noise(
        rng, page.shape, rng.uniform(8, 40), 3
    )
    grain = rng.standard_normal(page.shape).astype(np.float32)
    grain = ndi.gaussian_filter(grain, rng.uniform(0.4, 1.2)) * np.float32(
        rng.uniform(0.01, 0.04)
    )
    page.paper *= np.float32(tone) * (1 + drift + mottle + grain)


def _texture(rng, page):
    h, w = page.shape
    kind = rng.choice(
        ["pattern", "fibers", "mottle", "ruled", "watermark"],
        p=[0.3, 0.2, 0.25, 0.1, 0.15],
    )
    if kind == "mottle":  # cloudy, blotchy paper
        n = _fractal_noise(
            rng, page.shape, rng.uniform(10, 80), 4, rng.uniform(0.4, 0.7)
        )
        page.paper *= 1 + np.float32(rng.uniform(0.03, 0.1)) * n
        return
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    if kind == "pattern":  # printed/patterned paper: faint tiled shapes or glyphs
        step = rng.uniform(25, 90)
        size = step * rng.uniform(0.4, 0.9)
        glyphs = rng.random() < 0.5
        font = _load_font(
            _font_specs()[int(rng.integers(len(_font_specs())))][0], int(size * 1.3)
        )
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
                    draw.rounded_rectangle(
                        [x, y, x + bw, y + bh], radius=size * 0.2, fill=g
                    )
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
        font = _load_font(
            _font_specs()[int(rng.integers(len(_font_specs())))][0],
            int(rng.uniform(0.2, 0.6) * max(h, w)) + 1,
        )
        word = WORDS[int(rng.integers(len(WORDS)))].upper()
        draw.text(
            (rng.uniform(-0.2, 0.5) * w, rng.uniform(-0.2, 0.6) * h),
            word,
            font=font,
            fill=255,
        )
        img = img.rotate(rng.uniform(-45, 45), resample=Image.BILINEAR)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 4.0)))
        strength = rng.uniform(0.05, 0.18)
    pat = np.asarray(img, dtype=np.float32) / 255.0
    page.paper *= 1 - np.float32(strength) * pat


def _bleed_through(rng, page):
    back, _ = _render_text_page(rng, page.shape)
    back = back[:, ::-1]
    if rng.random() < 0.3:
        back = back[::-1]
    back = ndi.gaussian_filter(back, rng.uniform(0.7, 2.5))
    spot = 1.0
    if rng.random() < 0.5:  # uneven: stronger where the paper is thinner or wetter
        spot = np.clip(
            0.6 + 0.5 * _smooth_noise(rng, page.shape, rng.uniform(60, 200)), 0, 1
        )
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
        wth = width * (
            1 + 0.7 * np.cos(2 * theta + rng.uniform(0, 6.3)) * rng.uniform(0, 1)
        )
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
                dens = np.maximum(
                    dens, np.clip(pr - dd + 1, 0, 1) * rng.uniform(0.5, 1)
                )
        mottle = 1 + rng.uniform(0.1, 0.3) * _fractal_noise(
            rng, dens.shape, rng.uniform(6, 25), 2
        )
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
        d = d + np.float32(rng.uniform(0, 3)) * _smooth_noise(
            rng, page.shape, rng.uniform(30, 120)
        )
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


def _wrinkles(rng, page):
    """Crumpled paper: facets between many short creases, lit from one side.

    Across a crease the surface slope, and so its brightness, jumps; the jump fades
    along and away from the crease. Computed at half size, each crease in its box.
    """
    h, w = page.shape
    sh, sw = max(h // 2, 1), max(w // 2, 1)
    light_dir = rng.uniform(0, 2 * np.pi)
    shade = 0.4 * _smooth_noise(rng, (sh, sw), rng.uniform(10, 40))
    n = int(np.clip(rng.uniform(0.4, 1.5) * sh * sw / 400, 3, 400))
    for _ in range(n):
        half = rng.uniform(5, 45)
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
        shade = np.asarray(Image.fromarray(shade).resize((w, h), Image.BILINEAR))
    strength = np.float32(rng.uniform(0.04, 0.12))
    page.light *= np.clip(1 + strength * shade, 0.5, 1.3)


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
            dist = dist + np.float32(rng.uniform(0, 5)) * _smooth_noise(
                rng, page.shape, 80
            )
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
            m = 1 / (
                1
                + np.exp(
                    -np.clip((n - rng.uniform(0.3, 1.2)) * rng.uniform(2, 8), -30, 30)
                )
            )
            light *= 1 - np.float32(rng.uniform(0.15, 0.5)) * m
    page.light *= light


def _blur(rng, image):
    return ndi.gaussian_filter(image, rng.uniform(0.3, 1.1))


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


def _noise(rng, image):
    sigma = rng.uniform(0.005, 0.05)
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


_PAPER_STAGE = {
    "paper": _paper,
    "texture": _texture,
    "bleed_through": _bleed_through,
    "stains": _stains,
    "fade": _fade,
    "creases": _creases,
    "wrinkles": _wrinkles,
    "shadows": _shadows,
}
_SCANNER_STAGE = {"blur": _blur, "speckle": _speckle, "noise": _noise, "jpeg": _jpeg}


def _pick_degradations(rng: np.random.Generator) -> set[str]:
    k = int(rng.choice([1, 1, 1, 2, 2, 3]))
    chosen = set(rng.choice(_MAJOR, size=k, replace=False).tolist())
    chosen |= {name for name, p in _MINOR.items() if rng.random() < p}
    return chosen


def _make_page(rng, shape, degradations):
    coverage, canvas = _render_text_page(rng, shape)
    ink = rng.uniform(0.0, 0.22) if rng.random() < 0.85 else rng.uniform(0.22, 0.35)
    clean = 1.0 - coverage * np.float32(1.0 - ink)
    names = _pick_degradations(rng) if degradations is None else degradations
    page = _Page(coverage, ink)
    for name in DEGRADATIONS:
        if name in names and name in _PAPER_STAGE:
            _PAPER_STAGE[name](rng, page)
    image = page.compose()
    for name in DEGRADATIONS:
        if name in names and name in _SCANNER_STAGE:
            image = _SCANNER_STAGE[name](rng, image)
    noisy = np.round(np.clip(image, 0, 1) * 255) / 255
    text = canvas.visible_text(canvas.angle)
    return noisy.astype(np.float32), clean.astype(np.float32), text


# ---------------------------------------------------------------------------------------
# Public function


def _check_degradations(degradations) -> tuple[str, ...] | None:
    if isinstance(degradations, str):
        if degradations == "all":
            return None
        degradations = [degradations]
    if not isinstance(degradations, Sequence):
        raise ValueError(  # noqa: TRY004 - parameter errors are ValueErrors, as in sklearn
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


def make_dirty_documents(
    n_samples: int = 8,
    shape: tuple[int, int] = (258, 540),
    *,
    random_state=None,
    degradations: str | Sequence[str] = "all",
    return_text: bool = False,
):
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
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    if (
        isinstance(shape, (str, bytes))
        or not isinstance(shape, Sequence)
        or len(shape) != 2
        or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
            for s in shape
        )
    ):
        raise ValueError(
            f"shape must be a pair of integers (height, width), each >= 1, got {shape!r}."
        )
    if not isinstance(return_text, (bool, np.bool_)):
        raise ValueError(f"return_text must be True or False, got {return_text!r}.")  # noqa: TRY004
    names = _check_degradations(degradations)
    shape = (int(shape[0]), int(shape[1]))

    if isinstance(random_state, np.random.Generator):
        seeds = random_state.integers(0, 2**31 - 1, size=int(n_samples))
    else:
        seeds = check_random_state(random_state).randint(
            0, 2**31 - 1, size=int(n_samples)
        )

    noisy = np.empty((int(n_samples), *shape), dtype=np.float32)
    clean = np.empty_like(noisy)
    texts = []
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        noisy[i], clean[i], text = _make_page(rng, shape, names)
        texts.append(text)
    if return_text:
        return noisy, clean, texts
    return noisy, clean
