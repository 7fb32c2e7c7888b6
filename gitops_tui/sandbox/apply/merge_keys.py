"""List merge keys by field path and kind, as Kubernetes declares them (listType, patchMergeKey)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache


@dataclass(frozen=True)
class ListSpec:
    """How one list field merges: server-side apply list type and strategic-merge-patch strategy."""

    list_type: str  # "map" | "set" | "atomic" (server-side apply; "atomic" also marks atomic structs)
    keys: tuple[str, ...] = ()  # x-kubernetes-list-map-keys (server-side apply)
    patch_merge_key: str | None = None  # patchMergeKey (strategic merge patch)
    patch_strategy: str = ""  # "merge", "merge,retainKeys" or "" (replace)
    key_defaults: tuple[tuple[str, object], ...] = field(default=())  # defaults of key fields

    @cached_property
    def sorted_keys(self) -> tuple[str, ...]:
        """The key fields in the order path elements list them."""
        return tuple(sorted(self.keys))

    @property
    def defaults(self) -> dict[str, object]:
        """Default values of key fields a list item may omit (e.g. protocol TCP)."""
        return dict(self.key_defaults)


def _map(*keys: str, smp: str | None = None, defaults: tuple[tuple[str, object], ...] = ()) -> ListSpec:
    """A list-type=map list keyed by ``keys``; its patchMergeKey is ``smp`` or the first key."""
    return ListSpec("map", tuple(keys), smp or keys[0], "merge", defaults)


ATOMIC = ListSpec("atomic")
SET = ListSpec("set", (), None, "merge")
_TCP = (("protocol", "TCP"),)

_CONTAINER: dict[tuple[str, ...], ListSpec] = {
    ("ports",): _map("containerPort", "protocol", smp="containerPort", defaults=_TCP),
    ("env",): _map("name"),
    ("envFrom",): ATOMIC,
    ("volumeMounts",): _map("mountPath"),
    ("volumeDevices",): _map("devicePath"),
    ("resizePolicy",): ATOMIC,
    ("command",): ATOMIC,
    ("args",): ATOMIC,
    ("resources", "claims"): _map("name"),
    ("env", "valueFrom", "secretKeyRef"): ATOMIC,
    ("env", "valueFrom", "configMapKeyRef"): ATOMIC,
    ("env", "valueFrom", "fieldRef"): ATOMIC,
    ("env", "valueFrom", "resourceFieldRef"): ATOMIC,
}

_POD_SPEC: dict[tuple[str, ...], ListSpec] = {
    ("volumes",): ListSpec("map", ("name",), "name", "merge,retainKeys"),
    ("imagePullSecrets",): _map("name"),
    ("tolerations",): ATOMIC,
    ("hostAliases",): _map("ip"),
    ("topologySpreadConstraints",): _map("topologyKey", "whenUnsatisfiable", smp="topologyKey"),
    ("readinessGates",): ATOMIC,
    ("topologySpreadConstraints", "labelSelector"): ATOMIC,
    ("resourceClaims",): ListSpec("map", ("name",), "name", "merge,retainKeys"),
    ("schedulingGates",): _map("name"),
    ("securityContext", "supplementalGroups"): ATOMIC,
    ("securityContext", "sysctls"): ATOMIC,
    ("dnsConfig", "nameservers"): ATOMIC,
    ("dnsConfig", "searches"): ATOMIC,
    ("dnsConfig", "options"): ATOMIC,
}
for _containers in ("containers", "initContainers", "ephemeralContainers"):
    _POD_SPEC[(_containers,)] = _map("name")
    for _rel, _spec in _CONTAINER.items():
        _POD_SPEC[(_containers, *_rel)] = _spec

_OBJECT_META: dict[tuple[str, ...], ListSpec] = {
    ("finalizers",): SET,
    ("ownerReferences",): _map("uid"),
    ("managedFields",): ATOMIC,
}

_GENERIC: dict[tuple[str, ...], ListSpec] = {
    ("status", "conditions"): _map("type"),
}
for _rel, _spec in _OBJECT_META.items():
    _GENERIC[("metadata", *_rel)] = _spec

# Where a pod spec sits, by (group, kind).
_POD_SPEC_ROOTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "PodTemplate"): ("template", "spec"),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}

_KIND_LISTS: dict[tuple[str, str], dict[tuple[str, ...], ListSpec]] = {
    ("", "Service"): {
        ("spec", "ports"): _map("port", "protocol", smp="port", defaults=_TCP),
        ("spec", "externalIPs"): ATOMIC,
        ("spec", "clusterIPs"): ATOMIC,
        ("spec", "ipFamilies"): ATOMIC,
        ("spec", "loadBalancerSourceRanges"): ATOMIC,
        ("status", "loadBalancer", "ingress"): ATOMIC,
    },
    ("", "Node"): {
        ("spec", "taints"): ATOMIC,
        ("status", "addresses"): _map("type"),
    },
    ("", "Namespace"): {("spec", "finalizers"): ATOMIC},
    ("", "Pod"): {
        ("status", "containerStatuses"): ATOMIC,
        ("status", "initContainerStatuses"): ATOMIC,
        ("status", "podIPs"): _map("ip"),
    },
    ("apps", "StatefulSet"): {("spec", "volumeClaimTemplates"): ATOMIC},
    ("networking.k8s.io", "Ingress"): {
        ("spec", "rules"): ATOMIC,
        ("spec", "tls"): ATOMIC,
    },
}


def group_of(api_version: str) -> str:
    """The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> "")."""
    return api_version.rpartition("/")[0] if "/" in api_version else ""


@lru_cache(maxsize=256)
def _table(group: str, kind: str) -> dict[tuple[str, ...], ListSpec]:
    """Every declared list of one kind, by field path."""
    table = dict(_GENERIC)
    root = _POD_SPEC_ROOTS.get((group, kind))
    if root is not None:
        for rel, spec in _POD_SPEC.items():
            table[root + rel] = spec
        template_meta = root[:-1] + ("metadata",)
        for rel, spec in _OBJECT_META.items():
            table[template_meta + rel] = spec
        if len(root) == 3 and group:  # workloads: spec.selector is an atomic LabelSelector
            table[("spec", "selector")] = ATOMIC
    table.update(_KIND_LISTS.get((group, kind), {}))
    return table


def list_spec(api_version: str, kind: str, path: tuple[str, ...]) -> ListSpec | None:
    """The merge rules of the list at ``path`` (field names only, no list indices), if declared."""
    return _table(group_of(api_version), kind).get(tuple(path))


def list_keys(api_version: str, kind: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The server-side-apply map keys of the list at ``path``, or None when it is not a keyed list."""
    spec = list_spec(api_version, kind, path)
    return spec.keys if spec is not None and spec.list_type == "map" else None


def patch_merge_key(api_version: str, kind: str, path: tuple[str, ...]) -> str | None:
    """The strategic-merge-patch merge key of the list at ``path``, or None (list is replaced)."""
    spec = list_spec(api_version, kind, path)
    return spec.patch_merge_key if spec is not None else None


def is_set(api_version: str, kind: str, path: tuple[str, ...]) -> bool:
    """Whether the list at ``path`` is a set of primitives (e.g. metadata.finalizers)."""
    spec = list_spec(api_version, kind, path)
    return spec is not None and spec.list_type == "set"


def lookup(api_version: str, kind: str) -> dict[tuple[str, ...], ListSpec]:
    """The full path -> ListSpec table of one kind (read-only; shared and cached)."""
    return _table(group_of(api_version), kind)
