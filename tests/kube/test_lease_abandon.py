"""A leaving process abandons the lease: it stops leading before any request, releases, and never campaigns again."""

from __future__ import annotations

from typing import Any

from gitops_tui.kube.client import json_request
from gitops_tui.kube.lease import LeaderElector
from tests.waiting import wait_until


def _holder(api: Any, name: str) -> str:
    lease = json_request(api, "GET", f"/apis/coordination.k8s.io/v1/namespaces/gitops-tui-system/leases/{name}")
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def test_abandon_releases_at_once_and_a_standby_takes_over(sandbox: Any) -> None:
    """The leader abandons: is_leader is False at once, the lease is released (not left to lapse, 15 s here),
    a standby takes it within a few seconds, and the abandoned elector cannot start again."""
    api = sandbox.api_client()
    name = "abandon-test"
    leader = LeaderElector(api, identity="leader", name=name, lease_duration=15)
    standby = LeaderElector(api, identity="standby", name=name, lease_duration=15)
    leader.start()
    try:
        wait_until(lambda: leader.is_leader, timeout=15, message="the first elector to lead")
        standby.start()
        assert leader.abandon(timeout=2.0), "the lease should be released"
        assert not leader.is_leader
        assert _holder(api, name) in ("", "standby")
        wait_until(lambda: standby.is_leader, timeout=8, message="the standby to take the released lease")
        leader.start()  # a leaving process never campaigns again
        assert not leader.is_leader and _holder(api, name) == "standby"
    finally:
        standby.stop()
        leader.stop()
