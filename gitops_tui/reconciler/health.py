"""kstatus-style readiness of a live object: Current, InProgress or Failed, with a message. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
NOT_FOUND = "NotFound"
_RANK = {CURRENT: 0, IN_PROGRESS: 1, NOT_FOUND: 2, FAILED: 3}
_FAILING_WAIT_REASONS = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                         "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}


@dataclass(frozen=True)
class Health:
    """The readiness of one object."""

    status: str
    message: str

    @property
    def current(self) -> bool:
        """Whether the object is ready."""
        return self.status == CURRENT

    @property
    def failed(self) -> bool:
        """Whether the object failed (waiting longer will not help)."""
        return self.status == FAILED


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """status.conditions by type."""
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, dict)}


def _int(value: Any, default: int = 0) -> int:
    """An int from a possibly missing value."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _deployment(obj: dict[str, Any]) -> Health:
    """Deployment rollout status."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = _conditions(obj)
    progressing = conditions.get("Progressing")
    if progressing and progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(FAILED, f"Progress deadline exceeded: {progressing.get('message', '')}".strip(": "))
    if spec.get("paused"):
        return Health(CURRENT, "Deployment is paused")
    want = _int(spec.get("replicas"), 1)
    updated = _int(status.get("updatedReplicas"))
    total = _int(status.get("replicas"))
    available = _int(status.get("availableReplicas"))
    ready = _int(status.get("readyReplicas"))
    if updated < want:
        return Health(IN_PROGRESS, f"Updated: {updated}/{want}")
    if total > updated:
        return Health(IN_PROGRESS, f"Pending termination: {total - updated}")
    if available < want:
        return Health(IN_PROGRESS, f"Available: {available}/{want}")
    if ready < want:
        return Health(IN_PROGRESS, f"Ready: {ready}/{want}")
    available_cond = conditions.get("Available")
    if available_cond and available_cond.get("status") == "False":
        return Health(IN_PROGRESS, "Deployment not Available")
    return Health(CURRENT, f"Deployment is available. Replicas: {want}")


def _statefulset(obj: dict[str, Any]) -> Health:
    """StatefulSet rollout status."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = _int(spec.get("replicas"), 1)
    ready = _int(status.get("readyReplicas"))
    strategy = (spec.get("updateStrategy") or {})
    if _int(status.get("replicas")) < want:
        return Health(IN_PROGRESS, f"Replicas: {_int(status.get('replicas'))}/{want}")
    if ready < want:
        return Health(IN_PROGRESS, f"Ready: {ready}/{want}")
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        partition = _int((strategy.get("rollingUpdate") or {}).get("partition"))
        updated = _int(status.get("updatedReplicas"))
        if partition == 0 and status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
            return Health(IN_PROGRESS, f"Waiting for updated replicas: {updated}/{want}")
        if partition > 0 and updated < want - partition:
            return Health(IN_PROGRESS, f"Partitioned rollout: {updated}/{want - partition}")
    return Health(CURRENT, f"All replicas scheduled as expected. Replicas: {want}")


def _daemonset(obj: dict[str, Any]) -> Health:
    """DaemonSet rollout status."""
    status = obj.get("status") or {}
    desired = _int(status.get("desiredNumberScheduled"))
    for field, label in (("currentNumberScheduled", "Scheduled"), ("updatedNumberScheduled", "Updated"),
                         ("numberAvailable", "Available"), ("numberReady", "Ready")):
        value = _int(status.get(field))
        if value < desired:
            return Health(IN_PROGRESS, f"{label}: {value}/{desired}")
    return Health(CURRENT, f"All replicas scheduled as expected. Replicas: {desired}")


def _replicaset(obj: dict[str, Any]) -> Health:
    """ReplicaSet / ReplicationController status."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = _int(spec.get("replicas"), 1)
    for field, label in (("replicas", "Replicas"), ("readyReplicas", "Ready"), ("availableReplicas", "Available")):
        value = _int(status.get(field))
        if value < want:
            return Health(IN_PROGRESS, f"{label}: {value}/{want}")
    return Health(CURRENT, f"ReplicaSet is available. Replicas: {want}")


def _job(obj: dict[str, Any]) -> Health:
    """Job status."""
    conditions = _conditions(obj)
    failed = conditions.get("Failed")
    if failed and failed.get("status") == "True":
        return Health(FAILED, f"Job failed: {failed.get('reason') or ''} {failed.get('message') or ''}".strip())
    complete = conditions.get("Complete")
    if complete and complete.get("status") == "True":
        return Health(CURRENT, "Job completed")
    status = obj.get("status") or {}
    return Health(IN_PROGRESS, f"Job in progress: {_int(status.get('succeeded'))} succeeded, {_int(status.get('active'))} active")


def _pod(obj: dict[str, Any]) -> Health:
    """Pod status."""
    status = obj.get("status") or {}
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return Health(CURRENT, "Pod has completed successfully")
    if phase == "Failed":
        return Health(FAILED, f"Pod failed: {status.get('reason') or status.get('message') or 'Failed'}")
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in _FAILING_WAIT_REASONS:
            return Health(FAILED, f"Container {container.get('name')} is in {waiting['reason']}")
    ready = _conditions(obj).get("Ready")
    if phase == "Running" and ready and ready.get("status") == "True":
        return Health(CURRENT, "Pod is Ready")
    return Health(IN_PROGRESS, f"Pod phase: {phase or 'Pending'}")


def _pvc(obj: dict[str, Any]) -> Health:
    """PersistentVolumeClaim status."""
    phase = (obj.get("status") or {}).get("phase", "")
    return Health(CURRENT, "PVC is Bound") if phase == "Bound" else Health(IN_PROGRESS, f"PVC phase: {phase or 'Pending'}")


def _service(obj: dict[str, Any]) -> Health:
    """Service status (LoadBalancers wait for an ingress address)."""
    if (obj.get("spec") or {}).get("type") == "LoadBalancer":
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
        if not ingress:
            return Health(IN_PROGRESS, "LoadBalancer has no ingress address yet")
    return Health(CURRENT, "Service is ready")


def _namespace(obj: dict[str, Any]) -> Health:
    """Namespace status."""
    phase = (obj.get("status") or {}).get("phase", "Active")
    return Health(CURRENT, "Namespace is active") if phase == "Active" else Health(IN_PROGRESS, f"Namespace is {phase}")


_BY_KIND = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("", "ReplicationController"): _replicaset,
    ("batch", "Job"): _job,
    ("", "Pod"): _pod,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
}


def _generic(obj: dict[str, Any]) -> Health:
    """Objects with conditions: Stalled / Reconciling / Ready, as in kstatus and Flux; else Current."""
    conditions = _conditions(obj)
    stalled = conditions.get("Stalled")
    if stalled and stalled.get("status") == "True":
        return Health(FAILED, stalled.get("message") or stalled.get("reason") or "Stalled")
    reconciling = conditions.get("Reconciling")
    if reconciling and reconciling.get("status") == "True":
        return Health(IN_PROGRESS, reconciling.get("message") or reconciling.get("reason") or "Reconciling")
    ready = conditions.get("Ready")
    if ready and ready.get("status") == "False":
        reason = str(ready.get("reason") or "")
        text = ready.get("message") or reason or "not ready"
        return Health(FAILED if reason.endswith("Failed") else IN_PROGRESS, text)
    if ready and ready.get("status") == "Unknown":
        return Health(IN_PROGRESS, ready.get("message") or "Readiness unknown")
    return Health(CURRENT, "Resource is current")


def health(obj: dict[str, Any] | None) -> Health:
    """The readiness of a live object dict (None means it does not exist)."""
    if obj is None:
        return Health(NOT_FOUND, "Resource not found")
    metadata = obj.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return Health(IN_PROGRESS, "Resource is being deleted")
    generation = metadata.get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed is not None and _int(observed) < _int(generation):
        return Health(IN_PROGRESS, f"Waiting for the controller to observe generation {generation}")
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    check = _BY_KIND.get((group, str(obj.get("kind", ""))))
    if check is None:
        return _generic(obj)
    return check(obj)


def worst(healths: list[Health]) -> Health:
    """The least healthy of several (Failed > NotFound > InProgress > Current); Current when empty."""
    if not healths:
        return Health(CURRENT, "No resources")
    return max(healths, key=lambda h: _RANK.get(h.status, 1))
