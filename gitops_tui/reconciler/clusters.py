"""KubeFedCluster health: probe each workload cluster and set Ready / Offline with a reason."""

from __future__ import annotations

import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.conditions import find_condition, set_condition
from gitops_tui.api.paths import discovery_path
from gitops_tui.kube.client import ClusterUnreachable, json_request
from gitops_tui.kube.kubeconfig_guard import REASON_KUBECONFIG_REFUSED
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult

log = logging.getLogger(__name__)

#: Seconds between health checks of one cluster.
HEALTH_INTERVAL = 5.0
PROBE_TIMEOUT = (2.0, 5.0)


def probe_cluster(ctx: ReconcileContext, name: str) -> tuple[bool, str, str]:
    """Probe cluster ``name``; return (ready, reason, message). Messages never hold credentials."""
    try:
        client = ctx.clusters.api_client(name)
        warnings = ctx.clusters.warnings(name)
    except ClusterUnreachable as exc:
        return False, exc.reason, exc.detail
    try:
        json_request(client, "GET", discovery_path(), timeout=PROBE_TIMEOUT)
    except ApiException as exc:
        if exc.status in (401, 403):
            return False, names.REASON_CLUSTER_NOT_READY, f"the API server refused the credentials (HTTP {exc.status})"
        return False, names.REASON_CLUSTER_NOT_READY, f"health check answered HTTP {exc.status}"
    except Exception as exc:  # noqa: BLE001 - any transport failure means unreachable
        ctx.clusters.invalidate(name)
        return False, names.REASON_CLUSTER_NOT_REACHABLE, f"cluster is not reachable ({type(exc).__name__})"
    return True, names.REASON_CLUSTER_READY, "; ".join(("/api responded ok", *(f"warning: {w}" for w in warnings)))


def health_conditions(
    conditions: list[dict[str, Any]] | None, ready: bool, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """Return the conditions after one probe: Ready, and Offline when unreachable or not to be contacted."""
    result = set_condition(conditions, names.READY, ready, reason, message, now=now)
    offline = reason in (names.REASON_CLUSTER_NOT_REACHABLE, REASON_KUBECONFIG_REFUSED)
    result = set_condition(
        result,
        names.OFFLINE,
        offline,
        reason if offline else "ClusterReachable",
        message if offline else "cluster is reachable",
        now=now,
    )
    return result


def reconcile_cluster(ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult:
    """Health-check one KubeFedCluster, write its status when it changed, emit an Event on a transition."""
    cluster = ctx.get(names.KIND_KUBEFED_CLUSTER, namespace, name)
    if cluster is None or (cluster.get("metadata") or {}).get("deletionTimestamp"):
        ctx.clusters.invalidate(name)
        return ReconcileResult(requeue_after=None)
    ready, reason, message = probe_cluster(ctx, name)
    if not ctx.is_leader():
        return ReconcileResult(requeue_after=HEALTH_INTERVAL)
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    old = list((cluster.get("status") or {}).get("conditions") or [])
    new = health_conditions(old, ready, reason, message, now)
    if _strip_times(old) != _strip_times(new):
        ctx.patch_status(cluster, {"conditions": new})
        was = find_condition(old, names.READY)
        was_reason = (was or {}).get("reason")
        if was_reason != reason:
            event_type = "Normal" if ready else "Warning"
            ctx.recorder.emit(cluster, event_type, reason, f"cluster {name}: {message}", cluster=name)
            log.info("cluster %s is now %s (%s)", name, "ready" if ready else "not ready", reason)
    return ReconcileResult(requeue_after=HEALTH_INTERVAL)


def cluster_ready(cluster: dict[str, Any]) -> bool:
    """Whether a KubeFedCluster's Ready condition is True."""
    found = find_condition((cluster.get("status") or {}).get("conditions"), names.READY)
    return found is not None and found.get("status") == "True"


def _strip_times(conditions: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return sorted(
        (str(c.get("type")), str(c.get("status")), str(c.get("reason")), str(c.get("message")))
        for c in conditions
    )
