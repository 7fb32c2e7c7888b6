"""Which changes of the Events feed the console tells as a notification: an alert that was not delivered. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from gitops_tui.api import alerts as al
from gitops_tui.api.formats import parse_time
from gitops_tui.views.state import Change

#: An older failure (the first list of a console opened later) is in the Events pane, not a notification.
RECENT = timedelta(minutes=2)


def delivery_failures(changes: Iterable[Change], now: datetime) -> list[str]:
    """One line per recent ``AlertDeliveryFailed`` Event added or bumped in ``changes``."""
    lines = []
    for change in changes:
        event = change.obj
        if change.kind != "events" or change.type not in ("ADDED", "MODIFIED") or \
                event.get("reason") != al.REASON_DELIVERY_FAILED:
            continue
        when = parse_time(str(event.get("lastTimestamp") or ""))
        if when is None or now - when > RECENT:
            continue
        alert = (event.get("involvedObject") or {}).get("name", "")
        namespace = (event.get("involvedObject") or {}).get("namespace", "")
        lines.append(f"Alert {namespace}/{alert} not delivered: {event.get('message', '')}")
    return lines
