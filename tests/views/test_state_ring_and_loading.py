"""The console's state: a bounded Events ring that counts what it dropped, and 'loading…' until the first lists."""

from __future__ import annotations

from datetime import UTC, datetime

from gitops_tui.views import rows
from gitops_tui.views.state import LOADING, MAX_EVENTS, Change, ManagementState

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _event(number: int) -> dict:
    return {"metadata": {"name": f"ev.{number}", "namespace": "demo"}, "type": "Normal", "reason": "Applied",
            "message": f"event {number}", "involvedObject": {"name": "podinfo"},
            "lastTimestamp": f"2026-01-15T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}Z"}


def test_events_are_a_bounded_ring_that_counts_what_it_dropped() -> None:
    """A long stream keeps the newest MAX_EVENTS; the pane's first row says how many older ones are gone."""
    state = ManagementState()
    extra = 1234
    for start in range(0, MAX_EVENTS + extra, 100):
        state.apply_many(Change("events", "ADDED", _event(n)) for n in range(start, min(start + 100, MAX_EVENTS + extra)))
    kept = state.items("events")
    assert len(kept) == MAX_EVENTS
    assert kept[0]["metadata"]["name"] == f"ev.{extra}" and kept[-1]["metadata"]["name"] == f"ev.{MAX_EVENTS + extra - 1}"
    assert state.events_dropped == extra
    table = rows.events_table(state, NOW)
    assert len(table.rows) == MAX_EVENTS + 1
    assert f"{extra} older event(s) not kept" in table.rows[0].cells[-1]
    state.apply(Change("events", "MODIFIED", _event(MAX_EVENTS + extra - 1)))  # an update is not a new event
    assert state.events_dropped == extra and len(state.items("events")) == MAX_EVENTS


def test_panes_say_loading_and_what_is_going_on_until_their_first_list() -> None:
    """Before the first list a pane's empty text is 'loading…' with the progress; after it, the pane's own text."""
    state = ManagementState()
    kinds = ("gitrepositories", "kustomizations", "projects", "clusters")
    assert state.loading_text(kinds) == LOADING
    state.apply(Change("progress", "MODIFIED", {"text": "starting the local sandbox"}))
    assert state.loading_text(kinds) == f"{LOADING} starting the local sandbox"
    for kind in kinds[:-1]:
        state.apply(Change(kind, "SYNCED"))
    assert state.loading_text(kinds).startswith(LOADING), "one kind still unlisted: still loading"
    before = state.kind_versions["clusters"]
    state.apply(Change("clusters", "SYNCED"))
    assert state.loading_text(kinds) == ""
    assert state.kind_versions["clusters"] > before, "the pane redraws when its kinds are listed"
    assert ManagementState({"projects": []}).loading_text(kinds) == "", "a recorded snapshot is complete"
