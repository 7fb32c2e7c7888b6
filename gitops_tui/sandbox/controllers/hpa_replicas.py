"""The HPA's replica count from resource metrics, as kube's ReplicaCalculator computes it (pure).

`pkg/controller/podautoscaler/replica_calculator.go` (kubernetes v1.32): pods are grouped into
ready, unready (Pending, not Ready, or inside the CPU initialisation period), missing (no metrics)
and ignored (being deleted, Failed); the usage ratio is the ready pods' usage over their requests
against the target; within the tolerance (0.1) nothing changes; missing and unready pods are then
counted at 100% of their request for a scale-down and 0 for a scale-up, and a recount that flips
the direction or falls within the tolerance keeps the current count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.util.timestamps import parse_time

TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
CPU_INITIALIZATION = timedelta(minutes=5)  # --horizontal-pod-autoscaler-cpu-initialization-period
INITIAL_READINESS_DELAY = timedelta(seconds=30)  # --horizontal-pod-autoscaler-initial-readiness-delay


class MetricError(Exception):
    """The replica count cannot be computed (the text is kube's, after 'failed to get cpu utilization: ')."""


@dataclass
class Proposal:
    """A metric's replica proposal and what the status reports of it."""

    replicas: int
    utilization: int | None  # percent of the requests (Utilization targets)
    average_milli: int  # average usage of the pods with metrics, in milli-units


def _ready_condition(pod: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)


def group_pods(pods: list[dict[str, Any]], usage: dict[str, Decimal], resource: str, now: datetime,
               metric_time: datetime | None) -> tuple[list[str], set[str], set[str]]:
    """(ready pod names, unready names, missing names) as groupPods sorts them; ignored pods are left out."""
    ready: list[str] = []
    unready: set[str] = set()
    missing: set[str] = set()
    for pod in pods:
        name = (pod.get("metadata") or {}).get("name", "")
        phase = (pod.get("status") or {}).get("phase")
        if (pod.get("metadata") or {}).get("deletionTimestamp") or phase == "Failed":
            continue
        if phase == "Pending":
            unready.add(name)
            continue
        if name not in usage:
            missing.add(name)
            continue
        if resource == "cpu" and _cpu_unready(pod, now, metric_time):
            unready.add(name)
            continue
        ready.append(name)
    return ready, unready, missing


def _cpu_unready(pod: dict[str, Any], now: datetime, metric_time: datetime | None) -> bool:
    condition = _ready_condition(pod)
    started = parse_time((pod.get("status") or {}).get("startTime"))
    if condition is None or started is None:
        return True
    changed = parse_time(condition.get("lastTransitionTime")) or started
    if started + CPU_INITIALIZATION > now:
        window = timedelta(seconds=15)
        return condition.get("status") == "False" or (metric_time is not None and metric_time < changed + window)
    return condition.get("status") == "False" and started + INITIAL_READINESS_DELAY > changed


def pod_request(pod: dict[str, Any], resource: str) -> Decimal:
    """The sum of a pod's containers' requests of ``resource`` (MetricError when a container has none)."""
    total = Decimal(0)
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        amount = parse_quantity(requests.get(resource)) if resource in requests else None
        if amount is None:
            raise MetricError(f"missing request for {resource} in container {container.get('name')} "
                              f"of Pod {(pod.get('metadata') or {}).get('name')}")
        total += amount
    return total


def _ratio(names: list[str] | set[str], usage: dict[str, Decimal], requests: dict[str, Decimal],
           target: int) -> tuple[float, int, int]:
    """(usage ratio, utilization %, average usage in milli-units) over ``names``."""
    used = sum((usage[n] for n in names), Decimal(0))
    requested = sum((requests[n] for n in names), Decimal(0))
    if requested <= 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = int(used * 100 / requested)
    return utilization / target, utilization, int(used * 1000 / max(1, len(names)))


def utilization_replicas(current: int, target: int, pods: list[dict[str, Any]], usage: dict[str, Decimal],
                         resource: str, now: datetime, metric_time: datetime | None) -> Proposal:
    """GetResourceReplicas: the replicas for an averageUtilization target of ``resource``."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    ready, unready, missing = group_pods(pods, usage, resource, now, metric_time)
    counted = {n: usage[n] for n in ready}
    if not counted:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    requests = {(p.get("metadata") or {}).get("name", ""): pod_request(p, resource) for p in pods}
    ratio, utilization, average = _ratio(list(counted), counted, requests, target)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= TOLERANCE:
            return Proposal(current, utilization, average)
        return Proposal(math.ceil(ratio * len(ready)), utilization, average)
    for name in missing:  # missing pods: their request (or the target, when over 100%) for a scale-down; none up
        if ratio != 1.0:
            counted[name] = requests[name] * max(100, target) / 100 if ratio < 1.0 else Decimal(0)
    if scale_up_with_unready:
        for name in unready:
            counted[name] = Decimal(0)
    new_ratio, _, _ = _ratio(list(counted), counted, requests, target)
    if abs(1.0 - new_ratio) <= TOLERANCE or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return Proposal(current, utilization, average)
    replicas = math.ceil(new_ratio * len(counted))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return Proposal(current, utilization, average)
    return Proposal(replicas, utilization, average)


def average_value_replicas(current: int, target_milli: int, pods: list[dict[str, Any]],
                           usage: dict[str, Decimal], resource: str, now: datetime,
                           metric_time: datetime | None) -> Proposal:
    """GetRawResourceReplicas (an averageValue target): usage per pod against the target value."""
    ready, _, _ = group_pods(pods, usage, resource, now, metric_time)
    if not ready:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    total_milli = int(sum((usage[n] for n in ready), Decimal(0)) * 1000)
    ratio = total_milli / (target_milli * len(ready))
    average = total_milli // len(ready)
    if abs(1.0 - ratio) <= TOLERANCE:
        return Proposal(current, None, average)
    return Proposal(math.ceil(total_milli / target_milli), None, average)
