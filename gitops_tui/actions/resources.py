"""Create and delete projects and secrets, attach clusters: writes to the management cluster only."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.kubeconfig_minify import minify_kubeconfig
from gitops_tui.api import builders, names
from gitops_tui.api.namespace_claims import foreign_namespace_problem, system_namespace_problem
from gitops_tui.api.paths import discovery_path, item_path, resource_path
from gitops_tui.api.project import Project
from gitops_tui.kube.client import (
    KubeconfigError,
    api_client_from_kubeconfig,
    api_client_from_kubeconfig_text,
    json_request,
)
from gitops_tui.kube.join import TOKEN_TIMEOUT, JoinError, MemberAccess, grant_service_account
from gitops_tui.reconciler.context import management_path

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def check_name(kind: str, name: str, *, label: bool = True) -> None:
    """Raise ActionError unless ``name`` is a valid DNS label (or subdomain)."""
    pattern = _DNS_LABEL if label else _DNS_SUBDOMAIN
    if not pattern.match(name or ""):
        raise ActionError(f"{kind} name {name!r} is invalid: use lower-case letters, digits and '-' "
                          f"(at most {63 if label else 253} characters)")


def _api_error(what: str, exc: ApiException) -> ActionError:
    if exc.status == 409:
        return ActionError(f"{what} already exists")
    if exc.status == 404:
        return ActionError(f"{what} was not found")
    if exc.status in (401, 403):
        return ActionError(f"the management cluster refused to {what} (HTTP {exc.status})")
    detail = ""
    try:
        detail = str(json_loads(exc.body).get("message") or "")[:200]
    except Exception:  # noqa: BLE001 - body may be anything
        pass
    return ActionError(f"cannot {what}: HTTP {exc.status}{' - ' + detail if detail else ''}")


def json_loads(text: Any) -> dict[str, Any]:
    """Decode a JSON body (str or bytes) into a dict ({} when not an object)."""
    import json

    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


# -- lookups ---------------------------------------------------------------------------------
def get_project(api: ApiClient, name: str) -> dict[str, Any]:
    """Return the Project ``name`` or raise ActionError."""
    try:
        return json_request(api, "GET", management_path(names.KIND_PROJECT, None, name))
    except ApiException as exc:
        if exc.status == 404:
            raise ActionError(f"project {name!r} does not exist") from None
        raise _api_error(f"read project {name}", exc) from None


def project_namespace(api: ApiClient, project: str) -> str:
    """Return the namespace of project ``project``; ActionError when there is no such project or it does not own it."""
    from gitops_tui.reconciler.projects import read_namespace

    view = Project(get_project(api, project))
    namespace = view.namespace
    problem = system_namespace_problem(namespace)
    if not problem:
        try:
            problem = foreign_namespace_problem(read_namespace(api, namespace), namespace, view.name)
        except ApiException as exc:
            raise _api_error(f"read namespace {namespace}", exc) from None
    if problem:
        raise ActionError(f"project {project} cannot be used: {problem}")
    return namespace


def cluster_names(api: ApiClient) -> list[str]:
    """Return the names of the attached clusters."""
    listed = json_request(api, "GET", management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    return sorted((i.get("metadata") or {}).get("name", "") for i in listed.get("items") or [])


def check_clusters(api: ApiClient, clusters: list[str]) -> None:
    """Raise ActionError unless every name in ``clusters`` is an attached cluster."""
    known = set(cluster_names(api))
    unknown = [c for c in clusters if c not in known]
    if unknown:
        hint = ", ".join(sorted(known)) or "none"
        raise ActionError(f"cluster {', '.join(unknown)} is not attached (attached: {hint})")


# -- projects --------------------------------------------------------------------------------
def check_project_namespace(api: ApiClient, name: str, namespace: str) -> None:
    """Raise ActionError unless project ``name`` may own ``namespace``: no system namespace, nobody else's."""
    from gitops_tui.reconciler.projects import read_namespace

    problem = system_namespace_problem(namespace)
    if problem:
        raise ActionError(problem)
    listed = json_request(api, "GET", management_path(names.KIND_PROJECT))
    for raw in listed.get("items") or []:
        other = Project(raw)
        if other.name != name and other.namespace == namespace:
            raise ActionError(f"namespace {namespace} belongs to project {other.name}")
    try:
        existing = read_namespace(api, namespace)
    except ApiException as exc:
        raise _api_error(f"read namespace {namespace}", exc) from None
    problem = foreign_namespace_problem(existing, namespace, name)
    if problem:
        raise ActionError(problem)


def check_platform_access(api: ApiClient) -> None:
    """Raise ActionError unless this identity may create Projects on the management cluster (platform projects)."""
    from gitops_tui.kube.write_access import review

    group, _version, plural = names.RESOURCES[names.KIND_PROJECT]
    answer = review(api, "create", group, plural)
    if answer.allowed is False:
        raise ActionError("only someone who can create Projects on the management cluster may create a platform "
                          "project; ask a cluster administrator")


def create_project(api: ApiClient, name: str, clusters: list[str] | None = None, *, display_name: str = "",
                   namespace: str = "", selector: dict[str, str] | None = None,
                   platform: bool = False, service_account: str = "") -> dict[str, Any]:
    """Create a Project placed on ``clusters`` (names) or on the clusters whose labels match ``selector``.

    The namespace must be the project's own: not a system namespace, not another project's, and not
    an existing namespace without this project's label. A ``platform`` project (docs/flux.md) is created
    only by an identity the management cluster lets create Projects (a SelfSubjectAccessReview), as is one
    naming its ``service_account`` (spec.serviceAccountName, docs/security.md).
    """
    check_name("project", name)
    if service_account:
        check_name("service account", service_account, label=False)
    if platform or service_account:
        check_platform_access(api)
    if namespace:
        check_name("namespace", namespace)
    if (clusters is None) == (selector is None):
        raise ActionError("place the project either on cluster names or by a label selector")
    body = builders.new_project(name, clusters or [], display_name=display_name, namespace=namespace,
                                platform=platform, service_account=service_account)
    if selector is not None:
        body["spec"]["placement"] = {"clusterSelector": {"matchLabels": dict(selector)}}
    else:
        check_clusters(api, clusters or [])
    check_project_namespace(api, name, Project(body).namespace)
    try:
        created = json_request(api, "POST", management_path(names.KIND_PROJECT), body)
    except ApiException as exc:
        raise (_api_error(f"project {name}", exc) if exc.status == 409
               else _api_error(f"create project {name}", exc)) from None
    try:
        _ensure_project_namespace(api, Project(created))
    except ActionError:
        # Someone took the namespace since the check: the project must not stay pointing at it.
        delete_project(api, name)
        raise
    record_action(api, action="create", actor=current_actor(), project=name, objects=[f"Project {name}"],
                   clusters=clusters or ())
    return created


def _ensure_project_namespace(api: ApiClient, project: Project) -> None:
    """Make the project namespace on the management cluster now, so objects can be created in it at once."""
    from gitops_tui.reconciler.projects import NamespaceRefused, ensure_namespace

    try:
        ensure_namespace(api, project.namespace, project.name)
    except NamespaceRefused as exc:
        raise ActionError(exc.message) from None
    except ApiException as exc:
        raise _api_error(f"create namespace {project.namespace}", exc) from None


def project_contents(api: ApiClient, name: str) -> dict[str, list[str]]:
    """Return what deleting project ``name`` removes: {"sources": [...], "secrets": [...], "clusters": [...]}.

    A project that does not own its namespace removes none of what is in it.
    """
    from gitops_tui.reconciler.projects import read_namespace

    project = Project(get_project(api, name))
    ns = project.namespace
    owned = (not system_namespace_problem(ns)
             and not foreign_namespace_problem(read_namespace(api, ns), ns, project.name))
    out: dict[str, list[str]] = {}
    for key, kind in (("sources", names.KIND_FEDERATED_KUSTOMIZATION), ("secrets", names.KIND_FEDERATED_SECRET)):
        listed = json_request(api, "GET", management_path(kind, ns)) if owned else {}
        out[key] = sorted((i.get("metadata") or {}).get("name", "") for i in listed.get("items") or [])
    out["clusters"] = [e.get("name", "") for e in (project.status.get("clusters") or [])] or project.placement_clusters
    return out


def delete_project(api: ApiClient, name: str) -> None:
    """Delete Project ``name``: the reconciler prunes its sources and secrets, then the namespaces it owns.

    Only namespaces labelled as this project's are ever deleted (see reconciler/projects.py).
    """
    get_project(api, name)
    try:
        json_request(api, "DELETE", management_path(names.KIND_PROJECT, None, name))
    except ApiException as exc:
        raise _api_error(f"delete project {name}", exc) from None
    record_action(api, action="delete", actor=current_actor(), project=name, objects=[f"Project {name}"])


# -- secrets ---------------------------------------------------------------------------------
def secret_data(*, username: str | None = None, password: str | None = None, token: str | None = None,
                ssh_key: bytes | None = None, known_hosts: bytes | None = None) -> dict[str, bytes]:
    """Return the Flux git-credential keys for one kind of credential (exactly one must be given)."""
    chosen = [k for k, v in (("password", password), ("token", token), ("ssh", ssh_key)) if v is not None]
    if len(chosen) != 1:
        raise ActionError("give exactly one credential: a username and password, a token, or an SSH key")
    if password is not None:
        if not username:
            raise ActionError("a password needs a username (--username)")
        return {names.GIT_USERNAME_KEY: username.encode(), names.GIT_PASSWORD_KEY: password.encode()}
    if token is not None:
        if not token.strip():
            raise ActionError("the token is empty")
        return {names.GIT_BEARER_TOKEN_KEY: token.strip().encode()}
    assert ssh_key is not None
    if b"PRIVATE KEY" not in ssh_key:
        raise ActionError("the SSH key file does not hold a private key")
    data = {names.GIT_IDENTITY_KEY: ssh_key}
    if known_hosts:
        data[names.GIT_KNOWN_HOSTS_KEY] = known_hosts
    return data


def create_secret(api: ApiClient, project: str, name: str, data: dict[str, bytes], *,
                  clusters: list[str] | None = None, type_: str = "Opaque") -> dict[str, Any]:
    """Create a FederatedSecret in the project's namespace; return it (values are never echoed)."""
    check_name("secret", name, label=False)
    view = Project(get_project(api, project))
    ns = view.namespace
    _ensure_project_namespace(api, view)
    if clusters:
        check_clusters(api, clusters)
    body = builders.new_federated_secret(name, ns, data, type_=type_, clusters=clusters)
    try:
        created = json_request(api, "POST", management_path(names.KIND_FEDERATED_SECRET, ns), body)
    except ApiException as exc:
        what = f"secret {name} in project {project}"
        raise (_api_error(what, exc) if exc.status == 409 else _api_error(f"create {what}", exc)) from None
    # Keys only: a secret's values never reach the journal.
    record_action(api, action="secret-change", actor=current_actor(), reason=f"created secret {name}",
                   project=project, clusters=clusters or (),
                   objects=[f"FederatedSecret {name} key {k}" for k in sorted(data)])
    return created


def delete_secret(api: ApiClient, project: str, name: str) -> None:
    """Delete a FederatedSecret; the reconciler removes its Secret from every cluster first."""
    ns = project_namespace(api, project)
    try:
        json_request(api, "DELETE", management_path(names.KIND_FEDERATED_SECRET, ns, name))
    except ApiException as exc:
        if exc.status == 404:
            raise ActionError(f"secret {name!r} does not exist in project {project}") from None
        raise _api_error(f"delete secret {name}", exc) from None
    record_action(api, action="secret-change", actor=current_actor(), reason=f"deleted secret {name}",
                   project=project, objects=[f"FederatedSecret {name}"])


# -- clusters --------------------------------------------------------------------------------
def attach_cluster(api: ApiClient, name: str, kubeconfig: Path, context: str | None = None,
                   labels: dict[str, str] | None = None, *, insecure: bool = False,
                   token_timeout: float = TOKEN_TIMEOUT) -> dict[str, Any]:
    """Join a workload cluster as ``kubefedctl join`` does, then register it (kubeconfig Secret + KubeFedCluster).

    The operator's kubeconfig is used once, here (its exec plugins and files are the operator's own), to
    give a ServiceAccount of the member cluster cluster-wide RBAC and a long-lived token; the management
    cluster stores only the server, its CA (inlined) and that token. A kubeconfig that turns TLS
    verification off is refused unless ``insecure``.
    """
    check_name("cluster", name)
    text, server = minify_kubeconfig(Path(kubeconfig), context)
    cluster = yaml.safe_load(text)["clusters"][0]["cluster"]
    skip_tls = bool(cluster.get("insecure-skip-tls-verify"))
    if skip_tls and not insecure:
        raise ActionError("the kubeconfig turns TLS verification off (insecure-skip-tls-verify); "
                          "pass --insecure to attach the cluster anyway")
    try:
        member = api_client_from_kubeconfig(Path(kubeconfig), context)
    except KubeconfigError as exc:
        raise ActionError(str(exc)) from None
    try:
        token = grant_service_account(member, name, timeout=token_timeout)
    except JoinError as exc:
        raise ActionError(f"cluster {name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - transport failures and plugin errors of any kind
        raise ActionError(f"cluster {name} at {server} cannot be reached with your kubeconfig "
                          f"({type(exc).__name__})") from None
    finally:
        member.close()
    access = MemberAccess(server, str(cluster.get("certificate-authority-data") or ""), token, insecure=skip_tls,
                          tls_server_name=str(cluster.get("tls-server-name") or ""))
    stored = access.kubeconfig(name)
    _check_member_token(name, stored)
    return register_cluster(api, name, stored, server, labels)


def _check_member_token(name: str, stored: str) -> None:
    """Read /api with the kubeconfig about to be stored, through the same guard the reconciler uses."""
    client = api_client_from_kubeconfig_text(stored)
    try:
        json_request(client, "GET", discovery_path(), timeout=(5.0, 10.0))
    except ApiException as exc:
        raise ActionError(f"cluster {name} refused its new ServiceAccount token (HTTP {exc.status})") from None
    except Exception as exc:  # noqa: BLE001 - transport failure of any kind
        raise ActionError(f"cluster {name} cannot be reached with its new token ({type(exc).__name__})") from None
    finally:
        client.close()


def register_cluster(api: ApiClient, name: str, kubeconfig_text: str, server: str,
                     labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Store ``kubeconfig_text`` in the Secret ``NAME-kubeconfig`` and create or update KubeFedCluster ``name``."""
    check_name("cluster", name)
    ns = names.FEDERATION_NAMESPACE
    secret_name = f"{name}-kubeconfig"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name, "namespace": ns, "labels": {"gitops-tui.io/cluster": name}},
        "type": "Opaque",
        "data": {names.KUBECONFIG_SECRET_KEY: base64.b64encode(kubeconfig_text.encode()).decode("ascii")},
    }
    _ensure_namespace(api, ns)
    _create_or_replace(api, resource_path("v1", "secrets", ns), secret_name, secret, f"Secret {secret_name}")
    cluster = builders.new_kubefed_cluster(name, server, secret_name, labels=labels)
    return _create_or_replace(api, management_path(names.KIND_KUBEFED_CLUSTER, ns), name, cluster, f"cluster {name}")


def _ensure_namespace(api: ApiClient, namespace: str) -> None:
    try:
        json_request(api, "POST", resource_path("v1", "namespaces"),
                     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise _api_error(f"create namespace {namespace}", exc) from None


def _create_or_replace(api: ApiClient, collection: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        return json_request(api, "POST", collection, body)
    except ApiException as exc:
        if exc.status != 409:
            raise _api_error(f"create {what}", exc) from None
    try:
        live = json_request(api, "GET", item_path(collection, name))
        body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        merged_labels = dict((live.get("metadata") or {}).get("labels") or {})
        merged_labels.update(body["metadata"].get("labels") or {})
        if merged_labels:
            body["metadata"]["labels"] = merged_labels
        if "status" in live:
            body["status"] = live["status"]
        return json_request(api, "PUT", item_path(collection, name), body)
    except ApiException as exc:
        raise _api_error(f"update {what}", exc) from None
