"""The package's layers: imports point one way, and the faces use public names.

The import graph is read from the source (every ``import`` statement, also those
inside functions), so a cycle is found even when it is hidden behind a lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "docdenoise"
#: Modules that serve only the command line; it may use them.
CLI_HELPERS = {"docdenoise._demo", "docdenoise._info"}
#: Modules that must not import torch, directly or through the package's own
#: module-level imports: cleaning pages works without torch (tests/test_torch_free.py
#: runs it in a process where torch cannot be imported).
TORCH_FREE = [
    "docdenoise",
    "docdenoise._atomic",
    "docdenoise._denoiser",
    "docdenoise._devices",
    "docdenoise._geometry",
    "docdenoise._inference",
    "docdenoise._info",
    "docdenoise._onnx_engine",
    "docdenoise._params",
    "docdenoise._serialization",
    "docdenoise._validation",
    "docdenoise.cli",
    "docdenoise.datasets._io",
    "docdenoise.datasets._page_writer",
    "docdenoise.datasets._pages",
    "docdenoise.datasets._pdf",
    "docdenoise.exceptions",
    "docdenoise.models",
    "docdenoise.parallel",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, *, top_level_only: bool = False):
    """``(module, imported names)`` for each import in the file."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, [alias.name for alias in node.names]


def _internal_targets(module: str, names: list[str], modules: dict[str, Path]) -> set[str]:
    """The package modules an import statement reaches (``from . import x`` reaches x)."""
    targets = {f"{module}.{n}" for n in names if f"{module}.{n}" in modules}
    if module in modules and (not names or len(targets) < len(names)):
        targets.add(module)
    return targets


def _graph(modules: dict[str, Path], *, top_level_only: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, names in _imports(name, path, top_level_only=top_level_only):
            edges |= _internal_targets(module, names, modules)
        # a package imports its submodules, not the other way round
        graph[name] = {t for t in edges if t != name and not name.startswith(t + ".")}
    return graph


def test_no_import_cycles():
    graph = _graph(_modules())
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


#: The faces of the package (the command line, the web page) and the private modules
#: each may use besides its own: the command line's helpers; the parameter rules,
#: which both declare options with.
FACES = {
    "docdenoise.cli": CLI_HELPERS | {"docdenoise._params"},
    "docdenoise.web": {"docdenoise._params"},
}


def _face_modules() -> list[tuple[str, str]]:
    return [(face, name) for face in FACES for name in _modules() if name.split("._")[0] == face]


@pytest.mark.parametrize(("face", "name"), _face_modules())
def test_the_faces_use_public_names_only(face, name):
    modules = _modules()
    for module, names in _imports(name, modules[name]):
        inside = module == face or module.startswith(face + ".")
        if not module.startswith("docdenoise") or inside or module in FACES[face]:
            continue
        private = [p for p in module.split(".") if p.startswith("_")]
        assert not private, f"{name} imports the private module {module}"
        private_names = [n for n in names if n.startswith("_") and not n.endswith("__")]
        assert not private_names, f"{name} imports {private_names} from {module}"


@pytest.mark.parametrize("name", TORCH_FREE)
def test_torch_free_modules(name):
    modules = _modules()
    graph = _graph(modules, top_level_only=True)
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for module, _ in _imports(current, modules[current], top_level_only=True):
            assert module.split(".")[0] != "torch", f"{name} imports torch through {current}"
        # the package __init__ files run first anyway; follow the module itself
        todo += [m for m in graph[current] if m.count(".") and not m.endswith("__init__")]
