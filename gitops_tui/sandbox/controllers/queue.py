"""A work queue like client-go's: keys due at a time, each queued once, never handled by two workers at once."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Hashable


class WorkQueue:
    """Delayed, de-duplicated keys; a key being processed is queued again only after it is done."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, Hashable]] = []
        self._due: dict[Hashable, float] = {}
        self._processing: set[Hashable] = set()
        self._again: dict[Hashable, float] = {}
        self._order = itertools.count()
        self._closed = False

    def add(self, key: Hashable, after: float = 0.0) -> None:
        """Queue ``key`` to be handled ``after`` seconds from now (an earlier schedule wins)."""
        when = time.monotonic() + max(0.0, after)
        with self._cv:
            if self._closed:
                return
            if key in self._processing:
                self._again[key] = min(when, self._again.get(key, when))
                return
            if key in self._due and self._due[key] <= when:
                return
            self._due[key] = when
            heapq.heappush(self._heap, (when, next(self._order), key))
            self._cv.notify()

    def get(self) -> Hashable | None:
        """Block until a key is due and return it (None once the queue is closed)."""
        with self._cv:
            while not self._closed:
                while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # superseded by an earlier schedule
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    _, _, key = heapq.heappop(self._heap)
                    del self._due[key]
                    self._processing.add(key)
                    return key
                self._cv.wait(self._heap[0][0] - now if self._heap else None)
            return None

    def done(self, key: Hashable) -> None:
        """Mark ``key`` handled; queue it again if it was added meanwhile."""
        with self._cv:
            self._processing.discard(key)
            when = self._again.pop(key, None)
        if when is not None:
            self.add(key, when - time.monotonic())

    def close(self) -> None:
        """Wake every waiting worker; get() returns None from now on."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def __len__(self) -> int:
        with self._cv:
            return len(self._due)
