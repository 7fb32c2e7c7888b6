"""What screens, flows, commands and workers need of the console app: its interface, so none imports app.py."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.app import App

from gitops_tui.views.backend import Backend


class ConsoleApp(App):
    """The console app as its parts see it (gitops_tui.tui.app.GitOpsApp is the one implementation)."""

    backend: Backend
    """Where data comes from and operations go."""
    read_only: bool
    """True hides every key, palette entry and form that changes anything."""
    live: bool
    """False: no feed, no reconciler, no terminal watchdog (snapshot tests)."""
    cursor_blink: bool
    """False keeps every cursor still (snapshot tests)."""
    stopping: threading.Event
    """Set when the console is leaving; workers stop."""
    console_themes: dict[str, str]
    """Names of the themes loaded from theme files."""
    remapped_keys: dict[str, str]
    """The operator's remapped keys ({binding id: keys}, tui/keymap.py)."""

    if TYPE_CHECKING:  # GitOpsApp writes it to the log file
        def log_error(self, label: str, exc: BaseException) -> None:
            """Write a failure to the log file, never over the screen."""
