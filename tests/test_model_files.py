"""Model files: no code execution, damage and tampering detected, atomic saves,
device fallbacks (``docdenoise/_serialization.py``)."""

from __future__ import annotations

import builtins
import json
import os
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

from docdenoise import DocumentDenoiser
from docdenoise import _serialization as ser
from docdenoise.exceptions import DeviceError, DeviceWarning, ModelFileError
from docdenoise.models import ConvAutoencoder

TINY = {"epochs": 1, "batch_size": 4, "random_state": 0, "module__channels": (2, 2)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((3, 16, 24), dtype=np.float32)


@pytest.fixture(scope="module")
def fitted(data):
    return DocumentDenoiser(**TINY).fit(data, data)


@pytest.fixture
def model_file(tmp_path, fitted):
    path = tmp_path / "model.safetensors"
    fitted.save(path)
    return path


def _split(path):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _rewrite(path, edit, *, fix_digest=False):
    """Apply ``edit(meta)`` to the docdenoise metadata and write the file back."""
    header, body = _split(path)
    meta = json.loads(header["__metadata__"]["docdenoise"])
    edit(meta)
    if fix_digest:
        meta["metadata_sha256"] = ser._meta_digest(meta)
    header["__metadata__"]["docdenoise"] = json.dumps(meta)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + body)


# --------------------------------------------------------------------------- round trip


def test_roundtrip_same_outputs_and_normal_permissions(model_file, fitted, data):
    loaded = DocumentDenoiser.load(model_file)
    np.testing.assert_array_equal(loaded.transform(data), fitted.transform(data))
    assert loaded.history_[0]["epoch"] == 1
    umask = os.umask(0)
    os.umask(umask)
    assert (model_file.stat().st_mode & 0o777) == (0o666 & ~umask)


# --------------------------------------------------------------------------- hostile files


class _Evil:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def test_evil_pickle_really_runs_code_when_unpickled(tmp_path):
    """Sanity check of the payload used below."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Evil(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_named_safetensors_is_refused_without_running(tmp_path, protocol):
    marker = tmp_path / "PWNED"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"state": _Evil(marker)}, protocol=protocol))
    with pytest.raises(ModelFileError, match=r"model\.safetensors.*pickle.*never unpickles"):
        DocumentDenoiser.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("zipfile", [True, False])
def test_torch_save_file_is_refused_without_running(tmp_path, zipfile):
    marker = tmp_path / "PWNED"
    path = tmp_path / "model.safetensors"
    torch.save(
        {"weights": torch.zeros(3), "evil": _Evil(marker)},
        path,
        _use_new_zipfile_serialization=zipfile,
    )
    kind = "zip archive" if zipfile else "pickle"
    with pytest.raises(ModelFileError, match=rf"model\.safetensors.*{kind}"):
        DocumentDenoiser.load(path)
    assert not marker.exists()


def test_plain_safetensors_without_our_metadata(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match=r"other\.safetensors.*no docdenoise metadata"):
        DocumentDenoiser.load(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "only 0 bytes"),
        (b"\x00\x01", "only 2 bytes"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "PNG image"),
        (b"hello world, I am a text file", "not a docdenoise model file"),
    ],
)
def test_not_model_files(tmp_path, content, match):
    path = tmp_path / "x.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=rf"x\.safetensors.*{match}"):
        DocumentDenoiser.load(path)


def test_missing_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        DocumentDenoiser.load(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError, match="not a file"):
        DocumentDenoiser.load(tmp_path)


def test_huge_declared_header_allocates_nothing(tmp_path):
    path = tmp_path / "forged.safetensors"
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}" * 8)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"declare a \d+-byte header"):
            DocumentDenoiser.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_header_over_limit_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.safetensors"
    path.write_bytes((64).to_bytes(8, "little") + b" " * 64)
    monkeypatch.setattr(ser, "MAX_HEADER_BYTES", 32)
    with pytest.raises(ModelFileError, match="64-byte header"):
        DocumentDenoiser.load(path)


def test_file_size_limit(tmp_path, model_file):
    with pytest.raises(ModelFileError, match=r"more than the 100 bytes"):
        ser.read_model_file(model_file, max_bytes=100)
    huge = tmp_path / "huge.safetensors"
    with open(huge, "wb") as fh:  # sparse: costs no disk space
        fh.truncate(ser.MAX_MODEL_BYTES + 1)
    with pytest.raises(ModelFileError, match=r"huge\.safetensors.*bytes"):
        DocumentDenoiser.load(huge)


# --------------------------------------------------------------------------- damage


@pytest.mark.parametrize("keep", [0.01, 0.5, 0.9, 0.999])
def test_truncated(model_file, keep):
    raw = model_file.read_bytes()
    model_file.write_bytes(raw[: max(9, int(len(raw) * keep))])
    with pytest.raises(ModelFileError, match=r"model\.safetensors.*(truncated|not a docdenoise)"):
        DocumentDenoiser.load(model_file)


@pytest.mark.parametrize("where", [-1, -17, -200])
def test_flipped_weight_bytes_fail_integrity(model_file, where):
    raw = bytearray(model_file.read_bytes())
    raw[where] ^= 0x01
    model_file.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=r"model\.safetensors.*integrity.*weights"):
        DocumentDenoiser.load(model_file)


def test_edited_metadata_fails_integrity(model_file):
    def edit(meta):
        meta["params"]["epochs"] = 1000

    _rewrite(model_file, edit)
    with pytest.raises(ModelFileError, match=r"integrity.*metadata"):
        DocumentDenoiser.load(model_file)


def test_edited_weights_digest_fails(model_file):
    def edit(meta):
        meta["weights_sha256"] = "0" * 64

    _rewrite(model_file, edit, fix_digest=True)
    with pytest.raises(ModelFileError, match=r"integrity.*weights"):
        DocumentDenoiser.load(model_file)


def test_metadata_not_json(model_file):
    header, body = _split(model_file)
    header["__metadata__"]["docdenoise"] = "{not json"
    text = json.dumps(header).encode()
    model_file.write_bytes(len(text).to_bytes(8, "little") + text + body)
    with pytest.raises(ModelFileError, match="no docdenoise metadata"):
        DocumentDenoiser.load(model_file)


def test_tensor_table_edited(model_file):
    header, body = _split(model_file)
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"][1] += 4  # claims more bytes than it owns
    text = json.dumps(header).encode()
    model_file.write_bytes(len(text).to_bytes(8, "little") + text + body)
    with pytest.raises(ModelFileError, match=r"model\.safetensors"):
        DocumentDenoiser.load(model_file)


@pytest.mark.parametrize("version", [2, 99, "1", True, None, 0])
def test_wrong_format_version(model_file, version):
    def edit(meta):
        meta["format_version"] = version

    _rewrite(model_file, edit, fix_digest=True)
    with pytest.raises(ModelFileError, match=rf"model format {version!r}.*reads formats 1 to 1"):
        DocumentDenoiser.load(model_file)


@pytest.mark.parametrize(
    ("field", "value"),
    [("history", {"a": 1}), ("params", [1]), ("history", [1, 2]), ("model", 3)],
)
def test_malformed_metadata_types(model_file, field, value):
    def edit(meta):
        meta[field] = value

    _rewrite(model_file, edit, fix_digest=True)
    with pytest.raises(ModelFileError, match="malformed"):
        DocumentDenoiser.load(model_file)


def test_unknown_parameter_in_file(model_file):
    def edit(meta):
        meta["params"]["not_a_param"] = 1

    _rewrite(model_file, edit, fix_digest=True)
    with pytest.raises(ModelFileError, match="not_a_param"):
        DocumentDenoiser.load(model_file)


def test_unregistered_model_class(tmp_path, data):
    class TinyNet(torch.nn.Module):
        size_multiple = 1
        receptive_margin = 1

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return torch.sigmoid(self.conv(x))

    den = DocumentDenoiser(TinyNet, epochs=1, random_state=0).fit(data, data)
    den.save(tmp_path / "custom.safetensors")
    with pytest.raises(ModelFileError, match=r"TinyNet.*not registered.*model=TheClass"):
        DocumentDenoiser.load(tmp_path / "custom.safetensors")
    loaded = DocumentDenoiser.load(tmp_path / "custom.safetensors", model=TinyNet)
    np.testing.assert_array_equal(loaded.transform(data), den.transform(data))
    with pytest.raises(ModelFileError, match="does not match architecture"):
        DocumentDenoiser.load(tmp_path / "custom.safetensors", model=torch.nn.Identity)


# --------------------------------------------------------------------------- atomic saves


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fail_in", ["replace", "fsync", "write"])
@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_previous_file(model_file, fitted, data, monkeypatch, fail_in, exc):
    before = model_file.read_bytes()
    other = DocumentDenoiser(**{**TINY, "random_state": 1}).fit(data, data)

    def boom(*args, **kwargs):
        raise exc

    if fail_in == "write":
        import safetensors.torch

        real = safetensors.torch.save

        def half_written(*args, **kwargs):  # the data are computed, then the write fails
            real(*args, **kwargs)
            raise exc

        monkeypatch.setattr(safetensors.torch, "save", half_written)
    else:
        monkeypatch.setattr(ser.os, fail_in, boom)
    with pytest.raises(type(exc)):
        other.save(model_file)
    monkeypatch.undo()
    assert model_file.read_bytes() == before
    assert _leftovers(model_file.parent) == []
    DocumentDenoiser.load(model_file)


def test_interrupted_first_save_leaves_nothing(tmp_path, fitted, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ser.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        fitted.save(tmp_path / "new.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_to_bad_destinations(tmp_path, fitted):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fitted.save(tmp_path / "missing" / "m.safetensors")
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        fitted.save(tmp_path / "dir.safetensors")
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- devices


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_gpu_pickle_loads_on_cpu_with_warning(fitted, data, device):
    est = pickle.loads(pickle.dumps(fitted))
    est.device_ = torch.device("cuda")  # what a GPU-trained estimator records
    est.device = device
    blob = pickle.dumps(est)
    with pytest.warns(DeviceWarning, match=r"on 'cuda'.*not available.*\['cpu'\].*CPU"):
        loaded = pickle.loads(blob)
    assert loaded.device_ == torch.device("cpu")
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.transform(data), fitted.transform(data), atol=1e-6)


def test_cpu_pickle_loads_without_warning(fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(fitted))
    assert loaded.device_.type == fitted.device_.type
    # pickling works on a copy: the live estimator keeps its device and optimizer
    assert isinstance(fitted.device_, torch.device)
    assert fitted.optimizer_ is not None


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_load_on_missing_cuda_names_available_devices(model_file):
    with pytest.raises(DeviceError, match=r"cuda.*not available.*\['cpu'"):
        DocumentDenoiser.load(model_file, device="cuda")
    with pytest.raises(DeviceError, match="Unknown device 'gpu0'"):
        DocumentDenoiser.load(model_file, device="gpu0")
    assert DocumentDenoiser.load(model_file, device="cpu").device_ == torch.device("cpu")


# --------------------------------------------------------------------------- hostile metadata


class _SpyCAE(ConvAutoencoder):
    """Records the device each instance is built on."""

    built_on: list[str] = []

    def __init__(self, channels=(16, 32)):
        type(self).built_on.append(torch.empty(0).device.type)
        super().__init__(channels)


def test_huge_network_request_is_refused_before_allocating(model_file, monkeypatch):
    def edit(meta):
        meta["params"]["module__channels"] = [40_000, 40_000]  # ~115 GB of weights

    _rewrite(model_file, edit, fix_digest=True)
    monkeypatch.setattr(_SpyCAE, "built_on", [])
    with pytest.raises(ModelFileError, match=r"do not fit the network"):
        DocumentDenoiser.load(model_file, model=_SpyCAE)
    assert _SpyCAE.built_on == ["meta"]  # never built for real


def test_matching_file_is_built_once_for_real(model_file, monkeypatch):
    monkeypatch.setattr(_SpyCAE, "built_on", [])
    DocumentDenoiser.load(model_file, model=_SpyCAE)
    assert _SpyCAE.built_on == ["meta", "cpu"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image_shape", 7),
        ("module__channels", "ab"),
        ("module__channels", [2]),
        ("n_features_in", [1, 2]),
    ],
)
def test_wrong_values_in_metadata(model_file, field, value):
    def edit(meta):
        if field == "n_features_in":
            meta[field] = value
        else:
            meta["params"][field] = value

    _rewrite(model_file, edit, fix_digest=True)
    with pytest.raises(ModelFileError, match="does not match architecture"):
        DocumentDenoiser.load(model_file)


def test_deeply_nested_json_header(tmp_path):
    text = b"[" * 200_000 + b"]" * 200_000
    path = tmp_path / "deep.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text)
    with pytest.raises(ModelFileError, match="no docdenoise metadata"):
        DocumentDenoiser.load(path)
