"""No two modules of gitops_tui import each other in a circle, counting imports inside functions (issue 24).

Every import statement counts: at the top, inside functions and methods, under ``TYPE_CHECKING``. An import
names the module it loads: ``from gitops_tui.a import b`` is an edge to ``gitops_tui.a.b`` when that is a
module, else to ``gitops_tui.a`` (a name of the package's ``__init__``). The package ``__init__`` that Python
runs on the way to a submodule is not counted: it is not a choice of the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gitops_tui"

#: Cycles known and not broken on this branch, each as its set of modules, with the reason it stays. No new one may
#: appear; remove an entry once its cycle is gone (test_every_known_cycle_still_exists says so).
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    """The dotted name of the module in ``path`` (a package's ``__init__.py`` is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of gitops_tui by its dotted name."""
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def absolute_module(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved against ``name``."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: set[str] | dict[str, Path]) -> set[str]:
    """The modules of ``known`` that the module ``name`` in ``path`` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = absolute_module(node, name, path.name == "__init__.py")
            for alias in node.names:
                found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    """Module -> the gitops_tui modules it imports."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (each a set of modules in some circle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm without recursion: the package's graph is deep enough to matter.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def one_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the first module of ``component``, for the failure message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return component


def test_no_module_imports_another_in_a_circle() -> None:
    """Every circle of imports in gitops_tui is named; only the known ones, each with its reason, may stay."""
    graph = import_graph()
    assert "gitops_tui.reconciler.manager" in graph and "gitops_tui.tui.app" in graph
    new = [" -> ".join(one_circle(graph, c)) for c in cycles(graph) if frozenset(c) not in KNOWN_CYCLES]
    assert new == [], "import cycles:\n" + "\n".join(new)


def test_every_known_cycle_still_exists() -> None:
    """A known cycle that was broken leaves the allow-list, so it cannot come back unnoticed."""
    present = {frozenset(c) for c in cycles(import_graph())}
    assert [sorted(c) for c in KNOWN_CYCLES if c not in present] == []


def test_imports_inside_functions_and_type_checking_count(tmp_path: Path) -> None:
    """The walk sees a function's import, a TYPE_CHECKING import and a relative one: a circle through them is found."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""p."""\n')
    (package / "a.py").write_text('"""a."""\ndef f():\n    from pkg import b\n')
    (package / "b.py").write_text('"""b."""\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n')
    (package / "c.py").write_text('"""c."""\nfrom .a import f\n')
    known = {f"pkg.{n}": package / f"{n}.py" for n in ("a", "b", "c")} | {"pkg": package / "__init__.py"}
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"} and graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert one_circle(graph, ["pkg.a", "pkg.b", "pkg.c"]) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
