"""The precedence rule (api/precedence.py) of freeze windows against rollout waves, pins, freezes and break glass, case
by case from the management objects alone: a freeze beats a window, a window beats a wave, a pin holds against a wave,
break glass lifts one apply. The table is in docs/reconciler.md ("The effective state")."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops_tui.api import builders, holds
from gitops_tui.api.effective import (
    INTENT_BREAK_GLASS,
    INTENT_FOLLOW,
    INTENT_FROZEN,
    INTENT_PINNED,
    ClusterState,
)
from gitops_tui.api.effective_state import source_state
from gitops_tui.api.rollout import RolloutSpec, Wave

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # a Thursday
GIT = "main@sha1:" + "a" * 40
OLD = "main@sha1:" + "b" * 40
CLUSTERS = [builders.new_kubefed_cluster(n, f"https://{n}", f"{n}-kubeconfig") for n in ("dev", "staging", "prod")]
SPEC = RolloutSpec((Wave(("dev",)), Wave(("staging",)), Wave(("prod",))), "", "alice", "staged", "2026-01-15T10:00:00Z")
#: Open Thursdays 11:00 to 13:00 UTC on staging and prod.
WINDOW = {"schedule": "0 11 * * 4", "duration": "2h", "clusters": ["staging", "prod"], "by": "carol",
          "reason": "release review", "at": "2026-01-01T00:00:00Z"}


def _objects() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """web rolls GIT out dev → staging → prod; dev applied it, staging is released (applying), prod awaits its wave."""
    project = builders.new_project("demo", ["dev", "staging", "prod"])
    project["spec"]["windows"] = {"review": copy.deepcopy(WINDOW)}
    project["spec"]["sourceHolds"] = {"web": {"rollout": SPEC.to_spec()}}
    repo, ks = builders.new_source("web", "demo", "https://example.com/web.git")
    repo["status"] = {"artifact": {"revision": GIT}}
    ks["spec"]["template"]["spec"]["rollout"] = SPEC.to_spec()
    applied = {"dev": GIT, "staging": OLD, "prod": OLD}
    ks["status"] = {"clusters": [{"name": c, "lastAppliedRevision": r, "lastAttemptedRevision": r, "status": ""}
                                 for c, r in applied.items()],
                    "rollout": {"revision": GIT, "waves": SPEC.names, "released": 2,
                                "startedAt": "2026-01-15T11:00:00Z"}}
    return project, repo, ks


def _clusters(project: dict[str, Any], repo: dict[str, Any], ks: dict[str, Any],
              now: datetime = NOW) -> dict[str, ClusterState]:
    return {c.name: c for c in source_state(repo, ks, project, CLUSTERS, now).clusters}


def _kinds(cluster: ClusterState) -> list[str]:
    return [h.kind for h in cluster.holds]


def test_a_window_beats_a_wave_and_holds_a_released_wave_too() -> None:
    project, repo, ks = _objects()
    found = _clusters(project, repo, ks)
    assert found["dev"].intent == INTENT_FOLLOW and found["dev"].target == GIT, "no window on dev, its wave done"
    staging, prod = found["staging"], found["prod"]
    assert staging.intent == INTENT_FROZEN and staging.hold is not None and staging.hold.kind == "window"
    assert staging.wave.state == "progressing" and _kinds(staging) == ["window"], "released: the wave holds nothing"
    assert prod.intent == INTENT_FROZEN and prod.hold is not None and prod.hold.kind == "window", "the window named"
    assert _kinds(prod) == ["window", "rollout"] and prod.wave.state == "awaiting wave"
    assert prod.reason == "Frozen", "held by the window, not by the rollout"


def test_at_the_close_the_wave_decides_again() -> None:
    project, repo, ks = _objects()
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    assert state.wake_in == 3600.0, "the reconciler is asked back at the window's close"
    found = _clusters(project, repo, ks, NOW + timedelta(hours=1))
    assert found["staging"].intent == INTENT_FOLLOW and found["staging"].target == GIT
    assert found["prod"].intent == INTENT_FROZEN and found["prod"].hold.kind == "rollout"
    assert found["prod"].reason == "RolloutHeld"


def test_a_pin_holds_against_a_wave_but_not_against_a_window() -> None:
    project, repo, ks = _objects()
    pin = {"revision": OLD, "by": "bob", "reason": "hold prod", "at": "2026-01-15T10:30:00Z", "clusters": ["prod"]}
    project["spec"]["sourceHolds"]["web"]["pin"] = pin
    ks["spec"]["template"]["spec"]["pin"] = pin
    prod = _clusters(project, repo, ks)["prod"]
    assert prod.intent == INTENT_FROZEN and prod.hold.kind == "window" and _kinds(prod) == ["window", "rollout", "pin"]
    later = _clusters(project, repo, ks, NOW + timedelta(hours=1))["prod"]
    assert later.intent == INTENT_PINNED and later.target == OLD, "the window closed: the pin, not the wave, holds it"
    assert _kinds(later) == ["rollout", "pin"]


def test_a_freeze_beats_the_window_and_break_glass_lifts_one_apply_through_both() -> None:
    project, repo, ks = _objects()
    project["spec"]["freeze"] = {"by": "ops", "reason": "incident 9", "at": "2026-01-15T11:30:00Z",
                                 "clusters": ["prod"]}
    prod = _clusters(project, repo, ks)["prod"]
    assert prod.intent == INTENT_FROZEN and _kinds(prod) == ["freeze", "window", "rollout"]
    glass = holds.BreakGlassRequest("2026-01-15T11:55:00.000000Z", "ops", "hotfix", GIT, ("prod",))
    project["spec"]["sourceHolds"]["web"]["breakGlass"] = glass.to_record()
    prod = _clusters(project, repo, ks)["prod"]
    assert prod.intent == INTENT_BREAK_GLASS and prod.target == GIT
    assert _kinds(prod) == ["break-glass", "freeze", "window", "rollout"], "the holds stay: one apply, then held"
