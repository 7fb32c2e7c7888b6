"""Read one source's effective state (api/effective.py) from the management cluster, for the CLI and the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.actions.resources import get_project, project_namespace
from gitops_tui.actions.source_access import SourceActionError
from gitops_tui.api import names
from gitops_tui.api.effective import SourceState
from gitops_tui.api.effective_state import source_state
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.status import load_source


@dataclass(frozen=True)
class SourceReading:
    """A source as read now: its two objects, its Project, the KubeFedClusters, and their effective state."""

    source: GitOpsSource
    project: dict[str, Any]
    clusters: list[dict[str, Any]]
    state: SourceState


def list_clusters(api: ApiClient) -> list[dict[str, Any]]:
    """The KubeFedClusters."""
    listed = json_request(api, "GET", management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    return list(listed.get("items") or [])


def read_source(api: ApiClient, project: str, name: str, now: datetime | None = None) -> SourceReading:
    """Read source ``name`` of ``project`` and compute its effective state; ActionError when it does not exist."""
    raw_project = get_project(api, project)
    source = load_source(api, project_namespace(api, project), name)
    if source.kustomization is None:
        raise SourceActionError(f"source {name!r} does not exist in project {project!r}")
    clusters = list_clusters(api)
    state = source_state(source.repository, source.kustomization, raw_project, clusters,
                         now or datetime.now(UTC))
    return SourceReading(source, raw_project, clusters, state)
