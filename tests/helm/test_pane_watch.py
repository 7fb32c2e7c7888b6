"""The Helm pane's watched releases: rows from Helm's storage as it changes, 'loading' until each cluster answered."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import uuid
from typing import Any

from gitops_tui.helm.pane_watch import WatchedReleases
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.views.state import ManagementState
from tests.waiting import wait_until


def _release_secret(namespace: str, name: str, revision: int, version: str) -> dict[str, Any]:
    """A Helm v3/v4 storage Secret (the release JSON, gzipped, base64 twice as Helm stores it)."""
    release = {"name": name, "namespace": namespace, "version": revision,
               "info": {"status": "deployed", "last_deployed": "2026-01-15T12:00:00Z", "description": "Install complete"},
               "chart": {"metadata": {"name": "web", "version": version, "appVersion": "1.0"}}}
    blob = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": namespace,
                         "labels": {"owner": "helm", "name": name, "version": str(revision), "status": "deployed"}},
            "data": {"release": base64.b64encode(blob.encode()).decode()}}


def test_rows_follow_helm_storage_and_an_unreachable_cluster_is_named(sandbox: Any) -> None:
    """A release written to dev's storage appears (one watch, no polling), an upgrade moves its row; a placed
    cluster that cannot be reached is named by failing() and does not keep the pane loading."""
    namespace = f"hw-{uuid.uuid4().hex[:6]}"
    dev = sandbox.api_client("dev")
    json_request(dev, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": namespace}})
    state = ManagementState({
        "projects": [{"metadata": {"name": namespace}, "spec": {"namespace": namespace,
                      "placement": {"clusters": [{"name": "dev"}, {"name": "ghost"}]}}}],
        "clusters": [{"metadata": {"name": n, "namespace": "kube-federation-system"}} for n in ("dev", "ghost")],
    })
    changed = threading.Event()
    feed = WatchedReleases(ClusterConnections(sandbox.api_client()), changed.set)
    try:
        assert feed(state) == []
        wait_until(lambda: not feed.loading(state), timeout=30, message="dev's first listing")
        assert "ghost" in feed.failing() and "dev" not in feed.failing()
        json_request(dev, "POST", f"/api/v1/namespaces/{namespace}/secrets", _release_secret(namespace, "web", 1, "1.0.0"))
        wait_until(changed.is_set, timeout=15, message="the watch to see the release")
        rows = wait_until(lambda: feed(state), timeout=15, message="the release row")
        assert [(r.name, r.chart_version, r.clusters) for r in rows] == [("web", "1.0.0", ("dev",))]
        json_request(dev, "POST", f"/api/v1/namespaces/{namespace}/secrets", _release_secret(namespace, "web", 2, "1.1.0"))
        wait_until(lambda: [r.chart_version for r in feed(state)] == ["1.1.0"], timeout=15, message="the upgrade")
        assert [r.revision for r in feed.view.history("dev", namespace, "web")] == [2, 1]
    finally:
        feed.close()
        json_request(dev, "DELETE", f"/api/v1/namespaces/{namespace}")
