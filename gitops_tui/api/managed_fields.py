"""Who last wrote a field of an object, read from its managedFields (the field manager: a claim, never a verified user)."""

from __future__ import annotations

from typing import Any


def _holds(fields: Any, path: tuple[str, ...]) -> bool:
    """Whether a fieldsV1 set holds ``path`` (keys without their ``f:`` prefix), or something under it."""
    node = fields
    for key in path:
        if not isinstance(node, dict):
            return False
        node = node.get(f"f:{key}")
        if node is None:
            return False
    return True


def writer_of(obj: dict[str, Any] | None, *paths: tuple[str, ...]) -> str:
    """The field manager that last wrote any of ``paths`` (e.g. ``("spec", "template", "spec", "pin")``); '' when unknown.

    Kubernetes records the manager's name (``kubectl-edit``, ``kubectl-annotate``, ``gitops-tui``), not the user: the
    answer is what the writer's client called itself, so it is shown as unverified.
    """
    found: list[tuple[str, str]] = []
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict):
            continue
        if any(_holds(entry.get("fieldsV1"), path) for path in paths):
            found.append((str(entry.get("time") or ""), str(entry.get("manager") or "")))
    return max(found)[1] if found else ""


def annotation_path(key: str) -> tuple[str, ...]:
    """The managedFields path of one annotation."""
    return ("metadata", "annotations", key)


def template_spec_path(field: str) -> tuple[str, ...]:
    """The managedFields path of one field of a federated object's spec.template.spec."""
    return ("spec", "template", "spec", field)


def latest_write(obj: dict[str, Any] | None) -> str:
    """When the object's metadata or spec was last written (the newest managedFields time, status writes aside); ''."""
    times = [str(entry.get("time") or "") for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []
             if isinstance(entry, dict) and not entry.get("subresource")]
    return max(times, default="")
