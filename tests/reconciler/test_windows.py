"""Freeze windows in the reconciler, against the sandbox, with an injected clock: a window opens and closes (a commit made
during it applied at its close), a window across a daylight-saving change, break glass through a window, a freeze and a
pin against a window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gitops_tui import journal
from gitops_tui.actions import ActionError
from gitops_tui.actions import freeze as freeze_actions
from gitops_tui.actions import pin as pin_actions
from gitops_tui.actions import windows as actions
from gitops_tui.actions.state import read_source
from gitops_tui.api import windows as wn
from gitops_tui.api.effective import INTENT_FROZEN, INTENT_PINNED
from gitops_tui.reconciler.windows import project_windows
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap

#: Friday 5 June 2026, 16:30 in Berlin (summer time): the weekend window opened at 16:00.
FRIDAY = datetime(2026, 6, 5, 14, 30, tzinfo=UTC)
#: Monday 8 June 2026, 08:00 in Berlin: the weekend window's close.
MONDAY_CLOSE = datetime(2026, 6, 8, 6, 0, tzinfo=UTC)


def _values(world: World) -> tuple[str | None, ...]:
    def one(cluster: str) -> str | None:
        obj = world.get(cluster, "configmaps", "cfg")
        return None if obj is None else obj["data"]["value"]

    return tuple(one(c) for c in CLUSTERS)


def _start(world: World, name: str, clock: FakeClock, interval: str = "100h") -> object:
    world.ctx.now = clock
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval=interval)
    world.reconcile(name)
    assert _values(world) == ("v1", "v1", "v1")
    return repo


def _weekend(world: World, clock: FakeClock, clusters: list[str] | None = None) -> wn.Window:
    return actions.create_window(world.api, world.project, "weekend", schedule="0 16 * * 5", duration="64h",
                                 timezone_name="Europe/Berlin", clusters=clusters or ["prod"],
                                 reason="no deploys on weekends", actor="rm-alice", now=clock())


def test_a_window_holds_prod_and_a_commit_made_during_it_is_applied_at_its_close(world: World) -> None:
    clock = FakeClock(FRIDAY)
    repo = _start(world, "win", clock)
    window = _weekend(world, clock)
    assert window.span(clock()) is not None, "16:30 on a Friday in Berlin: the window is open"
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    result = world.reconcile("win")
    assert _values(world) == ("v2", "v2", "v1"), "dev and staging follow git; prod waits for the window's close"
    assert result.requeue_after == pytest.approx((MONDAY_CLOSE - clock()).total_seconds()), \
        "the reconciler comes back at the close (sooner than the 100h interval), no polling"

    state = read_source(world.api, world.project, "win", now=clock()).state
    prod = state.cluster("prod")
    assert prod is not None and prod.intent == INTENT_FROZEN and prod.held
    assert (prod.hold.kind, prod.hold.scope, prod.hold.name, prod.hold.by, prod.hold.reason) == (
        "window", "window", "weekend", "rm-alice", "no deploys on weekends")
    assert prod.hold.describe().startswith("window weekend open on prod until Mon 08:00 by rm-alice")
    assert state.cluster("dev").intent == "follow" and state.outcome == "applied", "a held cluster is no failure"
    ready = world.condition("win", "Ready")
    assert ready["status"] == "True" and "held: prod (window weekend open on prod until Mon 08:00" in ready["message"]

    project_windows(world.ctx, world.project, None)  # the Project's reconcile tells people once
    project_windows(world.ctx, world.project, None)
    opened = [e for e in world.events(world.project) if e["reason"] == wn.REASON_WINDOW_OPENED]
    assert len(opened) == 1 and "open until Mon 08:00" in opened[0]["message"]

    clock.now = MONDAY_CLOSE
    clock.advance(minutes=-10)  # Monday 07:50 in Berlin
    result = world.reconcile("win")
    assert _values(world)[2] == "v1" and result.requeue_after == pytest.approx(600)
    clock.advance(minutes=10)
    world.reconcile("win")
    assert _values(world) == ("v2", "v2", "v2"), "at the close the commit that waited is applied on prod"
    project_windows(world.ctx, world.project, None)
    closed = [e for e in world.events(world.project) if e["reason"] == wn.REASON_WINDOW_CLOSED]
    assert len(closed) == 1
    actions_seen = [e.action for e in journal.list_entries(world.api, project=world.project)]
    assert {"window-create", "window-open", "window-close"} <= set(actions_seen)


def test_a_window_across_a_daylight_saving_change_closes_on_the_local_clock(world: World) -> None:
    """The last weekend of March 2026: Berlin moves from UTC+1 to UTC+2 on Sunday at 02:00."""
    clock = FakeClock(datetime(2026, 3, 27, 15, 30, tzinfo=UTC))  # Friday 16:30 CET
    repo = _start(world, "dst", clock)
    window = _weekend(world, clock)
    opened, closes = window.span(clock())
    assert opened == datetime(2026, 3, 27, 15, 0, tzinfo=UTC), "16:00 CET is 15:00 UTC"
    assert closes == datetime(2026, 3, 30, 6, 0, tzinfo=UTC), "Monday 08:00 CEST is 06:00 UTC: 63 real hours"
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    clock.now = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # Sunday, after the change
    result = world.reconcile("dst")
    assert _values(world) == ("v2", "v2", "v1")
    assert result.requeue_after == pytest.approx((closes - clock()).total_seconds())
    clock.now = datetime(2026, 3, 30, 5, 59, tzinfo=UTC)  # 07:59 CEST: still held
    world.reconcile("dst")
    assert _values(world)[2] == "v1"
    clock.now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 CEST
    world.reconcile("dst")
    assert _values(world)[2] == "v2"
    autumn = window.span(datetime(2026, 10, 23, 15, 0, tzinfo=UTC))
    assert autumn == (datetime(2026, 10, 23, 14, 0, tzinfo=UTC),
                      datetime(2026, 10, 26, 7, 0, tzinfo=UTC)), "in October the same window lasts 65 hours"


def test_break_glass_applies_once_through_a_window_and_the_window_stays(world: World) -> None:
    clock = FakeClock(FRIDAY)
    repo = _start(world, "glass", clock)
    _weekend(world, clock)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("glass")
    assert _values(world) == ("v2", "v2", "v1")
    freeze_actions.break_glass(world.api, world.project, "glass", "hotfix INC-4 must ship", actor="oncall",
                               now=clock())
    world.reconcile("glass")
    assert _values(world) == ("v2", "v2", "v2"), "break glass applies git's revision once on the window's cluster"
    state = read_source(world.api, world.project, "glass", now=clock()).state
    assert state.cluster("prod").intent == INTENT_FROZEN and state.cluster("prod").hold.kind == "window", \
        "the window stays"
    commit(repo, {"cm.yaml": configmap("cfg", "v3")})
    world.reconcile("glass")
    assert _values(world) == ("v3", "v3", "v2"), "the next commit waits for the close again"
    assert any(e["reason"] == "BreakGlassApplied" for e in world.events("glass"))


def test_a_freeze_beats_a_window_and_a_pin_holds_its_cluster_against_a_window(world: World) -> None:
    clock = FakeClock(FRIDAY)
    repo = _start(world, "prec", clock)
    first = world.source("prec").kustomization["status"]["clusters"][0]["lastAppliedRevision"]
    pin_actions.pin_source(world.api, world.project, "prec", first.rpartition(":")[2], "hold staging at v1",
                           ["staging"], actor="bob")
    freeze_actions.freeze_source(world.api, world.project, "prec",
                                 freeze_actions.FreezeRequest("INC-9", clusters=("prod",)), actor="carol", now=clock())
    _weekend(world, clock, ["staging", "prod"])
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("prec")
    state = read_source(world.api, world.project, "prec", now=clock()).state
    prod, staging = state.cluster("prod"), state.cluster("staging")
    assert prod.hold.kind == "freeze" and prod.window is not None, "a freeze beats a window: it is the hold named"
    assert staging.intent == INTENT_FROZEN and staging.hold.kind == "window" and staging.pin is not None
    assert _values(world) == ("v2", "v1", "v1")

    clock.now = MONDAY_CLOSE
    world.reconcile("prec")
    state = read_source(world.api, world.project, "prec", now=clock()).state
    assert state.cluster("prod").intent == INTENT_FROZEN and state.cluster("prod").hold.kind == "freeze", \
        "the window closed; the freeze still holds prod"
    assert state.cluster("staging").intent == INTENT_PINNED, "after the window, the pin holds staging"
    assert _values(world) == ("v2", "v1", "v1"), "neither the freeze nor the pin let git's commit through"

    clock.now = FRIDAY.replace(day=12)  # the next weekend: resume prod while the window is open
    freeze_actions.resume_source(world.api, world.project, "prec", actor="carol", now=clock())
    world.reconcile("prec")
    state = read_source(world.api, world.project, "prec", now=clock()).state
    assert state.cluster("prod").hold.kind == "window" and _values(world)[2] == "v1", \
        "resuming the freeze during a window leaves prod to the window"


def test_resuming_a_source_only_a_window_holds_says_how_to_lift_it(world: World) -> None:
    clock = FakeClock(FRIDAY)
    _start(world, "lift", clock)
    _weekend(world, clock)
    with pytest.raises(ActionError) as refused:
        freeze_actions.resume_source(world.api, world.project, "lift", actor="dave", now=clock())
    assert "held on prod by window weekend open on prod until Mon 08:00" in str(refused.value)
    assert "gitops-tui window delete weekend" in str(refused.value)


def test_window_refusals_are_one_sentence_and_delete_is_journaled(world: World) -> None:
    bad = [
        ({"schedule": "every friday"}, "is not a cron schedule of five fields"),
        ({"timezone_name": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not known"),
        ({"duration": "forever"}, "is not a positive duration"),
        ({"duration": "300h"}, "longer than 8 days"),
        ({"clusters": ["moon"]}, "is not placed on moon"),
        ({"reason": " "}, "a reason is required"),
    ]
    for change, words in bad:
        args = {"schedule": "0 16 * * 5", "duration": "64h", "reason": "r", "clusters": ["prod"],
                "timezone_name": "UTC", **change}
        with pytest.raises(ActionError) as refused:
            actions.create_window(world.api, world.project, "weekend", **args)
        assert words in str(refused.value) and "\n" not in str(refused.value)
    actions.create_window(world.api, world.project, "nightly", schedule="0 22 * * *", duration="8h", reason="batch",
                          actor="ops")
    with pytest.raises(ActionError, match="has a window named nightly already"):
        actions.create_window(world.api, world.project, "nightly", schedule="0 22 * * *", duration="8h", reason="x")
    with pytest.raises(ActionError, match="a reason is required"):
        actions.delete_window(world.api, world.project, "nightly", "")
    actions.delete_window(world.api, world.project, "nightly", "batch moved", actor="ops")
    assert wn.windows_of(world.ctx.get("Project", None, world.project)) == ()
    entries = [e for e in journal.list_entries(world.api, project=world.project) if e.action.startswith("window")]
    assert [(e.action, e.actor) for e in entries] == [("window-create", "ops"), ("window-delete", "ops")]
    assert entries[1].reason == "batch moved" and entries[0].identity.get("verified") is True
