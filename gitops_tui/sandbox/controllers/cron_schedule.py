"""Cron schedules as kube-controller-manager reads them (robfig/cron's ParseStandard), with croniter.

croniter computes the next time of a five-field expression and of the @hourly-style descriptors, in
a time zone, across daylight-saving changes; `@every <duration>` (robfig's ConstantDelaySchedule) is
the one form it lacks, and is done here. `most_recent` follows `mostRecentScheduleTime` of
`pkg/controller/cronjob/utils.go` (kubernetes v1.32): the latest time due at or before now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
#: More missed times than this and the controller only warns (utils.go's manyMissed).
MANY_MISSED = 100


class ScheduleError(ValueError):
    """A schedule or time zone the controller cannot use (it then starts nothing)."""


def time_zone(name: str | None) -> tzinfo:
    """The CronJob's time zone (UTC when unset), as Go's time.LoadLocation finds it."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name}") from exc


def _every(text: str) -> timedelta:
    spec = text.removeprefix("@every").strip()
    parts = _GO_DURATION.findall(spec)
    if not parts or "".join(n + u for n, u in parts) != spec:
        raise ScheduleError(f"failed to parse duration {text}")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    return timedelta(seconds=max(1, int(seconds)))  # robfig rounds the delay down to whole seconds, 1 s at least


@dataclass(frozen=True)
class Schedule:
    """One CronJob schedule in its time zone."""

    expression: str
    zone: tzinfo

    @classmethod
    def parse(cls, expression: str, zone_name: str | None) -> Schedule:
        """Parse a schedule (ScheduleError when it is not one)."""
        zone = time_zone(zone_name)
        text = expression.strip()
        if text.startswith("@every"):
            _every(text)
        elif not croniter.is_valid(_DESCRIPTORS.get(text, text)) or len(_DESCRIPTORS.get(text, text).split()) != 5:
            raise ScheduleError(f"unparseable schedule {expression!r}")
        return cls(text, zone)

    def next(self, after: datetime) -> datetime:
        """The first scheduled time strictly after ``after`` (whole seconds, UTC)."""
        if self.expression.startswith("@every"):
            return (after + _every(self.expression)).replace(microsecond=0)
        base = after.astimezone(self.zone)
        nxt = croniter(_DESCRIPTORS.get(self.expression, self.expression), base).get_next(datetime)
        return nxt.astimezone(UTC)

    def most_recent(self, earliest: datetime, now: datetime) -> tuple[datetime | None, int]:
        """The latest scheduled time in (earliest, now] and how many were due in that span (capped past 100)."""
        latest, missed, when = None, 0, self.next(earliest)
        while when <= now:
            latest, missed = when, missed + 1
            if missed > MANY_MISSED:  # the real controller estimates by the interval; jump to the end
                step = self.next(when) - when
                skip = max(0, int((now - when) / step) - 1) if step.total_seconds() > 0 else 0
                when = when + step * skip
                missed += skip
            when = self.next(when)
        return latest, missed
