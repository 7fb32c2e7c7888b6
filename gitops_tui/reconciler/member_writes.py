"""What the reconciler reports of a project member's writes: an ignored lift of an operator's hold, once, as a Warning
Event; a member's own hold (a suspend or a pin written with kubectl), as a journal entry with an unverified identity.

What was reported is remembered in an annotation of the FederatedKustomization (``gitops-tui.io/reported-writes``), so
each is reported once: a new break-glass token against the same freeze is not reported again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from gitops_tui import journal
from gitops_tui.api.managed_fields import writer_of
from gitops_tui.kube.whoami import unverified
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.freeze import Plan, fresh_project
from gitops_tui.reconciler.status import patch_object

log = logging.getLogger(__name__)

ANNOTATION_REPORTED = "gitops-tui.io/reported-writes"
REASON_IGNORED = "MemberWriteIgnored"
#: Fingerprints of ignored writes remembered (the oldest go first).
KEEP = 20
#: A member's own hold, and the action that lifts it.
UNDO = {"suspend": "resume", "pin": "unpin", "rollout": "rollout-off"}


def _seen(fk: dict[str, Any] | None) -> dict[str, Any]:
    text = (((fk or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_REPORTED) or ""
    try:
        seen = json.loads(text) if text else {}
    except ValueError:
        return {}
    return seen if isinstance(seen, dict) else {}


def _journal_member_write(ctx: ReconcileContext, plan: Plan, action: str, write: Any) -> None:
    """A journal entry for a member's own hold (``write``, or its lifting when None), written by the reconciler."""
    from gitops_tui.api.effective_holds import FREEZE_PATHS, PIN_PATHS
    from gitops_tui.api.rollout_state import ROLLOUT_PATHS

    fk = plan.source.kustomization
    if write is not None:
        hold = write.hold
        manager = hold.identity
        order = plan.state.names
        clusters = [c for c in order if hold.covers(c)] if hold.clusters else order
        reason = f"{hold.describe()}; a member's own write, found by the reconciler"
        who = unverified(manager or hold.by, "managedFields" if manager else "annotation")
        journal.record(ctx.api_client, action=action, actor=hold.by, reason=reason, project=plan.project_name,
                       source=plan.source.name, clusters=clusters, identity=who,
                       objects=[f"revision {hold.revision}"] if hold.revision else ())
        return
    paths = {"suspend": FREEZE_PATHS, "pin": PIN_PATHS, "rollout": ROLLOUT_PATHS}[action]
    manager = writer_of(fk, *paths)
    journal.record(ctx.api_client, action=UNDO[action], actor=manager or "a project member",
                   reason=f"a member lifted their own {action}; found by the reconciler", project=plan.project_name,
                   source=plan.source.name,
                   identity=unverified(manager or "a project member", "managedFields" if manager else "unknown"))


def _news(plan: Plan) -> bool:
    """Whether the plan shows an ignored write or a member's hold (or its lifting) not reported yet."""
    seen = _seen(plan.source.kustomization)
    ignored = [str(f) for f in seen.get("ignored") or []]
    current = {w.action: w.fingerprint for w in plan.state.member_writes}
    return (any(item.fingerprint not in ignored for item in plan.state.ignored)
            or any(current.get(action, "") != str(seen.get(action) or "") for action in UNDO))


def report(ctx: ReconcileContext, plan: Plan) -> Plan:
    """Report what is new since the last reconcile: ignored writes (one Event each), members' holds (the journal);
    return the plan to act on (its Project read again when something looked new)."""
    fk = plan.source.kustomization
    if fk is None or not _news(plan):
        return plan
    plan = fresh_project(ctx, plan)
    seen = _seen(fk)
    now = {"ignored": [str(f) for f in seen.get("ignored") or []][-KEEP:],
           **{action: str(seen.get(action) or "") for action in UNDO}}
    for item in plan.state.ignored:
        if item.fingerprint in now["ignored"]:
            continue
        ctx.recorder.emit(fk, "Warning", REASON_IGNORED, item.message)
        now["ignored"] = [*now["ignored"], item.fingerprint][-KEEP:]
    changed = now["ignored"] != [str(f) for f in seen.get("ignored") or []][-KEEP:]
    current = {w.action: w for w in plan.state.member_writes}
    for action in UNDO:
        write = current.get(action)
        fingerprint = write.fingerprint if write is not None else ""
        if fingerprint == now[action]:
            continue
        if write is not None or now[action]:
            _journal_member_write(ctx, plan, action, write)
        now[action] = fingerprint
        changed = True
    if changed:
        text = json.dumps(now, separators=(",", ":"), sort_keys=True)
        if patch_object(ctx.api_client, fk, {"metadata": {"annotations": {ANNOTATION_REPORTED: text}}}) is None:
            log.info("%s/%s is gone: nothing reported", plan.source.namespace, plan.source.name)
    return plan
