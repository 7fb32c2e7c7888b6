"""Flux children are bounded: no Kustomization includes itself (a cycle, named), and a project holds at most N children.

Children keep their Flux names, unique in the project namespace, so the same files always declare the same
names: a Kustomization whose name is already one of its declaring child's ancestors includes itself, directly or
through others, and is refused as a cycle. The per-project cap (Project ``spec.limits.maxFluxChildren``, default
100) refuses a revision that would hold more. docs/flux.md#bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.project import DEFAULT_MAX_FLUX_CHILDREN, Project
from gitops_tui.reconciler.errors import OverLimit, ValidationFailed

__all__ = ["DEFAULT_MAX_FLUX_CHILDREN", "ancestry", "check_cap", "check_cycles", "max_children", "parent_label"]
#: Ancestors followed at most (a deeper chain is refused as if it were a cycle: it cannot be a real layout).
MAX_DEPTH = 32

#: Reads a FederatedKustomization of the namespace by name (None when absent).
Reader = Callable[[str], "dict[str, Any] | None"]


def parent_label(obj: dict[str, Any] | None) -> str:
    """The parent source named by an object's ``gitops-tui.io/parent-source`` label ("" for none)."""
    return str((((obj or {}).get("metadata") or {}).get("labels") or {}).get(names.LABEL_PARENT_SOURCE) or "")


def ancestry(read: Reader, source: str, obj: dict[str, Any] | None) -> list[str]:
    """The chain of sources from the root down to ``source`` (itself last), following parent labels."""
    chain = [source]
    parent = parent_label(obj)
    while parent and parent not in chain and len(chain) < MAX_DEPTH:
        chain.insert(0, parent)
        parent = parent_label(read(parent))
    if parent in chain:  # a label loop (written by hand): name it as the cycle it is
        chain.insert(0, parent)
    return chain


def check_cycles(chain: list[str], declared: Iterable[tuple[str, str]]) -> None:
    """ValidationFailed when a declared Kustomization (name, where) is the source itself or one of its ancestors.

    The message names the path, as ``Kustomization/apps in x.yaml: cycle: apps -> infra -> apps``.
    """
    if len(chain) >= MAX_DEPTH:
        raise ValidationFailed(f"Flux children nest more than {MAX_DEPTH} levels deep: {' -> '.join(chain[-4:])}; "
                               "a Kustomization includes itself")
    for name, where in declared:
        if name in chain:
            loop = chain[chain.index(name):] + [name]
            raise ValidationFailed(f"{where}: cycle: {' -> '.join(loop)}; a Kustomization may not include itself, "
                                   "directly or through others")


def check_cap(cap: int, project: str, others: int, wanted: int) -> None:
    """OverLimit (LimitExceeded) when the project would hold more than ``cap`` children.

    ``others`` are the children of the project's other parents, ``wanted`` this revision's.
    """
    if others + wanted > cap:
        raise OverLimit(f"this revision declares {wanted} Flux Kustomization(s) and the project's other sources "
                        f"have {others} child source(s): project {project} holds at most {cap} "
                        "(Project spec.limits.maxFluxChildren); no child of this revision is created or changed")


def max_children(project: dict[str, Any] | None) -> int:
    """The project's cap: ``spec.limits.maxFluxChildren`` when it is a whole number >= 0, else the default."""
    return Project(project).max_flux_children if project else DEFAULT_MAX_FLUX_CHILDREN
