"""The management API: the system namespaces and the CRDs installed, and waited for until they are served."""

from __future__ import annotations

import logging
import time
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.crds import crd_manifests
from gitops_tui.api.paths import item_path, management_path, resource_path
from gitops_tui.kube.client import json_request

log = logging.getLogger(__name__)

WATCHED_KINDS = (
    names.KIND_PROJECT,
    names.KIND_KUBEFED_CLUSTER,
    names.KIND_FEDERATED_SECRET,
    names.KIND_FEDERATED_GIT_REPOSITORY,
    names.KIND_FEDERATED_KUSTOMIZATION,
)


class ManagementApiError(Exception):
    """The management API (CRDs, system namespaces) could not be installed."""


def ensure_management_api(api_client: ApiClient, timeout: float = 15.0) -> None:
    """Create the system namespaces and install or update the CRDs, then wait until they are served."""
    for namespace in (names.SYSTEM_NAMESPACE, names.FEDERATION_NAMESPACE):
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        try:
            json_request(api_client, "POST", resource_path("v1", "namespaces"), body)
        except ApiException as exc:
            if exc.status != 409:
                raise ManagementApiError(f"cannot create namespace {namespace} (HTTP {exc.status})") from None
    base = resource_path("apiextensions.k8s.io/v1", "customresourcedefinitions")
    for crd in crd_manifests():
        name = crd["metadata"]["name"]
        try:
            json_request(api_client, "POST", base, crd)
            log.info("installed CRD %s", name)
            continue
        except ApiException as exc:
            if exc.status != 409:
                raise ManagementApiError(f"cannot install CRD {name} (HTTP {exc.status})") from None
        live = json_request(api_client, "GET", item_path(base, name))
        if live.get("spec") != crd["spec"] or labels_of(live) != labels_of(crd):
            crd["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            try:
                json_request(api_client, "PUT", item_path(base, name), crd)
                log.info("updated CRD %s", name)
            except ApiException as exc:
                if exc.status != 409:
                    raise ManagementApiError(f"cannot update CRD {name} (HTTP {exc.status})") from None
    deadline = time.monotonic() + timeout
    for kind in WATCHED_KINDS:
        while True:
            try:
                json_request(api_client, "GET", management_path(kind), query={"limit": "1"})
                break
            except ApiException as exc:
                if exc.status != 404 or time.monotonic() > deadline:
                    raise ManagementApiError(f"the {kind} API is not served (HTTP {exc.status})") from None
                time.sleep(0.1)


def labels_of(obj: dict[str, Any] | None) -> dict[str, Any]:
    """An object's labels ({} when none)."""
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})
