"""The reconciler's side of a staged rollout: see git's revision first, watch the current wave, move it on or halt.

A source with a rollout follows git before it decides anything (a new revision goes to the first wave only). Around
the lanes of a reconcile (before and after), ``settle`` looks at the wave the revision is in: once every cluster of
it applied the revision, its objects' health (kstatus, from the drift watches' cache, else read) starts the soak; the
soak runs on ``ctx.now``; at its end (the reconciler is requeued then, ``SourceState.wake_in``) the next wave is
released, unless it awaits an approval. A refused revision, an object that fails or never becomes healthy within the
source's timeout, or health lost during the soak halts the rollout: recorded in ``status.rollout``, one Warning Event,
one journal entry; the later waves stay held until a new revision starts again from the first wave.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gitops_tui import journal
from gitops_tui.api.effective import INTENT_PINNED
from gitops_tui.api.effective_state import source_state
from gitops_tui.api.formats import format_duration, parse_time, short_revision
from gitops_tui.api.rollout import (
    FIELD_ROLLOUT,
    REASON_AWAITING,
    REASON_DONE,
    REASON_HALTED,
    REASON_SOAKING,
    REASON_STARTED,
    REASON_WAVE,
    Halt,
    Progress,
    progress_of,
    stamp_precise,
)
from gitops_tui.api.rollout_state import RolloutView
from gitops_tui.journal.corrections import RECONCILER_ACTOR
from gitops_tui.kube.inventory import describe, parse_entries
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.freeze import Plan
from gitops_tui.reconciler.health import CURRENT, FAILED, Health, health

log = logging.getLogger(__name__)

#: A cluster entry in these states has not refused the revision (it is on its way, or cannot be reached now).
NOT_REFUSED = ("", "Progressing", "ClusterNotReachable", "ApplyStopped")


@dataclasses.dataclass
class Step:
    """What one look at a rollout decided: the progress to record, Events to raise, a halt to journal."""

    progress: Progress
    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    halt: Halt | None = None
    released: bool = False
    """A wave was released: its clusters are to be applied now."""


def _stamp(now: datetime) -> str:
    return stamp_precise(now)


def _seconds_since(text: str, now: datetime) -> float:
    moment = parse_time(text)
    return 0.0 if moment is None else (now - moment).total_seconds()


def _health_text(cluster: str, found: Health, what: str) -> str:
    return f"{what} on {cluster}: {found.message}" if what else f"{cluster}: {found.message}"


def decide(view: RolloutView, plan: Plan, entries: dict[str, dict[str, Any]],
           health_of: Callable[[list[str]], tuple[str, str]], now: datetime) -> Step:
    """The next step of the rollout (pure but for ``health_of(clusters) -> (kstatus, what)``)."""
    spec, p = view.spec, view.progress
    rev = short_revision(view.revision)
    step = Step(p)
    if not view.recorded and not p.done:
        p = dataclasses.replace(p, started_at=_stamp(now))
        later = ", ".join(w.name for w in spec.waves[1:]) or "no other wave"
        soak = f"soak {spec.soak}" if spec.soak_seconds else "no soak"
        step.events.append(("Normal", REASON_STARTED,
                            f"rollout of {rev}: wave {spec.waves[0].name} first, then {later} ({soak})"))
    elif not view.recorded:
        p = dataclasses.replace(p, done=_stamp(now))  # set up on a source already running git's revision everywhere
    step.progress = p
    if p.halted is not None or p.done:
        return step
    if p.current < 0:
        first = spec.waves[0].name
        approval = view.approval(0)
        if approval is not None:
            step.progress = dataclasses.replace(p, released=1, awaiting="")
            step.released = True
            step.events.append(("Normal", REASON_WAVE, f"rollout of {rev}: wave {first} starts (approved by "
                                                       f"{approval.by}: {approval.reason})"))
        elif p.awaiting != first:
            step.progress = dataclasses.replace(p, awaiting=first)
            step.events.append(("Normal", REASON_AWAITING, f"rollout of {rev}: wave {first} awaits approval"))
        return step
    index = view.current
    wave = spec.waves[index]
    states = {c.name: c for c in plan.state.clusters}
    counted = [c for c in wave.clusters if c in states and states[c].intent != INTENT_PINNED]
    for cluster in counted:
        entry = entries.get(cluster) or {}
        status = str(entry.get("status") or "")
        if entry.get("lastAttemptedRevision") == view.revision and status not in NOT_REFUSED:
            cause = f"{status} on {cluster}: {entry.get('message') or 'refused'}"
            return _halt(step, view, index, cause, now)
    if any((entries.get(c) or {}).get("lastAppliedRevision") != view.revision or (entries.get(c) or {}).get("status")
           for c in counted):
        return step  # the wave is still applying (or a freeze holds one of its clusters): wait
    if not p.applied_at:
        p = step.progress = dataclasses.replace(p, applied_at=_stamp(now))
    kstatus, what = health_of(counted) if counted else (CURRENT, "")
    if kstatus == FAILED:
        return _halt(step, view, index, f"unhealthy: {what}", now)
    if kstatus != CURRENT:
        if p.soak_started:
            return _halt(step, view, index, f"health lost during the soak: {what}", now)
        if view.timeout and _seconds_since(p.applied_at, now) >= view.timeout:
            return _halt(step, view, index, f"not healthy {format_duration(view.timeout)} after the apply: {what}",
                         now)
        return step
    if not p.soak_started:
        p = step.progress = dataclasses.replace(p, soak_started=_stamp(now))
        soaking = f"soaking {spec.soak}" if spec.soak_seconds and counted else "no soak"
        step.events.append(("Normal", REASON_SOAKING, f"rollout of {rev}: wave {wave.name} applied it and is "
                                                      f"healthy; {soaking}"))
    if counted and spec.soak_seconds - _seconds_since(p.soak_started, now) > 0:
        return step
    if index == len(spec.waves) - 1:
        step.progress = dataclasses.replace(p, done=_stamp(now))
        step.events.append(("Normal", REASON_DONE, f"rollout of {rev} done: every wave applied it and stayed "
                                                   "healthy"))
        return step
    following = spec.waves[index + 1]
    approval = view.approval(index + 1)
    if following.approve and approval is None:
        if p.awaiting != following.name:
            step.progress = dataclasses.replace(p, awaiting=following.name)
            step.events.append(("Normal", REASON_AWAITING, (
                f"rollout of {rev}: wave {wave.name} soaked; wave {following.name} awaits approval "
                f"(gitops-tui approve source {plan.source.name} -p {plan.project_name} --wave {following.name} "
                "--reason TEXT, or a in the console)")))
        return step
    step.progress = dataclasses.replace(p, released=p.released + 1, applied_at="", soak_started="", awaiting="")
    step.released = True
    approved = f"; approved by {approval.by}: {approval.reason}" if approval is not None else ""
    step.events.append(("Normal", REASON_WAVE, f"rollout of {rev}: wave {following.name} starts ({wave.name} "
                                               f"applied it and stayed healthy{approved})"))
    return step


def _halt(step: Step, view: RolloutView, index: int, cause: str, now: datetime) -> Step:
    halt = Halt(view.spec.waves[index].name, cause, _stamp(now))
    step.progress = dataclasses.replace(step.progress, halted=halt, awaiting="")
    step.halt = halt
    later = [c for w in view.spec.waves[index + 1:] for c in w.clusters]
    held = f"; later waves keep their revision and are held: {', '.join(later)}" if later else ""
    step.events.append(("Warning", REASON_HALTED, f"{halt.reason} (revision {short_revision(view.revision)}){held}; "
                                                  "a new revision starts again from the first wave"))
    return step


def wave_health(ctx: ReconcileContext, plan: Plan, entries: dict[str, dict[str, Any]],
                clusters: list[str]) -> tuple[str, str]:
    """The worst kstatus of the objects the clusters' inventories list, and which object on which cluster.

    Live objects come from the drift watches' cache (no request); an object it does not hold yet is read.
    """
    from gitops_tui.kube.apply import get_object

    worst: tuple[int, str, str] = (-1, CURRENT, "")
    rank = {CURRENT: 0, "InProgress": 1, "NotFound": 2, FAILED: 3}
    for cluster in clusters:
        for ref in parse_entries((entries.get(cluster) or {}).get("inventory")):
            known, live = (False, None)
            if ctx.drift_watch is not None:
                known, live = ctx.drift_watch.lookup(cluster, ref.api_version, ref.kind, ref.namespace, ref.name)
            if not known:
                try:
                    live = get_object(ctx.clusters.get(cluster)[1], ref.api_version, ref.kind, ref.name,
                                      ref.namespace or None)
                except Exception as exc:  # noqa: BLE001 - unreadable: not healthy yet (never a halt by itself)
                    found = Health("InProgress", f"not read ({type(exc).__name__})")
                    live = None
                else:
                    found = health(live)
            else:
                found = health(live)
            score = rank.get(found.status, 1)
            if score > worst[0]:
                worst = (score, found.status, _health_text(cluster, found, describe(ref)))
            if found.status == FAILED:
                return worst[1], worst[2]
    return worst[1], worst[2]


def _entries(plan: Plan) -> dict[str, dict[str, Any]]:
    status = (plan.source.kustomization or {}).get("status") or {}
    return {str(e.get("name")): e for e in status.get("clusters") or [] if isinstance(e, dict) and e.get("name")}


def replan(ctx: ReconcileContext, plan: Plan, fk: dict[str, Any] | None = None) -> Plan:
    """The plan again, with the source read fresh (or its FederatedKustomization as just written)."""
    from gitops_tui.api.source import GitOpsSource
    from gitops_tui.reconciler.status import load_source

    source = load_source(ctx.api_client, plan.source.namespace, plan.source.name) if fk is None \
        else GitOpsSource(plan.source.repository, fk)
    state = source_state(source.repository, source.kustomization, plan.project, plan.clusters, ctx.now())
    return dataclasses.replace(plan, source=source, state=state)


def _record(ctx: ReconcileContext, plan: Plan, body: dict[str, Any] | None) -> dict[str, Any] | None:
    """Write ``status.rollout`` (None removes it); the FederatedKustomization as written, None when it is gone."""
    from kubernetes.client.exceptions import ApiException

    fk = plan.source.kustomization or {}
    try:
        return ctx.patch_status(fk, {FIELD_ROLLOUT: body})
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def follow(ctx: ReconcileContext, plan: Plan) -> Plan:
    """Before the lanes of a source with a rollout: fetch git (its artifact moves to a new revision first), then
    settle. The git lane then applies exactly the rollout's revision to the released waves."""
    from gitops_tui.reconciler import held

    if plan.state.rollout is None:
        return settle(ctx, plan)[0] if progress_of(plan.source.kustomization) is not None else plan
    before = plan.source.artifact_revision
    held.follow_git(ctx, plan.source)
    if (plan.source.repository or {}).get("status", {}).get("artifact", {}).get("revision") != before:
        plan = replan(ctx, plan)
    return settle(ctx, plan)[0]


def settle(ctx: ReconcileContext, plan: Plan) -> tuple[Plan, bool]:
    """Look at the rollout and record what moved; return the plan to act on and whether a wave was just released."""
    view = plan.state.rollout
    fk = plan.source.kustomization or {}
    if view is None:
        if progress_of(fk) is None or not ctx.is_leader():
            return plan, False
        written = _record(ctx, plan, None)  # the rollout was turned off: its progress goes
        return (replan(ctx, plan, written) if written is not None else plan), False
    entries = _entries(plan)
    step = decide(view, plan, entries, lambda clusters: wave_health(ctx, plan, entries, clusters), ctx.now())
    _follow_health(ctx, plan, step)
    if step.progress == progress_of(fk) or not ctx.is_leader():
        return plan, False
    written = _record(ctx, plan, step.progress.to_status())
    if written is None:
        return plan, False
    for type_, reason, message in step.events:
        ctx.recorder.emit(written, type_, reason, message, revision=view.revision or None)
    if step.halt is not None:
        later = [c for w in view.spec.waves[view.spec.find(step.halt.wave) or 0:][1:] for c in w.clusters]
        journal.record(ctx.api_client, action="rollout-halt", actor=RECONCILER_ACTOR, reason=step.halt.reason,
                       project=plan.project_name, source=plan.source.name,
                       clusters=[c for c in plan.state.names if c in later],
                       objects=[f"revision {view.revision}"])
    return replan(ctx, plan, written), step.released


def _follow_health(ctx: ReconcileContext, plan: Plan, step: Step) -> None:
    """While a wave waits to be healthy or soaks, a change of its objects' health requeues the source."""
    watch = ctx.drift_watch
    if watch is None:
        return
    p = step.progress
    watching = p.halted is None and not p.done and p.released > 0
    watch.follow_health(plan.source.namespace, plan.source.name, watching)
