"""The installer on a real sandbox cluster, checked by real Helm (helm_python) reading the same storage."""

from __future__ import annotations

import base64
import json
from datetime import UTC
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from gitops_tui.helm.crds import helm_crd_manifests
from gitops_tui.helm.errors import INSTALL_FAILED, UPGRADE_FAILED, HelmReleaseFailed
from gitops_tui.helm.installer import install, prepare, stored_releases, uninstall
from gitops_tui.helm.listing import records_from_secrets, release_rows
from gitops_tui.helm.status import write_status
from gitops_tui.kube.apply import apply_object, get_object
from tests.helm.charts import write_chart

NAMESPACE = "team-a"
NOW = "2026-01-01T00:00:00Z"


def _helm_release(values: dict | None = None, **spec: object) -> dict:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "shop", "namespace": NAMESPACE},
        "spec": {
            "chart": {"spec": {"chart": "./charts/web", "sourceRef": {"kind": "GitRepository", "name": "apps"}}},
            "values": values or {},
            **spec,
        },
    }


@pytest.fixture(scope="module")
def cluster(dynamic_client, kubectl):
    """The sandbox cluster with the project namespace and Flux's Helm CRDs."""
    kubectl("create", "namespace", NAMESPACE)
    for crd in helm_crd_manifests():
        apply_object(dynamic_client, crd)
    return dynamic_client


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    write_chart(tmp_path / "charts", version="0.1.0")
    return tmp_path


def _release_once(dynamic, hr: dict, checkout: Path) -> object:
    prepared = prepare(dynamic, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    return install(dynamic, prepared, labels={"gitops-tui.io/source": "apps"}, now=NOW, modified_at=1, should_stop=lambda: False)


def test_install_upgrade_and_uninstall_seen_by_helm(cluster, checkout: Path, sandbox_kubeconfig: Path) -> None:
    hr = _helm_release({"greeting": "hello"}, maxHistory=2)
    outcome = _release_once(cluster, hr, checkout)
    assert (outcome.action, outcome.revision, outcome.chart_version) == ("install", 1, "0.1.0")
    configmap = get_object(cluster, "v1", "ConfigMap", "shop-greeting", NAMESPACE)
    assert configmap["data"] == {"greeting": "hello"}
    assert configmap["metadata"]["annotations"]["meta.helm.sh/release-name"] == "shop"

    helm_config = helm.Config(kubeconfig_path=str(sandbox_kubeconfig), namespace=NAMESPACE)
    listed = helm_config.list(all_states=True)
    assert [(r["name"], r["revision"], r["status"], r["chart_version"]) for r in listed] == [("shop", 1, "deployed", "0.1.0")]
    assert helm_config.get_values("shop") == {"greeting": "hello"}

    assert _release_once(cluster, hr, checkout).action == "unchanged", "same chart and values: no new revision"

    hr["spec"]["values"] = {"greeting": "bonjour"}
    assert _release_once(cluster, hr, checkout).revision == 2
    history = helm_config.history("shop")
    assert [(r["revision"], r["status"]) for r in history] == [(1, "superseded"), (2, "deployed")]
    assert get_object(cluster, "v1", "ConfigMap", "shop-greeting", NAMESPACE)["data"] == {"greeting": "bonjour"}

    hr["spec"]["values"] = {"greeting": "hola"}
    _release_once(cluster, hr, checkout)
    assert [int(r["version"]) for r in stored_releases(cluster, NAMESPACE, "shop")] == [2, 3], "maxHistory trims"

    apply_object(cluster, hr)
    write_status(cluster, hr, outcome=_release_once(cluster, hr, checkout), failure=None, now=NOW)
    live = get_object(cluster, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "shop", NAMESPACE)
    ready = {c["type"]: c for c in live["status"]["conditions"]}
    assert ready["Ready"]["status"] == "True"
    assert ready["Released"]["reason"] == "UpgradeSucceeded", "unchanged at revision 3 keeps the upgrade reason"
    assert [h["version"] for h in live["status"]["history"]] == [3, 2]

    assert uninstall(cluster, hr) is True
    assert helm_config.list(all_states=True) == []
    assert get_object(cluster, "v1", "ConfigMap", "shop-greeting", NAMESPACE) is None


def test_bad_inputs_apply_nothing(cluster, checkout: Path) -> None:
    cases = {
        "bad values": (_helm_release({"replicaCount": "many"}), "replicaCount"),
        "missing chart": (_helm_release(chart={"spec": {"chart": "./charts/nope"}}), "charts/nope"),
    }
    template_error = checkout / "charts" / "web" / "templates" / "broken.yaml"
    for label, (hr, expected) in cases.items():
        hr["metadata"]["name"] = hr["spec"]["releaseName"] = f"bad-{label.replace(' ', '-')}"
        with pytest.raises(HelmReleaseFailed) as caught:
            prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
        assert expected in caught.value.message, label
        assert caught.value.reason in (INSTALL_FAILED, UPGRADE_FAILED, "ArtifactFailed")
    template_error.write_text("kind: ConfigMap\nmetadata:\n  name: {{ required \"db.host is required\" .Values.db.host }}\n")
    hr = _helm_release(releaseName="broken")
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    assert caught.value.reason == INSTALL_FAILED and "db" in caught.value.message
    assert stored_releases(cluster, NAMESPACE, "broken") == []


def test_values_from_configmap_and_secret(cluster, checkout: Path, kubectl) -> None:
    kubectl("-n", NAMESPACE, "create", "configmap", "shop-values", "--from-literal=values.yaml=greeting: from-configmap\nreplicaCount: 2\n")
    kubectl("-n", NAMESPACE, "create", "secret", "generic", "shop-secret-values", "--from-literal=values.yaml=greeting: from-secret\n")
    hr = _helm_release(
        {"replicaCount": 4},
        releaseName="layered",
        valuesFrom=[{"kind": "ConfigMap", "name": "shop-values"}, {"kind": "Secret", "name": "shop-secret-values"}],
    )
    outcome = _release_once(cluster, hr, checkout)
    assert outcome.action == "install"
    assert get_object(cluster, "v1", "ConfigMap", "layered-greeting", NAMESPACE)["data"]["greeting"] == "from-secret"
    deployment = get_object(cluster, "apps/v1", "Deployment", "layered-web", NAMESPACE)
    assert deployment["spec"]["replicas"] == 4, "spec.values wins over valuesFrom"
    secrets = cluster.resources.get(api_version="v1", kind="Secret").get(namespace=NAMESPACE, label_selector="owner=helm").to_dict()["items"]
    rows = release_rows({"dev": records_from_secrets("dev", secrets)})
    assert any(r.name == "layered" and r.chart == "web" and r.clusters == ("dev",) for r in rows)
    stored = base64.b64decode(secrets[0]["data"]["release"])
    assert b"from-secret" not in stored, "stored values are compressed, never plain text"
    uninstall(cluster, hr)


def test_failure_messages_never_quote_a_value_from_a_secret(cluster, checkout: Path, kubectl) -> None:
    chart = checkout / "charts" / "web"
    schema = yaml.safe_load((chart / "values.schema.json").read_text())
    schema["properties"]["greeting"]["pattern"] = "^[a-z]+$"
    (chart / "values.schema.json").write_text(json.dumps(schema))
    kubectl("-n", NAMESPACE, "create", "secret", "generic", "leak-values", "--from-literal=values.yaml=greeting: Hunter2-Secret\n")
    hr = _helm_release(releaseName="leaky", valuesFrom=[{"kind": "Secret", "name": "leak-values"}])
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    assert "schema at /greeting" in caught.value.message and "Hunter2-Secret" not in caught.value.message

    (chart / "templates" / "unquoted.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-raw\ndata:\n  word: {{ .Values.word }}\n")
    kubectl("-n", NAMESPACE, "create", "secret", "generic", "leak-word", "--from-literal=word=Hunter2: leaked: x")
    hr = _helm_release(releaseName="leaky", valuesFrom=[{"kind": "Secret", "name": "leak-word", "valuesKey": "word",
                                                          "targetPath": "word"}])
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    assert "rendered YAML is invalid" in caught.value.message and "Hunter2" not in caught.value.message
    assert stored_releases(cluster, NAMESPACE, "leaky") == []


def test_uninstall_of_a_removed_helmrelease_records_uninstall_succeeded(cluster, checkout: Path) -> None:
    from datetime import datetime

    from gitops_tui.kube.inventory import ref_of
    from gitops_tui.reconciler import helm_step

    # This bare sandbox runs no Deployment controller: Helm's wait (Flux's default) would time out.
    hr = _helm_release({"greeting": "bye"}, releaseName="leaving", install={"disableWait": True})
    hr["metadata"]["name"] = "leaving"
    apply_object(cluster, hr)
    prepared = helm_step.prepare_all(cluster, [hr], checkout, checkout / ".cache")
    helm_step.install_all(cluster, prepared, labels={}, now=datetime.now(UTC), stop=lambda: False)
    assert get_object(cluster, "v1", "ConfigMap", "leaving-greeting", NAMESPACE) is not None
    assert helm_step.uninstall_removed(cluster, [ref_of(hr)], stop=lambda: False) == ["leaving"]
    assert stored_releases(cluster, NAMESPACE, "leaving") == []
    assert get_object(cluster, "v1", "ConfigMap", "leaving-greeting", NAMESPACE) is None
    live = get_object(cluster, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "leaving", NAMESPACE)
    released = {c["type"]: c for c in live["status"]["conditions"]}["Released"]
    assert (released["status"], released["reason"]) == ("False", "UninstallSucceeded")
    assert "leaving.v1 with chart web@0.1.0" in released["message"]
    assert helm_step.uninstall_removed(cluster, [ref_of(hr)], stop=lambda: False) == [], "nothing left to uninstall"


@pytest.mark.parametrize(("template", "expected"), [
    ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: wide\nrules: []\n",
     "ClusterRole/wide is cluster-scoped"),
    ("apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n", "does not serve Gadget in example.com/v1"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: kube-system\n",
     "outside the project"),
])
def test_objects_outside_the_project_are_refused(cluster, checkout: Path, template: str, expected: str) -> None:
    (checkout / "charts" / "web" / "templates" / "outside.yaml").write_text(template)
    hr = _helm_release(releaseName="outside")
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    assert caught.value.reason == INSTALL_FAILED and expected in caught.value.message
    assert stored_releases(cluster, NAMESPACE, "outside") == []
    assert get_object(cluster, "v1", "ConfigMap", "outside-greeting", NAMESPACE) is None


def test_release_target_follows_flux_defaults(cluster, checkout: Path) -> None:
    from gitops_tui.helm.installer import ReleaseTarget

    assert ReleaseTarget.of(_helm_release()) == ReleaseTarget("shop", NAMESPACE, 5)
    assert ReleaseTarget.of(_helm_release(targetNamespace=NAMESPACE, maxHistory=0)) == ReleaseTarget(
        f"{NAMESPACE}-shop", NAMESPACE, 0)
    assert ReleaseTarget.of(_helm_release(targetNamespace=NAMESPACE, releaseName="web")).name == "web"
    elsewhere = _helm_release(targetNamespace="kube-system")
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, elsewhere, checkout=checkout, manifests=[elsewhere], cache_dir=checkout / ".cache")
    assert "targetNamespace 'kube-system' is outside the project namespace" in caught.value.message


def test_an_object_the_cluster_refuses_fails_before_anything_is_applied(cluster, checkout: Path) -> None:
    (checkout / "charts" / "web" / "templates" / "refused.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_DNS_Name\n")
    hr = _helm_release(releaseName="refused")
    with pytest.raises(HelmReleaseFailed) as caught:
        prepare(cluster, hr, checkout=checkout, manifests=[hr], cache_dir=checkout / ".cache")
    assert caught.value.reason == INSTALL_FAILED and "ConfigMap/Not_A_DNS_Name" in caught.value.message
    assert stored_releases(cluster, NAMESPACE, "refused") == [], "no release recorded"
    assert get_object(cluster, "v1", "ConfigMap", "refused-greeting", NAMESPACE) is None, "dry-run only"
