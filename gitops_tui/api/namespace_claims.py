"""Which namespace a project may claim: never a system namespace, never one that belongs to someone else. No I/O."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.project import Project

#: Namespaces no project may claim, besides every ``kube-*`` namespace.
SYSTEM_NAMESPACES = frozenset({"default", names.SYSTEM_NAMESPACE, names.FEDERATION_NAMESPACE})


def system_namespace_problem(namespace: str) -> str | None:
    """One sentence when ``namespace`` is a system namespace no project may claim, else None."""
    if namespace in SYSTEM_NAMESPACES or namespace.startswith("kube-"):
        return f"namespace {namespace} is a system namespace: a project needs a namespace of its own"
    return None


def namespace_owner(namespace_obj: dict[str, Any] | None) -> str | None:
    """The project named by a Namespace's ``gitops-tui.io/project`` label, or None."""
    labels = ((namespace_obj or {}).get("metadata") or {}).get("labels") or {}
    owner = labels.get(names.LABEL_PROJECT)
    return str(owner) if owner else None


def foreign_namespace_problem(namespace_obj: dict[str, Any] | None, namespace: str, project: str,
                              where: str = "") -> str | None:
    """One sentence when an existing Namespace does not carry ``project``'s label, else None (absent is fine)."""
    if namespace_obj is None:
        return None
    owner = namespace_owner(namespace_obj)
    if owner == project:
        return None
    place = f" on {where}" if where else ""
    if owner:
        return f"namespace {namespace}{place} belongs to project {owner}"
    return f"namespace {namespace} already exists{place} and does not belong to project {project}"


def _age_key(raw: dict[str, Any]) -> tuple[str, str]:
    meta = raw.get("metadata") or {}
    return str(meta.get("creationTimestamp") or "~"), str(meta.get("name") or "")


def rival_claim_problem(project: dict[str, Any], projects: list[dict[str, Any]]) -> str | None:
    """One sentence when an older Project claims the same namespace as ``project``, else None."""
    mine = Project(project)
    rivals = [raw for raw in projects
              if Project(raw).name != mine.name and Project(raw).namespace == mine.namespace
              and _age_key(raw) < _age_key(project)]
    if rivals:
        return f"namespace {mine.namespace} belongs to project {Project(min(rivals, key=_age_key)).name}"
    return None
