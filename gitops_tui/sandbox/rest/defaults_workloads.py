"""Create-time defaults kube-apiserver gives workload kinds: RC and Job selectors, strategies, HPA targets."""

from __future__ import annotations

from typing import Any

JOB_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def _template_labels(spec: dict[str, Any]) -> dict[str, Any] | None:
    template = spec.get("template")
    if not isinstance(template, dict):
        return None
    metadata = template.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        return None
    labels = metadata.setdefault("labels", {})
    return labels if isinstance(labels, dict) else None


def replication_controller_defaults(spec: dict[str, Any]) -> None:
    """An RC without a selector selects its template's labels; one without template labels gets the selector's."""
    labels = _template_labels(spec)
    if labels is None:
        return
    if not spec.get("selector") and labels:
        spec["selector"] = dict(labels)
    elif isinstance(spec.get("selector"), dict) and not labels:
        labels.update(spec["selector"])


def job_defaults(spec: dict[str, Any], uid: str, name: str) -> None:
    """Counts, and unless `manualSelector`, the generated controller-uid selector and template labels."""
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", spec["parallelism"] if spec.get("completionMode") == "Indexed" else 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("manualSelector") or not uid:
        return
    labels = _template_labels(spec)
    if labels is None:
        return
    labels.update({"controller-uid": uid, JOB_UID_LABEL: uid, "job-name": name, JOB_NAME_LABEL: name})
    spec["selector"] = {"matchLabels": {JOB_UID_LABEL: uid}}


def statefulset_defaults(spec: dict[str, Any]) -> None:
    """Pod management and update strategy, as apps/v1 defaults them."""
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {"partition": 0})


def daemonset_defaults(spec: dict[str, Any]) -> None:
    """History limit and update strategy, as apps/v1 defaults them."""
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})


def autoscaler_defaults(spec: dict[str, Any], version: str) -> None:
    """minReplicas 1, and for autoscaling/v2 a CPU target of 80% when no metric is given."""
    spec.setdefault("minReplicas", 1)
    if version == "v2" and not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
