"""The field selectors each kind supports (kube-apiserver's field label conversions), and 400 for the rest."""

from __future__ import annotations

from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.errors import bad_request

_META = ("metadata.name", "metadata.namespace")
_INVOLVED = tuple(f"involvedObject.{f}" for f in ("kind", "namespace", "name", "uid", "apiVersion",
                                                    "resourceVersion", "fieldPath"))
# label -> the object path whose value it selects on (the same path unless renamed)
_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("", "Pod"): {**{f: f for f in ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                    "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                                    "status.nominatedNodeName")}, "spec.host": "spec.nodeName"},
    ("", "Event"): {**{f: f for f in (*_INVOLVED, "reason", "reportingComponent", "type")},
                    "source": "source.component"},
    ("events.k8s.io", "Event"): {**{f"involvedObject.{f.split('.', 1)[1]}": f"regarding.{f.split('.', 1)[1]}"
                                    for f in _INVOLVED},
                                 **{f"regarding.{f.split('.', 1)[1]}": f"regarding.{f.split('.', 1)[1]}"
                                    for f in _INVOLVED},
                                 "reason": "reason", "type": "type", "reportingController": "reportingController",
                                 "source": "deprecatedSource.component"},
    ("", "Secret"): {"type": "type"},
    ("", "Namespace"): {"status.phase": "status.phase"},
    ("", "Node"): {"spec.unschedulable": "spec.unschedulable"},
    ("", "ReplicationController"): {"status.replicas": "status.replicas"},
    ("apps", "ReplicaSet"): {"status.replicas": "status.replicas"},
    ("batch", "Job"): {"status.successful": "status.successful"},
}


def _crd_labels(rt: ResourceType) -> dict[str, str]:
    """A CRD version's selectableFields (jsonPath '.spec.color' selects as 'spec.color')."""
    return {path.lstrip("."): path.lstrip(".") for path in rt.selectable_fields if path}


def supported(rt: ResourceType) -> dict[str, str]:
    """Every field label ``rt`` supports, mapped to the object path it selects on."""
    labels = {label: label for label in _META}
    if rt.is_crd:
        labels.update(_crd_labels(rt))
    else:
        labels.update(_LABELS.get((rt.group, rt.kind), {}))
    return labels


def translate(rt: ResourceType, terms: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Field selector terms on the object paths they select; 400 'field label not supported: X' otherwise."""
    labels = supported(rt)
    out = []
    for label, op, value in terms:
        path = labels.get(label)
        if path is None:
            raise bad_request(f"field label not supported: {label}")
        out.append((path, op, value))
    return out
