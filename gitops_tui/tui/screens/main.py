"""The main screen: header, the panes in tabs, a detail line for the selection, filter and footer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from gitops_tui.tui import keymap
from gitops_tui.tui.flows import Flows
from gitops_tui.tui.messages import StateChanged
from gitops_tui.tui.panes import PANES
from gitops_tui.tui.theming import status_style
from gitops_tui.tui.widgets.header import StatusHeader
from gitops_tui.tui.widgets.pane import ResourcePane
from gitops_tui.views import glyphs as g
from gitops_tui.views import model, rows
from gitops_tui.views.header import header_info
from gitops_tui.views.rows import suspension_text

if TYPE_CHECKING:
    from gitops_tui.tui.app import GitOpsApp


#: From this terminal height on, the Events stream stays visible under the other panes.
TALL = 34
#: Seconds after mounting when the hidden panes mount if no data came first (they mount once it comes).
HIDDEN_MOUNT_AFTER = 0.5


class MainScreen(Flows, Screen):
    """Every pane of the console; keys act on the highlighted object of the active pane."""

    BINDINGS = keymap.BINDINGS
    DEFAULT_CSS = """
    MainScreen #events-dock { display: none; height: 9; border-top: solid $panel; }
    MainScreen.-tall #events-dock { display: block; }
    MainScreen.-tall.-on-events #events-dock { display: none; }
    """
    AUTO_FOCUS = "ResourcePane.-active ResourceTable"

    app: GitOpsApp

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        self.set_class(self.app.size.height >= TALL, "-tall")  # now, not on the first resize: one styling pass
        yield StatusHeader(id="header")
        self._hidden: list[tuple[str, ResourcePane]] = []
        """Panes mounted after the first data (or HIDDEN_MOUNT_AFTER): the first frames come sooner."""
        self._mounting = asyncio.Lock()
        with TabbedContent(id="panes"):
            for spec in PANES:
                with TabPane(spec.title, id=f"tab-{spec.id}"):
                    pane = ResourcePane(spec.builder, spec.kinds, spec.object_kind, id=spec.id)
                    if spec is PANES[0]:
                        yield pane
                    else:
                        self._hidden.append((f"#tab-{spec.id}", pane))
        self._hidden.append(("", ResourcePane(rows.events_table, ("events",), "event", id="events-dock",
                                              focusable=False)))
        yield Static("", id="detail")
        yield Input(placeholder="filter: words, source=NAME, cluster=NAME, project=NAME", id="filter")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Draw the first pane and the header."""
        if not self.app.cursor_blink:
            self.query_one("#filter", Input).cursor_blink = False
        self.redraw(force=True)
        self.focus_pane()
        self.set_timer(HIDDEN_MOUNT_AFTER if self.app.live else 0.0, self.mount_hidden, name="hidden panes")
        if self.app.live:
            self.set_interval(30.0, self.age_tick, name="ages")

    async def mount_hidden(self) -> None:
        """Mount the hidden panes and the Events dock, in one batch, once; a caller meanwhile waits for it."""
        async with self._mounting:
            hidden, self._hidden = self._hidden, []
            with self.app.batch_update():
                for tab, pane in hidden:
                    if tab:
                        await self.query_one(tab, TabPane).mount(pane)
                    else:
                        await self.mount(pane, before="#detail")

    def age_tick(self) -> None:
        """Refresh the ages shown ('suspended 12m ago') of the visible pane."""
        self.pane.mark_stale()
        self.redraw()

    @property
    def pane(self) -> ResourcePane:
        """The active pane."""
        active = self.query_one(TabbedContent).active or f"tab-{PANES[0].id}"
        return self.query_one(f"#{active.removeprefix('tab-')}", ResourcePane)

    def focus_pane(self) -> None:
        """Put the keyboard focus on the active pane's table."""
        self.pane.table.focus()

    def redraw(self, force: bool = False) -> None:
        """Redraw the header and the active pane (others redraw when shown)."""
        try:
            self._redraw(force)
        except NoMatches:  # the screen is being torn down
            return

    def _redraw(self, force: bool) -> None:
        backend = self.app.backend
        now = backend.now()
        if force or self.pane.stale(backend.state) or self._header_stale():
            self.query_one(StatusHeader).show(
                header_info(backend.state, backend.context, backend.identity, now, self.app.read_only)
            )
        self.pane.refresh_from(backend.state, now, force=force)
        if self.has_class("-tall") and self.pane.id != "events":
            for dock in self.query("#events-dock").results(ResourcePane):  # none until mounted (mount_hidden)
                dock.refresh_from(backend.state, now, force=force)
        self.update_detail()

    def restyle(self) -> None:
        """Redraw everything (after a theme change: the status colours are baked into the rows)."""
        self.query_one(StatusHeader)._shown = None
        self._detail_shown = None
        for pane in self.query(ResourcePane):
            pane.mark_stale()
        self.redraw(force=True)

    def _header_stale(self) -> bool:
        state = self.app.backend.state
        seen = tuple(state.kind_versions[k] for k in ("kustomizations", "gitrepositories", "leases"))
        stale = seen != getattr(self, "_header_seen", None)
        self._header_seen = seen
        return stale

    def on_state_changed(self, message: StateChanged) -> None:
        """Redraw what changed (the first data first, then the hidden panes mount)."""
        self.redraw()
        if self._hidden and self.app.backend.state.items("projects"):
            self.call_after_refresh(self.mount_hidden)

    def on_resize(self, event: events.Resize) -> None:
        """On tall terminals, keep the live Events stream visible under the other panes."""
        self.set_class(event.size.height >= TALL, "-tall")
        self.redraw()

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Draw the newly shown pane and focus it."""
        await self.mount_hidden()  # a tab clicked before the hidden panes were mounted
        self.set_class(self.pane.id == "events", "-on-events")
        self.redraw()
        self.pane.refresh_from(self.app.backend.state, self.app.backend.now())
        self.focus_pane()
        self.update_detail()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: object) -> None:
        """Enter on a Helm release opens its per-cluster detail with the revision history."""
        if self.pane.object_kind == "helm":
            self.action_describe()

    def on_resource_pane_selected(self, message: ResourcePane.Selected) -> None:
        """Follow the selection in the detail line."""
        self.update_detail()

    def update_detail(self) -> None:
        """Show the highlighted object's key facts; a suspension always shows who, why and since."""
        text = self._detail_text()
        key = (text.plain, repr(text.spans), str(text.style))
        if key != getattr(self, "_detail_shown", None):
            self._detail_shown = key
            self.query_one("#detail", Static).update(text)

    def _detail_text(self) -> Text:
        source = self.selected_source()
        variables = self.app.theme_variables
        if source is None:
            row = self.pane.table_rows.get(self.pane.selected_key() or "")
            return Text(" ".join(c for c in row.cells if c) if row else "", no_wrap=True, overflow="ellipsis")
        if source.suspension:
            text = Text(f"{g.glyph(g.SUSPENDED)} {source.name} suspended {suspension_text(source.suspension, self.app.backend.now())}",
                        style=status_style(g.SUSPENDED, variables), no_wrap=True, overflow="ellipsis")
        else:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{g.glyph(source.status)} {source.name} ", style=status_style(source.status, variables))
            text.append(f"{source.url} {source.ref} {source.path} {g.shorten_digests(source.message)}")
        return text

    def selected_source(self) -> model.SourceView | None:
        """The source under the cursor (Sources, Propagation), or None."""
        if self.pane.object_kind != "source":
            return None
        return model.source_index(self.app.backend.state).get(self.pane.selected_key() or "")

    # Navigation -------------------------------------------------------------------------------

    async def action_pane(self, pane_id: str) -> None:
        """Show a pane by id (the hidden panes are mounted first when they are not yet)."""
        await self.mount_hidden()
        self.query_one(TabbedContent).active = f"tab-{pane_id}"

    async def _step(self, offset: int) -> None:
        ids = [p.id for p in PANES]
        await self.action_pane(ids[(ids.index(self.pane.id or ids[0]) + offset) % len(ids)])

    async def action_next_pane(self) -> None:
        """Show the next pane."""
        await self._step(1)

    async def action_previous_pane(self) -> None:
        """Show the previous pane."""
        await self._step(-1)

    def action_filter(self) -> None:
        """Open the filter line for the active pane."""
        field = self.query_one("#filter", Input)
        field.value = self.pane.query_text
        field.add_class("-shown")
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter and go back to the table."""
        if event.input.id == "filter":
            event.stop()
            self.pane.query_text = event.value.strip()
            self.pane.refresh_from(self.app.backend.state, self.app.backend.now(), force=True)
            if not self.pane.query_text:
                event.input.remove_class("-shown")
            self.focus_pane()

    def action_clear_filter(self) -> None:
        """Clear the filter of the active pane."""
        field = self.query_one("#filter", Input)
        field.value = ""
        field.remove_class("-shown")
        if self.pane.query_text:
            self.pane.query_text = ""
            self.pane.refresh_from(self.app.backend.state, self.app.backend.now(), force=True)
        self.focus_pane()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide mutating actions in read-only mode; grey out those that do not fit the pane."""
        if action in keymap.MUTATING and self.app.read_only:
            return False
        if not self.is_mounted:
            return True
        kind = self.pane.object_kind
        if action in ("suspend", "resume", "suspend_project"):
            return True if kind in ("source", "project") else None
        if action == "reconcile":
            return True if kind == "source" else None
        if action == "delete":
            return True if kind in ("source", "secret", "project") else None
        if action == "new":
            return True if kind in ("source", "project", "secret") else None
        if action == "yaml":
            return True if kind != "helm" else None
        return True
