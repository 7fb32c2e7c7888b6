"""Live operations of the incident tools: pin, unpin, the pin preview, the revision history and the tree of a source."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui.views.alert_form import AlertRequest
from gitops_tui.views.pin_view import PinChoice, PinRequest, pin_choices

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kubernetes.client import ApiClient


class IncidentOperations:
    """Mixin of LiveOperations: each call blocks (run it in a worker) and writes through gitops_tui.actions."""

    if TYPE_CHECKING:  # LiveOperations gives the management client
        @property
        def api(self) -> ApiClient: ...
    data_dir: Path

    def pin_choices(self, project: str, name: str) -> list[PinChoice]:
        """The revisions the source applied, newest first."""
        from gitops_tui.actions import pin

        return pin_choices(pin.revision_history(self.api, project, name))

    def preview_pin(self, project: str, name: str, request: PinRequest) -> str:
        """The dry-run diff pinning would apply on the pinned clusters ('' when nothing changes)."""
        from gitops_tui.actions import pin
        from gitops_tui.views.preview import format_preview

        planned = pin.plan_pin(self.api, project, name, request.revision, request.reason, request.clusters,
                               request.until_contains)
        return format_preview(pin.preview_pin(self.api, project, name, planned, self.data_dir / "reconciler"))

    def pin_source(self, project: str, name: str, request: PinRequest) -> str:
        """Pin the source."""
        from gitops_tui.actions import pin

        done = pin.pin_source(self.api, project, name, request.revision, request.reason, request.clusters,
                              request.until_contains)
        return f"{name} {done.describe()}"

    def unpin_source(self, project: str, name: str) -> str:
        """Unpin the source (back to following git)."""
        from gitops_tui.actions import pin

        was = pin.unpin_source(self.api, project, name)
        return f"Unpinned {name} (was at {was.short}): it follows git again."

    def project_alerts(self, project: str) -> list[dict[str, Any]]:
        """The project's alerts, read from the management cluster."""
        from gitops_tui.actions import alerts

        return [alerts.summary(p, alert, raw) for p, alert, raw in alerts.list_alerts(self.api, project)]

    def create_alert(self, request: AlertRequest) -> str:
        """Create an alert (and the Secret of a typed signing key) in the project's namespace, journaled."""
        from gitops_tui.actions import alerts
        from gitops_tui.api.alerts import shown_address

        alerts.create_alert(self.api, request.project, request.name, format_=request.format, url=request.url,
                            events=request.events, secret=request.secret,
                            secret_value=request.secret_value or None)
        return (f"Created alert {request.name}: {request.format} to {shown_address(request.url)} "
                f"on {', '.join(request.events)}.")

    def source_tree(self, project: str, name: str) -> str:
        """The tree of the source across clusters, as text."""
        from gitops_tui.backends.tree import read_tree
        from gitops_tui.views.tree import tree_lines

        return "\n".join(tree_lines(read_tree(self.api, project, name, self.data_dir / "reconciler")))
