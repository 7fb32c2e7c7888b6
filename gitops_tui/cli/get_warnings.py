"""`get events`: the Warning Events of the workload clusters about the sources' objects (api.workload_events)."""

from __future__ import annotations

import sys
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.api.workload_events import WARNING_SELECTOR, managed_objects, owning_source, stream_event
from gitops_tui.helm.cluster_view import project_placements
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable, json_request
from gitops_tui.reconciler.context import management_path


def _items(api: Any, path: str, query: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return list(json_request(api, "GET", path, query=query).get("items") or [])


def workload_warnings(api: Any, project: str | None, namespace: str | None) -> list[dict[str, Any]]:
    """Warning Events of each placed cluster about a source's object, as stream Events tagged with their cluster.

    One list per cluster (``fieldSelector=type=Warning``); a cluster that cannot be read is a warning on stderr.
    """
    projects = _items(api, management_path(names.KIND_PROJECT))
    clusters = _items(api, management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    managed = managed_objects(_items(api, management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace)))
    placed = sorted({c for cs in project_placements(projects, clusters, only=project).values() for c in cs})
    out: list[dict[str, Any]] = []
    connections = ClusterConnections(api)
    try:
        for cluster in placed:
            try:
                events = _items(connections.api_client(cluster), resource_path("v1", "events"), {"fieldSelector": WARNING_SELECTOR})
            except ClusterUnreachable as exc:
                sys.stderr.write(f"gitops-tui: warning: events of cluster {cluster} could not be read: {exc.reason}\n")
                continue
            except Exception as exc:  # noqa: BLE001 - one cluster does not hide the others
                code = getattr(exc, "status", None)
                why = f"HTTP {code}" if code else type(exc).__name__
                sys.stderr.write(f"gitops-tui: warning: events of cluster {cluster} could not be read: {why}\n")
                continue
            for event in events:
                found = owning_source(cluster, event, managed)
                if found is not None and (namespace is None or found[0].namespace == namespace):
                    out.append(stream_event(cluster, event, *found))
    finally:
        connections.close()
    return out
