"""Bounded waiting inside pilot tests: poll a condition while the app's event loop keeps running."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from textual.pilot import Pilot

from tests.waiting import WaitTimeout

T = TypeVar("T")


async def app_wait_until(
    pilot: Pilot, predicate: Callable[[], T], *, timeout: float = 30.0, message: str = "condition"
) -> T:
    """Like tests.waiting.wait_until, but yields to the app between polls (never blocks its loop)."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - not checkable yet
            last_error = exc
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise WaitTimeout(f"timed out after {timeout}s waiting for {message}{detail}")
        await pilot.pause(0.05)
