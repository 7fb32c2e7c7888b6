"""`resume` on the command line says so, and exits 1, when no reconciler is running to act on it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops_tui.actions import resources, sources
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.kube.watch import resource_path
from tests.tui.gitrepo import make_repo

LEASES = resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)


def _lease(name: str, renewed: datetime, holder: str = "test-reconciler") -> dict[str, Any]:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": names.SYSTEM_NAMESPACE},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "acquireTime": stamp, "renewTime": stamp}}


def test_resume_says_no_reconciler_runs_then_not_when_one_holds_the_lease(sandbox: Any) -> None:
    """No live lease holder: 'resumed' plus a sentence on stderr and exit 1; an expired holder counts as none;
    a live holder (a shard lease of the reconciler) gives exit 0."""
    api = sandbox.api_client()
    project = f"resume-{uuid.uuid4().hex[:6]}"
    repo = make_repo(sandbox.home / "demo" / "repos" / project, "resume-cm")
    resources.create_project(api, project, ["dev"])
    sources.create_source(api, project, "app", str(repo), path="./apps")
    shard = f"{names.LEASE_NAME}-test-{uuid.uuid4().hex[:4]}"
    try:
        live = [lease for lease in json_request(api, "GET", LEASES).get("items") or []
                if lease["metadata"]["name"].startswith(names.LEASE_NAME)
                and (lease.get("spec") or {}).get("holderIdentity")]
        assert not live or all(_expired(lease) for lease in live), "no reconciler may run in this test's sandbox"
        sandbox.cli("suspend", "source", "app", "-p", project, "--reason", "hand fix")
        alone = sandbox.cli("resume", "source", "app", "-p", project, check=False)
        assert alone.returncode == 1, alone
        assert "source app resumed" in alone.stdout and "no reconciler is running" in alone.stderr

        json_request(api, "POST", LEASES, _lease(shard, datetime.now(UTC) - timedelta(minutes=5)))
        sandbox.cli("suspend", "source", "app", "-p", project, "--reason", "again")
        expired = sandbox.cli("resume", "project", project, check=False)
        assert expired.returncode == 1 and "no reconciler is running" in expired.stderr, expired

        json_request(api, "PUT", f"{LEASES}/{shard}", {
            **_lease(shard, datetime.now(UTC)),
            "metadata": {**_lease(shard, datetime.now(UTC))["metadata"],
                         "resourceVersion": json_request(api, "GET", f"{LEASES}/{shard}")["metadata"]["resourceVersion"]}})
        sandbox.cli("suspend", "source", "app", "-p", project, "--reason", "third")
        held = sandbox.cli("resume", "source", "app", "-p", project, check=False)
        assert held.returncode == 0 and held.stderr == "", held
    finally:
        try:
            json_request(api, "DELETE", f"{LEASES}/{shard}")
        except Exception:  # noqa: BLE001 - it may not have been made
            pass
        sources.delete_source(api, project, "app")
        resources.delete_project(api, project)


def _expired(lease: dict[str, Any]) -> bool:
    from gitops_tui.views.timefmt import parse_time

    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    return renewed is None or renewed + timedelta(seconds=float(spec.get("leaseDurationSeconds") or 15)) < \
        datetime.now(UTC)
