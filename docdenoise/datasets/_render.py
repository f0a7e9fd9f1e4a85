"""Random text pages for the synthetic data: fonts, word-like text and layouts.

Renders an ink *coverage* map (0 = paper, 1 = full ink) with Pillow and records
which words lie entirely inside the page, for :func:`make_dirty_documents`.
"""

from __future__ import annotations

import functools
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ._words import SYLLABLES, WORDS

__all__ = ["font_specs", "load_font", "render_text_page"]

# Characters that the Computer Modern fonts shipped by matplotlib map to other glyphs.
_CM_UNSAFE = str.maketrans("", "", '"{}<>_|\\$')

# ---------------------------------------------------------------------------------------
# Fonts


@functools.lru_cache(maxsize=1)
def font_specs() -> tuple[tuple[str | None, bool], ...]:
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
def load_font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
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
        return "".join(SYLLABLES[int(i)] for i in self.rng.integers(len(SYLLABLES), size=n))

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
            bounds = ((1, 29), (1, 13), (50, 100))
            day, month, year = (int(rng.integers(lo, hi)) for lo, hi in bounds)
            return f"{day}/{month}/{year}"
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
        self.lines: list[tuple[float, float, list[tuple[float, float, float, float, str]]]] = []
        self.angle = 0.0  # the rotation applied to the page, set by render_text_page

    def text(
        self,
        x: float,
        y: float,
        word: str,
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
        *,
        line_id: tuple[float, float],
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
                if xr.min() >= 0 and yr.min() >= 0 and xr.max() <= self.w and yr.max() <= self.h:
                    kept.append(word)
            if kept:
                out.append(" ".join(kept))
        return "\n".join(out)


def _font_size(rng: np.random.Generator) -> int:
    """Body text size in pixels (em); x-height is about half of it.

    Mostly 11 to 44 px (a printed page scanned at 100 to 300 dpi), and on a quarter
    of the pages small text of 8 to 16 px, whose thin strokes never cover a whole
    pixel: a network must learn that such strokes are grey because they are thin,
    not because their ink is.
    """
    if rng.random() < 0.25:
        return int(np.clip(rng.lognormal(np.log(12), 0.2), 8, 16))
    return int(np.clip(rng.lognormal(np.log(22), 0.25), 11, 44))


def _paragraph(canvas, src, font, x0, x1, y, y_max, line_h, *, justify, indent, n_words):
    """Flow ``n_words`` words between ``x0`` and ``x1`` from ``y``; return the next y."""
    space = font.getlength(" ")
    words = src.words(n_words)
    first = True
    i = 0
    while i < len(words) and y + line_h * 0.8 < y_max:
        start = x0 + (indent if first else 0)
        line: list[tuple[str, float]] = []
        width = 0.0
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


def render_text_page(
    rng: np.random.Generator, shape: tuple[int, int]
) -> tuple[np.ndarray, _Canvas]:
    """Lay out a random page; return its coverage (float32, 0..1) and the canvas."""
    h, w = shape
    specs = font_specs()
    spec = specs[int(rng.integers(len(specs)))]
    size = _font_size(rng)
    font = load_font(spec[0], size)
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
        hfont = load_font(hspec[0], hsize)
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
        cols = np.concatenate([[0.0], np.cumsum(widths) / widths.sum()]) * (x1 - x0) + x0
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
                ws = src.words(n) if rng.random() < 0.5 else [src._number() for _ in range(n)]
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
        img = img.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=0)
    cov = np.asarray(img, dtype=np.float32) / 255.0
    canvas.angle = angle
    return cov, canvas
