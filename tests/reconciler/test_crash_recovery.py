"""A kill -9 of the reconciler in the middle of an apply: after restart it converges, with a complete inventory and no orphan."""

from __future__ import annotations

import signal
from typing import Any

from tests.gitserver import commit
from tests.world import World, assert_propagated, configmap, kill_mid_apply


def _ids(world: World, names: set[str]) -> set[str]:
    return {f"{world.namespace}_{n}__ConfigMap" for n in names}


def test_kill_9_mid_apply_then_restart_converges_without_orphans(world: World, sandbox: Any) -> None:
    clusters = ["dev"]
    base = {f"a/{i:02d}.yaml": configmap(f"a-{i:02d}") for i in range(10)}
    repo = world.repo("crash", base)
    world.create("crash", f"file://{repo}", clusters=clusters)
    world.reconcile("crash")
    commit(repo, {f"b/{i:03d}.yaml": configmap(f"b-{i:03d}") for i in range(250)})

    returncode = kill_mid_apply(world, sandbox, "crash")
    assert returncode == -signal.SIGKILL

    applied = world.labelled("dev", "configmaps", "crash")
    assert 40 <= len(applied) < 260
    rows = {c["name"]: c for c in world.status("crash")["clusters"]}
    recorded = {i["id"] for i in rows["dev"]["inventory"]}
    assert _ids(world, applied) <= recorded, "every object written before the kill is in the recorded inventory"

    # Git moves on and drops the b/ objects the killed run had started to apply.
    commit(repo, {**{f"b/{i:03d}.yaml": None for i in range(250)}, "c.yaml": configmap("c-new")})
    world.reconcile("crash")
    assert_propagated(world, "crash", f"main@sha1:{world.head(repo)}", clusters)
    wanted = {f"a-{i:02d}" for i in range(10)} | {"c-new"}
    for cluster in clusters:
        live = world.labelled(cluster, "configmaps", "crash")
        assert live == wanted, f"orphans on {cluster}: {sorted(live - wanted)[:5]}"
        inventory = {i["id"] for i in {c["name"]: c for c in world.status("crash")["clusters"]}[cluster]["inventory"]}
        assert inventory == _ids(world, wanted)
