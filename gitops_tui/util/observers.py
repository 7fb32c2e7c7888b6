"""A registry of callbacks told about something (a write, a failure): added and removed from any thread, each
called in turn, and one that raises is logged, never allowed to break what it observes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")
log = logging.getLogger(__name__)


class Observers(Generic[P]):
    """Callbacks of one signature; ``notify`` calls each with the same arguments."""

    def __init__(self, what: str) -> None:
        """``what`` names the callbacks in the log when one fails (``write hook``)."""
        self._what = what
        self._lock = threading.Lock()
        self._callbacks: list[Callable[P, None]] = []

    def add(self, callback: Callable[P, None]) -> Callable[[], None]:
        """Register ``callback``; return a function that removes it."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def __bool__(self) -> bool:
        """True while any callback is registered (lets a hot path skip building its arguments)."""
        return bool(self._callbacks)

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every callback (a snapshot: one may remove itself); a failure is logged and the others still run."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(*args, **kwargs)
            except Exception:  # noqa: BLE001 - an observer never breaks what it observes
                log.exception("%s failed", self._what)
