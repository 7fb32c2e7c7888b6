"""The reconciler's side of holds: act on expiry, read the effective state, check it before every write, break glass.

Each reconcile reads the source, its Project and the KubeFedClusters and computes the effective state
(``api/effective.py``): which clusters follow git, which are pinned, which are frozen, which a break glass lifts once.
An expired freeze resumes by itself when ``--then resume`` was asked, else it stays and raises one Warning Event.
Every reconcile asks to run again at the next expiry, read from ``ctx.now`` (an injectable clock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from gitops_tui import journal
from gitops_tui.api import freeze as fz
from gitops_tui.api import holds, names
from gitops_tui.api.effective import INTENT_BREAK_GLASS, SourceState
from gitops_tui.api.effective_state import source_state
from gitops_tui.api.formats import short_revision
from gitops_tui.api.source import GitOpsSource
from gitops_tui.journal.corrections import RECONCILER_ACTOR
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult, management_path
from gitops_tui.reconciler.projects import project_for_namespace

log = logging.getLogger(__name__)

#: Who acts when a freeze expires.
EXPIRY_ACTOR = "gitops-tui (freeze expiry)"
REASON_BREAK_GLASS_FAILED = "BreakGlassFailed"


@dataclass(frozen=True)
class Plan:
    """What this reconcile acts on: the source and its Project as read, and their effective state."""

    source: GitOpsSource
    project: dict[str, Any] | None
    project_name: str
    clusters: list[dict[str, Any]]
    """The KubeFedClusters as read (to compute the state again, fresh, before every write)."""
    state: SourceState
    requested_at: str = ""
    """The reconcile request (``reconcile.fluxcd.io/requestedAt``) as read before git was asked: the one this
    reconcile handles. A request written while it runs (a re-read source shows it) is left for the next reconcile,
    which asks git again: marking it handled would drop a commit pushed after this reconcile's git check."""

    def holds(self, cluster: str) -> bool:
        """True when writes to ``cluster`` are held in this reconcile (a cluster that left the placement too)."""
        return self.state.holds(cluster)

    @property
    def break_glass(self) -> str:
        """The token of the break glass this reconcile applies ('' for none)."""
        glass = self.state.break_glass
        lifted = any(c.intent == INTENT_BREAK_GLASS for c in self.state.clusters)
        return glass.token if glass is not None and lifted else ""

    def held_notes(self) -> dict[str, str]:
        """Each held cluster with what holds it (for the conditions' messages)."""
        return {c.name: c.hold.describe() if c.hold else "held" for c in self.state.clusters if c.held}

    def requeue(self, after: float | None) -> float | None:
        """``after``, or the next expiry when it comes sooner."""
        wake = self.state.wake_in
        if wake is None:
            return after
        return wake if after is None else min(after, wake)


def patch_management(ctx: ReconcileContext, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch a management object (a Project or a FederatedKustomization); return it as written."""
    meta = obj.get("metadata") or {}
    path = management_path(str(obj.get("kind")), meta.get("namespace"), str(meta.get("name")))
    return json_request(ctx.api_client, "PATCH", path, patch, content_type="application/merge-patch+json")


def _name(project: dict[str, Any] | None) -> str:
    return str(((project or {}).get("metadata") or {}).get("name") or "")


def _expire_source(ctx: ReconcileContext, source: GitOpsSource, project: dict[str, Any] | None) -> bool:
    """Resume an expired source freeze when asked, else raise its Warning Event once; True when something was written.

    The operator's record on the Project is changed first, then the FederatedKustomization's copy.
    """
    record = holds.operator_record(project, source.name)
    freeze = record.freeze or fz.source_freeze(source.kustomization)
    if freeze is None or not freeze.expired(ctx.now()):
        return False
    fk = source.kustomization or {}
    what = f"freeze by {freeze.by} ({freeze.reason}) on {freeze.where()} expired at {freeze.until}"
    now = fz.stamp(ctx.now())
    if freeze.then == fz.THEN_RESUME:
        if record.freeze is not None and project is not None:
            patch_management(ctx, project, holds.record_patch(source.name,
                                                    freeze=holds.lifted_freeze_record(freeze, EXPIRY_ACTOR, now)))
        fk = patch_management(ctx, fk, fz.source_resume_patch(fz.source_freeze(fk), [], [], EXPIRY_ACTOR, now, now))
        ctx.recorder.emit(fk, "Normal", fz.REASON_FREEZE_EXPIRED, f"{what}; resumed as asked (--then resume)")
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; resumed as asked",
                       project=_name(project), source=source.name, clusters=freeze.clusters)
    elif freeze.alarmed != freeze.until:
        if record.freeze is not None and project is not None:
            patch_management(ctx, project, holds.record_patch(source.name, freeze={"alarmed": freeze.until}))
        fk = patch_management(ctx, fk, {"metadata": {"annotations": {fz.ANNOTATION_SUSPEND_ALARMED: freeze.until}}})
        ctx.recorder.emit(fk, "Warning", fz.REASON_FREEZE_EXPIRED,
                          f"{what}; still suspended: resume it or extend the freeze")
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; still suspended",
                       project=_name(project), source=source.name, clusters=freeze.clusters)
    else:
        return False
    return True


def plan_of(ctx: ReconcileContext, source: GitOpsSource) -> Plan:
    """Act on an expired freeze of the source, then read what holds it now (its freeze, its project's, pins)."""
    project = project_for_namespace(ctx, source.namespace)
    if _expire_source(ctx, source, project):
        source = ctx.source(source.namespace, source.name)
        project = project_for_namespace(ctx, source.namespace)
    clusters = ctx.list(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)
    state = source_state(source.repository, source.kustomization, project, clusters, ctx.now())
    return Plan(source, project, _name(project), clusters, state, source.requested_at)


def fresh_project(ctx: ReconcileContext, plan: Plan) -> Plan:
    """The plan again with its Project read now. The watch cache may hold the source's copy of an operator's step
    before the Project's record of it (two watches, two streams; the operator writes the Project first), so what
    would report a member's write (member_writes.py, override_writes.py) asks the record itself first."""
    if not plan.project_name:
        return plan
    project = ctx.get_fresh(names.KIND_PROJECT, None, plan.project_name)
    state = source_state(plan.source.repository, plan.source.kustomization, project, plan.clusters, ctx.now())
    return replace(plan, project=project, state=state)


def write_held(ctx: ReconcileContext, current: dict[str, Any], plan: Plan, cluster: str | None) -> bool:
    """Before a write (the source read fresh; its Project too): True when a freeze now holds ``cluster``.

    ``cluster`` None asks about the source as a whole (held when every placed cluster is). A cluster a pending
    break glass lifts is not held: that one apply goes on.
    """
    project = ctx.get_fresh(names.KIND_PROJECT, None, plan.project_name) if plan.project_name else None
    return held_in(ctx, current, project, plan, cluster)


def held_in(ctx: ReconcileContext, current: dict[str, Any], project: dict[str, Any] | None, plan: Plan,
            cluster: str | None) -> bool:
    """write_held with the source and its Project as just read (stop_check.py shares the reads)."""
    state = source_state(plan.source.repository, current, project, plan.clusters, ctx.now())
    if cluster is None:
        return state.frozen_everywhere
    found = state.cluster(cluster)
    return state.holds(cluster) if found is None else found.held


def break_glass_done(ctx: ReconcileContext, plan: Plan, applied: dict[str, str]) -> None:
    """Record that the break glass of ``plan`` was applied (``applied``: cluster -> its status, '' when fine).

    The Event and the journal name the revision and the clusters written; the clusters stay frozen.
    """
    glass = plan.state.break_glass
    if glass is None or plan.project is None:
        return
    patch_management(ctx, plan.project, holds.record_patch(plan.source.name, break_glass={"applied": glass.token}))
    fk = plan.source.kustomization or {}
    notes = (fk.get("metadata") or {}).get("annotations") or {}
    if notes.get(fz.ANNOTATION_BREAK_GLASS_AT) == glass.token:
        fk = patch_management(ctx, fk, {"metadata": {"annotations": {fz.ANNOTATION_BREAK_GLASS_HANDLED: glass.token}}})
    written = [c for c in plan.state.names if c in applied]
    failed = {c: s for c, s in applied.items() if s}
    where = ", ".join(written) or "no cluster"
    revision = glass.revision
    if failed:
        text = (f"break glass by {glass.by} ({glass.reason}): {short_revision(revision)} failed on "
                + ", ".join(f"{c} ({s})" for c, s in failed.items()) + f"; written to {where}; it stays frozen")
        ctx.recorder.emit(fk, "Warning", REASON_BREAK_GLASS_FAILED, text, revision=revision)
    else:
        text = (f"applied {revision} once on {where} while frozen (break glass by {glass.by}: {glass.reason}); "
                "it stays frozen")
        ctx.recorder.emit(fk, "Warning", fz.REASON_BREAK_GLASS_APPLIED, text, revision=revision)
    journal.record(ctx.api_client, action="break-glass", actor=RECONCILER_ACTOR, reason=text,
                   project=plan.project_name, source=plan.source.name, clusters=written,
                   objects=[f"revision {revision}"])


def project_expiry(ctx: ReconcileContext, name: str, result: ReconcileResult | None) -> ReconcileResult | None:
    """After a Project's reconcile: act on its expired freeze, and run again at its expiry."""
    project = ctx.get(names.KIND_PROJECT, None, name)
    freeze = fz.project_freeze(project)
    if project is None or freeze is None:
        return result
    now = ctx.now()
    namespace = str((project.get("spec") or {}).get("namespace") or name)
    what = f"project freeze by {freeze.by} ({freeze.reason}) on {freeze.where()} expired at {freeze.until}"
    if freeze.expired(now) and freeze.then == fz.THEN_RESUME:
        project = patch_management(ctx, project, {"spec": {"freeze": None}})
        ctx.recorder.emit(project, "Normal", fz.REASON_FREEZE_EXPIRED, f"{what}; resumed as asked (--then resume)",
                          namespace=namespace)
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; resumed as asked",
                       project=name, clusters=freeze.clusters)
    elif freeze.expired(now) and freeze.alarmed != freeze.until:
        project = patch_management(ctx, project, {"spec": {"freeze": {"alarmed": freeze.until}}})
        ctx.recorder.emit(project, "Warning", fz.REASON_FREEZE_EXPIRED,
                          f"{what}; still suspended: resume it or extend the freeze", namespace=namespace)
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; still suspended",
                       project=name, clusters=freeze.clusters)
    wait = freeze.seconds_left(now)
    if wait is None or freeze.expired(now):
        return result
    after = result.requeue_after if result is not None else None
    return replace(result or ReconcileResult(), requeue_after=wait if after is None else min(after, wait))
