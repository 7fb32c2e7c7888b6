"""Freeze windows: a cron schedule, a duration and a timezone holding some clusters of a project. No I/O.

A window is an operator's intent, recorded on the Project (cluster-scoped: no project member can write it) under
``spec.windows.<name>`` = ``{schedule, duration, timezone, clusters, reason, by, identity, at}``. While one is open its
clusters are held (intent ``frozen``, a hold of kind and scope ``window``) for every source of the project.

The schedule is read by croniter (the library the sandbox's CronJob controller uses): five fields, in the window's
timezone (zoneinfo), so "0 16 * * 5" in Europe/Berlin opens at 16:00 Berlin time in winter and in summer. The duration
is counted on that timezone's wall clock: "64h" from Friday 16:00 closes on Monday 08:00 local time on the weekends
the clocks change too (an hour fewer or more of real time), which is how a release manager reads a weekend window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gitops_tui.api.formats import parse_duration, parse_time

FIELD_WINDOWS = "windows"
HOLD_WINDOW = "window"
SCOPE_WINDOW = "window"
DEFAULT_TIMEZONE = "UTC"
#: A window's name: a DNS-1123 label (it is a key of the Project's spec and a word in every message).
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: The longest window: a week and a day (a weekly window longer than its period would never close).
MAX_DURATION = 8 * 24 * 3600.0
#: How many later openings may extend one open window (overlapping openings) before the search stops.
_MAX_CHAIN = 64

REASON_WINDOW_CREATED = "WindowCreated"
REASON_WINDOW_DELETED = "WindowDeleted"
REASON_WINDOW_OPENED = "WindowOpened"
REASON_WINDOW_CLOSED = "WindowClosed"


@dataclass(frozen=True)
class Window:
    """One freeze window of a project, as recorded on the Project."""

    name: str
    schedule: str
    duration: str
    timezone: str = DEFAULT_TIMEZONE
    clusters: tuple[str, ...] = ()
    """The clusters it holds; empty: every cluster of the project."""
    reason: str = ""
    by: str = ""
    identity: str = ""
    at: str = ""

    def covers(self, cluster: str) -> bool:
        """Whether this window holds ``cluster`` when open."""
        return not self.clusters or cluster in self.clusters

    def where(self) -> str:
        """``prod, staging`` or ``every cluster``."""
        return ", ".join(self.clusters) if self.clusters else "every cluster"

    @property
    def seconds(self) -> float:
        """The duration in seconds (0 when it does not parse)."""
        return parse_duration(self.duration, default=0.0)

    def span(self, now: datetime) -> tuple[datetime, datetime] | None:
        """(opened, closes) of the opening holding ``now``, None while closed (or when the window is not valid)."""
        return _span(self.schedule, self.seconds, self.timezone, now)

    def opens_next(self, now: datetime) -> datetime | None:
        """When it next opens after ``now`` (None when it is not valid)."""
        return _opens_next(self.schedule, self.timezone, now)

    def wake_in(self, now: datetime) -> float | None:
        """Seconds until it next opens or closes (what the reconciler waits for), None when never."""
        span = self.span(now)
        when = span[1] if span is not None else self.opens_next(now)
        return None if when is None else max(0.0, (when - now).total_seconds())

    def local(self, when: datetime) -> str:
        """``Mon 08:00`` in the window's timezone."""
        return when.astimezone(_zone(self.timezone) or UTC).strftime("%a %H:%M")

    def describe(self) -> str:
        """``window weekend (0 16 * * 5 for 64h, Europe/Berlin) on prod by alice: why``."""
        reason = f": {self.reason}" if self.reason else ""
        return (f"window {self.name} ({self.schedule} for {self.duration}, {self.timezone}) on {self.where()}"
                f" by {self.by or 'someone'}{reason}")

    def to_record(self) -> dict[str, Any]:
        """The recorded dict (``spec.windows.<name>``)."""
        body: dict[str, Any] = {"schedule": self.schedule, "duration": self.duration, "timezone": self.timezone,
                                "reason": self.reason, "by": self.by, "at": self.at}
        if self.clusters:
            body["clusters"] = list(self.clusters)
        if self.identity:
            body["identity"] = self.identity
        return body

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """The ``window list -o json`` form: the record, whether it is open now, until when or from when."""
        span = self.span(now)
        upcoming = None if span is not None else self.opens_next(now)
        return {"name": self.name, **self.to_record(), "clusters": list(self.clusters), "open": span is not None,
                "opened": stamp(span[0]) if span else None, "closes": stamp(span[1]) if span else None,
                "nextOpen": stamp(upcoming) if upcoming else None}


def stamp(when: datetime) -> str:
    """RFC 3339 in UTC to the second."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _wall_add(start: datetime, seconds: float, zone: ZoneInfo) -> datetime:
    """``start`` plus ``seconds`` on the wall clock of ``zone`` (then placed in that zone again)."""
    naive = start.astimezone(zone).replace(tzinfo=None) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=zone)


def _croniter() -> Any:
    """croniter's class, imported when a schedule is first read (a project without windows never loads it)."""
    from croniter import croniter

    return croniter


@lru_cache(maxsize=1024)
def _span(schedule: str, seconds: float, zone_name: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The opening of a window holding ``now``, with overlapping later openings joined to it."""
    croniter = _croniter()
    zone = _zone(zone_name)
    if zone is None or seconds <= 0 or not croniter.is_valid(schedule):
        return None
    here = now.astimezone(zone)
    try:  # a second later, so that an opening at exactly ``now`` counts (croniter's previous is strictly before)
        opened = croniter(schedule, here + timedelta(seconds=1)).get_prev(datetime)
    except (ValueError, KeyError):
        return None
    closes = _wall_add(opened, seconds, zone)
    if now >= closes:
        return None
    later = croniter(schedule, opened)
    for _ in range(_MAX_CHAIN):  # an opening before the close extends the window
        nxt = later.get_next(datetime)
        if nxt >= closes:
            break
        closes = max(closes, _wall_add(nxt, seconds, zone))
    return opened, closes


@lru_cache(maxsize=1024)
def _opens_next(schedule: str, zone_name: str, now: datetime) -> datetime | None:
    croniter = _croniter()
    zone = _zone(zone_name)
    if zone is None or not croniter.is_valid(schedule):
        return None
    try:
        return croniter(schedule, now.astimezone(zone)).get_next(datetime)
    except (ValueError, KeyError):
        return None


def problems(name: str, schedule: str, duration: str, zone: str) -> dict[str, str]:
    """Each wrong field of a window (``name``, ``schedule``, ``duration``, ``timezone``) and why, in one sentence."""
    found = {}
    croniter = _croniter()
    if not NAME.match(name or ""):
        found["name"] = f"window name {name!r} is not a DNS-1123 label (lowercase letters, digits and '-', at most 63)"
    if len((schedule or "").split()) != 5 or not croniter.is_valid(schedule):
        found["schedule"] = (f"schedule {schedule!r} is not a cron schedule of five fields (minute hour day-of-month "
                             "month day-of-week), e.g. \"0 16 * * 5\" for Fridays at 16:00")
    seconds = parse_duration(duration, default=0.0)
    if seconds <= 0:
        found["duration"] = f"duration {duration!r} is not a positive duration: use a form like 90m, 2h or 64h"
    elif seconds > MAX_DURATION:
        found["duration"] = f"duration {duration} is longer than 8 days (192h): a window must close between openings"
    if _zone(zone) is None:
        found["timezone"] = f"timezone {zone!r} is not known: give an IANA name such as Europe/Berlin or UTC"
    return found


def check(name: str, schedule: str, duration: str, zone: str) -> str:
    """One sentence saying what is wrong with a window's fields, the first wrong one ('' when they are right)."""
    return next(iter(problems(name, schedule, duration, zone).values()), "")


def windows_of(project: dict[str, Any] | None) -> tuple[Window, ...]:
    """The windows recorded on a Project, by name (a record that is not a window is left out)."""
    raw = ((project or {}).get("spec") or {}).get(FIELD_WINDOWS)
    if not isinstance(raw, dict):
        return ()
    found = []
    for name in sorted(raw):
        item = raw[name]
        if not isinstance(item, dict) or not item.get("schedule") or not item.get("duration"):
            continue
        found.append(Window(str(name), str(item["schedule"]), str(item["duration"]),
                            str(item.get("timezone") or DEFAULT_TIMEZONE),
                            tuple(str(c) for c in item.get("clusters") or []), str(item.get("reason") or ""),
                            str(item.get("by") or ""), str(item.get("identity") or ""), str(item.get("at") or "")))
    return tuple(found)


@dataclass(frozen=True)
class OpenWindow:
    """A window open now: the window, when it opened and when it closes."""

    window: Window
    opened: datetime
    closes: datetime

    def header(self) -> str:
        """``window weekend open on prod until Mon 08:00``."""
        return f"window {self.window.name} open on {self.window.where()} until {self.window.local(self.closes)}"


def open_windows(project: dict[str, Any] | None, now: datetime) -> list[OpenWindow]:
    """The project's windows open at ``now``."""
    found = []
    for window in windows_of(project):
        span = window.span(now)
        if span is not None:
            found.append(OpenWindow(window, *span))
    return found


def wake_in(project: dict[str, Any] | None, now: datetime, clusters: list[str] | None = None) -> float | None:
    """Seconds until the next opening or closing of a window (of one covering ``clusters`` when given)."""
    waits = [w for window in windows_of(project) if clusters is None or any(window.covers(c) for c in clusters)
             for w in [window.wake_in(now)] if w is not None]
    return min(waits, default=None)


def create_patch(window: Window) -> dict[str, Any]:
    """The Project merge patch recording ``window``."""
    return {"spec": {FIELD_WINDOWS: {window.name: window.to_record()}}}


def delete_patch(name: str) -> dict[str, Any]:
    """The Project merge patch removing window ``name``."""
    return {"spec": {FIELD_WINDOWS: {name: None}}}


def local_time(stamp: str, zone_name: str) -> str:
    """An RFC 3339 time as ``Mon 08:00`` on the wall clock of ``zone_name`` (the stamp itself when it does not parse)."""
    when = parse_time(stamp)
    if when is None:
        return stamp
    return when.astimezone(_zone(zone_name) or UTC).strftime("%a %H:%M")


def window_hold(found: OpenWindow) -> Any:
    """An open window as a hold of the effective state (kind and scope ``window``)."""
    from gitops_tui.api.effective import Hold

    window = found.window
    return Hold(HOLD_WINDOW, SCOPE_WINDOW, window.clusters, window.by, window.reason, stamp(found.opened),
                stamp(found.closes), identity=window.identity, name=window.name, timezone=window.timezone)


#: (the Project's windows dict, now) -> each window with its hold (None while closed) and its next change, for the
#: many sources of one project computed against one clock reading (a console rebuild, a reconcile).
_READINGS: dict[tuple[int, datetime], tuple[Any, list[tuple[Window, Any, float | None]]]] = {}


def reading(project: dict[str, Any] | None, now: datetime) -> list[tuple[Window, Any, float | None]]:
    """Each window of the Project with its hold now (None while closed) and the seconds until it opens or closes."""
    raw = ((project or {}).get("spec") or {}).get(FIELD_WINDOWS)
    key = (id(raw), now)
    hit = _READINGS.get(key)
    if hit is not None and hit[0] is raw:
        return hit[1]
    found = []
    for window in windows_of(project):
        span = window.span(now)
        hold = window_hold(OpenWindow(window, *span)) if span is not None else None
        found.append((window, hold, window.wake_in(now)))
    if len(_READINGS) > 64:
        _READINGS.clear()
    _READINGS[key] = (raw, found)
    return found
