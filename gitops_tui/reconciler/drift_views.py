"""Each cluster's view of a source's objects from the drift watches (drift_watch.py), for one reconcile.

Apart from drift_watch.py so that the watches need not know the ReconcileContext that holds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_tui.kube.inventory import config_hash, entry_hashes
from gitops_tui.reconciler.drift_watch import ClusterView, resync_of

if TYPE_CHECKING:  # pragma: no cover - typing only
    from gitops_tui.api.source import GitOpsSource
    from gitops_tui.reconciler.context import ReconcileContext


def views_for(ctx: ReconcileContext, source: GitOpsSource, connections: dict[str, Any],
              desired: list[dict[str, Any]] | dict[str, list[dict[str, Any]]],
              old_entries: dict[str, dict[str, Any]],
              hash_of: Callable[[dict[str, Any]], str] = config_hash) -> dict[str, ClusterView]:
    """Each connected cluster's view of the source's objects (``desired``: the revision's, or each cluster's own);
    {} without drift watches (every check asks the cluster)."""
    watch = ctx.drift_watch
    if watch is None:
        return {}
    resync = resync_of(source.kustomization, watch.resync)
    views = {}
    for cluster, dynamic in connections.items():
        try:
            api_client = ctx.clusters.api_client(cluster)
        except Exception:  # noqa: BLE001 - no view: the checks ask the cluster
            continue
        hashes = entry_hashes((old_entries.get(cluster) or {}).get("inventory"))
        objects = desired[cluster] if isinstance(desired, dict) else desired
        views[cluster] = watch.view(cluster, api_client, dynamic, source.namespace, source.name, objects, hashes,
                                    resync)
        views[cluster].hash_of = hash_of
    return views
