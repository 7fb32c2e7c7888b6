"""The deployment-control keys as screen actions: W a project's freeze window, O a per-cluster override of a source."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_tui.api import windows as wn
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.screens.control_dialogs import OverrideDialog, WindowDialog
from gitops_tui.views import model
from gitops_tui.views.controls import OverrideRequest, WindowRequest

if TYPE_CHECKING:
    from gitops_tui.tui.widgets.pane import ResourcePane


class ControlFlows:
    """Mixin for the main screen: ``W`` window (Projects), ``O`` override (Sources, Propagation)."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane
        @property
        def pane(self) -> ResourcePane: ...
    _need_source: Callable[[], model.SourceView | None]
    _project: Callable[[], str | None]
    run_op: Callable[..., Any]

    def action_window(self) -> None:
        """Create (or delete) a freeze window of the selected project, with a reason."""
        project = self._project()
        if project is None:
            self.app.notify("Select a project first.", severity="warning")
            return
        raw = next((p for p in self.app.backend.state.items("projects") if p["metadata"]["name"] == project), None)
        placed = model.project_clusters(raw, self.app.backend.state.items("clusters"))
        existing = [w.name for w in wn.windows_of(raw)]
        ops = self.app.backend.ops

        def done(request: WindowRequest | None) -> None:
            if request is None:
                return
            if request.delete:
                self.run_op(f"Delete window {request.name}", ops.delete_window, project, request.name, request.reason)
            else:
                self.run_op(f"Window {request.name}", ops.create_window, project, request)

        self.app.push_screen(WindowDialog(project, placed, existing), done)

    def action_override(self) -> None:
        """Override one cluster's object of the selected source (or remove the override), with a reason."""
        source = self._need_source()
        if source is None:
            return
        ops = self.app.backend.ops
        current = [f"{o.cluster} {o.target} {', '.join(o.paths)}" for o in
                   (source.state.overrides if source.state is not None else ())]

        def done(request: OverrideRequest | None) -> None:
            if request is None:
                return
            if request.remove:
                self.run_op(f"Remove override {source.name}", ops.remove_override, source.project, source.name,
                            request)
            else:
                self.run_op(f"Override {source.name}", ops.set_override, source.project, source.name, request)

        self.app.push_screen(OverrideDialog(f"{source.project}/{source.name}", source.clusters, current), done)
