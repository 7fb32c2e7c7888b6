"""HelmRelease ``spec.chartRef`` to a HelmChart (Flux's helm.toolkit.fluxcd.io/v2): the chart its HelmChart names.

Real Helm (helm_python), a chart repository over local HTTP (the operator allows it), the sandbox's clusters. A
chartRef to an OCIRepository is tests/helm/test_oci_charts.py's; both resolve in helm/charts.py::resolve_chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from tests.helm.charts import write_chart
from tests.helm.test_helm_reconcile import allow_charts, chart_repository, helm_list, publish  # noqa: F401 - fixture
from tests.world import CLUSTERS, World, assert_propagated, configmap


def helm_chart(name: str, spec: dict[str, Any]) -> str:
    return yaml.safe_dump({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
                           "metadata": {"name": name}, "spec": {"interval": "10m", **spec}})


def release(name: str, chart_ref: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": name},
                           "spec": {"interval": "5m", "chartRef": chart_ref, "values": {"greeting": "via-chartref"},
                                    **(extra or {})}})


REPOSITORY = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": {"name": "charts"}}


def test_chart_ref_to_a_helm_chart_of_a_chart_repository(world: World, chart_repository: tuple[str, Path]) -> None:
    url, served = chart_repository
    allow_charts(world, url)
    publish(url, served, "1.2.0", world.tmp)
    publish(url, served, "1.3.0", world.tmp)
    repo = world.repo("apps", {
        "deploy/repo.yaml": yaml.safe_dump({**REPOSITORY, "spec": {"url": url, "interval": "10m"}}),
        "deploy/chart.yaml": helm_chart("cache", {"chart": "cache", "version": "1.2.x",
                                                  "sourceRef": {"kind": "HelmRepository", "name": "charts"}}),
        "deploy/release.yaml": release("cache", {"kind": "HelmChart", "name": "cache"})})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("cache", 1, "deployed", "1.2.0")], "the HelmChart's version range"
        assert world.get(cluster, "configmaps", "cache-greeting")["data"] == {"greeting": "via-chartref"}
        chart = json_request(world.client(cluster), "GET", f"/apis/source.toolkit.fluxcd.io/v1/namespaces/"
                                                           f"{world.namespace}/helmcharts/cache")
        assert chart["spec"]["version"] == "1.2.x", "the HelmChart is applied, as a HelmRepository is"


def test_chart_ref_to_a_helm_chart_of_the_sources_own_repository(world: World) -> None:
    chart_dir = write_chart(world.tmp / "chart-src", name="web")
    files = {f"charts/web/{p.relative_to(chart_dir).as_posix()}": p.read_text()
             for p in chart_dir.rglob("*") if p.is_file()}
    repo = world.repo("apps", {**files, "deploy/chart.yaml": helm_chart("web", {
        "chart": "./charts/web", "sourceRef": {"kind": "GitRepository", "name": "apps"}}),
        "deploy/release.yaml": release("shop", {"kind": "HelmChart", "name": "web"})})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert world.condition("apps", names.READY)["status"] == "True", world.condition("apps", names.READY)
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("shop", 1, "deployed", "0.1.0")]


def refusal(world: World, files: dict[str, str]) -> str:
    repo = world.repo("apps", {**files, "deploy/cm.yaml": configmap("beside")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    ready = world.condition("apps", names.READY)
    assert ready["status"] == "False", ready
    assert all(world.get(c, "configmaps", "beside") is None for c in CLUSTERS), "a refused revision applies nothing"
    return str(ready["message"])


def test_a_chart_ref_to_a_helm_chart_the_revision_lacks_names_it(world: World) -> None:
    message = refusal(world, {"deploy/release.yaml": release("cache", {"kind": "HelmChart", "name": "missing"})})
    assert message == (f"HelmRelease/cache: spec.chartRef: HelmChart {world.namespace}/missing is not declared in the "
                       "source (declare it next to the HelmRelease)")


def test_chart_and_chart_ref_together_are_refused(world: World) -> None:
    both = release("cache", {"kind": "HelmChart", "name": "cache"},
                   {"chart": {"spec": {"chart": "cache", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}})
    message = refusal(world, {"deploy/release.yaml": both})
    assert message == "HelmRelease/cache: spec.chart and spec.chartRef are mutually exclusive: keep one of them"


def test_a_helm_chart_with_values_files_is_refused_by_name(world: World) -> None:
    message = refusal(world, {
        "deploy/chart.yaml": helm_chart("cache", {"chart": "cache", "valuesFiles": ["prod.yaml"],
                                                  "sourceRef": {"kind": "HelmRepository", "name": "charts"}}),
        "deploy/release.yaml": release("cache", {"kind": "HelmChart", "name": "cache"})})
    assert message == ("HelmRelease/cache: HelmChart cache spec.valuesFiles is not supported; use spec.values or "
                       "spec.valuesFrom")
