"""Resource types served by a sandbox cluster (built-in kinds and CRD kinds) and discovery documents."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS: tuple[str, ...] = ("get", "patch", "update")

#: Subresources that are not views of the object: their verbs and the kind they answer with.
SPECIAL_SUBRESOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "binding": (("create",), "Binding"),
    "exec": (("create", "get"), "PodExecOptions"),
    "log": (("get",), "Pod"),
}

# Order in which built-in groups appear in /apis, as kube-apiserver lists them (by group priority).
BUILTIN_GROUP_ORDER: tuple[str, ...] = (
    "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "autoscaling", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
    "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
)


@dataclass(frozen=True)
class PrinterColumn:
    """A CRD additionalPrinterColumns entry."""

    name: str
    type: str
    json_path: str
    format: str = ""
    description: str = ""
    priority: int = 0


@dataclass(frozen=True)
class ResourceType:
    """One served resource: a group/version/kind with its REST names and capabilities."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = ALL_VERBS
    crd_name: str = ""
    printer_columns: tuple[PrinterColumn, ...] = ()
    schema: Any = field(default=None, compare=False, hash=False, repr=False)
    selectable_fields: tuple[str, ...] = ()  # a CRD version's selectableFields jsonPaths
    scale_paths: tuple[str, ...] = ()  # a CRD's specReplicasPath, statusReplicasPath, labelSelectorPath

    @property
    def group_version(self) -> str:
        """'v1' for the core group, else 'group/version'."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        """The apiVersion objects of this type carry (same as group_version)."""
        return self.group_version

    @property
    def list_kind(self) -> str:
        """The kind of list responses."""
        return self.kind + "List"

    @property
    def storage_key(self) -> tuple[str, str]:
        """(group, plural): one storage bucket shared by every version of a resource.

        events.k8s.io/v1 Events share core/v1 Events' storage, as in Kubernetes.
        """
        if self.group == "events.k8s.io" and self.plural == "events":
            return ("", "events")
        return (self.group, self.plural)

    @property
    def is_crd(self) -> bool:
        """True when served because of a CustomResourceDefinition."""
        return bool(self.crd_name)


def _rt(group: str, version: str, kind: str, plural: str, namespaced: bool = True,
        short: tuple[str, ...] = (), cats: tuple[str, ...] = (), status: bool = False,
        scale: bool = False, extra: tuple[str, ...] = ()) -> ResourceType:
    subs = set(extra)
    if status:
        subs.add("status")
    if scale:
        subs.add("scale")
    return ResourceType(group, version, kind, plural, kind.lower(), namespaced, short, cats, frozenset(subs))


BUILTINS: tuple[ResourceType, ...] = (
    _rt("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _rt("", "v1", "Event", "events", short=("ev",)),
    _rt("", "v1", "Endpoints", "endpoints", short=("ep",)),
    _rt("", "v1", "LimitRange", "limitranges", short=("limits",)),
    _rt("", "v1", "Namespace", "namespaces", namespaced=False, short=("ns",), status=True),
    _rt("", "v1", "Node", "nodes", namespaced=False, short=("no",), status=True),
    _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), status=True),
    _rt("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), status=True),
    _rt("", "v1", "Pod", "pods", short=("po",), cats=("all",), status=True, extra=("binding", "exec", "log")),
    _rt("", "v1", "ReplicationController", "replicationcontrollers", short=("rc",), cats=("all",), status=True,
        scale=True),
    _rt("", "v1", "ResourceQuota", "resourcequotas", short=("quota",), status=True),
    _rt("", "v1", "Secret", "secrets"),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _rt("", "v1", "Service", "services", short=("svc",), cats=("all",), status=True),
    _rt("apiregistration.k8s.io", "v1", "APIService", "apiservices", namespaced=False, cats=("api-extensions",),
        status=True),
    _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
        namespaced=False, short=("crd", "crds"), cats=("api-extensions",), status=True),
    _rt("apps", "v1", "ControllerRevision", "controllerrevisions"),
    _rt("apps", "v1", "DaemonSet", "daemonsets", short=("ds",), cats=("all",), status=True),
    _rt("apps", "v1", "Deployment", "deployments", short=("deploy",), cats=("all",), status=True, scale=True),
    _rt("apps", "v1", "ReplicaSet", "replicasets", short=("rs",), cats=("all",), status=True, scale=True),
    _rt("apps", "v1", "StatefulSet", "statefulsets", short=("sts",), cats=("all",), status=True, scale=True),
    _rt("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
        cats=("all",), status=True),
    _rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
        cats=("all",), status=True),
    _rt("batch", "v1", "CronJob", "cronjobs", short=("cj",), cats=("all",), status=True),
    _rt("batch", "v1", "Job", "jobs", cats=("all",), status=True),
    _rt("coordination.k8s.io", "v1", "Lease", "leases"),
    _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    _rt("events.k8s.io", "v1", "Event", "events", short=("ev",)),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",), status=True),
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), status=True),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles"),
)

# Create-only review kinds (answered by rest/reviews.py, never stored), served with discovery.
BUILTINS += tuple(
    ResourceType(group, "v1", kind, plural, kind.lower(), False, verbs=("create",))
    for group, kind, plural in (
        ("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
        ("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    )
)

# Read-only metrics of the metrics.k8s.io API (rest/pod_metrics.py), as metrics-server serves them.
METRICS_GROUP = "metrics.k8s.io"
BUILTINS += (ResourceType(METRICS_GROUP, "v1beta1", "PodMetrics", "pods", "", True, verbs=("get", "list")),
             ResourceType(METRICS_GROUP, "v1beta1", "NodeMetrics", "nodes", "", False, verbs=("get", "list")))

# Content type of aggregated discovery answers (kubectl asks for it first on /api and /apis).
AGGREGATED_DISCOVERY_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority_key(version: str) -> tuple:
    """Sort key giving kube-aware version order: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other."""
    match = _KUBE_VERSION.match(version)
    if not match:
        return (3, version)
    major = int(match.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    minor = int(match.group(3) or 0)
    return (stage, -major, -minor)


def split_api_version(api_version: str) -> tuple[str, str]:
    """Split 'apps/v1' into ('apps', 'v1') and 'v1' into ('', 'v1')."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def _scale_paths(scale: Any) -> tuple[str, ...]:
    """A CRD version's scale subresource paths (empty without one)."""
    if not isinstance(scale, dict):
        return ()
    return (scale.get("specReplicasPath") or ".spec.replicas", scale.get("statusReplicasPath") or ".status.replicas",
            scale.get("labelSelectorPath") or "")


def _crd_types(crd: dict) -> list[ResourceType]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    kind = names.get("kind", "")
    plural = names.get("plural", "")
    if not (group and kind and plural):
        return []
    crd_name = (crd.get("metadata") or {}).get("name") or f"{plural}.{group}"
    singular = names.get("singular") or kind.lower()
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True) or not ver.get("name"):
            continue
        subs = set()
        sub_spec = ver.get("subresources") or {}
        if "status" in sub_spec:
            subs.add("status")
        if "scale" in sub_spec:
            subs.add("scale")
        columns = tuple(
            PrinterColumn(name=c.get("name", ""), type=c.get("type", "string"), json_path=c.get("jsonPath", ""),
                          format=c.get("format", ""), description=c.get("description", ""),
                          priority=int(c.get("priority", 0) or 0))
            for c in ver.get("additionalPrinterColumns") or [] if c.get("name") and c.get("jsonPath"))
        schema = (ver.get("schema") or {}).get("openAPIV3Schema")
        out.append(ResourceType(group, ver["name"], kind, plural, singular, namespaced,
                                tuple(names.get("shortNames") or ()), tuple(names.get("categories") or ()),
                                frozenset(subs), ALL_VERBS, crd_name, columns, schema,
                                tuple(f.get("jsonPath", "") for f in ver.get("selectableFields") or ()),
                                _scale_paths(sub_spec.get("scale"))))
    return out


class Catalog:
    """Thread-safe registry of served resource types and the discovery documents built from them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._generation = 0
        self._memo: dict[Any, tuple[int, Any]] = {}
        for rt in BUILTINS:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def memo(self, key: Any, build: Any) -> Any:
        """Return ``build()`` cached for the current generation (documents derived from the catalog)."""
        with self._lock:
            generation = self._generation
            hit = self._memo.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = build()
        with self._lock:
            if self._generation == generation:
                self._memo[key] = (generation, value)
        return value

    @property
    def generation(self) -> int:
        """A counter that grows whenever the set of served types changes (for caching documents)."""
        return self._generation

    def resolve(self, group: str, version: str, plural: str) -> ResourceType | None:
        """Return the type served at /apis/<group>/<version>/<plural> (or /api/v1/<plural>), if any."""
        with self._lock:
            return self._types.get((group, version, plural))

    def for_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """Return the type for an object's apiVersion and kind, if served."""
        group, version = split_api_version(api_version)
        with self._lock:
            for rt in self._types.values():
                if rt.group == group and rt.version == version and rt.kind == kind:
                    return rt
        return None

    def all(self) -> list[ResourceType]:
        """Every served type, in a stable order."""
        with self._lock:
            return sorted(self._types.values(), key=lambda r: (r.group, r.version, r.plural))

    def versions_of(self, group: str, plural: str) -> list[ResourceType]:
        """Every served version of one resource, preferred first."""
        with self._lock:
            found = [rt for rt in self._types.values() if rt.group == group and rt.plural == plural]
        return sorted(found, key=lambda r: version_priority_key(r.version))

    def apply_crd(self, crd: dict) -> list[ResourceType]:
        """Serve every served version of ``crd``, replacing any earlier registration of it."""
        types = _crd_types(crd)
        with self._lock:
            self._remove_locked(crd)
            for rt in types:
                key = (rt.group, rt.version, rt.plural)
                existing = self._types.get(key)
                if existing is not None and not existing.is_crd:
                    continue  # never shadow a built-in kind
                self._types[key] = rt
            self._generation += 1
        return types

    def remove_crd(self, crd: dict) -> None:
        """Stop serving every version registered for ``crd``."""
        with self._lock:
            self._remove_locked(crd)
            self._generation += 1

    def _remove_locked(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        name = (crd.get("metadata") or {}).get("name") or ""
        group = spec.get("group", "")
        plural = (spec.get("names") or {}).get("plural", "")
        for key, rt in list(self._types.items()):
            if rt.is_crd and (rt.crd_name == name or (rt.group == group and rt.plural == plural)):
                del self._types[key]

    # ---- discovery -------------------------------------------------------------------------

    def groups(self) -> dict[str, list[str]]:
        """Map of group name to its served versions, preferred first (core group under '')."""
        with self._lock:
            pairs = {(rt.group, rt.version) for rt in self._types.values()}
        out: dict[str, list[str]] = {}
        for group, version in pairs:
            out.setdefault(group, []).append(version)
        for versions in out.values():
            versions.sort(key=version_priority_key)
        return out
