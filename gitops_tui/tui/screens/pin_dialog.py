"""The pin dialog: choose an applied revision, say why, optionally which clusters and the fix commit that unpins."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from gitops_tui.tui.screens.dialogs import Dialog
from gitops_tui.views.pin_view import PinChoice, check_pin_form


class RevisionList(OptionList):
    """The applied revisions, newest first: up and down stop at the ends (never from the oldest to the newest)."""

    DEFAULT_CSS = """
    RevisionList > .option-list--option-highlighted { background: $accent 45%; color: $foreground; text-style: bold; }
    RevisionList:focus > .option-list--option-highlighted { background: $accent; text-style: bold; }
    """

    def action_cursor_up(self) -> None:
        """Move up one revision; at the newest, stay."""
        self._step(-1)

    def action_cursor_down(self) -> None:
        """Move down one revision; at the oldest, stay."""
        self._step(1)

    def _step(self, direction: int) -> None:
        if self.highlighted is None:
            self.highlighted = 0 if self.option_count else None
            return
        target = self.highlighted + direction
        while 0 <= target < self.option_count and self.get_option_at_index(target).disabled:
            target += direction
        if 0 <= target < self.option_count:
            self.highlighted = target


class PinDialog(Dialog):
    """Asks the revision (from the source's history), the reason, the clusters and an optional fix commit."""

    AUTO_FOCUS = "#revisions"
    DEFAULT_CSS = """
    PinDialog #revisions { height: auto; max-height: 6; border: none; padding: 0; }
    PinDialog Input { margin-top: 0; }
    """

    def __init__(self, subject: str, choices: list[PinChoice], clusters: list[str]) -> None:
        super().__init__()
        self.subject = subject
        """What is pinned, e.g. ``source demo/podinfo``."""
        self.choices = choices
        self.clusters = clusters
        """The source's clusters (the only ones a pin may name)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"Pin {self.subject}", classes="title")
            yield Static("Held at this revision while git moves on; a preview follows.", classes="hint")
            yield RevisionList(*[Option(c.label, id=str(i)) for i, c in enumerate(self.choices)], id="revisions",
                               compact=True)
            yield Input(compact=True, placeholder="reason (required), e.g. incident 1234: bad config", id="reason")
            yield Input(compact=True, placeholder=f"clusters (empty: all of {','.join(self.clusters)})", id="clusters")
            yield Input(compact=True, placeholder="unpin when git contains commit (optional)", id="until")
            yield Label("", id="pin-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(compact=True, label="Preview", variant="warning", id="ok")
                yield Button(compact=True, label="Cancel", id="cancel")

    def on_mount(self) -> None:
        """Highlight the newest revision but one (the last known good, usually)."""
        super().on_mount()
        revisions = self.query_one("#revisions", OptionList)
        if self.choices:
            revisions.highlighted = 1 if len(self.choices) > 1 else 0

    def _submit(self) -> None:
        revisions = self.query_one("#revisions", OptionList)
        index = revisions.highlighted
        revision = self.choices[index].revision if index is not None and self.choices else ""
        request, problem = check_pin_form(revision, self.query_one("#reason", Input).value,
                                          self.query_one("#clusters", Input).value,
                                          self.query_one("#until", Input).value, self.clusters)
        if request is None:
            self.query_one("#pin-error", Label).update(problem)
            return
        self.dismiss(request)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a revision moves on to the reason."""
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter submits."""
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Preview or cancel."""
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)
