"""The freeze keys as screen actions: suspend (s, S), resume (r), resume some clusters (u), break glass (B)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_tui.api.freeze import project_hold_refusal
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.views import glyphs as g
from gitops_tui.views import model
from gitops_tui.views.freeze import preview_for, suspension_text

if TYPE_CHECKING:
    from textual.worker import Worker

    from gitops_tui.tui.widgets.pane import ResourcePane


class FreezeFlows:
    """Mixin of Flows: the freeze actions; the helpers (``_project``, ``run_op``...) come from Flows."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane
        @property
        def pane(self) -> ResourcePane: ...

    if TYPE_CHECKING:  # provided by Flows
        def _project(self) -> str | None: ...
        def _need_source(self) -> model.SourceView | None: ...
        def run_op(self, label: str, call: Callable[..., Any], *args: Any) -> Worker[None]: ...
        def _fetch_then(self, label: str, fetch: Callable[[], Any], then: Callable[[Any], None]) -> Worker[None]: ...

    def _project_obj(self, project: str) -> dict[str, Any] | None:
        return next((p for p in self.app.backend.state.items("projects") if p["metadata"]["name"] == project), None)

    def _placed(self, project: str) -> list[str]:
        return model.project_clusters(self._project_obj(project), self.app.backend.state.items("clusters"))

    def action_suspend(self) -> None:
        """Suspend the source (or, on Projects, the project): reason, clusters, expiry; again extends the freeze."""
        from gitops_tui.tui.screens.freeze_dialogs import FreezeDialog
        if self.pane.object_kind == "project":
            self.action_suspend_project()
            return
        source = self._need_source()
        if source is None:
            return
        ops, now = self.app.backend.ops, self.app.backend.now
        own = source.own_freeze

        def done(result: tuple[str, Any] | None) -> None:
            if result:
                self.run_op(f"Suspend {source.name}", ops.suspend_source, source.project, source.name, *_args(result))

        extending = suspension_text(own, now()) if own else ""
        self.app.push_screen(FreezeDialog(f"source {source.project}/{source.name}", source.clusters, now,
                                          extending=extending), done)

    def action_suspend_project(self) -> None:
        """Freeze the selected project (its sources, present and future): reason, clusters, expiry."""
        from gitops_tui.tui.screens.freeze_dialogs import FreezeDialog
        project = self._project()
        if project is None:
            self.app.notify("Select a project first.", severity="warning")
            return
        ops, now = self.app.backend.ops, self.app.backend.now
        current = model.project_suspension(self._project_obj(project))

        def done(result: tuple[str, Any] | None) -> None:
            if result:
                self.run_op(f"Suspend project {project}", ops.suspend_project, project, *_args(result))

        self.app.push_screen(FreezeDialog(f"every source of project {project}", self._placed(project), now,
                                          project=True, extending=suspension_text(current, now()) if current else ""),
                             done)

    def action_resume(self) -> None:
        """Resume after a preview (the reconciler's dry-run diff) of what it will revert."""
        ops = self.app.backend.ops
        if self.pane.object_kind == "project":
            project = self._project()
            if project is not None:
                self._fetch_then("Resume preview", lambda: ops.preview_project_resume(project),
                                 lambda text: self._confirm_resume(f"project {project}", text, lambda: self.run_op(
                                     f"Resume project {project}", ops.resume_project, project)))
            return
        source = self._need_source()
        if source is None:
            return
        refusal = project_hold_refusal(source.project, source.name, model.project_suspension(source.project_obj), [],
                                       self.app.backend.now(), lift="r on the project in Projects (1)")
        if refusal:
            self.app.notify(refusal[0].upper() + refusal[1:] + ".", severity="warning")
            return
        if source.own_freeze is None:
            held = next((c.hold for c in (source.state.clusters if source.state else ()) if c.held and c.hold), None)
            why = f" It is held by {held.describe()}: W on its project deletes the window." if held else ""
            self.app.notify(f"{source.name} is not suspended.{why}", severity="warning")
            return
        self._fetch_then(
            "Resume preview", lambda: ops.preview_resume(source.project, source.name),
            lambda text: self._confirm_resume(f"source {source.name}", text,
                                              lambda: self.run_op(f"Resume {source.name}", ops.resume_source,
                                                                  source.project, source.name)),
        )

    def action_resume_clusters(self) -> None:
        """Resume a source (or a project) on some of its frozen clusters, after a preview of those clusters."""
        from gitops_tui.tui.screens.freeze_dialogs import ClustersDialog
        ops = self.app.backend.ops
        if self.pane.object_kind == "project":
            project = self._project()
            frozen = model.project_suspension(self._project_obj(project)) if project else None
            if project is None or frozen is None:
                self.app.notify("This project is not frozen.", severity="warning")
                return
            clusters = list(frozen.clusters) or self._placed(project)
            subject, preview = f"project {project}", lambda: ops.preview_project_resume(project)
            resume: Callable[..., Any] = lambda chosen: ops.resume_project(project, chosen)  # noqa: E731
        else:
            source = self._need_source()
            own = source.own_freeze if source else None
            if source is None or own is None:
                self.app.notify("This source is not suspended.", severity="warning")
                return
            clusters = list(own.clusters) or source.clusters
            subject, preview = f"source {source.name}", lambda: ops.preview_resume(source.project, source.name)
            resume = lambda chosen: ops.resume_source(source.project, source.name, chosen)  # noqa: E731

        def chosen(picked: tuple[str, ...] | None) -> None:
            if picked:
                where = f"{subject} on {', '.join(picked)}"
                self._fetch_then("Resume preview", preview, lambda text: self._confirm_resume(
                    where, preview_for(text, picked), lambda: self.run_op(f"Resume {where}", resume, picked)))

        self.app.push_screen(ClustersDialog(subject, clusters), chosen)

    def _confirm_resume(self, subject: str, preview: str, go: Callable[[], object]) -> None:
        from gitops_tui.tui.screens.dialogs import ConfirmDialog, resume_body

        def answered(ok: Any) -> None:
            if ok:
                go()

        self.app.push_screen(ConfirmDialog(f"Resume {subject}", resume_body(preview), "Resume"), answered)

    def action_break_glass(self) -> None:
        """Apply a suspended source's revision once without resuming it, after a confirmation with a reason."""
        from gitops_tui.tui.screens.freeze_dialogs import BreakGlassDialog
        source = self._need_source()
        if source is None:
            return
        if not source.held:
            self.app.notify(f"{source.name} is not suspended: reconcile it with R.", severity="warning")
            return
        ops = self.app.backend.ops
        revision, held = source.revision, list(source.held)

        def done(reason: str | None) -> None:
            if reason:
                self.run_op(f"Break glass {source.name}", ops.break_glass, source.project, source.name, reason,
                            revision, tuple(held))

        pinned = [c for c in held if source.pin is not None and source.pin.covers(c)]
        note = (f" Pinned on {', '.join(pinned)} at {g.short_revision(source.pin.revision)}: this apply uses "
                f"{g.short_revision(revision)} there too." if pinned and source.pin is not None else "")
        self.app.push_screen(BreakGlassDialog(f"{source.project}/{source.name}", g.short_revision(revision), held,
                                              note), done)


def _args(result: tuple[str, Any]) -> tuple[Any, ...]:
    """(reason,) or (reason, choice): the operation's arguments from the freeze dialog's result."""
    reason, choice = result
    return (reason,) if choice is None else (reason, choice)

