"""The freeze window model (api/windows.py) without a cluster: openings, closes on the local clock, overlaps, checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitops_tui.api import windows as wn

UTC = UTC


def _project(**windows: dict) -> dict:
    return {"spec": {"windows": windows}}


def test_an_opening_at_exactly_now_counts_and_the_close_is_exclusive() -> None:
    window = wn.Window("nightly", "0 22 * * *", "8h")
    at = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
    assert window.span(at) == (at, at + timedelta(hours=8))
    assert window.span(at - timedelta(seconds=1)) is None
    assert window.span(at + timedelta(hours=8)) is None, "closed at its close"
    assert window.wake_in(at - timedelta(minutes=5)) == 300.0, "the next opening"
    assert window.wake_in(at + timedelta(hours=7)) == 3600.0, "the close"


def test_overlapping_openings_extend_one_window() -> None:
    window = wn.Window("long", "0 */6 * * *", "8h")  # opens every 6 hours for 8: never closes between openings
    span = window.span(datetime(2026, 5, 4, 7, 0, tzinfo=UTC))
    assert span is not None and span[1] > datetime(2026, 5, 5, 0, 0, tzinfo=UTC)


def test_the_header_text_and_the_open_windows_of_a_project() -> None:
    project = _project(weekend={"schedule": "0 16 * * 5", "duration": "64h", "timezone": "Europe/Berlin",
                                "clusters": ["prod"], "by": "alice", "reason": "no deploys"},
                       broken={"schedule": "nope", "duration": "1h"})
    friday = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)
    (found,) = wn.open_windows(project, friday)
    assert found.header() == "window weekend open on prod until Mon 08:00"
    hold = wn.window_hold(found)
    assert (hold.kind, hold.scope, hold.name, hold.until) == ("window", "window", "weekend", "2026-06-08T06:00:00Z")
    assert wn.wake_in(project, friday, ["dev"]) is None, "no window covers dev"
    assert [w.name for w in wn.windows_of(project)] == ["broken", "weekend"]
    assert wn.Window("broken", "nope", "1h").span(friday) is None, "a window that does not parse never holds"


def test_each_wrong_field_is_named() -> None:
    found = wn.problems("Bad_Name", "61 * * * *", "0s", "Nowhere/City")
    assert set(found) == {"name", "schedule", "duration", "timezone"}
    assert wn.check("ok", "0 16 * * 5", "64h", "Europe/Berlin") == ""
    assert "longer than 8 days" in wn.check("ok", "0 16 * * 5", "200h", "UTC")
