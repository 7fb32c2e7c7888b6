"""Flux's HelmRelease, HelmRepository, HelmChart and OCIRepository CRDs, installed on each cluster that runs releases."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.crd_skeleton import crd_manifest
from gitops_tui.kube.workload_rbac import HELM_VERBS

HELM_GROUP = "helm.toolkit.fluxcd.io"
HELM_VERSION = "v2"
HELMRELEASE_API_VERSION = f"{HELM_GROUP}/{HELM_VERSION}"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
HELMREPOSITORY_API_VERSION = f"{SOURCE_GROUP}/v1"


def _crd(group: str, version: str, kind: str, plural: str, short: list[str], columns: list[dict]) -> dict[str, Any]:
    return crd_manifest(group, version, kind, plural, short_names=short, columns=columns,
                        schema={"type": "object", "x-kubernetes-preserve-unknown-fields": True})


_READY = {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'}
_STATUS = {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].message'}
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def helm_crd_manifests() -> list[dict[str, Any]]:
    """Return the HelmRelease, HelmRepository, HelmChart and OCIRepository CRDs a cluster needs for releases."""
    return [
        _crd(HELM_GROUP, HELM_VERSION, "HelmRelease", "helmreleases", ["hr"], [_AGE, _READY, _STATUS]),
        _crd(SOURCE_GROUP, "v1", "HelmRepository", "helmrepositories", ["helmrepo"], [
            {"name": "URL", "type": "string", "jsonPath": ".spec.url"}, _AGE,
        ]),
        _crd(SOURCE_GROUP, "v1", "HelmChart", "helmcharts", ["hc"], [
            {"name": "Chart", "type": "string", "jsonPath": ".spec.chart"},
            {"name": "Version", "type": "string", "jsonPath": ".spec.version"}, _AGE,
        ]),
        _crd(SOURCE_GROUP, "v1", "OCIRepository", "ocirepositories", ["ocirepo"], [
            {"name": "URL", "type": "string", "jsonPath": ".spec.url"}, _AGE,
        ]),
    ]


#: The ClusterRole aggregated into ``admin`` and ``edit`` that lets a project's ServiceAccount write Flux's Helm
#: kinds in its namespace, as Flux's own ``flux-edit`` role does (docs/security.md).
TENANT_ROLE = names.HELM_TENANT_ROLE


def tenant_role() -> dict[str, Any]:
    """The ClusterRole aggregated to ``admin`` and ``edit`` for Flux's Helm kinds (release, repositories, chart)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": TENANT_ROLE, "labels": {
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "app.kubernetes.io/managed-by": "gitops-tui"}},
        "rules": [{"apiGroups": [HELM_GROUP], "resources": ["helmreleases"], "verbs": list(TENANT_VERBS)},
                  {"apiGroups": [SOURCE_GROUP], "resources": ["helmrepositories", "helmcharts", "ocirepositories"],
                   "verbs": list(TENANT_VERBS)}],
    }


#: What ``edit`` may do with a kind (Flux's flux-edit verbs).
TENANT_VERBS = tuple(HELM_VERBS)


def is_helm_release(obj: dict[str, Any]) -> bool:
    """Return True for a HelmRelease manifest (helm.toolkit.fluxcd.io, any version)."""
    return obj.get("kind") == "HelmRelease" and str(obj.get("apiVersion", "")).startswith(f"{HELM_GROUP}/")
