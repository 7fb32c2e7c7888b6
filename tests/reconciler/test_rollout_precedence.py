"""The precedence table, case by case, against the sandbox: a freeze beats a rollout wave, a pin holds its cluster
against every wave, break glass lifts exactly one apply of a held wave (docs/reconciler.md, "Precedence")."""

from __future__ import annotations

from typing import Any

from gitops_tui.actions import freeze as freeze_actions
from gitops_tui.actions import pin as pin_actions
from gitops_tui.actions import rollout as actions
from gitops_tui.actions.state import read_source
from gitops_tui.api.effective import HOLD_FREEZE, HOLD_ROLLOUT, INTENT_BREAK_GLASS, INTENT_FROZEN, INTENT_PINNED
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap


def _values(world: World) -> list[Any]:
    return [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]


def _state(world: World, name: str) -> Any:
    return read_source(world.api, world.project, name, world.ctx.now()).state


def _start(world: World, name: str, clock: FakeClock, approve: str = "") -> Any:
    world.ctx.now = clock
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval="1h")
    world.reconcile(name)
    actions.set_rollout(world.api, world.project, name,
                        actions.RolloutRequest("dev/staging/prod", "staged", soak="5m", approve=approve),
                        actor="alice", now=clock())
    world.reconcile(name)
    return repo


def _settle(world: World, name: str, clock: FakeClock, rounds: int = 3) -> None:
    """Reconcile, let every soak pass, reconcile again (a few rounds)."""
    for _ in range(rounds):
        world.reconcile(name)
        clock.advance(minutes=5, seconds=1)
        world.reconcile(name)


def test_a_freeze_beats_a_wave_and_the_rollout_waits_for_it(world: World) -> None:
    clock = FakeClock()
    repo = _start(world, "fz", clock)
    freeze_actions.freeze_source(world.api, world.project, "fz",
                                 freeze_actions.FreezeRequest("INC-7", clusters=("staging",)), actor="carol",
                                 now=clock())
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    _settle(world, "fz", clock)
    assert _values(world) == ["v2", "v1", "v1"], "staging's wave is released, its freeze holds it: prod waits"
    state = _state(world, "fz")
    staging, prod = state.cluster("staging"), state.cluster("prod")
    assert staging.intent == INTENT_FROZEN and staging.hold.kind == HOLD_FREEZE and staging.hold.by == "carol"
    assert prod.intent == INTENT_FROZEN and prod.hold.kind == HOLD_ROLLOUT
    assert state.rollout.current == 1 and state.rollout.state == "progressing"

    freeze_actions.freeze_source(world.api, world.project, "fz",
                                 freeze_actions.FreezeRequest("INC-7", clusters=("prod",)), actor="carol", now=clock())
    prod = _state(world, "fz").cluster("prod")
    assert prod.hold.kind == HOLD_FREEZE, "on a cluster both hold, the freeze is named first"
    assert [h.kind for h in prod.holds] == [HOLD_FREEZE, HOLD_ROLLOUT]

    freeze_actions.resume_source(world.api, world.project, "fz", actor="carol", now=clock())
    _settle(world, "fz", clock)
    assert _values(world) == ["v2", "v2", "v2"] and _state(world, "fz").rollout.state == "done"


def test_a_pin_holds_its_cluster_against_every_wave(world: World) -> None:
    clock = FakeClock()
    repo = _start(world, "pn", clock)
    first = world.source("pn").artifact_revision
    pin_actions.pin_source(world.api, world.project, "pn", first, "customer bug on prod", ["prod"], actor="dan")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("pn")
    prod = _state(world, "pn").cluster("prod")
    assert prod.intent == INTENT_PINNED and prod.target == first, "the pin holds before its wave comes"
    assert [h.kind for h in prod.holds] == [HOLD_ROLLOUT, "pin"]
    _settle(world, "pn", clock)
    assert _values(world) == ["v2", "v2", "v1"]
    state = _state(world, "pn")
    assert state.cluster("prod").intent == INTENT_PINNED and state.rollout.state == "done", \
        "the pinned cluster's wave does not wait for it"


def test_break_glass_lifts_exactly_one_apply_of_a_held_wave(world: World) -> None:
    clock = FakeClock()
    repo = _start(world, "bg", clock, approve="prod")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    _settle(world, "bg", clock)
    assert _values(world) == ["v2", "v2", "v1"]
    state = _state(world, "bg")
    assert state.rollout.state == "awaiting approval" and state.cluster("prod").hold.kind == HOLD_ROLLOUT
    freeze_actions.break_glass(world.api, world.project, "bg", "hotfix must ship", actor="erin", now=clock(),
                               clusters=["prod"])
    assert _state(world, "bg").cluster("prod").intent == INTENT_BREAK_GLASS
    world.reconcile("bg")
    assert _values(world) == ["v2", "v2", "v2"], "one apply of git's revision on prod"
    state = _state(world, "bg")
    assert state.cluster("prod").intent == INTENT_FROZEN and state.cluster("prod").hold.kind == HOLD_ROLLOUT, \
        "held by its wave again"
    assert state.rollout.state == "awaiting approval", "break glass approves nothing"

    commit(repo, {"cm.yaml": configmap("cfg", "v3")})
    world.reconcile("bg")
    assert _values(world) == ["v3", "v2", "v2"], "the next revision waits for its waves on prod again"
