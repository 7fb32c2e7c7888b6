"""Finding a project, its namespace and a source in the static backend's in-memory state."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.views import model
from gitops_tui.views.state import ManagementState


def project_namespace(state: ManagementState, project: str) -> str:
    """The namespace of ``project``; LookupError when there is no such Project."""
    for ns, name in model.project_by_namespace(state).items():
        if name == project:
            return ns
    raise LookupError(f"Project {project} was not found.")


def source_object(state: ManagementState, project: str, name: str) -> dict[str, Any]:
    """A copy of the project's FederatedKustomization ``name``; LookupError when it is not there."""
    namespace = project_namespace(state, project)
    obj = state.get("kustomizations", namespace, name)
    if obj is None:
        raise LookupError(f"Source {namespace}/{name} was not found.")
    return copy.deepcopy(obj)


def project_object(state: ManagementState, project: str) -> dict[str, Any]:
    """The Project ``project`` (not a copy); LookupError when there is none."""
    found = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
    if found is None:
        raise LookupError(f"Project {project} was not found.")
    return found
