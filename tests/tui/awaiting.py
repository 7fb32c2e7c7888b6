"""Bounded waiting inside pilot tests: poll a condition while the app's event loop keeps running."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.pilot import Pilot

from tests.waiting import attempts

T = TypeVar("T")


async def app_wait_until(
    pilot: Pilot, predicate: Callable[[], T], *, timeout: float = 30.0, message: str = "condition"
) -> T:
    """Like tests.waiting.wait_until, but yields to the app between polls (never blocks its loop)."""
    for value in attempts(predicate, timeout=timeout, message=message):
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError("attempts() ends with a value or WaitTimeout")
