"""Thread settings that make torch behave on a machine shared with other work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Each test starts a fresh Python process: libgomp reads its settings once, when
# torch loads it.
pytestmark = pytest.mark.slow


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "OMP_DISPLAY_ENV": "VERBOSE", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def test_import_docdenoise_makes_torchs_openmp_threads_wait_passively():
    """Spinning OpenMP threads slowed torch by 3-100x next to another busy process."""
    run = _run("import docdenoise, torch; torch.ones(64, 64) @ torch.ones(64, 64)")
    # libgomp prints the settings it took when torch loaded it (OMP_DISPLAY_ENV);
    # unset, it reads PASSIVE too but spins 300000 rounds before it sleeps.
    assert "GOMP_SPINCOUNT = '0'" in run.stderr
    assert "GOMP_SPINCOUNT = '300000'" not in run.stderr


def test_a_wait_policy_set_by_the_user_is_kept():
    code = "import docdenoise, os, torch; print(os.environ['OMP_WAIT_POLICY'])"
    run = _run(code, OMP_WAIT_POLICY="ACTIVE")
    assert run.stdout.strip() == "ACTIVE"
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in run.stderr


def test_nothing_is_set_when_torch_was_imported_first():
    """Too late for torch then; the environment of later child processes is left alone."""
    run = _run("import torch, docdenoise, os; print(os.environ.get('OMP_WAIT_POLICY'))")
    assert run.stdout.strip() == "None"
