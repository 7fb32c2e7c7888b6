"""A resource pane: a DataTable fed from a views Table, with filter, status colours and empty state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from gitops_tui.tui.theming import status_style
from gitops_tui.views import glyphs as g
from gitops_tui.views.rows import Row, Table, clip, fit_table, matches
from gitops_tui.views.state import ManagementState

TableBuilder = Callable[[ManagementState, datetime], Table]


class ResourceTable(DataTable):
    """The table inside a pane (row cursor, zebra off, no mouse needed)."""

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """


class ResourcePane(Vertical):
    """One pane: builds its rows from the state, keeps the cursor on the same object across redraws."""

    DEFAULT_CSS = """
    ResourcePane { height: 1fr; }
    ResourcePane > .empty { color: $text-muted; padding: 1 2; height: auto; display: none; }
    ResourcePane.-empty > .empty { display: block; }
    ResourcePane.-empty > ResourceTable { height: auto; }
    """

    class Selected(Message):
        """The highlighted row of a pane changed."""

        def __init__(self, pane: ResourcePane, key: str | None) -> None:
            super().__init__()
            self.pane = pane
            self.key = key

    def __init__(self, builder: TableBuilder, kinds: tuple[str, ...], object_kind: str, *, id: str,
                 focusable: bool = True) -> None:
        super().__init__(id=id, classes="-empty")  # as drawn first: no restyle when the first redraw finds no row
        self.table_focusable = focusable
        """False for a pane that only shows (the Events stream under the other panes)."""
        self.builder = builder
        """Builds the pane's Table from the state."""
        self.kinds = kinds
        """State kinds this pane depends on (redraw only when one moved)."""
        self.object_kind = object_kind
        """What a row is: source, project, secret, cluster, event, helm."""
        self.query_text = ""
        """The current filter."""
        self._seen: dict[str, int] = {}
        self._columns: tuple[str, ...] = ()
        self._keys: list[str] = []
        self._caps: dict[int, int] = {}
        self._keep: dict[int, str] = {}
        self.table_rows: dict[str, Row] = {}
        self.following = object_kind == "event"
        """An event stream follows its newest row (at the bottom, in view) until the operator moves or scrolls up;
        back on the last row (or scrolled to the bottom) it follows again, like ``tail -f`` and k9s."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        table = ResourceTable(cursor_type="row", zebra_stripes=False, id=f"{self.id}-table")
        table.can_focus = self.table_focusable
        yield table
        yield Static("", classes="empty")

    def on_mount(self) -> None:
        """A pane mounted after the first frame (lazily) draws what is already known."""
        backend = getattr(self.app, "backend", None)
        if backend is not None:
            self.refresh_from(backend.state, backend.now())

    @property
    def table(self) -> ResourceTable:
        """The pane's DataTable."""
        return self.query_one(ResourceTable)

    def stale(self, state: ManagementState) -> bool:
        """True when a kind this pane shows changed since the last redraw."""
        return any(state.kind_versions.get(k, 0) != self._seen.get(k, -1) for k in self.kinds)

    def mark_stale(self) -> None:
        """Force a redraw the next time the pane is shown."""
        self._seen = {}

    def selected_key(self) -> str | None:
        """Key of the highlighted row, or None."""
        table = self.table
        if not self._keys or table.cursor_row < 0 or table.cursor_row >= len(self._keys):
            return None
        return self._keys[table.cursor_row]

    def refresh_from(self, state: ManagementState, now: datetime, force: bool = False) -> None:
        """Redraw from the state when stale (or forced), keeping the cursor on the same key."""
        if not force and not self.stale(state):
            return
        self._seen = {k: state.kind_versions.get(k, 0) for k in self.kinds}
        built = self.builder(state, now)
        rows = [r for r in built.rows if matches(r, self.query_text)] if self.query_text else built.rows
        self.table_rows = {r.key: r for r in rows}
        table = self.table
        keys = [r.key for r in rows]
        built, caps = self._fit(built, rows)
        rows = built.rows
        if caps != self._caps:  # column caps moved: the table must measure its columns again
            self._caps, self._columns = caps, ()
        follow = self.following and bool(keys)
        if built.columns == self._columns and keys[: len(self._keys)] == self._keys and self.object_kind == "event":
            for row in rows[len(self._keys):]:
                table.add_row(*self._styled(row), key=row.key)
            self._keys = keys
        else:
            previous = self.selected_key()
            cursor = table.cursor_row
            table.clear(columns=built.columns != self._columns)
            if built.columns != self._columns:
                table.add_columns(*built.columns)
                self._columns = built.columns
            for row in rows:
                table.add_row(*self._styled(row), key=row.key)
            self._keys = keys
            if not follow and previous in keys:
                table.move_cursor(row=keys.index(previous), animate=False)
            elif not follow and keys:
                table.move_cursor(row=min(max(cursor, 0), len(keys) - 1), animate=False)
        if follow:
            table.move_cursor(row=len(keys) - 1, animate=False)
            self.call_after_refresh(table.scroll_end, animate=False)
        empty = self.query_one(".empty", Static)
        if not rows:
            empty.update(f"No match for filter: {self.query_text}" if self.query_text
                         else state.loading_text(self.kinds) or built.empty)
        self.set_class(not rows, "-empty")

    def _fit(self, built: Table, rows: list[Row]) -> tuple[Table, dict[int, int]]:
        """The table as it fits the pane's width (optional columns left out, flexible ones shortened) and its caps."""
        table = Table(built.columns, rows, built.empty, built.flexible, built.optional, built.gives_first)
        width = self.size.width or self.app.size.width
        if not (built.flexible or built.optional) or width <= 0:
            self._keep = {}
            return table, {}
        fitted, caps = fit_table(table, width - 2, 2 * self.table.cell_padding)
        self._keep = {i: fitted.flexible[c] for i, c in enumerate(fitted.columns) if c in fitted.flexible}
        return fitted, caps

    def on_resize(self) -> None:
        """Fit the columns again to the new width."""
        backend = getattr(self.app, "backend", None)
        if backend is not None:
            self.refresh_from(backend.state, backend.now(), force=True)

    def _styled(self, row: Row) -> list[Text]:
        variables = self.app.theme_variables
        cells = []
        for index, value in enumerate(row.cells):
            if index in self._caps:
                value = clip(value, self._caps[index], self._keep.get(index, "head"))
            status = row.statuses[index] if row.statuses else (row.status if index == 0 else g.NONE)
            if row.status == g.SUSPENDED and not row.statuses:
                status = g.SUSPENDED
            cells.append(Text(value, style=status_style(status, variables), no_wrap=True, overflow="ellipsis"))
        return cells

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the screen which object is highlighted; an event stream follows while the cursor is on its last row."""
        event.stop()
        if self.object_kind == "event" and self._keys:
            self.following = self.table.cursor_row >= len(self._keys) - 1
        self.post_message(self.Selected(self, self.selected_key()))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """Scrolling an event stream up stops following the newest event."""
        if self.object_kind == "event":
            self.following = False

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """Scrolled back to the bottom, an event stream follows again."""
        if self.object_kind == "event":
            self.call_after_refresh(self._follow_if_at_bottom)

    def _follow_if_at_bottom(self) -> None:
        table = self.table
        if table.scroll_y >= table.max_scroll_y:
            self.following = True
