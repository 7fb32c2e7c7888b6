"""Tenancy policy: objects land only in the project namespace; cluster-scoped and unknown kinds are refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gitops_tui.api import names
from gitops_tui.reconciler.errors import TenancyViolation
from gitops_tui.reconciler.render import Manifest, plain_copy

IsNamespaced = Callable[[str, str], "bool | None"]

# Built-in kinds by scope, for a static answer when no cluster discovery is at hand.
_CLUSTER_SCOPED = {
    ("v1", "Namespace"), ("v1", "Node"), ("v1", "PersistentVolume"), ("v1", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"), ("storage.k8s.io", "VolumeAttachment"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("apiregistration.k8s.io", "APIService"), ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"), ("certificates.k8s.io", "CertificateSigningRequest"),
    ("networking.k8s.io", "IngressClass"), ("policy", "PodSecurityPolicy"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    (names.PROJECT_GROUP, names.KIND_PROJECT),
}
_NAMESPACED = {
    ("v1", k) for k in (
        "ConfigMap", "Secret", "Service", "ServiceAccount", "Pod", "PersistentVolumeClaim", "Endpoints",
        "LimitRange", "ResourceQuota", "Event", "ReplicationController", "PodTemplate",
    )
} | {
    ("apps", k) for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision")
} | {
    ("batch", "Job"), ("batch", "CronJob"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"), ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"), ("coordination.k8s.io", "Lease"),
    ("events.k8s.io", "Event"), ("discovery.k8s.io", "EndpointSlice"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
}


def _group(api_version: str) -> str:
    """The API group of an apiVersion ("v1" for the core group, as in the tables above)."""
    group, _, _ = api_version.rpartition("/")
    return group or "v1"


def builtin_is_namespaced(api_version: str, kind: str) -> bool | None:
    """Scope of well-known kinds without asking a cluster: True, False, or None when unknown."""
    key = (_group(api_version), kind)
    if key in _CLUSTER_SCOPED:
        return False
    if key in _NAMESPACED:
        return True
    return None


def _display(obj: dict[str, Any]) -> str:
    """"Kind/name" of an object."""
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _violation(manifest: Manifest, obj: dict[str, Any], namespace: str, scoped: bool | None) -> str | None:
    """The violation message for one object, or None when it is allowed."""
    what = f"{_display(obj)} in {manifest.origin}"
    if scoped is None:
        return (f"{what} has kind {obj.get('apiVersion')} {obj.get('kind')}, which the cluster does not serve, "
                f"so it cannot be confined to namespace {namespace!r}")
    if scoped is False:
        return f"{what} is cluster-scoped; only namespaced objects in namespace {namespace!r} are allowed"
    target = (obj.get("metadata") or {}).get("namespace")
    if target and target != namespace:
        return f"{what} targets namespace {target!r}; objects may only land in the project namespace {namespace!r}"
    return None


def enforce(
    manifests: Iterable[Manifest],
    namespace: str,
    is_namespaced: IsNamespaced,
    *,
    unknown_is_namespaced: bool = False,
) -> list[dict[str, Any]]:
    """Return copies of the objects, confined to `namespace`, or raise TenancyViolation.

    Unset namespaces are set to `namespace`. An object in another namespace, of a cluster-scoped
    kind, or of a kind the cluster does not know (`is_namespaced` returns None) is refused, unless
    `unknown_is_namespaced` treats unknown kinds as namespaced. The whole list is checked first;
    the error names the first offending object and its file, and counts the others.
    """
    objects: list[dict[str, Any]] = []
    problems: list[tuple[Manifest, str]] = []
    for manifest in manifests:
        obj = plain_copy(manifest.obj)  # parsed YAML: a plain copy is a deep one, several times quicker
        scoped = is_namespaced(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if scoped is None and unknown_is_namespaced:
            scoped = True
        problem = _violation(manifest, obj, namespace, scoped)
        if problem:
            problems.append((manifest, problem))
            continue
        obj.setdefault("metadata", {})["namespace"] = namespace
        objects.append(obj)
    if problems:
        first, message = problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more object(s) refused)"
        raise TenancyViolation(message, origin=first.origin, object=_display(first.obj))
    return objects


def label(objects: Iterable[dict[str, Any]], project: str, source: str) -> list[dict[str, Any]]:
    """Return the objects with the gitops-tui.io/project and gitops-tui.io/source labels: new objects and new
    metadata, the rest shared with the input (enforce's own copies: copying them again cost a pass over each)."""
    result = []
    for obj in objects:
        metadata = dict(obj.get("metadata") or {})
        labels = dict(metadata.get("labels") or {})
        labels[names.LABEL_PROJECT] = project
        labels[names.LABEL_SOURCE] = source
        metadata["labels"] = labels
        result.append({**obj, "metadata": metadata})
    return result
