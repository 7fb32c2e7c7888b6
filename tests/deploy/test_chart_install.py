"""Issue 12 item 5: the chart installed with real Helm into the sandbox's management cluster.

Its objects exist as rendered and the Deployment's Pods are made. Then its ServiceAccount's own token,
laid out as in a Pod, runs a real `gitops-tui run` (in-cluster configuration) that brings a source to
Ready on two clusters, propagates a FederatedSecret, prunes the source on delete and deletes the
project, with no request refused: the RBAC is sufficient. The same token is refused everything else
tried (Secrets elsewhere, other CRDs, RBAC, workloads): the RBAC is narrow.
A module of about 25 s: one install, one upgrade, one reconciler process.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.api.paths import management_path
from gitops_tui.kube.client import json_request
from gitops_tui.kube.in_cluster import HOST_ENV, PORT_ENV, SERVICEACCOUNT_DIR_ENV, api_client_in_cluster
from tests.deploy.chart import CHART_DIR, NAMESPACE, objects_of
from tests.gitserver import make_repo
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(240)

VALUES: dict[str, Any] = {"replicaCount": 2, "image": {"tag": "test"}}


@dataclass
class Installed:
    """The release in the sandbox, and its ServiceAccount's credentials laid out as a Pod sees them."""

    release: str
    config: helm.Config
    objects: dict[tuple[str, str, str], dict[str, Any]]
    sa_dir: Path
    env: dict[str, str]

    @property
    def service_account(self) -> str:
        """The ServiceAccount's name (the release's full name)."""
        return self.release


def _service_account_token(api: Any, namespace: str, name: str) -> str:
    answer = json_request(api, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                           "spec": {"expirationSeconds": 3600}})
    return str(answer["status"]["token"])


@pytest.fixture(scope="module")
def installed(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """`helm install` of deploy/chart (2 replicas) into gitops-tui-system, uninstalled at the end."""
    release = f"gitops-tui-{uuid.uuid4().hex[:6]}"  # ClusterRoles are cluster-wide: a name of its own
    config = helm.Config(kubeconfig_path=str(sandbox.kubeconfig), kube_context="management", namespace=NAMESPACE)
    chart = helm.Chart.load(CHART_DIR)
    try:
        config.install(chart, release, VALUES, create_namespace=True)
        manifest = config.get_all(release)["summary"]["manifest"]
        objects = objects_of({"manifest": manifest})
        api = sandbox.api_client()
        sa_dir = tmp_path_factory.mktemp("serviceaccount")
        (sa_dir / "token").write_text(_service_account_token(api, NAMESPACE, release))
        (sa_dir / "ca.crt").write_bytes(sandbox.ca_cert.read_bytes())
        (sa_dir / "namespace").write_text(NAMESPACE)
        host, port = re.fullmatch(r"https://(.+):(\d+)", sandbox.server_url("management")).groups()  # type: ignore[union-attr]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update({HOST_ENV: host, PORT_ENV: port, SERVICEACCOUNT_DIR_ENV: str(sa_dir),
                    "GITOPS_TUI_HOME": str(tmp_path_factory.mktemp("pod-home"))})  # no sandbox kubeconfig here
        yield Installed(release, config, objects, sa_dir, env)
    finally:
        config.uninstall(release, ignore_not_found=True)
        chart.close()


def _subset(rendered: Any, live: Any, where: str = "") -> None:
    """Every field the chart rendered is on the live object with the same value (the server may add more)."""
    if isinstance(rendered, dict):
        assert isinstance(live, dict), where
        for key, value in rendered.items():
            assert key in live, f"{where}.{key} is missing on the live object"
            _subset(value, live[key], f"{where}.{key}")
    elif isinstance(rendered, list):
        assert isinstance(live, list) and len(live) == len(rendered), where
        for index, (a, b) in enumerate(zip(rendered, live, strict=True)):
            _subset(a, b, f"{where}[{index}]")
    else:
        assert rendered == live, f"{where}: rendered {rendered!r}, live {live!r}"


def _path(kind: str, namespace: str, name: str) -> str:
    plural, prefix = {
        "ServiceAccount": ("serviceaccounts", "/api/v1"), "Service": ("services", "/api/v1"),
        "Namespace": ("namespaces", "/api/v1"), "Deployment": ("deployments", "/apis/apps/v1"),
        "ClusterRole": ("clusterroles", "/apis/rbac.authorization.k8s.io/v1"),
        "ClusterRoleBinding": ("clusterrolebindings", "/apis/rbac.authorization.k8s.io/v1"),
        "Role": ("roles", "/apis/rbac.authorization.k8s.io/v1"),
        "RoleBinding": ("rolebindings", "/apis/rbac.authorization.k8s.io/v1"),
    }[kind]
    return f"{prefix}/namespaces/{namespace}/{plural}/{name}" if namespace else f"{prefix}/{plural}/{name}"


def test_every_rendered_object_exists_as_rendered_and_the_pods_are_made(installed: Installed, sandbox: Any) -> None:
    api = sandbox.api_client()
    kinds = sorted({kind for kind, _, _ in installed.objects})
    assert {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
            "Service"} <= set(kinds), kinds
    for (kind, namespace, name), obj in installed.objects.items():
        live = json_request(api, "GET", _path(kind, namespace, name))
        for field in ("spec", "rules", "roleRef", "subjects"):
            if field in obj:
                _subset(obj[field], live[field], f"{kind} {name}.{field}")
    deployment = next(o for (k, _, _), o in installed.objects.items() if k == "Deployment")
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())

    def pods() -> list[dict[str, Any]]:
        return json_request(api, "GET", f"/api/v1/namespaces/{NAMESPACE}/pods",
                            query={"labelSelector": selector})["items"]

    made = wait_until(lambda: len(pods()) == 2 and pods(), timeout=30, message="the Deployment's two Pods")
    assert {p["spec"]["serviceAccountName"] for p in made} == {installed.service_account}
    assert {p["spec"]["containers"][0]["image"] for p in made} == {"ghcr.io/gitops-tui/gitops-tui:test"}


def _forbidden(api: Any, method: str, path: str, body: Any = None) -> bool:
    try:
        json_request(api, method, path, body)
    except ApiException as exc:
        return exc.status == 403
    return False


def _ready(api: Any, namespace: str, name: str) -> bool:
    fk = json_request(api, "GET", management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name))
    ready = [c for c in (fk.get("status") or {}).get("conditions") or [] if c["type"] == names.READY]
    return bool(ready) and ready[0]["status"] == "True"


def _probe(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_the_service_account_alone_reconciles_a_source_to_ready_and_prunes_it(
        installed: Installed, sandbox: Any, tmp_path: Path) -> None:
    admin = sandbox.api_client()
    project, source = f"chart-{uuid.uuid4().hex[:5]}", "web"
    repo = make_repo(tmp_path / "repo", {"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
                                                        "data:\n  greeting: hello\n"})
    resources.create_project(admin, project, ["dev", "prod"])
    actions.create_source(admin, project, source, str(repo), path="./apps", interval="1m")
    resources.create_secret(admin, project, "db", {"password": b"s3cret"})
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--lease-duration", "3",
                                 "--health-listen", "127.0.0.1:0"],
                                env=installed.env, stdout=out, stderr=subprocess.STDOUT)
    try:
        probes = wait_until(lambda: re.search(r"probes on (http://[\d.]+:\d+)/healthz", log.read_text()),
                            timeout=30, message="the probe server").group(1)
        assert _probe(f"{probes}/healthz") == 200
        wait_until(lambda: _probe(f"{probes}/readyz") == 200, timeout=10, message="ready once the watches are synced")
        wait_until(lambda: _ready(admin, project, source), timeout=60,
                   message=f"the source Ready, reconciled by the chart's ServiceAccount; log:\n{log.read_text()}")
        for cluster in ("dev", "prod"):
            cm = json_request(sandbox.api_client(cluster), "GET", f"/api/v1/namespaces/{project}/configmaps/web")
            assert cm["data"] == {"greeting": "hello"}
        secret_path = f"/api/v1/namespaces/{project}/secrets/db"
        wait_until(lambda: json_request(sandbox.api_client("prod"), "GET", secret_path), timeout=30,
                   message="the FederatedSecret propagated")
        actions.delete_source(admin, project, source)
        fk_path = management_path(names.KIND_FEDERATED_KUSTOMIZATION, project, source)
        wait_until(lambda: _gone(admin, fk_path), timeout=30, message="the source's finalizer released")
        assert _gone(sandbox.api_client("dev"), f"/api/v1/namespaces/{project}/configmaps/web"), "pruned"
        resources.delete_project(admin, project)
        wait_until(lambda: _gone(admin, management_path(names.KIND_PROJECT, None, project)), timeout=45,
                   message="the project deleted: its secret, then its namespaces, then its finalizer")
        for cluster in ("management", "dev", "prod"):
            wait_until(lambda cluster=cluster: _gone(sandbox.api_client(cluster), f"/api/v1/namespaces/{project}"), timeout=30,
                       message=f"the project namespace deleted on {cluster}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
    text = log.read_text()
    assert "acting on shards 0-7 of 8" in text, "the only reconciler holds every shard"
    assert not re.search(r"\b403\b|Forbidden", text), f"a request was refused:\n{text}"


def _gone(api: Any, path: str) -> bool:
    try:
        json_request(api, "GET", path)
    except ApiException as exc:
        return exc.status == 404
    return False


def test_the_service_account_is_refused_everything_else(installed: Installed, sandbox: Any) -> None:
    sa = api_client_in_cluster(installed.env)
    fed = names.FEDERATION_NAMESPACE
    kubeconfig_secret = json_request(sandbox.api_client(), "GET", f"/api/v1/namespaces/{fed}/secrets")["items"][0]
    assert json_request(sa, "GET", f"/api/v1/namespaces/{fed}/secrets/{kubeconfig_secret['metadata']['name']}")
    refused = {
        "list Secrets in kube-system": ("GET", "/api/v1/namespaces/kube-system/secrets"),
        "get a Secret in default": ("GET", "/api/v1/namespaces/default/secrets/anything"),
        "list the kubeconfig Secrets": ("GET", f"/api/v1/namespaces/{fed}/secrets"),
        "write a kubeconfig Secret": ("DELETE", f"/api/v1/namespaces/{fed}/secrets/{kubeconfig_secret['metadata']['name']}"),
        "read another CRD": ("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/other.example.com"),
        "delete our CRD": ("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/projects.gitops-tui.io"),
        "grant itself more": ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
        "run a workload": ("POST", "/apis/apps/v1/namespaces/default/deployments"),
        "read Pods": ("GET", f"/api/v1/namespaces/{NAMESPACE}/pods"),
        "take a Lease elsewhere": ("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x"),
        "read Events": ("GET", f"/api/v1/namespaces/{NAMESPACE}/events"),
        "list namespaces": ("GET", "/api/v1/namespaces"),
    }
    allowed = [what for what, (method, path) in refused.items()
               if not _forbidden(sa, method, path, {} if method == "POST" else None)]
    assert allowed == []


def test_secret_namespaces_open_plain_secrets_in_those_namespaces_only(installed: Installed, sandbox: Any) -> None:
    admin = sandbox.api_client()
    team = f"team-{uuid.uuid4().hex[:5]}"
    for ns in (team, f"{team}-other"):
        json_request(admin, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": ns}})
        json_request(admin, "POST", f"/api/v1/namespaces/{ns}/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-webhook"},
            "data": {"token": base64.b64encode(b"s3cret").decode()}})
    sa = api_client_in_cluster(installed.env)
    assert _forbidden(sa, "GET", f"/api/v1/namespaces/{team}/secrets/web-webhook")
    chart = helm.Chart.load(CHART_DIR)
    try:
        installed.config.upgrade(chart, installed.release, {**VALUES, "rbac": {"secretNamespaces": [team]}})
    finally:
        chart.close()
    secret = wait_until(lambda: json_request(sa, "GET", f"/api/v1/namespaces/{team}/secrets/web-webhook"),
                        timeout=10, message="the Secret readable after the upgrade")
    assert base64.b64decode(secret["data"]["token"]) == b"s3cret"
    assert _forbidden(sa, "GET", f"/api/v1/namespaces/{team}-other/secrets/web-webhook")
    assert _forbidden(sa, "GET", f"/api/v1/namespaces/{team}/secrets")
