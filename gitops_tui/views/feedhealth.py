"""How the management list/watch feed is doing: a banner while a watch is broken or re-listing (no Textual)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gitops_tui.views.timefmt import age

LISTING = "listing"
FAILING = "failing"


@dataclass(frozen=True)
class WatchTrouble:
    """One watched kind that is not live: re-listing, or failing with a reason, since a moment."""

    state: str
    since: datetime
    reason: str = ""


class FeedHealth:
    """Per watched kind: live, re-listing or failing. Thread-safe; ``listener`` is called on every change."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._trouble: dict[str, WatchTrouble] = {}
        self._synced: set[str] = set()
        self.listener: Callable[[], None] | None = None
        """Called (from the watch thread) whenever the banner may change."""

    def listing(self, kind: str) -> None:
        """A list of ``kind`` started: a re-list after the first one shows in the banner."""
        with self._lock:
            known = self._trouble.get(kind)
            if kind not in self._synced or (known is not None and known.state == FAILING):
                return
            self._trouble[kind] = WatchTrouble(LISTING, self._clock())
        self._changed()

    def healthy(self, kind: str) -> None:
        """``kind`` is listed and watched again."""
        with self._lock:
            self._synced.add(kind)
            if self._trouble.pop(kind, None) is None:
                return
        self._changed()

    def failing(self, kind: str, reason: str) -> None:
        """The list or watch of ``kind`` failed (it is retried); keep the first failure's time."""
        with self._lock:
            known = self._trouble.get(kind)
            if known is not None and known.state == FAILING and known.reason == reason:
                return
            since = known.since if known is not None and known.state == FAILING else self._clock()
            self._trouble[kind] = WatchTrouble(FAILING, since, reason)
        self._changed()

    def troubles(self) -> dict[str, WatchTrouble]:
        """Return the kinds that are not live now."""
        with self._lock:
            return dict(self._trouble)

    def banner(self, now: datetime) -> str:
        """Return the banner line ('' while every watch is live)."""
        troubles = self.troubles()
        failing = {k: t for k, t in troubles.items() if t.state == FAILING}
        if failing:
            oldest = min(t.since for t in failing.values())
            reasons = sorted({t.reason for t in failing.values() if t.reason})
            kinds = "every kind" if len(failing) == len(self._synced | set(failing)) > 1 else ", ".join(sorted(failing))
            why = f": {'; '.join(reasons)}" if reasons else ""
            return (f"✗ Management watch broken for {age(oldest.isoformat(), now)}: what is shown may be stale; "
                    f"retrying ({kinds}{why})")
        if troubles:
            return f"↻ Re-listing {', '.join(sorted(troubles))}: changes show again when it ends"
        return ""

    def _changed(self) -> None:
        listener = self.listener
        if listener is not None:
            listener()
