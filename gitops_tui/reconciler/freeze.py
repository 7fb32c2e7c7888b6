"""The reconciler's side of freezes: act on expiry, say which clusters are held, check before every write, break glass.

A source is held on a cluster by its own freeze or by its project's (``api/freeze.py``); an expired freeze
resumes by itself when ``--then resume`` was asked, else it stays and raises one Warning Event. Every
reconcile asks to run again at the next expiry, read from ``ctx.now`` (an injectable clock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from gitops_tui import journal
from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.journal.corrections import RECONCILER_ACTOR
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult, management_path
from gitops_tui.reconciler.projects import project_for_namespace
from gitops_tui.kube.client import json_request

log = logging.getLogger(__name__)

#: Who acts when a freeze expires.
EXPIRY_ACTOR = "gitops-tui (freeze expiry)"


@dataclass(frozen=True)
class Hold:
    """What holds one source in this reconcile: every cluster, some clusters, or nothing; and a break glass."""

    source: GitOpsSource
    """The source as read after acting on an expiry."""
    project: str = ""
    """The project's name ("" when no project owns the namespace)."""
    everywhere: bool = False
    clusters: frozenset[str] = frozenset()
    break_glass: str = ""
    """The break-glass request applied in this reconcile ("" for none): it overrides every hold, once."""
    wake_in: float | None = None
    """Seconds until the next expiry of a freeze on this source or its project."""

    def holds(self, cluster: str) -> bool:
        """True when writes to ``cluster`` are held in this reconcile."""
        return not self.break_glass and (self.everywhere or cluster in self.clusters)

    def requeue(self, after: float | None) -> float | None:
        """``after``, or the next expiry when it comes sooner."""
        if self.wake_in is None:
            return after
        return self.wake_in if after is None else min(after, self.wake_in)


def _patch(ctx: ReconcileContext, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    path = management_path(str(obj.get("kind")), meta.get("namespace"), str(meta.get("name")))
    return json_request(ctx.api_client, "PATCH", path, patch, content_type="application/merge-patch+json")


def _expire_source(ctx: ReconcileContext, source: GitOpsSource, freeze: fz.Freeze) -> GitOpsSource:
    """Resume an expired freeze when asked, else raise its Warning Event once; return the source as it is now."""
    fk = source.kustomization or {}
    what = f"freeze by {freeze.by} ({freeze.reason}) on {freeze.where()} expired at {freeze.until}"
    if freeze.then == fz.THEN_RESUME:
        now = fz.stamp(ctx.now())
        fk = _patch(ctx, fk, fz.source_resume_patch(freeze, [], [], EXPIRY_ACTOR, now, now))
        ctx.recorder.emit(fk, "Normal", fz.REASON_FREEZE_EXPIRED, f"{what}; resumed as asked (--then resume)")
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; resumed as asked",
                       project=_project_name(ctx, source.namespace), source=source.name, clusters=freeze.clusters)
        return GitOpsSource(source.repository, fk)
    if freeze.alarmed != freeze.until:
        fk = _patch(ctx, fk, {"metadata": {"annotations": {fz.ANNOTATION_SUSPEND_ALARMED: freeze.until}}})
        ctx.recorder.emit(fk, "Warning", fz.REASON_FREEZE_EXPIRED,
                          f"{what}; still suspended: resume it or extend the freeze")
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; still suspended",
                       project=_project_name(ctx, source.namespace), source=source.name, clusters=freeze.clusters)
        return GitOpsSource(source.repository, fk)
    return source


def _project_name(ctx: ReconcileContext, namespace: str) -> str:
    """The name of the project that owns ``namespace`` ('' when none does)."""
    return str(((project_for_namespace(ctx, namespace) or {}).get("metadata") or {}).get("name") or "")


def hold_of(ctx: ReconcileContext, source: GitOpsSource) -> Hold:
    """Act on an expired freeze of the source, then say what holds it now (its freeze and its project's)."""
    now = ctx.now()
    own = fz.source_freeze(source.kustomization)
    if own is not None and own.expired(now):
        source = _expire_source(ctx, source, own)
        own = fz.source_freeze(source.kustomization)
    project_raw = project_for_namespace(ctx, source.namespace)
    freezes = [f for f in (own, fz.project_freeze(project_raw)) if f is not None and f.active(now)]
    waits = [f.seconds_left(now) for f in freezes if not f.expired(now) and f.until_time is not None]
    return Hold(
        source=source,
        project=str(((project_raw or {}).get("metadata") or {}).get("name") or ""),
        everywhere=any(f.everywhere for f in freezes),
        clusters=frozenset(c for f in freezes for c in f.clusters),
        break_glass=fz.break_glass_pending(source.kustomization),
        wake_in=min((w for w in waits if w is not None), default=None),
    )


def write_held(ctx: ReconcileContext, current: dict[str, Any], hold: Hold, cluster: str | None) -> bool:
    """Before a write (read fresh): True when a freeze of the source or its project now holds ``cluster``.

    ``cluster`` None asks about every cluster at once (only a freeze of every cluster holds it). A break glass
    run is held by nothing but its own end.
    """
    if hold.break_glass:
        return False
    now = ctx.now()
    project = ctx.get(names.KIND_PROJECT, None, hold.project) if hold.project else None
    for freeze in (fz.source_freeze(current), fz.project_freeze(project)):
        if freeze is None or not freeze.active(now):
            continue
        if freeze.everywhere or (cluster is not None and freeze.holds(cluster)):
            return True
    return False


def break_glass_done(ctx: ReconcileContext, hold: Hold, revision: str) -> None:
    """Record that the break-glass request of ``hold`` was applied; the source stays suspended."""
    fk = hold.source.kustomization or {}
    glass = fz.break_glass_of(fk)
    if glass is None or not hold.break_glass:
        return
    fk = _patch(ctx, fk, {"metadata": {"annotations": {fz.ANNOTATION_BREAK_GLASS_HANDLED: hold.break_glass}}})
    ctx.recorder.emit(fk, "Warning", fz.REASON_BREAK_GLASS_APPLIED,
                      f"applied {revision or 'the revision'} once while suspended (break glass by {glass.by}: "
                      f"{glass.reason}); it stays suspended", revision=revision or None)
    journal.record(ctx.api_client, action="break-glass", actor=RECONCILER_ACTOR,
                   reason=f"applied {revision or 'the revision'} once for {glass.by}: {glass.reason}",
                   project=hold.project, source=hold.source.name)


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
        project = _patch(ctx, project, {"spec": {"freeze": None}})
        ctx.recorder.emit(project, "Normal", fz.REASON_FREEZE_EXPIRED, f"{what}; resumed as asked (--then resume)",
                          namespace=namespace)
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; resumed as asked",
                       project=name, clusters=freeze.clusters)
    elif freeze.expired(now) and freeze.alarmed != freeze.until:
        project = _patch(ctx, project, {"spec": {"freeze": {"alarmed": freeze.until}}})
        ctx.recorder.emit(project, "Warning", fz.REASON_FREEZE_EXPIRED,
                          f"{what}; still suspended: resume it or extend the freeze", namespace=namespace)
        journal.record(ctx.api_client, action="expiry", actor=EXPIRY_ACTOR, reason=f"{what}; still suspended",
                       project=name, clusters=freeze.clusters)
    wait = freeze.seconds_left(now)
    if wait is None or freeze.expired(now):
        return result
    after = result.requeue_after if result is not None else None
    return replace(result or ReconcileResult(), requeue_after=wait if after is None else min(after, wait))
