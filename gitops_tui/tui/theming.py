"""Turn validated theme files into Textual themes, and status words into Rich styles."""

from __future__ import annotations

from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from gitops_tui.themes import ThemeSpec
from gitops_tui.views import glyphs as g

#: Status variable defaults, used when a theme does not set them.
STATUS_DEFAULTS = {
    "status-ready": "ansi_green",
    "status-failing": "ansi_bright_red",
    "status-progress": "ansi_cyan",
    "status-suspended": "ansi_yellow",
}
#: Variables Textual's stylesheets need that an ANSI theme must set itself.
ANSI_DEFAULTS = {"ansi-background": "ansi_black", "ansi-foreground": "ansi_white"}
_STATUS_VARIABLE = {
    g.READY: "status-ready",
    g.FAILING: "status-failing",
    g.OFFLINE: "status-failing",
    g.PROGRESS: "status-progress",
    g.SUSPENDED: "status-suspended",
    g.WAITING: "status-suspended",
    g.DIFFERS: "warning",
    g.STALE: "warning",
}
#: Fallbacks for status words drawn with Textual's own colour slots.
_SLOT_DEFAULTS = {"warning": "ansi_yellow"}


def to_textual(spec: ThemeSpec) -> Theme:
    """Build a Textual Theme; raise ValueError when a colour does not parse."""
    for value in [*spec.colors.values(), *spec.variables.values()]:
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"{spec.name}: {value!r} is not a colour Textual knows.") from None
    base = dict(ANSI_DEFAULTS) if spec.ansi else {}
    return Theme(
        name=spec.name,
        dark=spec.dark,
        ansi=spec.ansi,
        variables={**base, **STATUS_DEFAULTS, **spec.variables},
        **spec.colors,  # type: ignore[arg-type]  # themes.py admits only Theme's colour fields (all text)
    )


def status_style(status: str, variables: dict[str, str]) -> Style:
    """Return the Rich style for a status word given the app's theme variables."""
    name = _STATUS_VARIABLE.get(status)
    if name is None:
        return Style()
    fallback = STATUS_DEFAULTS.get(name) or _SLOT_DEFAULTS[name]
    value = variables.get(name) or fallback
    try:
        color = Color.parse(value)
    except ColorParseError:
        color = Color.parse(fallback)
    return Style(color=color.rich_color, bold=status in (g.SUSPENDED, g.WAITING, g.FAILING, g.DIFFERS),
                 italic=status == g.STALE)
