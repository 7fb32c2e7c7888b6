"""A revision's objects for one cluster: the order they are applied in, and the check that the cluster can take them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import UnknownKind, resolver_for
from gitops_tui.kube.inventory import describe, ref_of
from gitops_tui.reconciler.errors import ObjectFailure
from gitops_tui.reconciler.identity import refuse_reserved

#: Apply order by kind: what others depend on goes first; unknown kinds go in the middle.
_KIND_ORDER = {
    kind: index
    for index, kind in enumerate(
        [
            "CustomResourceDefinition", "Namespace", "ServiceAccount", "Secret", "ConfigMap", "Role", "RoleBinding", "PersistentVolumeClaim",
            "LimitRange", "ResourceQuota", "NetworkPolicy", "Service", "Endpoints",
        ]
    )
}
_LATE_KINDS = {"Deployment": 50, "StatefulSet": 51, "DaemonSet": 52, "Job": 53, "CronJob": 54,
               "Ingress": 60, "HorizontalPodAutoscaler": 61, "PodDisruptionBudget": 62, "HelmRelease": 70}


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def apply_order(manifests: Iterable[dict]) -> list[dict]:
    """Return the manifests sorted so dependencies (ConfigMaps, Secrets, Services) come before workloads."""
    return sorted(manifests, key=lambda o: (rank(o), o.get("kind", ""), (o.get("metadata") or {}).get("name", "")))


def rank(obj: dict) -> int:
    """An object's apply rank: lower ranks are applied first."""
    return kind_rank(obj.get("kind", ""))


def kind_rank(kind: str) -> int:
    """A kind's apply rank (unknown kinds in the middle); pruning goes in the reverse order."""
    return _KIND_ORDER.get(kind, _LATE_KINDS.get(kind, 30))


def validate_for_cluster(dynamic: DynamicClient, manifests: Iterable[dict], *, platform: bool = False) -> None:
    """Check every object's kind is served and namespaced on this cluster; raise ObjectFailure naming the first bad one.

    ``platform`` (a platform project, docs/flux.md): cluster-scoped kinds pass, and so do kinds a
    CustomResourceDefinition of the same revision declares.
    """
    resolver = resolver_for(dynamic)
    manifests = list(manifests)
    from gitops_tui.kube.apply_order import declared_kinds

    later = declared_kinds(manifests) if platform else {}
    for obj in manifests:
        if later and (str(obj.get("apiVersion", "")).rpartition("/")[0], obj.get("kind")) in later:
            continue
        ref = ref_of(obj)
        refuse_reserved(ref)
        if len(ref.name) > 253 or not _DNS_SUBDOMAIN.match(ref.name):
            raise ObjectFailure("ValidationFailed", f"{describe(ref)}: the name must be lowercase letters, digits, "
                                                    "'-' and '.', starting and ending with a letter or digit")
        try:
            namespaced = resolver.namespaced(ref.api_version, ref.kind)
        except UnknownKind as exc:
            raise ObjectFailure("ValidationFailed", f"{describe(ref)}: {exc}") from None
        if not namespaced and not platform:
            raise ObjectFailure("ValidationFailed", f"{describe(ref)} is cluster-scoped; only namespaced objects may be applied")
