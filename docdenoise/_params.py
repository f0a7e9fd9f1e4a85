"""Parameter rules: what each parameter accepts, declared once.

Each estimator lists a rule per parameter in its ``parameter_rules`` class
attribute (in the spirit of scikit-learn's ``_parameter_constraints``) and checks
them all with :func:`validate_params` when it starts to work (``fit``, or
``transform`` of a stateless transformer). Functions check their arguments with
the same rule objects. The command line builds its options from the same rules:
choices (:attr:`Rule.choices`), conversion of the typed text (:meth:`Rule.parse`)
and the words of its messages (``str(rule)``), so a rule changes in one place.

Every rule says what it expects in words, and a refused value raises a
:class:`ValueError` (:class:`TypeError` for :class:`Text` rules) of the form
``"<name> must be <rule>, got <value>."``.

Rules shared by several modules (the test-time augmentation levels, the tile
size, the thread count, the learning-rate schedules, the augmentation modes, the
odd window sizes, the image shape of the flattened form, the bit depths of
written pages, the pixel limit of the readers, resolutions and the gamma of the
image Tesseract reads) are defined here.
"""

from __future__ import annotations

import argparse
import importlib
import numbers
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "AUGMENT",
    "BIT_DEPTH",
    "BIT_DEPTHS",
    "DPI",
    "ENGINE",
    "IMAGE_SHAPE",
    "LR_SCHEDULES",
    "MAX_PIXELS",
    "N_THREADS",
    "OCR_GAMMA_RANGE",
    "ODD_WINDOW",
    "TILE_SIZE",
    "TTA",
    "TTA_LEVELS",
    "AnyOf",
    "Bool",
    "Integer",
    "NameOrSubclass",
    "Nothing",
    "Options",
    "FilePath",
    "Real",
    "Rule",
    "Shape",
    "Text",
    "validate_params",
]


class Rule:
    """What one parameter accepts; ``str(rule)`` says it in words."""

    #: The exception raised for a refused value.
    error: type[Exception] = ValueError
    #: The accepted values when there are few of them (for menus), else None.
    choices: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` if accepted, else raise ``error`` naming ``name``."""
        if not self.accepts(value):
            got = type(value).__name__ if self.error is TypeError else repr(value)
            raise self.error(f"{name} must be {self}, got {got}.")
        return value

    def convert(self, text: str) -> Any:
        """Text to a candidate value (ValueError if the text cannot be one)."""
        raise ValueError(text)

    def parse(self, text: str) -> Any:
        """Turn command-line text into an accepted value, or raise a ValueError."""
        try:
            value = self.convert(text)
        except ValueError:
            pass
        else:
            if self.accepts(value):
                return value
        raise ValueError(f"expected {self}, got {text!r}")

    def argument_type(self) -> Callable[[str], Any]:
        """An argparse ``type``: command-line text to an accepted value.

        A refused text becomes argparse's own usage error, saying what the rule
        expects.
        """

        def convert(text: str) -> Any:
            try:
                return self.parse(text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        return convert


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Integer(Rule):
    """An integer (not a bool) from ``low`` to ``high`` (inclusive), odd if asked."""

    def __init__(self, low: int | None = None, high: int | None = None, odd: bool = False):
        self.low, self.high, self.odd = low, high, odd

    def accepts(self, value: Any) -> bool:
        return (
            _is_int(value)
            and (self.low is None or value >= self.low)
            and (self.high is None or value <= self.high)
            and (not self.odd or value % 2 == 1)
        )

    def describe(self) -> str:
        kind = "an odd integer" if self.odd else "an integer"
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low} to {self.high}"
        if self.low is not None:
            return f"{kind} >= {self.low}"
        if self.high is not None:
            return f"{kind} <= {self.high}"
        return kind

    def convert(self, text: str) -> Any:
        return int(text)


class Real(Rule):
    """A real number (not a bool) in a range; ``unit`` names what it counts."""

    def __init__(
        self,
        *,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        unit: str | None = None,
    ) -> None:
        self.gt, self.ge, self.lt, self.le, self.unit = gt, ge, lt, le, unit

    def accepts(self, value: Any) -> bool:
        return (
            _is_real(value)
            and (self.gt is None or value > self.gt)
            and (self.ge is None or value >= self.ge)
            and (self.lt is None or value < self.lt)
            and (self.le is None or value <= self.le)
        )

    def describe(self) -> str:
        kind = f"a number of {self.unit}" if self.unit else "a float"
        if self.ge is not None and self.lt is not None:
            return f"{kind} in [{self.ge:g}, {self.lt:g})"
        if self.ge is not None and self.le is not None:
            return f"{kind} from {self.ge:g} to {self.le:g}"
        bounds = [f"> {self.gt:g}"] if self.gt is not None else []
        bounds += [f">= {self.ge:g}"] if self.ge is not None else []
        bounds += [f"< {self.lt:g}"] if self.lt is not None else []
        bounds += [f"<= {self.le:g}"] if self.le is not None else []
        return " ".join([kind, *bounds])

    def convert(self, text: str) -> Any:
        return float(text)


def _words(items: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) < 3:
        return " or ".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


class Options(Rule):
    """One of a few values (strings or numbers)."""

    def __init__(self, *values: Any) -> None:
        self.choices = tuple(values)

    def accepts(self, value: Any) -> bool:
        assert self.choices is not None
        for choice in self.choices:
            if isinstance(choice, str):
                if isinstance(value, str) and value == choice:
                    return True
            elif _is_int(value) and value == choice:
                return True
        return False

    def describe(self) -> str:
        assert self.choices is not None
        texts = [repr(c) if isinstance(c, str) else str(c) for c in self.choices]
        if len(texts) <= 2:
            return " or ".join(texts)
        if all(isinstance(c, str) for c in self.choices):
            return f"one of {list(self.choices)}"
        return "one of " + ", ".join(texts)

    def convert(self, text: str) -> Any:
        assert self.choices is not None
        for c in self.choices:
            if str(c) == text:
                return c
        raise ValueError(text)


class Bool(Rule):
    """True or False (numpy booleans too)."""

    choices = (False, True)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "a bool"

    def convert(self, text: str) -> Any:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(text)


class Nothing(Rule):
    """``None``."""

    choices = (None,)

    def accepts(self, value: Any) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"

    def convert(self, text: str) -> Any:
        if text.lower() == "none":
            return None
        raise ValueError(text)


class Text(Rule):
    """A string; ``nonempty`` also refuses blank ones (with a ValueError)."""

    def __init__(self, nonempty: bool = False) -> None:
        self.nonempty = nonempty
        self.error = ValueError if nonempty else TypeError

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and (not self.nonempty or bool(value.strip()))

    def describe(self) -> str:
        return "a non-empty string" if self.nonempty else "a string"

    def convert(self, text: str) -> Any:
        return text


class FilePath(Rule):
    """A file path (a string or an ``os.PathLike``)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (str, os.PathLike))

    def describe(self) -> str:
        return "a file path"

    def convert(self, text: str) -> Any:
        return text


class Shape(Rule):
    """Two integers >= 1: an image's ``(height, width)``."""

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(_is_int(s) and s >= 1 for s in value)
        )

    def describe(self) -> str:
        return "two integers >= 1"


class NameOrSubclass(Rule):
    """A name from a table, or a subclass of a base class given by its dotted path.

    Both are looked up when a value is checked, so declaring the rule imports
    nothing (``names`` may be a function that lists a registry's current names).
    """

    def __init__(self, names: Sequence[str] | Callable[[], Sequence[str]], base: str) -> None:
        self._names, self.base = names, base

    @property
    def names(self) -> list[str]:
        return sorted(self._names() if callable(self._names) else self._names)

    def accepts(self, value: Any) -> bool:
        if isinstance(value, str):
            return value in self.names
        if isinstance(value, type):
            module, _, name = self.base.rpartition(".")
            return issubclass(value, getattr(importlib.import_module(module), name))
        return False

    def describe(self) -> str:
        return f"one of {self.names} or a {self.base} subclass"

    def convert(self, text: str) -> Any:
        return text


class AnyOf(Rule):
    """Any of several rules, e.g. ``AnyOf(Nothing(), Integer(1))``: None or an int >= 1."""

    def __init__(self, *rules: Rule) -> None:
        self.rules = rules
        finite = [r.choices for r in rules]
        if all(c is not None for c in finite):
            self.choices = tuple(v for c in finite for v in c)  # type: ignore[union-attr]

    def accepts(self, value: Any) -> bool:
        return any(r.accepts(value) for r in self.rules)

    def describe(self) -> str:
        return _words([r.describe() for r in self.rules])

    def convert(self, text: str) -> Any:
        for rule in self.rules:
            try:
                return rule.parse(text)
            except ValueError:
                continue
        raise ValueError(text)


def validate_params(estimator: Any) -> None:
    """Check every parameter of ``estimator`` against its class's ``parameter_rules``.

    Raises
    ------
    ValueError or TypeError
        The first parameter whose value its rule refuses, named in the message.
    """
    for name, rule in type(estimator).parameter_rules.items():
        rule.check(name, getattr(estimator, name))


# ---------------------------------------------------------------- shared rules

#: Views averaged by test-time augmentation (``tta``): flips/rotations (1 to 8),
#: and the 8 at two or four one-pixel offsets (16, 32).
TTA_LEVELS = (1, 2, 4, 8, 16, 32)
#: ``tta``: False (1 view), True (8) or a number of views.
TTA = AnyOf(Bool(), Options(*TTA_LEVELS))
#: ``tile_size``: never tile, tiles chosen from the network, or a tile side.
TILE_SIZE = AnyOf(Nothing(), Options("auto"), Integer(1))
#: ``n_threads``: torch's own setting, or a thread count.
N_THREADS = AnyOf(Nothing(), Integer(1))
#: ``lr_schedule`` names (besides None).
LR_SCHEDULES = ("cosine", "onecycle", "plateau")
#: ``augment``: none (False), flips/rotations and brightness (True), flips only.
AUGMENT = AnyOf(Bool(), Options("flips"))
#: Side of a square window centred on a pixel (median filters, SSIM).
ODD_WINDOW = Integer(3, odd=True)
#: ``image_shape`` of the estimators: how to read a 2-D array ``(n, n_features)``.
#: None refuses it (one page is usually held as a 2-D array), ``"rows"`` makes each
#: row an image one pixel tall, ``(H, W)`` unflattens each row.
IMAGE_SHAPE = AnyOf(Nothing(), Options("rows"), Shape())
#: Bits per grey level of written PNG and TIFF pages (``bit_depth``).
BIT_DEPTHS = (8, 16)
BIT_DEPTH = Options(*BIT_DEPTHS)
#: ``max_pixels`` of the page readers: the most pixels a page may have, or no limit.
MAX_PIXELS = AnyOf(Nothing(), Integer(1))
#: A resolution: reading PDF pages, writing pages (``dpi``).
DPI = Real(gt=0, unit="dots per inch")
#: ``engine``: what runs the network in ``transform`` (see ``DocumentDenoiser``).
ENGINE = Options("auto", "torch", "onnx")
#: ``ocr_gamma`` of the searchable PDFs: the power the grey levels of the image
#: Tesseract reads are raised to (1: unchanged; the OCRmyPDF plugin, its command
#: line and ``make_searchable_pdf``).
OCR_GAMMA_RANGE = Real(ge=0.1, le=10)
