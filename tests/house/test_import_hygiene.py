"""Only gitops_tui/tui/ imports textual: the core runs without the console; views do no I/O; backends sit between."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gitops_tui"


def _imports_textual(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "textual" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "textual":
            return True
    return False


def test_only_the_tui_package_imports_textual() -> None:
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if "tui" not in p.relative_to(PACKAGE).parts[:1] and _imports_textual(p)
    ]
    assert offenders == []


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


def _imported(path: Path) -> set[str]:
    """Every module a file imports (at the top, in functions, under TYPE_CHECKING), relative ones resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        bad = sorted(m for m in _imported(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        out += [f"{path.relative_to(PACKAGE.parent)} imports {m}" for m in bad]
    return out


#: What a pure view may not import: clients, processes, sockets, the packages that do I/O, the sandbox.
IO_MODULES = ("kubernetes", "urllib3", "requests", "socket", "subprocess", "git", "helm_python", "textual",
              "gitops_tui.kube", "gitops_tui.reconciler", "gitops_tui.actions", "gitops_tui.sandbox",
              "gitops_tui.backends", "gitops_tui.tui", "gitops_tui.cli", "gitops_tui.helm.installer",
              "gitops_tui.helm.cluster_view", "gitops_tui.helm.pane_watch", "gitops_tui.paths")


def test_views_are_pure() -> None:
    """views/ turns state into rows: it imports no client, no sandbox, no backend, and opens no file."""
    assert _offenders("views", IO_MODULES) == []
    opened = [str(p.relative_to(PACKAGE.parent)) for p in (PACKAGE / "views").rglob("*.py")
              if any(call in p.read_text() for call in ("open(", ".read_text(", ".write_text(", ".read_bytes("))]
    assert opened == []


def test_backends_sit_between_the_core_and_the_console() -> None:
    """backends/ imports neither the console, the command line nor the sandbox; nothing below imports backends/."""
    assert _offenders("backends", ("textual", "gitops_tui.tui", "gitops_tui.cli", "gitops_tui.sandbox")) == []
    below = ("api", "kube", "reconciler", "helm", "journal", "actions", "views", "sandbox")
    assert [o for folder in below for o in _offenders(folder, ("gitops_tui.backends",))] == []


def test_the_purity_check_is_not_vacuous(tmp_path: Path) -> None:
    """A view importing the kubernetes client is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from kubernetes.client import ApiClient\nimport gitops_tui.views.rows\n")
    assert "kubernetes.client" in _imported(bad) and "gitops_tui.views.rows" in _imported(bad)
