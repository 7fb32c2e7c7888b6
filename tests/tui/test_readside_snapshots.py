"""Snapshots of what issue 19's read side changed on screen, at 80x24 and 120x36: a console standing by beside a
`run` process (the header), a workload Warning in the Events pane and the strip, the freeze dialog's focused
field, the Journal's own glyphs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gitops_tui.api import shards
from gitops_tui.api.workload_events import SourceRef, stream_event
from gitops_tui.backends.static import FROZEN_NOW
from gitops_tui.views.state import Change
from tests.tui.snapshot_setup import SIZES

RUN = "vm/4242/56bd3b45-c202-461c-b5ab-8ec1f510fe14"


def _lease(name: str, holder: str, role: str, annotations: dict[str, str]) -> dict[str, Any]:
    stamp = FROZEN_NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": "gitops-tui-system", "labels": {shards.ROLE_LABEL: role},
                         "annotations": {shards.SHARDS_ANNOTATION: "8", **annotations}},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": stamp}}


def standing_by(app: Any) -> Any:
    """A `run` process holds every shard; this console's member Lease says it stands by; prod warns about podinfo."""
    state = app.backend.state
    leases = [_lease(shards.shard_lease_name(i), RUN, shards.ROLE_SHARD, {shards.SHARD_ANNOTATION: str(i)})
              for i in range(8)]
    leases += [_lease(shards.member_lease_name(RUN), RUN, shards.ROLE_MEMBER, {}),
               _lease(shards.member_lease_name(app.backend.identity), app.backend.identity, shards.ROLE_MEMBER,
                      {shards.MODE_ANNOTATION: shards.MODE_STANDBY})]
    state.apply(Change("leases", "RESET", items=tuple(leases)))
    when = (FROZEN_NOW - timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    warning = {"metadata": {"namespace": "demo", "name": "podinfo-7bd9c5d6f-x2x4z.18a1", "resourceVersion": "90"},
               "involvedObject": {"kind": "Pod", "name": "podinfo-7bd9c5d6f-x2x4z", "namespace": "demo"},
               "type": "Warning", "reason": "FailedScheduling", "lastTimestamp": when,
               "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."}
    state.apply(Change("events", "ADDED", stream_event("prod", warning, SourceRef("demo", "podinfo"),
                                                       "Pod demo/podinfo-7bd9c5d6f-x2x4z")))
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("keys", [pytest.param(["2"], id="sources"), pytest.param(["7"], id="events")])
def test_console_stands_by_and_prod_warns(snap_compare, make_app, keys: list[str], size: tuple[int, int]) -> None:
    assert snap_compare(standing_by(make_app()), press=keys, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_freeze_dialog_focused_field(snap_compare, make_app, size: tuple[int, int]) -> None:
    """The freeze dialog after typing a reason and a tab: the Clusters field stands out."""
    assert snap_compare(make_app(), press=["2", "s", *"why", "tab"], terminal_size=size)
