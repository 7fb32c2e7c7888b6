"""Joining a member cluster as ``kubefedctl join`` does: a ServiceAccount, its RBAC and a long-lived token.

The operator's own kubeconfig is used once, here, on the operator's machine (its exec plugins and files
are the operator's: they may run and be read). What is stored in the management cluster afterwards is a
kubeconfig holding only the server, its CA (inlined) and the ServiceAccount's token.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api.paths import item_path, resource_path
from gitops_tui.kube.client import FEDERATION_NAMESPACE, json_request
from gitops_tui.kube.workload_rbac import workload_rules

RBAC = "rbac.authorization.k8s.io"
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"
#: How long to wait for the member's token controller to fill the token Secret (kubefedctl: 30 s).
TOKEN_TIMEOUT = 30.0
#: What the member cluster lets the reconciler's ServiceAccount do: read, keep project namespaces and each project's
#: ServiceAccount bound to ``admin`` there, impersonate those accounts (tenants' objects are written as them, never as
#: the reconciler), install Flux's Helm CRDs with the role that lets projects write them, and report Helm status.
#: No more: the reconciler writes no tenant object as itself (docs/security.md, "Tenants apply as themselves").
CLUSTER_RULES = workload_rules()
_LABELS = {"app.kubernetes.io/managed-by": "gitops-tui"}


class JoinError(Exception):
    """The member cluster could not be joined; the message is one sentence, safe to show."""


@dataclass(frozen=True)
class MemberAccess:
    """What the management cluster keeps for a member: server, CA, ServiceAccount token, TLS choice."""

    server: str
    ca_data: str  # base64 PEM, "" for the system's trust store
    token: str
    insecure: bool = False
    tls_server_name: str = ""

    def kubeconfig(self, name: str) -> str:
        """The kubeconfig text to store: one context ``name``, the token inline, no file, no plugin."""
        cluster: dict[str, Any] = {"server": self.server}
        if self.insecure:
            cluster["insecure-skip-tls-verify"] = True
        elif self.ca_data:
            cluster["certificate-authority-data"] = self.ca_data
        if self.tls_server_name:
            cluster["tls-server-name"] = self.tls_server_name
        user = service_account_name(name)
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": user, "user": {"token": self.token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        }, sort_keys=False)


def service_account_name(cluster: str) -> str:
    """The ServiceAccount made in member ``cluster`` for the management cluster."""
    return f"gitops-tui-{cluster}"


def _what(exc: ApiException, doing: str) -> JoinError:
    if exc.status in (401, 403):
        return JoinError(f"the member cluster refused to {doing} with your kubeconfig (HTTP {exc.status}); "
                         f"attaching needs rights to create a ServiceAccount and cluster RBAC")
    return JoinError(f"the member cluster could not {doing} (HTTP {exc.status})")


def _create_or_update(member: ApiClient, collection: str, body: dict[str, Any], doing: str,
                      keep: Callable[[dict[str, Any], dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Create ``body`` in ``collection``; when it exists, update it (``keep`` copies what must stay)."""
    name = body["metadata"]["name"]
    try:
        return json_request(member, "POST", collection, body)
    except ApiException as exc:
        if exc.status != 409:
            raise _what(exc, doing) from None
    try:
        live = json_request(member, "GET", item_path(collection, name))
        if keep is None:
            return live
        keep(live, body)
        body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        return json_request(member, "PUT", item_path(collection, name), body)
    except ApiException as exc:
        raise _what(exc, doing) from None


def _keep_rules(live: dict[str, Any], body: dict[str, Any]) -> None:
    """On update, keep the live object's other labels (rules and subjects are ours to set)."""
    body["metadata"]["labels"] = {**(live["metadata"].get("labels") or {}), **_LABELS}


def grant_service_account(member: ApiClient, cluster: str, *, timeout: float = TOKEN_TIMEOUT) -> str:
    """In the member cluster: namespace, ServiceAccount, ClusterRole, binding and token Secret; return the token.

    Idempotent: attaching again reuses the ServiceAccount and its token Secret.
    """
    ns = FEDERATION_NAMESPACE
    account = service_account_name(cluster)
    meta = {"labels": dict(_LABELS)}
    _create_or_update(member, resource_path("v1", "namespaces"), {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": ns}}, f"create namespace {ns}")
    _create_or_update(member, resource_path("v1", "serviceaccounts", ns), {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": ns, **meta},
        "automountServiceAccountToken": False}, f"create ServiceAccount {ns}/{account}")
    role = f"gitops-tui:{account}"
    _create_or_update(member, resource_path(f"{RBAC}/v1", "clusterroles"), {
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": role, **meta},
        "rules": CLUSTER_RULES}, f"create ClusterRole {role}", keep=_keep_rules)
    _create_or_update(member, resource_path(f"{RBAC}/v1", "clusterrolebindings"), {
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role, **meta},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}]},
        f"create ClusterRoleBinding {role}", keep=_keep_rules)
    secret = f"{account}-token"
    _create_or_update(member, resource_path("v1", "secrets", ns), {
        "apiVersion": "v1", "kind": "Secret", "type": SERVICE_ACCOUNT_TOKEN_TYPE,
        "metadata": {"name": secret, "namespace": ns, **meta,
                     "annotations": {"kubernetes.io/service-account.name": account}}},
        f"create the token Secret {ns}/{secret}")
    return _wait_for_token(member, ns, secret, timeout)


def _wait_for_token(member: ApiClient, namespace: str, secret: str, timeout: float) -> str:
    """Poll (bounded) until the member's token controller filled the Secret; return the token."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            live = json_request(member, "GET", resource_path("v1", "secrets", namespace, secret))
        except ApiException as exc:
            if exc.status != 404:
                raise _what(exc, f"read the token Secret {namespace}/{secret}") from None
            live = {}
        token = (live.get("data") or {}).get("token")
        if token:
            return base64.b64decode(token).decode("utf-8")
        if time.monotonic() >= deadline:
            raise JoinError(f"the member cluster did not fill the token Secret {namespace}/{secret} within "
                            f"{timeout:.0f}s (is its token controller running?)")
        time.sleep(0.2)
