"""Wall clocks of IANA timezones: a zone by name, and a time shown on its wall clock. No I/O."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gitops_tui.api.formats import parse_time


def zone(name: str) -> ZoneInfo | None:
    """The IANA timezone ``name``, None when it is not known."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(stamp: str, zone_name: str) -> str:
    """An RFC 3339 time as ``Mon 08:00`` on the wall clock of ``zone_name`` (the stamp itself when it does not parse)."""
    when = parse_time(stamp)
    if when is None:
        return stamp
    return when.astimezone(zone(zone_name) or UTC).strftime("%a %H:%M")
