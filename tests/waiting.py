"""Bounded waiting on conditions: the suite's only way to wait for the app, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold within its timeout."""


def attempts(predicate: Callable[[], T], *, timeout: float, message: str) -> Iterator[T | None]:
    """Check ``predicate`` once per step: yield its value once truthy (and stop), else None; WaitTimeout after ``timeout`` s.

    The caller waits between steps (a sleep, or a pilot's pause). Exceptions raised by the predicate count as
    "not yet" and the last one is reported.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - the condition may not be checkable yet
            last_error = exc
        else:
            if value:
                yield value
                return
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise WaitTimeout(f"timed out after {timeout}s waiting for {message}{detail}")
        yield None


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll ``predicate`` until it returns a truthy value and return it; fail after ``timeout`` s.

    Exceptions raised by the predicate count as "not yet" and the last one is reported.
    """
    for value in attempts(predicate, timeout=timeout, message=message):
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("attempts() ends with a value or WaitTimeout")
