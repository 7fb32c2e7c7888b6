"""Client-side to server-side apply upgrade, as kube-apiserver's lastAppliedManager and lastAppliedUpdater do it.

When kubectl (field manager "kubectl") server-side applies an object that ``kubectl apply`` managed
client-side, conflicts on fields the last-applied-configuration annotation still holds with their
live value are not conflicts: the apply is forced over them. Afterwards the annotation is kept in
step with what kubectl applied, so a later client-side apply still computes the right patch.
"""

from __future__ import annotations

import json
from typing import Any

from gitops_tui.sandbox.apply import fieldmanager
from gitops_tui.sandbox.apply.fieldpaths import field_set, path_string
from gitops_tui.sandbox.apply.fieldsets import diff

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
UPGRADING_MANAGER = "kubectl"


def _annotation(obj: dict[str, Any] | None) -> str:
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    value = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) else ""


def allowed_conflicts(live: dict[str, Any]) -> set[str] | None:
    """The fields (as conflicts name them) last-applied holds with their live value; None without it."""
    text = _annotation(live)
    if not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != live.get("apiVersion"):
        return None
    schema, _ = fieldmanager.walk_schema(live, None, False, "")
    body = dict(live)
    body["metadata"] = {k: v for k, v in (live.get("metadata") or {}).items() if k != "managedFields"}
    change = diff(last, body, schema)
    held = field_set(last, schema) - change.changed - change.removed
    return {path_string(path) for path in held}


def apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str, *, force: bool, now: str,
          ignore_status: bool = False, subresource: str = "") -> dict[str, Any]:
    """fieldmanager.apply, upgrading kubectl's client-side ownership instead of conflicting with it."""
    try:
        result = fieldmanager.apply(live, config, manager, force=force, now=now, ignore_status=ignore_status,
                                    subresource=subresource)
    except fieldmanager.ApplyConflict as exc:
        if manager != UPGRADING_MANAGER or live is None:
            raise
        allowed = allowed_conflicts(live)
        if allowed is None:
            raise
        remaining = [conflict for conflict in exc.conflicts if conflict.field not in allowed]
        if remaining:
            raise fieldmanager.ApplyConflict(remaining) from None
        result = fieldmanager.apply(live, config, manager, force=True, now=now, ignore_status=ignore_status,
                                    subresource=subresource)
    if manager == UPGRADING_MANAGER and _annotation(live):
        _set_last_applied(result, config)
    return result


def _set_last_applied(result: dict[str, Any], config: dict[str, Any]) -> None:
    """Keep the annotation in step: the applied configuration without the annotation itself."""
    applied = json.loads(json.dumps(config))
    annotations = (applied.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    metadata = result.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}),
                               LAST_APPLIED: json.dumps(applied, separators=(",", ":"), sort_keys=True)}
