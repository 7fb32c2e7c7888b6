"""What a terminal received, chunk by chunk with the time each arrived: when did a text first show complete.

Shared by the pty console of the tests (tests/ptyconsole.py) and the tmux terminal of the benchmarks
(bench/tmux_terminal.py), which differ only in how the bytes reach them.
"""

from __future__ import annotations

import threading


class TimedOutput:
    """Every byte received so far (``data``), each chunk stamped with time.monotonic() as it arrived."""

    def __init__(self) -> None:
        self.data = bytearray()
        """Every byte received so far (extended in place: a reference to it stays current)."""
        self.first_at: float | None = None
        """time.monotonic() when the first byte arrived (None before)."""
        self._chunks: list[tuple[int, float]] = []
        self._lock = threading.Lock()

    def add(self, data: bytes, now: float) -> None:
        """Record ``data`` as arrived at ``now`` (time.monotonic())."""
        with self._lock:
            if self.first_at is None:
                self.first_at = now
            self.data += data
            self._chunks.append((len(self.data), now))

    def seen_at(self, text: str) -> float | None:
        """time.monotonic() when ``text`` was first complete in what arrived (None when not yet)."""
        needle = text.encode()
        with self._lock:
            found = self.data.find(needle)
            if found < 0:
                return None
            end = found + len(needle)
            return next(when for size, when in self._chunks if size >= end)
