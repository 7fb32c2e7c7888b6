"""`gitops-tui get helmreleases`: every Helm release on each project cluster, read from Helm's own storage."""

from __future__ import annotations

import sys
from typing import Any

from gitops_tui.api import names
from gitops_tui.cli.get_cmd import Resource, Scope, register_resource
from gitops_tui.helm.cluster_view import collect_placements, project_placements, release_namespaces
from gitops_tui.helm.listing import short_time
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.reconciler.context import management_path


def _items(scope: Scope, path: str) -> list[dict[str, Any]]:
    return list(json_request(scope.api, "GET", path).get("items") or [])


def fetch(scope: Scope) -> list[dict[str, Any]]:
    """List releases in each project's namespace on its clusters; unreachable clusters are warned about on stderr."""
    projects = _items(scope, management_path(names.KIND_PROJECT))
    clusters = _items(scope, management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    kustomizations = _items(scope, management_path(names.KIND_FEDERATED_KUSTOMIZATION))
    placements = project_placements(projects, clusters, only=scope.project, kustomizations=kustomizations)
    platform = release_namespaces(projects, kustomizations)
    connections = ClusterConnections(scope.api)
    try:
        view = collect_placements(connections, placements)
    finally:
        connections.close()
    for cluster, error in sorted(view.errors.items()):
        sys.stderr.write(f"gitops-tui: warning: Helm releases on cluster {cluster} could not be read: {error}\n")
    rows = []
    for row in view.rows:
        item = row.as_dict()
        item["project"] = scope.projects.get(row.namespace, "") or next(
            (owner for (cluster, namespace), owner in platform.items() if namespace == row.namespace
             and cluster in row.clusters), "")
        item["clusterReleases"] = [
            {"cluster": cluster, "revision": revs[0].revision, "status": revs[0].status, "updated": revs[0].updated}
            for cluster, revs in sorted(view.row_history(row).items()) if revs
        ]
        rows.append(item)
    return rows


def summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Return the item as `-o json` prints it (fetch already built it)."""
    return raw


def _version(row: dict[str, Any]) -> str:
    return f"{row['chartVersion']} (differs)" if row.get("versionsDiffer") else row["chartVersion"]


def _watch_paths(scope: Scope) -> list[str]:
    """Releases change when sources reconcile: follow the sources' status on the management cluster."""
    return [management_path(names.KIND_FEDERATED_KUSTOMIZATION, scope.namespace)]


RESOURCE = Resource(
    "helmreleases",
    "HelmReleaseList",
    fetch,
    summary,
    [
        ("NAME", lambda r: r["name"]),
        ("NAMESPACE", lambda r: r["namespace"]),
        ("CHART", lambda r: r["chart"]),
        ("VERSION", _version),
        ("APP VERSION", lambda r: r["appVersion"]),
        ("STATUS", lambda r: r["status"]),
        ("REVISION", lambda r: r["revision"]),
        ("UPDATED", lambda r: short_time(r["updated"])),
        ("CLUSTERS", lambda r: r["clusters"]),
    ],
    _watch_paths,
    "Helm releases on the project clusters (Helm's own storage, whoever installed them)",
)

# get_cmd imports this module to find RESOURCE; register too in case this module was imported first.
register_resource(RESOURCE)
