"""Read-only text screens: YAML, describe, help."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from gitops_tui.tui import keymap
from gitops_tui.views.details import hang


class HangingText(Static):
    """Plain text wrapped to the view's width, each wrapped line indented under where its value starts."""

    def __init__(self, body: str, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.body = body

    def render(self) -> Text:
        """The text, wrapped with hanging indents at the current width."""
        return Text(hang(self.body, self.size.width or 80), no_wrap=True, overflow="ellipsis")

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the wrapped text has at ``width``."""
        return len(hang(self.body, width).splitlines()) or 1


class TextView(ModalScreen):
    """A full-screen scrollable text (YAML or describe); escape or q closes."""

    BINDINGS = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    TextView { background: $background; }
    TextView > Label { dock: top; width: 100%; background: $panel; text-style: bold; padding: 0 1; }
    TextView > VerticalScroll { padding: 0 1; }
    """

    def __init__(self, title: str, body: str, language: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.language = language

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Label(self.title_text)
        with VerticalScroll(id="text-scroll"):
            if self.language:
                from rich.syntax import Syntax  # pygments is slow to import: not before the first frame

                yield Static(Syntax(self.body, self.language, theme="ansi_dark", background_color="default"),
                             id="text-body")
            else:
                yield HangingText(self.body, id="text-body")
        yield Footer()

    def on_mount(self) -> None:
        """Scroll with the keyboard at once."""
        self.query_one("#text-scroll").focus()

    def action_close(self) -> None:
        """Close the view."""
        self.dismiss(None)


class HelpScreen(TextView):
    """The keys, in the order of DESIGN.md section 8."""

    def __init__(self, read_only: bool, remapped: Mapping[str, str] | None = None) -> None:
        lines = [f"  {key:<8} {text}" for key, action, text in keymap.help_lines(remapped)
                 if not (read_only and action in keymap.MUTATING)]
        head = "Read-only: actions that change anything are hidden.\n\n" if read_only else ""
        legend = ("\n\nGlyphs: ✓ ready  ✗ failing/offline  ↻ in progress  ‖ suspended  · not placed\n"
                  "        ◌ stale: its cluster stopped answering (the last good data, its age)\n"
                  "        ◆ pinned: held at an earlier revision while git moves on\n"
                  "Journal: ! break glass  ◆ pin  ◇ unpin  ‖ freeze  ✓ resume\n"
                  "The footer shows only the keys that act on the pane shown.")
        super().__init__("Help: keys", head + "\n".join(lines) + legend)
