"""The web page's server (docdenoise serve) through Starlette's test client.

Each test starts the application (its temporary folder and worker thread) with
the client and stops it at the end. Pages are small synthetic scans cleaned by the
shipped model; a test that needs a model that fails or differs builds it here.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

import numpy as np
import pytest
from PIL import Image

from docdenoise import DocumentDenoiser, pretrained_models
from docdenoise.cli import main
from docdenoise.datasets import iter_pages, make_dirty_documents

pytestmark = pytest.mark.web

LOCAL = "http://127.0.0.1"


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Temporary files go to a folder of the test's own, to see what is left there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _client(**options):
    from starlette.testclient import TestClient

    from docdenoise.web import create_app

    return TestClient(create_app(**options), base_url=LOCAL)


def _png(image, **info):
    buf = io.BytesIO()
    Image.fromarray(np.round(np.asarray(image) * 255).astype(np.uint8)).save(buf, "PNG", **info)
    return buf.getvalue()


def _tiff(images, dpi=(200, 200)):
    frames = [Image.fromarray(np.round(im * 255).astype(np.uint8)) for im in images]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=dpi)
    return buf.getvalue()


def _image(data):
    return np.asarray(Image.open(io.BytesIO(data))).astype(np.float64) / 255


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


def _upload(client, data, name="scan.png", **query):
    return client.post("/api/jobs", params={"name": name, **query}, content=data)


def _wait(client, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/jobs/{job_id}").json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {status}")


@pytest.fixture(scope="module")
def dirty():
    """Two stained pages and their clean originals.

    These tests are about the web page, not the model: stains and noise are what
    every shipped model cleans, whatever model ships (faint text has its own test
    in test_recipe.py).
    """
    return make_dirty_documents(
        2, shape=(96, 128), random_state=0, degradations=["paper", "stains", "noise"]
    )


def test_config_lists_models_tta_levels_and_limits():
    with _client(max_upload_mb=5, max_pages=7) as client:
        config = client.get("/api/config").json()
    assert config["models"][0] == "default" and config["models"] == sorted(
        pretrained_models(), key=lambda name: name != "default"
    )
    assert config["tta_levels"] == [1, 2, 4, 8, 16, 32]
    assert config["max_upload_bytes"] == 5 * 2**20 and config["max_pages"] == 7


def test_the_page_and_its_files_are_served():
    with _client() as client:
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        for name in ("app.js", "style.css"):
            assert f"/static/{name}" in page.text
            assert client.get(f"/static/{name}").status_code == 200
        # nothing from elsewhere (no CDN): the page works offline
        assert not [
            name
            for name in ("/", "/static/app.js", "/static/style.css")
            if "http" in client.get(name).text
        ]


def test_a_page_is_cleaned_with_its_size_and_dpi(dirty, private_tmp):
    noisy, clean = dirty
    with _client() as client:
        job = _upload(client, _png(noisy[0], dpi=(150, 150)), name="C:\\scans\\page 1.png")
        assert job.status_code == 201
        created = job.json()
        assert created["name"] == "page 1.png" and created["n_pages"] == 1
        status = _wait(client, created["id"])
        assert status["state"] == "done" and status["pages_done"] == 1
        assert status["pages"] == [{"number": 1, "state": "done", "width": 128, "height": 96}]
        assert status["result_name"] == "page 1-clean.png"
        result = client.get(f"/api/jobs/{created['id']}/result")
        assert result.status_code == 200
        assert result.headers["content-disposition"].endswith("page%201-clean.png")
        cleaned = _image(result.content)
        assert cleaned.shape == noisy[0].shape
        assert _rmse(cleaned, clean[0]) < 0.8 * _rmse(noisy[0], clean[0])
        assert Image.open(io.BytesIO(result.content)).info["dpi"] == pytest.approx(
            (150, 150), abs=0.02
        )
        before = client.get(f"/api/jobs/{created['id']}/pages/1/before.png")
        after = client.get(f"/api/jobs/{created['id']}/pages/1/after.png")
        assert before.headers["content-type"] == "image/png"
        assert np.abs(_image(before.content) - noisy[0]).max() <= 0.5 / 255 + 1e-6
        assert after.content == result.content
        folder = client.app.state.workshop.folder
        assert folder.parent == private_tmp
    assert list(private_tmp.iterdir()) == []  # the folder went with the server


def test_a_multipage_tiff_comes_back_as_a_tiff(dirty):
    noisy, _ = dirty
    with _client() as client:
        job = _upload(client, _tiff(noisy), name="two.tif").json()
        assert job["n_pages"] == 2
        status = _wait(client, job["id"])
        assert [p["state"] for p in status["pages"]] == ["done", "done"]
        assert status["result_name"] == "two-clean.tif"
        result = client.get(f"/api/jobs/{job['id']}/result").content
    path = tempfile.mktemp(suffix=".tif")
    with open(path, "wb") as fh:
        fh.write(result)
    pages = list(iter_pages(path))
    os.unlink(path)
    assert [(p.number, p.image.shape, p.dpi) for p in pages] == [
        (1, (96, 128), (200.0, 200.0)),
        (2, (96, 128), (200.0, 200.0)),
    ]


@pytest.mark.pdf
def test_a_pdf_comes_back_as_a_pdf_and_all_results_zip(dirty, pdfs, tmp_path):
    noisy, _ = dirty
    levels = [np.round(page * 255).astype(np.uint8) for page in noisy]
    scan = pdfs.scan("scan.pdf", levels, dpi=100).read_bytes()
    with _client() as client:
        pdf_job = _upload(client, scan, name="scan.pdf").json()
        png_job = _upload(client, _png(noisy[0]), name="scan.png").json()
        other = _upload(client, _png(noisy[1]), name="scan.png").json()
        for job in (pdf_job, png_job, other):
            assert _wait(client, job["id"])["state"] == "done"
        assert client.get(f"/api/jobs/{pdf_job['id']}").json()["result_name"] == "scan-clean.pdf"
        ids = ",".join([pdf_job["id"], png_job["id"], other["id"], "missing"])
        archive = client.get("/api/results.zip", params={"ids": ids})
        assert archive.status_code == 200
        assert "docdenoise-cleaned.zip" in archive.headers["content-disposition"]
        assert len(list(client.app.state.workshop.folder.glob("*.zip"))) == 0  # sent, deleted
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert zipped.namelist() == ["scan-clean.pdf", "scan-clean.png", "scan-clean (2).png"]
        (tmp_path / "out.pdf").write_bytes(zipped.read("scan-clean.pdf"))
    pages = list(iter_pages(tmp_path / "out.pdf"))
    assert [p.image.shape for p in pages] == [(96, 128)] * 2
    assert [p.dpi for p in pages] == [pytest.approx((100, 100))] * 2


def test_a_broken_file_is_refused_and_the_others_are_cleaned(dirty):
    noisy, _ = dirty
    good = _png(noisy[0])
    with _client() as client:
        refused = _upload(client, b"not an image at all", name="notes.png")
        assert refused.status_code == 422
        message = refused.json()["error"]
        assert "'notes.png' cannot be read as an image" in message
        assert "upload" not in message  # the user's name, not the temporary copy's
        truncated = _upload(client, good[: len(good) // 2], name="half.png").json()
        fine = _upload(client, good, name="fine.png").json()
        failed = _wait(client, truncated["id"])
        assert failed["state"] == "failed" and "half.png" in failed["error"]
        assert failed["pages"][0]["state"] == "failed" and failed["result_name"] is None
        assert client.get(f"/api/jobs/{truncated['id']}/result").status_code == 404
        assert _wait(client, fine["id"])["state"] == "done"
        empty = _upload(client, b"", name="empty.png")
        assert empty.status_code == 422 and "empty" in empty.json()["error"]
        archive = client.get("/api/results.zip", params={"ids": truncated["id"]})
        assert archive.status_code == 404


def test_size_and_page_limits_are_explained(dirty):
    noisy, _ = dirty
    data = _tiff(noisy)
    with _client(max_upload_mb=(len(data) - 1) / 2**20) as client:
        too_big = _upload(client, data, name="big.tif")
        assert too_big.status_code == 413
        assert "big.tif is larger than" in too_big.json()["error"]
        assert "--max-upload-mb" in too_big.json()["error"]
        # without a declared length, the upload is counted as it arrives and cut off
        streamed = client.post(
            "/api/jobs", params={"name": "big.tif"}, content=iter([data[:1000], data[1000:]])
        )
        assert streamed.status_code == 413
        assert list(client.app.state.workshop.folder.iterdir()) == []  # nothing kept
    with _client(max_pages=1) as client:
        too_long = _upload(client, data, name="long.tif")
        assert too_long.status_code == 413
        assert too_long.json()["error"].startswith("long.tif has 2 pages; this server cleans at")
        assert list(client.app.state.workshop.folder.iterdir()) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"model": "nope"}, "Unknown model 'nope'; expected one of default"),
        ({"tta": "3"}, "tta must be one of 1, 2, 4, 8, 16, 32"),
        ({"tta": "x"}, "got 'x'"),
        ({"name": ""}, "Expected the file's name"),
    ],
)
def test_bad_options_are_refused(query, message, dirty):
    with _client() as client:
        answer = _upload(client, _png(dirty[0][0]), **query)
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_the_chosen_tta_level_is_used(dirty):
    with _client() as client:
        job = _upload(client, _png(dirty[0][0]), tta="2").json()
        assert job["tta"] == 2 and _wait(client, job["id"])["state"] == "done"
        default = _upload(client, _png(dirty[0][0]), tta="model").json()
        assert default["tta"] is None and _wait(client, default["id"])["state"] == "done"
        own = DocumentDenoiser.pretrained().tta
        assert client.app.state.workshop.models.get("default").tta == own


def test_removing_a_job_deletes_its_files(dirty):
    with _client() as client:
        job = _upload(client, _png(dirty[0][0])).json()
        _wait(client, job["id"])
        folder = client.app.state.workshop.folder / job["id"]
        assert folder.is_dir()
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
        assert not folder.exists()
        assert client.get(f"/api/jobs/{job['id']}").status_code == 404
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 404
        assert client.get(f"/api/jobs/{job['id']}/pages/1/after.png").status_code == 404
        assert client.get(f"/api/jobs/{job['id']}/result").status_code == 404


def test_pages_not_cleaned_yet_are_not_found(dirty):
    with _client() as client:
        job = _upload(client, _tiff(dirty[0])).json()
        for path in ("pages/9/after.png", "pages/1/other.png"):
            assert client.get(f"/api/jobs/{job['id']}/{path}").status_code == 404
        _wait(client, job["id"])


def test_other_sites_cannot_reach_the_server(dirty):
    from starlette.testclient import TestClient

    from docdenoise.web import create_app

    data = _png(dirty[0][0])
    with _client() as client:
        # DNS rebinding: a page of another site that resolves to 127.0.0.1
        assert client.get("/api/config", headers={"host": "evil.example"}).status_code == 400
        cross = client.post(
            "/api/jobs", params={"name": "a.png"}, content=data, headers={"origin": "http://x.y"}
        )
        assert cross.status_code == 403
        same = client.post(
            "/api/jobs", params={"name": "a.png"}, content=data, headers={"origin": LOCAL}
        )
        assert same.status_code == 201
        deleted = client.delete(
            f"/api/jobs/{same.json()['id']}", headers={"origin": "http://evil.example"}
        )
        assert deleted.status_code == 403
        _wait(client, same.json()["id"])
    # listening on every interface, any host name is answered
    with TestClient(create_app(host="0.0.0.0"), base_url="http://scanner.local") as client:
        assert client.get("/api/config").status_code == 200


def test_model_files_and_threads(white_model, dirty):
    with _client(models=[white_model, "default"], threads=1) as client:
        assert client.get("/api/config").json()["models"] == ["white.safetensors", "default"]
        job = _upload(client, _png(dirty[0][0])).json()
        assert job["model"] == "white.safetensors"
        _wait(client, job["id"])
        cleaned = _image(client.get(f"/api/jobs/{job['id']}/result").content)
        assert cleaned.mean() > 0.95  # the white model
        assert client.app.state.workshop.models.get("default").n_threads == 1


def test_create_app_refuses_bad_models_and_limits(monkeypatch):
    from docdenoise.web import _server, create_app

    with pytest.raises(ValueError, match="'nope' is neither a shipped model"):
        create_app(["nope"])
    with pytest.raises(ValueError, match="max_pages must be an integer >= 1, got 0"):
        create_app(max_pages=0)
    with pytest.raises(ValueError, match="max_upload_mb must be a number of MiB > 0"):
        create_app(max_upload_mb=-1)
    monkeypatch.setattr(_server, "pretrained_models", lambda: [])
    with pytest.raises(ValueError, match="No pretrained model ships"):
        create_app()


def test_an_unexpected_error_fails_the_job_and_is_logged(dirty):
    from docdenoise.web._jobs import Models, Workshop

    class Broken:
        tta = False

        def set_params(self, **params):
            return self

        def transform(self, pages):
            raise RuntimeError("boom")

    logged = []
    workshop = Workshop(
        Models({"broken": Broken}), max_upload_bytes=2**20, max_pages=5, log=logged.append
    )
    with workshop:
        folder, upload = workshop.new_upload()
        upload.write_bytes(_png(dirty[0][0]))
        job = workshop.submit(upload, "a.png", "broken", None)
        deadline = time.monotonic() + 30
        while workshop.status(job.id)["state"] != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        status = workshop.status(job.id)
    assert status["error"].startswith("Unexpected error (RuntimeError: boom)")
    assert "RuntimeError: boom" in logged[0] and "Traceback" in logged[0]
    assert not folder.exists()


def test_without_the_web_extra_serve_says_what_to_install(monkeypatch, capsys):
    from docdenoise.web import create_app

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ImportError, match=r'pip install "docdenoise\[web\]"'):
        create_app()
    assert main(["serve"]) == 1
    assert 'pip install "docdenoise[web]"' in capsys.readouterr().err


def test_serve_prints_the_address_and_refuses_a_busy_port(monkeypatch):
    from docdenoise.web import _server, serve

    ran = []
    monkeypatch.setattr(_server.LocalServer, "run", lambda self: ran.append(self.url))
    opened = []
    monkeypatch.setattr(_server.webbrowser, "open", opened.append)
    lines = []
    serve(host="0.0.0.0", port=0, open_browser=True, log=lines.append)
    assert lines[0] == f"docdenoise is serving on {ran[0]} (Ctrl-C stops it and deletes its files)"
    assert "anyone who can reach this computer" in lines[1]
    assert opened == [ran[0].replace("0.0.0.0", "127.0.0.1")]
    assert lines[-1].startswith("Stopped")
    busy = _server.LocalServer(None, "127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match=f"Cannot listen on 127.0.0.1 port {busy.port}: "):
            _server.LocalServer(None, "127.0.0.1", busy.port)
    finally:
        busy.socket.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--model", "missing.safetensors"], "is neither a shipped model"),
        (["serve", "--port", "70000"], "expected an integer from 0 to 65535"),
        (["serve", "--max-pages", "0"], "expected an integer >= 1"),
    ],
)
def test_serve_usage_mistakes(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_docdenoise_serve_runs_until_ctrl_c_and_leaves_nothing(tmp_path, dirty):
    env = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "docdenoise", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("docdenoise is serving on http://127.0.0.1:"), line
        url = line.split()[4]
        request = urllib.request.Request(
            url + "api/jobs?name=a.png", data=_png(dirty[0][0]), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
        assert list(tmp_path.glob("docdenoise-serve-*/*/upload.png"))
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Stopped; the uploaded and cleaned files are deleted." in out
    # (onnxruntime keeps a session file, .ses, in the temporary directory when imported)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".ses"] == []


def test_an_upload_broken_off_leaves_nothing():
    import anyio

    from docdenoise.web._app import build_app
    from docdenoise.web._jobs import Models, Workshop

    workshop = Workshop(Models({"none": object}), max_upload_bytes=2**20, max_pages=5)
    app = build_app(workshop, allowed_hosts=["127.0.0.1"])
    messages = iter(
        [
            {"type": "http.request", "body": b"\x89PNG\r\n", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/jobs",
        "raw_path": b"/api/jobs",
        "query_string": b"name=a.png",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    with workshop:
        anyio.run(app, scope, receive, send)
        assert list(workshop.folder.iterdir()) == []
    assert sent[0]["status"] == 400
