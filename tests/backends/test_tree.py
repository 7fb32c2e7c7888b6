"""The tree of the demo source: clusters, then objects with kind, health, drift and the managers that wrote them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.backends.tree import read_tree
from gitops_tui.kube.client import ClusterConnections
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.projects import reconcile_project
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source
from gitops_tui.sandbox.seed import DEMO_PROJECT, DEMO_SOURCE
from gitops_tui.views.tree import tree_lines


@pytest.fixture(scope="module")
def demo_ctx(demo_sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReconcileContext]:
    """A reconcile context on the demo sandbox, with the demo source applied once to every cluster."""
    api = demo_sandbox.api_client("management")
    data = tmp_path_factory.mktemp("tree")
    connections = ClusterConnections(api)
    ctx = ReconcileContext(api_client=api, dynamic=None, clusters=connections,  # type: ignore[arg-type]
                           recorder=EventRecorder(api), git=GitSource(data / "git"), data_dir=data)
    reconcile_project(ctx, "", DEMO_PROJECT)
    reconcile_source(ctx, DEMO_PROJECT, DEMO_SOURCE)
    try:
        yield ctx
    finally:
        connections.close()


def test_tree_of_the_demo_source_names_clusters_objects_health_drift_and_managers(
        demo_ctx: ReconcileContext, demo_sandbox: Any, tmp_path: Path) -> None:
    api = demo_sandbox.api_client("management")
    demo_sandbox.kubectl("prod", "-n", DEMO_PROJECT, "scale", "deployment/podinfo", "--replicas=5")
    try:
        tree = read_tree(api, DEMO_PROJECT, DEMO_SOURCE, data_dir=tmp_path)
    finally:
        reconcile_source(demo_ctx, DEMO_PROJECT, DEMO_SOURCE)  # the drift is corrected for the next tests
    assert [c.name for c in tree.clusters] == ["dev", "staging", "prod"], "issue 19: the placement order"
    for cluster in tree.clusters:
        assert cluster.revision.startswith("main@sha1:") and not cluster.error, cluster
        kinds = {(o.kind, o.name) for o in cluster.objects}
        assert {("ConfigMap", "podinfo-config"), ("Deployment", "podinfo"), ("Service", "podinfo"),
                ("HelmRelease", "frontend")} <= kinds, kinds
        config = next(o for o in cluster.objects if o.kind == "ConfigMap")
        assert config.health == "Current" and config.managers[0] == "gitops-tui" and config.drift == ""
    prod = {o.name + o.kind: o for o in next(c for c in tree.clusters if c.name == "prod").objects}
    assert prod["podinfoDeployment"].drift == "modified: .spec.replicas"
    assert "kubectl" in " ".join(prod["podinfoDeployment"].managers[1:]), prod["podinfoDeployment"].managers
    dev = {o.name + o.kind: o for o in next(c for c in tree.clusters if c.name == "dev").objects}
    assert dev["podinfoDeployment"].drift == ""

    lines = tree_lines(tree)
    assert lines[0].startswith(f"Source {DEMO_PROJECT}/{DEMO_SOURCE}  git main@")
    assert any(line.startswith("├── Cluster dev  main@") for line in lines)
    assert any(line.startswith("└── Cluster prod  main@") for line in lines)
    assert any("Deployment demo/podinfo" in line and "drift: modified: .spec.replicas" in line for line in lines)


def test_tree_cli_prints_the_tree_and_json(demo_ctx: ReconcileContext, demo_sandbox: Any) -> None:
    proc = demo_sandbox.cli("tree", "source", DEMO_SOURCE, "-p", DEMO_PROJECT)
    assert "Cluster prod" in proc.stdout and "ConfigMap demo/podinfo-config  Current  in sync" in proc.stdout
    body = json.loads(demo_sandbox.cli("tree", "source", DEMO_SOURCE, "-p", DEMO_PROJECT, "-o", "json").stdout)
    assert [c["name"] for c in body["clusters"]] == ["dev", "staging", "prod"], "issue 19: the placement order"
    assert [c["intent"] for c in body["clusters"]] == ["follow"] * 3
    missing = demo_sandbox.cli("tree", "source", "nope", "-p", DEMO_PROJECT, check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
