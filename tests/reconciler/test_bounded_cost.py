"""Bounded cost per revision: alias bombs, oversized objects and revisions are refused fast and cost one worker only."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.kube import limits
from gitops_tui.reconciler.manager import Reconciler
from gitops_tui.reconciler.options import ReconcilerOptions
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, assert_propagated, configmap


def alias_bomb(levels: int, name: str = "bomb") -> str:
    """A ConfigMap-shaped object whose `spec` expands to 10**levels strings through nested aliases."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}", "anchors:",
             "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append(f"spec: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_while_another_source_keeps_propagating(world: World) -> None:
    """Through the manager (two workers): the bomb is refused by its node count; a neighbour's commit still lands."""
    calm = world.repo("calm", {"cm.yaml": configmap("calm", "v1")})
    bomb = world.repo("bomb", {"cm.yaml": configmap("fine"), "zz-bomb.yaml": alias_bomb(7)})
    reconciler = Reconciler(world.api, ReconcilerOptions(data_dir=world.tmp / "manager", elect=False, install=False,
                                                         workers=2))
    reconciler.start()
    try:
        assert reconciler.wait_synced(10)
        world.create("calm", f"file://{calm}", interval="10m")
        wait_until(lambda: all(world.get(c, "configmaps", "calm") for c in CLUSTERS), timeout=30,
                   message="the calm source is applied")
        world.create("bomb", f"file://{bomb}", interval="10m")
        commit(calm, {"cm.yaml": configmap("calm", "v2")})
        token = actions.request_reconcile(world.api, world.project, "calm")
        wait_until(lambda: actions.reconcile_handled(world.api, world.project, "calm", token), timeout=30,
                   message="the calm source's commit is reconciled")
        wait_until(lambda: world.condition("bomb", names.READY).get("reason") == "LimitExceeded", timeout=30,
                   message="the alias bomb is refused")
    finally:
        reconciler.stop()
    assert_propagated(world, "calm", f"main@sha1:{world.head(calm)}")
    assert all(world.get(c, "configmaps", "calm")["data"] == {"value": "v2"} for c in CLUSTERS)
    ready = world.condition("bomb", names.READY)
    assert "zz-bomb.yaml" in ready["message"] and "alias" in ready["message"], ready["message"]
    assert all(world.get(c, "configmaps", "fine") is None for c in CLUSTERS), "nothing of the bomb's revision applied"


@pytest.mark.parametrize("case", ["recursive-alias", "big-object", "big-data", "too-many"])
def test_oversized_revisions_are_refused_by_name(world: World, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    files = {"a.yaml": configmap("a")}
    if case == "recursive-alias":
        files["loop.yaml"] = configmap("loop").replace("data:\n", "extra: &self [1, *self]\ndata:\n")
        words = ["loop.yaml"]  # the parser itself refuses this one, as invalid YAML
    elif case == "big-object":
        files["big.yaml"] = configmap("big").replace("metadata:\n", "metadata:\n  annotations:\n    note: "
                                                      + "n" * (limits.MAX_OBJECT_BYTES + 10) + "\n")
        words = [f"ConfigMap {world.namespace}/big in big.yaml", "1.5 MiB"]
    elif case == "big-data":
        files["data.yaml"] = configmap("data", "d" * (limits.MAX_DATA_BYTES + 10))
        words = [f"ConfigMap {world.namespace}/data", "at most 1 MiB"]
    else:
        monkeypatch.setattr(limits, "MAX_OBJECTS", 3)
        files.update({f"n{i}.yaml": configmap(f"n{i}") for i in range(3)})
        words = ["more than 3 objects", "split it"]
    repo = world.repo(case, files)
    world.create("big", f"file://{repo}")
    world.reconcile("big")
    ready = world.condition("big", names.READY)
    reasons = ("ValidationFailed", "LimitExceeded") if case == "recursive-alias" else ("LimitExceeded",)
    assert ready["status"] == "False" and ready["reason"] in reasons, ready
    assert all(word in ready["message"] for word in words), ready["message"]
    assert all(world.get(c, "configmaps", "a") is None for c in CLUSTERS)


def test_the_bounded_loader_counts_what_aliases_expand_to() -> None:
    small = limits.load_documents(alias_bomb(3), "ok.yaml")
    assert len(small[0]["spec"]) == 10 and small[0]["spec"][0][0][0] == "lol"
    with pytest.raises(limits.LimitExceeded, match="more than 1,000,000 YAML nodes"):
        limits.load_documents(alias_bomb(9), "bomb.yaml")
    with pytest.raises(limits.LimitExceeded, match="contain themselves"):
        limits.expanded_nodes(_recursive(), "the values")


def _recursive() -> Any:
    loop: list[Any] = [1]
    loop.append(loop)
    return {"values": loop}
