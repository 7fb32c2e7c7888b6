"""A list of clusters to place on: [✓] chosen, [ ] not, readable without colour; order kept as listed."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

CHOSEN = "[✓]"
NOT_CHOSEN = "[ ]"


class ClusterPicker(SelectionList[str]):
    """Clusters with a distinct mark for chosen ones; ``chosen`` lists them in the picker's order."""

    DEFAULT_CSS = """
    ClusterPicker { width: 1fr; height: auto; max-height: 5; border: none; padding: 0; }
    """

    def __init__(self, clusters: list[str], chosen: list[str], *, id: str) -> None:
        super().__init__(*[(c, c, c in chosen) for c in clusters], id=id, compact=True)
        self.clusters = list(clusters)
        """Every cluster offered, in the console's cluster order."""

    @property
    def chosen(self) -> list[str]:
        """The chosen clusters in the order they are listed (never in the order they were toggled)."""
        picked = set(self.selected)
        return [c for c in self.clusters if c in picked]

    def render_line(self, y: int) -> Strip:
        """Draw Textual's toggle button as [✓] or [ ] so a choice never rests on colour alone."""
        strip = super().render_line(y)
        segments = list(strip)
        button = ToggleButton.BUTTON_LEFT + ToggleButton.BUTTON_INNER + ToggleButton.BUTTON_RIGHT
        if len(segments) < 3 or "".join(s.text for s in segments[:3]) != button:
            return strip
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:  # a line past the options: leave it as drawn
            return strip
        mark = CHOSEN if option.value in self._selected else NOT_CHOSEN
        style = segments[1].style
        return Strip([Segment(mark, style), *segments[3:]], strip.cell_length)
