"""Admission of a revision before its first write: dry-run what changed, check ownership, record the intent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.inventory import ObjectRef, config_hash, entries, entry_hashes, parse_entries, ref_of, union
from gitops_tui.reconciler import freeze, gate, ownership, propagate
from gitops_tui.reconciler import pin as pin_mod
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.ownership import Claim, Owner, project_lock
from gitops_tui.reconciler.source_outcome import fail, held_fields
from gitops_tui.reconciler.status import Outcome, cluster_entries, write_outcome


@dataclass
class Admission:
    """What a revision asks to write: its objects and claims per cluster, the clusters' work and connections."""

    source: GitOpsSource
    owner: Owner
    revision: str
    desired: list[dict]
    mine: dict[str, list[dict]]
    """Each connected cluster's objects (its overrides applied)."""
    clusters: list[str]
    """The lane's clusters."""
    works: dict[str, propagate.ClusterWork]
    connections: dict[str, Any]
    gone: dict[str, propagate.ClusterWork]
    """Clusters that left the placement: their objects are withdrawn."""
    to_apply: list[str]
    claims: dict[str, list[Claim]]
    chart_refs: dict[str, tuple[ObjectRef, ...]]
    stop: Callable[[], bool]
    views: dict[str, Any] | None = None
    plan: freeze.Plan | None = None
    lane: pin_mod.Lane | None = None
    hash_of: Callable[[dict[str, Any]], str] = config_hash
    """The objects' configuration hashes (kube.inventory.Hashes: each computed once per reconcile)."""


def needs_apply(source: GitOpsSource, entry: dict[str, Any], revision: str) -> bool:
    """Whether a cluster's entry asks for an apply of ``revision`` (else a drift check is enough)."""
    return (
        entry.get("lastAppliedRevision") != revision
        or entry.get("lastAttemptedRevision") != revision
        or bool(entry.get("status"))
        or source.observed_generation != source.generation
    )


def admit(ctx: ReconcileContext, a: Admission) -> dict[str, ownership.ClusterOwnership] | ReconcileResult:
    """Before the first write: dry-run what changed, check ownership, record the intent; refuse the revision or admit it.

    Returns each admitted cluster's ownership findings, or the result of a refusal (or of a stop).
    """
    source, works, connections, revision = a.source, a.works, a.connections, a.revision
    to_apply = a.to_apply
    if to_apply:
        checked = gate.dry_run(connections, to_apply, a.mine, cluster_entries(source), force=source.force,
                                 hash_of=a.hash_of)
        gate.set_aside(ctx, checked.unreachable, works, connections, revision)
        if checked.failure is not None:
            return fail(ctx, source, checked.failure, revision, a.clusters,
                        gate.own_entries(works, connections, checked.own), a.plan, a.lane)
        to_apply = [c for c in to_apply if c in connections]
    if not to_apply:
        return {}
    with project_lock(source.namespace):  # no other source of the project checks or records intent meanwhile
        checked = gate.check_ownership(ctx, source.namespace, a.owner, connections, to_apply, a.claims, a.views)
        gate.set_aside(ctx, checked.unreachable, works, connections, revision)
        if checked.failure is not None:
            return fail(ctx, source, checked.failure, revision, a.clusters,
                        gate.own_entries(works, connections, checked.own), a.plan, a.lane)
        # Record the intent first: the inventory holds old and new objects, so a crash orphans nothing.
        desired_refs = [ref_of(obj) for obj in a.desired]
        for cluster in checked.found:
            entry = works[cluster].entry
            previous = entry.get("inventory")
            entry["inventory"] = entries(union(parse_entries(previous), desired_refs, a.chart_refs[cluster]),
                                         entry_hashes(previous))
            entry.update(lastAttemptedRevision=revision, status="Progressing", message=f"applying {revision}")
            if checked.found[cluster].adopted:
                works[cluster].events.append(("Normal", ownership.REASON_ADOPTED,
                                              gate.adopted_message(cluster, checked.found[cluster])))
        if a.stop():
            return ReconcileResult(requeue_after=None)
        kept = [e for c, e in cluster_entries(source).items() if c not in works and c not in a.gone]
        rows = [*(w.entry for w in [*works.values(), *a.gone.values()]), *kept]
        write_outcome(ctx, source, Outcome(source.generation, revision, None, True, rows,
                                           **held_fields(a.plan, a.lane)))
    return checked.found
