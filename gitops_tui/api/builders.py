"""Pure builders of management objects and intent patches (suspend, resume, reconcile)."""

from __future__ import annotations

import base64
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import now_rfc3339
from gitops_tui.api.placement import placement_for_names


def _placement(clusters: list[str] | None) -> dict[str, Any]:
    """{"placement": {...}} for the cluster names, or {} (the project's placement) for None."""
    return {} if clusters is None else {"placement": placement_for_names(clusters)}


def new_project(
    name: str, clusters: list[str], *, display_name: str = "", namespace: str = "", platform: bool = False,
    service_account: str = "",
) -> dict[str, Any]:
    """A Project placed on the named clusters; its namespace defaults to its name (``platform``: spec.platform;
    ``service_account``: spec.serviceAccountName, the operator's account its objects are applied as)."""
    body: dict[str, Any] = {
        "apiVersion": names.PROJECT_API_VERSION,
        "kind": names.KIND_PROJECT,
        "metadata": {"name": name},
        "spec": {
            "displayName": display_name or name,
            "namespace": namespace or name,
            "placement": placement_for_names(clusters),
        },
    }
    if platform:
        body["spec"]["platform"] = True
    if service_account:
        body["spec"]["serviceAccountName"] = service_account
    return body


def new_kubefed_cluster(
    name: str, api_endpoint: str, secret_name: str, *, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A KubeFedCluster in kube-federation-system pointing at a kubeconfig Secret."""
    metadata: dict[str, Any] = {"name": name, "namespace": names.FEDERATION_NAMESPACE}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": names.KUBEFED_CORE_API_VERSION,
        "kind": names.KIND_KUBEFED_CLUSTER,
        "metadata": metadata,
        "spec": {"apiEndpoint": api_endpoint, "secretRef": {"name": secret_name}},
    }


def new_federated_secret(
    name: str,
    namespace: str,
    data: dict[str, bytes],
    *,
    type_: str = "Opaque",
    clusters: list[str] | None = None,
) -> dict[str, Any]:
    """A FederatedSecret with base64-encoded data and the prune finalizer."""
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in data.items()}
    return {
        "apiVersion": names.TYPES_API_VERSION,
        "kind": names.KIND_FEDERATED_SECRET,
        "metadata": {"name": name, "namespace": namespace, "finalizers": [names.FINALIZER_PRUNE]},
        "spec": {"template": {"type": type_, "data": encoded}, **_placement(clusters)},
    }


def new_source(
    name: str,
    namespace: str,
    url: str,
    *,
    ref: dict[str, str] | None = None,
    path: str = "./",
    secret_ref: str = "",
    interval: str = names.DEFAULT_INTERVAL,
    timeout: str = "",
    provider: str = names.DEFAULT_PROVIDER,
    prune: bool = True,
    wait: bool = False,
    clusters: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (FederatedGitRepository, FederatedKustomization) pair of a new GitOps source."""
    git_spec: dict[str, Any] = {
        "url": url,
        "ref": dict(ref or {"branch": "main"}),
        "interval": interval,
        "provider": provider,
    }
    if secret_ref:
        git_spec["secretRef"] = {"name": secret_ref}
    if timeout:
        git_spec["timeout"] = timeout
    repository = {
        "apiVersion": names.TYPES_API_VERSION,
        "kind": names.KIND_FEDERATED_GIT_REPOSITORY,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": git_spec}, **_placement(clusters)},
    }
    ks_spec: dict[str, Any] = {
        "sourceRef": {"kind": "GitRepository", "name": name},
        "path": path,
        "prune": prune,
        "interval": interval,
        "suspend": False,
        "wait": wait,
    }
    if timeout:
        ks_spec["timeout"] = timeout
    kustomization = {
        "apiVersion": names.TYPES_API_VERSION,
        "kind": names.KIND_FEDERATED_KUSTOMIZATION,
        "metadata": {"name": name, "namespace": namespace, "finalizers": [names.FINALIZER_PRUNE]},
        "spec": {"template": {"spec": ks_spec}, **_placement(clusters)},
    }
    return repository, kustomization


def suspend_patch(by: str, reason: str, *, at: str | None = None) -> dict[str, Any]:
    """A JSON merge patch for a FederatedKustomization: suspend with who / why / when."""
    return {
        "metadata": {
            "annotations": {
                names.ANNOTATION_SUSPENDED_BY: by,
                names.ANNOTATION_SUSPEND_REASON: reason,
                names.ANNOTATION_SUSPENDED_AT: at or now_rfc3339(),
            }
        },
        "spec": {"template": {"spec": {"suspend": True}}},
    }


def resume_patch(*, at: str | None = None) -> dict[str, Any]:
    """A JSON merge patch: resume, clear the suspend annotations and request a reconcile now."""
    annotations: dict[str, Any] = {key: None for key in names.SUSPEND_ANNOTATIONS}
    annotations[names.ANNOTATION_REQUESTED_AT] = at or now_rfc3339()
    return {
        "metadata": {"annotations": annotations},
        "spec": {"template": {"spec": {"suspend": False}}},
    }


def reconcile_patch(*, at: str | None = None) -> dict[str, Any]:
    """A JSON merge patch asking for a reconcile now (reconcile.fluxcd.io/requestedAt)."""
    return {"metadata": {"annotations": {names.ANNOTATION_REQUESTED_AT: at or now_rfc3339()}}}
