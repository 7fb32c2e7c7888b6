"""Schema definitions of the OpenAPI documents: object metadata, pod templates and per-kind shapes."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.schema.catalog import ResourceType

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
CORE = "io.k8s.api.core.v1."
_PACKAGES = {
    "": "io.k8s.api.core", "apps": "io.k8s.api.apps", "autoscaling": "io.k8s.api.autoscaling",
    "batch": "io.k8s.api.batch", "networking.k8s.io": "io.k8s.api.networking",
    "rbac.authorization.k8s.io": "io.k8s.api.rbac", "coordination.k8s.io": "io.k8s.api.coordination",
    "events.k8s.io": "io.k8s.api.events",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
}

STR: dict = {"type": "string"}
INT: dict = {"type": "integer", "format": "int32"}
INT64: dict = {"type": "integer", "format": "int64"}
BOOL: dict = {"type": "boolean"}
TIME: dict = {"type": "string", "format": "date-time"}
MAP_STR: dict = {"type": "object", "additionalProperties": {"type": "string"}}


def ANY(description: str = "") -> dict:  # noqa: N802 - reads like a type in the tables below
    """A schema accepting any value (kube-openapi's Arbitrary)."""
    return {"description": description} if description else {}


def ref(name: str) -> dict:
    """A $ref to another definition (v2 form; v3 documents rewrite the prefix)."""
    return {"$ref": "#/definitions/" + name}


def arr(items: dict, merge_key: str = "", strategy: str = "", list_type: str = "") -> dict:
    """An array schema, with strategic-merge and list-type extensions when given."""
    out: dict[str, Any] = {"type": "array", "items": items}
    if merge_key:
        out["x-kubernetes-patch-merge-key"] = merge_key
        out["x-kubernetes-list-map-keys"] = [merge_key]
        out["x-kubernetes-list-type"] = "map"
    if strategy:
        out["x-kubernetes-patch-strategy"] = strategy
    if list_type:
        out["x-kubernetes-list-type"] = list_type
    return out


def obj(props: dict, description: str = "", required: list[str] | None = None) -> dict:
    """An object schema with named properties."""
    out: dict[str, Any] = {"type": "object", "properties": props}
    if description:
        out["description"] = description
    if required:
        out["required"] = required
    return out


_BOOLS = set("paused hostIPC hostNetwork hostPID hostUsers enableServiceLinks automountServiceAccountToken "
             "setHostnameAsFQDN shareProcessNamespace suspend manualSelector publishNotReadyAddresses "
             "allocateLoadBalancerNodePorts".split())
_INTS = set("minReadySeconds progressDeadlineSeconds revisionHistoryLimit activeDeadlineSeconds priority "
            "terminationGracePeriodSeconds backoffLimit backoffLimitPerIndex completions maxFailedIndexes parallelism "
            "ttlSecondsAfterFinished failedJobsHistoryLimit startingDeadlineSeconds successfulJobsHistoryLimit "
            "healthCheckNodePort count deprecatedCount".split())
_STRS = set("dnsPolicy hostname nodeName preemptionPolicy priorityClassName restartPolicy runtimeClassName "
            "schedulerName serviceAccount serviceAccountName subdomain completionMode managedBy podReplacementPolicy "
            "concurrencyPolicy timeZone podManagementPolicy serviceName externalName externalTrafficPolicy "
            "internalTrafficPolicy ipFamilyPolicy loadBalancerClass loadBalancerIP sessionAffinity "
            "trafficDistribution".split())
_STR_LISTS = set("args command clusterIPs externalIPs ipFamilies loadBalancerSourceRanges".split())
_TIMES = set("eventTime firstTimestamp lastTimestamp deprecatedFirstTimestamp deprecatedLastTimestamp".split())


def _typed(name: str) -> dict:
    if name in _BOOLS:
        return dict(BOOL)
    if name in _INTS:
        return dict(INT)
    if name in _STRS:
        return dict(STR)
    if name in _STR_LISTS:
        return arr(STR, list_type="atomic")
    if name in _TIMES:
        return dict(TIME)
    if name == "nodeSelector":
        return dict(MAP_STR)
    return ANY()


def _anys(*names: str) -> dict:
    return {n: _typed(n) for n in names}


OBJECT_META = obj({
    "annotations": MAP_STR, "creationTimestamp": TIME, "deletionGracePeriodSeconds": INT64,
    "deletionTimestamp": TIME, "finalizers": arr(STR, strategy="merge", list_type="set"),
    "generateName": STR, "generation": INT64, "labels": MAP_STR,
    "managedFields": arr(ANY()), "name": STR, "namespace": STR,
    "ownerReferences": arr(ANY(), merge_key="uid", strategy="merge"), "resourceVersion": STR,
    "selfLink": STR, "uid": STR,
}, "ObjectMeta is metadata that all persisted resources must have.")

CONTAINER = obj({
    **_anys("args", "command", "envFrom", "lifecycle", "livenessProbe", "readinessProbe", "resizePolicy",
            "resources", "securityContext", "startupProbe"),
    "env": arr(ANY(), merge_key="name", strategy="merge"), "image": STR, "imagePullPolicy": STR, "name": STR,
    "ports": arr(ANY(), merge_key="containerPort", strategy="merge"), "restartPolicy": STR, "stdin": BOOL,
    "stdinOnce": BOOL, "terminationMessagePath": STR, "terminationMessagePolicy": STR, "tty": BOOL,
    "volumeDevices": arr(ANY(), merge_key="devicePath", strategy="merge"),
    "volumeMounts": arr(ANY(), merge_key="mountPath", strategy="merge"), "workingDir": STR,
}, "A single application container that you want to run within a pod.", ["name"])

POD_SPEC = obj({
    **_anys("activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy",
            "enableServiceLinks", "hostIPC", "hostNetwork", "hostPID", "hostUsers", "hostname", "nodeName",
            "nodeSelector", "os", "overhead", "preemptionPolicy", "priority", "priorityClassName",
            "readinessGates", "resources", "restartPolicy", "runtimeClassName", "schedulerName",
            "securityContext", "serviceAccount", "serviceAccountName", "setHostnameAsFQDN",
            "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds", "tolerations"),
    "containers": arr(ref(CORE + "Container"), merge_key="name", strategy="merge"),
    "ephemeralContainers": arr(ANY(), merge_key="name", strategy="merge"),
    "hostAliases": arr(ANY(), merge_key="ip", strategy="merge"),
    "imagePullSecrets": arr(ANY(), merge_key="name", strategy="merge"),
    "initContainers": arr(ref(CORE + "Container"), merge_key="name", strategy="merge"),
    "resourceClaims": arr(ANY(), merge_key="name", strategy="merge,retainKeys"),
    "schedulingGates": arr(ANY(), merge_key="name", strategy="merge"),
    "topologySpreadConstraints": arr(ANY(), merge_key="topologyKey", strategy="merge"),
    "volumes": arr(ANY(), merge_key="name", strategy="merge,retainKeys"),
}, "PodSpec is a description of a pod.", ["containers"])

POD_TEMPLATE = obj({"metadata": ref(META + "ObjectMeta"), "spec": ref(CORE + "PodSpec")},
                   "PodTemplateSpec describes the data a pod should have when created from a template.")
_TEMPLATE = ref(CORE + "PodTemplateSpec")

SERVICE_SPEC = obj({
    **_anys("allocateLoadBalancerNodePorts", "clusterIPs", "externalIPs", "externalName", "externalTrafficPolicy",
            "healthCheckNodePort", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy", "loadBalancerClass",
            "loadBalancerIP", "loadBalancerSourceRanges", "publishNotReadyAddresses", "sessionAffinity",
            "sessionAffinityConfig", "trafficDistribution"),
    "clusterIP": STR, "ports": arr(ANY(), merge_key="port", strategy="merge"), "selector": MAP_STR, "type": STR,
}, "ServiceSpec describes the attributes that a user creates on a service.")

JOB_SPEC = obj({**_anys("activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode",
                        "completions", "managedBy", "manualSelector", "maxFailedIndexes", "parallelism",
                        "podFailurePolicy", "podReplacementPolicy", "selector", "successPolicy", "suspend",
                        "ttlSecondsAfterFinished"), "template": _TEMPLATE},
               "JobSpec describes how the job execution will look like.", ["template"])

_SPECS: dict[tuple[str, str], dict] = {
    ("apps", "Deployment"): obj({**_anys("minReadySeconds", "paused", "progressDeadlineSeconds",
                                         "revisionHistoryLimit", "selector"), "replicas": INT,
                                 "strategy": {"x-kubernetes-patch-strategy": "retainKeys"}, "template": _TEMPLATE},
                                "DeploymentSpec is the specification of the desired behavior of the Deployment.",
                                ["selector", "template"]),
    ("apps", "StatefulSet"): obj({**_anys("minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy",
                                          "podManagementPolicy", "revisionHistoryLimit", "selector", "serviceName",
                                          "updateStrategy", "volumeClaimTemplates"), "replicas": INT,
                                  "template": _TEMPLATE}, "A StatefulSetSpec is the specification of a StatefulSet.",
                                 ["selector", "template"]),
    ("apps", "DaemonSet"): obj({**_anys("minReadySeconds", "revisionHistoryLimit", "selector", "updateStrategy"),
                                "template": _TEMPLATE}, "DaemonSetSpec is the specification of a daemon set.",
                               ["selector", "template"]),
    ("apps", "ReplicaSet"): obj({**_anys("minReadySeconds", "selector"), "replicas": INT, "template": _TEMPLATE},
                                "ReplicaSetSpec is the specification of a ReplicaSet.", ["selector"]),
    ("batch", "Job"): ref("io.k8s.api.batch.v1.JobSpec"),
    ("batch", "CronJob"): obj({**_anys("concurrencyPolicy", "failedJobsHistoryLimit", "startingDeadlineSeconds",
                                       "successfulJobsHistoryLimit", "suspend", "timeZone"), "schedule": STR,
                               "jobTemplate": obj({"metadata": ref(META + "ObjectMeta"),
                                                   "spec": ref("io.k8s.api.batch.v1.JobSpec")})},
                              "CronJobSpec describes how the job execution will look like and when it will "
                              "actually run.", ["schedule", "jobTemplate"]),
    ("", "Pod"): ref(CORE + "PodSpec"),
    ("", "Service"): ref(CORE + "ServiceSpec"),
}

_TOP_LEVEL: dict[tuple[str, str], dict] = {
    ("", "Endpoints"): {"subsets": arr(ANY(), list_type="atomic")},
    ("discovery.k8s.io", "EndpointSlice"): {"addressType": STR, "endpoints": arr(ANY(), list_type="atomic"),
                                            "ports": arr(ANY(), list_type="atomic")},
    ("apps", "ControllerRevision"): {"data": ANY(), "revision": INT64},
    ("", "ConfigMap"): {"data": MAP_STR, "binaryData": {"type": "object", "additionalProperties":
                                                        {"type": "string", "format": "byte"}}, "immutable": BOOL},
    ("", "Secret"): {"data": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                     "stringData": MAP_STR, "type": STR, "immutable": BOOL},
    ("", "ServiceAccount"): {"automountServiceAccountToken": BOOL,
                             "imagePullSecrets": arr(ANY(), list_type="atomic"),
                             "secrets": arr(ANY(), merge_key="name", strategy="merge")},
    ("", "Event"): {**_anys("count", "eventTime", "firstTimestamp", "involvedObject", "lastTimestamp", "related",
                            "series", "source"), "action": STR, "message": STR, "reason": STR,
                    "reportingComponent": STR, "reportingInstance": STR, "type": STR},
    ("events.k8s.io", "Event"): {**_anys("deprecatedCount", "deprecatedFirstTimestamp", "deprecatedLastTimestamp",
                                         "deprecatedSource", "eventTime", "regarding", "related", "series"),
                                 "action": STR, "note": STR, "reason": STR, "reportingController": STR,
                                 "reportingInstance": STR, "type": STR},
    ("rbac.authorization.k8s.io", "Role"): {"rules": arr(ANY(), list_type="atomic")},
    ("rbac.authorization.k8s.io", "ClusterRole"): {"aggregationRule": ANY(), "rules": arr(ANY(), list_type="atomic")},
    ("rbac.authorization.k8s.io", "RoleBinding"): {"roleRef": ANY(), "subjects": arr(ANY(), list_type="atomic")},
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): {"roleRef": ANY(),
                                                          "subjects": arr(ANY(), list_type="atomic")},
}


def definition_name(rt: ResourceType) -> str:
    """The definition name of a kind: io.k8s.api.apps.v1.Deployment, com.example.v1.Widget for CRDs."""
    if rt.is_crd or rt.group not in _PACKAGES:
        return ".".join(reversed(rt.group.split("."))) + f".{rt.version}.{rt.kind}"
    return f"{_PACKAGES[rt.group]}.{rt.version}.{rt.kind}"


def _crd_properties(rt: ResourceType, v3: bool) -> dict:
    schema = rt.schema if isinstance(rt.schema, dict) else {}
    props: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        if name in ("apiVersion", "kind", "metadata"):
            continue
        if v3 and isinstance(sub, dict):
            props[name] = copy.deepcopy(sub)
        else:  # v2 keeps CRD fields opaque: kubectl's v2 parser rejects many structural-schema forms
            desc = sub.get("description", "") if isinstance(sub, dict) else ""
            props[name] = ANY(desc)
    if not schema.get("properties"):
        props.update({"spec": ANY(), "status": ANY()})
    return props


def kind_properties(rt: ResourceType, v3: bool) -> dict:
    """Top-level properties of a kind's definition."""
    props: dict[str, Any] = {"apiVersion": STR, "kind": STR, "metadata": ref(META + "ObjectMeta")}
    if rt.is_crd:
        props.update(_crd_properties(rt, v3))
        return props
    top = _TOP_LEVEL.get((rt.group, rt.kind))
    if top is not None:
        props.update(copy.deepcopy(top))
        return props
    props["spec"] = copy.deepcopy(_SPECS.get((rt.group, rt.kind), ANY()))
    props["status"] = ANY()
    return props


def shared_definitions() -> dict:
    """Definitions every document carries: metadata, Status, Patch and the pod template family (a copy)."""
    return copy.deepcopy(SHARED_DEFINITIONS)


SHARED_DEFINITIONS: dict = {
    META + "ObjectMeta": OBJECT_META,
    META + "ListMeta": obj({"continue": STR, "remainingItemCount": INT64, "resourceVersion": STR,
                            "selfLink": STR}, "ListMeta describes metadata that synthetic resources must have."),
    META + "Status": obj({"apiVersion": STR, "code": INT, "details": ANY(), "kind": STR, "message": STR,
                          "metadata": ref(META + "ListMeta"), "reason": STR, "status": STR},
                         "Status is a return value for calls that don't return other objects."),
    META + "Patch": {"type": "object", "description": "Patch is provided to give a concrete name and type to "
                     "the Kubernetes PATCH request body."},
    CORE + "Container": CONTAINER,
    CORE + "PodSpec": POD_SPEC,
    CORE + "PodTemplateSpec": POD_TEMPLATE,
    CORE + "ServiceSpec": SERVICE_SPEC,
    "io.k8s.api.batch.v1.JobSpec": JOB_SPEC,
}
