"""Freezes in words (Textual-free): the row text, the header's alerts, a preview cut to some clusters, the dialog's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gitops_tui.api import freeze as fz
from gitops_tui.views import model
from gitops_tui.views.freeze import (
    FreezeChoice,
    check_choice,
    header_alerts,
    parse_clusters,
    preview_for,
    suspension_text,
)
from gitops_tui.views.state import ManagementState

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _ago(minutes: int) -> str:
    return fz.stamp(NOW - timedelta(minutes=minutes))


def test_the_row_says_where_until_when_and_expired() -> None:
    live = model.Suspension("alice", "INC-1", _ago(30), until=_ago(-90), clusters=("prod",))
    assert suspension_text(live, NOW) == "on prod by alice 30m ago (90m left): INC-1"
    thaw = model.Suspension("alice", "INC-1", _ago(30), until=_ago(-60), then="resume")
    assert suspension_text(thaw, NOW) == "by alice 30m ago (resumes in 60m): INC-1"
    gone = model.Suspension("bob", "window", _ago(130), until=_ago(10), scope="project")
    assert suspension_text(gone, NOW) == "EXPIRED 10m ago, project freeze by bob 2h ago: window"


def test_the_header_names_frozen_projects_and_counts_expired_freezes() -> None:
    project = {"kind": "Project", "metadata": {"name": "demo"},
               "spec": {"namespace": "demo", "freeze": {"by": "a", "reason": "r", "at": _ago(60),
                                                        "until": _ago(10), "clusters": ["prod"]}}}
    source = {"kind": "FederatedKustomization", "metadata": {
        "name": "web", "namespace": "demo", "annotations": {
            "gitops-tui.io/suspended-by": "b", "gitops-tui.io/suspended-at": _ago(90),
            fz.ANNOTATION_SUSPEND_UNTIL: _ago(30)}},
        "spec": {"template": {"spec": {"suspend": True}}}}
    state = ManagementState({"projects": [project], "kustomizations": [source]})
    assert header_alerts(state, NOW) == "demo frozen on prod · 2 freezes expired 30m ago"
    assert header_alerts(ManagementState({}), NOW) == ""


def test_a_preview_cut_to_some_clusters_says_nothing_to_revert_per_source() -> None:
    preview = "# a\n@ dev: ConfigMap x (changed by k)\n-   .data.v: 1\n+   .data.v: 2\n# b\nnothing to revert"
    assert preview_for(preview, ("prod",)) == "# a\nnothing to revert\n# b\nnothing to revert"
    assert preview_for(preview, ("dev",)).splitlines()[:4] == preview.splitlines()[:4]


@pytest.mark.parametrize(("choice", "field", "words"), [
    (FreezeChoice("soon"), "expiry", "not a positive duration"),
    (FreezeChoice("2020-01-01T00:00:00Z"), "expiry", "already past"),
    (FreezeChoice("", then_resume=True), "expiry", "needs an expiry"),
    (FreezeChoice("2h", clusters=("mars",)), "clusters", "Not placed on mars"),
])
def test_the_dialog_refuses_a_bad_choice_beside_its_field(choice: FreezeChoice, field: str, words: str) -> None:
    errors = check_choice(choice, ["dev", "prod"], NOW)
    assert list(errors) == [field] and words in errors[field]


def test_an_expiry_is_a_duration_or_a_time_and_clusters_are_words() -> None:
    assert FreezeChoice("2h").for_until() == ("2h", "")
    assert FreezeChoice("2026-01-15T18:00:00Z").for_until() == ("", "2026-01-15T18:00:00Z")
    assert parse_clusters("prod, dev prod") == ("dev", "prod")
    assert check_choice(FreezeChoice("2h", True, ("prod",)), ["dev", "prod"], NOW) == {}


def test_merging_keeps_the_start_and_refuses_to_narrow_a_freeze_of_every_cluster() -> None:
    first = fz.merge(None, by="a", reason="r", now=NOW, clusters=["prod"])
    current = fz.Freeze("a", "r", first.at, clusters=("prod",), history=tuple(first.history))
    later = fz.merge(current, by="b", reason="s", now=NOW + timedelta(hours=1), clusters=["staging"])
    assert (later.at, later.clusters, later.extended) == (first.at, ["prod", "staging"], True)
    assert fz.merge(current, by="b", reason="s", now=NOW).clusters == ["prod"], "no --clusters keeps them"
    with pytest.raises(ValueError, match="already frozen on every cluster"):
        fz.merge(fz.Freeze("a", "r", first.at), by="b", reason="s", now=NOW, clusters=["prod"])
    assert fz.remaining(fz.Freeze("a", "r", "x"), ["dev", "staging", "prod"], ["dev"]) == ["staging", "prod"]
