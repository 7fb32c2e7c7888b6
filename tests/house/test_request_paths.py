"""Every request path is built by gitops_tui/api/paths.py from quoted parts; a scan of the code base finds any other.

The sandbox (gitops_tui/sandbox/) is a server: it parses paths and builds none for a client, so it is not scanned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gitops_tui.api import names
from gitops_tui.api.paths import (
    PathPartRefused,
    dynamic_path,
    item_path,
    management_path,
    quote_part,
    resource_path,
)

PACKAGE = Path(__file__).resolve().parents[2] / "gitops_tui"
HELPER = PACKAGE / "api" / "paths.py"
#: A literal that is (the start of) a REST path, or names a namespace segment.
_PATH_LITERAL = re.compile(r"(^/apis?(/|$))|(/apis?/)|(/namespaces(/|$))")
#: Names of variables that hold a path built elsewhere (appending to one is building a path).
_PATHY = re.compile(r"path|base|collection|prefix", re.I)


def _identifier(node: ast.AST) -> str:
    """The name a value is known by: a variable, an attribute, or the function that made it."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _identifier(node.func)
    if isinstance(node, ast.Subscript):
        return _identifier(node.value)
    return ""


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every place that builds a request path by hand."""
    found: list[tuple[int, str]] = []
    docstrings = {id(body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and (body := node.body) and isinstance(body[0], ast.Expr)}
    for node in ast.walk(tree):
        text = _literal(node)
        if text is not None and id(node) not in docstrings and _PATH_LITERAL.search(text):
            found.append((node.lineno, f"path literal {text!r}"))
        elif isinstance(node, ast.JoinedStr):
            values = node.values
            first, second = (values + [None, None])[:2]
            if (isinstance(first, ast.FormattedValue) and _PATHY.search(_identifier(first.value))
                    and (_literal(second) or "").startswith("/")):
                found.append((node.lineno, "f-string appending to a path"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if (_literal(side) or "").startswith("/") and _PATHY.search(_identifier(other)):
                    found.append((node.lineno, "concatenation onto a path"))
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and _PATHY.search(
                _identifier(node.target)):
            value = node.value
            start = _literal(value) if not isinstance(value, ast.JoinedStr) else _literal(value.values[0])
            if (start or "").startswith("/"):
                found.append((node.lineno, "+= onto a path"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "path"
              and {k.arg for k in node.keywords} & {"name", "namespace"}):
            found.append((node.lineno, "the kubernetes client's own path builder (names unquoted)"))
    return found


def test_no_request_path_is_built_outside_the_helper() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "sandbox" or path == HELPER:
            continue
        for line, what in _offences(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"gitops_tui/{relative}:{line}: {what}")
    assert offenders == [], "build request paths with gitops_tui.api.paths:\n" + "\n".join(offenders)


@pytest.mark.parametrize("source", [
    'path = f"/api/v1/namespaces/{ns}/secrets/{name}"',
    'path = "/apis/" + group + "/v1"',
    'url = f"{base}/{name}"',
    'path += f"/{name}"',
    'x = collection + "/" + name',
    'p = resource.path(name=name, namespace=ns)',
    'p = "/api/v1/namespaces/%s" % ns',
])
def test_the_scan_finds_each_way_of_building_a_path_by_hand(source: str) -> None:
    assert _offences(ast.parse(source)), source


def test_the_scan_leaves_messages_and_file_paths_alone() -> None:
    assert _offences(ast.parse('m = "/api responded ok"\nq = f"{ns}/{name}"\nd = str(root) + "/"')) == []


@pytest.mark.parametrize("hostile", ["../../beta/secrets/beta-db", "a/b", "x%2Fy", "a?b=c", "a#b", "a b"])
def test_a_hostile_name_stays_one_segment(hostile: str) -> None:
    path = resource_path("v1", "secrets", "alpha", hostile)
    assert path.startswith("/api/v1/namespaces/alpha/secrets/")
    assert path.count("/") == 6
    assert "?" not in path and "#" not in path and " " not in path
    assert management_path(names.KIND_FEDERATED_GIT_REPOSITORY, "alpha", hostile).count("/") == 7
    assert item_path("/api/v1/namespaces", hostile).count("/") == 4


@pytest.mark.parametrize("part", ["", ".", ".."])
def test_dot_segments_and_empty_parts_are_refused(part: str) -> None:
    with pytest.raises(PathPartRefused):
        quote_part(part)
    with pytest.raises(PathPartRefused):
        resource_path("v1", "secrets", "alpha", part or "..")


def test_valid_names_are_unchanged_and_dynamic_resources_use_the_helper() -> None:
    assert resource_path("apps/v1", "deployments", "team-a", "web.v2") == "/apis/apps/v1/namespaces/team-a/deployments/web.v2"
    assert resource_path("v1", "namespaces", None, "team-a") == "/api/v1/namespaces/team-a"
    assert management_path(names.KIND_PROJECT, "ignored", "shop", "status") == "/apis/gitops-tui.io/v1alpha1/projects/shop/status"

    class Resource:
        group_version = "v1"
        name = "configmaps"
        namespaced = True

    assert dynamic_path(Resource(), "alpha", "../x") == "/api/v1/namespaces/alpha/configmaps/..%2Fx"
