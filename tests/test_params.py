"""Parameter rules: one declaration per parameter, in words, for checks and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from docdenoise import ClassicalDenoiser, DocumentDenoiser, TesseractOCR
from docdenoise._params import (
    AUGMENT,
    N_THREADS,
    OCR_GAMMA_RANGE,
    ODD_WINDOW,
    TILE_SIZE,
    TTA,
    AnyOf,
    Integer,
    Nothing,
    Options,
    Real,
    Text,
)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (Integer(1), "an integer >= 1"),
        (Integer(0, 13), "an integer from 0 to 13"),
        (ODD_WINDOW, "an odd integer >= 3"),
        (Real(gt=0), "a float > 0"),
        (Real(ge=0, lt=1), "a float in [0, 1)"),
        (OCR_GAMMA_RANGE, "a float from 0.1 to 10"),
        (Real(le=2), "a float <= 2"),
        (AnyOf(Nothing(), Real(gt=0, unit="seconds")), "None or a number of seconds > 0"),
        (Options("raise", "clip"), "'raise' or 'clip'"),
        (AnyOf(Nothing(), Options("a", "b", "c")), "None or one of ['a', 'b', 'c']"),
        (TTA, "a bool or one of 1, 2, 4, 8, 16, 32"),
        (TILE_SIZE, "None, 'auto' or an integer >= 1"),
        (AUGMENT, "a bool or 'flips'"),
    ],
)
def test_rules_say_what_they_expect(rule, words):
    assert str(rule) == words


def test_accepts_and_refuses():
    assert Integer(1).accepts(np.int64(3))
    assert not Integer(1).accepts(True)  # a bool is not a count
    assert not Integer(1).accepts(2.0)
    assert not Real(gt=0).accepts(float("nan"))
    assert OCR_GAMMA_RANGE.accepts(10) and OCR_GAMMA_RANGE.accepts(0.1)
    assert not OCR_GAMMA_RANGE.accepts(10.01) and not OCR_GAMMA_RANGE.accepts(float("nan"))
    assert TTA.accepts(np.int64(16)) and TTA.accepts(np.bool_(True))
    assert not TTA.accepts(3) and not TTA.accepts("8")
    assert not Options("flips").accepts(np.zeros(2))
    assert N_THREADS.check("n_threads", None) is None
    with pytest.raises(ValueError, match=r"n_threads must be None or an integer >= 1, got 0\."):
        N_THREADS.check("n_threads", 0)
    with pytest.raises(TypeError, match="config must be a string, got NoneType"):
        Text().check("config", None)


def test_parse_turns_command_line_text_into_checked_values():
    assert TTA.parse("16") == 16
    assert AUGMENT.parse("flips") == "flips"
    assert TILE_SIZE.parse("auto") == "auto"
    assert TILE_SIZE.parse("256") == 256
    assert TILE_SIZE.parse("none") is None
    assert Real(ge=0, lt=1).parse("0.25") == 0.25
    with pytest.raises(ValueError, match=r"expected an integer >= 1, got '0'"):
        Integer(1).parse("0")
    with pytest.raises(ValueError, match=r"expected a float > 0, got 'fast'"):
        Real(gt=0).parse("fast")


def test_choices_for_menus():
    assert TTA.choices == (False, True, 1, 2, 4, 8, 16, 32)
    assert AUGMENT.choices == (False, True, "flips")
    assert Integer(1).choices is None
    assert TILE_SIZE.choices is None


@pytest.mark.parametrize("estimator", [DocumentDenoiser(), ClassicalDenoiser(), TesseractOCR()])
def test_every_parameter_has_a_rule(estimator):
    unchecked = {"device", "random_state"}  # checked where they are used
    assert set(type(estimator).parameter_rules) | unchecked >= set(estimator.get_params())
    assert set(type(estimator).parameter_rules) <= set(estimator.get_params())
    for name, value in estimator.get_params().items():  # the defaults pass their rules
        if name not in unchecked:
            type(estimator).parameter_rules[name].check(name, value)
