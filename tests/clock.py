"""A clock tests move by hand (freeze expiries without sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Returns ``now`` when called; ``advance`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward (keyword arguments of timedelta); return the new time."""
        self.now += timedelta(**delta)
        return self.now
