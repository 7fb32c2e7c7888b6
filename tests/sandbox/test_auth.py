"""Authentication and RBAC of the sandbox as kube-apiserver does them, tried with kubectl and the official client."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from gitops_tui.sandbox.controllers.tokens import TokenController
from gitops_tui.sandbox.serving.server import ClusterServer
from tests.sandbox.conftest import KubectlRunner, RawResponse, raw_request
from tests.waiting import wait_until

NS = "team"


@pytest.fixture(scope="module")
def tokens(sandbox_server: ClusterServer) -> Iterator[TokenController]:
    """The cluster's token controller (the daemon starts one per cluster; here the test does)."""
    controller = TokenController.for_server(sandbox_server, str(sandbox_server.tls.ca_cert)).start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def team(kubectl: KubectlRunner) -> str:
    """Namespace "team" with ServiceAccount "bot" (no rights yet)."""
    kubectl("create", "namespace", NS)
    kubectl("create", "serviceaccount", "bot", "-n", NS)
    return NS


def new_token(kubectl: KubectlRunner, account: str, namespace: str = NS) -> str:
    """`kubectl create token` for a ServiceAccount."""
    return kubectl("create", "token", account, "-n", namespace).stdout.strip()


def as_user(kubectl: KubectlRunner, token: str) -> Callable[..., Any]:
    """kubectl with --token= (the kubeconfig's server and CA, that token)."""
    def run(*args: str, check: bool = False) -> Any:
        return kubectl(*args, f"--token={token}", check=check)
    return run


def official_client(server: ClusterServer, token: str) -> client.CoreV1Api:
    """The official Python client with a bearer token."""
    config = client.Configuration(host=server.url, api_key={"BearerToken": token},
                                  api_key_prefix={"BearerToken": "Bearer"}, ssl_ca_cert=str(server.tls.ca_cert))
    return client.CoreV1Api(client.ApiClient(config))


def test_admin_token_is_a_cluster_admin(kubectl: KubectlRunner) -> None:
    whoami = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert whoami["kind"] == "SelfSubjectReview"
    assert whoami["status"]["userInfo"]["username"] == "sandbox-admin"
    assert "system:masters" in whoami["status"]["userInfo"]["groups"]
    assert kubectl("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "get", "/metrics").stdout.strip() == "yes"
    listing = kubectl("auth", "can-i", "--list").stdout
    assert "*.*" in listing.splitlines()[1]


def test_service_account_token_from_token_request(kubectl: KubectlRunner, team: str) -> None:
    """`kubectl create token` gives a JWT; `auth whoami` shows the ServiceAccount."""
    token = new_token(kubectl, "bot")
    header, claims = (json.loads(base64.urlsafe_b64decode(p + "==")) for p in token.split(".")[:2])
    assert header["alg"] == "ES256" and header["kid"]
    assert claims["sub"] == "system:serviceaccount:team:bot" and claims["kubernetes.io"]["namespace"] == "team"
    assert claims["exp"] - claims["iat"] == 3600
    who = json.loads(as_user(kubectl, token)("auth", "whoami", "-o", "json", check=True).stdout)["status"]["userInfo"]
    assert who["username"] == "system:serviceaccount:team:bot"
    assert who["groups"] == ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"]
    long = kubectl("create", "token", "bot", "-n", NS, "--duration=100h").stdout.strip()
    claims = json.loads(base64.urlsafe_b64decode(long.split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 48 * 3600, "capped at 48 hours"
    short = kubectl("create", "token", "bot", "-n", NS, "--duration=1m", check=False)
    assert short.returncode != 0 and "may not specify a duration less than 10 minutes" in short.stderr
    missing = kubectl("create", "token", "nobody", "-n", NS, check=False)
    assert missing.returncode != 0 and 'serviceaccounts "nobody" not found' in missing.stderr


def test_no_rights_is_refused_with_kube_apiserver_words(kubectl: KubectlRunner, team: str,
                                                       sandbox_server: ClusterServer) -> None:
    token = new_token(kubectl, "bot")
    user = as_user(kubectl, token)
    denied = user("get", "pods", "-n", NS)
    assert denied.returncode == 1
    assert ('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:bot" cannot list '
            'resource "pods" in API group "" in the namespace "team"') in denied.stderr
    assert user("auth", "can-i", "list", "pods", "-n", NS).stdout.strip() == "no"
    answer = raw_request(sandbox_server, "GET", "/apis/apps/v1/namespaces/team/deployments/web", token=token)
    assert answer.status == 403
    assert answer.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "web" is forbidden: User "system:serviceaccount:team:bot" cannot get resource '
                   '"deployments" in API group "apps" in the namespace "team"',
        "reason": "Forbidden", "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 403}
    cluster_scope = raw_request(sandbox_server, "GET", "/api/v1/namespaces", token=token)
    assert cluster_scope.json()["message"] == ('namespaces is forbidden: User "system:serviceaccount:team:bot" '
                                               'cannot list resource "namespaces" in API group "" at the cluster scope')
    path = raw_request(sandbox_server, "GET", "/metrics", token=token)
    assert (path.status, path.json()["message"]) == (
        403, 'forbidden: User "system:serviceaccount:team:bot" cannot get path "/metrics"')
    body = raw_request(sandbox_server, "POST", "/api/v1/namespaces/team/configmaps", token=token,
                       body=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sneak"}}))
    assert body.status == 403
    assert kubectl("get", "configmap", "sneak", "-n", NS, check=False).returncode == 1, "nothing was written"
    with pytest.raises(client.ApiException) as refused:
        official_client(sandbox_server, token).list_namespaced_secret(NS)
    assert refused.value.status == 403


def test_discovery_and_reviews_are_open_to_any_authenticated_user(kubectl: KubectlRunner, team: str,
                                                                 sandbox_server: ClusterServer) -> None:
    token = new_token(kubectl, "bot")
    for path in ("/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v2", "/openapi/v3", "/healthz"):
        assert raw_request(sandbox_server, "GET", path, token=token).status == 200, path
    groups = json.loads(as_user(kubectl, token)("get", "--raw", "/apis", check=True).stdout)["groups"]
    assert {"authorization.k8s.io", "authentication.k8s.io"} <= {g["name"] for g in groups}
    resources = json.loads(kubectl("get", "--raw", "/apis/authorization.k8s.io/v1").stdout)["resources"]
    assert {r["name"]: r["verbs"] for r in resources} == {"selfsubjectaccessreviews": ["create"],
                                                         "selfsubjectrulesreviews": ["create"]}
    assert kubectl("api-resources", "--api-group=authentication.k8s.io", "-o", "name").stdout.split() == [
        "selfsubjectreviews.authentication.k8s.io"]
    listing = as_user(kubectl, token)("auth", "can-i", "--list", "-n", NS, check=True).stdout
    assert "selfsubjectaccessreviews.authorization.k8s.io" in listing and "[/apis/*]" in listing
    assert "pods " not in listing
    get = raw_request(sandbox_server, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert get.status == 405


def test_bindings_grant_and_revoke_at_once(kubectl: KubectlRunner, team: str, sandbox_server: ClusterServer) -> None:
    """RoleBinding to the bootstrap `view` ClusterRole; the cache never outlives an RBAC change."""
    token = new_token(kubectl, "bot")
    user = as_user(kubectl, token)
    kubectl("create", "rolebinding", "bot-view", "--clusterrole=view", "--serviceaccount=team:bot", "-n", NS)
    assert user("get", "pods", "-n", NS, check=True).returncode == 0
    assert user("auth", "can-i", "watch", "deployments.apps", "-n", NS).stdout.strip() == "yes"
    assert user("auth", "can-i", "list", "pods", "-n", "default").stdout.strip() == "no"
    assert user("auth", "can-i", "create", "pods", "-n", NS).stdout.strip() == "no"
    assert user("auth", "can-i", "get", "secrets", "-n", NS).stdout.strip() == "no", "view does not read Secrets"
    listing = user("auth", "can-i", "--list", "-n", NS, check=True).stdout
    assert any(line.startswith("pods ") and "[get list watch]" in line for line in listing.splitlines())
    assert official_client(sandbox_server, token).list_namespaced_pod(NS).items == []
    kubectl("delete", "rolebinding", "bot-view", "-n", NS)
    assert user("get", "pods", "-n", NS).returncode == 1, "a deleted binding stops granting at once"


def test_rules_resource_names_subresources_and_wildcards(kubectl: KubectlRunner, team: str,
                                                         sandbox_server: ClusterServer) -> None:
    token = new_token(kubectl, "bot")
    user = as_user(kubectl, token)
    kubectl("create", "configmap", "open", "-n", NS, "--from-literal=a=1")
    kubectl("create", "configmap", "closed", "-n", NS, "--from-literal=a=1")
    kubectl("create", "deployment", "web", "-n", NS, "--image=nginx")
    kubectl("create", "role", "narrow", "-n", NS, "--verb=get,list,update", "--resource=configmaps",
            "--resource-name=open")
    kubectl("create", "role", "scaler", "-n", NS, "--verb=get,patch,update", "--resource=deployments/scale")
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "any-status",
                                                                                   "namespace": NS},
        "rules": [{"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["*"]}]}))
    for role in ("narrow", "scaler", "any-status"):
        kubectl("create", "rolebinding", f"bot-{role}", f"--role={role}", "--serviceaccount=team:bot", "-n", NS)
    assert user("get", "configmap", "open", "-n", NS).returncode == 0
    assert user("get", "configmap", "closed", "-n", NS).returncode == 1
    assert user("get", "configmaps", "-n", NS).returncode == 1, "resourceNames never allow a list"
    assert user("get", "configmaps", "-n", NS, "--field-selector=metadata.name=open").returncode == 0
    merge = {"Content-Type": "application/merge-patch+json"}
    scale = raw_request(sandbox_server, "PATCH", "/apis/apps/v1/namespaces/team/deployments/web/scale",
                        body='{"spec":{"replicas":3}}', headers=merge, token=token)
    assert scale.status == 200 and scale.json()["spec"]["replicas"] == 3
    patch = raw_request(sandbox_server, "PATCH", "/apis/apps/v1/namespaces/team/deployments/web",
                        body='{"spec":{"paused":true}}', headers=merge, token=token)
    assert patch.status == 403 and 'cannot patch resource "deployments"' in patch.json()["message"]
    assert user("auth", "can-i", "update", "deployments", "--subresource=status", "-n", NS).stdout.strip() == "yes"
    assert user("auth", "can-i", "update", "deployments", "-n", NS).stdout.strip() == "no"
    kubectl("create", "clusterrole", "version-reader", "--verb=get", "--non-resource-url=/metrics")
    kubectl("create", "clusterrolebinding", "bot-metrics", "--clusterrole=version-reader",
            "--serviceaccount=team:bot")
    assert user("auth", "can-i", "get", "/metrics").stdout.strip() == "yes"
    assert raw_request(sandbox_server, "GET", "/metrics", token=token).status != 403


def test_token_secret_filled_by_the_controller_and_revoked_with_it(kubectl: KubectlRunner, team: str,
                                                                  tokens: TokenController,
                                                                  sandbox_server: ClusterServer) -> None:
    """A `kubernetes.io/service-account-token` Secret gets token, ca.crt, namespace; deleting it revokes the token."""
    kubectl("create", "serviceaccount", "robot", "-n", NS)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "robot-token", "namespace": NS,
                           "annotations": {"kubernetes.io/service-account.name": "robot"}}}
    kubectl("apply", "-f", "-", input=json.dumps(secret))

    def filled() -> dict[str, str]:
        data = json.loads(kubectl("get", "secret", "robot-token", "-n", NS, "-o", "json").stdout).get("data") or {}
        return data if "token" in data else {}

    data = wait_until(filled, timeout=15, message="the token controller to fill the Secret")
    assert base64.b64decode(data["ca.crt"]) == sandbox_server.tls.ca_cert.read_bytes()
    assert base64.b64decode(data["namespace"]) == b"team"
    token = base64.b64decode(data["token"]).decode()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["iss"] == "kubernetes/serviceaccount" and "exp" not in claims
    user = as_user(kubectl, token)
    assert json.loads(user("auth", "whoami", "-o", "json", check=True).stdout)["status"]["userInfo"]["username"] \
        == "system:serviceaccount:team:robot"
    kubectl("delete", "secret", "robot-token", "-n", NS)
    assert user("auth", "whoami").returncode == 1

    kubectl("apply", "-f", "-", input=json.dumps(secret))
    token = base64.b64decode(wait_until(filled, timeout=15, message="a new token")["token"]).decode()
    assert as_user(kubectl, token)("auth", "whoami").returncode == 0
    kubectl("delete", "serviceaccount", "robot", "-n", NS)
    assert as_user(kubectl, token)("auth", "whoami").returncode == 1, "a deleted ServiceAccount's token dies"
    wait_until(lambda: kubectl("get", "secret", "robot-token", "-n", NS, check=False).returncode == 1, timeout=15,
               message="the controller to delete the Secret of the deleted ServiceAccount")


def test_a_recreated_service_account_does_not_inherit_old_tokens(kubectl: KubectlRunner, team: str) -> None:
    kubectl("create", "serviceaccount", "phoenix", "-n", NS)
    token = new_token(kubectl, "phoenix")
    assert as_user(kubectl, token)("auth", "whoami").returncode == 0
    kubectl("delete", "serviceaccount", "phoenix", "-n", NS)
    kubectl("create", "serviceaccount", "phoenix", "-n", NS)
    assert as_user(kubectl, token)("auth", "whoami").returncode == 1, "the uid in the token no longer matches"
    assert as_user(kubectl, new_token(kubectl, "phoenix"))("auth", "whoami").returncode == 0


def test_unknown_forged_and_expired_tokens_get_401(kubectl: KubectlRunner, team: str,
                                                   sandbox_server: ClusterServer, tmp_path: Path) -> None:
    from gitops_tui.sandbox.serving.sa_tokens import Signer

    uid = json.loads(kubectl("get", "serviceaccount", "bot", "-n", NS, "-o", "json").stdout)["metadata"]["uid"]
    signer = sandbox_server.auth.signer  # type: ignore[union-attr]
    expired, _ = signer.bound_token(NS, "bot", uid, -5)
    forged, _ = Signer.load_or_create(tmp_path / "other.key").bound_token(NS, "bot", uid, 3600)
    other_audience, _ = signer.bound_token(NS, "bot", uid, 3600, ["https://vault.example"])
    valid, _ = signer.bound_token(NS, "bot", uid, 3600)
    for token in ("nope", "a.b.c", expired, forged, other_audience, valid[:-4] + "AAAA"):
        answer: RawResponse = raw_request(sandbox_server, "GET", "/api", token=token)
        assert (answer.status, answer.json()["reason"]) == (401, "Unauthorized"), token
    assert raw_request(sandbox_server, "GET", "/api", token=valid).status == 200
    assert raw_request(sandbox_server, "GET", "/api", token=None).status == 401


def test_bootstrap_roles_are_served(kubectl: KubectlRunner) -> None:
    view = json.loads(kubectl("get", "clusterrole", "view", "-o", "json").stdout)
    assert view["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"] == {
        "rbac.authorization.k8s.io/aggregate-to-view": "true"}
    assert any("pods" in r.get("resources", []) for r in view["rules"])
    binding = json.loads(kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "json").stdout)
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": "system:masters"}]
