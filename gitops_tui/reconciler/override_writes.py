"""A project member's own overrides (written with kubectl, no operator's record on the Project): journaled once, unverified.

Like a member's pin (member_writes.py), a member's override is applied (it is applied as the project, inside every wall)
but it is nobody's verified word: the reconciler journals it once, with the author the item claims and the field
manager found in managedFields as an unverified identity, and journals its removal. What was reported is remembered in
the annotation ``gitops-tui.io/reported-overrides`` (the digests of the member items seen).
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

ANNOTATION_REPORTED = "gitops-tui.io/reported-overrides"
OVERRIDE_PATHS = (("spec", "overrides"),)


def _seen(fk: dict[str, Any]) -> dict[str, str]:
    text = str(((fk.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_REPORTED) or "")
    try:
        seen = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {}


def report(ctx: ReconcileContext, plan: Plan) -> Plan:
    """Journal each member override not reported yet, and each reported one that is gone; return the plan to act on
    (its Project read again when something looked new)."""
    fk = plan.source.kustomization
    if fk is None:
        return plan
    seen = _seen(fk)
    members = {o.digest: o for o in plan.state.overrides if not o.verified}
    if set(members) == set(seen) or not (members or seen):
        return plan
    plan = fresh_project(ctx, plan)  # the operator's record may be newer than the cache's
    members = {o.digest: o for o in plan.state.overrides if not o.verified}
    if set(members) == set(seen):
        return plan
    manager = writer_of(fk, *OVERRIDE_PATHS)
    who = unverified(manager or "a project member", "managedFields" if manager else "unknown")
    for digest, item in members.items():
        if digest in seen:
            continue
        journal.record(ctx.api_client, action="override", actor=item.by or manager or "a project member",
                       reason=f"{item.describe()}; a member's own write, found by the reconciler",
                       project=plan.project_name, source=plan.source.name, clusters=[item.cluster],
                       objects=[f"{item.target}: {', '.join(item.paths)}"], identity=who)
    for digest, target in seen.items():
        if digest not in members:
            journal.record(ctx.api_client, action="override-remove", actor=manager or "a project member",
                           reason=f"a member's override of {target} is gone; found by the reconciler",
                           project=plan.project_name, source=plan.source.name, identity=who)
    now = {d: o.key for d, o in members.items()}
    text = json.dumps(now, separators=(",", ":"), sort_keys=True) if now else None
    if patch_object(ctx.api_client, fk, {"metadata": {"annotations": {ANNOTATION_REPORTED: text}}}) is None:
        log.info("%s/%s is gone: nothing reported", plan.source.namespace, plan.source.name)
    return plan
