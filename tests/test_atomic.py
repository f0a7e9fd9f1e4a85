"""The one atomic writer behind model files and saved images."""

from __future__ import annotations

import pytest

from docdenoise._atomic import atomic_path, atomic_write, atomic_write_bytes


def test_writes_replaces_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    with pytest.raises(FileExistsError, match="already exists"):
        atomic_write_bytes(path, b"three", overwrite=False)
    assert path.read_bytes() == b"two"
    atomic_write_bytes(tmp_path / "new.bin", b"x", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin", "new.bin"]  # no temp files


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def half(fh):
        fh.write(b"ne")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_bad_destinations(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_bytes(tmp_path / "missing" / "f.bin", b"")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        atomic_write_bytes(tmp_path, b"")


def _deny_new_files(monkeypatch):
    """Simulate a folder where no file can be created (the tests may run as root)."""
    import docdenoise._atomic as atomic

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path.parent / f".{path.name}.x.tmp"))

    monkeypatch.setattr(atomic, "_create_temp_next_to", denied)


def test_a_write_refused_by_the_folder_names_the_destination(tmp_path, monkeypatch):
    _deny_new_files(monkeypatch)
    with pytest.raises(PermissionError) as info:
        atomic_write_bytes(tmp_path / "f.bin", b"")
    assert info.value.filename == str(tmp_path / "f.bin")  # not the temporary name
    assert ".tmp" not in str(info.value)


def test_check_writable_folder(tmp_path, monkeypatch):
    from docdenoise._atomic import check_writable_folder

    check_writable_folder(tmp_path)
    check_writable_folder(tmp_path / "new" / "deeper")  # would be created in tmp_path
    assert list(tmp_path.iterdir()) == []  # the check leaves nothing behind
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="'.*file' is not a folder"):
        check_writable_folder(tmp_path / "file" / "sub")
    (tmp_path / "ro").mkdir()
    _deny_new_files(monkeypatch)
    with pytest.raises(PermissionError, match=r"Output folder '.*ro' is not writable: Permission"):
        check_writable_folder(tmp_path / "ro", what="Output folder")
    with pytest.raises(PermissionError, match=r"cannot be created in '.*': Permission denied"):
        check_writable_folder(tmp_path / "ro" / "sub", what="Output folder")


def test_atomic_path_for_writers_that_want_a_file_name(tmp_path):
    path = tmp_path / "f.bin"
    with atomic_path(path, overwrite=False) as tmp:
        assert tmp.parent == tmp_path and tmp.is_file()
        tmp.write_bytes(b"new")
        assert not path.exists()  # only complete files appear
    assert path.read_bytes() == b"new"

    def write(data, overwrite=True, fail=False):
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_bytes(data)
            if fail:
                raise RuntimeError("halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        write(b"half", fail=True)
    with pytest.raises(FileExistsError):
        write(b"other", overwrite=False)
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary files
