"""The `status` a new object has in kube-apiserver's answer to its create, before any controller writes one.

kube-apiserver drops the status a create carries for kinds with a status subresource (the strategies'
PrepareForCreate), then serializes the empty Go struct: members without `omitempty` appear as zero
values (`replicas: 0`), struct members as `{}` (a Service's `loadBalancer`), and status defaults
from `pkg/apis/core/v1/defaults.go` fill in phases (SetDefaults_PersistentVolume(Claim), _NamespaceStatus).
The Go types are those of `k8s.io/api` v0.32 (`types.go` of each group).
"""

from __future__ import annotations

from typing import Any

#: (group, plural) -> the status of a new object, as Go serializes the zero value of its status struct.
_STUBS: dict[tuple[str, str], dict[str, Any]] = {
    ("", "services"): {"loadBalancer": {}},                     # ServiceStatus.LoadBalancer is a struct
    ("networking.k8s.io", "ingresses"): {"loadBalancer": {}},   # IngressStatus.LoadBalancer likewise
    ("", "persistentvolumeclaims"): {"phase": "Pending"},       # SetDefaults_PersistentVolumeClaim
    ("", "persistentvolumes"): {"phase": "Pending"},            # SetDefaults_PersistentVolume
    ("", "replicationcontrollers"): {"replicas": 0},            # ReplicationControllerStatus.Replicas
    ("apps", "replicasets"): {"replicas": 0},                   # ReplicaSetStatus.Replicas
    ("apps", "statefulsets"): {"replicas": 0, "availableReplicas": 0},
    ("apps", "deployments"): {},                                # every DeploymentStatus member is omitempty
    ("apps", "daemonsets"): {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                             "numberReady": 0},
    ("batch", "jobs"): {},
    ("batch", "cronjobs"): {},
    ("policy", "poddisruptionbudgets"): {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                                         "expectedPods": 0},
    ("", "resourcequotas"): {},
    ("apiregistration.k8s.io", "apiservices"): {},
}
#: HorizontalPodAutoscalerStatus: v1 writes both counts, v2 only desiredReplicas (currentReplicas is omitempty).
_HPA = {"v1": {"currentReplicas": 0, "desiredReplicas": 0}, "v2": {"desiredReplicas": 0}}


def status_stub(key: tuple[str, str], version: str) -> dict[str, Any] | None:
    """The status of a just-created object of (group, plural) in ``version``; None when the kind has its own."""
    if key == ("autoscaling", "horizontalpodautoscalers"):
        return dict(_HPA.get(version, _HPA["v2"]))
    stub = _STUBS.get(key)
    return None if stub is None else dict(stub)


#: NodeSystemInfo members, none omitempty: Go writes each, "" when unknown.
_NODE_INFO = ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
              "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture")


def node_status(given: object) -> dict[str, Any]:
    """A Node keeps the status it is created with (kubelets register that way), completed as Go writes it:
    `daemonEndpoints.kubeletEndpoint.Port` 0, every `nodeInfo` member, and `allocatable` = `capacity`
    when not given (SetDefaults_NodeStatus)."""
    out: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    endpoints = out.setdefault("daemonEndpoints", {})
    if isinstance(endpoints, dict):
        endpoints.setdefault("kubeletEndpoint", {}).setdefault("Port", 0)
    info = out.setdefault("nodeInfo", {})
    if isinstance(info, dict):
        for key in _NODE_INFO:
            info.setdefault(key, "")
    if isinstance(out.get("capacity"), dict) and out.get("allocatable") is None:
        out["allocatable"] = dict(out["capacity"])
    return out
