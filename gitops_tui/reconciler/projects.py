"""Projects: the project namespace on the management cluster and on every placed workload cluster."""

from __future__ import annotations

import copy
import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.conditions import set_condition
from gitops_tui.api.namespace_claims import (
    foreign_namespace_problem,
    namespace_owner,
    rival_claim_problem,
    system_namespace_problem,
)
from gitops_tui.api.paths import resource_path
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.project import Project
from gitops_tui.kube.client import ApiClient, ClusterUnreachable, is_unreachable_error, json_request
from gitops_tui.reconciler import identity
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult, management_path
from gitops_tui.reconciler.drift_watch import NAMESPACE

log = logging.getLogger(__name__)

PROJECT_INTERVAL = 60.0
RETRY_INTERVAL = 5.0
#: Condition and Event reason of a project whose namespace is a system one or belongs to someone else.
REASON_REFUSED = "NamespaceRefused"


class NamespaceRefused(Exception):
    """A project may not use its namespace (a system namespace, or one that belongs to someone else)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_namespace(client: ApiClient, namespace: str) -> dict[str, Any] | None:
    """Return the Namespace ``namespace`` of a cluster, or None when it does not exist."""
    try:
        return json_request(client, "GET", resource_path("v1", "namespaces", None, namespace))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def management_namespace(ctx: ReconcileContext, namespace: str) -> dict[str, Any] | None:
    """The management cluster's Namespace ``namespace`` as far as project ownership goes (its project label).

    From the watch of project namespaces when it can answer (a namespace without the label reads as absent: no
    project owns either), else read from the cluster.
    """
    if ctx.cache is not None:
        known, live = ctx.cache.namespace(namespace)
        if known:
            return live
    return read_namespace(ctx.api_client, namespace)


def project_for_namespace(ctx: ReconcileContext, namespace: str) -> dict[str, Any] | None:
    """Return the Project that owns ``namespace`` (its label is on the management namespace), or None."""
    candidates = [raw for raw in ctx.projects() if Project(raw).namespace == namespace]
    if not candidates or system_namespace_problem(namespace):
        return None
    owner = namespace_owner(management_namespace(ctx, namespace))
    found = next((raw for raw in candidates if Project(raw).name == owner), None)
    return copy.deepcopy(found) if found is not None else None


def release_finalizer(ctx: ReconcileContext, obj: dict[str, Any]) -> ReconcileResult:
    """Remove the prune finalizer (update on the read resourceVersion); retry soon on a conflict, done when gone."""
    meta = obj["metadata"]
    meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != names.FINALIZER_PRUNE]
    try:
        ctx.update(obj)
    except ApiException as exc:
        if exc.status == 404:
            return ReconcileResult()
        if exc.status == 409:
            return ReconcileResult(requeue_after=0.5)
        raise
    return ReconcileResult()


def ensure_namespace(client: ApiClient, namespace: str, project: str, where: str = "") -> bool:
    """Create ``namespace`` labelled with the project unless it exists; return True when created.

    Raises NamespaceRefused for a system namespace, or one that exists without this project's label
    (it is never relabelled: a project owns its namespace or gets none).
    """
    problem = system_namespace_problem(namespace)
    if problem:
        raise NamespaceRefused(problem)
    existing = read_namespace(client, namespace)
    if existing is None:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {names.LABEL_PROJECT: project}},
        }
        try:
            json_request(client, "POST", resource_path("v1", "namespaces"), body)
            return True
        except ApiException as exc:
            if exc.status != 409:
                raise
            existing = read_namespace(client, namespace)
    problem = foreign_namespace_problem(existing, namespace, project, where)
    if problem:
        raise NamespaceRefused(problem)
    if existing is not None and (existing.get("metadata") or {}).get("deletionTimestamp"):
        raise ApiException(status=409, reason=f"namespace {namespace} is being deleted")
    return False


def delete_owned_namespace(client: ApiClient, namespace: str, project: str) -> bool:
    """Delete ``namespace`` only when it carries ``project``'s label; return True when a delete was sent."""
    existing = read_namespace(client, namespace)
    if existing is None or namespace_owner(existing) != project or system_namespace_problem(namespace):
        return False
    uid = (existing.get("metadata") or {}).get("uid")
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid}} if uid else None
    try:
        json_request(client, "DELETE", resource_path("v1", "namespaces", None, namespace), options)
    except ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    return True


def claim_problem(ctx: ReconcileContext, raw: dict[str, Any]) -> str | None:
    """Why ``raw`` may not have its namespace on the management cluster (system, older rival, foreign), or None."""
    project = Project(raw)
    problem = system_namespace_problem(project.namespace)
    if problem:
        return problem
    existing = _own_namespace(ctx, project) or read_namespace(ctx.api_client, project.namespace)
    if existing is not None:
        return foreign_namespace_problem(existing, project.namespace, project.name)
    return rival_claim_problem(raw, ctx.projects())


def _own_namespace(ctx: ReconcileContext, project: Project) -> dict[str, Any] | None:
    """The project's management namespace when the watch holds it labelled for this project (else None: ask)."""
    live = management_namespace(ctx, project.namespace) if ctx.cache is not None else None
    if live is None or namespace_owner(live) != project.name or (live.get("metadata") or {}).get("deletionTimestamp"):
        return None
    return live


def reconcile_project(ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult:
    """Make the project namespace on management and on each placed cluster; write per-cluster status.

    A project whose namespace is a system namespace or belongs to someone else touches no namespace:
    it gets Ready False (NamespaceRefused) saying why.
    """
    raw = ctx.get(names.KIND_PROJECT, None, name)
    if raw is None:
        return ReconcileResult()
    project = Project(raw)
    if project.deleting:
        return _finalize(ctx, raw)
    if names.FINALIZER_PRUNE not in project.finalizers:
        raw.setdefault("metadata", {})["finalizers"] = project.finalizers + [names.FINALIZER_PRUNE]
        raw = ctx.update(raw)
        project = Project(raw)
    refused = claim_problem(ctx, raw)
    if refused is None and _own_namespace(ctx, project) is None:
        try:
            if ensure_namespace(ctx.api_client, project.namespace, project.name):
                ctx.recorder.emit(raw, "Normal", "NamespaceCreated",
                                  f"namespace {project.namespace} created on the management cluster",
                                  namespace=project.namespace)
        except NamespaceRefused as exc:
            refused = exc.message
    if refused is not None:
        _write_status(ctx, raw, [], True, refused=refused)
        return ReconcileResult(requeue_after=PROJECT_INTERVAL)
    clusters = ctx.list(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)
    targets = placed_clusters(project.placement, clusters, include_unknown=True)
    known = {(c.get("metadata") or {}).get("name") for c in clusters}
    entries: list[dict[str, Any]] = []
    failed = False
    for cluster in targets:
        if not ctx.is_leader():
            return ReconcileResult()
        entry = {"name": cluster, "status": "", "message": f"namespace {project.namespace} exists"}
        if cluster not in known:
            entry.update(status="ClusterNotFound", message="no KubeFedCluster of that name is attached")
            failed = True
        else:
            try:
                client = ctx.clusters.api_client(cluster)
                if (not _namespace_watched(ctx, cluster, client, project)
                        and ensure_namespace(client, project.namespace, project.name, where=cluster)):
                    ctx.recorder.emit(raw, "Normal", "NamespaceCreated",
                                      f"namespace {project.namespace} created", cluster=cluster,
                                      namespace=project.namespace)
                identity.ensure(ctx, cluster, client, identity.applier_of(raw, project.namespace))
            except NamespaceRefused as exc:
                entry.update(status=REASON_REFUSED, message=exc.message)
                failed = True
            except identity.IdentityNotReady as exc:
                entry.update(status=identity.REASON_IDENTITY_NOT_READY, message=exc.message)
                failed = True
            except ClusterUnreachable as exc:
                entry.update(status=exc.reason, message=exc.detail)
                failed = True
            except ApiException as exc:
                entry.update(status="NamespaceFailed", message=f"namespace create answered HTTP {exc.status}")
                failed = True
            except Exception as exc:  # noqa: BLE001 - transport failures
                if not is_unreachable_error(exc):
                    raise
                entry.update(status=names.REASON_CLUSTER_NOT_REACHABLE,
                             message=f"cluster is not reachable ({type(exc).__name__})")
                failed = True
        entries.append(entry)
    _write_status(ctx, raw, entries, failed)
    return ReconcileResult(requeue_after=RETRY_INTERVAL if failed else PROJECT_INTERVAL)


def _namespace_watched(ctx: ReconcileContext, cluster: str, client: ApiClient, project: Project) -> bool:
    """True when the reconciler's namespace watch on ``cluster`` holds the project's namespace, labelled for it and not
    being deleted: nothing to ask the cluster (a change to it queues the project again)."""
    if ctx.drift_watch is None:
        return False
    known, live = ctx.drift_watch.watched(cluster, client, NAMESPACE, names.LABEL_PROJECT, "", project.namespace)
    return (known and live is not None and namespace_owner(live) == project.name
            and not (live.get("metadata") or {}).get("deletionTimestamp"))


def _write_status(ctx: ReconcileContext, raw: dict[str, Any], entries: list[dict[str, Any]], failed: bool,
                  refused: str | None = None) -> None:
    status = raw.get("status") or {}
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = [e["name"] for e in entries if e["status"]]
    reason = "NamespaceNotReady"
    if refused:
        message, reason = refused, REASON_REFUSED
    elif failed:
        message = "namespace missing on " + ", ".join(bad)
    elif entries:
        message = f"namespace ready on {len(entries)} cluster(s)"
    else:
        message = "no cluster is placed"
    conditions = set_condition(status.get("conditions"), names.READY, not failed,
                               reason if failed else "NamespaceReady", message, now=now)
    conditions = set_condition(conditions, names.PROPAGATION, not failed,
                               (REASON_REFUSED if refused else "CheckClusters") if failed else "Propagated", message,
                               now=now)
    generation = (raw.get("metadata") or {}).get("generation")
    new = {"conditions": conditions, "clusters": entries}
    if generation is not None:
        new["observedGeneration"] = generation
    old = {k: status.get(k) for k in new}
    if old != new:
        if refused:
            ctx.recorder.emit(raw, "Warning", REASON_REFUSED, refused)
        for entry in entries:
            if entry["status"]:
                ctx.recorder.emit(raw, "Warning", entry["status"], entry["message"], cluster=entry["name"],
                                  namespace=Project(raw).namespace)
        ctx.patch_status(raw, new)


def _finalize(ctx: ReconcileContext, raw: dict[str, Any]) -> ReconcileResult:
    """Delete the project's sources and secrets, then its namespaces, then drop the finalizer.

    Only what the project owns goes: the contents of its namespace when the management namespace
    carries its label, and on every cluster only a namespace labelled as this project's.
    """
    project = Project(raw)
    if names.FINALIZER_PRUNE not in project.finalizers:
        return ReconcileResult()
    owned = (not system_namespace_problem(project.namespace)
             and namespace_owner(read_namespace(ctx.api_client, project.namespace)) == project.name)
    remaining = 0
    kinds = (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY, names.KIND_FEDERATED_SECRET)
    for kind in kinds if owned else ():
        try:
            items = ctx.list(kind, project.namespace)
        except ApiException:
            items = []
        for item in items:
            remaining += 1
            if not (item.get("metadata") or {}).get("deletionTimestamp"):
                try:
                    json_request(ctx.api_client, "DELETE",
                                 management_path(kind, project.namespace, item["metadata"]["name"]))
                except ApiException as exc:
                    if exc.status != 404:
                        raise
    if remaining:
        return ReconcileResult(requeue_after=1.0)
    clusters = ctx.list(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)
    for cluster in placed_clusters(project.placement, clusters):
        if not ctx.is_leader():
            return ReconcileResult()
        try:
            if delete_owned_namespace(ctx.clusters.api_client(cluster), project.namespace, project.name):
                log.info("project %s: namespace deleted on %s", project.name, cluster)
        except Exception as exc:  # noqa: BLE001 - an unreachable cluster must not block deletion forever
            log.warning("project %s: could not delete namespace on %s (%s)", project.name, cluster,
                        type(exc).__name__)
            ctx.recorder.emit(raw, "Warning", "NamespaceNotDeleted",
                              f"namespace {project.namespace} could not be deleted on {cluster}; delete it by hand",
                              cluster=cluster, namespace=project.namespace)
    delete_owned_namespace(ctx.api_client, project.namespace, project.name)
    return release_finalizer(ctx, raw)
