"""The static backend's deployment controls: windows and overrides applied to the in-memory state (snapshots, tests)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gitops_tui.api import overrides as ov
from gitops_tui.api import windows as wn
from gitops_tui.api.holds import FIELD_SOURCE_HOLDS, record_patch
from gitops_tui.api.rollout import APPROVALS_LIMIT, Approval
from gitops_tui.backends.static_freeze import merge_patch
from gitops_tui.backends.static_lookup import project_object, source_object
from gitops_tui.views.controls import OverrideRequest, WindowRequest
from gitops_tui.views.state import Change, ManagementState


class StaticControlOperations:
    """Create and delete windows, set and remove overrides, approve a wave, on the in-memory state; each call is
    recorded."""

    state: ManagementState
    actor: str
    calls: list[tuple[str, tuple[Any, ...]]]
    _now: datetime

    def create_window(self, project: str, request: WindowRequest) -> str:
        """Record the window on the Project."""
        self.calls.append(("create_window", (project, request)))
        window = wn.Window(request.name, request.schedule, request.duration, request.timezone, request.clusters,
                           request.reason, self.actor, "", wn.stamp(self._now))
        patched = merge_patch(project_object(self.state, project), wn.create_patch(window))
        self.state.apply(Change("projects", "MODIFIED", patched))
        return f"Window {window.name} of {project} created."

    def delete_window(self, project: str, name: str, reason: str) -> str:
        """Remove the window from the Project."""
        self.calls.append(("delete_window", (project, name, reason)))
        patched = merge_patch(project_object(self.state, project), wn.delete_patch(name))
        self.state.apply(Change("projects", "MODIFIED", patched))
        return f"Window {name} of {project} deleted."

    def set_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Add the override item to the source (the operator's record too)."""
        self.calls.append(("set_override", (project, name, request)))
        kind, _, target = request.target.partition("/") if request.target else ("HelmRelease", "", "")
        patch = json.loads(request.patch) if request.patch else []
        item = ov.Override(request.cluster, kind, target, tuple(patch if isinstance(patch, list) else [patch]),
                           {"values": request.values} if request.values else None, self.actor, request.reason,
                           wn.stamp(self._now), "", True)
        obj = source_object(self.state, project, name)
        kept = [i for i in ov.items_of(obj) if (i.get("clusterName"), (i.get("target") or {}).get("kind"),
                                                (i.get("target") or {}).get("name") or "") != (
            item.cluster, item.kind, item.name)]
        self.state.apply(Change("kustomizations", "MODIFIED", merge_patch(obj, ov.source_patch([*kept, item.to_item()]))))
        record = {"digest": item.digest, "by": self.actor, "reason": request.reason, "at": wn.stamp(self._now)}
        projected = merge_patch(project_object(self.state, project), ov.record_patch(name, item.key, record))
        self.state.apply(Change("projects", "MODIFIED", projected))
        return f"{name}: {item.describe()}."

    def remove_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Remove the cluster's override items."""
        self.calls.append(("remove_override", (project, name, request)))
        obj = source_object(self.state, project, name)
        kept = [i for i in ov.items_of(obj) if i.get("clusterName") != request.cluster]
        self.state.apply(Change("kustomizations", "MODIFIED", merge_patch(obj, ov.source_patch(kept))))
        return f"{name}: overrides removed on {request.cluster}."

    def approve_wave(self, project: str, name: str, wave: str, reason: str, revision: str = "") -> str:
        """Record the approval of the wave for ``revision`` on the Project (the operator's record)."""
        self.calls.append(("approve_wave", (project, name, wave, reason, revision)))
        raw = project_object(self.state, project)
        record = ((((raw.get("spec") or {}).get(FIELD_SOURCE_HOLDS) or {}).get(name) or {}).get("rollout") or {})
        approval = Approval(wave, revision, self.actor, reason, wn.stamp(self._now), "")
        approvals = [*(record.get("approvals") or []), approval.to_record()][-APPROVALS_LIMIT:]
        self.state.apply(Change("projects", "MODIFIED", merge_patch(raw, record_patch(name, rollout={"approvals": approvals}))))
        return f"{name}: wave {wave} approved."
