"""Sources as a tree: a Flux child source (label ``gitops-tui.io/parent-source``) follows its parent, indented."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gitops_tui.api.names import LABEL_PARENT_SOURCE as LABEL_PARENT

#: The mark before a child's name, once per level.
BRANCH = "└ "

T = TypeVar("T")


def parent_of(kustomization: dict[str, Any] | None) -> str:
    """The parent source named by a FederatedKustomization's label, "" for a top-level source."""
    return str((((kustomization or {}).get("metadata") or {}).get("labels") or {}).get(LABEL_PARENT) or "")


def tree_order(items: Sequence[T], key: Callable[[T], tuple[str, str]],
               parent: Callable[[T], str]) -> list[tuple[T, int]]:
    """``items`` with each child right after its parent (same namespace), and its depth; orphans stay at the top level.

    ``key`` gives (namespace, name); ``parent`` the parent's name ("" for none). Input order is kept among siblings.
    """
    by_key = {key(item): item for item in items}
    children: dict[tuple[str, str], list[T]] = {}
    roots: list[T] = []
    for item in items:
        namespace, _ = key(item)
        up = parent(item)
        if up and (namespace, up) in by_key and (namespace, up) != key(item):
            children.setdefault((namespace, up), []).append(item)
        else:
            roots.append(item)
    ordered: list[tuple[T, int]] = []
    seen: set[tuple[str, str]] = set()

    def visit(item: T, depth: int) -> None:
        if key(item) in seen:
            return
        seen.add(key(item))
        ordered.append((item, depth))
        for child in children.get(key(item), []):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    for item in items:  # a cycle of parents: shown flat rather than lost
        visit(item, 0)
    return ordered


def indent(name: str, depth: int) -> str:
    """The name as shown in a tree: two spaces per level above the first, then the branch mark."""
    return name if depth == 0 else "  " * (depth - 1) + BRANCH + name
