"""A platform project's Helm releases hold cluster-scoped objects and install their chart's ``crds/`` folder as Helm
and Flux do (created when absent, on install, outside the release's manifest; ``install.crds: Skip`` skips them);
an ordinary project's release still may hold namespaced objects only, and installs no CRD.

Real Helm (helm_python) renders a chart from the source's own git repository onto the sandbox's dev, staging, prod.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from gitops_tui.api import names
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.helm.test_helm_reconcile import decode, helm_release, storage_secrets
from tests.world import CLUSTERS, World, assert_propagated


def crd(group: str) -> str:
    """A namespaced CustomResourceDefinition ``widgets.<group>``, as a chart's crds/ folder carries it."""
    return yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}})


def chart_repo(world: World, group: str, role: str) -> Path:
    """The source's repository: the test chart plus a crds/ folder and a ClusterRole template."""
    repo = world.repo("apps", {"deploy/.keep": ""})
    chart = write_chart(repo / "charts")
    (chart / "crds").mkdir()
    (chart / "crds" / "widgets.yaml").write_text(crd(group))
    (chart / "templates" / "clusterrole.yaml").write_text(
        f"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {role}\n"
        f"rules:\n- apiGroups: [{group}]\n  resources: [widgets]\n  verbs: [get, list]\n")
    commit(repo, {}, "chart")
    return repo


def crd_names(world: World, cluster: str) -> set[str]:
    """The CustomResourceDefinitions on a cluster, read with kubectl."""
    out = world.sandbox.kubectl(cluster, "get", "customresourcedefinitions", "-o", "name").stdout
    return {line.removeprefix("customresourcedefinition.apiextensions.k8s.io/") for line in out.split()}


def test_a_platform_release_holds_cluster_scoped_objects_and_creates_its_charts_crds(world: World) -> None:
    world.make_platform()
    group, role = f"w{uuid.uuid4().hex[:8]}.example.com", f"reader-{uuid.uuid4().hex[:8]}"
    repo = chart_repo(world, group, role)
    commit(repo, {"deploy/release.yaml": helm_release("shop")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert f"widgets.{group}" in crd_names(world, cluster)
        live = yaml.safe_load(world.sandbox.kubectl(cluster, "get", "clusterrole", role, "-o", "yaml").stdout)
        assert live["metadata"]["labels"][names.LABEL_HELM_MANAGED_BY] == "Helm", live["metadata"]
        assert "namespace" not in live["metadata"], live["metadata"]
        manifest = decode(storage_secrets(world, cluster, "shop")[0])["manifest"]
        assert f"name: {role}" in manifest and "CustomResourceDefinition" not in manifest, \
            "Helm keeps the chart's crds/ out of the release"

    # The release removed from git: uninstalled with its cluster-scoped objects; the chart's CRDs stay, as Helm's do.
    commit(repo, {"deploy/release.yaml": None, "deploy/.keep": "gone\n"})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert world.sandbox.kubectl(cluster, "get", "clusterrole", role, check=False).returncode != 0, cluster
        assert f"widgets.{group}" in crd_names(world, cluster)


def test_install_crds_skip_creates_none(world: World) -> None:
    world.make_platform()
    group, role = f"w{uuid.uuid4().hex[:8]}.example.com", f"reader-{uuid.uuid4().hex[:8]}"
    repo = chart_repo(world, group, role)
    commit(repo, {"deploy/release.yaml": helm_release("shop", install={"crds": "Skip"})})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert f"widgets.{group}" not in crd_names(world, cluster)


def test_an_ordinary_projects_release_still_holds_namespaced_objects_only(world: World) -> None:
    group, role = f"w{uuid.uuid4().hex[:8]}.example.com", f"reader-{uuid.uuid4().hex[:8]}"
    repo = chart_repo(world, group, role)
    commit(repo, {"deploy/release.yaml": helm_release("shop")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    ready = world.condition("apps", names.READY)
    assert ready["status"] == "False", ready
    assert f"ClusterRole/{role} is cluster-scoped; a release may only hold namespaced objects" in ready["message"]
    for cluster in CLUSTERS:
        assert f"widgets.{group}" not in crd_names(world, cluster)
