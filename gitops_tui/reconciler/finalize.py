"""Delete through the finalizer: prune every inventoried object of a source from every cluster (unless orphaned), then release it."""

from __future__ import annotations

import logging
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.apply import UnknownKind, get_object
from gitops_tui.kube.client import ClusterUnreachable
from gitops_tui.kube.inventory import ObjectRef, describe, parse_entries
from gitops_tui.reconciler import identity
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.ownership import Owner
from gitops_tui.reconciler.propagate import ObjectFailure, Stopped, listing, prune_objects
from gitops_tui.reconciler.status import patch_object, project_of, write_status

log = logging.getLogger(__name__)


def has_finalizer(obj: dict[str, Any]) -> bool:
    """True when the prune finalizer is on the object."""
    return names.FINALIZER_PRUNE in ((obj.get("metadata") or {}).get("finalizers") or [])


def add_finalizer(ctx: ReconcileContext, obj: dict[str, Any]) -> dict[str, Any]:
    """Put the prune finalizer on the kustomization (optimistic on resourceVersion); return the new object."""
    meta = obj.get("metadata") or {}
    finalizers = [*(meta.get("finalizers") or []), names.FINALIZER_PRUNE]
    patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta.get("resourceVersion")}}
    return patch_object(ctx.api_client, obj, patch) or obj


def _remove_finalizer(ctx: ReconcileContext, obj: dict[str, Any]) -> None:
    meta = obj.get("metadata") or {}
    finalizers = [f for f in meta.get("finalizers") or [] if f != names.FINALIZER_PRUNE]
    patch_object(ctx.api_client, obj, {"metadata": {"finalizers": finalizers, "resourceVersion": meta.get("resourceVersion")}})


def terminating(dynamic: Any, refs: list[ObjectRef]) -> list[ObjectRef]:
    """The deleted objects still on the cluster (held by a finalizer, or not yet collected)."""
    left = []
    for ref in refs:
        try:
            live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
        except UnknownKind:
            continue
        if live is not None:
            left.append(ref)
    return left


def finalize(ctx: ReconcileContext, source: GitOpsSource) -> bool:
    """Prune (unless orphaned) and remove the finalizer; return True when done, False to retry later."""
    obj = source.kustomization
    if obj is None or not has_finalizer(obj):
        return True
    status = obj.get("status") or {}
    clusters = [dict(c) for c in status.get("clusters") or []]
    orphan = source.orphan
    failures: list[str] = []
    pending: list[str] = []

    def stop() -> bool:
        return not ctx.is_leader()

    owner = Owner(project_of(ctx, source)[0], source.name)
    applier = identity.applier_for(ctx, source.namespace, owner.project) if not orphan else None
    if applier is not None:
        for entry in clusters:
            refs = parse_entries(entry.get("inventory"))
            if not refs:
                continue
            try:
                api_client, own = ctx.clusters.get(entry["name"])
                identity.ensure(ctx, entry["name"], api_client, applier)
                dynamic = identity.tenant_client(own, applier)  # deletes as the project's ServiceAccount
                if any(ref.kind == "HelmRelease" for ref in refs):
                    from gitops_tui.reconciler import helm_step

                    helm_step.uninstall_removed(dynamic, refs, stop)
                kept: list[ObjectRef] = []
                removed = prune_objects(entry["name"], dynamic, refs, stop, owner, kept)
                if source.deletion_policy == "WaitForTermination":
                    waiting = terminating(own, removed)
                    if waiting:  # deleted but still there (finalizers): the source waits for them (Flux's rule)
                        pending.append(f"{entry['name']}: waiting for {listing([describe(r) for r in waiting])} "
                                       "to terminate (deletionPolicy WaitForTermination)")
                        entry.update(status="Terminating", message=pending[-1])
                        continue
            except ClusterUnreachable as exc:
                failures.append(f"{entry['name']}: {exc.detail}")
                entry.update(status=exc.reason, message=f"cannot prune: {exc.detail}")
                continue
            except identity.IdentityNotReady as exc:
                failures.append(exc.message)
                entry.update(status=identity.REASON_IDENTITY_NOT_READY, message=exc.message)
                continue
            except ObjectFailure as exc:
                failures.append(exc.message)
                entry.update(status=exc.reason, message=exc.message)
                continue
            except Stopped:
                return False
            entry["inventory"] = []
            if removed or kept:
                text = f"deleted from {entry['name']}: " + (listing([describe(r) for r in removed]) or "nothing")
                if kept:
                    text += "; kept (owned by another source now) " + listing([describe(r) for r in kept])
                ctx.recorder.emit(obj, "Normal", "Pruned", text, cluster=entry["name"])
    if pending and not failures:
        write_status(ctx.api_client, obj, {**status, "clusters": clusters})
        return False
    if failures:
        new_status = {**status, "clusters": clusters}
        write_status(ctx.api_client, obj, new_status)
        ctx.recorder.emit(obj, "Warning", "DeleteFailed", "; ".join(failures)[:1000])
        return False
    if orphan:
        ctx.recorder.emit(obj, "Normal", "Orphaned", "source deleted; its objects were kept on every cluster (orphan)")
    else:
        ctx.recorder.emit(obj, "Normal", "Deleted", "source deleted; its objects were removed from every cluster")
    _remove_finalizer(ctx, obj)
    return True
