"""No module of gitops_tui takes another module's private (``_name``) names (issue 24).

A leading underscore says "this module's own": another module that needs it gets a public name in a module both
may import. Checked with ``ast`` over every import statement (top level, in functions, under TYPE_CHECKING):
``from gitops_tui.x import _name``, a relative ``from .x import _name``, ``import gitops_tui.x._module``, and
``module._name`` read through a module imported by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.house.test_module_cycles import PACKAGE, ROOT, absolute_module, module_name, modules

#: (importing module, imported module, name) -> why it stays. Empty: none is allowed.
ALLOWED: dict[tuple[str, str, str], str] = {}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(name: str, path: Path, known: set[str] | dict[str, Path]) -> list[tuple[str, str, str]]:
    """(module, imported module, private name) for every private name of another gitops_tui module ``path`` takes."""
    found: list[tuple[str, str, str]] = []
    bound: dict[str, str] = {}  # local name -> gitops_tui module it stands for
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = absolute_module(node, name, path.name == "__init__.py")
            if not module.startswith("gitops_tui"):
                continue
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target in known:
                    bound[alias.asname or alias.name] = target
                if _private(alias.name) and module != name:
                    found.append((name, module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("gitops_tui"):
                    continue
                parts = alias.name.split(".")
                found += [(name, ".".join(parts[:i]), part) for i, part in enumerate(parts) if _private(part)]
                if alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and _private(node.attr) and bound[node.value.id] != name):
            found.append((name, bound[node.value.id], node.attr))
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    """Every ``_name`` taken across modules in gitops_tui is named; only the allowed ones, with a reason, stay."""
    known = modules()
    assert PACKAGE.is_dir() and len(known) > 300
    found = [hit for module, path in sorted(known.items()) for hit in private_imports(module, path, known)]
    new = [f"{who} takes {name} from {where}" for who, where, name in found if (who, where, name) not in ALLOWED]
    assert new == [], "private names imported across modules:\n" + "\n".join(new)
    gone = [key for key in ALLOWED if key not in found]
    assert gone == [], f"allowed private imports that no longer exist (remove them from ALLOWED): {gone}"


def test_the_check_sees_every_form(tmp_path: Path) -> None:
    """A private name taken by absolute, relative, dotted-module and attribute forms is reported; a module's own is not."""
    package = tmp_path / "gitops_tui"
    package.mkdir()
    (package / "__init__.py").write_text('"""p."""\n')
    (package / "a.py").write_text('"""a."""\n_own = 1\n')
    (package / "b.py").write_text(
        '"""b."""\nfrom gitops_tui.a import _x\nfrom .a import _y\nimport gitops_tui._hidden\n'
        'from gitops_tui import a\n\ndef f():\n    return a._z\n')
    known = {"gitops_tui": package / "__init__.py", "gitops_tui.a": package / "a.py", "gitops_tui.b": package / "b.py"}
    found = private_imports("gitops_tui.b", package / "b.py", known)
    assert sorted(found) == [("gitops_tui.b", "gitops_tui", "_hidden"), ("gitops_tui.b", "gitops_tui.a", "_x"),
                             ("gitops_tui.b", "gitops_tui.a", "_y"), ("gitops_tui.b", "gitops_tui.a", "_z")]
    assert private_imports("gitops_tui.a", package / "a.py", known) == []
    assert ROOT.is_dir() and module_name(ROOT / "gitops_tui" / "api" / "__init__.py") == "gitops_tui.api"
