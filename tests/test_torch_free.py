"""Cleaning pages without torch: the package, the command line and the onnx engine.

Each test runs Python in a subprocess in which ``import torch`` fails (a blocker
on ``sys.meta_path``), so the suite checks the torch-free path wherever it runs.
CI also runs this file in a fresh virtual environment where torch was never
installed (``tools/check_torch_free.sh``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import docdenoise
from docdenoise.datasets import make_dirty_documents, save_images

WEIGHTS = Path(docdenoise.__file__).parent / "weights"

#: Make ``import torch`` (and safetensors' torch loader) fail as if torch were missing.
BLOCK_TORCH = textwrap.dedent(
    """
    import sys

    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "torch" or name == "safetensors.torch":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NoTorch())
    """
)


def run_without_torch(code: str, cwd: Path) -> dict:
    """Run ``code`` with torch blocked; it prints one JSON line last, returned here."""
    script = (
        BLOCK_TORCH
        + textwrap.dedent(code)
        + textwrap.dedent(
            """
        assert "torch" not in sys.modules, "torch was imported"
        """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:docdenoise"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scans")
    noisy, _ = make_dirty_documents(2, shape=(70, 101), random_state=0)
    save_images(list(noisy), folder, names=["a.png", "b.png"])
    return folder


def test_import_docdenoise_without_torch(tmp_path):
    out = run_without_torch(
        """
        import json
        import docdenoise
        from docdenoise import DocumentDenoiser, pretrained_models
        from docdenoise.models import available_models
        print(json.dumps({"models": available_models(), "pretrained": pretrained_models(),
                          "file": docdenoise.__file__,
                          "params": sorted(DocumentDenoiser().get_params())}))
        """,
        tmp_path,
    )
    if os.environ.get("DOCDENOISE_INSTALLED_WHEEL") == "1":  # tools/check_torch_free.sh
        assert "site-packages" in out["file"], out["file"]
    assert {"cae", "unet"} <= set(out["models"])
    assert "default" in out["pretrained"]
    assert "engine" in out["params"]


def test_cli_denoise_with_the_shipped_model_without_torch(scans, tmp_path):
    out_dir = tmp_path / "out"
    out = run_without_torch(
        f"""
        import json
        from docdenoise.cli import main
        status = main(["denoise", {str(scans)!r}, "-o", {str(out_dir)!r}, "-q"])
        print(json.dumps({{"status": status}}))
        """,
        tmp_path,
    )
    assert out["status"] == 0
    from docdenoise.datasets import load_images

    assert sorted(p.name for p in out_dir.iterdir()) == ["a.png", "b.png"]
    cleaned = load_images(out_dir / "a.png")[0]
    assert cleaned.shape == (70, 101)


def test_load_a_saved_onnx_model_and_transform_without_torch(tmp_path):
    model = tmp_path / "model.onnx"
    shutil.copy(WEIGHTS / "default.onnx", model)  # a model file as export_onnx writes it
    noisy, _ = make_dirty_documents(3, shape=(45, 67), random_state=1)
    np.save(tmp_path / "noisy.npy", noisy)
    out = run_without_torch(
        f"""
        import json
        import numpy as np
        from docdenoise import DocumentDenoiser
        den = DocumentDenoiser.load({str(model)!r})
        noisy = np.load({str(tmp_path / "noisy.npy")!r})
        out = den.transform(noisy)
        np.save({str(tmp_path / "out.npy")!r}, out)
        print(json.dumps({{"engine": den.engine, "tta": den.tta,
                          "score": den.score(noisy, noisy)}}))
        """,
        tmp_path,
    )
    cleaned = np.load(tmp_path / "out.npy")
    assert cleaned.shape == noisy.shape and cleaned.dtype == np.float32
    assert 0 <= cleaned.min() and cleaned.max() <= 1
    assert out["score"] < 0
    if importlib.util.find_spec("torch") is None:  # the comparison needs the torch engine
        return
    from docdenoise import DocumentDenoiser

    want = DocumentDenoiser.pretrained(device="cpu", engine="torch").transform(noisy)
    np.testing.assert_allclose(cleaned, want, atol=1e-4, rtol=0)


def test_training_and_the_torch_engine_say_they_need_torch(tmp_path):
    noisy, clean = make_dirty_documents(2, shape=(32, 48), random_state=2)
    save_images(list(noisy), tmp_path / "pairs" / "noisy", names=["a", "b"])
    save_images(list(clean), tmp_path / "pairs" / "clean", names=["a", "b"])
    out = run_without_torch(
        """
        import contextlib, io, json
        from pathlib import Path
        import numpy as np
        import docdenoise
        from docdenoise import DocumentDenoiser
        from docdenoise.cli import main

        weights = Path(docdenoise.__file__).parent / "weights" / "default.safetensors"
        x = np.random.default_rng(0).random((2, 16, 16), dtype=np.float32)
        messages = {}
        for what, call in {
            "fit": lambda: DocumentDenoiser(epochs=1).fit(x, x),
            "torch engine": lambda: DocumentDenoiser.pretrained(engine="torch"),
            "safetensors": lambda: DocumentDenoiser.load(weights),
            "fine-tuning": lambda: DocumentDenoiser.pretrained().fit(x, x),
        }.items():
            try:
                call()
            except ImportError as exc:
                messages[what] = str(exc)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(["train", "pairs", "-o", "m.safetensors", "-q"])
        messages["docdenoise train"] = err.getvalue()
        print(json.dumps({"messages": messages, "train_status": status}))
        """,
        tmp_path,
    )
    assert set(out["messages"]) == {
        "fit",
        "torch engine",
        "safetensors",
        "fine-tuning",
        "docdenoise train",
    }
    for message in out["messages"].values():
        assert "needs torch" in message and "pip install torch==2.13.0" in message
    assert out["train_status"] == 1 and not (tmp_path / "m.safetensors").exists()
