"""A rollout halts where its wave fails (a refused revision, a Deployment that never becomes available, health lost
during the soak); the later waves keep their revision, held; a fixed revision starts again from the first wave."""

from __future__ import annotations

from typing import Any

from gitops_tui.actions import rollout as actions
from gitops_tui.actions.state import read_source
from gitops_tui.api.effective import INTENT_FROZEN, SCOPE_ROLLOUT
from gitops_tui.journal import list_entries
from gitops_tui.reconciler.health import health
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, configmap, deployment

LONG_LABEL = "x" * 64


def _state(world: World, name: str) -> Any:
    return read_source(world.api, world.project, name, world.ctx.now()).state


def _image(world: World, cluster: str, name: str = "web") -> str | None:
    obj = world.get(cluster, "deployments", name)
    return None if obj is None else obj["spec"]["template"]["spec"]["containers"][0]["image"]


def _available(world: World, cluster: str, name: str = "web") -> bool:
    obj = world.get(cluster, "deployments", name) or {}
    return int((obj.get("status") or {}).get("availableReplicas") or 0) >= 1


def _set_rollout(world: World, name: str, clock: FakeClock, soak: str = "10m") -> None:
    actions.set_rollout(world.api, world.project, name, actions.RolloutRequest("dev/staging/prod", "staged", soak=soak),
                        actor="alice", now=clock())


def _halts(world: World, name: str) -> tuple[list[Any], list[str]]:
    journal = [e for e in list_entries(world.api, project=world.project)
               if e.source == name and e.action == "rollout-halt"]
    events = [e for e in world.events(name) if e["reason"] == "RolloutHalted"]
    return journal, [f"{e['message']} x{e.get('count') or 1}" for e in events]


def test_a_refused_revision_halts_at_its_wave_and_a_fix_starts_again(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("refused", {"cm.yaml": configmap("cfg", "v1")})
    world.create("refused", f"file://{repo}", interval="1h")
    world.reconcile("refused")
    _set_rollout(world, "refused", clock, soak="0s")
    commit(repo, {"cm.yaml": configmap("cfg", "v2"), "bad.yaml": configmap("bad").replace(
        "metadata:\n", f"metadata:\n  labels:\n    tier: {LONG_LABEL}\n")})
    for _ in range(3):
        world.reconcile("refused")
    values = [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]
    assert values == ["v1", "v1", "v1"], "the refused revision applied nothing, the later waves kept theirs"
    state = _state(world, "refused")
    assert state.rollout is not None and state.rollout.state == "halted"
    for cluster in ("staging", "prod"):
        held = state.cluster(cluster)
        assert held is not None and held.intent == INTENT_FROZEN and held.hold is not None
        assert held.hold.scope == SCOPE_ROLLOUT and held.hold.reason.startswith("rollout halted at dev: DryRunFailed")
        assert held.outcome == "held", "a held wave is never shown failing"
    assert state.cluster("dev").outcome == "failed"
    journal, events = _halts(world, "refused")
    assert len(journal) == 1 and journal[0].actor == "reconciler" and journal[0].clusters == ["staging", "prod"]
    assert len(events) == 1 and events[0].endswith("x1"), "one Event, raised once"
    assert "must be no more than 63 characters" in events[0]

    commit(repo, {"bad.yaml": None, "cm.yaml": configmap("cfg", "v3")})
    world.reconcile("refused")
    state = _state(world, "refused")
    assert state.rollout.state != "halted", "a fixed revision resumes the rollout"
    values = [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]
    assert values == ["v3", "v1", "v1"], "from the first wave (no soak: staging is released, applied next)"
    for _ in range(4):
        world.reconcile("refused")
    values = [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]
    assert values == ["v3", "v3", "v3"] and _state(world, "refused").rollout.state == "done"


def test_a_deployment_that_never_becomes_available_halts_the_rollout(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("never", {"web.yaml": deployment("web", image="nginx:1.25")})
    world.create("never", f"file://{repo}", interval="10m")
    world.reconcile("never")
    _set_rollout(world, "never", clock)
    commit(repo, {"web.yaml": deployment("web", image="nginx:fail")})
    result = world.reconcile("never")
    assert [_image(world, c) for c in CLUSTERS] == ["nginx:fail", "nginx:1.25", "nginx:1.25"]
    assert result.requeue_after is not None and result.requeue_after <= 600, "back at the health deadline at the latest"
    assert _state(world, "never").rollout.state == "progressing", "applied, not healthy yet: no soak"

    clock.advance(minutes=10, seconds=1)  # the source's timeout (its interval) after the apply
    world.reconcile("never")
    world.reconcile("never")
    state = _state(world, "never")
    assert state.rollout.state == "halted"
    reason = state.cluster("prod").hold.reason
    assert reason.startswith("rollout halted at dev: not healthy 10m after the apply: Deployment"), reason
    assert "on dev" in reason
    assert [_image(world, c) for c in CLUSTERS] == ["nginx:fail", "nginx:1.25", "nginx:1.25"]
    journal, events = _halts(world, "never")
    assert len(journal) == 1 and len(events) == 1


def test_health_lost_during_the_soak_halts_the_rollout(world: World, sandbox: Any) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("lost", {"web.yaml": deployment("web", image="nginx:1.25")})
    world.create("lost", f"file://{repo}", interval="1h")
    world.reconcile("lost")
    _set_rollout(world, "lost", clock)
    commit(repo, {"web.yaml": deployment("web", image="nginx:1.27")})
    world.reconcile("lost")
    wait_until(lambda: health(world.get("dev", "deployments", "web")).current, timeout=60,
               message="web rolled out with the new image on dev (kstatus Current)")
    world.reconcile("lost")
    assert _state(world, "lost").rollout.state.startswith("soaking"), "applied and healthy: the soak runs"
    nodes = sandbox.kubectl("dev", "get", "nodes", "-o", "name").stdout.split()
    try:
        for node in nodes:
            sandbox.kubectl("dev", "cordon", node)
        sandbox.kubectl("dev", "-n", world.namespace, "delete", "pods", "-l", "app=web", "--wait=false")
        wait_until(lambda: not _available(world, "dev"), timeout=60, message="web unavailable on dev")
        clock.advance(minutes=3)
        world.reconcile("lost")
    finally:
        for node in nodes:
            sandbox.kubectl("dev", "uncordon", node)
    state = _state(world, "lost")
    assert state.rollout.state == "halted"
    assert state.cluster("staging").hold.reason.startswith("rollout halted at dev: health lost during the soak: "
                                                           "Deployment"), state.cluster("staging").hold.reason
    assert _image(world, "staging") == "nginx:1.25"
