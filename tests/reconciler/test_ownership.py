"""One owner per object: the podinfo-style overlap of a kustomize source and a HelmRelease, adoption, prune of owned objects only."""

from __future__ import annotations

import threading
from typing import Any

import helm_python as helm
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.world import CLUSTERS, World, assert_propagated, configmap
from tests.world import HELM_RELEASE as SHOP

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
      - name: podinfod
        image: ghcr.io/stefanprodan/podinfo:6.5.0
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  selector: {app: podinfo}
  ports:
  - {name: http, port: 9898, targetPort: 9898}
"""
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n- service.yaml\n- own.yaml\n"
CHART = "apiVersion: v2\nname: podinfo\nversion: 6.5.0\nappVersion: 6.5.0\n"
HELM_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  interval: 5m
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef: {kind: GitRepository, name: podinfo-helm}
"""


def podinfo_repo(world: World) -> str:
    """podinfo's layout: kustomize/ and a chart rendering the same Deployment and Service, plus a HelmRelease of it."""
    repo = world.repo("podinfo", {
        "kustomize/kustomization.yaml": KUSTOMIZATION,
        "kustomize/deployment.yaml": DEPLOYMENT,
        "kustomize/service.yaml": SERVICE,
        "kustomize/own.yaml": configmap("kustomize-only"),
        "charts/podinfo/Chart.yaml": CHART,
        "charts/podinfo/templates/deployment.yaml": DEPLOYMENT,
        "charts/podinfo/templates/service.yaml": SERVICE,
        "charts/podinfo/templates/own.yaml": configmap("helm-only"),
        "helm/release.yaml": HELM_RELEASE,
    })
    return f"file://{repo}"


def live(world: World, cluster: str, path: str) -> dict[str, Any] | None:
    """A live object in the project namespace by its path under the namespace (None when absent)."""
    base = "/api/v1" if path.startswith(("services", "configmaps")) else "/apis/apps/v1"
    try:
        return json_request(world.client(cluster), "GET", f"{base}/namespaces/{world.namespace}/{path}")
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def source_label(obj: dict[str, Any] | None) -> str | None:
    """The gitops-tui.io/source label of a live object."""
    return ((obj or {}).get("metadata") or {}).get("labels", {}).get(names.LABEL_SOURCE)


def delete_source(world: World, name: str) -> None:
    """Delete a source the way the operator does, and run its finalizer."""
    actions.delete_source(world.api, world.project, name)
    world.reconcile(name)
    assert world.source(name).kustomization is None, "the finalizer finished"


def assert_refused(world: World, name: str, other: str) -> str:
    """The source is Ready False with OwnershipConflict naming the object, a cluster, itself and the other owner."""
    ready = world.condition(name, names.READY)
    assert ready["status"] == "False" and ready["reason"] == "OwnershipConflict", ready
    message = ready["message"]
    assert "podinfo" in message and any(f" on {c}" in message for c in CLUSTERS), message
    assert f"source {other}" in message and f"source {name}" in message, message
    rows = {c["name"]: c for c in world.status(name)["clusters"]}
    assert all(rows[c]["status"] == "OwnershipConflict" and f" on {c}" in rows[c]["message"] for c in CLUSTERS), rows
    warnings = [e for e in world.events(name) if e["reason"] == "OwnershipConflict"]
    assert warnings and warnings[-1]["type"] == "Warning"
    return message


def test_kustomize_first_then_helm_release_is_refused_and_deleting_it_keeps_the_objects(world: World) -> None:
    url = podinfo_repo(world)
    world.create("podinfo-kustomize", url, path="./kustomize")
    world.create("podinfo-helm", url, path="./helm")
    world.reconcile("podinfo-kustomize")
    assert_propagated(world, "podinfo-kustomize", f"main@sha1:{world.head(world.tmp / 'podinfo')}")
    writes = world.writes.count()

    world.reconcile("podinfo-helm")
    message = assert_refused(world, "podinfo-helm", "podinfo-kustomize")
    assert "Deployment" in message or "Service" in message
    assert world.writes.count() == writes, "nothing of the refused revision is written"
    for cluster in CLUSTERS:
        assert source_label(live(world, cluster, "deployments/podinfo")) == "podinfo-kustomize"
        assert source_label(live(world, cluster, "services/podinfo")) == "podinfo-kustomize"
        assert live(world, cluster, "configmaps/helm-only") is None, "the chart was not installed"

    delete_source(world, "podinfo-helm")
    for cluster in CLUSTERS:
        assert source_label(live(world, cluster, "deployments/podinfo")) == "podinfo-kustomize", cluster
        assert source_label(live(world, cluster, "services/podinfo")) == "podinfo-kustomize", cluster
        assert live(world, cluster, "configmaps/kustomize-only") is not None


def test_helm_release_first_then_kustomize_is_refused_and_deleting_it_keeps_the_release(world: World) -> None:
    url = podinfo_repo(world)
    world.create("podinfo-helm", url, path="./helm")
    world.create("podinfo-kustomize", url, path="./kustomize")
    world.reconcile("podinfo-helm")
    assert_propagated(world, "podinfo-helm", f"main@sha1:{world.head(world.tmp / 'podinfo')}")

    world.reconcile("podinfo-kustomize")
    assert_refused(world, "podinfo-kustomize", "podinfo-helm")
    for cluster in CLUSTERS:
        assert live(world, cluster, "configmaps/kustomize-only") is None, "nothing of the refused revision is applied"

    delete_source(world, "podinfo-kustomize")
    for cluster in CLUSTERS:
        deployment = live(world, cluster, "deployments/podinfo")
        assert source_label(deployment) == "podinfo-helm", cluster
        assert deployment["metadata"]["annotations"]["meta.helm.sh/release-name"] == "podinfo"
        assert source_label(live(world, cluster, "services/podinfo")) == "podinfo-helm"
        assert live(world, cluster, "configmaps/helm-only") is not None

    # The Helm source still owns its objects: deleting it uninstalls the release and removes them.
    delete_source(world, "podinfo-helm")
    for cluster in CLUSTERS:
        assert live(world, cluster, "deployments/podinfo") is None, "the Helm source owned and removed them"


def test_two_plain_sources_rendering_one_object_are_refused_before_either_applies_twice(world: World) -> None:
    first = world.repo("first", {"cm.yaml": configmap("shared", "first")})
    second = world.repo("second", {"cm.yaml": configmap("shared", "second"), "own.yaml": configmap("second-own")})
    world.create("first", f"file://{first}")
    world.create("second", f"file://{second}")
    world.reconcile("first")
    world.reconcile("second")
    ready = world.condition("second", names.READY)
    assert ready["reason"] == "OwnershipConflict" and "ConfigMap" in ready["message"] and "shared" in ready["message"]
    assert "source first" in ready["message"], ready["message"]
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "shared")["data"] == {"value": "first"}
        assert world.get(cluster, "configmaps", "second-own") is None

    # The first source drops the object but keeps it on the clusters (prune off): nobody declares it any more,
    # so the second source adopts it, with an Adopted Event.
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "first", {"prune": False})
    commit(first, {"cm.yaml": configmap("other", "first")})
    world.reconcile("first")
    world.reconcile("second")
    assert_propagated(world, "second", f"main@sha1:{world.head(second)}")
    assert all(world.get(c, "configmaps", "shared")["data"] == {"value": "second"} for c in CLUSTERS)
    adopted = [e["message"] for e in world.events("second") if e["reason"] == "Adopted"]
    assert len(adopted) == 3 and all("ConfigMap" in m and "shared" in m for m in adopted), adopted


def test_an_object_made_by_hand_is_adopted_with_an_event(world: World, sandbox: Any) -> None:
    manifest = yaml.safe_load(configmap("by-hand", "kubectl"))
    manifest["metadata"]["namespace"] = world.namespace
    sandbox.kubectl("dev", "apply", "-f", "-", input=yaml.safe_dump(manifest))
    repo = world.repo("adopt", {"cm.yaml": configmap("by-hand", "git")})
    world.create("adopt", f"file://{repo}")
    world.reconcile("adopt")
    assert_propagated(world, "adopt", f"main@sha1:{world.head(repo)}")
    assert world.get("dev", "configmaps", "by-hand")["data"] == {"value": "git"}
    adopted = [e for e in world.events("adopt") if e["reason"] == "Adopted"]
    assert len(adopted) == 1 and "by-hand" in adopted[0]["message"] and "dev" in adopted[0]["message"]
    applied = [e["message"] for e in world.events("adopt") if e["reason"] == "Applied"]
    assert any("to dev: 1 objects (0 new)" in m for m in applied), applied
    assert any("to prod: 1 objects (1 new)" in m for m in applied), applied


def test_prune_leaves_an_object_another_source_took_over(world: World, sandbox: Any) -> None:
    repo = world.repo("leaver", {"a.yaml": configmap("stays"), "b.yaml": configmap("taken")})
    world.create("leaver", f"file://{repo}")
    world.reconcile("leaver")
    # Someone relabels the object by hand for another owner, then git drops it from this source.
    for cluster in CLUSTERS:
        sandbox.kubectl(cluster, "-n", world.namespace, "label", "configmap", "taken", "--overwrite",
                        f"{names.LABEL_SOURCE}=someone-else")
    commit(repo, {"b.yaml": None})
    world.reconcile("leaver")
    assert_propagated(world, "leaver", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "taken") is not None, "prune touches only what the source owns"
    applied = [e["message"] for e in world.events("leaver") if e["reason"] == "Applied"]
    assert any("not pruned" in m and "taken" in m for m in applied), applied


@pytest.mark.parametrize("order", ["helm", "hand"])
def test_helm_follows_helms_adoption_rule(world: World, sandbox: Any, order: str) -> None:
    """A chart object that exists without Helm's ownership metadata refuses the release with Helm's own words."""
    repo = world.repo("rule", {
        "charts/podinfo/Chart.yaml": CHART,
        "charts/podinfo/templates/own.yaml": configmap("helm-only"),
        "helm/release.yaml": HELM_RELEASE,
    })
    manifest = yaml.safe_load(configmap("helm-only", "by hand"))
    manifest["metadata"]["namespace"] = world.namespace
    if order == "helm":
        manifest["metadata"]["annotations"] = {"meta.helm.sh/release-name": "another",
                                               "meta.helm.sh/release-namespace": world.namespace}
        manifest["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    sandbox.kubectl("staging", "apply", "-f", "-", input=yaml.safe_dump(manifest))
    world.create("rule", f"file://{repo}", path="./helm")
    world.reconcile("rule")
    ready = world.condition("rule", names.READY)
    assert ready["reason"] == "OwnershipConflict", ready
    assert 'ConfigMap "helm-only" in namespace' in ready["message"] and "cannot be imported into the current release" \
        in ready["message"], ready["message"]
    expected = ('key "meta.helm.sh/release-name" must equal "podinfo": current value is "another"' if order == "helm"
                else 'missing key "app.kubernetes.io/managed-by": must be set to "Helm"')
    assert expected in ready["message"], ready["message"]
    assert "staging" in ready["message"]
    for cluster in ("dev", "prod"):
        assert world.get(cluster, "configmaps", "helm-only") is None, "nothing applied anywhere"


def test_one_source_rendering_an_object_twice_is_refused(world: World) -> None:
    """A plain manifest and the source's own HelmRelease both rendering ConfigMap shop-greeting: refused, not raced."""
    repo = world.repo("twice", {"deploy/hr.yaml": SHOP % "hello", "deploy/cm.yaml": configmap("shop-greeting")})
    write_chart(repo / "charts")
    commit(repo, {}, "chart")
    world.create("twice", f"file://{repo}", path="./deploy")
    world.reconcile("twice")
    ready = world.condition("twice", names.READY)
    assert ready["reason"] == "OwnershipConflict", ready
    assert "shop-greeting" in ready["message"] and "rendered twice by source twice" in ready["message"], ready
    assert all(world.get(c, "configmaps", "shop-greeting") is None for c in CLUSTERS)


def test_two_sources_applying_one_object_at_the_same_time_get_one_owner(world: World) -> None:
    """Both first reconciles run at once on empty clusters: the project lock lets exactly one of them own the objects."""
    repos = {name: world.repo(name, {"cm.yaml": configmap("contested", name), f"{name}.yaml": configmap(f"{name}-own")})
             for name in ("left", "right")}
    for name, repo in repos.items():
        world.create(name, f"file://{repo}")
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        barrier.wait(timeout=10)
        world.reconcile(name)

    threads = [threading.Thread(target=run, args=(name,)) for name in repos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    reasons = {name: world.condition(name, names.READY).get("reason") for name in repos}
    assert sorted(reasons.values()) == ["OwnershipConflict", "ReconciliationSucceeded"], reasons
    winner = next(name for name, reason in reasons.items() if reason == "ReconciliationSucceeded")
    loser = next(name for name in repos if name != winner)
    for cluster in CLUSTERS:
        contested = world.get(cluster, "configmaps", "contested")
        assert contested["data"] == {"value": winner} and source_label(contested) == winner
        assert world.get(cluster, "configmaps", f"{loser}-own") is None


def test_an_object_of_a_release_installed_with_helm_is_not_taken(world: World, sandbox: Any) -> None:
    """Real Helm installs a release on dev by hand; a plain source declaring one of its objects is refused there."""
    chart = write_chart(world.tmp / "by-helm")
    config = helm.Config(kubeconfig_path=str(sandbox.kubeconfig), kube_context="dev", namespace=world.namespace)
    config.install(str(chart), "manual", namespace=world.namespace)
    repo = world.repo("plain", {"cm.yaml": configmap("manual-greeting", "from git")})
    world.create("plain", f"file://{repo}")
    world.reconcile("plain")
    ready = world.condition("plain", names.READY)
    assert ready["reason"] == "OwnershipConflict", ready
    assert f"owned by Helm release {world.namespace}/manual" in ready["message"] and "on dev" in ready["message"]
    assert world.get("dev", "configmaps", "manual-greeting")["data"] == {"greeting": "hello"}
    assert all(world.get(c, "configmaps", "manual-greeting") is None for c in ("staging", "prod"))
