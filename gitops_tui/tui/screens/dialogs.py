"""Modal dialogs: the base dialog, resume preview, delete confirmation (freezes: freeze_dialogs.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from gitops_tui.views.glyphs import counted


class Dialog(ModalScreen):
    """Base of the console's dialogs: a framed box, escape cancels.

    ``tab`` and ``shift+tab`` are priority bindings: the focus moves when the key is read, not when the field
    that had it gets to the key, so what is typed right after a tab (fast typing, a paste) lands in the next
    field ("prod" tab "2h" never makes "prod2h").
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
                Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True)]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    Dialog .title { text-style: bold; width: 100%; }
    Dialog .error { color: $error; height: auto; }
    Dialog .hint { color: $text-muted; }
    Dialog Horizontal.buttons { height: auto; align-horizontal: right; }
    Dialog Button { margin-left: 1; }
    Dialog #body { height: auto; max-height: 16; }
    Dialog Input.-textual-compact { background: $panel; }
    Dialog Input.-textual-compact:focus { background: $accent 35%; color: $foreground; text-style: bold; }
    Dialog Select.-textual-compact:focus > SelectCurrent { background: $accent 35%; text-style: bold; }
    """

    def on_mount(self) -> None:
        """Stop cursor blinking when the app asks for a still screen (snapshots)."""
        if not getattr(self.app, "cursor_blink", True):
            for field in self.query(Input):
                field.cursor_blink = False

    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)


class ConfirmDialog(Dialog):
    """Shows a body and asks to confirm with y / enter; n or escape cancels."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel"),
        Binding("y", "confirm", "Confirm"),
    ]

    def __init__(self, title: str, body: Text | str, confirm: str, variant: str = "primary") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.variant = variant

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(self.title_text, classes="title")
            with VerticalScroll(id="body"):
                yield Static(self.body, id="body-text")
            yield Static("y / enter: confirm   n / esc: cancel", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(compact=True, label=self.confirm_label, variant=self.variant, id="ok")  # type: ignore[arg-type]
                yield Button(compact=True, label="Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the confirm button so enter confirms."""
        super().on_mount()
        self.query_one("#ok", Button).focus()

    def action_confirm(self) -> None:
        """Confirm."""
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Confirm or cancel."""
        self.dismiss(True if event.button.id == "ok" else None)


def diff_lines(preview: str) -> Text:
    """A dry-run diff, coloured: + lines green, - lines red."""
    text = Text()
    for line in preview.splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        text.append(line + "\n", style=style)
    return text


def resume_body(preview: str) -> Text:
    """The resume dialog's body: the dry-run diff, coloured, or a note that nothing changes."""
    if not preview.strip():
        return Text("Nothing will be reverted: the clusters match the desired state.")
    text = Text("Resuming reverts these changes made while suspended:\n\n")
    text.append_text(diff_lines(preview))
    return text


def delete_body(subject: str, objects: dict[str, list[str]]) -> Text:
    """The delete dialog's body: how many objects each cluster will lose, and which."""
    text = Text(f"Delete {subject}?\n\n")
    total = 0
    for cluster, items in sorted(objects.items()):
        count = len(items)
        total += count
        text.append(f"  {cluster:<12} loses {counted(count, 'object')}\n", style="bold")
        for item in items[:5]:
            text.append(f"      {item}\n")
        if count > 5:
            text.append(f"      ... and {count - 5} more\n")
    if not objects:
        text.append("  Not placed on any cluster.\n")
    text.append(f"\nTotal: {counted(total, 'object')} pruned.", style="bold")
    return text
