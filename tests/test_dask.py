"""Beyond one machine: the search and batch denoising on a dask cluster.

A local in-process cluster (``Client(processes=False)``) stands in for a real one;
the code paths (joblib's dask backend, scatter/map/gather) are the same.
"""

from __future__ import annotations

import sys

import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV

from docdenoise import DocumentDenoiser, ImageFileError
from docdenoise.datasets import load_images, make_dirty_documents, save_images
from docdenoise.parallel import denoise_files
from docdenoise.scorers import psnr_scorer

distributed = pytest.importorskip("distributed")

# n_threads=1: the cluster's two worker threads share this process, so each
# estimator keeps to one torch thread (see DocumentDenoiser's n_threads).
FAST = {
    "batch_size": 4,
    "validation_fraction": 0.0,
    "device": "cpu",
    "random_state": 0,
    "n_threads": 1,
}


@pytest.fixture(scope="module")
def client():
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as c:
        yield c


@pytest.fixture(scope="module")
def pages():
    small_noisy, small_clean = make_dirty_documents(4, shape=(16, 24), random_state=0)
    large_noisy, large_clean = make_dirty_documents(4, shape=(20, 28), random_state=1)
    return list(small_noisy) + list(large_noisy), list(small_clean) + list(large_clean)


@pytest.fixture(scope="module")
def fitted(pages):
    noisy, clean = pages
    return DocumentDenoiser(epochs=2, lr=1e-2, **FAST).fit(noisy, clean)


@pytest.fixture
def scans(pages, tmp_path):
    noisy, _ = pages
    names = [f"scan_{i}" for i in range(len(noisy))]
    return save_images(noisy, tmp_path / "scans", names=names)


def test_grid_search_on_dask_matches_the_local_search(client, pages):
    noisy, clean = pages

    def search():
        return GridSearchCV(
            DocumentDenoiser(**FAST),
            {"lr": [1e-6, 1e-2], "epochs": [3]},
            cv=2,
            scoring=psnr_scorer,
            error_score="raise",
        )

    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = search().fit(noisy, clean)
    assert stream.data, "no task ran on the cluster"
    local = search().fit(noisy, clean)

    assert on_dask.best_params_ == local.best_params_ == {"epochs": 3, "lr": 1e-2}
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-5,
    )
    assert np.isfinite(on_dask.cv_results_["mean_test_score"]).all()
    assert len(on_dask.best_estimator_.history_) == 3


def check_written(report, scans, out_dir, estimator):
    assert report.ok and report.failed == []
    assert [p.name for p in report.written] == [s.stem + ".png" for s in scans]
    assert all(p.parent == out_dir for p in report.written)
    expected = estimator.transform(load_images(scans))
    for got, want in zip(load_images(report.written), expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=0.5 / 255 + 1e-6)  # 8-bit PNG


def test_denoise_files_on_cluster(client, fitted, scans, tmp_path):
    out_dir = tmp_path / "clean"
    with distributed.get_task_stream(client) as stream:
        report = denoise_files(fitted, scans, out_dir, client=client, chunk_size=3)
    check_written(report, scans, out_dir, fitted)
    chunks = [t for t in stream.data if "_denoise_chunk" in t["key"]]
    assert len(chunks) == 3  # 8 pages in chunks of 3


def test_denoise_files_uses_the_running_client(client, fitted, scans, tmp_path):
    with distributed.get_task_stream(client) as stream:
        report = denoise_files(FrozenEstimator(fitted), scans[0].parent, tmp_path / "clean")
    assert any("_denoise_chunk" in t["key"] for t in stream.data)
    check_written(report, scans, tmp_path / "clean", fitted)


def test_denoise_files_without_dask_runs_here(fitted, scans, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    pattern = str(scans[0].parent / "scan_*.png")
    report = denoise_files(fitted, [pattern], tmp_path / "clean", chunk_size=5)
    check_written(report, scans, tmp_path / "clean", fitted)


def test_denoise_files_with_client_but_no_dask_says_how_to_install(
    fitted, scans, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install docdenoise\[dask\]"):
        denoise_files(fitted, scans, tmp_path / "clean", client=object())


def test_denoise_files_refuses_to_overwrite_before_any_work(fitted, scans, tmp_path):
    out_dir = tmp_path / "clean"
    out_dir.mkdir()
    (out_dir / "scan_5.png").write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="scan_5.png.*already exist.*overwrite=True"):
        denoise_files(fitted, scans, out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == ["scan_5.png"]
    assert (out_dir / "scan_5.png").read_bytes() == b"keep me"
    report = denoise_files(fitted, scans, out_dir, overwrite=True)
    check_written(report, scans, out_dir, fitted)


def test_denoise_files_input_errors(fitted, scans, tmp_path):
    out_dir = tmp_path / "clean"
    with pytest.raises(NotFittedError):
        denoise_files(DocumentDenoiser(), scans, out_dir)
    with pytest.raises(TypeError, match="fitted transformer with a transform method"):
        denoise_files(object(), scans, out_dir)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1, got 0"):
        denoise_files(fitted, scans, out_dir, chunk_size=0)
    with pytest.raises(ImageFileError, match="does not exist"):
        denoise_files(fitted, [tmp_path / "missing.png"], out_dir)
    twin = scans[0].parent / "scan_0.jpg"
    twin.write_bytes(scans[0].read_bytes())
    with pytest.raises(ValueError, match="would both be written to"):
        denoise_files(fitted, [scans[0], twin], out_dir)
    with pytest.raises(ValueError, match="would overwrite the input file"):
        denoise_files(fitted, scans, scans[0].parent, overwrite=True)
    assert not out_dir.exists()


def test_unreadable_files_are_reported_and_the_rest_cleaned(client, fitted, scans, tmp_path):
    scans[2].write_bytes(b"not an image")
    seen = []
    report = denoise_files(
        fitted,
        scans,
        tmp_path / "clean",
        client=client,
        chunk_size=2,
        on_error=lambda path, message: seen.append((path, message)),
    )
    assert not report.ok
    assert [p for p, _ in report.failed] == [scans[2]]
    assert "scan_2" in report.failed[0][1]
    assert seen == report.failed
    good = [s for s in scans if s != scans[2]]
    assert [p.name for p in report.written] == [s.stem + ".png" for s in good]
    assert not (tmp_path / "clean" / "scan_2.png").exists()
