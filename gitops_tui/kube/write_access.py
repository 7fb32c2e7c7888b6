"""May this identity write to the management cluster? Asked with SelfSubjectAccessReview, as `kubectl auth can-i`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.kube.client import json_request

#: The authorization API path of SelfSubjectAccessReview (authorization.k8s.io/v1).
REVIEW_PATH = resource_path("authorization.k8s.io/v1", "selfsubjectaccessreviews")


@dataclass(frozen=True)
class WriteAccess:
    """The answer: ``allowed`` True / False, or None when the server does not serve the review."""

    allowed: bool | None
    reason: str = ""


def review(api: ApiClient, verb: str, group: str, resource: str, namespace: str = "") -> WriteAccess:
    """Ask whether the current identity may ``verb`` the ``resource`` (in ``namespace``, or every namespace)."""
    attributes: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attributes["namespace"] = namespace
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes}}
    try:
        answer = json_request(api, "POST", REVIEW_PATH, body, timeout=(3.0, 10.0))
    except ApiException as exc:
        if exc.status in (404, 405):
            return WriteAccess(None, "the server does not serve authorization.k8s.io")
        if exc.status == 403:
            return WriteAccess(False, "the server refused even the access review (HTTP 403)")
        raise
    status = answer.get("status") or {}
    return WriteAccess(bool(status.get("allowed")), str(status.get("reason") or ""))


def source_write_access(api: ApiClient, namespaces: Iterable[str] = ()) -> WriteAccess:
    """May this identity change sources (patch FederatedKustomizations) anywhere or in one of ``namespaces``?"""
    group, _version, plural = names.RESOURCES[names.KIND_FEDERATED_KUSTOMIZATION]
    denied = WriteAccess(False, "")
    for namespace in ["", *namespaces]:
        answer = review(api, "patch", group, plural, namespace)
        if answer.allowed is not False:
            return answer
        denied = answer
    return denied
