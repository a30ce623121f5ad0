"""The import layers of the vanban package, read from the source with `ast` (nothing is imported).

- the foundation `vanban.core` imports no stage and no app module;
- no stage (ocr, restore, segment, corpus) and no core module imports the app (cli, batch,
  pipeline, manifest and the output-folder readers);
- no two files import each other, directly or through others (lazy imports inside functions count:
  they only hide a cycle; imports under `if TYPE_CHECKING:` do not).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("vanban.ocr", "vanban.restore", "vanban.segment", "vanban.corpus")
CORE = "vanban.core"
APP = (
    "vanban.cli", "vanban.batch", "vanban.pipeline", "vanban.manifest",
    "vanban.outputs", "vanban.index", "vanban.search", "vanban.export", "vanban.corrections",
    "vanban.executors", "vanban.ray_executor", "vanban.archive", "vanban.web",
)  # fmt: skip
# Cycles known today, each to be removed when it is broken; a new cycle fails the test.
KNOWN_CYCLES: list[set[str]] = []


def package_dirs() -> dict[str, Path]:
    """Package name -> folder, from pyproject's [tool.setuptools.package-dir]."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        name: REPO / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()
    }


def module_files() -> dict[str, Path]:
    """Every module of the installed package: dotted name -> source file."""
    modules: dict[str, Path] = {}
    for package, folder in package_dirs().items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "vanban" and parts[0] in {
                "ocr",
                "restore",
                "segment",
                "corpus",
                "models",
            }:
                continue  # not a folder of the vanban/ tree
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Import statements anywhere in the file but under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that the file of module `name` imports (explicit targets only)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        for target in targets:
            while target and target not in known:  # `import vanban.x.y` names vanban.x.y
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def _within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_graph_sees_the_layout(graph):
    for name in ("vanban.cli", "vanban.core.text", "vanban.restore.api", "vanban.ocr",
                 "vanban.segment", "vanban.corpus.channel", "vanban.models"):  # fmt: skip
        assert name in graph
    assert "vanban.core.text" in graph["vanban.corpus.channel"]
    assert "vanban.manifest" in graph["vanban.outputs"]


def test_imports_are_read_everywhere_but_under_type_checking(tmp_path):
    source = tmp_path / "reader.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import tree\n"
        "if TYPE_CHECKING:\n    from vanban.cli import main\n"
        "def late():\n    import vanban.pipeline.helpers\n"
        "    from vanban.core import text, nothing\n",
        encoding="utf-8",
    )
    known = {"vanban.cli", "vanban.pipeline", "vanban.core", "vanban.core.text",
             "vanban.segment.tree", "vanban.segment.reader"}  # fmt: skip
    found = imported_modules("vanban.segment.reader", source, known)
    assert found == {"vanban.segment.tree", "vanban.pipeline", "vanban.core.text", "vanban.core"}


def test_core_imports_no_stage_and_no_app(graph):
    bad = {
        (module, target)
        for module, targets in graph.items()
        if _within(module, CORE)
        for target in targets
        if _within(target, STAGES + APP)
    }
    assert not bad, f"vanban.core must stand alone: {sorted(bad)}"


def test_stages_do_not_import_the_app(graph):
    bad = {
        (module, target)
        for module, targets in graph.items()
        if _within(module, (*STAGES, CORE))
        for target in targets
        if _within(target, APP)
    }
    assert not bad, f"a stage imports the app: {sorted(bad)}"


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (iterative): the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def test_cycle_finder_finds_cycles():
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(toy) == [{"a", "b", "c"}]


def test_no_import_cycles(graph):
    cycles = strongly_connected(graph)
    unknown = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not unknown, f"files that import each other: {unknown}"
    stale = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not stale, f"broken cycles still allowed in KNOWN_CYCLES, remove them: {stale}"
