"""FederatedSecret propagation: a Secret in the project namespace of every placed cluster, with status per cluster."""

from __future__ import annotations

import base64
import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.conditions import set_condition
from gitops_tui.api.paths import resource_path
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.project import Project
from gitops_tui.api.secret import FederatedSecret
from gitops_tui.kube.client import ApiClient, ClusterUnreachable, is_unreachable_error, json_request
from gitops_tui.kube.impersonation import impersonating_api_client
from gitops_tui.reconciler import identity
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.drift_watch import SECRET, SECRET_SELECTOR
from gitops_tui.reconciler.projects import (
    REASON_REFUSED,
    NamespaceRefused,
    ensure_namespace,
    project_for_namespace,
    read_namespace,
    release_finalizer,
)

log = logging.getLogger(__name__)

SECRET_INTERVAL = 60.0
RETRY_INTERVAL = 5.0
#: Label on propagated Secrets naming the FederatedSecret they come from.
LABEL_FEDERATED_SECRET = SECRET_SELECTOR


def desired_secret(fs: dict[str, Any], project: str) -> dict[str, Any]:
    """Return the Secret a FederatedSecret asks for on each placed cluster."""
    view = FederatedSecret(fs)
    template = view.template
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    labels[names.LABEL_PROJECT] = project
    labels[LABEL_FEDERATED_SECRET] = view.name
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": view.name, "namespace": view.namespace, "labels": labels},
        "type": view.type,
        "data": dict(template.get("data") or {}),
    }
    if meta.get("annotations"):
        secret["metadata"]["annotations"] = dict(meta["annotations"])
    for key, value in (template.get("stringData") or {}).items():
        secret["data"][key] = base64.b64encode(str(value).encode()).decode("ascii")
    return secret


def _secret_path(namespace: str, name: str) -> str:
    return resource_path("v1", "secrets", namespace, name)


def _get_secret(client: ApiClient, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return json_request(client, "GET", _secret_path(namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def apply_secret(client: ApiClient, secret: dict[str, Any], project: str) -> str:
    """Server-side apply ``secret``; return "created", "updated" or "unchanged"."""
    meta = secret["metadata"]
    live = _get_secret(client, meta["namespace"], meta["name"])
    if live is None:
        ensure_namespace(client, meta["namespace"], project)
    elif live.get("type", "Opaque") != secret["type"]:
        json_request(client, "DELETE", _secret_path(meta["namespace"], meta["name"]))
        live = None
    query = {"fieldManager": names.FIELD_MANAGER, "force": "true"}
    json_request(client, "PATCH", _secret_path(meta["namespace"], meta["name"]), secret, query=query,
                 content_type="application/apply-patch+yaml")
    if live is None:
        return "created"
    same = (live.get("data") or {}) == secret["data"]
    return "unchanged" if same else "updated"


def _watched_unchanged(ctx: ReconcileContext, cluster: str, client: ApiClient, secret: dict[str, Any]) -> bool:
    """True when the reconciler's Secret watch on ``cluster`` holds ``secret`` with its type, data, labels and
    annotations as desired: nothing to write (a change to it queues the FederatedSecret again)."""
    if ctx.drift_watch is None:
        return False
    meta = secret["metadata"]
    known, live = ctx.drift_watch.watched(cluster, client, SECRET, LABEL_FEDERATED_SECRET, meta["namespace"],
                                          meta["name"])
    if not known or live is None:
        return False
    live_meta = live.get("metadata") or {}
    return (live.get("type", "Opaque") == secret["type"] and (live.get("data") or {}) == secret["data"]
            and all((live_meta.get(field) or {}).get(k) == v
                    for field in ("labels", "annotations") for k, v in (meta.get(field) or {}).items()))


def delete_secret(client: ApiClient, namespace: str, name: str) -> bool:
    """Delete the propagated Secret; return False when it was already gone."""
    try:
        json_request(client, "DELETE", _secret_path(namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _as_tenant(ctx: ReconcileContext, cluster: str, client: ApiClient, applier: identity.Applier,
               project: str) -> ApiClient:
    """A client of ``cluster`` acting as the project's ServiceAccount (its namespace and the account made first)."""
    ensure_namespace(client, applier.namespace, project)
    identity.ensure(ctx, cluster, client, applier)
    return impersonating_api_client(client, applier.user)


def _applier(ctx: ReconcileContext, namespace: str) -> identity.Applier:
    return identity.applier_of(project_for_namespace(ctx, namespace), namespace)


def _delete(ctx: ReconcileContext, cluster: str, applier: identity.Applier, namespace: str, name: str) -> bool:
    """Delete the propagated Secret as the project's ServiceAccount; False when it (or its namespace) is gone."""
    client = ctx.clusters.api_client(cluster)
    if read_namespace(client, namespace) is None:
        return False
    identity.ensure(ctx, cluster, client, applier)
    return delete_secret(impersonating_api_client(client, applier.user), namespace, name)


def _failure(exc: BaseException) -> tuple[str, str] | None:
    """Map an exception to (status reason, safe message), or None when it is not a cluster failure."""
    if isinstance(exc, ClusterUnreachable):
        return exc.reason, exc.detail
    if isinstance(exc, NamespaceRefused):
        return REASON_REFUSED, exc.message
    if isinstance(exc, identity.IdentityNotReady):
        return identity.REASON_IDENTITY_NOT_READY, exc.message
    if isinstance(exc, ApiException):
        return "ApplyFailed", f"the cluster answered HTTP {exc.status} ({exc.reason})"
    if is_unreachable_error(exc):
        return names.REASON_CLUSTER_NOT_REACHABLE, f"cluster is not reachable ({type(exc).__name__})"
    return None


def reconcile_secret(ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult:
    """Propagate one FederatedSecret (or remove it everywhere when it is being deleted)."""
    fs = ctx.get(names.KIND_FEDERATED_SECRET, namespace, name)
    if fs is None:
        return ReconcileResult()
    view = FederatedSecret(fs)
    project_raw = project_for_namespace(ctx, namespace)
    project_name = Project(project_raw).name if project_raw else namespace
    clusters = ctx.list(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)
    project_placement = Project(project_raw).placement if project_raw else None
    targets = placed_clusters(view.placement, clusters, project_placement) if project_raw else []
    previous = [c.name for c in view.clusters]
    if view.deleting:
        return _finalize(ctx, fs, sorted(set(previous) | set(targets)))
    if names.FINALIZER_PRUNE not in view.finalizers:
        fs["metadata"]["finalizers"] = view.finalizers + [names.FINALIZER_PRUNE]
        fs = ctx.update(fs)
    desired = desired_secret(fs, project_name)
    applier = identity.applier_of(project_raw, namespace)  # written and deleted as the project's ServiceAccount
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    old_entries = {c.name: c.to_dict() for c in view.clusters}
    entries: list[dict[str, Any]] = []
    for cluster in targets:
        if not ctx.is_leader():
            return ReconcileResult()
        entry = {"name": cluster, "status": "", "message": "", "lastSyncTime": now}
        try:
            client = ctx.clusters.api_client(cluster)
            outcome = "unchanged" if _watched_unchanged(ctx, cluster, client, desired) else apply_secret(
                _as_tenant(ctx, cluster, client, applier, project_name), desired, project_name)
            entry["message"] = f"Secret {namespace}/{name} is up to date"
            if outcome != "unchanged":
                ctx.recorder.emit(fs, "Normal", f"Secret{outcome.capitalize()}",
                                  f"Secret {namespace}/{name} {outcome} (keys: {', '.join(view.keys) or 'none'})",
                                  cluster=cluster)
        except Exception as exc:  # noqa: BLE001 - one cluster failing never stops the others
            failure = _failure(exc)
            if failure is None:
                raise
            entry["status"], entry["message"] = failure
            entry["lastSyncTime"] = (old_entries.get(cluster) or {}).get("lastSyncTime", "")
            was = (old_entries.get(cluster) or {}).get("status")
            if was != entry["status"]:
                ctx.recorder.emit(fs, "Warning", entry["status"], f"Secret {namespace}/{name}: {entry['message']}",
                                  cluster=cluster)
        entries.append(entry)
    for cluster in sorted(set(previous) - set(targets)):
        try:
            if not view.orphan and _delete(ctx, cluster, applier, namespace, name):
                ctx.recorder.emit(fs, "Normal", "SecretDeleted",
                                  f"Secret {namespace}/{name} deleted: the cluster left the placement",
                                  cluster=cluster)
        except Exception as exc:  # noqa: BLE001 - keep the entry and retry later
            failure = _failure(exc)
            if failure is None:
                raise
            entries.append({"name": cluster, "status": failure[0], "message": "removal pending: " + failure[1]})
    _write_status(ctx, fs, entries, now)
    failed = any(e["status"] for e in entries)
    return ReconcileResult(requeue_after=RETRY_INTERVAL if failed else SECRET_INTERVAL)


def _write_status(ctx: ReconcileContext, fs: dict[str, Any], entries: list[dict[str, Any]], now: str) -> None:
    entries = list(entries)  # built in placement order (api.placement): every surface lists clusters so
    bad = [e["name"] for e in entries if e["status"]]
    status = fs.get("status") or {}
    if bad:
        message = "propagation failed on " + ", ".join(bad)
        conditions = set_condition(status.get("conditions"), names.PROPAGATION, False, "CheckClusters", message, now=now)
        conditions = set_condition(conditions, names.READY, False, "PropagationFailed", message, now=now)
    else:
        message = f"propagated to {len(entries)} cluster(s)" if entries else "no cluster is placed"
        conditions = set_condition(status.get("conditions"), names.PROPAGATION, True, "Propagated", message, now=now)
        conditions = set_condition(conditions, names.READY, True, "Propagated", message, now=now)
    new = {"observedGeneration": (fs.get("metadata") or {}).get("generation"), "conditions": conditions,
           "clusters": entries}
    ctx.patch_status(fs, new)


def _finalize(ctx: ReconcileContext, fs: dict[str, Any], clusters: list[str]) -> ReconcileResult:
    """Remove the Secret from every cluster (unless orphaned), then drop the finalizer."""
    view = FederatedSecret(fs)
    if names.FINALIZER_PRUNE not in view.finalizers:
        return ReconcileResult()
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    pending: list[dict[str, Any]] = []
    for cluster in clusters:
        if view.orphan:
            break
        if not ctx.is_leader():
            return ReconcileResult()
        try:
            if _delete(ctx, cluster, _applier(ctx, view.namespace), view.namespace, view.name):
                ctx.recorder.emit(fs, "Normal", "SecretDeleted", f"Secret {view.namespace}/{view.name} deleted",
                                  cluster=cluster)
        except Exception as exc:  # noqa: BLE001 - keep the finalizer until every cluster is clean
            failure = _failure(exc)
            if failure is None:
                raise
            pending.append({"name": cluster, "status": failure[0], "message": "removal pending: " + failure[1]})
    if pending:
        _write_status(ctx, fs, pending, now)
        return ReconcileResult(requeue_after=RETRY_INTERVAL)
    return release_finalizer(ctx, fs)
