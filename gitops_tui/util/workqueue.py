"""One work queue, like client-go's, for the reconciler and the sandbox's controllers alike.

Keys become due at a time; get() hands out due keys, done() releases them. Adding a key that is already
queued keeps the earlier due time; adding a key while a worker holds it queues it again for after done(),
so a change seen mid-reconcile is never lost, and no two workers ever hold one key.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Delayed, de-duplicated keys; a key being processed is queued again only after it is done."""

    def __init__(self) -> None:
        """Create an empty queue."""
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, K]] = []
        self._due: dict[K, float] = {}
        self._processing: set[K] = set()
        self._after_done: dict[K, float] = {}
        self._seq = itertools.count()
        self._closed = False

    def add(self, key: K, after: float = 0.0) -> None:
        """Make ``key`` due in ``after`` seconds (or sooner if already due sooner); nothing once closed."""
        due = time.monotonic() + max(0.0, after)
        with self._cond:
            if self._closed:
                return
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

    def get(self, timeout: float | None = None) -> K | None:
        """Return a due key (now held by the caller); None once closed, or after ``timeout`` seconds if given."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap:
                    due, _, key = self._heap[0]
                    if self._due.get(key) != due:
                        heapq.heappop(self._heap)  # superseded by an earlier schedule
                        continue
                    if due > now:
                        break
                    heapq.heappop(self._heap)
                    del self._due[key]
                    self._processing.add(key)
                    return key
                wait = None if deadline is None else deadline - now
                if wait is not None and wait <= 0:
                    return None
                if self._heap:
                    until_due = self._heap[0][0] - now
                    wait = until_due if wait is None else min(wait, until_due)
                self._cond.wait(None if wait is None else max(wait, 0.001))
            return None

    def done(self, key: K, requeue_after: float | None = None) -> None:
        """Release ``key``; queue it again after ``requeue_after`` seconds (or sooner if changed meanwhile)."""
        with self._cond:
            self._processing.discard(key)
            pending = self._after_done.pop(key, None)
        if pending is not None:
            self.add(key, max(0.0, pending - time.monotonic()))
        if requeue_after is not None:
            self.add(key, requeue_after)

    def forget(self, key: K) -> None:
        """Drop a queued (not held) key."""
        with self._cond:
            self._due.pop(key, None)
            self._after_done.pop(key, None)

    def pending(self) -> list[K]:
        """Return the queued keys (for diagnostics and tests)."""
        with self._cond:
            return list(self._due)

    def close(self) -> None:
        """Wake every waiting get(); later get() calls return None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        """The number of queued (not held) keys."""
        with self._cond:
            return len(self._due)
