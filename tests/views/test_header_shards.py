"""The header says who holds which reconciler shard, from the Leases of gitops-tui-system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gitops_tui.api import shards
from gitops_tui.views import header
from gitops_tui.views.state import ManagementState

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _lease(index: int, holder: str, renewed: datetime = NOW, count: int = 8) -> dict[str, Any]:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": shards.shard_lease_name(index), "namespace": "gitops-tui-system",
                         "labels": {shards.ROLE_LABEL: shards.ROLE_SHARD},
                         "annotations": {shards.SHARDS_ANNOTATION: str(count), shards.SHARD_ANNOTATION: str(index)}},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": stamp}}


def _holder(leases: list[dict[str, Any]], identity: str = "console@box/7") -> str:
    return header.lease_holder(ManagementState({"leases": leases}), identity, NOW)


def test_header_names_each_holder_with_its_shards() -> None:
    split = [_lease(i, "console@box/7" if i < 4 else "node-a/4242/0f3c") for i in range(8)]
    assert _holder(split) == "this console 0-3 · node-a/4242 4-7"
    assert _holder(split, identity="someone-else") == "console@box/7 0-3 · node-a/4242 4-7"


def test_header_says_nobody_for_free_or_lapsed_shards() -> None:
    stale = NOW - timedelta(seconds=60)
    leases = [_lease(i, "node-a/4242/0f3c" if i != 5 else "node-b/1/aa", stale if i == 5 else NOW) for i in range(8)]
    assert _holder(leases) == "node-a/4242 0-4,6-7 · nobody 5"
    assert _holder([_lease(i, "node-a/4242/0f3c", stale) for i in range(8)]) == header.NOBODY
    assert _holder([_lease(i, "console@box/7") for i in range(8)]) == header.THIS_CONSOLE
    assert _holder([_lease(i, "node-a/4242/0f3c") for i in range(8)]) == "node-a/4242"
    assert _holder([]) == header.NOBODY


def _member(identity: str, standby: bool, renewed: datetime = NOW) -> dict[str, Any]:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    annotations = {shards.SHARDS_ANNOTATION: "8"}
    if standby:
        annotations[shards.MODE_ANNOTATION] = shards.MODE_STANDBY
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": shards.member_lease_name(identity), "namespace": "gitops-tui-system",
                         "labels": {shards.ROLE_LABEL: shards.ROLE_MEMBER}, "annotations": annotations},
            "spec": {"holderIdentity": identity, "leaseDurationSeconds": 15, "renewTime": stamp}}


def test_header_says_this_console_stands_by_beside_a_run_member() -> None:
    run = [_lease(i, "node-a/4242/0f3c") for i in range(8)] + [_member("node-a/4242/0f3c", False)]
    standing = [*run, _member("console@box/7", True)]
    assert _holder(standing) == f"node-a/4242 · {header.STANDS_BY}"
    assert _holder(run) == "node-a/4242", "a console that is no member (--reconcile never) only names the holder"
    lapsed = [*run, _member("console@box/7", True, NOW - timedelta(seconds=60))]
    assert _holder(lapsed) == "node-a/4242", "a lapsed member Lease is no member"
    assert shards.sharing({"run": False, "console": True}) == {"run"}
    assert shards.sharing({"a": True, "b": True}) == {"a", "b"}, "standbys share when no active member lives"
