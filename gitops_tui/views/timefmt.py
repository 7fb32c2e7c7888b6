"""Timestamps as operators read them: short ages against an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp (``Z`` or offset, optional fraction); None when empty or bad."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: str | None, now: datetime) -> str:
    """Return a k9s-style age (``42s``, ``5m``, ``3h``, ``2d``) of a timestamp; '' when unknown."""
    moment = parse_time(value)
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def clock_time(value: str | None) -> str:
    """Return ``HH:MM:SS`` (UTC) of a timestamp; '' when unknown."""
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%H:%M:%S") if moment else ""


def stamp(value: str | None) -> str:
    """Return ``YYYY-MM-DD HH:MM UTC`` of a timestamp; the raw value when it does not parse."""
    moment = parse_time(value)
    if moment is None:
        return value or ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
