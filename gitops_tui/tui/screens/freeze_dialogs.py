"""Freeze dialogs: suspend with a reason, clusters and an expiry; resume some clusters; break glass with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Static

from gitops_tui.tui.screens.dialogs import Dialog
from gitops_tui.tui.widgets.cluster_picker import CHOSEN, NOT_CHOSEN
from gitops_tui.views.freeze import FreezeChoice, check_choice, parse_clusters


class MarkedCheckbox(Checkbox, inherit_bindings=False):
    """A checkbox drawn [✓] or [ ] (the picker's marks), so its state never rests on colour alone; space toggles,
    enter submits the dialog."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False)]

    @property
    def _button(self) -> Content:
        return Content(f"{CHOSEN if self.value else NOT_CHOSEN}")


class _FieldsDialog(Dialog):
    """A dialog of labelled one-line fields with a message under each; enter in a field submits."""

    DEFAULT_CSS = """
    _FieldsDialog .row { height: 1; }
    _FieldsDialog .row Label { width: 10; }
    _FieldsDialog .row Input { width: 1fr; }
    _FieldsDialog .error { padding-left: 10; display: none; width: 100%; }
    _FieldsDialog .error.-shown { display: block; }
    _FieldsDialog Checkbox { border: none; padding: 0; height: 1; background: $surface; }
    """

    BINDINGS = [Binding("enter", "submit", "Submit", show=False)]

    def action_submit(self) -> None:
        """Enter outside a field (on the checkbox) submits too."""
        self.submit()

    def row(self, label: str, field: Input) -> ComposeResult:
        """A label, its field, and the field's message line."""
        with Horizontal(classes="row"):
            yield Label(label)
            yield field
        yield Label("", id=f"{field.id}-error", classes="error")

    def buttons(self, ok: str, variant: str = "warning") -> ComposeResult:
        """The confirm and cancel buttons."""
        with Horizontal(classes="buttons"):
            yield Button(compact=True, label=ok, variant=variant, id="ok")  # type: ignore[arg-type]
            yield Button(compact=True, label="Cancel", id="cancel")

    def value(self, field_id: str) -> str:
        """The stripped text of a field."""
        return self.query_one(f"#{field_id}", Input).value.strip()

    def show_errors(self, errors: dict[str, str]) -> bool:
        """Show each field's message (clear the others), focus the first wrong field; True when there was none."""
        for label in self.query(".error").results(Label):
            message = errors.get((label.id or "").removesuffix("-error"), "")
            label.update(message)
            label.set_class(bool(message), "-shown")
        if errors:
            self.query_one(f"#{next(iter(errors))}", Input).focus()
        return not errors

    def on_input_changed(self, event: Input.Changed) -> None:
        """Editing a field takes its message away."""
        for label in self.query(f"#{event.input.id}-error").results(Label):
            label.update("")
            label.set_class(False, "-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter submits."""
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Confirm or cancel."""
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:  # pragma: no cover - every dialog has its own
        """Validate and dismiss with the result."""
        raise NotImplementedError


class FreezeDialog(_FieldsDialog):
    """Suspend a source or a project: why (required), on which clusters, for how long, then what."""

    AUTO_FOCUS = "#reason"

    def __init__(self, subject: str, placed: list[str], now: Callable[[], datetime], *, project: bool = False,
                 extending: str = "") -> None:
        super().__init__()
        self.subject = subject
        """What is suspended, e.g. ``source demo/podinfo``."""
        self.placed = list(placed)
        """The clusters it may be frozen on."""
        self.now = now
        self.project = project
        self.extending = extending
        """The current freeze in words when this extends one ('' for a new freeze)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        verb = "Extend the freeze of" if self.extending else "Suspend"
        later = "; sources created later are held too" if self.project else ""
        with Vertical():
            yield Label(f"{verb} {self.subject}", classes="title")
            yield Static(f"Now: {self.extending}" if self.extending
                         else f"No write reaches the chosen clusters until it is resumed{later}.", classes="hint")
            yield from self.row("Reason", Input(compact=True, id="reason",
                                                placeholder="required, e.g. incident 1234: manual fix"))
            yield from self.row("Clusters", Input(compact=True, id="clusters",
                                                  placeholder=f"blank: all ({' '.join(self.placed)})"))
            yield from self.row("For", Input(compact=True, id="expiry",
                                             placeholder="blank: until resumed; 2h, or 2026-01-15T18:00:00Z"))
            yield MarkedCheckbox("Resume by itself at expiry (else stay suspended and alarm)", id="then", compact=True)
            yield from self.buttons("Suspend")

    def submit(self) -> None:
        """Check the fields in place; dismiss with (reason, choice or None) when they are right."""
        reason = self.value("reason")
        choice = FreezeChoice(self.value("expiry"), self.query_one("#then", Checkbox).value,
                              parse_clusters(self.value("clusters")))
        errors = {} if reason else {"reason": "A reason is required."}
        errors.update(check_choice(choice, self.placed, self.now()))
        if self.show_errors(errors):
            self.dismiss((reason, None if choice == FreezeChoice() else choice))


class ClustersDialog(_FieldsDialog):
    """Asks on which clusters to resume (the frozen ones are offered)."""

    AUTO_FOCUS = "#clusters"

    def __init__(self, subject: str, frozen: list[str]) -> None:
        super().__init__()
        self.subject = subject
        self.frozen = list(frozen)
        """The clusters that may be resumed."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"Resume {self.subject} on some clusters", classes="title")
            yield Static(f"Frozen on {', '.join(self.frozen)}; the clusters not named stay frozen. A preview follows.",
                         classes="hint")
            yield from self.row("Clusters", Input(compact=True, id="clusters", placeholder=" ".join(self.frozen)))
            yield from self.buttons("Preview", variant="primary")

    def submit(self) -> None:
        """Dismiss with the chosen clusters when each is frozen."""
        clusters = parse_clusters(self.value("clusters"))
        wrong = [c for c in clusters if c not in self.frozen]
        errors = {"clusters": "Name one or more clusters."} if not clusters else {}
        if wrong:
            errors["clusters"] = f"Not frozen on {', '.join(wrong)}: choose among {', '.join(self.frozen)}."
        if self.show_errors(errors):
            self.dismiss(clusters)


class BreakGlassDialog(_FieldsDialog):
    """Confirms a break glass: apply the revision once while suspended, with a required reason."""

    AUTO_FOCUS = "#reason"

    def __init__(self, source: str, revision: str, clusters: list[str], note: str = "") -> None:
        super().__init__()
        self.source = source
        self.revision = revision
        self.clusters = list(clusters)
        self.note = note

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"Break glass: apply {self.source} once while suspended", classes="title")
            yield Static(f"Applies exactly {self.revision or 'the current revision'} to "
                         f"{', '.join(self.clusters) or 'its clusters'} once; they stay suspended and later commits "
                         f"wait. Recorded with who and why.{self.note}", classes="hint")
            yield from self.row("Reason", Input(compact=True, id="reason",
                                                placeholder="required, e.g. hotfix 1234 must ship now"))
            yield from self.buttons("Apply once", variant="error")

    def submit(self) -> None:
        """Dismiss with the reason when one was given."""
        reason = self.value("reason")
        if self.show_errors({} if reason else {"reason": "A reason is required to break glass."}):
            self.dismiss(reason)


#: The fields dialog other dialogs build on (the window and override dialogs: control_dialogs.py).
FieldsDialog = _FieldsDialog
