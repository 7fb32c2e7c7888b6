"""The live backend's deployment controls: a project's freeze windows and a source's per-cluster overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitops_tui.api.formats import short_revision
from gitops_tui.views.controls import OverrideRequest, WindowRequest


class LiveControlOperations:
    """Window and override operations through gitops_tui.actions (called in workers); LiveOperations gives ``api``."""

    if TYPE_CHECKING:  # LiveOperations gives the management client
        @property
        def api(self) -> Any: ...

    def create_window(self, project: str, request: WindowRequest) -> str:
        """Record a freeze window on the project."""
        from gitops_tui.actions import windows

        window = windows.create_window(self.api, project, request.name, schedule=request.schedule,
                                       duration=request.duration, reason=request.reason,
                                       clusters=list(request.clusters) or None, timezone_name=request.timezone)
        return f"Window {window.name} of {project}: {window.schedule} for {window.duration} ({window.timezone}) " \
               f"on {window.where()}."

    def delete_window(self, project: str, name: str, reason: str) -> str:
        """Remove a freeze window from the project."""
        from gitops_tui.actions import windows

        window = windows.delete_window(self.api, project, name, reason)
        return f"Window {window.name} of {project} deleted: {window.where()} follow their sources again."

    def set_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Override one cluster's object (a JSON 6902 patch) or its HelmReleases' values (a file)."""
        from gitops_tui.actions import overrides

        patch = overrides.parse_patch(request.patch) if request.patch else None
        values = overrides.read_values(request.values) if request.values else None
        done = overrides.set_override(self.api, project, name, request.cluster, reason=request.reason,
                                      target=request.target, patch=patch, values=values)
        return f"{name}: {done.describe()}."

    def approve_wave(self, project: str, name: str, wave: str, reason: str, revision: str = "") -> str:
        """Approve one wave of the source's rollout for the revision the operator saw (refused when git moved)."""
        from gitops_tui.actions import rollout

        approval = rollout.approve_wave(self.api, project, name, wave, reason, revision=revision)
        return f"{name}: wave {approval.wave} approved for {short_revision(approval.revision)}."

    def remove_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Remove one cluster's override of the target (all of the cluster's when no target)."""
        from gitops_tui.actions import overrides

        gone = overrides.remove_override(self.api, project, name, request.cluster, reason=request.reason,
                                         target=request.target)
        return f"{name}: removed on {request.cluster}: {', '.join(k.split('/', 1)[1] for k in gone)}."
