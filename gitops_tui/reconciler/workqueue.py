"""A delaying work queue keyed by object: one pending entry per key, never two workers on one key."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Hashable


class WorkQueue:
    """Keys become due at a time; get() hands out due keys, done() releases them.

    Adding a key that is already queued keeps the earlier due time. Adding a key while a worker
    holds it queues it again for after done(), so a change seen mid-reconcile is never lost.
    """

    def __init__(self) -> None:
        """Create an empty queue."""
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Hashable]] = []
        self._due: dict[Hashable, float] = {}
        self._processing: set[Hashable] = set()
        self._after_done: dict[Hashable, float] = {}
        self._seq = itertools.count()
        self._closed = False

    def add(self, key: Hashable, delay: float = 0.0) -> None:
        """Make ``key`` due in ``delay`` seconds (or sooner if already due sooner)."""
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            if key in self._processing:
                current = self._after_done.get(key)
                if current is None or due < current:
                    self._after_done[key] = due
                return
            current = self._due.get(key)
            if current is not None and current <= due:
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key))
            self._cond.notify()

    def get(self, timeout: float = 0.5) -> Hashable | None:
        """Return a due key (now held by the caller) or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap:
                    due, _, key = self._heap[0]
                    if self._due.get(key) != due:
                        heapq.heappop(self._heap)
                        continue
                    if due > now:
                        break
                    heapq.heappop(self._heap)
                    del self._due[key]
                    self._processing.add(key)
                    return key
                wait = deadline - now
                if wait <= 0:
                    return None
                if self._heap:
                    wait = min(wait, self._heap[0][0] - now)
                self._cond.wait(max(wait, 0.001))
            return None

    def done(self, key: Hashable, requeue_after: float | None = None) -> None:
        """Release ``key``; queue it again after ``requeue_after`` seconds (or sooner if changed meanwhile)."""
        with self._cond:
            self._processing.discard(key)
            pending = self._after_done.pop(key, None)
        if pending is not None:
            self.add(key, max(0.0, pending - time.monotonic()))
        if requeue_after is not None:
            self.add(key, requeue_after)

    def forget(self, key: Hashable) -> None:
        """Drop a queued (not held) key."""
        with self._cond:
            self._due.pop(key, None)
            self._after_done.pop(key, None)

    def pending(self) -> list[Hashable]:
        """Return the queued keys (for diagnostics and tests)."""
        with self._cond:
            return list(self._due)

    def close(self) -> None:
        """Wake every waiting get(); later get() calls return None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
