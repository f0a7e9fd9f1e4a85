"""Every public name has a numpydoc docstring, and the documentation covers it.

The public API is discovered, not listed: every non-private module of the package and
the names in its ``__all__`` (or, without ``__all__``, the classes and functions it
defines). Each one is checked with :func:`numpydoc.validate.validate` for a sensible
subset of numpydoc's checks, and must appear in the API reference ``docs/api.rst``.
The user-guide pages written as doctests (``docs/*.rst`` with ``>>>`` blocks) are run
here too, so the code users copy from the docs keeps working.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from numpydoc.validate import validate

import docdenoise

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# numpydoc checks applied to public classes and functions (codes: numpydoc.validate).
OBJECT_CHECKS = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "SS01",  # no one-line summary
    "PR01",  # a parameter is not documented
    "PR02",  # a documented parameter does not exist
    "PR03",  # parameters documented in another order than the signature
    "PR04",  # a parameter has no type
    "PR07",  # a parameter has no description
    "RT01",  # returns a value but has no Returns section
    "RT03",  # a return value has no description
    "YD01",  # a generator without a Yields section
    "EX01",  # no Examples section
}
# Public methods: the same, but an Examples section on the class is enough.
METHOD_CHECKS = OBJECT_CHECKS - {"EX01"}
# Exceptions and warnings need only a summary saying when they are raised.
EXCEPTION_CHECKS = {"GL08", "SS01"}


def _public_modules() -> list[str]:
    names = ["docdenoise"]
    for info in pkgutil.walk_packages(docdenoise.__path__, prefix="docdenoise."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p in ("tests", "conftest") for p in parts):
            continue
        names.append(info.name)
    return sorted(names)


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", "").startswith(module_name)
    ]


def _is_documented_callable(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _public_objects() -> dict[object, tuple[object, list[str]]]:
    """Map each public object to itself and its public paths (shortest first).

    Classes and functions re-exported under several names count once; other objects
    (scorers, constants) are keyed by path. Dunder names (``__version__``) are skipped.
    """
    found: dict[object, tuple[object, list[str]]] = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in _public_names(module_name):
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            path = f"{module_name}.{name}"
            key = id(obj) if _is_documented_callable(obj) else path
            found.setdefault(key, (obj, []))[1].append(path)
    for _obj, paths in found.values():
        paths.sort(key=lambda p: (p.count("."), p))  # shortest public path first
    return found


# Classes and functions, each under its shortest public path.
PUBLIC = sorted(
    paths[0] for obj, paths in _public_objects().values() if _is_documented_callable(obj)
)


def _is_exception(obj: object) -> bool:
    return inspect.isclass(obj) and issubclass(obj, BaseException)


def _methods(cls: type) -> list[str]:
    """Public methods defined by ``cls`` itself (not inherited from torch/sklearn)."""
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)) or inspect.isfunction(member):
            out.append(name)
    return sorted(out)


def _errors(path: str, checks: set[str]) -> list[str]:
    result = validate(path)
    return [f"{code}: {msg}" for code, msg in result["errors"] if code in checks]


def test_public_api_is_found():
    # Guards the discovery itself: a broken walk would make every test below vacuous.
    assert "docdenoise.DocumentDenoiser" in PUBLIC
    assert "docdenoise.datasets.make_dirty_documents" in PUBLIC
    assert len(PUBLIC) >= 15


@pytest.mark.parametrize("path", PUBLIC)
def test_public_docstring(path):
    module_name, _, name = path.rpartition(".")
    obj = getattr(importlib.import_module(module_name), name)
    checks = EXCEPTION_CHECKS if _is_exception(obj) else OBJECT_CHECKS
    errors = _errors(path, checks)
    assert not errors, f"{path} docstring:\n  " + "\n  ".join(errors)


METHODS = [
    f"{path}.{method}"
    for path in PUBLIC
    for cls in [getattr(importlib.import_module(path.rpartition(".")[0]), path.rpartition(".")[2])]
    if inspect.isclass(cls) and not _is_exception(cls)
    for method in _methods(cls)
]


@pytest.mark.parametrize("path", METHODS)
def test_public_method_docstring(path):
    errors = _errors(path, METHOD_CHECKS)
    assert not errors, f"{path} docstring:\n  " + "\n  ".join(errors)


def _api_reference_names(text: str) -> set[str]:
    """Full names listed in the autosummary tables (and ``.. data::``) of an .rst file."""
    names: set[str] = set()
    module = ""
    in_table = False
    for line in text.splitlines():
        stripped = line.strip()
        match = re.match(r"\.\. (?:current)?module:: *(\S+)", stripped)
        if match:
            module, in_table = match.group(1), False
            continue
        match = re.match(r"\.\. (?:auto)?data:: *(\S+)", stripped)  # a constant
        if match:
            names.add(f"{module}.{match.group(1)}")
            in_table = False
            continue
        if stripped.startswith(".. autosummary::"):
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith((" ", "\t")) and stripped:
            in_table = False
        elif stripped and not stripped.startswith(":"):
            entry = stripped.lstrip("~")
            names.add(entry if entry.startswith("docdenoise.") else f"{module}.{entry}")
    return names


def test_api_reference_parser():
    text = (
        ".. currentmodule:: docdenoise\n\n.. autosummary::\n   :toctree: generated/\n\n"
        "   DocumentDenoiser\n   datasets.load_images\n\nText\n\n   Indented\n\n"
        ".. data:: LIMIT\n   :value: 3\n\n   What it limits.\n"
    )
    assert _api_reference_names(text) == {
        "docdenoise.DocumentDenoiser",
        "docdenoise.datasets.load_images",
        "docdenoise.LIMIT",
    }


def test_api_reference_lists_every_public_name():
    documented = _api_reference_names((DOCS / "api.rst").read_text(encoding="utf-8"))
    missing = [
        paths[0] for _obj, paths in _public_objects().values() if not documented.intersection(paths)
    ]
    assert not missing, f"add these public names to docs/api.rst: {sorted(missing)}"


DOCTEST_PAGES = sorted(
    p.name
    for p in DOCS.glob("*.rst")
    if re.search(r"^\s*>>> ", p.read_text(encoding="utf-8"), re.M)
)


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_docs_page_doctests(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # pages that save files write them here
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        raise_on_error=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} doctest(s) failed in docs/{page}; see output above"
