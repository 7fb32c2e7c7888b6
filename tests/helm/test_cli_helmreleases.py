"""`get helmreleases` and the cross-cluster view read Helm's storage on each project cluster, whoever installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources
from gitops_tui.api import names
from gitops_tui.helm.cluster_view import collect, collect_placements
from gitops_tui.kube.client import json_request
from tests.helm.charts import write_chart
from tests.world import World


def _helm(world: World, cluster: str) -> helm.Config:
    """Real Helm (helm_python) pointed at one sandbox cluster and the project namespace."""
    return helm.Config(kubeconfig_path=str(world.sandbox.kubeconfig), kube_context=cluster, namespace=world.namespace)


def _get(world: World, *args: str, check: bool = True) -> Any:
    proc = world.sandbox.cli("get", "helmreleases", "-p", world.project, *args, check=check)
    return proc


def test_releases_installed_by_helm_are_listed_once_per_version(world: World, tmp_path: Path) -> None:
    chart_dir = write_chart(tmp_path / "charts", name="cache", version="1.2.0", app_version="7.0")
    for cluster in ("dev", "staging", "prod"):
        _helm(world, cluster).install(helm.Chart.load(chart_dir), "cache", {"greeting": "hi"})

    listed = json.loads(_get(world, "-o", "json").stdout)
    assert listed["kind"] == "HelmReleaseList"
    (item,) = listed["items"]
    assert (item["name"], item["namespace"], item["chart"], item["chartVersion"], item["appVersion"]) == (
        "cache", world.namespace, "cache", "1.2.0", "7.0")
    assert (item["status"], item["revision"], item["clusters"], item["versionsDiffer"]) == (
        "deployed", 1, ["dev", "prod", "staging"], False)
    assert item["project"] == world.project and item["updated"]

    write_chart(tmp_path / "charts", name="cache", version="1.3.0", app_version="7.1")
    _helm(world, "prod").upgrade(helm.Chart.load(chart_dir), "cache", {"greeting": "hey"})
    table = _get(world).stdout.splitlines()
    assert table[0].split()[:4] == ["NAME", "NAMESPACE", "CHART", "VERSION"]
    rows = [line.split() for line in table[1:]]
    assert [(r[0], r[3], r[4], r[-1]) for r in rows] == [
        ("cache", "1.2.0", "(differs)", "dev,staging"),
        ("cache", "1.3.0", "(differs)", "prod"),
    ], table
    by_version = {i["chartVersion"]: i for i in yaml.safe_load(_get(world, "-o", "yaml").stdout)["items"]}
    assert by_version["1.3.0"]["revision"] == 2 and by_version["1.3.0"]["clusterReleases"][0]["cluster"] == "prod"
    assert by_version["1.2.0"]["versionsDiffer"] is True

    view = collect(world.ctx.clusters, ["dev", "staging", "prod"], [world.namespace])
    prod = view.history("prod", world.namespace, "cache")
    assert [(r.revision, r.status, r.chart_version) for r in prod] == [(2, "deployed", "1.3.0"), (1, "superseded", "1.2.0")]
    assert prod[0].values == {"greeting": "hey"}
    assert view.release_clusters(world.namespace, "cache") == ["dev", "prod", "staging"]
    prod_row = next(r for r in view.rows if r.clusters == ("prod",))
    assert [(d["cluster"], d["revision"], d["status"], d["chart"]) for d in view.detail(prod_row)] == [
        ("prod", 2, "deployed", "cache-1.3.0"), ("prod", 1, "superseded", "cache-1.2.0")]
    assert view.detail(prod_row)[0]["description"] == "Upgrade complete"

    _helm(world, "prod").uninstall("cache")
    after = json.loads(_get(world, "-o", "json").stdout)["items"]
    assert [(i["chartVersion"], i["clusters"], i["versionsDiffer"]) for i in after] == [("1.2.0", ["dev", "staging"], False)]


def test_other_projects_and_empty_listing(world: World, sandbox: Any) -> None:
    proc = _get(world)
    assert proc.stdout == "" and f"no helmreleases found in project {world.project}" in proc.stderr
    unknown = sandbox.cli("get", "helmreleases", "-p", "no-such-project", check=False)
    assert unknown.returncode == 1 and "project 'no-such-project' does not exist" in unknown.stderr
    assert "Traceback" not in unknown.stderr


@pytest.fixture
def dead_cluster(world: World) -> Any:
    """A registered cluster whose API endpoint refuses connections (removed afterwards)."""
    config = yaml.safe_load(world.sandbox.kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:1"
    config["current-context"] = "dev"
    name = f"dead-{world.project}"
    resources.register_cluster(world.api, name, yaml.safe_dump(config), "https://127.0.0.1:1")
    yield name
    base = f"/apis/core.kubefed.io/v1beta1/namespaces/{names.FEDERATION_NAMESPACE}/kubefedclusters/{name}"
    for path_ in (base, f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{name}-kubeconfig"):
        try:
            json_request(world.api, "DELETE", path_)
        except ApiException:
            pass


def test_unreachable_cluster_is_reported_not_fatal(world: World, dead_cluster: str, tmp_path: Path) -> None:
    chart_dir = write_chart(tmp_path / "charts", version="0.1.0")
    _helm(world, "dev").install(helm.Chart.load(chart_dir), "web", {})
    view = collect_placements(world.ctx.clusters, {world.namespace: ["dev", dead_cluster, "nowhere"]})
    assert [(r.name, r.clusters) for r in view.rows] == [("web", ("dev",))]
    assert sorted(view.errors) == [dead_cluster, "nowhere"]
    assert "ClusterNotReachable" in view.errors[dead_cluster]
    assert view.errors["nowhere"].startswith("ClusterNotFound")
    assert view.history(dead_cluster, world.namespace, "web") == []

    group, version, plural = names.RESOURCES[names.KIND_PROJECT]
    placement = {"clusters": [{"name": c} for c in ("dev", "staging", "prod", dead_cluster)]}
    json_request(world.api, "PATCH", f"/apis/{group}/{version}/{plural}/{world.project}",
                 {"spec": {"placement": placement}}, content_type="application/merge-patch+json")
    proc = _get(world, "-o", "json")
    assert [i["clusters"] for i in json.loads(proc.stdout)["items"]] == [["dev"]]
    assert f"Helm releases on cluster {dead_cluster} could not be read: ClusterNotReachable" in proc.stderr


def test_pane_feed_gives_console_rows_without_blocking(world: World, tmp_path: Path) -> None:
    from gitops_tui.helm.cluster_view import PaneFeed
    from gitops_tui.helm.listing import ReleaseRow
    from gitops_tui.views.state import ManagementState
    from tests.waiting import wait_until

    chart_dir = write_chart(tmp_path / "charts", version="0.4.0")
    for cluster in ("dev", "prod"):
        _helm(world, cluster).install(helm.Chart.load(chart_dir), "feed", {})
    group, version, plural = names.RESOURCES[names.KIND_PROJECT]
    project = json_request(world.api, "GET", f"/apis/{group}/{version}/{plural}/{world.project}")
    clusters = json_request(world.api, "GET", f"/apis/core.kubefed.io/v1beta1/namespaces/{names.FEDERATION_NAMESPACE}"
                                              "/kubefedclusters")["items"]
    state = ManagementState({"projects": [project], "clusters": clusters})
    feed = PaneFeed(world.ctx.clusters, max_age=60.0)
    assert feed(state) == [], "the first call answers at once; the refresh runs in the background"
    rows = wait_until(lambda: feed(state), timeout=20, message="pane rows")
    assert rows == [ReleaseRow("feed", world.namespace, "web", "0.4.0", "1.0.0", "deployed", 1,
                                   rows[0].updated, ("dev", "prod"))]
    assert [r.revision for r in feed.view.history("prod", world.namespace, "feed")] == [1]
