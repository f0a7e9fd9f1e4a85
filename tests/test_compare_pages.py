"""Tests for benchmarks/compare_pages.py (paired per-page comparison of two models)."""

from __future__ import annotations

import csv
import sys

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("compare_pages.py")


def _write(path, method, rmses, cers, gamma=None):
    """A zero_shot.py --csv file: one model, optionally its darkened line."""
    rows = [
        {"method": method, "page": f"{i}.png", "rmse": r, "cer_psm3": c, "cer_psm6": c / 2}
        for i, (r, c) in enumerate(zip(rmses, cers))
    ]
    if gamma:
        rows += [{**r, "method": f"{method}, OCR gamma {gamma}"} for r in rows[: len(rmses)]]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_counts_pages_and_sign_test(script):
    base = {f"{i}.png": {"rmse": 0.03, "cer_psm3": 0.01} for i in range(6)}
    cand = {f"{i}.png": {"rmse": 0.02, "cer_psm3": 0.01} for i in range(5)}
    cand["5.png"] = {"rmse": 0.04, "cer_psm3": 0.02}
    r = script["compare"](base, cand, "rmse")
    assert (r["pages"], r["better"], r["worse"]) == (6, 5, 1)
    assert r["p"] == pytest.approx(14 / 64)  # P(split at least 5:1 of 6), two-sided
    assert r["most worsened"].startswith("5.png +0.0100")
    cer = script["compare"](base, cand, "cer_psm3")
    assert (cer["better"], cer["worse"], cer["p"]) == (0, 1, 1.0)  # ties left out
    assert cer["base"] == pytest.approx(0.01)
    assert cer["cand"] == pytest.approx(0.07 / 6)


def test_ink_type_split(script):
    base = {"a": {"rmse": 0.03}, "b": {"rmse": 0.03}, "c": {"rmse": 0.02}}
    cand = {"a": {"rmse": 0.01}, "b": {"rmse": 0.02}, "c": {"rmse": 0.03}}
    r = script["compare"](base, cand, "rmse", inverse={"a": True, "b": True, "c": False})
    assert r["inverse"] == "0.0300 -> 0.0158 (better 2, worse 0)"
    assert r["printed"] == "0.0200 -> 0.0300 (better 0, worse 1)"


def test_main_prints_plain_and_darkened(script, tmp_path, monkeypatch, capsys):
    base = _write(tmp_path / "a.csv", "default", [0.03] * 4, [0.01] * 4, gamma=1.25)
    cand = _write(tmp_path / "b.csv", "new.safetensors", [0.02] * 4, [0.02] * 4, gamma=1.25)
    monkeypatch.setattr(sys, "argv", ["compare_pages.py", base, cand, "--no-ink-type"])
    script["main"]()
    out = capsys.readouterr().out
    assert "plain    rmse       0.0300 ->   0.0200  better  4 worse  0 of 4  p 0.125" in out
    assert "plain    cer_psm3   1.00 % ->   2.00 %  better  0 worse  4 of 4" in out
    assert "darkened cer_psm6" in out


def test_rejects_two_models_in_one_file(script, tmp_path):
    path = tmp_path / "both.csv"
    _write(path, "default", [0.03], [0.01])
    with open(path, "a", newline="") as f:
        f.write("other,0.png,0.02,0.01,0.005\n")
    with pytest.raises(SystemExit, match="expected one model per file"):
        script["read_pages"](str(path))


def test_rejects_empty_file(script, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("method,page,rmse\n")
    with pytest.raises(SystemExit, match="no rows"):
        script["read_pages"](str(path))
