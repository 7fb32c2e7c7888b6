"""Helm like Helm: vendored subcharts render, a missing one refuses the release, Chart.lock is honoured, unsupported fields are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from gitops_tui.api import names
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import helm_release, storage_secrets
from tests.world import CLUSTERS, World, assert_propagated, configmap

PARENT = """apiVersion: v2
name: shop
version: 1.0.0
dependencies:
- name: cache
  version: "0.2.0"
  repository: "file://../cache"
  condition: cache.enabled
"""
CACHE = "apiVersion: v2\nname: cache\nversion: {version}\n"
CM_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ .Release.Name }}}}-{suffix}
data:
  greeting: {{{{ .Values.greeting | default "hi" | quote }}}}
"""
LOCK = "dependencies:\n- name: cache\n  repository: file://../cache\n  version: {version}\ndigest: sha256:0\ngenerated: \"2026-01-01T00:00:00Z\"\n"


def write_cache(root: Path, version: str = "0.2.0") -> Path:
    """The subchart `cache` (one ConfigMap) as a directory under ``root``."""
    chart = root / "cache"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CACHE.format(version=version))
    (chart / "values.yaml").write_text("greeting: from-cache\n")
    (chart / "templates" / "cm.yaml").write_text(CM_TEMPLATE.format(suffix="cache"))
    return chart


def shop_repo(world: World, vendored: str, lock: str = "") -> Path:
    """A repository with the chart `shop` depending on `cache`, vendored as ``vendored`` ("dir", "tgz" or "none")."""
    repo = world.repo("shop", {"deploy/hr.yaml": helm_release("shop", chart="./charts/shop")})
    shop = repo / "charts" / "shop"
    (shop / "templates").mkdir(parents=True)
    (shop / "Chart.yaml").write_text(PARENT)
    (shop / "templates" / "cm.yaml").write_text(CM_TEMPLATE.format(suffix="shop"))
    if lock:
        (shop / "Chart.lock").write_text(LOCK.format(version=lock))
    if vendored == "dir":
        write_cache(shop / "charts")
    elif vendored == "tgz":
        source = write_cache(world.tmp / "cache-src")
        helm.package(source, destination=shop / "charts")
        assert list((shop / "charts").glob("cache-0.2.0.tgz")), "real Helm packaged the subchart"
        shutil.rmtree(world.tmp / "cache-src")
    commit(repo, {}, "chart")
    world.create("shop", f"file://{repo}", path="./deploy")
    return repo


@pytest.mark.parametrize("vendored", ["dir", "tgz"])
def test_a_vendored_subchart_renders_on_every_cluster(world: World, vendored: str) -> None:
    repo = shop_repo(world, vendored, lock="0.2.0")
    world.reconcile("shop")
    assert_propagated(world, "shop", f"main@sha1:{world.head(repo)}")
    ns = world.namespace
    inventories = {row["name"]: {i["id"] for i in row["inventory"]} for row in world.status("shop")["clusters"]}
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "shop-shop")["data"] == {"greeting": "hi"}
        cache = world.get(cluster, "configmaps", "shop-cache")
        assert cache["data"] == {"greeting": "from-cache"}
        assert cache["metadata"]["labels"][names.LABEL_SOURCE] == "shop", "the subchart's objects carry their owner"
        assert cache["metadata"]["annotations"]["meta.helm.sh/release-name"] == "shop"
        assert len(storage_secrets(world, cluster, "shop")) == 1
        # The release's objects, the subchart's included, are the source's: in its inventory on every cluster.
        assert {f"{ns}_shop_helm.toolkit.fluxcd.io_HelmRelease", f"{ns}_shop-shop__ConfigMap",
                f"{ns}_shop-cache__ConfigMap"} <= inventories[cluster], inventories[cluster]


def test_a_dependency_missing_from_charts_refuses_the_release_with_helms_message(world: World) -> None:
    shop_repo(world, "none")
    world.reconcile("shop")
    ready = world.condition("shop", names.READY)
    assert ready["status"] == "False", ready
    assert ("HelmRelease/shop: An error occurred while checking for chart dependencies. You may need to run "
            "`helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ "
            "directory: cache") in ready["message"], ready["message"]
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "shop-shop") is None, "no empty release is installed"
        assert storage_secrets(world, cluster, "shop") == []


def test_a_vendored_version_other_than_chart_lock_is_refused(world: World) -> None:
    shop_repo(world, "dir", lock="0.1.0")
    world.reconcile("shop")
    ready = world.condition("shop", names.READY)
    assert "dependency cache is locked at version 0.1.0 in Chart.lock, but charts/ holds version 0.2.0" \
        in ready["message"], ready["message"]
    assert all(world.get(c, "configmaps", "shop-shop") is None for c in CLUSTERS)


UNSUPPORTED = {
    "chartRef": ({"chartRef": {"kind": "ExternalArtifact", "name": "podinfo"}},
                 "spec.chartRef.kind ExternalArtifact is not supported; use OCIRepository or HelmChart, or spec.chart"),
    "oci": ({"chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "OCIRepository", "name": "podinfo"}}}},
            "spec.chart.spec.sourceRef.kind OCIRepository is not supported"),
    "postRenderers": ({"postRenderers": [{"kustomize": {"patches": []}}]}, "postRenderers is not supported"),
    "valuesFiles": ({"chart": {"spec": {"chart": "./charts/web", "valuesFiles": ["prod.yaml"],
                                        "sourceRef": {"kind": "GitRepository", "name": "x"}}}},
                    "spec.chart.spec.valuesFiles is not supported"),
}


@pytest.mark.parametrize("field", sorted(UNSUPPORTED))
def test_unsupported_fields_are_refused_by_name(world: World, field: str) -> None:
    spec, words = UNSUPPORTED[field]
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "odd"},
               "spec": {"interval": "5m", **spec}}
    repo = world.repo("odd", {"deploy/hr.yaml": yaml.safe_dump(release), "deploy/cm.yaml": configmap("beside")})
    world.create("odd", f"file://{repo}", path="./deploy")
    world.reconcile("odd")
    ready = world.condition("odd", names.READY)
    assert ready["status"] == "False" and f"HelmRelease/odd: {words}" in ready["message"], ready["message"]
    assert all(world.get(c, "configmaps", "beside") is None for c in CLUSTERS)


def test_generate_name_and_a_chart_as_plain_path_say_what_to_do(world: World) -> None:
    job = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n    spec:\n"
           "      restartPolicy: Never\n      containers: [{name: m, image: busybox}]\n")
    repo = world.repo("hints", {"jobs/job.yaml": job, "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
                                "charts/web/templates/cm.yaml": configmap("web")})
    world.create("jobs", f"file://{repo}", path="./jobs")
    world.create("chart", f"file://{repo}", path="./charts/web")
    world.reconcile("jobs")
    world.reconcile("chart")
    jobs = world.condition("jobs", names.READY)
    assert jobs["reason"] == "ValidationFailed" and "uses metadata.generateName" in jobs["message"], jobs
    assert "give it a fixed metadata.name" in jobs["message"]
    chart = world.condition("chart", names.READY)
    assert "is a Helm chart (it holds Chart.yaml)" in chart["message"] and "HelmRelease" in chart["message"], chart
