"""Tests for docdenoise.evaluation and benchmarks/evaluate.py."""

from __future__ import annotations

import csv
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from docdenoise.datasets import save_images
from docdenoise.evaluation import evaluate_methods, format_table, heldout_split, write_csv
from docdenoise.metrics import rmse

EVALUATE = Path(__file__).resolve().parents[1] / "benchmarks" / "evaluate.py"


def _pairs(n=4):
    rng = np.random.default_rng(0)
    clean = [np.where(rng.random((24, 30)) < 0.1, 0.0, 1.0).astype(np.float32) for _ in range(n)]
    noisy = [np.clip(c * 0.7 + 0.1, 0, 1).astype(np.float32) for c in clean]
    return noisy, clean


def test_evaluate_methods_without_ocr():
    noisy, clean = _pairs()
    rows = evaluate_methods(
        noisy, clean, {"noisy": lambda x: x, "perfect": lambda x: clean}, ocr=False
    )
    assert [r["method"] for r in rows] == ["noisy", "perfect"]
    assert rows[0]["rmse"] == pytest.approx(rmse(clean, noisy))
    assert rows[1]["rmse"] == 0.0
    assert rows[1]["psnr"] == np.inf
    assert rows[1]["ssim"] == pytest.approx(1.0)
    assert rows[0]["ocr_cer"] is None
    assert rows[0]["seconds"] >= 0


def test_evaluate_methods_errors():
    noisy, clean = _pairs()
    with pytest.raises(ValueError, match="non-empty mapping"):
        evaluate_methods(noisy, clean, {}, ocr=False)
    with pytest.raises(TypeError, match=r"methods\['x'\] must be callable"):
        evaluate_methods(noisy, clean, {"x": 3}, ocr=False)
    with pytest.raises(ValueError, match="same number of pages: got 4 and 3"):
        evaluate_methods(noisy, clean[:3], {"x": lambda p: p}, ocr=False)


def test_format_table_and_csv(tmp_path):
    noisy, clean = _pairs(2)
    rows = evaluate_methods(noisy, clean, {"noisy": lambda x: x}, ocr=False)
    table = format_table(rows).splitlines()
    assert table[0].startswith("| method")
    assert "OCR CER" in table[0]
    assert len({len(line) for line in table}) == 1  # aligned
    assert table[2].split("|")[5].strip() == "-"
    path = write_csv(rows, tmp_path / "sub" / "r.csv")
    (read,) = list(csv.DictReader(path.open()))
    assert read["method"] == "noisy"
    assert read["ocr_cer"] == ""
    assert float(read["rmse"]) == pytest.approx(rows[0]["rmse"])


def test_heldout_split_keeps_groups_together():
    groups = np.repeat(np.arange(8), 4)
    train, test = heldout_split(groups)
    assert len(test) == 8
    assert len(train) == 24
    assert not set(groups[train]) & set(groups[test])
    again = heldout_split(groups)
    np.testing.assert_array_equal(again[1], test)
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        heldout_split([1, 1, 1])


def test_evaluate_script_no_ocr(tmp_path, capsys):
    noisy, clean = _pairs(8)
    names = [str(i) for i in range(1, 9)]
    save_images(noisy, tmp_path / "train", names=names)
    save_images(clean, tmp_path / "train_cleaned", names=names)
    main = runpy.run_path(str(EVALUATE))["main"]
    out_csv = tmp_path / "out.csv"
    assert main(["--data", str(tmp_path), "--split", "all", "--no-ocr", "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "8 of 8 pages" in out
    assert "median background" in out
    assert "sauvola" in out
    assert len(list(csv.DictReader(out_csv.open()))) == 4
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path), "--no-ocr"])  # heldout needs groups.json
    assert "groups.json" in capsys.readouterr().err
    (tmp_path / "groups.json").write_text(json.dumps([[1, 2], [3, 4], [5, 6], [7, 8]]))
    assert main(["--data", str(tmp_path), "--no-ocr"]) == 0
    assert "2 of 8 pages" in capsys.readouterr().out


@pytest.mark.ocr
def test_evaluate_methods_with_ocr():
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (420, 60), 255)
    font = ImageFont.load_default(size=28)
    ImageDraw.Draw(page).text((10, 12), "Measure the margin", font=font, fill=0)
    clean = [np.asarray(page, dtype=np.float32) / 255]
    rows = evaluate_methods(
        clean, clean, {"same": lambda x: x, "blank": lambda x: [np.ones_like(x[0])]}
    )
    assert rows[0]["ocr_cer"] == 0.0
    assert rows[0]["ocr_wer"] == 0.0
    assert rows[1]["ocr_cer"] == 1.0
    assert rows[1]["ocr_wer"] == 1.0
