"""Freezes in the reconciler: expiry (alarm or resume, injected clock), one cluster, a project freeze, break glass."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from gitops_tui.actions import ActionError
from gitops_tui.actions import freeze as actions
from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from gitops_tui.reconciler import freeze as rfreeze
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap


def _value(world: World, cluster: str, name: str = "cfg") -> str | None:
    obj = world.get(cluster, "configmaps", name)
    return None if obj is None else obj["data"]["value"]


def _reasons(world: World, name: str) -> list[tuple[str, str, int]]:
    return [(e["type"], e["reason"], int(e.get("count") or 1)) for e in world.events(name)]


def _start(world: World, name: str, interval: str = "1h") -> tuple:
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval=interval)
    world.reconcile(name)
    assert all(_value(world, c) == "v1" for c in CLUSTERS)
    return repo


def test_an_expired_freeze_stays_suspended_and_alarms_once(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = _start(world, "alarm")
    actions.freeze_source(world.api, world.project, "alarm", actions.FreezeRequest("incident 7", for_="30m"),
                          actor="alice", now=clock())
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    clock.advance(minutes=10)
    result = world.reconcile("alarm")
    assert result.requeue_after == pytest.approx(20 * 60), "the reconciler comes back at the expiry"
    assert all(_value(world, c) == "v1" for c in CLUSTERS)

    clock.advance(minutes=25)  # 5 minutes past the expiry
    world.reconcile("alarm")
    world.reconcile("alarm")
    source = world.source("alarm")
    assert source.suspend, "no --then resume: it stays suspended"
    assert all(_value(world, c) == "v1" for c in CLUSTERS)
    expired = [r for r in _reasons(world, "alarm") if r[1] == fz.REASON_FREEZE_EXPIRED]
    assert expired == [("Warning", fz.REASON_FREEZE_EXPIRED, 1)], "one Warning Event, raised once"
    message = next(e["message"] for e in world.events("alarm") if e["reason"] == fz.REASON_FREEZE_EXPIRED)
    assert "alice" in message and "incident 7" in message and "still suspended" in message


def test_an_expired_freeze_with_then_resume_resumes_and_follows_git(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = _start(world, "thaw")
    actions.freeze_source(world.api, world.project, "thaw",
                          actions.FreezeRequest("deploy window", for_="2h", then="resume"), actor="bob", now=clock())
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    clock.advance(hours=1)
    world.reconcile("thaw")
    assert all(_value(world, c) == "v1" for c in CLUSTERS)
    clock.advance(hours=1, seconds=1)
    world.reconcile("thaw")
    source = world.source("thaw")
    assert not source.suspend and fz.source_freeze(source.kustomization) is None
    assert all(_value(world, c) == "v2" for c in CLUSTERS), "resumed at expiry, the new commit is applied"
    assert ("Normal", fz.REASON_FREEZE_EXPIRED, 1) in _reasons(world, "thaw")
    notes = source.kustomization["metadata"].get("annotations") or {}
    assert not any(key in notes for key in fz.FREEZE_ANNOTATIONS)


def test_extending_a_freeze_keeps_its_history(world: World) -> None:
    clock = FakeClock()
    _start(world, "ext")
    actions.freeze_source(world.api, world.project, "ext", actions.FreezeRequest("incident 9", for_="1h"),
                          actor="alice", now=clock())
    first = fz.source_freeze(world.source("ext").kustomization)
    clock.advance(minutes=50)
    actions.freeze_source(world.api, world.project, "ext", actions.FreezeRequest("still debugging", for_="2h"),
                          actor="bob", now=clock())
    frozen = fz.source_freeze(world.source("ext").kustomization)
    assert frozen is not None and first is not None
    assert frozen.at == first.at, "an extension keeps the freeze's start"
    assert frozen.until == fz.stamp(clock.now + timedelta(hours=2)), "the new expiry counts from the extension"
    assert [(s["action"], s["by"], s["reason"]) for s in frozen.history] == [
        ("suspend", "alice", "incident 9"), ("extend", "bob", "still debugging")]
    assert (frozen.by, frozen.reason) == ("bob", "still debugging")
    assert ("Normal", fz.REASON_FREEZE_EXTENDED, 1) in _reasons(world, "ext")


def test_a_prod_only_freeze_while_dev_follows_a_new_commit(world: World) -> None:
    repo = _start(world, "one")
    actions.freeze_source(world.api, world.project, "one",
                          actions.FreezeRequest("prod incident", clusters=("prod",)), actor="carol")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("one")
    assert (_value(world, "dev"), _value(world, "staging"), _value(world, "prod")) == ("v2", "v2", "v1")
    source = world.source("one")
    assert not source.suspend and source.kustomization["spec"]["template"]["spec"]["suspendClusters"] == ["prod"]
    world.kubectl_edit("prod", "configmap/cfg", "s/value: v1/value: hand/")
    world.reconcile("one")
    assert _value(world, "prod") == "hand", "a held cluster's hand edit is not corrected"

    actions.resume_source(world.api, world.project, "one", ["prod"], actor="carol")
    world.reconcile("one")
    assert all(_value(world, c) == "v2" for c in CLUSTERS)
    assert fz.source_freeze(world.source("one").kustomization) is None


def test_resume_one_cluster_of_a_freeze_of_every_cluster(world: World) -> None:
    repo = _start(world, "some")
    actions.freeze_source(world.api, world.project, "some", actions.FreezeRequest("all"), actor="dan")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    actions.resume_source(world.api, world.project, "some", ["dev"], actor="dan")
    world.reconcile("some")
    assert (_value(world, "dev"), _value(world, "staging"), _value(world, "prod")) == ("v2", "v1", "v1")
    frozen = fz.source_freeze(world.source("some").kustomization)
    assert frozen is not None and frozen.clusters == ("staging", "prod"), "in the project's placement order"
    assert frozen.history[-1]["action"] == "resume" and frozen.history[-1]["clusters"] == ["dev"]


def test_a_project_frozen_before_a_source_is_created_holds_that_source(world: World) -> None:
    actions.freeze_project(world.api, world.project, actions.FreezeRequest("change freeze"), actor="erin")
    repo = world.repo("late", {"cm.yaml": configmap("cfg", "v1")})
    world.create("late", f"file://{repo}")
    writes = world.writes.count()
    world.reconcile("late")
    assert world.writes.count() == writes, "nothing reaches any cluster while the project is frozen"
    assert all(_value(world, c) is None for c in CLUSTERS)
    project = json.loads(json.dumps(world.ctx.get(names.KIND_PROJECT, None, world.project)))
    assert fz.project_freeze(project) is not None and fz.project_freeze(project).by == "erin"

    done = actions.resume_project(world.api, world.project, actor="erin")
    assert done == [], "the source itself was never suspended: lifting the project freeze is enough"
    world.reconcile("late")
    assert all(_value(world, c) == "v1" for c in CLUSTERS)


def test_a_project_frozen_on_prod_only_lets_dev_follow(world: World) -> None:
    actions.freeze_project(world.api, world.project, actions.FreezeRequest("prod freeze", clusters=("prod",)),
                           actor="erin")
    repo = world.repo("half", {"cm.yaml": configmap("cfg", "v1")})
    world.create("half", f"file://{repo}")
    world.reconcile("half")
    assert (_value(world, "dev"), _value(world, "staging"), _value(world, "prod")) == ("v1", "v1", None)
    actions.resume_project(world.api, world.project, ["prod"], actor="erin")
    world.reconcile("half")
    assert _value(world, "prod") == "v1"


def test_a_project_freeze_taken_mid_apply_stops_the_next_write(world: World) -> None:
    files = {f"cm/{i:02d}.yaml": configmap(f"cm-{i:02d}") for i in range(30)}
    repo = world.repo("mid", files)
    world.create("mid", f"file://{repo}", clusters=["dev"])
    stored: list[float] = []
    writes: list[float] = []

    def freeze_after_first(record: object) -> None:
        writes.append(record.started)  # type: ignore[attr-defined]
        if not stored:
            stored.append(0.0)
            actions.freeze_project(world.api, world.project, actions.FreezeRequest("stop now"), actor="frank")
            stored[0] = time.monotonic()  # the freeze is on the management cluster from here

    from gitops_tui.reconciler import propagate

    remove = propagate.add_write_hook(freeze_after_first)
    try:
        world.reconcile("mid")
    finally:
        remove()
    # Writes run 4 at a time (apply_waves.py) and every write's check reads the Project no earlier than the check
    # began (stop_check.py): once the freeze is stored, only writes whose check was already under way may start,
    # at most one per other writer; none after. Counted by time, not by how fast the box is.
    from gitops_tui.reconciler.apply_waves import MAX_PARALLEL_APPLIES

    late = [started for started in writes if started > stored[0]]
    assert len(late) < MAX_PARALLEL_APPLIES, f"{len(late)} writes began after the project freeze was stored"
    written = len(world.labelled("dev", "configmaps", "mid"))
    assert written < 30, "the project freeze stopped the apply"



def test_project_freeze_expiry_alarms_or_resumes(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    actions.freeze_project(world.api, world.project, actions.FreezeRequest("window", for_="1h"), actor="g",
                           now=clock())
    result = rfreeze.project_expiry(world.ctx, world.project, None)
    assert result is not None and result.requeue_after == pytest.approx(3600)
    clock.advance(hours=2)
    rfreeze.project_expiry(world.ctx, world.project, None)
    rfreeze.project_expiry(world.ctx, world.project, None)
    frozen = fz.project_freeze(world.ctx.get(names.KIND_PROJECT, None, world.project))
    assert frozen is not None and frozen.alarmed == frozen.until
    expired = [(e["type"], int(e.get("count") or 1)) for e in world.events(world.project)
               if e["reason"] == fz.REASON_FREEZE_EXPIRED]
    assert expired == [("Warning", 1)], "one Warning Event on the project, raised once"
    actions.freeze_project(world.api, world.project, actions.FreezeRequest("again", for_="1h", then="resume"),
                           actor="g", now=clock())
    clock.advance(hours=1, seconds=1)
    rfreeze.project_expiry(world.ctx, world.project, None)
    assert fz.project_freeze(world.ctx.get(names.KIND_PROJECT, None, world.project)) is None


def test_break_glass_applies_once_and_leaves_the_source_suspended(world: World) -> None:
    repo = _start(world, "glass")
    actions.freeze_source(world.api, world.project, "glass", actions.FreezeRequest("incident 11"), actor="hana")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("glass")
    assert all(_value(world, c) == "v1" for c in CLUSTERS)

    token = actions.break_glass(world.api, world.project, "glass", "hotfix 11 must ship", actor="ivan")
    world.reconcile("glass")
    assert all(_value(world, c) == "v2" for c in CLUSTERS), "the break glass applied the revision"
    source = world.source("glass")
    assert source.suspend, "the source stays suspended after a break glass"
    glass = fz.break_glass_of(source.kustomization)
    assert glass is not None and (glass.by, glass.reason, glass.at, glass.applied) == (
        "ivan", "hotfix 11 must ship", token, True)
    assert actions.break_glass_handled(world.api, world.project, "glass", token) is not None
    assert ("Warning", fz.REASON_BREAK_GLASS, 1) in _reasons(world, "glass")
    assert ("Warning", fz.REASON_BREAK_GLASS_APPLIED, 1) in _reasons(world, "glass")

    commit(repo, {"cm.yaml": configmap("cfg", "v3")})
    world.reconcile("glass")
    assert all(_value(world, c) == "v2" for c in CLUSTERS), "once: the next commit waits for a resume"


def test_break_glass_refuses_a_source_that_is_not_suspended(world: World) -> None:
    _start(world, "open")
    with pytest.raises(ActionError, match="not suspended"):
        actions.break_glass(world.api, world.project, "open", "why", actor="x")
    with pytest.raises(ActionError, match="reason"):
        actions.break_glass(world.api, world.project, "open", "  ", actor="x")


@pytest.mark.parametrize(("request_", "message"), [
    (actions.FreezeRequest("r", for_="soon"), "not a positive duration"),
    (actions.FreezeRequest("r", for_="-1h"), "not a positive duration"),
    (actions.FreezeRequest("r", until="2020-01-01T00:00:00Z"), "already past"),
    (actions.FreezeRequest("r", until="tomorrow"), "RFC 3339"),
    (actions.FreezeRequest("r", for_="1h", until="2099-01-01T00:00:00Z"), "not both"),
    (actions.FreezeRequest("r", then="resume"), "needs an expiry"),
    (actions.FreezeRequest("r", for_="1h", then="delete"), "only choice"),
    (actions.FreezeRequest("r", clusters=("mars",)), "not placed on mars"),
    (actions.FreezeRequest(" "), "reason is required"),
])
def test_bad_freezes_are_refused_in_one_sentence(world: World, request_: actions.FreezeRequest, message: str) -> None:
    _start(world, "bad")
    with pytest.raises(ActionError, match=message):
        actions.freeze_source(world.api, world.project, "bad", request_, actor="x")
    assert fz.source_freeze(world.source("bad").kustomization) is None, "a refused freeze records nothing"
