"""The package's import graph: no cycles, and test-only tools stay apart.

Read with the standard library's ``ast`` (every ``import`` and ``from ... import`` in
``accord/``, function-level ones included, since a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "accord"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The accord modules `path` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                elif node.module in modules:
                    found.add(node.module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, or None (iterative DFS, colouring nodes)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return path[path.index(child):] + [child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    break
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return None


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_accords_import_graph_has_no_cycle() -> None:
    graph = _graph()
    # A package's __init__ that re-exports its own submodules is not a cycle through them.
    for name in graph:
        graph[name] = {d for d in graph[name] if not (name.startswith(d + ".") and
                                                       (_modules()[d].name == "__init__.py"))}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


@pytest.mark.parametrize("module", sorted(m for m in _modules() if not m.startswith(
    ("accord.testing", "accord.cli"))))
def test_only_the_cli_and_testing_import_accord_testing(module: str) -> None:
    graph = _graph()
    assert not {d for d in graph[module] if d.startswith("accord.testing")}, module


def test_the_package_tree_is_the_architecture() -> None:
    top = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", ".")))
    assert top == ["agents", "api.py", "chain", "cli", "crosschain", "dashboard", "deploy",
                   "dev", "errors.py", "ipfs", "paths.py", "service", "settings.py", "solidity",
                   "testing", "workflows"]
