"""The window dialog (W on Projects) and the override dialog (O on Sources, Propagation): each asks a reason."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Label, Static

from gitops_tui.tui.screens.freeze_dialogs import FieldsDialog, MarkedCheckbox
from gitops_tui.views.controls import OverrideRequest, WindowRequest, check_override, check_window, window_request


class WindowDialog(FieldsDialog):
    """Create a freeze window of a project (name, schedule, duration, timezone, clusters, reason), or delete one."""

    AUTO_FOCUS = "#name"

    def __init__(self, project: str, placed: list[str], existing: list[str]) -> None:
        super().__init__()
        self.project = project
        self.placed = list(placed)
        self.existing = list(existing)

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        known = f" Its windows: {', '.join(self.existing)}." if self.existing else ""
        with Vertical():
            yield Label(f"Freeze window of project {self.project}", classes="title")
            yield Static("While it is open, nothing is written to its clusters; a commit waits for its close. "
                         f"Break glass still works.{known}", classes="hint")
            yield from self.row("Name", Input(compact=True, id="name", placeholder="e.g. weekend"))
            yield from self.row("Schedule", Input(compact=True, id="schedule",
                                                  placeholder="when it opens, cron: 0 16 * * 5 (Fridays 16:00)"))
            yield from self.row("Duration", Input(compact=True, id="duration", placeholder="how long: 64h"))
            yield from self.row("Timezone", Input(compact=True, id="timezone", placeholder="UTC, or Europe/Berlin"))
            yield from self.row("Clusters", Input(compact=True, id="clusters",
                                                  placeholder=f"blank: all ({' '.join(self.placed)})"))
            yield from self.row("Reason", Input(compact=True, id="reason", placeholder="required, e.g. no weekend deploys"))
            yield MarkedCheckbox("Delete the window of this name instead", id="delete", compact=True)
            yield from self.buttons("Save")

    def submit(self) -> None:
        """Check the fields in place; dismiss with a WindowRequest when they are right."""
        request = window_request(self.value("name"), self.value("reason"), self.value("schedule"),
                                 self.value("duration"), self.value("timezone"), self.value("clusters"),
                                 self.query_one("#delete", Checkbox).value)
        if self.show_errors(check_window(request, self.placed, self.existing)):
            self.dismiss(request)


class OverrideDialog(FieldsDialog):
    """Override one cluster's object of a source (a JSON 6902 patch, or a values file for its HelmReleases), or
    remove that cluster's override."""

    AUTO_FOCUS = "#cluster"

    def __init__(self, source: str, placed: list[str], current: list[str]) -> None:
        super().__init__()
        self.source = source
        self.placed = list(placed)
        self.current = list(current)
        """The overrides standing, in words (shown as a hint)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        now = f" Now: {'; '.join(self.current)}." if self.current else ""
        with Vertical():
            yield Label(f"Override {self.source} on one cluster", classes="title")
            yield Static("Applied after rendering, before ownership, limits and the dry-run; a patch that does not "
                         f"apply refuses that cluster only.{now}", classes="hint")
            yield from self.row("Cluster", Input(compact=True, id="cluster", placeholder=" ".join(self.placed)))
            yield from self.row("Target", Input(compact=True, id="target",
                                                placeholder="Kind/name, e.g. Deployment/podinfo"))
            yield from self.row("Patch", Input(compact=True, id="patch",
                                               placeholder='[{"op":"replace","path":"/spec/replicas","value":3}]'))
            yield from self.row("Values", Input(compact=True, id="values",
                                                placeholder="or a Helm values file for its HelmReleases"))
            yield from self.row("Reason", Input(compact=True, id="reason", placeholder="required"))
            yield MarkedCheckbox("Remove this cluster's override (of Target; blank: all)", id="remove", compact=True)
            yield from self.buttons("Save")

    def submit(self) -> None:
        """Check the fields in place; dismiss with an OverrideRequest when they are right."""
        request = OverrideRequest(self.value("cluster"), self.value("reason"), self.value("target"),
                                  self.value("patch"), self.value("values"), self.query_one("#remove", Checkbox).value)
        if self.show_errors(check_override(request, self.placed)):
            self.dismiss(request)


class ApproveDialog(FieldsDialog):
    """Confirms the approval of one wave of a source's rollout, with a required reason."""

    AUTO_FOCUS = "#reason"

    def __init__(self, source: str, wave: str, revision: str, clusters: list[str], note: str) -> None:
        super().__init__()
        self.source = source
        self.wave = wave
        self.revision = revision
        self.clusters = list(clusters)
        self.note = note
        """Where the rollout is now (its one line)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"Approve wave {self.wave} of {self.source}", classes="title")
            yield Static(f"Releases {self.revision} to {', '.join(self.clusters)} once the wave before it soaked; "
                         f"for this revision only. Recorded with who and why. {self.note}", classes="hint")
            yield from self.row("Reason", Input(compact=True, id="reason", placeholder="required, e.g. CAB-1234 ok"))
            yield from self.buttons("Approve", variant="warning")

    def submit(self) -> None:
        """Dismiss with the reason when one was given."""
        reason = self.value("reason")
        if self.show_errors({} if reason else {"reason": "A reason is required to approve a wave."}):
            self.dismiss(reason)


__all__ = ["ApproveDialog", "OverrideDialog", "OverrideRequest", "WindowDialog", "WindowRequest"]
