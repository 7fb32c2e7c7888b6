"""The console application: themes, workers, notifications; the panes live in screens/main.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import SystemCommand
from textual.screen import Screen

from gitops_tui import themes as theme_files
from gitops_tui.tui import keymap
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.commands import console_commands
from gitops_tui.tui.driver import LeavingSafeDriver
from gitops_tui.tui.feed import Coalescer, run_feed, run_reconciler
from gitops_tui.tui.messages import FeedFailed, OperationDone, StateChanged
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.tui.theming import STATUS_DEFAULTS, to_textual
from gitops_tui.views.backend import Backend

log = logging.getLogger(__name__)


class GitOpsApp(ConsoleApp):
    """gitops-tui: projects, sources, propagation, secrets, Helm, clusters and events."""

    CSS_PATH = "app.tcss"
    TITLE = "gitops-tui"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        backend: Backend,
        *,
        theme: str | None = None,
        read_only: bool = False,
        live: bool = True,
        watch_terminal: bool = False,
        remember_theme: bool = True,
        theme_dirs: tuple = (),
        keymap_file: Path | None = None,
    ) -> None:
        super().__init__(driver_class=LeavingSafeDriver if watch_terminal else None)
        self.backend = backend
        """Where data comes from and operations go."""
        self.read_only = read_only
        """True hides every key, palette entry and form that changes anything."""
        self.live = live
        """False: no feed, no reconciler, no terminal watchdog (snapshot tests)."""
        self.watch_terminal = watch_terminal
        """True: a real terminal that may go away (the driver never blocks on it once leaving)."""
        self.on_quit: Callable[[], object] | None = None
        """Called when the operator quits (the process guard then bounds the exit)."""
        self.on_first_frame: list[Callable[[], object]] = []
        """Called once the first frame is drawn (the console turns garbage collection back on)."""
        self.cursor_blink = live
        """False keeps every cursor still (snapshot tests)."""
        self.stopping = threading.Event()
        """Set when the console is leaving; workers stop."""
        self.coalescer = Coalescer(self)
        self.remapped_keys, self.keymap_errors = keymap.load_user_keymap(keymap_file)
        """The operator's keys from ``<data>/keymap.toml`` ({binding id: keys}), and what in it was refused."""
        self._remember = remember_theme
        specs, errors = theme_files.load_themes(*theme_dirs)
        name, specs, more = theme_files.resolve_choice(theme, specs, remember=remember_theme)
        self.console_themes: dict[str, str] = {}
        """Names of the themes loaded from theme files."""
        self.theme_errors = [*errors, *more]
        for spec in specs.values():
            try:
                self.register_theme(to_textual(spec))
                self.console_themes[spec.name] = spec.name
            except ValueError as exc:
                self.theme_errors.append(str(exc))
        self.theme = name if name in self.available_themes else "textual-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Status colours for themes that do not set them."""
        return dict(STATUS_DEFAULTS)

    def on_mount(self) -> None:
        """Open the main screen, report bad theme files, start the workers."""
        if self.stopping.is_set():  # asked to leave before the loop ran
            self.exit()
            return
        for error in self.theme_errors:
            self.notify(error, title="Theme", severity="warning", timeout=8)
        for error in self.keymap_errors:
            self.notify(error, title="Keymap", severity="warning", timeout=8)
        if self.remapped_keys:
            self.set_keymap(self.remapped_keys)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.push_screen(MainScreen())
        self.call_after_refresh(self._first_frame_drawn)

    def _first_frame_drawn(self) -> None:
        """Run the first-frame hooks, then start the workers (their imports would have competed for the GIL)."""
        for hook in self.on_first_frame:
            hook()
        if self.live:
            self._start_workers()

    def _start_workers(self) -> None:
        """Start the management feed and the embedded reconciler (unless read-only or leaving)."""
        if self.stopping.is_set():
            return
        from gitops_tui import journal  # a failed journal write is shown; the action it describes stands

        def shown(text: str) -> None:
            self.post_message(OperationDone(text, ok=False))

        self._journal_listener = journal.add_failure_listener(shown)
        self.run_worker(lambda: run_feed(self, self.coalescer), thread=True, name="management feed",
                        group="feed", exit_on_error=False)
        if not self.read_only:
            self.run_worker(lambda: run_reconciler(self), thread=True, name="embedded reconciler",
                            group="reconciler", exit_on_error=False)
        if hasattr(self.backend, "synced"):
            self.set_timer(10.0, self._check_synced, name="first list")

    def request_exit(self) -> None:
        """Leave as soon as possible, from any thread: workers stop, output stops waiting for the terminal."""
        self.stopping.set()
        if isinstance(self._driver, LeavingSafeDriver):
            self._driver.abandon_output()
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self.exit)
            except RuntimeError:  # the loop already closed
                pass

    def _check_synced(self) -> None:
        """Say so when the management cluster has not answered the first list yet."""
        if not self.backend.synced():  # type: ignore[attr-defined]
            self.notify(f"Still waiting for the management cluster ({self.backend.context}); retrying.",
                        severity="warning", timeout=10)

    def _remember_theme(self, theme: object) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.restyle()
        name = getattr(theme, "name", "")
        if self._remember and name in self.console_themes:
            theme_files.remember_theme(name)

    def on_state_changed(self, message: StateChanged) -> None:
        """Forward a state change to the main screen (merged upstream)."""
        self.coalescer.handled()
        # The stack, not self.screen: a change may arrive while the app shuts down and has no screen.
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.redraw()

    def on_operation_done(self, message: OperationDone) -> None:
        """Tell the operator how an operation went."""
        self.notify(message.text, severity="information" if message.ok else "error", timeout=6)

    def on_feed_failed(self, message: FeedFailed) -> None:
        """A worker stopped: tell the operator once."""
        self.notify(message.text, severity="error", timeout=10)

    def log_error(self, label: str, exc: BaseException) -> None:
        """Diagnostics go to the log file, never over the screen."""
        log.error("%s failed: %s", label, exc, exc_info=exc)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's entries (not its theme picker) plus every console action and theme."""
        yield from console_commands(self, screen, super().get_system_commands(screen))

    def shutdown_backend(self) -> None:
        """Stop the feed and the reconciler (idempotent)."""
        self.stopping.set()
        self.workers.cancel_all()
        getattr(self, "_journal_listener", lambda: None)()
        self.backend.close()

    def on_unmount(self) -> None:
        """However the app ends, its workers stop."""
        self.shutdown_backend()

    async def action_quit(self) -> None:
        """Stop the workers and leave."""
        if self.on_quit is not None:
            self.on_quit()
        self.shutdown_backend()
        self.exit()
