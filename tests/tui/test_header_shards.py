"""The header says who holds which reconciler shard, from the Leases of gitops-tui-system."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from gitops_tui.api import shards
from gitops_tui.views import header
from gitops_tui.views.state import ManagementState

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


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
    assert _holder([_lease(i, "node-a/4242/0f3c") for i in range(8)]) == "node-a/4242/0f3c"
    assert _holder([]) == header.NOBODY
