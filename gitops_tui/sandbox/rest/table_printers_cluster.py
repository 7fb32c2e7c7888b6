"""kube-apiserver's printer columns for Nodes, endpoints, quotas, budgets, volumes and APIServices."""

from __future__ import annotations

from collections.abc import Callable

from gitops_tui.sandbox.rest.table_printers import (
    AGE_DESCRIPTION,
    NAME_COLUMN,
    containers_and_images,
    created_at,
    field_at,
    metadata_of,
    name_of,
    object_age,
    or_none,
)

_AGE = ("Age", "string", AGE_DESCRIPTION)
_MAX_SHOWN = 3


def _with_more(items: list[str], total: int, empty: str) -> str:
    """kubectl's 'a,b,c + N more...' rendering of a long list."""
    text = ",".join(items[:_MAX_SHOWN])
    if total > _MAX_SHOWN:
        return f"{text} + {total - _MAX_SHOWN} more..."
    return text or empty


def _node_roles(o: dict) -> str:
    roles = set()
    for key, value in (metadata_of(o).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]:
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_row(o: dict) -> list:
    ready = next((c for c in field_at(o, "status", "conditions", default=[]) if c.get("type") == "Ready"), None)
    status = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if field_at(o, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    addresses = field_at(o, "status", "addresses", default=[])
    address = lambda kind: next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")  # noqa: E731
    info = field_at(o, "status", "nodeInfo", default={})
    return [name_of(o), ",".join(status), _node_roles(o), object_age(o), info.get("kubeletVersion", ""),
            address("InternalIP"), address("ExternalIP"), or_none(info.get("osImage")),
            or_none(info.get("kernelVersion")), or_none(info.get("containerRuntimeVersion"))]


def _endpoints_text(o: dict) -> str:
    shown: list[str] = []
    total = 0
    for subset in o.get("subsets") or []:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        pairs = addresses if not ports else [f"{ip}:{p.get('port')}" for p in ports for ip in addresses]
        shown += pairs
        total += len(pairs)
    if not o.get("subsets"):
        return "<none>"
    return _with_more(shown, total, "")


def _slice_ports(o: dict) -> str:
    ports = o.get("ports") or []
    names = [str(p.get("port") if p.get("port") is not None else p.get("name") or "*") for p in ports]
    return _with_more(names, len(names), "<unset>")


def _slice_endpoints(o: dict) -> str:
    addresses = [a for e in o.get("endpoints") or [] for a in e.get("addresses") or []]
    return _with_more(addresses, len(addresses), "<unset>")


def _pdb_row(o: dict) -> list:
    spec = o.get("spec") or {}
    return [name_of(o), str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
            str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
            int(field_at(o, "status", "disruptionsAllowed", default=0)), object_age(o)]


def _rc_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    selector = ",".join(f"{k}={v}" for k, v in sorted((field_at(o, "spec", "selector", default={}) or {}).items()))
    st = o.get("status") or {}
    return [name_of(o), field_at(o, "spec", "replicas", default=1), st.get("replicas", 0), st.get("readyReplicas", 0),
            object_age(o), names, images, selector or "<none>"]


def _quota_row(o: dict) -> list:
    hard, used = field_at(o, "status", "hard", default={}), field_at(o, "status", "used", default={})
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        text = f"{resource}: {used.get(resource, '0')}/{hard[resource]}"
        (limits if resource.startswith("limits.") else requests).append(text)
    return [name_of(o), object_age(o), ", ".join(requests), ", ".join(limits)]


def _pv_row(o: dict) -> list:
    modes = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    claim = field_at(o, "spec", "claimRef", default={})
    return [name_of(o), field_at(o, "spec", "capacity", "storage", default=""),
            ",".join(modes.get(m, m) for m in field_at(o, "spec", "accessModes", default=[])),
            field_at(o, "spec", "persistentVolumeReclaimPolicy", default="Retain"), field_at(o, "status", "phase", default=""),
            f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
            field_at(o, "spec", "storageClassName", default=""), or_none(field_at(o, "spec", "volumeAttributesClassName")),
            field_at(o, "status", "reason", default=""), object_age(o), field_at(o, "spec", "volumeMode", default="Filesystem")]


def _revision_row(o: dict) -> list:
    owner = next((r for r in metadata_of(o).get("ownerReferences") or [] if r.get("controller")), None)
    where = ""
    if owner:
        group = owner.get("apiVersion", "").split("/")[0] if "/" in owner.get("apiVersion", "") else ""
        where = f"{owner.get('kind', '').lower()}{'.' + group if group else ''}/{owner.get('name', '')}"
    return [name_of(o), where or "<none>", o.get("revision", 0), object_age(o)]


def _apiservice_row(o: dict) -> list:
    service = field_at(o, "spec", "service")
    where = "Local" if not service else f"{service.get('namespace', '')}/{service.get('name', '')}"
    cond = next((c for c in field_at(o, "status", "conditions", default=[]) if c.get("type") == "Available"), None)
    if cond is None:
        available = "Unknown"
    elif cond.get("status") == "True":
        available = "True"
    else:
        available = f"{cond.get('status', 'Unknown')} ({cond.get('reason', '')})"
    return [name_of(o), where, available, object_age(o)]


_CREATED = [NAME_COLUMN, ("Created At", "date", "Time of creation.")]

CLUSTER_PRINTERS: dict[tuple[str, str], tuple[list, Callable[[dict], list]]] = {
    ("", "Node"): ([NAME_COLUMN, ("Status", "string", "The status of the node"),
                    ("Roles", "string", "The roles of the node"), _AGE,
                    ("Version", "string", "Kubelet Version reported by the node."),
                    ("Internal-IP", "string", "List of addresses reachable to the node.", 1),
                    ("External-IP", "string", "List of addresses reachable to the node.", 1),
                    ("OS-Image", "string", "OS Image reported by the node.", 1),
                    ("Kernel-Version", "string", "Kernel Version reported by the node.", 1),
                    ("Container-Runtime", "string", "ContainerRuntime Version reported by the node.", 1)],
                   _node_row),
    ("", "Endpoints"): ([NAME_COLUMN, ("Endpoints", "string", "The set of all endpoints is the union of all "
                                       "subsets."), _AGE],
                        lambda o: [name_of(o), _endpoints_text(o), object_age(o)]),
    ("discovery.k8s.io", "EndpointSlice"): ([NAME_COLUMN, ("AddressType", "string", "addressType specifies the "
                                                           "type of address carried by this EndpointSlice."),
                                             ("Ports", "string", "ports specifies the list of network ports "
                                              "exposed by each endpoint in this slice."),
                                             ("Endpoints", "string", "endpoints is a list of unique endpoints in "
                                              "this slice."), _AGE],
                                            lambda o: [name_of(o), o.get("addressType", ""), _slice_ports(o),
                                                       _slice_endpoints(o), object_age(o)]),
    ("policy", "PodDisruptionBudget"): ([NAME_COLUMN, ("Min Available", "string", "The minimum number of pods "
                                                       "that must be available."),
                                         ("Max Unavailable", "string", "The maximum number of pods that may be "
                                          "unavailable."),
                                         ("Allowed Disruptions", "integer", "Calculated number of pods that may "
                                          "be disrupted at this time."), _AGE], _pdb_row),
    ("", "ReplicationController"): ([NAME_COLUMN, ("Desired", "integer", "Replicas is the number of desired "
                                                   "replicas."),
                                     ("Current", "integer", "Replicas is the most recently observed number of "
                                      "replicas."),
                                     ("Ready", "integer", "The number of ready replicas for this replication "
                                      "controller."), _AGE,
                                     ("Containers", "string", "Names of each container in the template.", 1),
                                     ("Images", "string", "Images referenced by each container in the template.",
                                      1),
                                     ("Selector", "string", "Selector is a label query over pods that should "
                                      "match the Replicas count.", 1)], _rc_row),
    ("", "ResourceQuota"): ([NAME_COLUMN, _AGE,
                             ("Request", "string", "Request represents a minimum amount of cpu/memory that a "
                              "container may consume."),
                             ("Limit", "string", "Limits control the maximum amount of cpu/memory that a container "
                              "may use independent of contention on the node.")], _quota_row),
    ("", "LimitRange"): (_CREATED, lambda o: [name_of(o), created_at(o)]),
    ("", "PersistentVolume"): ([NAME_COLUMN, ("Capacity", "string", "capacity is the description of the "
                                              "persistent volume's resources and capacity."),
                                ("Access Modes", "string", "accessModes contains all ways the volume can be "
                                 "mounted."),
                                ("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens "
                                 "to a persistent volume when released from its claim."),
                                ("Status", "string", "phase indicates if a volume is available, bound to a claim, "
                                 "or released by a claim."),
                                ("Claim", "string", "claimRef is part of a bi-directional binding between "
                                 "PersistentVolume and PersistentVolumeClaim."),
                                ("StorageClass", "string", "StorageClass of the pv"),
                                ("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
                                ("Reason", "string", "reason is a brief CamelCase string that describes any "
                                 "failure."), _AGE,
                                ("VolumeMode", "string", "volumeMode defines if a volume is intended to be used "
                                 "with a formatted filesystem or to remain in raw block state.", 1)], _pv_row),
    ("apps", "ControllerRevision"): ([NAME_COLUMN, ("Controller", "string", "Controller of the object"),
                                      ("Revision", "string", "Revision indicates the revision of the state "
                                       "represented by Data."), _AGE], _revision_row),
    ("apiregistration.k8s.io", "APIService"): ([NAME_COLUMN, ("Service", "string", "The reference to the "
                                                              "service that hosts this API endpoint."),
                                                ("Available", "string", "Whether this service is available."),
                                                _AGE], _apiservice_row),
}
