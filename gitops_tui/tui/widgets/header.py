"""The one-line header: context, frozen projects and expired freezes, reconciler lease holder, counts."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from gitops_tui.tui.theming import status_style
from gitops_tui.views.header import HeaderInfo
from gitops_tui.views.header_fit import fit_header, header_parts


class StatusHeader(Static):
    """Shows where the console points and the state of its sources (every count kept on narrow terminals)."""

    _shown: tuple[HeaderInfo, int] | None = None

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def show(self, info: HeaderInfo) -> None:
        """Render the header from a HeaderInfo (nothing is sent when it did not change)."""
        width = self.size.width or self.app.size.width - 2  # the content width (padding excluded)
        if (info, width) == getattr(self, "_shown", None):
            return
        self._shown = (info, width)
        v = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis")
        for part in fit_header(header_parts(info), width):
            style: str | Style
            if part.style in ("bold", "dim"):
                style = part.style
            else:
                style = status_style(part.style, v) if part.style else ""
            text.append(part.text, style=style)
        self.update(text)

    def on_resize(self) -> None:
        """Fit the header again to the new width."""
        shown = getattr(self, "_shown", None)
        if shown is not None:
            self._shown = None
            self.show(shown[0])
