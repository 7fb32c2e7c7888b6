"""A platform project's Helm releases in a namespace of its own (not its project namespace) are listed: the Helm
pane (its watched releases) and `get helmreleases` show them, named by their project."""

from __future__ import annotations

import json
import threading
import uuid

import yaml

from gitops_tui.api import names
from gitops_tui.helm.pane_watch import WatchedReleases
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.projects import reconcile_project
from gitops_tui.views.state import ManagementState
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import _chart_repo, helm_release
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, assert_propagated


def test_platform_release_in_its_own_namespace_is_listed(world: World) -> None:
    world.make_platform()
    reconcile_project(world.ctx, "", world.project)
    tools = f"tools-{uuid.uuid4().hex[:6]}"
    repo = _chart_repo(world)
    release = yaml.safe_load(helm_release("ingress", releaseName="edge"))
    release["metadata"]["namespace"] = tools
    # The chart comes from the source's own repository, named in the release's own namespace: a reference to
    # another namespace is refused, as Flux's --no-cross-namespace-refs refuses it (docs/security.md).
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tools}}
    commit(repo, {"deploy/ns.yaml": yaml.safe_dump(namespace), "deploy/edge.yaml": yaml.safe_dump(release)})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")

    listed = json.loads(world.sandbox.cli("get", "helmreleases", "-p", world.project, "-o", "json").stdout)["items"]
    assert [(i["name"], i["namespace"], i["project"], i["clusters"]) for i in listed] == [
        ("edge", tools, world.project, sorted(CLUSTERS))], listed

    state = ManagementState({
        "projects": [json_request(world.api, "GET", management_path(names.KIND_PROJECT, None, world.project))],
        "clusters": json_request(world.api, "GET", management_path(
            names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))["items"],
        "kustomizations": [json_request(world.api, "GET", management_path(
            names.KIND_FEDERATED_KUSTOMIZATION, world.namespace, "apps"))],
    })
    connections = ClusterConnections(world.api)
    changed = threading.Event()
    feed = WatchedReleases(connections, changed.set)
    try:
        rows = wait_until(lambda: [(r.namespace, sorted(r.clusters)) for r in feed(state) if r.name == "edge"
                                   and len(r.clusters) == len(CLUSTERS)], timeout=60,
                          message="the platform release in the Helm pane's rows, on every cluster")
        assert rows == [(tools, sorted(CLUSTERS))]
    finally:
        feed.close()
        connections.close()
