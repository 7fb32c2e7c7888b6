"""The main screen: header, the panes in tabs, a detail line for the selection, filter and footer."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from gitops_tui.tui import keymap
from gitops_tui.tui.alert_flows import AlertFlows
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.control_flows import ControlFlows
from gitops_tui.tui.flows import Flows
from gitops_tui.tui.incident_flows import IncidentFlows
from gitops_tui.tui.messages import StateChanged
from gitops_tui.tui.panes import PANES
from gitops_tui.tui.theming import status_style
from gitops_tui.tui.widgets.header import StatusHeader
from gitops_tui.tui.widgets.pane import ResourcePane
from gitops_tui.views import glyphs as g
from gitops_tui.views import model, rows
from gitops_tui.views.access import read_only_notice
from gitops_tui.views.controls import project_windows_line
from gitops_tui.views.freeze import project_detail, suspension_text
from gitops_tui.views.header import header_info
from gitops_tui.views.rollout import rollout_line

#: From this terminal height on, the Events stream stays visible under the other panes.
TALL = 34
#: Seconds after mounting when the hidden panes mount if no data came first (they mount once it comes).
HIDDEN_MOUNT_AFTER = 0.5


class MainScreen(AlertFlows, ControlFlows, IncidentFlows, Flows, Screen):
    """Every pane of the console; keys act on the highlighted object of the active pane."""

    _detail_shown: tuple[str, str, str] | None = None

    BINDINGS = keymap.BINDINGS
    DEFAULT_CSS = """
    MainScreen #events-dock { display: none; height: 9; border-top: solid $panel; }
    MainScreen.-tall #events-dock { display: block; }
    MainScreen.-tall.-on-events #events-dock { display: none; }
    MainScreen #banner { display: none; height: 1; background: $error; color: $text; padding: 0 1;
                         text-wrap: nowrap; text-overflow: ellipsis; }
    MainScreen #banner.-shown { display: block; }
    """
    AUTO_FOCUS = "ResourcePane.-active ResourceTable"

    app: ConsoleApp
    read_only_reason = ""
    """Why the console turned read-only by itself ('' when it was not, or was asked with --read-only)."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        self.set_class(self.app.size.height >= TALL, "-tall")  # now, not on the first resize: one styling pass
        yield StatusHeader(id="header")
        yield Static("", id="banner")
        self._hidden: list[tuple[str, ResourcePane]] = []
        """Panes mounted after the first data (or HIDDEN_MOUNT_AFTER): the first frames come sooner."""
        self._mounting = asyncio.Lock()
        with TabbedContent(id="panes"):
            for spec in PANES:
                with TabPane(spec.title, id=f"tab-{spec.id}"):
                    pane = ResourcePane(spec.builder(self.app.backend), spec.kinds, spec.object_kind, id=spec.id)
                    if spec is PANES[0]:
                        yield pane
                    else:
                        self._hidden.append((f"#tab-{spec.id}", pane))
        self._hidden.append(("", ResourcePane(rows.events_table, ("events",), "event", id="events-dock",
                                              focusable=False)))
        yield Static("", id="detail")
        yield Input(placeholder="filter: words, source=NAME, cluster=NAME, project=NAME", id="filter")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Draw the first pane and the header."""
        if not self.app.cursor_blink:
            self.query_one("#filter", Input).cursor_blink = False
        self.redraw(force=True)
        self.focus_pane()
        if self.app.live:
            self.set_timer(HIDDEN_MOUNT_AFTER, self.mount_hidden, name="hidden panes")
        else:  # a zero-delay Timer divides by its interval: mount after the first refresh instead
            self.call_after_refresh(self.mount_hidden)
        if self.app.live:
            if not self.app.read_only:
                self.check_write_access()
            self.set_interval(30.0, self.age_tick, name="ages")
            self.set_interval(1.0, self.second_tick, name="each second")

    @work(thread=True, group="access", exit_on_error=False)
    def check_write_access(self) -> None:
        """Once the first lists are in, ask the management cluster whether this identity may write."""
        backend = self.app.backend
        check = getattr(backend, "write_access", None)
        synced = getattr(backend, "synced", None)
        if check is None:
            return
        deadline = time.monotonic() + 30.0
        while synced is not None and not synced() and time.monotonic() < deadline:
            if self.app.stopping.wait(0.2):
                return
        try:
            reason = check()
        except Exception as exc:  # noqa: BLE001 - unknown access: writes stay offered, a 403 still turns read-only
            self.app.log_error("write access review", exc)
            return
        if reason:
            self.app.call_from_thread(self.turn_read_only, reason)

    def turn_read_only(self, reason: str) -> None:
        """This identity cannot write: hide every change, stop the embedded reconciler, and say so."""
        if self.read_only_reason:
            return
        self.read_only_reason = reason
        self.app.read_only = True
        self.app.workers.cancel_group(self.app, "reconciler")
        self.app.notify(read_only_notice(reason), severity="warning", timeout=10)
        self.refresh_bindings()
        self.redraw(force=True)

    def second_tick(self) -> None:
        """Each second: the banner's age; the Helm rows' ages while that pane is shown (drawn from memory)."""
        if self.pane.id == "helm":
            self.pane.mark_stale()
            self.redraw()
        else:
            self.update_banner(self.app.backend.now())

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
                header_info(backend.state, backend.context, backend.identity, now, self.app.read_only,
                            self.read_only_reason)
            )
        self.pane.refresh_from(backend.state, now, force=force)
        if self.has_class("-tall") and self.pane.id != "events":
            for dock in self.query("#events-dock").results(ResourcePane):  # none until mounted (mount_hidden)
                dock.refresh_from(backend.state, now, force=force)
        self.update_banner(now)
        self.update_detail()

    def update_banner(self, now: datetime) -> None:
        """Show the management watch's trouble (broken, re-listing) until it is live again."""
        health = getattr(self.app.backend, "health", None)
        text = health.banner(now) if health is not None else ""
        if text != getattr(self, "_banner_shown", ""):
            self._banner_shown = text
            banner = self.query_one("#banner", Static)
            banner.update(text)
            banner.set_class(bool(text), "-shown")

    def restyle(self) -> None:
        """Redraw everything (after a theme change: the status colours are baked into the rows)."""
        self.query_one(StatusHeader)._shown = None
        self._detail_shown = None
        for pane in self.query(ResourcePane):
            pane.mark_stale()
        self.redraw(force=True)

    def _header_stale(self) -> bool:
        state = self.app.backend.state
        seen = tuple(state.kind_versions[k] for k in ("kustomizations", "gitrepositories", "leases", "projects"))
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
        offered = self.approvable_wave() is not None  # ``a`` shows in the footer while a wave awaits approval
        if offered != getattr(self, "_approve_offered", False):
            self._approve_offered = offered
            self.refresh_bindings()

    def _detail_text(self) -> Text:
        source = self.selected_source()
        variables = self.app.theme_variables
        if source is None:
            row = self.pane.table_rows.get(self.pane.selected_key() or "")
            if row is None and self.pane.query_text:
                return Text(f"No row matches the filter: {self.pane.query_text}", no_wrap=True, overflow="ellipsis")
            frozen = project_detail(self.app.backend.state, row.key, self.app.backend.now()) if row else ""
            if not frozen and row is not None and self.pane.object_kind == "project":
                raw = next((p for p in self.app.backend.state.items("projects") if p["metadata"]["name"] == row.key),
                           None)
                frozen = project_windows_line(raw, self.app.backend.now())
            if frozen and self.pane.object_kind == "project":
                return Text(f"{g.glyph(g.SUSPENDED)} {frozen}", style=status_style(g.SUSPENDED, variables),
                            no_wrap=True, overflow="ellipsis")
            return Text(" ".join(c for c in row.cells if c) if row else "", no_wrap=True, overflow="ellipsis")
        if source.suspension:
            text = Text(f"{g.glyph(g.SUSPENDED)} {source.name} suspended {suspension_text(source.suspension, self.app.backend.now())}",
                        style=status_style(g.SUSPENDED, variables), no_wrap=True, overflow="ellipsis")
            glass = source.state.break_glass if source.state is not None else None
            if glass is not None:
                text.append(f"; {g.BREAK_GLASS} {g.shorten_digests(glass.describe())}")
            if source.pin is not None:
                text.append(f"; {g.PIN} {source.pin.describe()}")
        else:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{g.glyph(source.status)} {source.name} ", style=status_style(source.status, variables))
            rollout = source.state.rollout if source.state is not None else None
            if rollout is not None:
                line = rollout_line(rollout, self.app.backend.now())
                text.append(line + ("" if source.message.startswith(g.ROLLOUT) else
                                    f"; {g.shorten_digests(source.message)}") + " · ")
            if source.pin is not None:
                text.append(f"{g.PIN} {source.pin.describe()}; ")
            tail = "" if rollout is not None else f" {g.shorten_digests(source.message)}"
            text.append(f"{source.url} {source.ref} {source.path}{tail}")
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

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types; the detail line follows the rows left."""
        if event.input.id == "filter" and event.input.has_class("-shown"):
            event.stop()
            self._apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Keep the filter and go back to the table."""
        if event.input.id == "filter":
            event.stop()
            self._apply_filter(event.value)
            if not self.pane.query_text:
                event.input.remove_class("-shown")
            self.focus_pane()

    def _apply_filter(self, value: str) -> None:
        if value.strip() == self.pane.query_text:
            return
        self.pane.query_text = value.strip()
        self.pane.refresh_from(self.app.backend.state, self.app.backend.now(), force=True)
        self.update_detail()

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
        """Offer only keys that act: mutating ones are gone when read-only, the others where the pane has no use."""
        if action in keymap.MUTATING and self.app.read_only:
            return False
        if not self.is_mounted:
            return True
        if action == "approve" and not getattr(self, "_approve_offered", False):
            return False
        return keymap.acts_on(action, self.pane.object_kind)
