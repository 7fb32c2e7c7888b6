"""Defaults kube-apiserver v1.32 sets on writes: each kind's spec defaults, status stubs, CRD conditions.

`defaults_on_create` gives a new object what only a create sets (status stubs, a Job's generated
selector, a Pod's admission); `apply_defaults` runs on every write, as kube-apiserver defaults every
decoded object. The values are kube's: see `defaults_pods.py`, `defaults_workloads.py`, `defaults_status.py`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from gitops_tui.sandbox.rest.defaults_pods import pod_admission, pod_defaults, qos_class, template_defaults
from gitops_tui.sandbox.rest.defaults_services import Taken, keep_allocated, service_defaults
from gitops_tui.sandbox.rest.defaults_status import node_status, status_stub
from gitops_tui.sandbox.rest.defaults_workloads import (
    autoscaler_defaults,
    cronjob_defaults,
    daemonset_defaults,
    endpoint_ports,
    fill_rolling_update,
    job_counts,
    job_defaults,
    limit_range_defaults,
    network_policy_defaults,
    persistent_volume_defaults,
    replication_controller_defaults,
    statefulset_defaults,
    volume_mode_default,
)
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import meta, now, storage_key
from gitops_tui.util.fields import dict_field

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def defaults_on_create(rt: ResourceType, obj: dict[str, Any],
                       lookup: Callable[[str, str, str, str], dict[str, Any] | None] | None = None) -> None:
    """Fill what kube-apiserver sets only on create (in place): status stubs, generated selectors, admission.

    ``lookup(group, plural, namespace, name)`` reads a stored object (a Pod's ServiceAccount).
    """
    key = storage_key(rt)
    stub = status_stub(key, rt.version)
    if stub is not None and "status" in rt.subresources:
        obj["status"] = stub
    if key == ("", "nodes"):
        obj["status"] = node_status(obj.get("status"))
    elif key == ("", "namespaces"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = meta(obj)["name"]
    elif key == ("", "pods") and isinstance(obj.get("spec"), dict):
        spec = obj["spec"]
        account_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        account = lookup("", "serviceaccounts", meta(obj).get("namespace", ""), account_name) if lookup else None
        pod_admission(spec, account)
        pod_defaults(spec)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
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
    selector = dict_field(spec, "selector")
    selector.setdefault("matchLabels", {}).setdefault("batch.kubernetes.io/controller-uid", uid)
    spec["selector"] = selector


def merge_string_data(rt: ResourceType, obj: dict[str, Any]) -> None:
    """A Secret's stringData goes into data, base64-encoded (winning over data), and is never stored."""
    if storage_key(rt) != ("", "secrets") or "stringData" not in obj:
        return
    string_data = obj.pop("stringData")
    if isinstance(string_data, dict) and string_data:
        data = dict_field(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


_SCALABLE = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"), ("", "replicationcontrollers")}


def keep_cluster_ip(rt: ResourceType, new: dict[str, Any], live: dict[str, Any]) -> None:
    """Keep a Service's allocated clusterIP(s) when an update leaves them out (they are immutable)."""
    if storage_key(rt) == ("", "services") and isinstance(new.get("spec"), dict):
        keep_allocated(new["spec"], live.get("spec") or {})


def apply_defaults(
    rt: ResourceType, obj: dict[str, Any], live: dict[str, Any] | None, taken: Taken | None = None
) -> None:
    """Fill the defaults kube-apiserver gives every decoded object of the kind (on create and on update)."""
    key = storage_key(rt)
    if key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
    elif key == ("", "endpoints"):
        endpoint_ports(obj, slices=False)
    elif key == ("discovery.k8s.io", "endpointslices"):
        endpoint_ports(obj, slices=True)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    _kind_defaults(rt, key, obj, spec, live, taken)
    if key in _TEMPLATED:
        template_defaults(spec.get("template"))
    elif key == ("batch", "cronjobs"):
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            template_defaults(job_template["spec"].get("template"))
    elif key == ("", "pods"):
        pod_defaults(spec)
    _labels_from_template(key, obj, spec)


_TEMPLATED = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"), ("apps", "daemonsets"),
              ("", "replicationcontrollers"), ("batch", "jobs")}


def _labels_from_template(key: tuple[str, str], obj: dict[str, Any], spec: dict[str, Any]) -> None:
    """A ReplicationController or Job without labels takes its pod template's (SetDefaults_ReplicationController, _Job)."""
    if key not in (("", "replicationcontrollers"), ("batch", "jobs")) or meta(obj).get("labels"):
        return
    template = dict_field(spec, "template")
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template.get("metadata"), dict) else None
    if isinstance(labels, dict) and labels:
        meta(obj)["labels"] = dict(labels)


def _kind_defaults(rt: ResourceType, key: tuple[str, str], obj: dict[str, Any], spec: dict[str, Any],
                   live: dict[str, Any] | None, taken: Taken | None) -> None:
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
                fill_rolling_update(strategy, {"maxUnavailable": "25%", "maxSurge": "25%"})
    elif key == ("", "services"):
        service_defaults(spec, (live or {}).get("spec") or {}, taken or Taken())
    elif key == ("", "replicationcontrollers"):
        replication_controller_defaults(spec)
    elif key == ("apps", "statefulsets"):
        statefulset_defaults(spec)
    elif key == ("apps", "daemonsets"):
        daemonset_defaults(spec)
    elif key == ("autoscaling", "horizontalpodautoscalers"):
        autoscaler_defaults(spec, rt.version)
    elif key == ("batch", "jobs"):
        if live is None:
            job_defaults(spec, meta(obj).get("uid", ""), meta(obj).get("name", ""))
        else:
            job_counts(spec)
    elif key == ("batch", "cronjobs"):
        cronjob_defaults(spec)
    elif key == ("networking.k8s.io", "networkpolicies"):
        network_policy_defaults(spec)
    elif key == ("", "persistentvolumeclaims"):
        volume_mode_default(spec)
    elif key == ("", "persistentvolumes"):
        persistent_volume_defaults(spec)
    elif key == ("", "limitranges"):
        limit_range_defaults(spec)


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
