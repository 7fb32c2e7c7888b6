"""Warning Events of workload clusters, tied to the source that manages their object. No I/O.

A workload cluster's Warning Events (FailedScheduling, BackOff, FailedCreate, ProgressDeadlineExceeded...)
are read with the field selector ``type=Warning`` (one watch or list per cluster). Each is kept only when its
object is one a source manages there (its inventory in ``status.clusters[].inventory``), or is made by one
(a Pod of a managed Deployment, ReplicaSet, StatefulSet, DaemonSet or Job; a ReplicaSet of a managed
Deployment; a Job of a managed CronJob), recognised by the names Kubernetes' controllers give them.
It then joins the management stream as an Event of the source's namespace tagged with its cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.formats import ObjectRef
from gitops_tui.api.names import ANNOTATION_EVENT_CLUSTER

#: The field selector of the watches and lists (kube-apiserver and the sandbox both serve it for core Events).
WARNING_SELECTOR = "type=Warning"
#: Annotation of a stream Event: the source whose object the workload Event is about.
SOURCE_ANNOTATION = "gitops-tui.io/source"
#: Annotation of a stream Event: the object on the workload cluster (``Pod demo/podinfo-7bd9c-x2x4z``).
OBJECT_ANNOTATION = "gitops-tui.io/object"

# Kubernetes' generated suffixes: rand.SafeEncodeString's alphabet (no vowels, no 0, 1, 3).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
#: (kind of the Event's object, pattern of its name, kinds that may own it): the controllers' naming rules.
_OWNERS = (
    ("Pod", re.compile(rf"^(?P<owner>.+)-{_SAFE}{{1,10}}-{_SAFE}{{5}}$"), ("Deployment",)),
    ("Pod", re.compile(rf"^(?P<owner>.+)-{_SAFE}{{5}}$"), ("ReplicaSet", "DaemonSet", "Job")),
    ("Pod", re.compile(r"^(?P<owner>.+)-\d+$"), ("StatefulSet",)),
    ("ReplicaSet", re.compile(rf"^(?P<owner>.+)-{_SAFE}{{1,10}}$"), ("Deployment",)),
    ("Job", re.compile(r"^(?P<owner>.+)-\d+$"), ("CronJob",)),
)


@dataclass(frozen=True)
class SourceRef:
    """A source by its namespace (the project's) and name."""

    namespace: str
    name: str


#: cluster -> (namespace, kind, name) of a managed object -> its source.
Managed = dict[str, dict[tuple[str, str, str], SourceRef]]


def managed_objects(kustomizations: Iterable[dict[str, Any]]) -> Managed:
    """Index every object the sources applied, per cluster, from their status inventories."""
    out: Managed = {}
    for ks in kustomizations:
        meta = ks.get("metadata") or {}
        source = SourceRef(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        for entry in (ks.get("status") or {}).get("clusters") or []:
            cluster = str(entry.get("name") or "")
            for item in entry.get("inventory") or []:
                try:
                    ref = ObjectRef.from_entry(item)
                except (KeyError, ValueError, TypeError):
                    continue
                out.setdefault(cluster, {})[(ref.namespace, ref.kind, ref.name)] = source
    return out


def owning_source(cluster: str, event: dict[str, Any], managed: Managed) -> tuple[SourceRef, str] | None:
    """The source whose object the Event is about and that object (``Kind namespace/name``), or None."""
    involved = event.get("involvedObject") or {}
    kind, name = str(involved.get("kind") or ""), str(involved.get("name") or "")
    namespace = str(involved.get("namespace") or "")
    objects = managed.get(cluster) or {}
    found = _owner(objects, namespace, kind, name, depth=0)
    if found is None:
        return None
    where = f"{namespace}/{name}" if namespace else name
    return found, f"{kind} {where}"


def _owner(objects: dict[tuple[str, str, str], SourceRef], namespace: str, kind: str, name: str,
           depth: int) -> SourceRef | None:
    direct = objects.get((namespace, kind, name))
    if direct is not None or depth > 2:
        return direct
    for owned_kind, pattern, owners in _OWNERS:
        match = pattern.match(name) if owned_kind == kind else None
        if match is None:
            continue
        for owner_kind in owners:
            found = _owner(objects, namespace, owner_kind, match["owner"], depth + 1)
            if found is not None:
                return found
    return None


def stream_event(cluster: str, event: dict[str, Any], source: SourceRef, obj: str) -> dict[str, Any]:
    """The workload Event as the console's and the CLI's stream shows it: in the source's namespace, named per
    cluster (never colliding with another cluster's), tagged with its cluster, its source and its object."""
    meta = event.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "namespace": source.namespace,
            "name": f"{cluster}.{meta.get('namespace') or ''}.{meta.get('name') or ''}",
            "uid": meta.get("uid") or "",
            "resourceVersion": meta.get("resourceVersion") or "",
            "creationTimestamp": meta.get("creationTimestamp") or "",
            "annotations": {ANNOTATION_EVENT_CLUSTER: cluster, SOURCE_ANNOTATION: source.name, OBJECT_ANNOTATION: obj},
        },
        "involvedObject": dict(event.get("involvedObject") or {}),
        "type": event.get("type") or "Warning",
        "reason": event.get("reason") or "",
        "message": f"{obj}: {event.get('message') or ''}".rstrip(": "),
        "count": event.get("count") or (event.get("series") or {}).get("count") or 1,
        "firstTimestamp": event.get("firstTimestamp") or "",
        "lastTimestamp": event.get("lastTimestamp") or "",
        "eventTime": event.get("eventTime") or "",
        "series": event.get("series") or None,
        "reportingComponent": event.get("reportingComponent") or (event.get("source") or {}).get("component") or "",
    }
