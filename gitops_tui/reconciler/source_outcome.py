"""The status a reconcile writes when a whole revision fails, and the fields it takes from the effective state."""

from __future__ import annotations

from typing import Any

from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler import freeze
from gitops_tui.reconciler import pin as pin_mod
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.retry import retry_after
from gitops_tui.reconciler.status import Failure, Outcome, cluster_entries, cluster_entry, write_outcome


def fail(ctx: ReconcileContext, source: GitOpsSource, failure: Failure, revision: str,
         clusters: list[str], own: dict[str, dict[str, Any]] | None = None,
         plan: freeze.Plan | None = None, lane: pin_mod.Lane | None = None) -> ReconcileResult:
    """Record a failure of the whole revision: nothing of it applied, the previous revision stays live.

    ``own`` gives a cluster its own status and message (its Helm failure, or why it could not be reached).
    """
    old = cluster_entries(source)
    rows = [entry for name, entry in old.items() if name not in clusters]  # left the placement: kept as they are
    for name in clusters:
        entry = cluster_entry(name, old.get(name))
        if revision:
            entry["lastAttemptedRevision"] = revision
        entry.update(status=failure.reason, message=failure.message)
        if own and name in own:
            entry.update(status=own[name]["status"], message=own[name]["message"])
        rows.append(entry)
    involved = source.kustomization or source.repository or {}
    ctx.recorder.emit(involved, "Warning", failure.reason, failure.message, revision=revision or None)
    write_outcome(ctx, source, Outcome(source.generation, revision, failure, False, rows, handled_request(source, plan),
                                       **held_fields(plan, lane)))
    return ReconcileResult(requeue_after=retry_after((source.namespace, source.name), True, source.interval,
                                                      source.retry_interval))


def handled_request(source: GitOpsSource, plan: freeze.Plan | None) -> str:
    """The ``requestedAt`` a reconcile handles: the one read before git was asked (``Plan.requested_at``)."""
    return plan.requested_at if plan is not None else source.requested_at


def held_fields(plan: freeze.Plan | None, lane: pin_mod.Lane | None = None) -> dict[str, Any]:
    """The Outcome fields that come from the effective state: the held clusters, the placement order, git's or not."""
    fields: dict[str, Any] = {} if plan is None else {"held": plan.held_notes(), "order": plan.state.names}
    if lane is not None:
        fields["git"] = not lane.revision
    return fields
