"""The per-source reconcile: fetch, render, validate the whole revision, apply to every placed cluster, drift, status, Events.

Semantics and the decisions behind them: docs/reconciler.md.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import parse_revision
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.apply import UnknownKind, resolver_for
from gitops_tui.kube.client import ClusterUnreachable
from gitops_tui.kube.inventory import entries, parse_entries, ref_of, union
from gitops_tui.reconciler import drift as drift_mod
from gitops_tui.reconciler import propagate
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.errors import ReconcileError
from gitops_tui.reconciler.finalize import add_finalizer, finalize, has_finalizer
from gitops_tui.reconciler.helm_step import HelmRefused
from gitops_tui.reconciler.status import (
    Failure,
    Outcome,
    build_status,
    git_credentials,
    load_source,
    placed_clusters,
    project_of,
    with_artifact,
    write_status,
)

log = logging.getLogger(__name__)

MAX_PARALLEL_CLUSTERS = 4
#: Read the kustomization fresh before every write, so a suspend stops the apply at the very next object.
STRICT_STOP = True
#: Failures that a retry cannot fix without a new commit or a spec change.
STALLING_REASONS = {"ValidationFailed", "TenancyViolation", "BuildFailed", "ArtifactFailed", "KustomizeNotFound",
                    "URLNotAllowed"}
#: Flux kinds whose CRDs the Helm step installs on demand (so discovery may not know them yet).
FLUX_NAMESPACED = {("source.toolkit.fluxcd.io", "HelmRepository"), ("helm.toolkit.fluxcd.io", "HelmRelease")}
_backoff: dict[tuple[str, str], int] = {}
_backoff_lock = threading.Lock()
_render_cache: dict[tuple[str, str, str, str], list[dict]] = {}


class RevisionFailed(Exception):
    """The revision cannot be used as a whole (fetch, render or validation failed)."""

    def __init__(self, failure: Failure, revision: str = "") -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.revision = revision


def _retry_after(key: tuple[str, str], failed: bool, interval: float) -> float:
    """Return the requeue delay: the interval when fine, else an exponential backoff capped by it."""
    with _backoff_lock:
        if not failed:
            _backoff.pop(key, None)
            return interval
        count = _backoff.get(key, 0) + 1
        _backoff[key] = count
    return min(interval, 2.0 ** min(count, 6))


def _failure_of(exc: ReconcileError) -> Failure:
    return Failure(exc.reason, exc.message, stalled=exc.reason in STALLING_REASONS)


def fetch_artifact(ctx: ReconcileContext, source: GitOpsSource) -> Any:
    """Fetch the source's ref; raise RevisionFailed with a safe message when git fails."""
    try:
        credentials = git_credentials(ctx, source.namespace, source.secret_ref)
        return ctx.git.fetch(source.url, source.ref, credentials, source.git_timeout)
    except ReconcileError as exc:
        raise RevisionFailed(_failure_of(exc)) from None


def scope_checker(connections: dict[str, Any]) -> Callable[[str, str], bool | None]:
    """Return is_namespaced(apiVersion, kind): built-in knowledge first, then discovery of a connected cluster."""
    from gitops_tui.reconciler.tenancy import builtin_is_namespaced

    def is_namespaced(api_version: str, kind: str) -> bool | None:
        known = builtin_is_namespaced(api_version, kind)
        if known is not None:
            return known
        if (api_version.rpartition("/")[0], kind) in FLUX_NAMESPACED:
            return True
        for dynamic in connections.values():
            try:
                return resolver_for(dynamic).namespaced(api_version, kind)
            except UnknownKind:
                return None
            except Exception:  # noqa: BLE001 - try the next cluster
                continue
        return None

    return is_namespaced


def desired_objects(source: GitOpsSource, artifact: Any, project: str,
                    is_namespaced: Callable[[str, str], bool | None], *, unknown_ok: bool = False) -> list[dict]:
    """Render the artifact at the source's path, enforce tenancy and label every object; raise RevisionFailed.

    ``unknown_ok`` accepts kinds no cluster could be asked about (every cluster is checked again before writing).
    """
    from gitops_tui.reconciler import render, tenancy

    key = (str(artifact.path), source.path, source.namespace, f"{project}|{source.name}|{source.target_namespace}")
    cached = _render_cache.get(key)
    if cached is not None:
        return copy.deepcopy(cached)
    try:
        manifests = render.render(artifact.path, source.path)
        if source.target_namespace:
            for manifest in manifests:
                manifest.obj.setdefault("metadata", {})["namespace"] = source.target_namespace
        objects = tenancy.enforce(manifests, source.namespace, is_namespaced, unknown_is_namespaced=unknown_ok)
        objects = tenancy.label(objects, project=project, source=source.name)
    except ReconcileError as exc:
        raise RevisionFailed(_failure_of(exc), artifact.revision) from None
    if len(_render_cache) > 256:
        _render_cache.clear()
    _render_cache[key] = copy.deepcopy(objects)
    return objects


def _entry(name: str, old: dict[str, Any] | None) -> dict[str, Any]:
    base = {"name": name, "status": "", "message": "", "lastAppliedRevision": "", "lastAttemptedRevision": "",
            "inventory": [], "lastSyncTime": ""}
    base.update(old or {})
    return base


def _old_entries(source: GitOpsSource) -> dict[str, dict[str, Any]]:
    status = (source.kustomization or {}).get("status") or {}
    return {c["name"]: dict(c) for c in status.get("clusters") or [] if c.get("name")}


def write_outcome(ctx: ReconcileContext, source: GitOpsSource, outcome: Outcome) -> None:
    """Write the status of both objects of the source (each only when it changed)."""
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    if source.kustomization is not None:
        fk = source.kustomization
        write_status(ctx.api_client, fk, build_status(fk.get("status"), outcome, now, inventory=True))
    repo = source.repository
    if repo is not None:
        gen = int((repo.get("metadata") or {}).get("generation") or 0)
        repo_outcome = Outcome(gen, outcome.revision, outcome.failure, outcome.reconciling, outcome.clusters,
                               outcome.handled_requested_at)
        new = with_artifact(build_status(repo.get("status"), repo_outcome, now, inventory=False), outcome.revision, now)
        write_status(ctx.api_client, repo, new)


def _fail(ctx: ReconcileContext, source: GitOpsSource, failure: Failure, revision: str,
          clusters: list[str], own: dict[str, dict[str, Any]] | None = None) -> ReconcileResult:
    """Record a failure of the whole revision: nothing of it applied, the previous revision stays live.

    ``own`` gives a cluster its own status and message (its Helm failure, or why it could not be reached).
    """
    old = _old_entries(source)
    rows = [entry for name, entry in old.items() if name not in clusters]  # left the placement: kept as they are
    for name in clusters:
        entry = _entry(name, old.get(name))
        if revision:
            entry["lastAttemptedRevision"] = revision
        entry.update(status=failure.reason, message=failure.message)
        if own and name in own:
            entry.update(status=own[name]["status"], message=own[name]["message"])
        rows.append(entry)
    rows.sort(key=lambda e: e["name"])
    involved = source.kustomization or source.repository or {}
    ctx.recorder.emit(involved, "Warning", failure.reason, failure.message, revision=revision or None)
    write_outcome(ctx, source, Outcome(source.generation, revision, failure, False, rows, source.requested_at))
    return ReconcileResult(requeue_after=_retry_after((source.namespace, source.name), True, source.interval))


def reconcile_source(ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult:
    """Reconcile one GitOps source (the FederatedGitRepository + FederatedKustomization named ``name``)."""
    if not ctx.is_leader():
        return ReconcileResult(requeue_after=None)
    source = load_source(ctx.api_client, namespace, name)
    fk = source.kustomization
    if fk is None:
        return ReconcileResult(requeue_after=None)
    if (fk.get("metadata") or {}).get("deletionTimestamp"):
        done = finalize(ctx, source)
        return ReconcileResult(requeue_after=None if done else _retry_after((namespace, name), True, 60.0))
    if not has_finalizer(fk):
        source = GitOpsSource(source.repository, add_finalizer(ctx, fk))
    if source.suspend:
        _report_drift_while_suspended(ctx, source)
        return ReconcileResult(requeue_after=source.interval)
    project, project_placement = project_of(ctx, source)
    clusters = placed_clusters(ctx, source, project_placement)
    revision = ""
    try:
        if source.repository is None:
            raise RevisionFailed(Failure("SourceNotFound", f"FederatedGitRepository {namespace}/{name} does not exist"))
        artifact = fetch_artifact(ctx, source)
        revision = artifact.revision
        if source.artifact_revision != revision:
            ctx.recorder.emit(source.repository, "Normal", "NewArtifact", f"fetched revision {revision}",
                              revision=revision)
        works = {c: propagate.ClusterWork(c, _entry(c, _old_entries(source).get(c))) for c in clusters}
        connections = _connect(ctx, works, revision)
        desired = desired_objects(source, artifact, project, scope_checker(connections), unknown_ok=not connections)
        for cluster, dynamic in list(connections.items()):
            try:
                _validate(dynamic, desired)
            except propagate.ObjectFailure as exc:
                raise RevisionFailed(Failure(exc.reason, exc.message, stalled=True), revision) from None
            except Exception as exc:  # noqa: BLE001 - transport failures during discovery
                ctx.clusters.invalidate(cluster)
                works[cluster].entry.update(status=names.REASON_CLUSTER_NOT_REACHABLE, lastAttemptedRevision=revision,
                                            message=f"cannot reach the cluster ({type(exc).__name__})")
                del connections[cluster]
    except RevisionFailed as exc:
        return _fail(ctx, source, exc.failure, exc.revision or revision, clusters)
    return _propagate(ctx, source, artifact, desired, clusters, works, connections, project)


def _report_drift_while_suspended(ctx: ReconcileContext, source: GitOpsSource) -> None:
    """While suspended: report drift from each cluster's last applied revision in Events; write nothing else."""
    by_revision: dict[str, list[str]] = {}
    for cluster, row in _old_entries(source).items():
        if row.get("lastAppliedRevision"):
            by_revision.setdefault(row["lastAppliedRevision"], []).append(cluster)
    if not by_revision:
        return
    project, _ = project_of(ctx, source)
    for revision, clusters in sorted(by_revision.items()):
        try:
            credentials = git_credentials(ctx, source.namespace, source.secret_ref)
            artifact = ctx.git.fetch(source.url, {"commit": parse_revision(revision)[1]}, credentials, source.git_timeout)
            connections = {c: ctx.clusters.get(c)[1] for c in clusters}
            desired = desired_objects(source, artifact, project, scope_checker(connections))
            found = [drift_mod.detect(c, dynamic, desired) for c, dynamic in connections.items()]
        except Exception as exc:  # noqa: BLE001 - observing is best effort while suspended
            log.info("drift of suspended %s/%s not checked: %s", source.namespace, source.name, type(exc).__name__)
            continue
        for result in found:
            for item in result.objects:
                message = drift_mod.event_message(result.cluster, item) + " (not corrected: the source is suspended)"
                ctx.recorder.emit(source.kustomization or {}, "Warning", "DriftDetected", message,
                                  cluster=result.cluster, revision=revision)


def _validate(dynamic: Any, desired: list[dict]) -> None:
    """Install Flux's Helm CRDs when the revision needs them, then check every kind is served and namespaced."""
    if any(obj.get("kind") in ("HelmRelease", "HelmRepository") for obj in desired):
        from gitops_tui.reconciler import helm_step

        helm_step.ensure_crds(dynamic, desired)
    propagate.validate_for_cluster(dynamic, desired)


def _stop_check(ctx: ReconcileContext, namespace: str, name: str) -> Callable[[], bool]:
    """Return the check made before every write: suspended or deleted (read fresh), or leadership lost."""

    def stop() -> bool:
        if ctx.should_stop(namespace, name) or not ctx.is_leader():
            return True
        if not STRICT_STOP:
            return False
        try:
            current = ctx.get(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)
        except Exception:  # noqa: BLE001 - when the intent cannot be read, do not write
            log.warning("cannot read %s/%s before a write; stopping the apply", namespace, name)
            return True
        if current is None or (current.get("metadata") or {}).get("deletionTimestamp"):
            return True
        return GitOpsSource(None, current).suspend

    return stop


def _needs_apply(source: GitOpsSource, entry: dict[str, Any], revision: str) -> bool:
    return (
        entry.get("lastAppliedRevision") != revision
        or entry.get("lastAttemptedRevision") != revision
        or bool(entry.get("status"))
        or source.observed_generation != source.generation
    )


def _connect(ctx: ReconcileContext, works: dict[str, propagate.ClusterWork], revision: str) -> dict[str, Any]:
    """Connect to every placed cluster; an unreachable one gets its reason in its status entry."""
    connections: dict[str, Any] = {}
    for cluster, work in works.items():
        try:
            _, dynamic = ctx.clusters.get(cluster)
        except ClusterUnreachable as exc:
            work.entry.update(status=exc.reason, message=exc.detail, lastAttemptedRevision=revision)
            continue
        connections[cluster] = dynamic
    return connections


def _prepare_helm(ctx: ReconcileContext, artifact: Any, desired: list[dict], connections: dict[str, Any],
                  works: dict[str, propagate.ClusterWork], clusters: list[str]) -> dict[str, tuple[Any, ...]]:
    """Prepare every HelmRelease on each cluster to apply (helm_step.prepare_clusters); raise HelmRefused.

    A cluster that could not be reached while preparing gets ClusterNotReachable and leaves ``connections``.
    """
    if not clusters or not any(obj.get("kind") == "HelmRelease" for obj in desired):
        return {}
    from gitops_tui.reconciler import helm_step

    unreachable: dict[str, str] = {}
    try:
        prepared, unreachable = helm_step.prepare_clusters({c: connections[c] for c in clusters}, desired,
                                                           Path(artifact.path), Path(ctx.data_dir) / "helm")
    except HelmRefused as exc:
        unreachable = exc.unreachable
        raise
    finally:
        for cluster, why in unreachable.items():
            ctx.clusters.invalidate(cluster)
            works[cluster].entry.update(status=names.REASON_CLUSTER_NOT_REACHABLE, message=why,
                                        lastAttemptedRevision=artifact.revision)
            del connections[cluster]
    return prepared


def _propagate(ctx: ReconcileContext, source: GitOpsSource, artifact: Any, desired: list[dict],
               clusters: list[str], works: dict[str, propagate.ClusterWork],
               connections: dict[str, Any], project: str) -> ReconcileResult:
    """Apply (or drift-check) the revision on every connected cluster in parallel, then write status and Events."""
    ns, name, revision = source.namespace, source.name, artifact.revision
    stop = _stop_check(ctx, ns, name)
    old = _old_entries(source)
    to_apply = [c for c in connections if _needs_apply(source, works[c].entry, revision)]
    gone = {c: propagate.ClusterWork(c, _entry(c, old[c])) for c in old if c not in works}
    gone_connections = _connect(ctx, gone, revision)
    try:
        helm = _prepare_helm(ctx, artifact, desired, connections, works, to_apply)
    except HelmRefused as exc:  # every cluster's failure on its own entry; unreachable ones keep theirs
        own = {c: w.entry for c, w in works.items() if c not in connections and w.entry.get("status")}
        own.update({c: {"status": f.reason, "message": f.message} for c, f in exc.failed.items()})
        return _fail(ctx, source, exc.failure, revision, clusters, own)
    to_apply = [c for c in to_apply if c in connections]
    if to_apply:
        # Record the intent first: the inventory holds old and new objects, so a crash orphans nothing.
        desired_refs = [ref_of(obj) for obj in desired]
        for cluster in to_apply:
            entry = works[cluster].entry
            entry["inventory"] = entries(union(parse_entries(entry.get("inventory")), desired_refs))
            entry.update(lastAttemptedRevision=revision, status="Progressing", message=f"applying {revision}")
        if stop():
            return ReconcileResult(requeue_after=None)
        rows = [w.entry for w in [*works.values(), *gone.values()]]
        write_outcome(ctx, source, Outcome(source.generation, revision, None, True, sorted(rows, key=lambda e: e["name"])))
    options = propagate.ApplyOptions(namespace=ns, prune=source.prune, wait=source.wait,
                                     health_checks=source.health_checks, timeout=source.timeout,
                                     labels={names.LABEL_PROJECT: project, names.LABEL_SOURCE: name})
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_CLUSTERS, len(connections) + len(gone))),
                            thread_name_prefix=f"reconcile-{name}") as pool:
        futures = [pool.submit(propagate.withdraw_cluster, gone[c], dynamic, source.prune, stop)
                   for c, dynamic in gone_connections.items()]
        for cluster, dynamic in connections.items():
            if cluster in to_apply:
                previous = parse_entries((old.get(cluster) or {}).get("inventory"))
                cluster_options = dataclasses.replace(options, helm=helm.get(cluster, ()))
                futures.append(pool.submit(propagate.propagate_cluster, works[cluster], dynamic, revision, desired,
                                           previous, cluster_options, stop, ctx.now))
            else:
                futures.append(pool.submit(drift_mod.reconcile_drift, works[cluster], dynamic, desired, stop, ctx.now))
        for future in futures:
            future.result()
    involved = source.kustomization or {}
    for work in [*works.values(), *gone.values()]:
        for type_, reason, message in work.events:
            ctx.recorder.emit(involved, type_, reason, message, cluster=work.name, revision=revision)
    stopped = any(w.stopped for w in [*works.values(), *gone.values()])
    if stopped and not ctx.is_leader():
        return ReconcileResult(requeue_after=None)
    failure = Failure("ApplyStopped", "the apply stopped: the source was suspended or deleted") if stopped else None
    rows = [works[c].entry for c in clusters] + [w.entry for w in gone.values() if not w.withdrawn]
    outcome = Outcome(source.generation, revision, failure, False, sorted(rows, key=lambda e: e["name"]),
                      source.requested_at)
    write_outcome(ctx, source, outcome)
    failed = stopped or any(w.entry.get("status") for w in works.values())
    return ReconcileResult(requeue_after=None if stopped else _retry_after((ns, name), failed, source.interval))
