"""Flux's HelmRelease and HelmRepository CRDs, installed on each workload cluster that runs releases."""

from __future__ import annotations

from typing import Any

HELM_GROUP = "helm.toolkit.fluxcd.io"
HELM_VERSION = "v2"
HELMRELEASE_API_VERSION = f"{HELM_GROUP}/{HELM_VERSION}"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
HELMREPOSITORY_API_VERSION = f"{SOURCE_GROUP}/v1"


def _crd(group: str, version: str, kind: str, plural: str, short: list[str], columns: list[dict]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short,
            },
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


_READY = {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'}
_STATUS = {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].message'}
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def helm_crd_manifests() -> list[dict[str, Any]]:
    """Return the HelmRelease and HelmRepository CRDs a workload cluster needs for releases."""
    return [
        _crd(HELM_GROUP, HELM_VERSION, "HelmRelease", "helmreleases", ["hr"], [_AGE, _READY, _STATUS]),
        _crd(SOURCE_GROUP, "v1", "HelmRepository", "helmrepositories", ["helmrepo"], [
            {"name": "URL", "type": "string", "jsonPath": ".spec.url"}, _AGE,
        ]),
    ]


def is_helm_release(obj: dict[str, Any]) -> bool:
    """Return True for a HelmRelease manifest (helm.toolkit.fluxcd.io, any version)."""
    return obj.get("kind") == "HelmRelease" and str(obj.get("apiVersion", "")).startswith(f"{HELM_GROUP}/")
