"""HelmRelease objects end to end through reconcile_source: real git, real Helm, dev/staging/prod in the sandbox."""

from __future__ import annotations

import base64
import functools
import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.helm.cluster_view import collect
from gitops_tui.kube.client import json_request
from gitops_tui.kube.outbound import FetchPolicy
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.world import CLUSTERS, World, assert_propagated, configmap

HR_PATH = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/{ns}/helmreleases/{name}"


def helm_release(name: str, values: dict[str, Any] | None = None, *, chart: str = "./charts/web",
                 source: tuple[str, str] = ("GitRepository", "apps"), **spec: Any) -> str:
    """A HelmRelease manifest (no namespace: tenancy sets the project's)."""
    chart_spec: dict[str, Any] = {"chart": chart, "sourceRef": {"kind": source[0], "name": source[1]}}
    if "version" in spec:
        chart_spec["version"] = spec.pop("version")
    body = {"chart": {"spec": chart_spec}, "interval": "5m", "values": values or {}, **spec}
    return yaml.safe_dump({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                           "metadata": {"name": name}, "spec": body}, sort_keys=False)


def storage_secrets(world: World, cluster: str, release: str) -> list[dict[str, Any]]:
    """Helm's storage Secrets of one release on one cluster, by revision."""
    listed = json_request(world.client(cluster), "GET", f"/api/v1/namespaces/{world.namespace}/secrets",
                          query={"labelSelector": f"owner=helm,name={release}"})
    return sorted(listed.get("items") or [], key=lambda s: int(s["metadata"]["labels"]["version"]))


def decode(secret: dict[str, Any]) -> dict[str, Any]:
    """Decode a storage Secret by hand, as Helm's secret driver does: base64, base64, gunzip, JSON."""
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def helm_list(world: World, cluster: str) -> list[tuple[str, int, str, str]]:
    """Real Helm's own listing (helm_python) of the project namespace on one cluster."""
    config = helm.Config(kubeconfig_path=str(world.sandbox.kubeconfig), kube_context=cluster, namespace=world.namespace)
    return sorted((r["name"], r["revision"], r["status"], r["chart_version"]) for r in config.list(all_states=True))


def live_release(world: World, cluster: str, name: str) -> dict[str, Any] | None:
    """The HelmRelease object on a cluster (None when absent)."""
    try:
        return json_request(world.client(cluster), "GET", HR_PATH.format(ns=world.namespace, name=name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def conditions(obj: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Conditions of an object by type."""
    return {c["type"]: c for c in ((obj or {}).get("status") or {}).get("conditions") or []}


def _chart_repo(world: World) -> Path:
    repo = world.repo("apps", {"deploy/values.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-values\n"
                                                     "data:\n  values.yaml: |\n    replicaCount: 2\n    greeting: from-configmap\n"})
    write_chart(repo / "charts", version="0.1.0", app_version="1.0.0")
    commit(repo, {}, "chart")
    return repo


def test_git_chart_released_everywhere_upgraded_and_uninstalled(world: World) -> None:
    repo = _chart_repo(world)
    release = helm_release("shop", {"greeting": "hello"}, releaseName="storefront", maxHistory=2,
                           valuesFrom=[{"kind": "ConfigMap", "name": "shop-values"}])
    commit(repo, {"deploy/shop.yaml": release})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")

    for cluster in CLUSTERS:
        (secret,) = storage_secrets(world, cluster, "storefront")
        assert secret["type"] == "helm.sh/release.v1"
        assert secret["metadata"]["name"] == "sh.helm.release.v1.storefront.v1"
        labels = secret["metadata"]["labels"]
        assert {k: labels[k] for k in ("name", "owner", "status", "version")} == {
            "name": "storefront", "owner": "helm", "status": "deployed", "version": "1"}
        stored = decode(secret)
        assert stored["chart"]["metadata"]["name"] == "web" and stored["chart"]["metadata"]["version"] == "0.1.0"
        assert stored["config"] == {"replicaCount": 2, "greeting": "hello"}, "valuesFrom, then spec.values on top"
        assert helm_list(world, cluster) == [("storefront", 1, "deployed", "0.1.0")]
        assert world.get(cluster, "configmaps", "storefront-greeting")["data"] == {"greeting": "hello"}
        assert world.get(cluster, "deployments", "storefront-web")["spec"]["replicas"] == 2
        live = live_release(world, cluster, "shop")
        assert conditions(live)["Ready"]["status"] == "True"
        assert conditions(live)["Released"]["reason"] == "InstallSucceeded"
        assert [h["version"] for h in live["status"]["history"]] == [1]

    world.reconcile("apps")
    assert not [e for e in world.events("apps") if e.get("reason") == "DriftDetected"], "a released source has no drift"
    assert [len(storage_secrets(world, c, "storefront")) for c in CLUSTERS] == [1, 1, 1], "nothing new to release"

    # Someone installs a release by hand with real Helm: the view lists it beside ours, the reconciler leaves it.
    other = write_chart(world.tmp / "by-hand", name="cache", version="3.1.0", app_version="9")
    helm.Config(kubeconfig_path=str(world.sandbox.kubeconfig), kube_context="staging",
                namespace=world.namespace).install(helm.Chart.load(other), "cache", {})
    listed = json.loads(world.sandbox.cli("get", "helmreleases", "-p", world.project, "-o", "json").stdout)["items"]
    assert [(i["name"], i["chart"], i["chartVersion"], i["clusters"]) for i in listed] == [
        ("cache", "cache", "3.1.0", ["staging"]),
        ("storefront", "web", "0.1.0", ["dev", "prod", "staging"]),
    ]

    commit(repo, {"deploy/shop.yaml": release.replace("greeting: hello", "greeting: bonjour")})
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster)[-1] == ("storefront", 2, "deployed", "0.1.0")
        revisions = [decode(s) for s in storage_secrets(world, cluster, "storefront")]
        assert [(r["version"], r["info"]["status"]) for r in revisions] == [(1, "superseded"), (2, "deployed")]
        assert revisions[1]["config"]["greeting"] == "bonjour"
        assert world.get(cluster, "configmaps", "storefront-greeting")["data"] == {"greeting": "bonjour"}
        assert conditions(live_release(world, cluster, "shop"))["Released"]["reason"] == "UpgradeSucceeded"

    write_chart(repo / "charts", version="0.2.0", app_version="1.1.0")
    commit(repo, {}, "chart 0.2.0")
    world.reconcile("apps")
    view = collect(world.ctx.clusters, CLUSTERS, [world.namespace])
    row = next(r for r in view.rows if r.name == "storefront")
    assert (row.chart_version, row.app_version, row.revision, row.clusters) == ("0.2.0", "1.1.0", 3, tuple(sorted(CLUSTERS)))
    assert [r.revision for r in view.history("prod", world.namespace, "storefront")] == [3, 2], "maxHistory 2 trims"

    commit(repo, {"deploy/shop.yaml": None})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert storage_secrets(world, cluster, "storefront") == []
        assert world.get(cluster, "configmaps", "storefront-greeting") is None
        assert world.get(cluster, "deployments", "storefront-web") is None
        assert live_release(world, cluster, "shop") is None
    assert helm_list(world, "staging") == [("cache", 1, "deployed", "3.1.0")], "the hand-made release stays"


@pytest.fixture
def chart_repository(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Helm chart repository over HTTP on 127.0.0.1: packaged charts and an index made by real Helm."""
    served = tmp_path / "chart-repo"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="chart-repo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        return


def publish(url: str, served: Path, version: str, work: Path) -> None:
    """Package the test chart at `version` into the repository and regenerate its index."""
    chart = write_chart(work / f"src-{version}", name="cache", version=version, app_version=f"app-{version}")
    helm.package(chart, destination=served)
    helm.repo_index_generate(served, base_url=url)


def allow_charts(world: World, url: str) -> None:
    """The operator's allow-list for this test's chart repository on loopback (`run --allow-fetch URL/*`)."""
    world.ctx.fetch_policy = FetchPolicy([f"{url}/*"])


def test_chart_from_a_chart_repository(world: World, chart_repository: tuple[str, Path]) -> None:
    url, served = chart_repository
    allow_charts(world, url)
    publish(url, served, "1.2.0", world.tmp)
    publish(url, served, "1.3.0", world.tmp)
    repository = yaml.safe_dump({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
                                 "metadata": {"name": "charts"}, "spec": {"url": url, "interval": "10m"}})
    release = helm_release("cache", {"greeting": "repo"}, chart="cache", source=("HelmRepository", "charts"),
                           version="1.2.0")
    repo = world.repo("apps", {"deploy/repo.yaml": repository, "deploy/cache.yaml": release})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("cache", 1, "deployed", "1.2.0")]
        assert decode(storage_secrets(world, cluster, "cache")[0])["chart"]["metadata"]["appVersion"] == "app-1.2.0"
        assert world.get(cluster, "configmaps", "cache-greeting")["data"] == {"greeting": "repo"}

    commit(repo, {"deploy/cache.yaml": release.replace("version: 1.2.0", "version: '>=1.3.0'")})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("cache", 2, "deployed", "1.3.0")]
        assert conditions(live_release(world, cluster, "cache"))["Released"]["reason"] == "UpgradeSucceeded"


BAD_TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-bad\ndata:\n  x: {{ .Values.greeting | nosuchfunction }}\n"
REQUIRED = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-db\ndata:\n"
            "  host: {{ required \"databaseHost is required\" .Values.databaseHost | quote }}\n")


def test_bad_inputs_fail_with_helms_message_and_apply_nothing(world: World) -> None:
    repo = _chart_repo(world)
    good = helm_release("shop", {"greeting": "hello"})
    commit(repo, {"deploy/shop.yaml": good})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")

    cases = {
        "template error": ({"charts/web/templates/bad.yaml": BAD_TEMPLATE}, good, 'function "nosuchfunction" not defined'),
        "missing required value": ({"charts/web/templates/db.yaml": REQUIRED}, good, "databaseHost is required"),
        "chart path missing": ({}, helm_release("shop", {"greeting": "hello"}, chart="./charts/nope"), "./charts/nope"),
        "schema violation": ({}, helm_release("shop", {"replicaCount": "many"}), "replicaCount"),
    }
    for label, (chart_files, manifest, expected) in cases.items():
        commit(repo, {**chart_files, "deploy/shop.yaml": manifest, "deploy/added.yaml": configmap("added")}, label)
        world.reconcile("apps")
        ready = world.condition("apps", names.READY)
        assert ready.get("status") == "False", (label, ready)
        assert expected in ready["message"] and "HelmRelease/shop" in ready["message"], (label, ready)
        rows = {c["name"]: c for c in world.status("apps")["clusters"]}
        for cluster in CLUSTERS:
            assert expected in rows[cluster]["message"], (label, rows[cluster])
            assert world.get(cluster, "configmaps", "added") is None, f"{label}: nothing of the revision applied"
            assert helm_list(world, cluster) == [("shop", 1, "deployed", "0.1.0")], label
            assert world.get(cluster, "configmaps", "shop-greeting")["data"] == {"greeting": "hello"}
            # Every cluster is prepared before the revision is refused: each HelmRelease shows Helm's message.
            failed = conditions(live_release(world, cluster, "shop"))
            assert failed["Ready"]["status"] == "False" and expected in failed["Ready"]["message"], (label, failed)
            assert failed["Released"]["status"] == "False" and failed["Released"]["reason"] in (
                "InstallFailed", "UpgradeFailed", "ArtifactFailed"), failed
        print(f"{label}: {ready['message']}")
        commit(repo, {**{name: None for name in chart_files}, "deploy/shop.yaml": good, "deploy/added.yaml": None},
               f"undo {label}")

    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert conditions(live_release(world, cluster, "shop"))["Ready"]["status"] == "True", cluster


def _secret_values(world: World, cluster: str) -> None:
    """Create the Secret `shop-secret-values` (values.yaml) in the project namespace of one cluster, by hand."""
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-secret-values"},
            "data": {"values.yaml": base64.b64encode(b"greeting: from-secret\n").decode()}}
    json_request(world.client(cluster), "POST", f"/api/v1/namespaces/{world.namespace}/secrets", body)


def test_a_failure_on_one_cluster_is_recorded_there_and_refuses_the_revision(world: World) -> None:
    repo = _chart_repo(world)
    good = helm_release("shop", {"greeting": "hello"})
    commit(repo, {"deploy/shop.yaml": good})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")

    # The new revision reads values from a Secret that exists on dev and staging only.
    for cluster in ("dev", "staging"):
        _secret_values(world, cluster)
    from_secret = helm_release("shop", {}, valuesFrom=[{"kind": "Secret", "name": "shop-secret-values"}])
    commit(repo, {"deploy/shop.yaml": from_secret, "deploy/added.yaml": configmap("added")})
    world.reconcile("apps")
    rows = {c["name"]: c for c in world.status("apps")["clusters"]}
    missing = f"could not find Secret '{world.namespace}/shop-secret-values'"
    assert rows["prod"]["status"] in ("InstallFailed", "UpgradeFailed"), rows["prod"]
    assert missing in rows["prod"]["message"] and "HelmRelease/shop" in rows["prod"]["message"], rows["prod"]
    for cluster in ("dev", "staging"):
        assert rows[cluster]["status"], f"{cluster}: the revision is refused there too"
        assert f"prod: HelmRelease/shop: {missing}" in rows[cluster]["message"], rows[cluster]
        assert conditions(live_release(world, cluster, "shop"))["Ready"]["status"] == "True", "dev/staging prepared fine"
    assert world.condition("apps", names.READY)["status"] == "False"
    assert f"prod: HelmRelease/shop: {missing}" in world.condition("apps", names.READY)["message"]
    prod = conditions(live_release(world, "prod", "shop"))
    assert prod["Ready"]["status"] == "False" and missing in prod["Ready"]["message"], prod
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "added") is None, f"{cluster}: nothing of the revision applied"
        assert world.get(cluster, "configmaps", "shop-greeting")["data"] == {"greeting": "hello"}, cluster
        assert helm_list(world, cluster) == [("shop", 1, "deployed", "0.1.0")], cluster

    _secret_values(world, "prod")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "shop-greeting")["data"] == {"greeting": "from-secret"}, cluster
        assert conditions(live_release(world, cluster, "shop"))["Ready"]["status"] == "True", cluster
