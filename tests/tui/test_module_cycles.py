"""The console's and the read side's modules (tui, backends, views) import each other without a circle (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import gitops_tui.tui

PACKAGE = Path(gitops_tui.tui.__file__).parent
#: The packages checked together: the console, the backends behind it and the pure views.
CHECKED = ("tui", "backends", "views")
PREFIXES = tuple(f"gitops_tui.{name}" for name in CHECKED)


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every gitops_tui.tui module a file imports: at the top, in functions, under TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIXES):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PREFIXES))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for name in CHECKED for p in (PACKAGE.parent / name).rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_module_of_the_console_imports_another_in_a_circle() -> None:
    graph = _graph()
    assert "gitops_tui.tui.app" in graph and "gitops_tui.tui.screens.main" in graph
    assert "gitops_tui.backends.live" in graph and "gitops_tui.views.rows" in graph
    assert _cycle(graph) == [], " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_one() -> None:
    """The check is not vacuous: a circle through three modules is reported."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
