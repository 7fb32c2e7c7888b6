"""autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler conversion (one storage, two served versions).

As kube-apiserver does it: v1 only knows a CPU utilization target, so the v2 fields it cannot hold
(other metrics, behavior, conditions) travel in `autoscaling.alpha.kubernetes.io/*` annotations and
come back when the object is read as v2 again.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops_tui.util.fields import dict_field

V1, V2 = "autoscaling/v1", "autoscaling/v2"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
_ANNOTATIONS = (METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR)


def _is_cpu_utilization(metric: Any, target_key: str) -> bool:
    resource = metric.get("resource") if isinstance(metric, dict) else None
    return (metric.get("type") == "Resource" and isinstance(resource, dict) and resource.get("name") == "cpu"
            and isinstance(resource.get(target_key), dict) and "averageUtilization" in resource[target_key])


def _annotate(annotations: dict[str, str], key: str, value: Any) -> None:
    if value:
        annotations[key] = json.dumps(value, separators=(",", ":"))


def _unannotate(annotations: dict[str, str], key: str) -> Any:
    text = annotations.pop(key, None)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def v2_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """Return an autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = V1
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    spec = dict_field(out, "spec")
    metrics = spec.pop("metrics", None) or []
    cpu = [m for m in metrics if _is_cpu_utilization(m, "target")]
    if cpu:
        spec["targetCPUUtilizationPercentage"] = cpu[0]["resource"]["target"]["averageUtilization"]
    _annotate(annotations, METRICS, [m for m in metrics if m not in cpu[:1]])
    _annotate(annotations, BEHAVIOR, spec.pop("behavior", None))
    status = out.get("status") if isinstance(out.get("status"), dict) else None
    if status is not None:
        current = status.pop("currentMetrics", None) or []
        cpu_now = [m for m in current if _is_cpu_utilization(m, "current")]
        if cpu_now:
            status["currentCPUUtilizationPercentage"] = cpu_now[0]["resource"]["current"]["averageUtilization"]
        _annotate(annotations, CURRENT_METRICS, [m for m in current if m not in cpu_now[:1]])
        _annotate(annotations, CONDITIONS, status.pop("conditions", None))
    if annotations:
        meta["annotations"] = annotations
    return out


def v1_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    """Return an autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = V2
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    spec = dict_field(out, "spec")
    metrics: list[Any] = []
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        metrics.append({"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}})
    metrics += _unannotate(annotations, METRICS) or []
    if metrics:
        spec["metrics"] = metrics
    behavior = _unannotate(annotations, BEHAVIOR)
    if behavior:
        spec["behavior"] = behavior
    status = out.get("status") if isinstance(out.get("status"), dict) else None
    current_extra = _unannotate(annotations, CURRENT_METRICS) or []
    conditions = _unannotate(annotations, CONDITIONS)
    if status is not None:
        current: list[Any] = []
        now = status.pop("currentCPUUtilizationPercentage", None)
        if now is not None:
            current.append({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": now}}})
        current += current_extra
        if current:
            status["currentMetrics"] = current
        if conditions:
            status["conditions"] = conditions
    for key in _ANNOTATIONS:
        annotations.pop(key, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


def convert_hpa(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Return a HorizontalPodAutoscaler of either version as ``api_version``."""
    if obj.get("apiVersion") == api_version:
        return obj
    return v2_to_v1(obj) if api_version == V1 else v1_to_v2(obj)
