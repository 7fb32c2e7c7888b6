"""Staged rollouts in the reconciler: waves, soak on an injected clock, approvals, halts, the revision moving on."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.actions import rollout as actions
from gitops_tui.actions.sources import request_reconcile
from gitops_tui.api.rollout import progress_of
from gitops_tui.journal import list_entries
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap


def _values(world: World, name: str = "cfg") -> tuple[Any, ...]:
    found = []
    for cluster in CLUSTERS:
        obj = world.get(cluster, "configmaps", name)
        found.append(None if obj is None else obj["data"]["value"])
    return tuple(found)


def _rollout(world: World, name: str) -> dict[str, Any]:
    from gitops_tui.actions.state import read_source

    state = read_source(world.api, world.project, name, world.ctx.now()).state
    assert state.rollout is not None
    return state.rollout.to_dict()


def _start(world: World, name: str, clock: FakeClock, **request: str) -> Any:
    world.ctx.now = clock
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval="1h")
    world.reconcile(name)
    assert _values(world) == ("v1", "v1", "v1")
    actions.set_rollout(world.api, world.project, name,
                        actions.RolloutRequest(request.pop("waves", "dev/staging/prod"), "staged release", **request),
                        actor="alice", now=clock())
    world.reconcile(name)
    return repo


def test_three_waves_with_soak_and_approval(world: World) -> None:
    clock = FakeClock()
    repo = _start(world, "web", clock, soak="10m", approve="prod")
    assert progress_of(world.source("web").kustomization).done, "set up on a source already at git's revision: done"
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})

    result = world.reconcile("web")
    assert _values(world) == ("v2", "v1", "v1"), "a new revision goes to the first wave only"
    assert result.requeue_after == pytest.approx(600, abs=1), "the reconciler comes back at the soak's end"
    rollout = _rollout(world, "web")
    assert (rollout["currentWave"], rollout["state"]) == ("dev", "soaking 10m left")

    clock.advance(minutes=6)
    assert world.reconcile("web").requeue_after == pytest.approx(240, abs=1)
    assert _values(world) == ("v2", "v1", "v1")
    assert _rollout(world, "web")["state"] == "soaking 4m left"

    clock.advance(minutes=4, seconds=1)
    world.reconcile("web")
    assert _values(world) == ("v2", "v2", "v1"), "dev soaked: staging starts"
    clock.advance(minutes=10, seconds=1)
    world.reconcile("web")
    assert _values(world) == ("v2", "v2", "v1"), "prod waits for its approval"
    rollout = _rollout(world, "web")
    assert rollout["state"] == "awaiting approval" and rollout["waves"][2]["state"] == "awaiting approval"

    actions.approve_wave(world.api, world.project, "web", "prod", "CAB-12 approved", actor="bob", now=clock())
    world.reconcile("web")
    assert _values(world) == ("v2", "v2", "v2")
    clock.advance(minutes=10, seconds=1)
    world.reconcile("web")
    assert _rollout(world, "web")["state"] == "done"
    entries = [e for e in list_entries(world.api, project=world.project) if e.source == "web"]
    approve = next(e for e in entries if e.action == "approve")
    assert (approve.actor, approve.reason, list(approve.clusters)) == ("bob", "CAB-12 approved", ["prod"])
    assert approve.identity.get("verified") and approve.identity.get("user"), "who the API server saw"
    reasons = [e["reason"] for e in world.events("web")]
    for reason in ("RolloutStarted", "RolloutSoaking", "RolloutWaveStarted", "RolloutAwaitingApproval",
                   "RolloutApproved", "RolloutDone"):
        assert reason in reasons


def test_a_request_written_after_git_answered_is_left_for_the_next_reconcile(world: World,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The race docs/reconciler.md named: a commit and its reconcile request landing while a reconcile of a source
    with a rollout runs, after that reconcile asked git. The rollout re-reads the source (it shows the new request),
    yet only the request seen before git was asked is marked handled, so the next reconcile asks git again and
    takes the commit, instead of waiting an interval on a stale answer."""
    clock = FakeClock()
    repo = _start(world, "web", clock)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    first = request_reconcile(world.api, world.project, "web")
    fetch, later = world.ctx.git.fetch, []

    def fetch_then_a_commit_and_its_request(*args: Any, **kwargs: Any) -> Any:
        answer = fetch(*args, **kwargs)
        if not later:
            commit(repo, {"cm.yaml": configmap("cfg", "v3")})
            later.append(request_reconcile(world.api, world.project, "web"))
        return answer

    monkeypatch.setattr(world.ctx.git, "fetch", fetch_then_a_commit_and_its_request)
    world.reconcile("web")
    assert later and later[0] != first
    assert world.status("web")["lastHandledReconcileAt"] == first, "the request that came after git is not handled"
    assert _values(world)[0] == "v2"
    world.reconcile("web")
    assert world.status("web")["lastHandledReconcileAt"] == later[0]
    assert _values(world)[0] == "v3", "the next reconcile asked git again and took the commit"
