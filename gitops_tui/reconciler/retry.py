"""When a source is reconciled again: its interval when fine; after a failure its retryInterval, else a back-off."""

from __future__ import annotations

import threading

_backoff: dict[tuple[str, str], int] = {}
_backoff_lock = threading.Lock()


def retry_after(key: tuple[str, str], failed: bool, interval: float, retry: float | None = None) -> float:
    """Return the requeue delay: the interval when fine; after a failure the source's retryInterval when it sets
    one (Flux's), else an exponential backoff (2, 4, 8 ... s) capped by the interval."""
    with _backoff_lock:
        if not failed:
            _backoff.pop(key, None)
            return interval
        if retry is not None:
            _backoff.pop(key, None)
            return retry
        count = _backoff.get(key, 0) + 1
        _backoff[key] = count
    return min(interval, 2.0 ** min(count, 6))
