"""Workers feeding the console: the management list/watch feed and the embedded reconciler."""

from __future__ import annotations

import logging
import threading

from textual.worker import get_current_worker

from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.messages import FeedFailed, OperationDone, StateChanged
from gitops_tui.views.alert_notices import delivery_failures
from gitops_tui.views.state import Change

log = logging.getLogger(__name__)


class Coalescer:
    """Applies changes to the state and posts at most one pending StateChanged: never floods."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self._pending = threading.Event()

    def emit(self, changes: list[Change]) -> None:
        """Apply changes (any thread); post a redraw unless one is already queued."""
        if changes:
            self.app.backend.state.apply_many(changes)
            for line in delivery_failures(changes, self.app.backend.now()):
                self.app.post_message(OperationDone(line, ok=False))
        if not self._pending.is_set():
            self._pending.set()
            self.app.post_message(StateChanged())

    def handled(self) -> None:
        """Called on the UI thread when a StateChanged is processed."""
        self._pending.clear()


def run_feed(app: ConsoleApp, coalescer: Coalescer) -> None:
    """Worker body: list then watch the management cluster until the worker is cancelled."""
    worker = get_current_worker()
    try:
        app.backend.run_feed(coalescer.emit, lambda: worker.is_cancelled or app.stopping.is_set())
    except Exception as exc:  # noqa: BLE001 - reported, the console keeps its last state
        log.exception("management feed stopped")
        app.post_message(FeedFailed(f"Live updates stopped: {exc}"))


def run_reconciler(app: ConsoleApp) -> None:
    """Worker body: the embedded reconciler, taking part in the leader election."""
    worker = get_current_worker()
    try:
        app.backend.run_reconciler(lambda: worker.is_cancelled or app.stopping.is_set())
    except Exception as exc:  # noqa: BLE001
        log.exception("embedded reconciler stopped")
        app.post_message(FeedFailed(f"The embedded reconciler stopped: {exc}"))
