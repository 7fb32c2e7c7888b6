"""Flux's apply order: CustomResourceDefinitions and Namespaces first, and what cannot be dry-run before they exist.

It lives in kube/ so that both the reconciler and helm/ may read it (docs/architecture.md).

kustomize-controller applies CRDs and Namespaces (and other cluster definitions) in a first stage, then
the rest. A server-side dry-run of an object in a Namespace, or of a kind, that the same revision creates
cannot succeed before that first stage; such objects are checked by their apply instead (docs/flux.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import get_object

#: Kinds applied before every other kind, in this order (kustomize-controller's first stage).
FIRST_KINDS = ("CustomResourceDefinition", "Namespace")
CRD_KIND = "CustomResourceDefinition"


def declared_kinds(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for every CustomResourceDefinition among ``objects``."""
    kinds: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if obj.get("kind") != CRD_KIND or not str(obj.get("apiVersion", "")).startswith("apiextensions.k8s.io/"):
            continue
        spec = obj.get("spec") or {}
        kind = str((spec.get("names") or {}).get("kind") or "")
        if kind:
            kinds[(str(spec.get("group") or ""), kind)] = spec.get("scope") != "Cluster"
    return kinds


def declared_namespaces(objects: Iterable[dict[str, Any]]) -> set[str]:
    """Names of the v1 Namespaces among ``objects``."""
    return {str((o.get("metadata") or {}).get("name")) for o in objects
            if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"}


def made_by_revision(desired: list[dict[str, Any]]) -> set[int]:
    """ids of the objects that live in a Namespace, or are of a kind, that ``desired`` itself creates."""
    namespaces = declared_namespaces(desired)
    kinds = declared_kinds(desired)
    found: set[int] = set()
    for obj in desired:
        namespace = (obj.get("metadata") or {}).get("namespace")
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        if (namespace and namespace in namespaces) or (group, obj.get("kind")) in kinds:
            found.add(id(obj))
    return found


def namespace_pending(dynamic: DynamicClient, namespace: str, manifests: list[dict[str, Any]]) -> bool:
    """True when ``namespace`` does not exist on the cluster yet but a Namespace of the revision will create it."""
    if namespace not in declared_namespaces(manifests):
        return False
    return get_object(dynamic, "v1", "Namespace", namespace, None) is None
