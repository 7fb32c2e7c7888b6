"""The per-source reconcile: fetch, render, validate the whole revision, apply to every placed cluster, drift, status, Events.

Semantics and the decisions behind them: docs/reconciler.md.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.journal.corrections import record_corrections
from gitops_tui.kube.inventory import Hashes, parse_entries
from gitops_tui.reconciler import drift as drift_mod
from gitops_tui.reconciler import (
    flux_step,
    freeze,
    gate,
    helm_step,
    identity,
    idle,
    member_writes,
    override_writes,
    overrides_step,
    propagate,
)
from gitops_tui.reconciler import held as held_mod
from gitops_tui.reconciler import pin as pin_mod
from gitops_tui.reconciler import rollout as rollout_mod
from gitops_tui.reconciler.admission import Admission, admit, needs_apply
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.desired import RevisionFailed, desired_objects, head_check, scope_checker
from gitops_tui.reconciler.drift_views import views_for
from gitops_tui.reconciler.drift_watch import resync_of
from gitops_tui.reconciler.finalize import add_finalizer, finalize, has_finalizer
from gitops_tui.reconciler.flux import decryption
from gitops_tui.reconciler.flux import gates as flux_gates
from gitops_tui.reconciler.helm_step import HelmRefused
from gitops_tui.reconciler.ownership import Claim, Owner
from gitops_tui.reconciler.retry import retry_after
from gitops_tui.reconciler.source_outcome import fail, handled_request, held_fields
from gitops_tui.reconciler.status import Failure, Outcome, cluster_entries, cluster_entry, write_outcome
from gitops_tui.reconciler.stop_check import IntentReads, stop_check

log = logging.getLogger(__name__)

MAX_PARALLEL_CLUSTERS = 4


def reconcile_source(ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult:
    """Reconcile one GitOps source (the FederatedGitRepository + FederatedKustomization named ``name``).

    Every failure ends as a condition: an exception no step foresaw is recorded as ``Ready False``
    (reason ``ReconciliationFailed``, the exception named in one sentence) with the revision attempted,
    and the objects stay as they were; only when even that cannot be written does it propagate.
    """
    attempt = _Attempt()
    try:
        result = _reconcile(ctx, namespace, name, attempt)
        if attempt.plan is not None and attempt.plan.break_glass and attempt.glass_done is not None \
                and ctx.is_leader():
            freeze.break_glass_done(ctx, attempt.plan, attempt.glass_done)
        if attempt.plan is None:
            return result
        return dataclasses.replace(result, requeue_after=attempt.plan.requeue(result.requeue_after))
    except Exception as exc:  # noqa: BLE001 - every failure is a condition (docs/reconciler.md)
        log.warning("reconcile of %s/%s failed unexpectedly (%s)", namespace, name, type(exc).__name__,
                    exc_info=True)
        if attempt.source is None or attempt.source.kustomization is None or not ctx.is_leader():
            raise
        failure = Failure(names.REASON_RECONCILIATION_FAILED, unexpected_message(exc, attempt.revision))
        try:
            return fail(ctx, attempt.source, failure, attempt.revision, attempt.clusters, plan=attempt.plan)
        except Exception:  # noqa: BLE001 - the management cluster cannot take the status either
            raise exc from None


@dataclasses.dataclass
class _Attempt:
    """What a reconcile knew when it failed: the source, the revision attempted and the placed clusters."""

    source: GitOpsSource | None = None
    revision: str = ""
    clusters: list[str] = dataclasses.field(default_factory=list)
    plan: freeze.Plan | None = None
    glass_done: dict[str, str] | None = None
    """The break-glass lane's clusters and their status once it ran ('' when applied)."""


def unexpected_message(exc: BaseException, revision: str) -> str:
    """One sentence for an exception no step foresaw: what was attempted and the exception's kind and first line.

    API errors are named by status only (their bodies may quote objects); other messages are cut to one line.
    """
    if hasattr(exc, "body") and hasattr(exc, "status"):
        detail = f"HTTP {exc.status} {getattr(exc, 'reason', '') or ''}".strip()
    else:
        detail = (str(exc).strip().splitlines() or [""])[0][:300] or "no message"
    what = f"revision {revision}" if revision else "the source"
    return f"reconciling {what} failed unexpectedly: {type(exc).__name__}: {detail}"


def _reconcile(ctx: ReconcileContext, namespace: str, name: str, attempt: _Attempt) -> ReconcileResult:
    """The reconcile itself; ``attempt`` records how far it got, for reconcile_source's last-resort failure."""
    if not ctx.is_leader():
        return ReconcileResult(requeue_after=None)
    source = ctx.source(namespace, name)
    fk = source.kustomization
    if fk is None:
        return ReconcileResult(requeue_after=None)
    if (fk.get("metadata") or {}).get("deletionTimestamp"):
        flux_step.delete_children(ctx, source)
        done = finalize(ctx, source)
        return ReconcileResult(requeue_after=None if done else retry_after((namespace, name), True, 60.0))
    if not has_finalizer(fk):
        source = GitOpsSource(source.repository, add_finalizer(ctx, fk))
    plan = attempt.plan = freeze.plan_of(ctx, source)
    source = plan.source
    if ctx.is_leader():
        plan = attempt.plan = override_writes.report(ctx, member_writes.report(ctx, plan))
        source = plan.source
    held = flux_gates.hold(ctx, source)  # a child of a Flux layout: its parent suspended, or a dependency not ready
    if held is not None and held.stopped:  # its parent is gone or being deleted: write nothing, its deletion follows
        return ReconcileResult(requeue_after=source.interval)
    parent_suspended = held is not None and held.suspended
    if not parent_suspended:  # a rollout sees git's revision first: a new one goes to the first wave only
        plan = attempt.plan = rollout_mod.follow(ctx, plan)
        source = plan.source
    if plan.state.frozen_everywhere or parent_suspended:
        if plan.state.frozen_everywhere:
            held_mod.follow_git(ctx, source)
        held_mod.report_drift(ctx, source)
        return ReconcileResult(requeue_after=source.interval)
    attempt.source = source
    project = plan.project_name or source.namespace
    if held is not None and held.failure is not None:
        fail(ctx, source, held.failure, source.artifact_revision, plan.state.active, plan=plan)
        return ReconcileResult(requeue_after=flux_gates.DEPENDENCY_REQUEUE_SECONDS)
    if source.repository is None:
        failure = Failure("SourceNotFound", f"FederatedGitRepository {namespace}/{name} does not exist")
        return fail(ctx, source, failure, "", plan.state.active, plan=plan)
    def reconcile_lane(lane_source: GitOpsSource, lane: pin_mod.Lane) -> ReconcileResult:
        attempt.source = lane_source
        return _reconcile_lane(ctx, lane_source, project, lane, attempt, plan)

    run = pin_mod.run_lanes(ctx, plan, source, reconcile_lane)
    attempt.source, results = run.source, run.results
    if run.glass_done is not None:
        attempt.glass_done = run.glass_done
    delays = [r.requeue_after for r in results]
    if plan.state.rollout is not None and ctx.is_leader():  # the wave just applied may be healthy: soak, move on
        plan, released = rollout_mod.settle(ctx, rollout_mod.replan(ctx, plan))
        attempt.plan = plan
        if released:
            return ReconcileResult(requeue_after=0.0)
    if not delays or None in delays:
        return ReconcileResult(requeue_after=None)
    return results[0] if len(results) == 1 else ReconcileResult(requeue_after=min(d for d in delays if d is not None))


def _reconcile_lane(ctx: ReconcileContext, source: GitOpsSource, project: str, lane: pin_mod.Lane,
                    attempt: _Attempt, plan: freeze.Plan) -> ReconcileResult:
    """Reconcile the lane's clusters at the lane's revision (git's, a pin's, a break glass's); the others are kept.

    Clusters a freeze holds are in no lane (nothing is written there); Flux children follow git's lane only.
    """
    clusters = attempt.clusters = lane.clusters
    revision = ""
    try:
        artifact = lane.fetch(ctx, source)
        revision = attempt.revision = artifact.revision
        if source.artifact_revision != revision and not lane.revision:
            built = f"; ExternalArtifact {artifact.external} {artifact.digest}" if getattr(artifact, "digest", "") else ""
            ctx.recorder.emit(source.repository or {}, "Normal", "NewArtifact", f"fetched revision {revision}{built}",
                              revision=revision)
        works = {c: propagate.ClusterWork(c, cluster_entry(c, cluster_entries(source).get(c))) for c in clusters}
        lane.mark(w.entry for w in works.values())
        applier = identity.applier_for(ctx, source.namespace, project)  # tenants apply as themselves
        connections = gate.connect(ctx, works, revision, applier)
        policy, variables = flux_step.render_inputs(ctx, source, artifact, project)
        found: list[Any] = []
        desired = desired_objects(source, artifact, project, scope_checker(connections), unknown_ok=not connections,
                                  policy=policy, variables=variables, instructions=found,
                                  decryption=decryption.for_source(ctx, source), flux_components=ctx.flux_components)
        flux_step.check_children(source, artifact, found)
        flux = flux_step.flux_block(found)
        per = overrides_step.by_cluster(source, desired, clusters, plan.state.overrides, project, revision)
        for cluster, refused in per.refused.items():  # that cluster only: the others go on
            works[cluster].entry.update(status=refused.reason, message=refused.message, lastAttemptedRevision=revision)
            works[cluster].events.append(("Warning", refused.reason, refused.message))
            connections.pop(cluster, None)
        for cluster, dynamic in list(connections.items()):
            try:
                _validate(dynamic, per.objects.get(cluster, desired), platform=policy.platform)
            except propagate.ObjectFailure as exc:
                raise RevisionFailed(Failure(exc.reason, exc.message, stalled=True), revision) from None
            except Exception as exc:  # noqa: BLE001 - transport failures during discovery
                ctx.clusters.invalidate(cluster)
                works[cluster].entry.update(status=names.REASON_CLUSTER_NOT_REACHABLE, lastAttemptedRevision=revision,
                                            message=f"cannot reach the cluster ({type(exc).__name__})")
                del connections[cluster]
        if not lane.revision:  # a pinned (or break-glass) lane does not move the children: they follow git
            flux_step.sync_children(ctx, source, artifact, found)
            flux_step.note_bootstrap(ctx, source, flux, revision)
    except RevisionFailed as exc:
        return fail(ctx, source, exc.failure, exc.revision or revision, clusters, plan=plan, lane=lane)
    return _propagate(ctx, source, artifact, desired, clusters, works, connections, project, lane, plan, flux,
                      per.objects)


def _emit_events(ctx: ReconcileContext, involved: dict[str, Any], works: list[propagate.ClusterWork],
                 revision: str) -> None:
    """Write each cluster's Events, in its own order; the clusters' at once (each Event is one request)."""
    def emit(work: propagate.ClusterWork) -> None:
        for type_, reason, message in work.events:
            ctx.recorder.emit(involved, type_, reason, message, cluster=work.name, revision=revision)

    busy = [w for w in works if w.events]
    if len(busy) < 2:
        for work in busy:
            emit(work)
        return
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CLUSTERS, len(busy)), thread_name_prefix="events") as pool:
        list(pool.map(emit, busy))


def _validate(dynamic: Any, desired: list[dict], *, platform: bool = False) -> None:
    """Install Flux's Helm CRDs when the revision needs them, then check every kind is served and namespaced."""
    from gitops_tui.reconciler.helm_step import HELM_KINDS

    if any(obj.get("kind") in HELM_KINDS for obj in desired):
        from gitops_tui.reconciler import helm_step

        helm_step.ensure_crds(dynamic, desired)
    propagate.validate_for_cluster(dynamic, desired, platform=platform)


def _propagate(ctx: ReconcileContext, source: GitOpsSource, artifact: Any, desired: list[dict],
               clusters: list[str], works: dict[str, propagate.ClusterWork],
               connections: dict[str, Any], project: str, lane: pin_mod.Lane,
               plan: freeze.Plan | None = None, flux: dict[str, Any] | None = None,
               per_cluster: dict[str, list[dict]] | None = None) -> ReconcileResult:
    """Apply (or drift-check) the revision on every connected cluster in parallel, then write status and Events.

    The clusters of the other lanes (``lane.keep``) and those a freeze holds are neither touched nor withdrawn:
    their entries stay as they are. ``per_cluster`` holds a cluster's own objects when its overrides change them.
    """
    ns, name, revision = source.namespace, source.name, artifact.revision
    mine = {c: (per_cluster or {}).get(c, desired) for c in connections}
    reads = IntentReads(ctx, ns, name, plan.project_name if plan is not None else "")
    stop = stop_check(ctx, ns, name, plan, reads=reads)
    old = cluster_entries(source)
    # Flux's own components switched between skipped and applied (the operator's flag): the same revision applies anew.
    recorded = ((source.kustomization or {}).get("status") or {}).get("flux") or {}
    flux_moved = flux is not None and (flux.get("components") or {}) != (recorded.get("components") or {})
    to_apply = [c for c in connections if flux_moved or needs_apply(source, works[c].entry, revision)]
    gone = {c: propagate.ClusterWork(c, cluster_entry(c, old[c])) for c in old
            if c not in works and c not in lane.keep and not (plan is not None and plan.holds(c))}
    hash_of = Hashes()  # each object's configuration hash once, whichever cluster or check asks
    views = views_for(ctx, source, connections, mine, old, hash_of)
    gone_connections = gate.connect(ctx, gone, revision, identity.applier_for(ctx, ns, project) if gone else None)
    try:
        helm = gate.prepare_helm(ctx, artifact, mine, connections, works, to_apply, (ns, project))
    except HelmRefused as exc:  # every cluster's failure on its own entry; unreachable ones keep theirs
        own = {c: {"status": f.reason, "message": f.message} for c, f in exc.failed.items()}
        return fail(ctx, source, exc.failure, revision, clusters, gate.own_entries(works, connections, own), plan,
                     lane)
    owner = Owner(project, name)
    chart_refs = {c: helm_step.release_refs(helm.get(c, ())) for c in to_apply}
    claims = {c: [Claim(obj) for obj in mine[c]] + helm_step.release_claims(helm.get(c, ())) for c in to_apply}
    admitted = admit(ctx, Admission(source, owner, revision, desired, mine, clusters, works, connections, gone,
                                    [c for c in to_apply if c in connections], claims, chart_refs, stop, views,
                                    plan, lane, hash_of))
    if isinstance(admitted, ReconcileResult):
        return admitted
    to_apply = list(admitted)
    options = propagate.ApplyOptions(namespace=ns, prune=source.prune, wait=source.wait,
                                     health_checks=source.health_checks, timeout=source.timeout,
                                     labels={names.LABEL_PROJECT: project, names.LABEL_SOURCE: name}, owner=owner,
                                     force=source.force, hash_of=hash_of)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_CLUSTERS, len(connections) + len(gone))),
                            thread_name_prefix=f"reconcile-{name}") as pool:
        futures = [pool.submit(propagate.withdraw_cluster, gone[c], dynamic, source.prune, stop, owner)
                   for c, dynamic in gone_connections.items()]
        for cluster, dynamic in connections.items():
            if cluster in to_apply:
                previous = parse_entries((old.get(cluster) or {}).get("inventory"))
                cluster_options = dataclasses.replace(options, helm=helm.get(cluster, ()), chart_refs=chart_refs[cluster],
                                                      existing_ids=admitted[cluster].live_ids, view=views.get(cluster))
                futures.append(pool.submit(propagate.propagate_cluster, works[cluster], dynamic, revision, mine[cluster],
                                           previous, cluster_options, stop_check(ctx, ns, name, plan, cluster, reads),
                                           ctx.now))
            else:
                futures.append(pool.submit(drift_mod.reconcile_drift, works[cluster], dynamic, mine[cluster],
                                           stop_check(ctx, ns, name, plan, cluster, reads), ctx.now, views.get(cluster)))
        for future in futures:
            future.result()
    _emit_events(ctx, source.kustomization or {}, [*works.values(), *gone.values()], revision)
    lane.note_applied((w.entry for w in works.values()), old)
    record_corrections(ctx.api_client, project, name, [*works.values(), *gone.values()])
    stopped = any(w.stopped for w in [*works.values(), *gone.values()])
    if stopped and not ctx.is_leader():
        return ReconcileResult(requeue_after=None)
    failure = Failure("ApplyStopped", "the apply stopped: the source was suspended or deleted") if stopped else None
    rows = [works[c].entry for c in clusters] + [w.entry for w in gone.values() if not w.withdrawn]
    rows += [old[c] for c in lane.keep if c in old]
    outcome = Outcome(source.generation, revision, failure, False, rows, handled_request(source, plan), **held_fields(plan, lane),
                      flux=flux if not lane.revision else None)
    write_outcome(ctx, source, outcome)
    failed = stopped or any(w.entry.get("status") for w in works.values())
    helm_retry = [w.retry_after for w in works.values() if w.retry_after]  # RetryOnFailure releases' retryInterval
    retry = min(helm_retry) if helm_retry else source.retry_interval
    result = ReconcileResult(requeue_after=None if stopped else retry_after((ns, name), failed, source.interval, retry))
    if not failed and not gone and not lane.keep and lane.kind == pin_mod.LANE_GIT and ctx.drift_watch is not None \
            and plan is not None:  # nothing left to do: its next interval only asks git (idle.py)
        result.settled = idle.settled_of(source, plan.state, artifact.commit, desired, list(connections),
                                         resync_of(source.kustomization, ctx.drift_watch.resync), head_check(ctx, source))
    return result
