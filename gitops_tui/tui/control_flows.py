"""The deployment-control keys as screen actions: W a project's freeze window, O a per-cluster override of a source,
a the approval of a rollout's wave."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_tui.api import windows as wn
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.views import glyphs as g
from gitops_tui.views import model
from gitops_tui.views.controls import OverrideRequest, WindowRequest
from gitops_tui.views.rollout import approvable, rollout_line

if TYPE_CHECKING:
    from gitops_tui.tui.widgets.pane import ResourcePane


class ControlFlows:
    """Mixin for the main screen: ``W`` window (Projects), ``O`` override, ``a`` approve (Sources, Propagation)."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane
        @property
        def pane(self) -> ResourcePane: ...
    _need_source: Callable[[], model.SourceView | None]
    _project: Callable[[], str | None]
    run_op: Callable[..., Any]
    selected_source: Callable[[], model.SourceView | None]

    def action_window(self) -> None:
        """Create (or delete) a freeze window of the selected project, with a reason."""
        from gitops_tui.tui.screens.control_dialogs import WindowDialog
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
        from gitops_tui.tui.screens.control_dialogs import OverrideDialog
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

    def approvable_wave(self) -> tuple[model.SourceView, int, str] | None:
        """(source, wave index, revision) of the selected source's rollout wave an approval releases, None when none."""
        source = self.selected_source()
        rollout = source.state.rollout if source is not None and source.state is not None else None
        found = approvable(rollout)
        return None if found is None or source is None else (source, *found)

    def action_approve(self) -> None:
        """Approve the wave of the selected source's rollout that waits for it, after a confirm with a reason."""
        from gitops_tui.tui.screens.control_dialogs import ApproveDialog
        source = self._need_source()
        if source is None:
            return
        found = self.approvable_wave()
        if found is None:
            self.app.notify(f"{source.name}: no wave of a rollout waits for an approval.", severity="warning")
            return
        _, index, revision = found
        rollout = source.state.rollout if source.state is not None else None
        assert rollout is not None
        wave = rollout.spec.waves[index]
        ops = self.app.backend.ops

        def done(reason: str | None) -> None:
            if reason:
                self.run_op(f"Approve {source.name} wave {wave.name}", ops.approve_wave, source.project, source.name,
                            wave.name, reason, revision)

        self.app.push_screen(ApproveDialog(f"{source.project}/{source.name}", wave.name, g.short_revision(revision),
                                           [c for c in wave.clusters if c in source.clusters],
                                           rollout_line(rollout, self.app.backend.now())), done)
