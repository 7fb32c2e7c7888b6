"""Shard Leases in one process: fair shares, rebalancing on join and leave, draining, one count, the stop check."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import resources, sources
from gitops_tui.api import names, shards
from gitops_tui.kube.client import json_request
from gitops_tui.kube.shard_leases import ShardCountMismatch, ShardElector
from gitops_tui.reconciler.manager import Reconciler
from gitops_tui.reconciler.options import ReconcilerOptions
from tests.gitserver import make_repo
from tests.reconciler.test_shards_processes import forget
from tests.waiting import wait_until
from tests.world import configmap

LEASE = 2.0


@pytest.fixture
def namespace(sandbox: Any) -> Iterator[str]:
    """A namespace of its own for the test's Leases (no other fleet in it)."""
    name = f"shards-{uuid.uuid4().hex[:6]}"
    yield name
    try:
        json_request(sandbox.api_client(), "DELETE", f"/api/v1/namespaces/{name}")
    except Exception:  # noqa: BLE001 - it may not have been made
        pass


def holders(api: Any, namespace: str) -> dict[int, str]:
    """Each shard's live holder as its Lease says ("" when free)."""
    items = json_request(api, "GET", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
                         query={"labelSelector": shards.ROLE_LABEL}).get("items") or []
    return shards.fleet(items, datetime.now(UTC)).holders


def disjoint(*electors: ShardElector) -> bool:
    """No shard is acted on by two electors at once."""
    seen: list[int] = []
    for elector in electors:
        seen += elector.held()
    return len(seen) == len(set(seen))


def test_shard_of_is_stable_across_processes() -> None:
    """CRC-32 of the namespace: the same shard in every process and Python version (hash() is salted)."""
    assert [shards.shard_of(ns, 8) for ns in ("demo", "payments", "shop")] == [0, 2, 2]
    assert shards.shard_of("anything", 1) == 0
    assert shards.ranges([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9"


def test_fair_shares_rebalance_on_join_and_leave(sandbox: Any, namespace: str) -> None:
    api = sandbox.api_client()
    a, b, c = (ShardElector(api, identity=f"{n}/1/x", shards=8, lease_duration=LEASE, namespace=namespace)
               for n in "abc")
    overlaps: list[tuple[list[int], ...]] = []

    def watch_overlap() -> None:
        while not stop.is_set():
            if not disjoint(a, b, c):
                overlaps.append((a.held(), b.held(), c.held()))
            stop.wait(0.01)

    stop = threading.Event()
    sampler = threading.Thread(target=watch_overlap, daemon=True)
    sampler.start()
    try:
        a.start()
        wait_until(lambda: a.held() == list(range(8)), timeout=10, message="a alone to hold every shard")
        b.start()
        wait_until(lambda: len(a.held()) == 4 and len(b.held()) == 4, timeout=10, message="a and b four each")
        c.start()
        wait_until(lambda: sorted(map(len, (a.held(), b.held(), c.held()))) == [2, 3, 3], timeout=10,
                   message="3, 3 and 2 shards")
        assert sorted(a.held() + b.held() + c.held()) == list(range(8))
        assert set(holders(api, namespace).values()) == {"a/1/x", "b/1/x", "c/1/x"}
        a.stop(release=True)  # released, not left to lapse: taken at once
        wait_until(lambda: sorted(b.held() + c.held()) == list(range(8)), timeout=LEASE * 0.9,
                   message="b and c to take a's released shards before its leases could lapse")
        assert sorted(map(len, (b.held(), c.held()))) == [4, 4]
    finally:
        stop.set()
        sampler.join(timeout=2)
        for elector in (a, b, c):
            elector.stop()
    assert not overlaps, f"two electors acted on one shard: {overlaps[:3]}"
    assert not any(holders(api, namespace).values()), "stopped electors release every shard"


def test_a_shard_given_back_is_released_only_when_its_work_is_done(sandbox: Any, namespace: str) -> None:
    """The old holder stops acting on an excess shard at once but keeps its Lease until nothing of it runs."""
    api = sandbox.api_client()
    working = threading.Event()
    working.set()
    a = ShardElector(api, identity="a/1/x", shards=4, lease_duration=LEASE, namespace=namespace,
                     busy=lambda shard: working.is_set())
    b = ShardElector(api, identity="b/1/x", shards=4, lease_duration=LEASE, namespace=namespace)
    try:
        a.start()
        wait_until(lambda: a.held() == [0, 1, 2, 3], timeout=10, message="a to hold every shard")
        b.start()
        wait_until(lambda: a.held() == [0, 1], timeout=10, message="a to stop acting on its excess")
        wait_until(lambda: len(b.members) == 2, timeout=5, message="b to see a")
        for _ in range(3):  # several of b's rounds, each past a lease duration of waiting
            assert b.held() == [] and set(holders(api, namespace).values()) == {"a/1/x"}
            threading.Event().wait(LEASE / 2)
        working.clear()
        wait_until(lambda: b.held() == [2, 3], timeout=10, message="b to take the drained shards")
        assert a.held() == [0, 1]
    finally:
        a.stop()
        b.stop()


def test_every_process_uses_one_shard_count(sandbox: Any, namespace: str) -> None:
    api = sandbox.api_client()
    a = ShardElector(api, identity="a/1/x", shards=8, lease_duration=LEASE, namespace=namespace)
    try:
        a.start()
        wait_until(lambda: a.held(), timeout=10, message="a to join")
        other = ShardElector(api, identity="b/1/x", shards=4, lease_duration=LEASE, namespace=namespace)
        with pytest.raises(ShardCountMismatch, match="use 8 shards.*--shards 8"):
            other.start()
        adopting = ShardElector(api, identity="c/1/x", lease_duration=LEASE, namespace=namespace)
        adopting.start()
        try:
            assert adopting.count == 8
            wait_until(lambda: len(adopting.held()) == 4, timeout=10, message="the adopting member to share")
        finally:
            adopting.stop()
    finally:
        a.stop()


def test_abandon_stops_acting_at_once_releases_and_never_rejoins(sandbox: Any, namespace: str) -> None:
    api = sandbox.api_client()
    leaving = ShardElector(api, identity="leaving/1/x", shards=2, lease_duration=15, namespace=namespace)
    standby = ShardElector(api, identity="standby/1/x", shards=2, lease_duration=15, namespace=namespace)
    leaving.start()
    try:
        wait_until(lambda: leaving.held() == [0, 1], timeout=10, message="the first to hold both shards")
        standby.start()
        wait_until(lambda: len(standby.held()) == 1, timeout=10, message="the standby to share")
        assert leaving.abandon(timeout=2.0), "the shards should be released"
        assert leaving.held() == [] and not leaving.holds(0)
        wait_until(lambda: standby.held() == [0, 1], timeout=8, message="the standby to take both (15 s leases)")
        leaving.start()  # a leaving process never joins again
        assert leaving.held() == [] and set(holders(api, namespace).values()) == {"standby/1/x"}
    finally:
        standby.stop()
        leaving.stop()


def test_reconciler_stops_writing_when_its_shard_is_lost(sandbox: Any, tmp_path: Path) -> None:
    """should_stop (checked before every write) turns True for a live, unsuspended source once its shard is gone."""
    api = sandbox.api_client()
    project = f"lost-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("lost")})
    resources.create_project(api, project, ["dev"])
    sources.create_source(api, project, "app", str(repo), path="./", interval="10m")
    rec = Reconciler(api, ReconcilerOptions(data_dir=tmp_path / "rec", lease_duration=LEASE, shards=8))
    rec.start()
    try:
        wait_until(lambda: rec.elector is not None and rec.elector.held() == list(range(8)), timeout=15,
                   message="the only reconciler to hold every shard")
        wait_until(lambda: not rec.should_stop(project, "app"), timeout=10, message="the source in the watch")
        assert rec.elector is not None
        rec.elector.stop(release=True)
        assert rec.should_stop(project, "app")
        assert not rec.shard_gate.may_act(names.KIND_PROJECT, "", project)
    finally:
        rec.stop()
        forget(api, project)
