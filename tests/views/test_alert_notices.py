"""The console tells a recent undelivered alert as a notification, and nothing else of the Events feed."""

from __future__ import annotations

from datetime import UTC, datetime

from gitops_tui.views.alert_notices import delivery_failures
from gitops_tui.views.state import Change

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def _event(reason: str, at: str) -> dict:
    return {"reason": reason, "lastTimestamp": at, "message": "failure of web not delivered after 5 attempts: "
                                                             "https://hooks.slack.com/… answered HTTP 500",
            "involvedObject": {"kind": "Alert", "namespace": "demo", "name": "oncall"}}


def test_only_recent_delivery_failures_are_told() -> None:
    changes = [Change("events", "ADDED", _event("AlertDeliveryFailed", "2026-12-07T20:59:30Z")),
               Change("events", "MODIFIED", _event("AlertDeliveryFailed", "2026-12-07T20:10:00Z")),
               Change("events", "ADDED", _event("ApplyFailed", "2026-12-07T20:59:30Z")),
               Change("sources", "ADDED", _event("AlertDeliveryFailed", "2026-12-07T20:59:30Z"))]
    lines = delivery_failures(changes, NOW)
    assert lines == ["Alert demo/oncall not delivered: failure of web not delivered after 5 attempts: "
                     "https://hooks.slack.com/… answered HTTP 500"]
