"""The one-line header: context, frozen projects and expired freezes, reconciler lease holder, counts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from gitops_tui.tui.theming import status_style
from gitops_tui.views import glyphs as g
from gitops_tui.views.header import NOBODY, THIS_CONSOLE, HeaderInfo


class StatusHeader(Static):
    """Shows where the console points and the state of its sources."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def show(self, info: HeaderInfo) -> None:
        """Render the header from a HeaderInfo (nothing is sent when it did not change)."""
        if info == getattr(self, "_shown", None):
            return
        self._shown = info
        v = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("gitops-tui ", style="bold")
        text.append(f"ctx:{info.context} ")
        if info.read_only:
            text.append(f"[{info.read_only_reason}] " if info.read_only_reason else "[read-only] ", style="bold")
        if info.freezes:  # incident state first: on a narrow terminal the counts give way
            text.append(f"{g.glyph(g.SUSPENDED)} {info.freezes} ", style=status_style(g.SUSPENDED, v))
        leader_status = g.READY if info.leader == THIS_CONSOLE else (g.FAILING if info.leader == NOBODY else g.PROGRESS)
        text.append("lease:", style="dim" if not v else "")
        text.append(f"{info.leader} ", style=status_style(leader_status, v))
        for status, count in ((g.READY, info.ready), (g.FAILING, info.failing), (g.SUSPENDED, info.suspended)):
            text.append(f"{g.glyph(status)}{count} ", style=status_style(status, v))
        for status, count in ((g.PROGRESS, info.progressing), (g.STALE, info.stale)):
            if count:
                text.append(f"{g.glyph(status)}{count} ", style=status_style(status, v))
        self.update(text)
