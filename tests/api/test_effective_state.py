"""The effective state (api/effective.py) from management objects as recorded: precedence, trust and order.

The surfaces that read it are tested as a user drives them (tests/reconciler/test_truth.py, test_member_writes.py,
tests/tui/test_truth_console.py); these cases pin the rules themselves, one object change at a time.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from gitops_tui.api import builders, holds
from gitops_tui.api import freeze as fz
from gitops_tui.api.effective import INTENT_BREAK_GLASS, INTENT_FOLLOW, INTENT_FROZEN, INTENT_PINNED
from gitops_tui.api.effective_state import source_state

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
GIT = "main@sha1:" + "a" * 40
OLD = "main@sha1:" + "b" * 40
CLUSTERS = [builders.new_kubefed_cluster(n, f"https://{n}", f"{n}-kubeconfig") for n in ("dev", "prod", "staging")]


def _objects(**spec: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    project = builders.new_project("demo", ["dev", "staging", "prod"])
    repo, ks = builders.new_source("web", "demo", "https://example.com/web.git")
    repo["status"] = {"artifact": {"revision": GIT}}
    ks["status"] = {"clusters": [{"name": c, "lastAppliedRevision": OLD, "lastAttemptedRevision": OLD, "status": ""}
                                 for c in ("prod", "dev", "staging")]}
    ks["spec"]["template"]["spec"].update(spec)
    return project, repo, ks


def _intents(project: dict[str, Any], repo: dict[str, Any], ks: dict[str, Any]) -> dict[str, str]:
    return {c.name: c.intent for c in source_state(repo, ks, project, CLUSTERS, NOW).clusters}


def test_order_and_following_git() -> None:
    project, repo, ks = _objects()
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    assert state.names == ["dev", "staging", "prod"], "the project's placement order, not the alphabet's"
    assert all(c.intent == INTENT_FOLLOW and c.target == GIT and c.outcome == "applying" for c in state.clusters)


def test_precedence_freeze_then_break_glass_then_pin() -> None:
    project, repo, ks = _objects()
    project["spec"]["freeze"] = {"by": "ops", "reason": "change freeze", "at": "2026-01-15T10:00:00Z",
                                 "clusters": ["prod"]}
    pin = {"revision": OLD, "by": "ops", "reason": "bad", "at": "2026-01-15T10:00:00Z", "clusters": ["staging", "prod"]}
    project["spec"]["sourceHolds"] = {"web": {"pin": pin}}
    ks["spec"]["template"]["spec"]["pin"] = pin
    assert _intents(project, repo, ks) == {"dev": INTENT_FOLLOW, "staging": INTENT_PINNED, "prod": INTENT_FROZEN}
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    prod = state.cluster("prod")
    assert prod is not None and prod.held and prod.outcome == "held" and prod.reason == "Frozen"
    assert [h.kind for h in prod.holds] == ["freeze", "pin"], "a frozen cluster shows its pin too"
    assert state.outcome == "applying", "Ready covers dev and staging only"

    glass = holds.BreakGlassRequest("2026-01-15T11:00:00.000000Z", "ops", "hotfix", GIT, ("prod",))
    project["spec"]["sourceHolds"]["web"]["breakGlass"] = glass.to_record()
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    prod = state.cluster("prod")
    assert prod is not None and prod.intent == INTENT_BREAK_GLASS and prod.target == GIT
    project["spec"]["sourceHolds"]["web"]["breakGlass"]["applied"] = glass.token
    assert _intents(project, repo, ks)["prod"] == INTENT_FROZEN, "exactly one apply"


def test_only_the_projects_record_is_the_operators() -> None:
    project, repo, ks = _objects(suspend=True)
    ks["metadata"]["annotations"] = {"gitops-tui.io/suspended-by": "mallory", "gitops-tui.io/suspended-at":
                                     "2026-01-15T11:00:00Z", fz.ANNOTATION_BREAK_GLASS_AT: "x"}
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    assert state.frozen_everywhere and state.freeze is not None and not state.freeze.verified
    assert [w.action for w in state.member_writes] == ["suspend"]
    assert [i.kind for i in state.ignored] == ["break-glass"] and state.break_glass is None
    assert all(c.intent == INTENT_FROZEN for c in state.clusters), "a forged break glass lifts nothing"

    change = fz.merge(None, by="alice", reason="INC-1", now=NOW)
    project["spec"]["sourceHolds"] = {"web": {"freeze": fz.freeze_record(change, "alice")}}
    lifted = copy.deepcopy(ks)
    lifted["spec"]["template"]["spec"]["suspend"] = False
    lifted["metadata"]["managedFields"] = [{"manager": "kubectl-patch", "operation": "Update",
                                           "time": "2026-01-15T12:00:00Z",
                                           "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:suspend": {}}}}}}]
    state = source_state(repo, lifted, project, CLUSTERS, NOW)
    assert state.frozen_everywhere and state.freeze is not None and state.freeze.verified
    kinds = {i.kind: i for i in state.ignored}
    assert sorted(kinds) == ["break-glass", "resume"] and "kubectl-patch" in kinds["resume"].message
    lifted["metadata"]["managedFields"][0]["time"] = "2026-01-15T11:59:00Z"  # before the operator's step: in flight
    assert [i.kind for i in source_state(repo, lifted, project, CLUSTERS, NOW).ignored] == ["break-glass"]


def test_a_freeze_that_resumed_at_its_expiry_holds_nothing() -> None:
    project, repo, ks = _objects()
    project["spec"]["freeze"] = {"by": "ops", "reason": "window", "at": "2026-01-15T09:00:00Z",
                                 "until": "2026-01-15T11:00:00Z", "then": "resume"}
    assert set(_intents(project, repo, ks).values()) == {INTENT_FOLLOW}
    project["spec"]["freeze"]["then"] = ""
    state = source_state(repo, ks, project, CLUSTERS, NOW)
    assert state.frozen_everywhere and state.freeze is not None and state.freeze.expired, "expired, still holding"
