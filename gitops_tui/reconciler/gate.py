"""Before the first write of a revision: connect, prepare Helm releases, dry-run, check ownership, on every cluster to apply.

None of it writes to clusters; each may refuse the revision everywhere (Helm failures,
``DryRunFailed``, ``OwnershipConflict``) or set a cluster aside as unreachable (it catches up later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_tui.api import names
from gitops_tui.helm.stored import stored_releases  # not helm.installer: that loads Helm's Go library
from gitops_tui.kube.client import ClusterUnreachable
from gitops_tui.kube.impersonation import own_client
from gitops_tui.kube.inventory import config_hash, describe, entry_hashes
from gitops_tui.reconciler import helm_step, identity, ownership, platform, preflight, propagate
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.drift_watch import ClusterView
from gitops_tui.reconciler.helm_step import HelmRefused
from gitops_tui.reconciler.status import Failure

MAX_PARALLEL_CLUSTERS = 4


@dataclass
class GateResult:
    """What the gate decided: a refusal (with each cluster's own status), or per-cluster ownership findings."""

    failure: Failure | None = None
    own: dict[str, dict[str, str]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    found: dict[str, ownership.ClusterOwnership] = field(default_factory=dict)


def dry_run(connections: dict[str, Any], clusters: list[str],
            desired: list[dict[str, Any]] | dict[str, list[dict[str, Any]]], old_entries: dict[str, dict[str, Any]],
            force: bool = False, hash_of: Callable[[dict[str, Any]], str] = config_hash) -> GateResult:
    """Dry-run the objects that changed since each cluster's last apply; refuse the revision on any rejection.

    ``desired``: the revision's objects, or each cluster's own (its overrides applied). ``force`` (the source's
    ``spec.force``): an immutable change is left to the apply, which recreates the object.
    """
    hashes = {c: entry_hashes((old_entries.get(c) or {}).get("inventory")) for c in clusters}
    found = preflight.dry_run_clusters({c: connections[c] for c in clusters}, desired, hashes, force=force,
                                     hash_of=hash_of)
    result = GateResult(unreachable=dict(found.unreachable))
    for cluster in found.refused:
        identity.forget(cluster)  # the project's ServiceAccount is checked again at the next attempt
    if found.refused:
        result.failure = Failure(preflight.REASON_DRY_RUN_FAILED, found.message(), stalled=True)
        result.own = {c: {"status": preflight.REASON_DRY_RUN_FAILED, "message": why} for c, why in found.refused.items()}
    return result


def check_ownership(ctx: ReconcileContext, namespace: str, owner: ownership.Owner, connections: dict[str, Any],
                    clusters: list[str], claims: dict[str, list[ownership.Claim]],
                    views: dict[str, ClusterView] | None = None) -> GateResult:
    """Check every cluster's claims against the live objects and the project's other sources (call under project_lock).

    A cluster whose watch cache (``views``) holds every claimed object is checked against the cache, not LISTed.
    """
    elsewhere = ownership.declared_elsewhere(ctx.list(names.KIND_FEDERATED_KUSTOMIZATION, namespace, copies=False),
                                              owner.source)  # read only: no copy of every inventory
    result = GateResult()
    lock = threading.Lock()

    def check(cluster: str) -> None:
        dynamic = own_client(connections[cluster])  # reads: the reconciler's own
        alive: dict[str, bool] = {}

        def release_alive(release: str) -> bool:
            if release not in alive:
                release_namespace, _, release_name = release.partition("/")
                alive[release] = bool(stored_releases(dynamic, release_namespace, release_name))
            return alive[release]

        try:
            view = (views or {}).get(cluster)
            cached = view.cached([c.obj for c in claims[cluster]]) if view is not None else None
            found = ownership.check_cluster(cluster, dynamic, claims[cluster], owner, elsewhere.get(cluster, {}),
                                            release_alive, cached)
        except Exception as exc:  # noqa: BLE001 - transport failures: this cluster only
            with lock:
                result.unreachable[cluster] = f"cannot read the cluster's objects ({type(exc).__name__})"
            return
        with lock:
            result.found[cluster] = found

    if clusters:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CLUSTERS, len(clusters)),
                                thread_name_prefix="ownership") as pool:
            for future in [pool.submit(check, c) for c in clusters]:
                future.result()
    conflicted = [found for _, found in sorted(result.found.items()) if found.conflicts]
    if conflicted:
        result.failure = Failure(ownership.REASON_CONFLICT, ownership.conflict_message(conflicted))
        result.own = {f.cluster: {"status": ownership.REASON_CONFLICT, "message": ownership.conflict_message([f])}
                      for f in conflicted}
    return result


def connect(ctx: ReconcileContext, works: dict[str, propagate.ClusterWork], revision: str,
            applier: identity.Applier | None = None) -> dict[str, Any]:
    """Connect to every placed cluster as ``applier`` (the project's ServiceAccount, made first when the reconciler
    keeps it; None: as the reconciler itself); an unreachable cluster, or one where the account cannot be made,
    gets its reason in its status entry and is left out."""
    connections: dict[str, Any] = {}
    for cluster, work in works.items():
        try:
            api_client, dynamic = ctx.clusters.get(cluster)
            if applier is not None:
                identity.ensure(ctx, cluster, api_client, applier)
        except ClusterUnreachable as exc:
            work.entry.update(status=exc.reason, message=exc.detail, lastAttemptedRevision=revision)
            continue
        except identity.IdentityNotReady as exc:
            work.entry.update(status=identity.REASON_IDENTITY_NOT_READY, message=exc.message,
                              lastAttemptedRevision=revision)
            continue
        connections[cluster] = dynamic if applier is None else identity.tenant_client(dynamic, applier)
    return connections


def prepare_helm(ctx: ReconcileContext, artifact: Any, desired: list[dict] | dict[str, list[dict]],
                 connections: dict[str, Any], works: dict[str, propagate.ClusterWork],
                 clusters: list[str], owner: tuple[str, str] | None = None) -> dict[str, tuple[Any, ...]]:
    """Prepare every HelmRelease on each cluster to apply (helm_step.prepare_clusters); raise HelmRefused.

    ``owner`` (namespace, project): a platform project's releases may hold cluster-scoped objects (docs/flux.md).

    ``desired`` is the revision's objects, or each cluster's own (its overrides applied). A cluster that could not
    be reached while preparing gets ClusterNotReachable and leaves ``connections``.
    """
    lists = list(desired.values()) if isinstance(desired, dict) else [desired]
    if not clusters or not any(obj.get("kind") == "HelmRelease" for objects in lists for obj in objects):
        return {}
    unreachable: dict[str, str] = {}
    cluster_scoped = owner is not None and platform.policy_for(ctx, *owner).platform
    try:
        prepared, unreachable = helm_step.prepare_clusters({c: connections[c] for c in clusters}, desired,
                                                           Path(artifact.path), Path(ctx.data_dir) / "helm",
                                                           ctx.fetch_policy, cluster_scoped=cluster_scoped)
    except HelmRefused as exc:
        unreachable = exc.unreachable
        raise
    finally:
        set_aside(ctx, unreachable, works, connections, artifact.revision)
    return prepared


def set_aside(ctx: ReconcileContext, unreachable: dict[str, str], works: dict[str, propagate.ClusterWork],
              connections: dict[str, Any], revision: str) -> None:
    """Mark clusters that could not be asked ClusterNotReachable and leave them out of this pass."""
    for cluster, why in unreachable.items():
        ctx.clusters.invalidate(cluster)
        works[cluster].entry.update(status=names.REASON_CLUSTER_NOT_REACHABLE, message=why,
                                    lastAttemptedRevision=revision)
        connections.pop(cluster, None)


def own_entries(works: dict[str, propagate.ClusterWork], connections: dict[str, Any],
                own: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Each cluster's own status for a refused revision: unreachable ones keep theirs, refused ones say why (``own``)."""
    entries: dict[str, dict[str, Any]] = {c: w.entry for c, w in works.items()
                                          if c not in connections and w.entry.get("status")}
    entries.update(own)
    return entries


def adopted_message(cluster: str, found: ownership.ClusterOwnership) -> str:
    """The Adopted Event's text: which objects of the cluster the source took over."""
    return (f"adopted on {cluster}: {propagate.listing([describe(r) for r in found.adopted])} "
            "(no live source or Helm release declared them)")
