"""util.observers: every callback told, a failing one logged without stopping the others, removal from any thread."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from gitops_tui.util.observers import Observers


def test_every_callback_is_told_and_one_that_raises_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    told: list[str] = []
    observers: Observers[[str]] = Observers("test observer")

    def broken(_: str) -> None:
        raise RuntimeError("boom")

    observers.add(broken)
    remove = observers.add(told.append)
    with caplog.at_level(logging.ERROR):
        observers.notify("a write")
    assert told == ["a write"] and "test observer failed" in caplog.text
    remove()
    remove()  # twice is harmless
    observers.notify("another")
    assert told == ["a write"]


def test_a_callback_may_remove_itself_while_being_told() -> None:
    observers: Observers[[int]] = Observers("test observer")
    seen: list[int] = []
    removals: list[Callable[[], None]] = []

    def once(value: int) -> None:
        seen.append(value)
        removals[0]()

    removals.append(observers.add(once))
    observers.notify(1)
    observers.notify(2)
    assert seen == [1] and not observers
