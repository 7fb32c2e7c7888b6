"""kube-apiserver's printer columns for the built-in kinds, and kubectl-style ages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gitops_tui.util.timestamps import parse_time

NAME_DESCRIPTION = ("Name must be unique within a namespace. Is required when creating resources, although some "
                    "resources may allow a client to request the generation of an appropriate name automatically. "
                    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
                    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DESCRIPTION = ("CreationTimestamp is a timestamp representing the server time when this object was created. "
                   "It is not guaranteed to be set in happens-before order across separate operations. Clients "
                   "may not set this value. It is represented in RFC3339 form and is in UTC.")


def human_duration(seconds: float) -> str:
    """Render a duration like kubectl's duration.HumanDuration ('5s', '3m20s', '2d4h', '3y')."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: Any, now: datetime | None = None) -> str:
    """Age of an RFC 3339 timestamp, '<unknown>' when absent."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    now = now or datetime.now(UTC)
    return human_duration((now - when).total_seconds())


# ---- columns -----------------------------------------------------------------------------

def column(name: str, typ: str = "string", description: str = "", priority: int = 0, fmt: str = "") -> dict:
    """A TableColumnDefinition."""
    return {"name": name, "type": typ, "format": fmt, "description": description, "priority": priority}


NAME_COLUMN = column("Name", "string", NAME_DESCRIPTION, fmt="name")
AGE_COLUMN = column("Age", "string", AGE_DESCRIPTION)


# ---- built-in printers (kube-apiserver's pkg/printers/internalversion) -------------------------

def metadata_of(o: dict) -> dict:
    """The object's metadata (empty when absent)."""
    return o.get("metadata") or {}


def name_of(o: dict) -> str:
    """The object's name."""
    return metadata_of(o).get("name", "")


def object_age(o: dict) -> str:
    """The age of the object (its creationTimestamp)."""
    return age(metadata_of(o).get("creationTimestamp"))


def field_at(o: Any, *path: Any, default: Any = None) -> Any:
    """The value at ``path`` in nested dicts and lists, ``default`` when any step is missing."""
    for key in path:
        if isinstance(o, dict):
            o = o.get(key)
        elif isinstance(o, list) and isinstance(key, int) and -len(o) <= key < len(o):
            o = o[key]
        else:
            return default
        if o is None:
            return default
    return o


def or_none(value: Any) -> str:
    """The value as text, "<none>" when empty, as kubectl prints it."""
    return "<none>" if value in (None, "", []) else str(value)


def _pod_row(o: dict) -> list:
    containers = field_at(o, "spec", "containers", default=[])
    statuses = field_at(o, "status", "containerStatuses", default=[])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0) or 0) for c in statuses)
    reason = field_at(o, "status", "reason") or field_at(o, "status", "phase") or "Pending"
    for c in statuses:
        waiting = field_at(c, "state", "waiting", "reason")
        terminated = field_at(c, "state", "terminated", "reason")
        if waiting and waiting != "PodInitializing":
            reason = waiting
        elif terminated:
            reason = terminated
    if metadata_of(o).get("deletionTimestamp"):
        reason = "Terminating"
    return [name_of(o), f"{ready}/{len(containers)}", reason, str(restarts), object_age(o),
            or_none(field_at(o, "status", "podIP")), or_none(field_at(o, "spec", "nodeName")),
            or_none(field_at(o, "status", "nominatedNodeName")), "<none>"]


def containers_and_images(o: dict, *pod_path: str) -> tuple[str, str]:
    """The comma-separated container names and images of the pod template at ``pod_path``."""
    containers = field_at(o, *pod_path, "containers", default=[])
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(sel: Any) -> str:
    if not isinstance(sel, dict):
        return "<none>"
    parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        values = ",".join(expr.get("values") or [])
        op = expr.get("operator", "")
        parts.append({"In": f"{expr.get('key')} in ({values})", "NotIn": f"{expr.get('key')} notin ({values})",
                      "Exists": f"{expr.get('key')}", "DoesNotExist": f"!{expr.get('key')}"}.get(op, ""))
    return ",".join(parts) or "<none>"


def _deploy_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    st = o.get("status") or {}
    desired = field_at(o, "spec", "replicas", default=1)
    return [name_of(o), f"{st.get('readyReplicas', 0)}/{desired}", st.get("updatedReplicas", 0),
            st.get("availableReplicas", 0), object_age(o), names, images, _selector(field_at(o, "spec", "selector"))]


def _rs_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    st = o.get("status") or {}
    return [name_of(o), field_at(o, "spec", "replicas", default=1), st.get("replicas", 0), st.get("readyReplicas", 0),
            object_age(o), names, images, _selector(field_at(o, "spec", "selector"))]


def _sts_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    return [name_of(o), f"{field_at(o, 'status', 'readyReplicas', default=0)}/{field_at(o, 'spec', 'replicas', default=1)}",
            object_age(o), names, images]


def _ds_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    st = o.get("status") or {}
    node_sel = field_at(o, "spec", "template", "spec", "nodeSelector", default={})
    return [name_of(o), st.get("desiredNumberScheduled", 0), st.get("currentNumberScheduled", 0),
            st.get("numberReady", 0), st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0),
            ",".join(f"{k}={v}" for k, v in node_sel.items()) or "<none>", object_age(o), names, images,
            _selector(field_at(o, "spec", "selector"))]


def _job_status(o: dict) -> str:
    for cond in field_at(o, "status", "conditions", default=[]):
        if cond.get("status") == "True" and cond.get("type") in ("Complete", "Failed", "Suspended"):
            return cond["type"]
        if cond.get("status") == "True" and cond.get("type") == "FailureTarget":
            return "FailureTarget"
    return "Terminating" if metadata_of(o).get("deletionTimestamp") else "Running"


def _job_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "template", "spec")
    completions = field_at(o, "spec", "completions")
    succeeded = field_at(o, "status", "succeeded", default=0)
    start, end = parse_time(field_at(o, "status", "startTime")), parse_time(field_at(o, "status", "completionTime"))
    duration = ""
    if start:
        duration = human_duration(((end or datetime.now(UTC)) - start).total_seconds())
    comp = f"{succeeded}/{completions}" if completions is not None else f"{succeeded}/1 of {field_at(o, 'spec', 'parallelism', default=1)}"
    return [name_of(o), _job_status(o), comp, duration, object_age(o), names, images, _selector(field_at(o, "spec", "selector"))]


def _cronjob_row(o: dict) -> list:
    names, images = containers_and_images(o, "spec", "jobTemplate", "spec", "template", "spec")
    last = field_at(o, "status", "lastScheduleTime")
    return [name_of(o), field_at(o, "spec", "schedule", default=""), or_none(field_at(o, "spec", "timeZone")),
            "True" if field_at(o, "spec", "suspend") else "False", len(field_at(o, "status", "active", default=[])),
            age(last) if last else "<none>", object_age(o), names, images, "<none>"]


def _svc_ports(o: dict) -> str:
    out = []
    for p in field_at(o, "spec", "ports", default=[]):
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _svc_row(o: dict) -> list:
    typ = field_at(o, "spec", "type", default="ClusterIP")
    external = ",".join(field_at(o, "spec", "externalIPs", default=[]))
    ingress = [i.get("ip") or i.get("hostname") for i in field_at(o, "status", "loadBalancer", "ingress", default=[])]
    if typ == "LoadBalancer":
        external = ",".join([x for x in ingress if x] + ([external] if external else [])) or "<pending>"
    elif typ == "ExternalName":
        external = field_at(o, "spec", "externalName", default="")
    sel = field_at(o, "spec", "selector", default={})
    return [name_of(o), typ, or_none(field_at(o, "spec", "clusterIP")), external or "<none>", _svc_ports(o), object_age(o),
            ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>"]


def _event_row(o: dict) -> list:
    core = "involvedObject" in o
    regarding = o.get("involvedObject") or o.get("regarding") or {}
    kind = (regarding.get("kind") or "").lower()
    obj = f"{kind}/{regarding.get('name', '')}"
    last = (o.get("lastTimestamp") or field_at(o, "series", "lastObservedTime") or o.get("eventTime")
            or o.get("deprecatedLastTimestamp") or metadata_of(o).get("creationTimestamp"))
    first = o.get("firstTimestamp") or o.get("deprecatedFirstTimestamp") or o.get("eventTime") or last
    source = (field_at(o, "source" if core else "deprecatedSource", "component") or o.get("reportingComponent")
              or o.get("reportingController") or "")
    count = o.get("count") if core else (field_at(o, "series", "count") or o.get("deprecatedCount") or 1)
    message = (o.get("message") if core else o.get("note")) or ""
    return [age(last), o.get("type", ""), o.get("reason", ""), obj, regarding.get("fieldPath", ""), source,
            message.strip(), age(first), count or 1, name_of(o)]


def _binding_row(o: dict) -> list:
    subjects = o.get("subjects") or []
    pick = lambda kind: ",".join(s.get("name", "") for s in subjects if s.get("kind") == kind)  # noqa: E731
    sas = ",".join(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in subjects
                   if s.get("kind") == "ServiceAccount")
    ref = o.get("roleRef") or {}
    return [name_of(o), f"{ref.get('kind', '')}/{ref.get('name', '')}", object_age(o), pick("User"), pick("Group"), sas]


def _ingress_row(o: dict) -> list:
    rules = field_at(o, "spec", "rules", default=[])
    hosts = ",".join(r.get("host", "") for r in rules if r.get("host")) or "*"
    lb = [i.get("ip") or i.get("hostname") for i in field_at(o, "status", "loadBalancer", "ingress", default=[])]
    ports = "80, 443" if field_at(o, "spec", "tls") else "80"
    return [name_of(o), or_none(field_at(o, "spec", "ingressClassName")), hosts, ",".join(x for x in lb if x), ports, object_age(o)]


def _pvc_row(o: dict) -> list:
    modes = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    access = ",".join(modes.get(m, m) for m in field_at(o, "status", "accessModes", default=[]))
    return [name_of(o), field_at(o, "status", "phase", default="Pending"), field_at(o, "spec", "volumeName", default=""),
            field_at(o, "status", "capacity", "storage", default=""), access,
            or_none(field_at(o, "spec", "storageClassName")), or_none(field_at(o, "spec", "volumeAttributesClassName")),
            object_age(o), field_at(o, "spec", "volumeMode", default="Filesystem")]


def _hpa_row(o: dict) -> list:
    ref = field_at(o, "spec", "scaleTargetRef", default={})
    targets = []
    if field_at(o, "spec", "targetCPUUtilizationPercentage") is not None:  # autoscaling/v1
        current = field_at(o, "status", "currentCPUUtilizationPercentage")
        targets.append(f"cpu: {'<unknown>' if current is None else f'{current}%'}/"
                       f"{field_at(o, 'spec', 'targetCPUUtilizationPercentage')}%")
    statuses = field_at(o, "status", "currentMetrics", default=None) or []
    for index, metric in enumerate(field_at(o, "spec", "metrics", default=[])):
        target = field_at(metric, "resource", "target", default={})
        name = field_at(metric, "resource", "name")
        current = field_at(statuses[index], "resource", "current", default={}) if index < len(statuses) else {}
        if "averageUtilization" in target:
            now = f"{current['averageUtilization']}%" if "averageUtilization" in current else "<unknown>"
            targets.append(f"{name}: {now}/{target['averageUtilization']}%")
        elif name and (target.get("averageValue") or target.get("value")):
            targets.append(f"{name}: {current.get('averageValue', '<unknown>')}/"
                           f"{target.get('averageValue') or target.get('value')}")
        else:
            targets.append("<unknown>")
    return [name_of(o), f"{ref.get('kind', '')}/{ref.get('name', '')}", ", ".join(targets) or "<none>",
            field_at(o, "spec", "minReplicas", default=1), field_at(o, "spec", "maxReplicas", default=0),
            field_at(o, "status", "currentReplicas", default=0), object_age(o)]


def created_at(o: dict) -> str:
    """The creationTimestamp as stored."""
    return str(metadata_of(o).get("creationTimestamp", ""))


_AGE = ("Age", "string", AGE_DESCRIPTION)
_WIDE_CONTAINERS = [("Containers", "string", "Names of each container in the template.", 1),
                    ("Images", "string", "Images referenced by each container in the template.", 1)]
_WIDE_SELECTOR = ("Selector", "string", "The label selector.", 1)
_BINDING_COLS = [NAME_COLUMN, ("Role", "string", "RoleRef to the referenced role."), _AGE,
                 ("Users", "string", "Users in the roleBinding.", 1),
                 ("Groups", "string", "Groups in the roleBinding.", 1),
                 ("ServiceAccounts", "string", "ServiceAccounts in the roleBinding.", 1)]
_EVENT_COLS = [("Last Seen", "string", "Time of the last occurrence."), ("Type", "string", "Type of this event."),
               ("Reason", "string", "Reason why this event was generated."),
               ("Object", "string", "The object this Event is about."),
               ("Subobject", "string", "The subobject this Event is about.", 1),
               ("Source", "string", "The component reporting this event.", 1),
               ("Message", "string", "A human-readable description of the status of this operation."),
               ("First Seen", "string", "Time of the first occurrence.", 1),
               ("Count", "integer", "Number of occurrences.", 1), ("Name", "string", "Name of the event.", 1)]
_ROLE_COLS = [NAME_COLUMN, ("Created At", "date", "Time of creation.")]

PRINTERS: dict[tuple[str, str], tuple[list, Callable[[dict], list]]] = {
    ("", "Namespace"): ([NAME_COLUMN, ("Status", "string", "The status of the namespace."), _AGE],
                        lambda o: [name_of(o), field_at(o, "status", "phase", default="Active"), object_age(o)]),
    ("", "Pod"): ([NAME_COLUMN, ("Ready", "string", "The aggregate readiness state of this pod for accepting "
                                 "traffic."), ("Status", "string", "The aggregate status of the containers."),
                   ("Restarts", "string", "The number of times the containers in this pod have been restarted."),
                   _AGE, ("IP", "string", "IP address of the pod.", 1),
                   ("Node", "string", "Name of the node.", 1),
                   ("Nominated Node", "string", "Name of the nominated node.", 1),
                   ("Readiness Gates", "string", "Pod readiness gates.", 1)], _pod_row),
    ("apps", "Deployment"): ([NAME_COLUMN, ("Ready", "string", "Number of the pod with ready state"),
                              ("Up-to-date", "string", "Total number of non-terminated pods targeted by this "
                               "deployment that have the desired template spec."),
                              ("Available", "string", "Total number of available pods (ready for at least "
                               "minReadySeconds) targeted by this deployment."), _AGE, *_WIDE_CONTAINERS,
                              _WIDE_SELECTOR], _deploy_row),
    ("apps", "ReplicaSet"): ([NAME_COLUMN, ("Desired", "integer", "Number of desired pods."),
                              ("Current", "integer", "Number of actually running pods."),
                              ("Ready", "integer", "Number of pods ready."), _AGE, *_WIDE_CONTAINERS,
                              _WIDE_SELECTOR], _rs_row),
    ("apps", "StatefulSet"): ([NAME_COLUMN, ("Ready", "string", "Number of the pod with ready state"), _AGE,
                               *_WIDE_CONTAINERS], _sts_row),
    ("apps", "DaemonSet"): ([NAME_COLUMN, ("Desired", "integer", "The desired number of daemon pods."),
                             ("Current", "integer", "The current number of daemon pods."),
                             ("Ready", "integer", "The number of ready daemon pods."),
                             ("Up-to-date", "integer", "The number of updated daemon pods."),
                             ("Available", "integer", "The number of available daemon pods."),
                             ("Node Selector", "string", "The node selector of the daemon set."), _AGE,
                             *_WIDE_CONTAINERS, _WIDE_SELECTOR], _ds_row),
    ("batch", "Job"): ([NAME_COLUMN, ("Status", "string", "Status of the job."),
                        ("Completions", "string", "The completion status of the job."),
                        ("Duration", "string", "Time required to complete the job."), _AGE, *_WIDE_CONTAINERS,
                        _WIDE_SELECTOR], _job_row),
    ("batch", "CronJob"): ([NAME_COLUMN, ("Schedule", "string", "The schedule."),
                            ("Timezone", "string", "The timezone of the schedule."),
                            ("Suspend", "boolean", "Whether the cron job is suspended."),
                            ("Active", "integer", "Number of active jobs."),
                            ("Last Schedule", "string", "When the last job was scheduled."), _AGE,
                            *_WIDE_CONTAINERS, _WIDE_SELECTOR], _cronjob_row),
    ("", "Service"): ([NAME_COLUMN, ("Type", "string", "The type of service."),
                       ("Cluster-IP", "string", "The cluster IP of the service."),
                       ("External-IP", "string", "The external IPs of the service."),
                       ("Port(s)", "string", "The ports of the service."), _AGE, _WIDE_SELECTOR], _svc_row),
    ("", "ConfigMap"): ([NAME_COLUMN, ("Data", "integer", "Number of data entries."), _AGE],
                        lambda o: [name_of(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), object_age(o)]),
    ("", "Secret"): ([NAME_COLUMN, ("Type", "string", "The type of secret."),
                      ("Data", "integer", "Number of data entries."), _AGE],
                     lambda o: [name_of(o), o.get("type", "Opaque"), len(o.get("data") or {}), object_age(o)]),
    ("", "ServiceAccount"): ([NAME_COLUMN, ("Secrets", "string", "The number of secrets."), _AGE],
                             lambda o: [name_of(o), len(o.get("secrets") or []), object_age(o)]),
    ("", "Event"): (_EVENT_COLS, _event_row),
    ("events.k8s.io", "Event"): (_EVENT_COLS, _event_row),
    ("networking.k8s.io", "Ingress"): ([NAME_COLUMN, ("Class", "string", "The ingress class."),
                                        ("Hosts", "string", "Hosts that incoming requests are matched against."),
                                        ("Address", "string", "Address is a list of IP addresses."),
                                        ("Ports", "string", "Ports of TLS configurations that open"), _AGE],
                                       _ingress_row),
    ("networking.k8s.io", "NetworkPolicy"): ([NAME_COLUMN, ("Pod-Selector", "string", "The pod selector."), _AGE],
                                             lambda o: [name_of(o), _selector(field_at(o, "spec", "podSelector")), object_age(o)]),
    ("", "PersistentVolumeClaim"): ([NAME_COLUMN, ("Status", "string", "The phase of the claim."),
                                     ("Volume", "string", "The bound volume."),
                                     ("Capacity", "string", "The capacity."),
                                     ("Access Modes", "string", "The access modes."),
                                     ("StorageClass", "string", "The storage class."),
                                     ("VolumeAttributesClass", "string", "The volume attributes class."), _AGE,
                                     ("VolumeMode", "string", "The volume mode.", 1)], _pvc_row),
    ("autoscaling", "HorizontalPodAutoscaler"): ([NAME_COLUMN, ("Reference", "string", "The scale target."),
                                                  ("Targets", "string", "The current and target metrics."),
                                                  ("MinPods", "string", "Lower limit of replicas."),
                                                  ("MaxPods", "string", "Upper limit of replicas."),
                                                  ("Replicas", "string", "Current number of replicas."), _AGE],
                                                 _hpa_row),
    ("rbac.authorization.k8s.io", "Role"): (_ROLE_COLS, lambda o: [name_of(o), created_at(o)]),
    ("rbac.authorization.k8s.io", "ClusterRole"): (_ROLE_COLS, lambda o: [name_of(o), created_at(o)]),
    ("rbac.authorization.k8s.io", "RoleBinding"): (_BINDING_COLS, _binding_row),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (_BINDING_COLS, _binding_row),
    ("coordination.k8s.io", "Lease"): ([NAME_COLUMN, ("Holder", "string", "The holder identity."), _AGE],
                                       lambda o: [name_of(o), field_at(o, "spec", "holderIdentity", default=""), object_age(o)]),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (_ROLE_COLS, lambda o: [name_of(o), created_at(o)]),
}
