"""The reconciler's side of freeze windows: an Event and a journal entry when a project's window opens or closes.

What a window holds is in the effective state (api/effective.py reads api/windows.py): each source's reconcile holds the
window's clusters and asks to run again at its next opening or closing (``requeue_after``, read from ``ctx.now``: an
injectable clock, never a poll). The Project's reconcile here tells people: which windows were open at its last run is
remembered in the annotation ``gitops-tui.io/windows-seen``, so each opening and closing is told once.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from gitops_tui import journal
from gitops_tui.api import names
from gitops_tui.api import windows as wn
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.freeze import patch_management

ANNOTATION_SEEN = "gitops-tui.io/windows-seen"
#: Who the journal names for an opening or a closing.
WINDOW_ACTOR = "gitops-tui (window)"


def _seen(project: dict[str, Any]) -> dict[str, str]:
    text = str(((project.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_SEEN) or "")
    try:
        seen = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {}


def project_windows(ctx: ReconcileContext, name: str, result: ReconcileResult | None) -> ReconcileResult | None:
    """After a Project's reconcile: tell each window that opened or closed since the last one; run again at the next."""
    project = ctx.get(names.KIND_PROJECT, None, name)
    if project is None or not ctx.is_leader():
        return result
    now = ctx.now()
    windows = wn.windows_of(project)
    seen = _seen(project)
    if not windows and not seen:
        return result
    namespace = str((project.get("spec") or {}).get("namespace") or name)
    current = {o.window.name: wn.stamp(o.opened) for o in wn.open_windows(project, now)}
    by_name = {w.name: w for w in windows}
    for window_name in sorted(set(seen) | set(current)):
        was, now_open = seen.get(window_name, ""), current.get(window_name, "")
        if was == now_open:
            continue
        window = by_name.get(window_name)
        if was and window is not None:  # closed (a deleted window is told by its deletion)
            text = f"{window.describe()}: closed; its clusters follow their sources again"
            _tell(ctx, project, namespace, name, window, wn.REASON_WINDOW_CLOSED, text)
        if now_open and window is not None:
            span = window.span(now)
            until = window.local(span[1]) if span else "?"
            text = f"{window.describe()}: open until {until}; writes to {window.where()} wait for its close"
            _tell(ctx, project, namespace, name, window, wn.REASON_WINDOW_OPENED, text)
    if current != seen:
        seen_text = json.dumps(current, separators=(",", ":"), sort_keys=True) if current else None
        patch_management(ctx, project, {"metadata": {"annotations": {ANNOTATION_SEEN: seen_text}}})
    wait = wn.wake_in(project, now)
    if wait is None:
        return result
    after = result.requeue_after if result is not None else None
    return replace(result or ReconcileResult(), requeue_after=wait if after is None else min(after, wait))


def _tell(ctx: ReconcileContext, project: dict[str, Any], namespace: str, name: str, window: wn.Window,
          reason: str, text: str) -> None:
    ctx.recorder.emit(project, "Normal", reason, text, namespace=namespace)
    action = "window-open" if reason == wn.REASON_WINDOW_OPENED else "window-close"
    journal.record(ctx.api_client, action=action, actor=WINDOW_ACTOR, reason=text, project=name,
                   clusters=list(window.clusters))
