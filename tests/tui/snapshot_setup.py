"""What the console's snapshot modules share: the two terminal sizes, and key presses that wait for their work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

#: Every snapshot is taken at these two sizes (ids name the snapshot files: keep them).
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


def press_settled(*keys: str) -> Callable[[Any], Awaitable[None]]:
    """A snap_compare run_before pressing ``keys`` one by one, waiting after each for the operations it starts."""

    async def run(pilot: Any) -> None:
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run
