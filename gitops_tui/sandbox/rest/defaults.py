"""Server-set defaults of new objects: namespace phase, pod phase, secret type, CRD conditions."""

from __future__ import annotations

import base64
import ipaddress
import random
from typing import Any

from gitops_tui.sandbox.rest.defaults_workloads import (
    autoscaler_defaults, daemonset_defaults, job_defaults, replication_controller_defaults, statefulset_defaults,
)
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import meta, now, storage_key

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def defaults_on_create(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Fill what kube-apiserver sets on create for a few kinds (in place)."""
    key = storage_key(rt)
    if key == ("", "namespaces"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = meta(obj)["name"]
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
    elif key == ("", "pods"):
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif key == ("batch", "jobs"):
        _job_selector(obj)
    elif key == CRD_KEY:
        obj["status"] = crd_status(obj, None)


def _job_selector(job: dict[str, Any]) -> None:
    """The selector and pod labels the Job strategy generates (unless spec.manualSelector)."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") or not isinstance(spec.get("template"), dict):
        return
    uid, name = meta(job).get("uid", ""), meta(job).get("name", "")
    labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
    for key, value in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name),
                       ("controller-uid", uid), ("job-name", name)):
        labels.setdefault(key, value)
    selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else {}
    selector.setdefault("matchLabels", {}).setdefault("batch.kubernetes.io/controller-uid", uid)
    spec["selector"] = selector


def merge_string_data(rt: ResourceType, obj: dict[str, Any]) -> None:
    """A Secret's stringData goes into data, base64-encoded (winning over data), and is never stored."""
    if storage_key(rt) != ("", "secrets") or "stringData" not in obj:
        return
    string_data = obj.pop("stringData")
    if isinstance(string_data, dict) and string_data:
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


_SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
_SCALABLE = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"), ("", "replicationcontrollers")}


def _cluster_ip(taken: set[str]) -> str:
    while True:
        address = str(_SERVICE_RANGE[random.randrange(10, _SERVICE_RANGE.num_addresses - 1)])
        if address not in taken:
            return address


def keep_cluster_ip(rt: ResourceType, new: dict[str, Any], live: dict[str, Any]) -> None:
    """Keep a Service's allocated clusterIP(s) when an update leaves them out (they are immutable)."""
    if storage_key(rt) != ("", "services") or not isinstance(new.get("spec"), dict):
        return
    live_spec = live.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        if not new["spec"].get(key) and live_spec.get(key):
            new["spec"][key] = live_spec[key]


def apply_defaults(
    rt: ResourceType, obj: dict[str, Any], live: dict[str, Any] | None, taken_ips: set[str] | None = None
) -> None:
    """Fill the spec defaults kube-apiserver sets on create (replicas, strategy, service IPs)."""
    key = storage_key(rt)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if key in _SCALABLE:
        spec.setdefault("replicas", 1)
        if key in (("apps", "deployments"), ("apps", "statefulsets")):
            spec.setdefault("revisionHistoryLimit", 10)
    if key == ("apps", "deployments"):
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        if isinstance(strategy, dict):
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
    elif key == ("", "services"):
        _service_defaults(spec, (live or {}).get("spec") or {}, taken_ips or set())
    elif key == ("", "replicationcontrollers"):
        replication_controller_defaults(spec)
    elif key == ("apps", "statefulsets"):
        statefulset_defaults(spec)
    elif key == ("apps", "daemonsets"):
        daemonset_defaults(spec)
    elif key == ("autoscaling", "horizontalpodautoscalers"):
        autoscaler_defaults(spec, rt.version)
    elif key == ("batch", "jobs") and live is None:
        job_defaults(spec, meta(obj).get("uid", ""), meta(obj).get("name", ""))


def _service_defaults(spec: dict[str, Any], live_spec: dict[str, Any], taken: set[str]) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    if spec["type"] == "ExternalName":
        return
    if not spec.get("clusterIP"):
        spec["clusterIP"] = live_spec.get("clusterIP") or _cluster_ip(taken)
    if spec["clusterIP"] != "None":
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")


def crd_status(crd: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """Return the status of a served CRD: Established, NamesAccepted, acceptedNames, storedVersions."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    if names.get("kind") and not names.get("listKind"):
        names["listKind"] = names["kind"] + "List"
    if names.get("plural") and not names.get("singular"):
        names["singular"] = names.get("kind", "").lower()
    stamps = {
        c.get("type"): c.get("lastTransitionTime")
        for c in ((live or {}).get("status") or {}).get("conditions") or []
    }
    stamp = now()
    stored = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
    old_stored = ((live or {}).get("status") or {}).get("storedVersions") or []
    return {
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": stamps.get("NamesAccepted") or stamp},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted",
             "lastTransitionTime": stamps.get("Established") or stamp},
        ],
        "acceptedNames": names,
        "storedVersions": list(dict.fromkeys([*old_stored, *stored])),
    }
